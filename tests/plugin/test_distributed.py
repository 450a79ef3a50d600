"""The distributed render: chunks of whole shots on a Dask LocalCluster of 2 processes, encoded in
the final codec and joined by a stream copy into the plain render's file bit for bit, through
worker deaths, failures, resumes and hint edits; and the plain render, the same plan in-process."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from unittest import mock

import imageio_ffmpeg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vscolorize.core.hints import load_hints
from vscolorize.core.pipeline import Settings
from vscolorize.distributed import (
    Chunk,
    ChunkJob,
    DamagedChunk,
    chunk_key,
    fingerprint,
    local_cluster,
    plan_chunks,
    render_here,
    write_chunk,
)
from vscolorize.render import RenderError, RenderSettings, render

SHOTS = 6  # shots of 10 frames: testsrc2, mandelbrot, smptebars, cellauto, rgbtestsrc, life
HINTS = {
    "format": "vscolorize.hints",
    "version": 1,
    "keyframes": [
        {"frame": 2, "points": [{"x": 0.3, "y": 0.5, "ab": [40.0, 30.0], "radius": 0.1}]},
        {"frame": 25, "strokes": [{"path": [[0.1, 0.2], [0.8, 0.7]], "rgb": "#2050d0"}]},
        {"frame": 44, "points": [{"x": 0.6, "y": 0.4, "ab": [-30.0, 40.0], "radius": 0.1}]},
    ],
}
SETTINGS = RenderSettings(Settings(method="optimization", temporal=2), codec="ffv1")


def ffmpeg(*args: str) -> str:
    """Run ffmpeg quietly; returns what it wrote to stdout."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def cuts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 gray 160x96 frames at 12 fps in 6 shots of 10 (5 cuts), with a tone."""
    path = tmp_path_factory.mktemp("cuts") / "cuts.mp4"
    # each shot moves or stands still (a cellular automaton, all new each frame, is a cut a frame)
    sources = [
        "testsrc2",
        "mandelbrot",
        "smptebars",
        "zoneplate=ku=512:kv=100:kt2=0",
        "rgbtestsrc",
        "testsrc",
    ]
    inputs = []
    for source in sources:
        name, _, options = source.partition("=")
        inputs += ["-f", "lavfi", "-i", f"{name}=size=160x96:rate=12{':' if options else ''}{options}"]
    trims = "".join(f"[{i}:v]trim=end_frame=10,setpts=PTS-STARTPTS[v{i}];" for i in range(SHOTS))
    joined = "".join(f"[v{i}]" for i in range(SHOTS))
    audio = ["-f", "lavfi", "-i", "sine=d=6"]
    graph = f"{trims}{joined}concat=n={SHOTS}:v=1:a=0,format=gray[v]"
    maps = ["-filter_complex", graph, "-map", "[v]", "-map", f"{SHOTS}:a"]
    codecs = ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", "-shortest"]
    ffmpeg(*inputs, *audio, *maps, *codecs, str(path))
    return path


@pytest.fixture
def hints(tmp_path: Path) -> Path:
    path = tmp_path / "cuts.hints.json"
    path.write_text(json.dumps(HINTS))
    return path


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


