"""The motion store: pairs of frames' motion on disk, computed once, shared by every user.

A :class:`~vscolorize.core.motion.Pair` depends on its two pictures and the motion settings alone
(never on hints), so it is kept under a key made of exactly those: the pictures' digests and the
settings. Editing hints, rebuilding a node, opening the paint window or rendering on another
worker of the same machine finds the motion already measured; a shot replaced by other footage of
the same length gets new keys and is measured again.

On disk (``$VSCOLORIZE_CACHE/motion``, see :func:`cache_folder`), one file per pair:
``MAGIC``, a little-endian u32 header length, a JSON header (shapes and dtypes), the four arrays'
bytes, and the CRC-32 of everything before it (little-endian u32: it catches a torn or damaged
file, which is what a cache meets; BLAKE2b cost 4x more per read). Files are written under a
temporary name and renamed into place (a reader sees the whole file or none), and checked on
read: a truncated or damaged file is removed with a warning and measured again, never used.

The folder is kept under a size limit (``$VSCOLORIZE_CACHE_SIZE``, e.g. ``20G``; default
:data:`DEFAULT_LIMIT`) by removing the least recently used files (a read touches its file).
At 854x480 (motion measured at 640x360) a pair takes 2.3 MB.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mmap
import os
import re
import struct
import tempfile
import threading
import time
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .memo import Memo
from .motion import MotionSettings, Pair

__all__ = ["DEFAULT_LIMIT", "MotionStore", "cache_folder", "parse_size"]

log = logging.getLogger(__name__)

MAGIC = b"VSCMOTN2"
_CHECKSUM = 4
_FORMAT_VERSION = 2
DEFAULT_LIMIT = 20 * 1024**3
# after going over the limit, prune down to this share of it (so pruning is not done per write)
_PRUNE_TO = 0.9
_STALE_SECONDS = 3600
_KEEP_VERIFIED = 1 << 18
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def cache_folder() -> Path:
    """``$VSCOLORIZE_CACHE``, else ``$XDG_CACHE_HOME/vscolorize``, else ``~/.cache/vscolorize``."""
    if os.environ.get("VSCOLORIZE_CACHE"):
        return Path(os.environ["VSCOLORIZE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vscolorize"


def parse_size(text: str) -> int:
    """``"20G"``, ``"500M"``, ``"1.5T"`` or a number of bytes -> bytes.

    Raises:
        ValueError: not a size.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if match is None:
        raise ValueError(f"not a size: {text!r} (examples: 20G, 500M)")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def _limit_from_environment() -> int:
    text = os.environ.get("VSCOLORIZE_CACHE_SIZE")
    if not text:
        return DEFAULT_LIMIT
    try:
        return parse_size(text)
    except ValueError as e:
        log.warning("VSCOLORIZE_CACHE_SIZE: %s; using %d bytes", e, DEFAULT_LIMIT)
        return DEFAULT_LIMIT


