"""Reading and writing picture files (PNG, JPEG, TIFF, WebP, ... through OpenCV).

Pictures are numpy sRGB, (H, W, 3) float32 in [0, 1]; 8- and 16-bit files are scaled, gray files
become three equal channels, an alpha channel is dropped, and JPEG EXIF orientation is applied.
Writes are atomic: the file appears under its name only once it is complete.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from .errors import ImageError

__all__ = ["PICTURE_SUFFIXES", "read_image", "write_image"]

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
