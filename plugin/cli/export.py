"""``vscolorize export-onnx``: the shipped network (or a trained one) as ONNX."""

from __future__ import annotations

import argparse
import sys

from .common import Commands, UsageError, add_command


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "export-onnx",
        run,
        help="write the network as ONNX (for vs-mlrt or any ONNX runtime)",
        description="Write the colorizing network as ONNX: one input, the L* plane, the hints' "
        "a*b* (2), their mask and the network's bases stacked along channels, at the working size; "
        "one output, a*b* (2). The bases and the upsampling to full size stay outside the graph.",
        output=True,
    )
    parser.add_argument("--model", default="auto", help="'auto', 'fast', 'large' or a weights file")
    parser.add_argument(
        "--size",
        metavar="HxW",
        help="the working size the graph is made at (default: the model's for a 854x480 frame)",
    )
    parser.add_argument("--dynamic", action="store_true", help="leave height and width free")
    parser.add_argument("--fp16", action="store_true", help="float16 weights, input and output")


def run(args: argparse.Namespace) -> int:
    from vscolorize.core.engines.learned import load_network, working_size
    from vscolorize.core.models.export import export_onnx, input_channels, pyramid_sides

    model = load_network(args.model, "cpu").models[0]
    if args.size is None:
        size = working_size(480, 854, model.config.working_short_side)
    else:
        try:
            height, width = (int(side) for side in args.size.lower().split("x"))
        except ValueError:
            raise UsageError(f"export-onnx: --size {args.size!r}: give it as HxW, e.g. 256x448") from None
        size = (height, width)
    path = export_onnx(args.output, model, size=size, dynamic=args.dynamic, half=args.fp16)
    sides = pyramid_sides(size)
    free = f"; any size whose larger side is {sides.start}-{sides.stop - 1}" if args.dynamic else ""
    sys.stdout.write(
        f"{path}: the {model.config.name} network, input (1, {input_channels(model)}, {size[0]}, "
        f"{size[1]}){free}, {'float16' if args.fp16 else 'float32'}\n"
    )
    return 0
