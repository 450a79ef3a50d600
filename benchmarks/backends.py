"""The network alone in torch and in onnxruntime, on this machine (run by hand, not a test).

Exports the model (``vscolorize.core.export_onnx``) at the working size of a ``--size`` frame and
times one picture through each, at each thread count: torch as the node runs it on the CPU
(channels-last weights) and onnxruntime's CPU provider on the exported graph. Median of
``--runs`` after 3 warm-up runs, and the ratio.

    python benchmarks/backends.py [--model fast] [--size 854x480] [--threads 1 2] [--runs 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from record import recorded


def median_ms(run: Callable[[], object], runs: int) -> float:
    """Milliseconds ``run`` takes, the median of ``runs`` after 3 to warm up."""
    for _ in range(3):
        run()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return float(np.median(times) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--size", default="854x480", help="the frame's size, WxH")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    import onnxruntime

    from vscolorize.core import export_onnx
    from vscolorize.core.engines.learned import load_network, working_size
    from vscolorize.core.models.export import input_channels

    with recorded(args.record):
        width, height = map(int, args.size.split("x"))
        network = load_network(args.model, "cpu").models[0]  # as the node runs it
        size = working_size(height, width, network.config.working_short_side)
        stacked = torch.zeros(1, input_channels(network), *size)
        stacked[:, 0], stacked[:, 7] = 50.0, 1.0  # mid-gray, no hints near
        planes = stacked[:, 0:1], stacked[:, 1:3], stacked[:, 3:4], stacked[:, 4:]
        with tempfile.TemporaryDirectory() as folder:
            path = export_onnx(Path(folder) / "net.onnx", network, size=size)
            for threads in args.threads:
                torch.set_num_threads(threads)
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = threads
                session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                feed = {"input": stacked.numpy()}
                with torch.inference_mode():
                    torch_ms = median_ms(lambda: network(*planes), args.runs)
                ort_ms = median_ms(partial(session.run, None, feed), args.runs)
                print(
                    f"{network.config.name} at {size[0]}x{size[1]}, {threads} thread(s): torch {torch_ms:.1f} ms, "
                    f"onnxruntime {onnxruntime.__version__} {ort_ms:.1f} ms ({torch_ms / ort_ms:.2f}x)"
                )


if __name__ == "__main__":
    main()
