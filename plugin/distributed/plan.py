"""The plan of a render in chunks: its shots, the chunks of whole shots, their keys, the manifest.

Every output frame of :func:`vscolorize.colorize` is a pure function of the clip, the hints of its
shot and the settings, so a render splits into ranges that can be computed anywhere and joined
without a seam.

- :func:`scan` finds the shots of a range of frames with the very detector that resets propagation
  and the temporal filter, and :func:`plan_chunks` packs whole shots into chunks of about a target
  length (a longer shot is split evenly).
- :func:`chunk_key` names what a chunk's frames depend on: the source, the settings, the weights
  and the keyframes of the shots it meets, nothing else; after a hint edit only the chunks of the
  edited shots get new keys.
- :class:`Plan` is all of it for one render, kept beside the chunks as the manifest
  (:func:`save_plan`), whose shots a render run again reuses (:func:`known_shots`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from vscolorize.core.errors import named
from vscolorize.core.footage import Footage, MemoryStore
from vscolorize.core.hints import Hints
from vscolorize.core.motion import MotionSettings

from ..frames import check_format
from ..render import RenderSettings
from ..sources import ClipSource, open_video, source_frame

__all__ = [
    "CHUNK_FRAMES",
    "MANIFEST",
    "Chunk",
    "Plan",
    "chunk_key",
    "digest",
    "file_digest",
    "fingerprint",
    "hints_digest",
    "known_shots",
    "load_plan",
    "plan_chunks",
    "read_json",
    "save_plan",
    "scan",
    "scan_slices",
    "settings_identity",
    "shot_starts",
    "write_json",
]

CHUNK_FRAMES = 1000  # the default target length: ~4 minutes of render at 854x480 on 2 cores
SCAN_FRAMES = 1000  # frames per slice of the shot finding (a task each on a cluster)
MANIFEST = "manifest.json"
PLAN_FORMAT = "vscolorize.render-plan"
_SAMPLES = 16  # blocks of the source hashed for its fingerprint
_SAMPLE = 1 << 16


def digest(*parts: bytes) -> str:
    """A short hash of ``parts``, in order."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part)
    return h.hexdigest()


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def fingerprint(path: Path) -> str:
    """A file's identity, read cheaply: its size and a hash of its first and last MiB and of
    blocks spread over it (a film is many GB, possibly on a network share)."""
    size = path.stat().st_size
    ends = 1 << 20
    blocks = [
        (0, ends),
        *((size * k // _SAMPLES, _SAMPLE) for k in range(1, _SAMPLES)),
        (max(size - ends, 0), ends),
    ]
    h = hashlib.blake2b(str(size).encode(), digest_size=16)
    with path.open("rb") as f:
        for offset, length in blocks:
            f.seek(offset)
            h.update(f.read(length))
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """The hash of a whole file."""
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def hints_digest(path: str | None) -> str | None:
    """The hash of a hints file (None without one)."""
    return None if path is None else file_digest(Path(path))


def write_json(path: Path, value: object) -> None:
    """Write ``value`` as JSON atomically (a temporary file renamed into place)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temporary.write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")
    os.replace(temporary, path)


def read_json(path: Path) -> Any:
    """``path``'s JSON, or None when it is missing or damaged."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Chunk:
    """Frames ``first`` .. ``last`` (inclusive) of the output; ``reach_first`` .. ``reach_last``
    are the shots they meet, whose keyframes they depend on."""

    first: int
    last: int
    reach_first: int
    reach_last: int

    @property
    def name(self) -> str:
        return f"frames-{self.first:07d}-{self.last:07d}"

    @property
    def frames(self) -> int:
        return self.last - self.first + 1

    def describe(self) -> str:
        return f"frames {self.first}-{self.last}"


def plan_chunks(starts: Sequence[int], first: int, last: int, target: int) -> list[Chunk]:
    """Frames ``first`` .. ``last`` in chunks of whole shots, about ``target`` frames each.

    Args:
        starts: the first frame of every shot that meets the range, in order (the first may lie
            before ``first``), and after them the frame after the last shot's end.
        target: chunks hold whole shots up to this many frames; a longer shot is split into
            the fewest even pieces of at most ``target`` frames.
    """
    shots = [range(a, b) for a, b in itertools.pairwise(starts)]
    chunks: list[Chunk] = []
    group: list[range] = []  # shots gathered for the next chunk

    def inside(shot: range) -> tuple[int, int]:
        return max(shot.start, first), min(shot.stop - 1, last)

    def close() -> None:
        if group:
            a, b = inside(group[0])[0], inside(group[-1])[1]
            chunks.append(Chunk(a, b, group[0].start, group[-1].stop - 1))
            group.clear()

    for shot in shots:
        a, b = inside(shot)
        length = b - a + 1
        if length <= 0:
            continue
        if length > target:
            close()
            pieces = -(-length // target)
            cuts = [a + length * k // pieces for k in range(pieces + 1)]
            chunks += [Chunk(p, q - 1, shot.start, shot.stop - 1) for p, q in itertools.pairwise(cuts)]
            continue
        held = sum(q - p + 1 for p, q in map(inside, group))
        if held + length > target:
            close()
        group.append(shot)
    close()
    return chunks


def scan(
    source: Path,
    first: int,
    last: int,
    *,
    motion: MotionSettings | None = None,
    back: bool = False,
    forward: bool = False,
) -> dict[str, Any]:
    """The shots of frames ``first`` .. ``last`` of the video ``source``.

    Args:
        motion: how motion (and with it the cut detector) is set up: the render's
            ``Settings.propagation.motion``.

    Returns:
        ``cuts``: the frames in ``first + 1`` .. ``last`` that start a shot; with ``back``,
        ``shot_start``: where the shot of ``first`` begins, and with ``forward``, ``shot_end``:
        where the shot of ``last`` ends (frames outside a render's range still share their
        shot's hints).

    Cuts are decided exactly as colorizing decides them (the same :class:`Footage` detector:
    the clip's scene-change props, else the luma-histogram test), from pictures alone.
    """
    clip = open_video(source)
    with named("render"):
        check_format(clip)
    footage = Footage(ClipSource(clip), motion or MotionSettings(), MemoryStore(0))
    cuts = []
    for n, frame in enumerate(clip[first : last + 1].frames(close=True), first):
        footage.offer(n, partial(source_frame, frame))
        if n > first and footage.cut_before(n):
            cuts.append(n)
    found: dict[str, Any] = {"cuts": cuts}
    if back:
        found["shot_start"] = footage.shot_start(first)
    if forward:
        found["shot_end"] = footage.shot_end(last)
    return found


def scan_slices(start: int, end: int) -> list[tuple[int, int]]:
    """The slices of frames ``start`` .. ``end`` whose shots are found apart (:func:`scan`'s
    ``first`` and ``last``; slices meet on a frame: a slice's cuts are those after its first)."""
    return list(itertools.pairwise([*range(start, end, SCAN_FRAMES), end])) or [(start, end)]


def shot_starts(found: Sequence[dict[str, Any]]) -> list[int]:
    """The shot starts (see :func:`plan_chunks`) from what :func:`scan` found in each of
    :func:`scan_slices`, the first with ``back``, the last with ``forward``."""
    cuts = sorted({n for part in found for n in part["cuts"]})
    return [found[0]["shot_start"], *cuts, found[-1]["shot_end"] + 1]


def settings_identity(settings: RenderSettings) -> dict[str, Any]:
    """What ``settings`` make a render compute, as JSON: every setting but the device (where it
    runs is not what it computes), and the codec."""
    fields = asdict(settings.pipeline)
    fields.pop("device")
    return {**fields, "codec": settings.codec}


def chunk_key(identity: dict[str, Any], chunk: Chunk, hints: Hints | None) -> str:
    """What a chunk's frames depend on, as a hash: the render's identity, its range and the
    keyframes within the shots it meets (propagation and the temporal filter stop at cuts)."""
    keyframes = (
        []
        if hints is None
        else [k.to_json() for k in hints.keyframes if chunk.reach_first <= k.frame <= chunk.reach_last]
    )
    return digest(_canonical([identity, chunk.first, chunk.last, keyframes]))


@dataclass(frozen=True)
class Plan:
    """A render's chunks and what they are made from (the manifest beside the output)."""

    source: str  # the source's path, as the workers see it
    suffix: str  # the output's container (".mp4", ...): the chunks' too
    identity: dict[str, Any]  # source fingerprint, settings, weights, versions: every chunk's base
    hints: dict[str, str] | None  # the hints file's path and hash (chunk keys hold their share)
    start: int
    end: int
    target: int
    rate: tuple[int, int] | None  # frame rate (None: variable)
    size: tuple[int, int]  # width, height
    starts: tuple[int, ...]  # shot starts (see plan_chunks)
    chunks: tuple[Chunk, ...]
    keys: tuple[str, ...]  # chunk_key of each chunk

    @classmethod
    def make(
        cls,
        source: str,
        suffix: str,
        identity: dict[str, Any],
        starts: Sequence[int],
        *,
        hints_path: str | None,
        hints: Hints | None,
        start: int,
        end: int,
        target: int,
        rate: tuple[int, int] | None,
        size: tuple[int, int],
    ) -> Plan:
        """The plan of frames ``start`` .. ``end`` from the shots ``starts`` (see
        :func:`plan_chunks`), with the hints loaded from ``hints_path``."""
        chunks = tuple(plan_chunks(starts, start, end, target))
        keys = tuple(chunk_key(identity, c, hints) for c in chunks)
        listed = None if hints_path is None else {"path": hints_path, "hash": str(hints_digest(hints_path))}
        return cls(
            source, suffix, identity, listed, start, end, target, rate, size, tuple(starts), chunks, keys
        )

    def to_json(self) -> dict[str, Any]:
        listed = [{**asdict(c), "key": k} for c, k in zip(self.chunks, self.keys, strict=True)]
        return {
            "format": PLAN_FORMAT,
            "version": 1,
            "source": self.source,
            "suffix": self.suffix,
            "identity": self.identity,
            "hints": self.hints,
            "start": self.start,
            "end": self.end,
            "target": self.target,
            "rate": self.rate,
            "size": self.size,
            "starts": list(self.starts),
            "chunks": listed,
        }


def save_plan(folder: Path, plan: Plan) -> None:
    write_json(folder / MANIFEST, plan.to_json())


def load_plan(folder: Path) -> dict[str, Any] | None:
    """The manifest's JSON, if there is a whole one."""
    data = read_json(folder / MANIFEST)
    if isinstance(data, dict) and data.get("format") == PLAN_FORMAT and data.get("version") == 1:
        return data
    return None


def _shot_basis(identity: dict[str, Any]) -> tuple[Any, ...]:
    """What a render's shots depend on: the source, the version, and how motion is measured."""
    motion = identity.get("settings", {}).get("propagation", {}).get("motion")
    return identity.get("source"), identity.get("vscolorize"), motion


def known_shots(folder: Path, identity: dict[str, Any], start: int, end: int) -> list[int] | None:
    """The shot starts of the manifest in ``folder`` when it was made from the same source, with
    the same version and motion settings, for the same range; else None (they must be found)."""
    old = load_plan(folder)
    if old is None or (old["start"], old["end"]) != (start, end):
        return None
    if _shot_basis(old["identity"]) != _shot_basis(identity):
        return None
    return [int(n) for n in old["starts"]]