class MotionStore:
    """Pairs on disk under ``folder`` (default: ``cache_folder() / "motion"``), at most ``limit``
    bytes (default: ``$VSCOLORIZE_CACHE_SIZE`` or :data:`DEFAULT_LIMIT`). Safe to share between
    threads and processes."""

    def __init__(self, folder: str | os.PathLike[str] | None = None, *, limit: int | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_folder() / "motion"
        self.limit = limit if limit is not None else _limit_from_environment()
        self._lock = threading.Lock()
        self._size: int | None = None  # bytes on disk as last counted, plus what we wrote since
        self._warned_write = False
        # keys whose files this process has checked whole (the most recently read ones)
        self._verified: Memo[str, bool] = Memo(_KEEP_VERIFIED)

    @staticmethod
    def key(settings: MotionSettings, first: bytes, second: bytes) -> str:
        """The key of the pair from the picture with digest ``first`` to ``second``."""
        digest = hashlib.blake2b(digest_size=20)
        digest.update(json.dumps([_FORMAT_VERSION, asdict(settings)], sort_keys=True).encode())
        digest.update(first)
        digest.update(second)
        return digest.hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.motion"

    def get(self, key: str) -> Pair | None:
        """The pair stored under ``key``, or None (missing, or found damaged and removed)."""
        path = self.path(key)
        verified = self._verified.peek(key) is not None
        try:
            with open(path, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                data: bytes | bytearray | mmap.mmap
                if verified and size:
                    # checked whole once in this process, and a stored file never changes (it is
                    # only ever replaced, atomically, by the same bytes): map it, so that tracking
                    # a few hints reads a few pages, not the whole pair
                    data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
                else:
                    data = bytearray(size)  # the arrays are views of it, no copy
                    if file.readinto(data) != size:
                        raise OSError("short read")
        except FileNotFoundError:
            return None
        except OSError as e:
            log.warning("motion store: cannot read %s: %s", path, e)
            return None
        try:
            pair = _decode(data, check=not verified)
        except ValueError as e:
            log.warning("motion store: %s is damaged (%s): measuring again", path, e)
            path.unlink(missing_ok=True)
            return None
        self._verified.put(key, True)
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently *used*: a read counts
        return pair

    def put(self, key: str, pair: Pair) -> None:
        """Store ``pair`` under ``key`` atomically; a failure to write is logged, not raised (the
        store is a cache: the work goes on without it)."""
        path = self.path(key)
        data = _encode(pair)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as e:
            if not self._warned_write:
                self._warned_write = True
                log.warning(
                    "motion store: cannot write in %s (%s): motion will be measured again next time",
                    self.folder,
                    e,
                )
            return
        with self._lock:
            if self._size is None:
                self._size = self._count()
            else:
                self._size += len(data)
            over = self._size > self.limit
        if over:
            self.prune()

    def _files(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes, path) of every stored file."""
        found: list[tuple[float, int, Path]] = []
        if not self.folder.is_dir():
            return found
        for sub in os.scandir(self.folder):
            if not sub.is_dir():
                continue
            for entry in os.scandir(sub.path):
                if entry.name.endswith(".partial"):
                    _remove_if_stale(entry)
                elif entry.name.endswith(".motion"):
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:  # pruned by another process meanwhile
                        continue
                    found.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        return found

    def _count(self) -> int:
        return sum(size for _, size, _ in self._files())

    def size(self) -> int:
        """Bytes stored now."""
        return self._count()

    def prune(self) -> None:
        """Remove the least recently used files until the store is under its limit (to
        ``_PRUNE_TO`` of it)."""
        files = sorted(self._files())
        total = sum(size for _, size, _ in files)
        target = self.limit * _PRUNE_TO if total > self.limit else total
        removed = 0
        for _, size, path in files:
            if total <= target:
                break
            with contextlib.suppress(OSError):  # in use elsewhere (Windows): next time
                path.unlink(missing_ok=True)
            total -= size
            removed += 1
        if removed:
            log.info("motion store: removed %d least recently used pairs", removed)
        with self._lock:
            self._size = total


def _remove_if_stale(entry: os.DirEntry[str]) -> None:
    """A temporary file left by a writer that died (no writer takes an hour over one pair)."""
    with contextlib.suppress(FileNotFoundError):
        if time.time() - entry.stat().st_mtime > _STALE_SECONDS:
            os.unlink(entry.path)


def _encode(pair: Pair) -> bytes:
    arrays = pair.arrays()
    specs = [[list(a.shape), a.dtype.str] for a in arrays]
    header = json.dumps({"version": _FORMAT_VERSION, "arrays": specs}).encode()
    payload = [np.ascontiguousarray(a).tobytes() for a in arrays]
    body = b"".join([MAGIC, struct.pack("<I", len(header)), header, *payload])
    return body + struct.pack("<I", zlib.crc32(body))


def _decode(data: bytes | bytearray | mmap.mmap, *, check: bool = True) -> Pair:
    """Raises ValueError on anything but a whole, intact file (``check``: its checksum too)."""
    if len(data) < len(MAGIC) + 4 + _CHECKSUM or data[: len(MAGIC)] != MAGIC:
        raise ValueError("not a motion file")
    body = memoryview(data)[:-_CHECKSUM]
    if check and zlib.crc32(body) != struct.unpack_from("<I", data, len(body))[0]:
        raise ValueError("checksum mismatch")
    (length,) = struct.unpack_from("<I", body, len(MAGIC))
    start = len(MAGIC) + 4
    try:
        header = json.loads(bytes(body[start : start + length]))
        specs = [(tuple(shape), np.dtype(dtype)) for shape, dtype in header["arrays"]]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"bad header: {e}") from None
    if header.get("version") != _FORMAT_VERSION or len(specs) != 4:
        raise ValueError("unknown format")
    offset, arrays = start + length, []
    for shape, dtype in specs:
        size = int(np.prod(shape)) * dtype.itemsize
        if offset + size > len(body):
            raise ValueError("truncated")
        arrays.append(np.frombuffer(body, dtype, int(np.prod(shape)), offset).reshape(shape))
        offset += size
    if offset != len(body):
        raise ValueError("unexpected trailing bytes")
    return Pair(*arrays)
