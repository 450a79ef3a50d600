"""Reading and writing picture files (PNG, JPEG, TIFF, WebP, ... through OpenCV).

Pictures are numpy sRGB, (H, W, 3) float32 in [0, 1]; 8- and 16-bit files are scaled, gray files
become three equal channels, an alpha channel is dropped, and JPEG EXIF orientation is applied.
Writes are atomic: the file appears under its name only once it is complete.

Also the one rule for working sizes (:func:`scaled_size`, :func:`shrink`): engines, motion and
segmentation work on pictures whose short side is brought down to some size, never up.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from .color import gray_to_l, srgb_to_l
from .errors import ImageError

__all__ = [
    "PICTURE_SUFFIXES",
    "image_lightness",
    "read_image",
    "scaled_size",
    "shrink",
    "shrink_factor",
    "write_image",
]

# file name suffixes taken for still pictures (anything else is tried as video where video is read)
PICTURE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"})


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a picture file as (H, W, 3) float32 sRGB in [0, 1].

    Raises:
        ImageError: the file is missing, is a folder, or is not a picture OpenCV can decode.
    """
    name = os.fspath(path)
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{name}: no such file")
    if p.is_dir():
        raise ImageError(f"{name}: is a directory, not a picture")
    data = np.fromfile(p, np.uint8)  # imdecode, unlike imread, copes with any file name
    image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH) if data.size else None
    if image is None:
        raise ImageError(f"{name}: cannot be read as a picture (unknown or damaged format)")
    rgb = image[..., ::-1]
    if rgb.dtype in (np.uint8, np.uint16):
        full_scale = 255 if rgb.dtype == np.uint8 else 65535
        return rgb.astype(np.float32) / full_scale
    return np.nan_to_num(rgb.astype(np.float32), nan=0.0).clip(0, 1)


def write_image(path: str | os.PathLike[str], rgb: np.ndarray) -> None:
    """Write (H, W, 3) sRGB in [0, 1] as an 8-bit picture; the format follows the extension.

    Raises:
        ImageError: the extension names no format OpenCV writes, or the folder does not exist.
    """
    name = os.fspath(path)
    target = Path(path)
    suffix = target.suffix.lower()
    if not suffix or not cv2.haveImageWriter(f"x{suffix}"):
        raise ImageError(f"{name}: cannot write {suffix or 'files without an extension'}: use .png or .jpg")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise ImageError(f"{name}: folder {os.fspath(directory)} does not exist")
    pixels = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)[..., ::-1]
    ok, encoded = cv2.imencode(suffix, np.ascontiguousarray(pixels))
    if not ok:
        raise ImageError(f"{name}: OpenCV could not encode the picture as {suffix}")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(encoded.tobytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def image_lightness(image: np.ndarray, *, name: str = "image") -> np.ndarray:
    """Validate a picture and return its CIE L*.

    Args:
        image: (H, W) gray or (H, W, 3) sRGB, float in [0, 1] (uint8 and uint16 are scaled).
        name: what to call the picture in error messages.

    Returns:
        (H, W) float32 L in [0, 100].

    Raises:
        ImageError: wrong type, shape, range, or non-finite values.
    """
    if not isinstance(image, np.ndarray):
        raise ImageError(f"{name}: expected a numpy array, not {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ImageError(f"{name}: expected shape (H, W) or (H, W, 3), not {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageError(f"{name}: the picture is empty ({image.shape})")
    if image.dtype in (np.uint8, np.uint16):
        image = image.astype(np.float32) / np.iinfo(image.dtype).max
    elif not np.issubdtype(image.dtype, np.floating):
        raise ImageError(f"{name}: expected float in [0, 1], uint8 or uint16, not {image.dtype}")
    image = image.astype(np.float32, copy=False)
    if not np.isfinite(image).all():
        raise ImageError(f"{name}: holds NaN or infinite values")
    low, high = float(image.min()), float(image.max())
    if low < 0 or high > 1:
        raise ImageError(f"{name}: values must lie in [0, 1], found [{low:g}, {high:g}]")
    if image.ndim == 2:
        return gray_to_l(image)
    return srgb_to_l(image)


def shrink_factor(height: int, width: int, short_side: int) -> float:
    """The factor (at most 1: never enlarged) that brings the short side of a (height, width)
    picture down to ``short_side``."""
    return min(1.0, short_side / min(height, width))


def scaled_size(height: int, width: int, short_side: int, *, minimum: int = 1) -> tuple[int, int]:
    """(h, w) of a (height, width) picture scaled by :func:`shrink_factor`, each side rounded
    and at least ``minimum``."""
    scale = shrink_factor(height, width, short_side)
    return max(round(height * scale), minimum), max(round(width * scale), minimum)


def shrink(picture: np.ndarray, short_side: int, *, minimum: int = 1) -> np.ndarray:
    """(H, W) or (H, W, C) ``picture`` at :func:`scaled_size` (OpenCV's area average), or the
    picture itself where that is its own size (its short side is ``short_side`` or less)."""
    height, width = picture.shape[:2]
    h, w = scaled_size(height, width, short_side, minimum=minimum)
    if (h, w) == (height, width):
        return picture
    small: np.ndarray = cv2.resize(picture, (w, h), interpolation=cv2.INTER_AREA)
    return small