def start_cluster(faults: Path, cache: Path) -> Any:
    """A local cluster of 2 worker processes, as ``--cluster local:2`` starts it, with
    tests/plugin/dask_faults.py preloaded."""
    saved = {k: os.environ.get(k) for k in ("VSCOLORIZE_FAULTS", "VSCOLORIZE_CACHE")}
    # the workers' environment (they are spawned now): markers and a motion store of their own
    os.environ["VSCOLORIZE_FAULTS"] = str(faults)
    os.environ["VSCOLORIZE_CACHE"] = str(cache)
    try:
        return local_cluster(2, preload=[str(Path(__file__).with_name("dask_faults.py"))])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def cluster(faults: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_cluster(faults, tmp_path_factory.mktemp("workers-cache")) as local:
        yield local.scheduler_address


@pytest.fixture
def own_cluster(faults: Path, tmp_path: Path) -> Iterator[str]:
    """A cluster for one test (one whose workers die: the others get the module's intact)."""
    with start_cluster(faults, tmp_path / "workers-cache") as local:
        yield local.scheduler_address


def frame_hashes(path: Path) -> list[str]:
    """The MD5 of every decoded video frame, and of the decoded audio."""
    video = ffmpeg("-i", str(path), "-map", "0:v", "-f", "framemd5", "-")
    audio = ffmpeg("-i", str(path), "-map", "0:a", "-f", "md5", "-")
    return [line.split(",")[-1].strip() for line in video.splitlines() if not line.startswith("#")] + [
        audio.strip()
    ]


@pytest.fixture
def plain(cuts: Path, hints: Path, tmp_path: Path) -> list[str]:
    out = tmp_path / "plain.mkv"
    render(cuts, out, hints=hints, settings=SETTINGS.pipeline, codec=SETTINGS.codec)
    return frame_hashes(out)


def distributed(cuts: Path, out: Path, hints: Path, cluster: str, **options: Any) -> Any:
    from vscolorize.distributed import render_distributed

    return render_distributed(
        cuts, out, cluster=cluster, hints=hints, settings=SETTINGS, chunk_frames=15, **options
    )


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "vscolorize.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_cli_local_cluster_equals_the_plain_render(cuts: Path, hints: Path, tmp_path: Path) -> None:
    plain, out = tmp_path / "plain.mp4", tmp_path / "cluster.mp4"
    assert cli("render", cuts, "-o", plain, "--hints", hints, "--chunk-frames", "25").returncode == 0
    result = cli("render", cuts, "-o", out, "--hints", hints, "--cluster", "local:2", "--chunk-frames", "25")
    assert result.returncode == 0, result.stderr
    # 6 shots of 10 packed into 25 frames at most: 20 + 20 + 20
    assert result.stdout.startswith(f"wrote {out}: 60 frames")
    assert "on 2 workers; 3 of 3 chunks rendered" in result.stdout
    assert "chunks 3/3, failed 0, retried 0" in result.stderr  # the one progress bar
    assert "INFO" not in result.stderr and "Traceback" not in result.stderr
    # the same plan, chunks encoded alike (x264's threads pinned) and copied alike: the same file
    assert out.read_bytes() == plain.read_bytes()
    assert len(frame_hashes(out)) == 60 + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster.mp4", "cuts.hints.json", "plain.mp4"]


H264 = RenderSettings(SETTINGS.pipeline, codec="h264")


def here(cuts: Path, out: Path, hints: Path, **options: Any) -> Any:
    """The plain render's plan (chunks of up to 15 frames: one a shot), in this process."""
    return render_here(cuts, out, hints=hints, settings=H264, chunk_frames=15, force=True, **options)


def frame_times(path: Path) -> list[Fraction]:
    """The presentation time of every decoded video frame of ``path``, in seconds."""
    lines = ffmpeg("-i", str(path), "-map", "0:v", "-f", "framemd5", "-").splitlines()
    base = next(Fraction(line.split(":")[1].strip()) for line in lines if line.startswith("#tb 0"))
    return [int(line.split(",")[2]) * base for line in lines if not line.startswith("#")]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_the_joined_file_plays_every_frame_at_the_source_rate(
    cuts: Path, hints: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"out{suffix}"
    result = here(cuts, out, hints)
    assert (result.frames, result.chunks, result.rendered) == (60, 6, 6)
    times = frame_times(out)  # decoded: 6 chunks copied one after the other, every frame there
    assert len(times) == 60
    tolerance = Fraction(1, 1000) if suffix == ".mkv" else 0  # Matroska keeps milliseconds
    assert all(abs(t - Fraction(n, 12)) <= tolerance for n, t in enumerate(times))
    assert "Audio:" in ffmpeg_info(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [hints.name, out.name]  # the chunks are gone


def ffmpeg_info(path: Path) -> str:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)]
    return subprocess.run(command, capture_output=True, text=True).stderr


def test_the_join_copies_and_decodes_nothing(
    cuts: Path, hints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vscolorize.distributed import coordinator

    real, commands = coordinator.join_chunks, []

    def spying(*args: Any, **options: Any) -> int:
        with mock.patch("subprocess.Popen", wraps=subprocess.Popen) as popen:
            frames = real(*args, **options)
        commands.extend(call.args[0] for call in popen.call_args_list)
        return frames

    monkeypatch.setattr(coordinator, "join_chunks", spying)
    assert here(cuts, tmp_path / "out.mp4", hints).frames == 60
    (command,) = commands  # one ffmpeg: the concat demuxer's stream copy, with the audio
    assert command[command.index("-f") : command.index("-f") + 2] == ["-f", "concat"]
    assert command[command.index("-c:v") + 1] == "copy"
    assert not {"rawvideo", "libx264", "ffv1", "-vf", "-filter_complex"} & set(command)


def test_resume_skips_finished_chunks_and_renders_a_damaged_one_again(
    cuts: Path, hints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, out = tmp_path / "whole.mp4", tmp_path / "out.mp4"
    here(cuts, whole, hints)
    chunks = tmp_path / ".out.mp4.chunks"

    def stop_at_25(frames: Iterator[Any], total: int) -> Iterator[Any]:
        for n, frame in enumerate(frames):
            if n == 25:
                raise KeyboardInterrupt
            yield frame

    with pytest.raises(KeyboardInterrupt):
        here(cuts, out, hints, progress=stop_at_25)
    assert not out.exists()
    kept = sorted(p.name for p in chunks.glob("frames-*.mp4"))
    assert kept == ["frames-0000000-0000009.mp4", "frames-0000010-0000019.mp4"]
    damaged = chunks / kept[1]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF  # size and length kept: only the hash tells
    damaged.write_bytes(bytes(data))
    assert here(cuts, out, hints).rendered == 5  # all but frames 0-9
    assert out.read_bytes() == whole.read_bytes()

    # damage between the render and the join: the join's hash check removes the chunk
    from vscolorize.distributed import coordinator

    real = coordinator.join_chunks

    def damaging(folder: Path, *args: Any, **options: Any) -> int:
        victim = folder / "frames-0000020-0000029.mp4"
        data = bytearray(victim.read_bytes())
        data[-100] ^= 0xFF
        victim.write_bytes(bytes(data))
        return real(folder, *args, **options)

    monkeypatch.setattr(coordinator, "join_chunks", damaging)
    out.unlink()
    with pytest.raises(DamagedChunk, match=r"frames 20-29: the chunk file differs .*run again"):
        here(cuts, out, hints, keep_chunks=True)
    assert not out.exists() and not (chunks / "frames-0000020-0000029.json").exists()
    monkeypatch.setattr(coordinator, "join_chunks", real)
    assert here(cuts, out, hints).rendered == 1
    assert out.read_bytes() == whole.read_bytes()


def _worker_settings() -> dict[str, Any]:
    import dask

    return {
        "trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "omp": os.environ.get("OMP_NUM_THREADS"),
        "profiler": dask.config.get("distributed.worker.profile.enabled"),
    }


def test_local_workers_render_as_this_process_would() -> None:
    """Dask's nanny would start workers with glibc's heap trimmed eagerly (frames at half speed),
    one OpenMP thread, and a profiler sampling their stacks every 10 ms."""
    from vscolorize.distributed import connect

    with connect("local:1") as (client, threads):
        (seen,) = client.run(_worker_settings).values()
    assert threads == max(1, os.cpu_count() or 1)
    assert seen == {"trim": None, "omp": str(threads), "profiler": False}


@pytest.mark.slow
def test_a_worker_killed_mid_chunk(
    cuts: Path, hints: Path, tmp_path: Path, own_cluster: str, faults: Path, plain: list[str]
) -> None:
    (faults / "kill-20").touch()
    result = distributed(cuts, tmp_path / "out.mkv", hints, own_cluster)
    assert not (faults / "kill-20").exists()  # the worker rendering frames 20-29 died
    assert (result.frames, result.chunks, result.rendered) == (60, 6, 6)
    assert frame_hashes(tmp_path / "out.mkv") == plain
    assert not (tmp_path / ".out.mkv.chunks").exists()  # removed after the join


@pytest.mark.slow
def test_a_failing_chunk_is_named_and_the_rest_resumes(
    cuts: Path, hints: Path, tmp_path: Path, cluster: str, faults: Path, plain: list[str]
) -> None:
    out, folder = tmp_path / "out.mkv", tmp_path / ".out.mkv.chunks"
    (faults / "fail-30").touch()
    try:
        with pytest.raises(
            RenderError,
            match=r"1 of 6 chunks failed .* frames 30-39: frame 32: "
            r"the decoder failed",
        ):
            distributed(cuts, out, hints, cluster, retries=1)
    finally:
        (faults / "fail-30").unlink()
    assert not out.exists()
    kept = sorted(p.name for p in folder.glob("frames-*.mkv"))
    assert len(kept) == 5 and "frames-0000030-0000039.mkv" not in kept
    result = distributed(cuts, out, hints, cluster)  # run again: only the missing chunk
    assert (result.chunks, result.rendered) == (6, 1)
    assert frame_hashes(out) == plain


@pytest.mark.slow
def test_an_edit_renders_again_only_the_edited_shot(
    cuts: Path, hints: Path, tmp_path: Path, cluster: str
) -> None:
    out = tmp_path / "out.mkv"
    assert distributed(cuts, out, hints, cluster, keep_chunks=True).rendered == 6
    edited = json.loads(hints.read_text())
    edited["keyframes"][1]["strokes"][0]["rgb"] = "#d05020"  # shot 3 (frames 20-29)
    hints.write_text(json.dumps(edited))
    damaged = tmp_path / ".out.mkv.chunks" / "frames-0000050-0000059.mkv"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    result = distributed(cuts, out, hints, cluster, keep_chunks=True, force=True)
    assert result.rendered == 2  # the edited shot, and the damaged chunk
    fresh = tmp_path / "fresh.mkv"
    render(cuts, fresh, hints=hints, settings=SETTINGS.pipeline, codec=SETTINGS.codec, chunk_frames=15)
    assert frame_hashes(out) == frame_hashes(fresh)
    assert out.read_bytes() == fresh.read_bytes()  # chunks of 15 frames planned alike: the same file
    # damage that leaves the file's size and time alone is caught by its hash
    kept = tmp_path / ".out.mkv.chunks" / "frames-0000010-0000019.mkv"
    stat = kept.stat()
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0xFF
    kept.write_bytes(bytes(data))
    os.utime(kept, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert distributed(cuts, out, hints, cluster, force=True).rendered == 1
    assert out.read_bytes() == fresh.read_bytes()


@pytest.mark.slow
def test_a_range_equals_the_plain_range(cuts: Path, hints: Path, tmp_path: Path, cluster: str) -> None:
    plain, out = tmp_path / "plain.mkv", tmp_path / "out.mkv"
    render(cuts, plain, hints=hints, settings=SETTINGS.pipeline, codec=SETTINGS.codec, start=24, end=47)
    # frames 24-47 meet shots 3 (from frame 20: keyframe 25 reaches back), 4 and 5
    result = distributed(cuts, out, hints, cluster, start=24, end=47)
    assert (result.frames, result.chunks) == (24, 3)
    assert frame_hashes(out) == frame_hashes(plain)


@pytest.mark.slow
def test_bad_input_is_one_line(cuts: Path, hints: Path, tmp_path: Path, cluster: str) -> None:
    out = tmp_path / "out.mkv"
    result = cli("render", cuts, "-o", out, "--cluster", "tcp://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "vscolorize: error: --cluster tcp://127.0.0.1:9: cannot reach the Dask scheduler"
    )
    assert len(result.stderr.strip().splitlines()) == 1
    for args, message in [
        (["--cluster", "local:x"], "local:N needs N workers"),
        (["--cluster", "local:1", "--chunk-frames", "0"], "--chunk-frames must be at least 1"),
        (["--retries", "1"], "--retries needs --cluster"),
    ]:
        result = cli("render", cuts, "-o", out, *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    late = tmp_path / "late.hints.json"
    late.write_text(json.dumps({**HINTS, "keyframes": [{"frame": 60, "points": []}]}))
    with pytest.raises(RenderError, match="keyframe 60 is past the clip's last frame"):
        distributed(cuts, out, late, cluster)
    with pytest.raises(RenderError, match="--end 60: past the clip's last frame"):
        distributed(cuts, out, hints, cluster, end=60)


class _Client:
    """Stands in for a Dask client whose workers answer ``run`` as given."""

    def __init__(self, versions: dict[str, Any], facts: dict[str, Any]) -> None:
        self.versions, self.facts = versions, facts

    def wait_for_workers(self, n: int, timeout: float) -> None:
        pass

    def run(self, function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.versions if function.__name__ == "version" else self.facts


def test_unfit_workers_are_named(cuts: Path, hints: Path, tmp_path: Path) -> None:
    from vscolorize import __version__
    from vscolorize.distributed import ClusterError, check_workers, worker_facts

    own = worker_facts(str(cuts), str(hints), str(cuts), SETTINGS)
    good = {"tcp://a:1": own}

    def check(versions: dict[str, Any], facts: dict[str, Any]) -> None:
        check_workers(
            _Client(versions, facts),
            cuts,
            str(hints),
            tmp_path,  # type: ignore[arg-type]
            SETTINGS,
        )

    check({"tcp://a:1": __version__}, good)  # fit
    cases = [
        ({"tcp://b:1": ModuleNotFoundError("vscolorize")}, good, "vscolorize is not installed"),
        ({"tcp://b:1": "0.0.1"}, good, f"vscolorize 0.0.1, this machine {__version__}"),
        ({}, {"tcp://b:1": {**own, "source": None}}, "no such file there"),
        ({}, {"tcp://b:1": {**own, "hints": "0" * 32}}, "hints .* differ from this machine's"),
        ({}, {"tcp://b:1": {**own, "folder": False}}, "does not see the chunk folder"),
        (
            {},
            {"tcp://a:1": own, "tcp://b:1": {**own, "model": "large", "weights": "x"}},
            "the workers would use different models",
        ),
    ]
    for versions, facts, message in cases:
        with pytest.raises(ClusterError, match=message):
            check(versions or {"tcp://b:1": __version__}, facts)


def test_a_worker_refuses_other_inputs(cuts: Path, hints: Path, tmp_path: Path) -> None:
    chunk = Chunk(0, 9, 0, 9)
    job = ChunkJob(
        str(cuts), str(hints), SETTINGS, chunk, "k", str(tmp_path), ".mkv", fingerprint(cuts), "0" * 32
    )
    with pytest.raises(RenderError, match=r"hints on .* differ from the coordinator's"):
        write_chunk(job)
    with pytest.raises(RenderError, match="differs from the coordinator's"):
        write_chunk(ChunkJob(**{**job.__dict__, "source_fingerprint": "x"}))


@given(
    lengths=st.lists(st.integers(1, 60), min_size=1, max_size=12),
    target=st.integers(1, 50),
    trim=st.tuples(st.integers(0, 30), st.integers(0, 30)),
)
def test_plans_cover_the_range_in_whole_shots(lengths: list[int], target: int, trim: tuple[int, int]) -> None:
    starts = [0]
    for length in lengths:
        starts.append(starts[-1] + length)
    first, last = min(trim[0], starts[-1] - 1), max(starts[-1] - 1 - trim[1], 0)
    if first > last:
        return
    # the shots that meet the range, and the frame after the last one
    meets = [s for s, e in itertools.pairwise(starts) if e > first and s <= last]
    ends = [e for s, e in itertools.pairwise(starts) if e > first and s <= last]
    plan = plan_chunks([*meets, ends[-1]], first, last, target)
    assert plan[0].first == first and plan[-1].last == last
    for a, b in itertools.pairwise(plan):
        assert b.first == a.last + 1  # every frame once, in order
    for chunk in plan:
        assert chunk.frames <= target
        inner = [s for s in starts if chunk.first < s <= chunk.last]
        if not inner:  # within one shot: a whole one, or a piece of one longer than target
            shot = max(s for s in starts if s <= chunk.first), min(s for s in starts if s > chunk.first)
            whole = (max(shot[0], first), min(shot[1] - 1, last)) == (chunk.first, chunk.last)
            assert whole or min(shot[1] - 1, last) - max(shot[0], first) + 1 > target
        else:  # several shots: whole ones (clipped to the range)
            assert chunk.first in (first, *starts) and chunk.last + 1 in (last + 1, *starts)


def test_a_chunk_key_follows_only_its_shots_hints(hints: Path) -> None:
    identity = {"source": "s", "settings": {}}
    loaded = load_hints(hints)
    shot = Chunk(20, 29, 20, 29)
    key = chunk_key(identity, shot, loaded)
    moved = json.loads(hints.read_text())
    moved["keyframes"][0]["points"][0]["x"] = 0.7  # frame 2: another shot
    hints.write_text(json.dumps(moved))
    assert chunk_key(identity, shot, load_hints(hints)) == key
    moved["keyframes"][1]["strokes"][0]["width"] = 0.02  # frame 25: this shot
    hints.write_text(json.dumps(moved))
    widened = chunk_key(identity, shot, load_hints(hints))
    assert widened != key
    moved["keyframes"][1]["strokes"][0]["until"] = 27  # a lifetime: this shot renders again
    hints.write_text(json.dumps(moved))
    assert chunk_key(identity, shot, load_hints(hints)) not in (key, widened)
    assert chunk_key({**identity, "source": "t"}, shot, loaded) != key
