"""``vscolorize render``: a video file in, a colorized video file out.

The input is read with the bestsource VapourSynth plugin (frame-exact seeking, any format FFmpeg
reads), colorized by :func:`vscolorize.colorize` and encoded by imageio-ffmpeg's ffmpeg:
H.264 (x264, CRF 16, BT.709 4:2:0, what every player plays) or FFV1 (16-bit RGB, lossless). The
audio of the input is kept. VapourSynth converts RGB to the encoder's format (zimg, dithered), raw
planes go to ffmpeg's stdin, and the result is written under a temporary name that replaces the
output only once ffmpeg has finished: an interrupted render never leaves a broken file behind.
:func:`render` encodes in chunks of whole shots and joins them by a stream copy, the plan a
render on a cluster runs (``vscolorize.distributed``); :func:`encode` encodes a clip in one go.

A frame range (``start`` to ``end``, both included, as vspipe's ``--start``/``--end``) is cut from
the colorized clip, never from the input: the whole clip is colorized (hints keep the clip's frame
numbers, propagation and the temporal filter see the frames around the range) and then trimmed,
so the range's frames are bit for bit those of the whole render. The audio is cut to the same
span by ffmpeg and re-encoded, which cuts it to the sample; with a variable frame rate there is
no exact span, and the audio is left out with a warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import vapoursynth as vs

from vscolorize.core.errors import RenderError, VscolorizeError
from vscolorize.core.hints import HintsLike
from vscolorize.core.pipeline import Settings

from .node import INTERNAL_ERROR, colorize_with
from .sources import open_video

__all__ = [
    "BITEXACT_ARGS",
    "CODECS",
    "CONTAINER_ARGS",
    "ENCODER_ARGS",
    "ENCODER_THREADS",
    "Encoder",
    "Picture",
    "RenderError",
    "RenderResult",
    "RenderSettings",
    "check_frames",
    "check_output",
    "encode",
    "encoder_input",
    "frame_range",
    "frame_rate",
    "open_video",
    "raw_frame",
    "render",
]

log = logging.getLogger(__name__)

# codec -> (containers it goes in, VapourSynth format fed to ffmpeg, ffmpeg's name for it)
CODECS: dict[str, tuple[tuple[str, ...], int, str]] = {
    "h264": ((".mkv", ".mp4", ".mov"), vs.YUV420P8, "yuv420p"),
    "ffv1": ((".mkv", ".avi"), vs.RGB48, "gbrp16le"),
}
# BT.709 tags on the frames themselves (setparams): given only as the encoder's options, ffmpeg
# 7+ takes the (untagged) frames' primaries and transfer, and x264 writes "unspecified" in the VUI
_BT709 = [
    "-vf",
    "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709",
    "-colorspace",
    "bt709",
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-color_range",
    "tv",
]
# Encoder threads are pinned: x264's stream depends on its thread count (a render on 2 cores and
# one on 16 must write the same bits). A render is encoded in chunks of whole shots (see
# vscolorize.distributed), each a stream of its own that starts with a keyframe; x264's
# "stitchable" keeps the headers independent of the content and open-gop stays off (a closed GOP
# at every chunk's start), so the chunks' streams join by a stream copy. FFV1 is intra-only.
ENCODER_THREADS = 4
ENCODER_ARGS = {
    "h264": [
        "-c:v",
        "libx264",
        "-preset",
        "medium",
        "-crf",
        "16",
        "-pix_fmt",
        "yuv420p",
        "-threads",
        str(ENCODER_THREADS),
        "-x264-params",
        "open-gop=0:stitchable=1",
        *_BT709,
    ],
    "ffv1": [
        "-c:v",
        "ffv1",
        "-level",
        "3",
        "-g",
        "1",
        "-slicecrc",
        "1",
        "-slices",
        "4",
        "-threads",
        str(ENCODER_THREADS),
    ],
}
# the same frames make the same file (no muxer or encoder versions, no dates)
BITEXACT_ARGS = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
CONTAINER_ARGS = {".mp4": ["-movflags", "+faststart"], ".mov": ["-movflags", "+faststart"]}
_AUDIO_ARGS = {".mp4": ["-c:a", "aac", "-b:a", "192k"], ".mov": ["-c:a", "aac", "-b:a", "192k"]}
# a cut can't be stream-copied exactly (packets hold ~20 ms): lossless re-encodes where copied
_CUT_AUDIO_ARGS = {".mkv": ["-c:a", "flac"], ".avi": ["-c:a", "pcm_s16le"]}
Progress = Callable[[Iterator[vs.VideoFrame], int], Iterator[vs.VideoFrame]]
_PLANE_ORDER = {vs.YUV: (0, 1, 2), vs.RGB: (1, 2, 0)}  # ffmpeg's gbrp is G, B, R


@dataclass(frozen=True)
class RenderResult:
    output: Path
    frames: int
    seconds: float

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def encoder_input(node: vs.VideoNode, codec: str) -> vs.VideoNode:
    """RGB float -> what the encoder takes, converted by zimg with error-diffusion dithering."""
    _, fmt, _ = CODECS[codec]
    if codec == "h264":
        return node.resize.Bicubic(
            format=fmt, matrix_s="709", range_s="limited", dither_type="error_diffusion"
        )
    return node.resize.Point(format=fmt, dither_type="error_diffusion")


def _audio_args(
    audio: Path | None, start: int | None, frames: int, rate: Fraction | None, suffix: str
) -> tuple[list[str], list[str]]:
    """ffmpeg's options for the audio input (its second) and its encoder: the audio of ``audio``,
    or (``start`` given) the span of its frames ``start`` .. ``start + frames - 1``."""
    if audio is None:
        return [], []
    codec = _AUDIO_ARGS.get(suffix, ["-c:a", "copy"])
    if start is None:
        return ["-i", str(audio), "-map", "0:v", "-map", "1:a?"], codec
    if rate is None:
        log.warning("variable frame rate: the frame range has no exact span of audio; the audio is left out")
        return [], []
    # ffmpeg takes decimal seconds: a microsecond is well below a sample (21 us at 48 kHz)
    seconds = [f"{float(n / rate):.6f}" for n in (start, frames)]
    inputs = ["-ss", seconds[0], "-t", seconds[1], "-i", str(audio), "-map", "0:v", "-map", "1:a?"]
    return inputs, _AUDIO_ARGS.get(suffix) or _CUT_AUDIO_ARGS.get(suffix, ["-c:a", "flac"])


def raw_frame(frame: vs.VideoFrame) -> bytes:
    """A frame's planes as ffmpeg's rawvideo holds them (``CODECS``' pixel formats): each plane's
    rows without padding, planes in ffmpeg's order."""
    return b"".join(memoryview(frame[plane]).tobytes() for plane in _PLANE_ORDER[frame.format.color_family])


def frame_rate(clip: vs.VideoNode) -> Fraction | None:
    """The clip's frame rate, None when it varies."""
    return Fraction(clip.fps.numerator, clip.fps.denominator) if clip.fps.numerator > 0 else None


@dataclass(frozen=True)
class RenderSettings:
    """How a render colorizes (:class:`~vscolorize.core.pipeline.Settings`) and encodes."""

    pipeline: Settings = field(default_factory=Settings)
    codec: str = "h264"

    def colorize(self, clip: vs.VideoNode, hints: HintsLike | None) -> vs.VideoNode:
        """``clip`` colorized with these settings.

        Raises:
            RenderError: bad hints, or the settings' device or model is not there.
        """
        try:
            return colorize_with(clip, hints, self.pipeline)
        except VscolorizeError as e:
            raise RenderError(str(e)) from None


def render(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    hints: HintsLike | None = None,
    settings: Settings | None = None,
    start: int = 0,
    end: int | None = None,
    codec: str = "h264",
    force: bool = False,
    progress: Progress | None = None,
    chunk_frames: int | None = None,
    chunks: str | os.PathLike[str] | None = None,
    keep_chunks: bool = False,
) -> RenderResult:
    """Colorize the video file ``source`` into ``output``, keeping its audio.

    The render is planned as a render on a cluster is (``vscolorize.distributed``): chunks of
    whole shots, each encoded on its own and joined by a stream copy, here rendered one after
    another in this process. The file is the one ``render --cluster`` writes with the same
    settings and ``chunk_frames``, bit for bit; an interrupted render, run again, renders only the
    chunks it had not finished.

    Args:
        hints: as :func:`vscolorize.colorize` takes them.
        settings: how frames are colorized (default: :class:`Settings`' defaults).
        start, end: the first and the last frame written, both included (as vspipe's
            ``--start``/``--end``); ``end=None`` is the clip's last frame. The frames are those
            of the whole clip's render, and the audio is cut to match.
        codec, force: as :func:`encode` takes them.
        progress: wraps the iterator of the frames rendered (a progress bar), given their count.
        chunk_frames: chunks hold whole shots up to this many frames (default 1000).
        chunks: where chunks go (default: a hidden folder beside the output).
        keep_chunks: keep the chunks after the join (else the folder is removed).

    Raises:
        RenderError: a bad input, output, setting, frame range or codec, or the encoder failed.
    """
    from .distributed.coordinator import render_here
    from .distributed.plan import CHUNK_FRAMES

    began = time.perf_counter()
    result = render_here(
        source,
        output,
        hints=hints,
        settings=RenderSettings(settings if settings is not None else Settings(), codec),
        start=start,
        end=end,
        chunk_frames=CHUNK_FRAMES if chunk_frames is None else chunk_frames,
        folder=chunks,
        keep_chunks=keep_chunks,
        force=force,
        progress=progress,
    )
    return RenderResult(result.output, result.frames, time.perf_counter() - began)


def frame_range(start: int, end: int | None, count: int) -> int:
    """The last frame of the range ``start`` to ``end`` (both included) of a ``count``-frame clip.

    Raises:
        RenderError: a negative frame, one past the clip's end, or ``start`` after ``end``.
    """
    last = count - 1 if end is None else end
    for name, value in (("--start", start), ("--end", last)):
        if value < 0:
            raise RenderError(f"{name} {value}: frames are numbered from 0")
        if value >= count:
            raise RenderError(
                f"{name} {value}: past the clip's last frame ({count - 1}; it has {count} frames)"
            )
    if start > last:
        raise RenderError(f"--start {start} is after --end {last}")
    return last


def _cause(message: str) -> str:
    """The line that says why a frame failed: VapourSynth reports an exception raised in a frame
    callback with the traceback around it."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if INTERNAL_ERROR in line:
            return line[line.index(INTERNAL_ERROR) :]
    if len(lines) > 1 and lines[0].startswith("Traceback"):
        return lines[-1].removeprefix("vapoursynth.Error: ")
    return lines[0] if lines else "unknown error"


def check_output(output: Path, codec: str, force: bool, source: Path | None = None) -> None:
    """Refuse an output that cannot be written: a codec it cannot hold, one that exists (without
    ``force``), a missing folder, or the input itself.

    Raises:
        RenderError: naming the problem.
    """
    if codec not in CODECS:
        raise RenderError(f"--codec must be one of {tuple(CODECS)}, not {codec!r}")
    containers = CODECS[codec][0]
    if output.suffix.lower() not in containers:
        raise RenderError(f"{output}: {codec} goes in {', '.join(containers)} files, not '{output.suffix}'")
    if source is not None and source.exists() and output.exists() and (output.resolve() == source.resolve()):
        raise RenderError(f"{output}: the output would overwrite the input video")
    if output.exists() and not force:
        raise RenderError(f"{output}: already exists (use --force to replace it)")
    if not output.parent.is_dir():
        raise RenderError(f"{output}: folder {output.parent} does not exist")


def encode(
    clip: vs.VideoNode,
    output: str | os.PathLike[str],
    *,
    codec: str = "h264",
    force: bool = False,
    progress: Progress | None = None,
    audio: Path | None = None,
    audio_from: int | None = None,
) -> RenderResult:
    """Encode an RGB clip (``colorize``'s output) into ``output``.

    Args:
        codec: ``"h264"`` or ``"ffv1"``; the output's suffix must suit it.
        force: replace an existing output.
        progress: wraps the frame iterator (a progress bar), given it and the frame count.
        audio: a file whose audio tracks go along, if it has any.
        audio_from: ``None``: the audio as it is; N: ``clip`` is frames N on of ``audio``'s
            video, and the audio is cut to the same span (needs a constant frame rate: else it
            is left out, with a warning).

    Raises:
        RenderError: a bad output or codec, a frame failed, or the encoder failed.
    """
    output = Path(output)
    check_output(output, codec, force)
    encoded = encoder_input(clip, codec)
    picture = Picture(clip.width, clip.height, frame_rate(clip), CODECS[codec][2])
    audio_args = _audio_args(audio, audio_from, clip.num_frames, picture.rate, output.suffix.lower())
    began = time.perf_counter()
    with Encoder(output, picture, ENCODER_ARGS[codec], audio_args) as encoder:
        frames: Iterator[vs.VideoFrame] = encoded.frames(close=True)
        if progress is not None:
            frames = progress(frames, encoded.num_frames)
        for frame in check_frames(frames):
            encoder.write(raw_frame(frame))
        encoder.finish(encoded.num_frames)
    return RenderResult(output, encoder.frames, time.perf_counter() - began)


def check_frames(frames: Iterator[vs.VideoFrame], *, first: int = 0) -> Iterator[vs.VideoFrame]:
    """``frames`` (numbered from ``first``), with a frame that failed turned into a
    :class:`RenderError` naming the frame (a problem with the input) or a RuntimeError (a bug of
    ours)."""
    done = first
    try:
        for frame in frames:
            yield frame
            done += 1
    except vs.Error as e:
        line = _cause(str(e))
        if INTERNAL_ERROR in line:  # a bug of ours, not a problem with the input
            raise RuntimeError(f"frame {done}: {line}") from e
        raise RenderError(f"frame {done}: {line}") from None


@dataclass(frozen=True)
class Picture:
    """What ffmpeg is told of the raw frames it is fed."""

    width: int
    height: int
    rate: Fraction | None  # None: variable (written at 25 fps, with a warning)
    pix_fmt: str  # ffmpeg's name: one of CODECS' formats


class Encoder:
    """ffmpeg fed raw frames on its stdin, writing ``output`` under a temporary name that replaces
    ``output`` only once ffmpeg has finished with every frame (:meth:`finish`); leaving the
    ``with`` block any other way removes it, so an interrupted encode leaves no broken file.

    Args:
        output: the file written; its suffix picks the container.
        picture: the raw frames' size, rate and pixel format.
        encoder_args: ffmpeg's options for the video encoder.
        audio_args: (input, encoder) options of an audio input (see ``_audio_args``).
    """

    def __init__(
        self,
        output: Path,
        picture: Picture,
        encoder_args: Sequence[str],
        audio_args: tuple[list[str], list[str]] = ([], []),
    ) -> None:
        if picture.rate is None:
            log.warning("variable frame rate; writing 25 fps")
        rate = f"{picture.rate.numerator}/{picture.rate.denominator}" if picture.rate else "25"
        self.output = output
        # unique per writer: two writers of one file (a chunk run twice) never share a name
        self.temporary = output.with_name(
            f".{output.stem}.{os.getpid()}-{secrets.token_hex(4)}.partial{output.suffix}"
        )
        audio_input, audio_codec = audio_args
        self.command = [
            _ffmpeg(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            picture.pix_fmt,
            "-s",
            f"{picture.width}x{picture.height}",
            "-r",
            rate,
            "-i",
            "-",
            *audio_input,
            *encoder_args,
            *audio_codec,
            *CONTAINER_ARGS.get(output.suffix.lower(), []),
            str(self.temporary),
        ]
        self.frames = 0
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Encoder:
        log.info("encoding with: %s", " ".join(self.command))
        self._process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return self

    def write(self, frame: bytes) -> None:
        """One raw frame (:func:`raw_frame`); a stopped ffmpeg is reported by :meth:`finish`."""
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(frame)
            self.frames += 1
        except BrokenPipeError:
            pass  # ffmpeg stopped; finish() says why

    def finish(self, expected: int) -> None:
        """Close the stream, wait for ffmpeg, and put the file in place.

        Raises:
            RenderError: ffmpeg failed, or fewer than ``expected`` frames reached it.
        """
        process = self._process
        assert process is not None and process.stdin is not None and process.stderr is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        message = process.stderr.read().decode(errors="replace").strip()
        if process.wait() != 0 or self.frames != expected:
            last = message.splitlines()[-1] if message else f"exit code {process.returncode}"
            raise RenderError(f"{self.output}: the encoder failed: {last}")
        os.replace(self.temporary, self.output)

    def __exit__(self, *exc: object) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()
        self.temporary.unlink(missing_ok=True)
