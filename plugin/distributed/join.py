"""The join: a plan's chunks, verified frame by frame, into the output.

:class:`Join` checks that the chunks cover every frame once, decodes them in order, verifies every
frame's checksum and feeds the frames to the same encoder ``render`` uses, with the source's audio;
the output appears atomically. Given the same frames, the output is the plain render's, bit for bit.
A chunk whose frames differ from its checksums is removed, so that a render run again renders it
anew.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, NoReturn

from vscolorize.core.errors import VscolorizeError

from ..render import CODECS, ENCODER_ARGS, Encoder, Picture, RenderError, _audio_args, _ffmpeg
from .chunk import finished, forget, frame_checksum, video_file
from .plan import Chunk, Plan

__all__ = ["DamagedChunk", "Join"]


class DamagedChunk(RenderError):
    """A chunk's frames do not match its sidecar (it is removed, to be rendered again)."""


def _decoded(video: Path, frame_bytes: int, pix_fmt: str) -> Iterator[bytes]:
    """The raw frames of a chunk file, as its encoder was fed them."""
    command = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(video)]
    command += ["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    decoder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert decoder.stdout is not None and decoder.stderr is not None
    try:
        while frame := decoder.stdout.read(frame_bytes):
            yield frame
        if decoder.wait() != 0:
            raise DamagedChunk(
                f"{video}: cannot be decoded: {decoder.stderr.read().decode(errors='replace').strip()}"
            )
    finally:
        if decoder.poll() is None:
            decoder.kill()
            decoder.wait()
        decoder.stdout.close()
        decoder.stderr.close()


class Join:
    """Joins a plan's chunks into ``output`` on a thread of its own, in order, each as soon as it
    is :meth:`ready`, so that the join of a long render runs while its last chunks render: each
    chunk is decoded, every frame checked against its checksum and fed to the encoder ``render``
    uses, with ``audio``'s audio cut to the plan's range. The output appears only when every
    chunk is in (:meth:`wait`); :meth:`cancel` leaves no output.

    Raises:
        VscolorizeError: the plan does not cover its range once (a bug: raised at once).
    """

    def __init__(self, folder: Path, plan: Plan, output: Path, *, audio: Path | None) -> None:
        expected = plan.start
        for chunk in plan.chunks:
            if chunk.first != expected:
                raise VscolorizeError(f"the plan leaves frames {expected}-{chunk.first - 1} out")
            expected = chunk.last + 1
        if expected != plan.end + 1:
            raise VscolorizeError(f"the plan leaves frames {expected}-{plan.end} out")
        self.folder, self.plan, self.output, self.audio = folder, plan, output, audio
        self.written = 0  # frames joined so far
        self._ready: set[int] = set()
        self._cancelled = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="vscolorize-join", daemon=True)
        self._thread.start()

    def ready(self, chunk: Chunk) -> None:
        """``chunk`` is finished: it may be joined."""
        with self._changed:
            self._ready.add(self.plan.chunks.index(chunk))
            self._changed.notify_all()

    def cancel(self) -> None:
        """Stop, leaving no output (the chunks stay)."""
        with self._changed:
            self._cancelled = True
            self._changed.notify_all()
        self._thread.join()

    def wait(self, tick: Callable[[int], None] | None = None) -> int:
        """Wait until every chunk is joined (all must be :meth:`ready`); returns the frames
        written. ``tick`` is called with the frames joined so far, now and then.

        Raises:
            RenderError: a chunk is missing.
            DamagedChunk: a chunk's frames differ from its checksums (it was removed).
        """
        while self._thread.is_alive():
            self._thread.join(0.25)
            if tick is not None:
                tick(self.written)
        if self._error is not None:
            raise self._error
        return self.written

    def _next(self, index: int) -> bool:
        """Wait for chunk ``index``; False when cancelled."""
        with self._changed:
            self._changed.wait_for(lambda: index in self._ready or self._cancelled)
            return not self._cancelled

    def _run(self) -> None:
        try:
            self._join()
        except BaseException as e:  # handed to wait()
            self._error = e

    def _join(self) -> None:
        plan, folder = self.plan, self.folder
        codec = plan.identity["settings"]["codec"]
        rate = Fraction(*plan.rate) if plan.rate else None
        picture = Picture(*plan.size, rate, CODECS[codec][2])
        total = plan.end - plan.start + 1
        whole = total == plan.identity["frames"]
        audio_args = _audio_args(
            self.audio, None if whole else plan.start, total, rate, self.output.suffix.lower()
        )
        with Encoder(self.output, picture, ENCODER_ARGS[codec], audio_args) as encoder:
            for index, (chunk, key) in enumerate(zip(plan.chunks, plan.keys, strict=True)):
                if not self._next(index):
                    return  # leaving the encoder removes what it wrote
                sidecar = finished(folder, chunk, key)
                if sidecar is None:
                    raise RenderError(f"{chunk.describe()}: the chunk is missing or incomplete")
                for raw in self._frames(chunk, sidecar):
                    encoder.write(raw)
                    self.written += 1
            encoder.finish(total)

    def _frames(self, chunk: Chunk, sidecar: dict[str, Any]) -> Iterator[bytes]:
        """The chunk's raw frames, each checked against its checksum."""
        frames = 0
        video = video_file(self.folder, chunk)
        for frames, raw in enumerate(_decoded(video, sidecar["frame_bytes"], sidecar["pix_fmt"]), 1):
            if frames > chunk.frames or frame_checksum(raw) != sidecar["checksums"][frames - 1]:
                self._damaged(chunk, f"frame {chunk.first + frames - 1} differs from its checksum")
            yield raw
        if frames != chunk.frames:
            self._damaged(chunk, f"the chunk holds {frames} frames, not {chunk.frames}")

    def _damaged(self, chunk: Chunk, why: str) -> NoReturn:
        forget(self.folder, chunk)
        raise DamagedChunk(f"{chunk.describe()}: {why}; the chunk was removed (run again to render it anew)")
