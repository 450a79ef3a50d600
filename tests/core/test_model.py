from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vscolorize.core.engines.learned import Colorizer, working_size
from vscolorize.core.errors import ModelUnavailableError
from vscolorize.core.hints import Color, Keyframe, Point
from vscolorize.core.models import (
    FAST,
    ColorUNet,
    ModelConfig,
    levin_hints,
    load_model,
    network_bases,
    save_model,
    smooth_hints,
    spread_hints,
)
from vscolorize.core.optimization import levin_colorize

TINY = ModelConfig(name="tiny", widths=(4, 8, 8), depth=1, working_short_side=32)
TINY_SMOOTHER = ModelConfig(name="tiny", widths=(4, 8, 8), depth=1, working_short_side=32, base="smoother")
TINY_LEVIN = ModelConfig(name="tiny", widths=(4, 8, 8), depth=1, working_short_side=32, base="levin")


def _two_halves(height: int = 40, width: int = 72) -> torch.Tensor:
    """L: a dark left half and a bright right half."""
    l = torch.full((1, 1, height, width), 30.0)
    l[..., width // 2 :] = 70.0
    return l


def test_smooth_hints_stop_at_edges() -> None:
    l = _two_halves()
    ab, mask = torch.zeros(1, 2, 40, 72), torch.zeros(1, 1, 40, 72)
    ab[0, :, 20, 10], mask[0, 0, 20, 10] = torch.tensor([40.0, -30.0]), 1  # left half
    ab[0, :, 20, 60], mask[0, 0, 20, 60] = torch.tensor([-20.0, 50.0]), 1  # right half
    base, confidence, distance = smooth_hints(l, ab, mask)
    # each half takes its own hint's color, up to the edge and across the whole half
    torch.testing.assert_close(base[0, :, 5, 30], torch.tensor([40.0, -30.0]), atol=0.5, rtol=0)
    torch.testing.assert_close(base[0, :, 35, 40], torch.tensor([-20.0, 50.0]), atol=0.5, rtol=0)
    # hint weight reaches across the flat half, far less across the edge
    one = mask.clone()
    one[0, 0, 20, 60] = 0
    _, confidence, _ = smooth_hints(l, ab, one)
    assert confidence[0, 0, 20, 30] > confidence[0, 0, 20, 40] + 0.1
    assert distance[0, 0, 20, 10] == 0 and 0 < distance[0, 0, 20, 30] < distance[0, 0, 0, 36] <= 1


def test_smooth_hints_without_hints_is_gray() -> None:
    base, confidence, distance = smooth_hints(
        _two_halves(), torch.full((1, 2, 40, 72), 9.0), torch.zeros(1, 1, 40, 72)
    )
    assert base.abs().max() == 0 and confidence.max() == 0
    torch.testing.assert_close(distance, torch.ones_like(distance))


def test_smoother_model_starts_at_the_smoother_answer() -> None:
    """The correction's last layer starts at zero: an untrained network returns the base."""
    model = ColorUNet(TINY_SMOOTHER)
    l = _two_halves(32, 48)
    ab, mask = torch.zeros(1, 2, 32, 48), torch.zeros(1, 1, 32, 48)
    ab[0, :, 10, 5], mask[0, 0, 10, 5] = torch.tensor([25.0, 15.0]), 1
    base, _, _ = smooth_hints(l, ab, mask)
    bases = network_bases(TINY_SMOOTHER, l, ab, mask)
    torch.testing.assert_close(model(l, ab, mask, bases), base, atol=1e-4, rtol=0)
    torch.testing.assert_close(model(l), torch.zeros(1, 2, 32, 48))  # no hints: gray
    with torch.no_grad():
        model.head.bias.fill_(0.1)  # once trained, the correction moves it
    assert not torch.allclose(model(l, ab, mask, bases), base, atol=1)


def _two_hints(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    ab, mask = torch.zeros(1, 2, height, width), torch.zeros(1, 1, height, width)
    ab[0, :, height // 2, 4], mask[0, 0, height // 2, 4] = torch.tensor([40.0, -30.0]), 1
    ab[0, :, height // 2, -5], mask[0, 0, height // 2, -5] = torch.tensor([-20.0, 50.0]), 1
    return ab, mask


def test_levin_hints_at_full_scale_is_the_engines_optimization() -> None:
    l = _two_halves()
    ab, mask = _two_hints(40, 72)
    expected = levin_colorize(l[0, 0].numpy() / 100, ab[0].permute(1, 2, 0).numpy(), mask[0, 0].numpy())
    torch.testing.assert_close(levin_hints(l, ab, mask, 1.0)[0].permute(1, 2, 0), torch.from_numpy(expected))


def test_levin_hints_at_a_lower_scale_stop_at_edges() -> None:
    l = _two_halves()
    ab, mask = _two_hints(40, 72)
    base = levin_hints(l, ab, mask, 0.5)
    assert base.shape == ab.shape
    # a one-pixel hint is a quarter of a pixel there: a soft constraint, and still each half
    # takes its own hint's color (within 2 of 70 units apart: soft constraints leak a little)
    torch.testing.assert_close(base[0, :, 5, 20], torch.tensor([40.0, -30.0]), atol=2.0, rtol=0)
    torch.testing.assert_close(base[0, :, 35, 50], torch.tensor([-20.0, 50.0]), atol=2.0, rtol=0)
    assert levin_hints(l, ab, torch.zeros_like(mask), 0.5).abs().max() == 0


def _grained_halves(height: int = 48, width: int = 160) -> torch.Tensor:
    """Dark and light halves (L 30 | 70) under a grain of +-6 L: a wooden floor, film grain."""
    y, x = np.mgrid[:height, :width]
    l = np.where(x < width // 2, 30.0, 70.0) + 6 * np.sign(np.sin(0.9 * y + 1.3 * x))
    return torch.from_numpy(l[None, None].astype(np.float32))


def test_levin_hints_carry_colors_through_texture_far_from_the_hints() -> None:
    l = _grained_halves()
    ab, mask = _two_hints(48, 160)
    left, right = torch.tensor([40.0, -30.0]), torch.tensor([-20.0, 50.0])

    def errors(base: torch.Tensor) -> tuple[float, float]:
        far_left, far_right = base[0, :, :, 10:75], base[0, :, :, 85:150]
        return (
            float((far_left - left[:, None, None]).norm(dim=0).mean()),
            float((far_right - right[:, None, None]).norm(dim=0).mean()),
        )

    # on L itself the grain stops the colors: each half fades, far from its hint
    assert min(errors(levin_hints(l, ab, mask, 1.0, 0.2))) > 10
    # texture smoothed away, each half takes its hint's color; the real edge still holds
    assert max(errors(levin_hints(l, ab, mask, 1.0, 0.2, 30.0, 20.0, 0.2))) < 3
    # where there is no texture to smooth, nothing changes
    flat = _two_halves()
    ab, mask = _two_hints(40, 72)
    torch.testing.assert_close(
        levin_hints(flat, ab, mask, 1.0, 0.2, 30.0, 20.0, 0.2),
        levin_hints(flat, ab, mask, 1.0, 0.2),
        atol=0.5,
        rtol=0,
    )


def test_levin_model_starts_at_levins_answer() -> None:
    model = ColorUNet(TINY_LEVIN)
    l = _two_halves(32, 48)
    ab, mask = _two_hints(32, 48)
    base = levin_hints(l, ab, mask, TINY_LEVIN.base_scale)
    torch.testing.assert_close(
        model(l, ab, mask, network_bases(TINY_LEVIN, l, ab, mask)), base, atol=1e-4, rtol=0
    )
    torch.testing.assert_close(model(l), torch.zeros(1, 2, 32, 48))  # no hints: gray


def test_pictures_with_hints_get_the_calibrated_share_of_the_correction() -> None:
    torch.manual_seed(0)
    model = ColorUNet(TINY_LEVIN)
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([0.1, -0.05]))  # a trained correction: a tint
    l = torch.cat([_two_halves(32, 48)] * 2)
    ab, mask = _two_hints(32, 48)
    ab, mask = torch.cat([ab, torch.zeros_like(ab)]), torch.cat([mask, torch.zeros_like(mask)])
    bases = network_bases(TINY_LEVIN, l, ab, mask)
    full = model(l, ab, mask, bases)
    base = levin_hints(l[:1], ab[:1], mask[:1], TINY_LEVIN.base_scale)
    model.config = dataclasses.replace(TINY_LEVIN, hinted_correction=0.4)
    shrunk = model(l, ab, mask, bases)
    # the picture with hints: 0.4 of the correction; the one without keeps all of it
    torch.testing.assert_close(shrunk[:1] - base, 0.4 * (full[:1] - base), atol=1e-3, rtol=0)
    torch.testing.assert_close(shrunk[1:], full[1:])
    assert full[1:].abs().mean() > 1  # the tint is there to keep


def test_forward_shapes_and_range() -> None:
    model = ColorUNet(TINY)
    l = torch.rand(2, 1, 24, 40) * 100
    out = model(l, torch.zeros(2, 2, 24, 40), torch.zeros(2, 1, 24, 40))
    assert out.shape == (2, 2, 24, 40)
    assert out.abs().max() <= 110
    torch.testing.assert_close(model(l), out)  # no hints == empty hints


def test_hints_change_the_prediction() -> None:
    torch.manual_seed(0)
    model = ColorUNet(TINY)
    l = torch.full((1, 1, 16, 16), 50.0)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 8, 8] = 1
    hinted = model(l, torch.full((1, 2, 16, 16), 60.0), mask)
    assert not torch.allclose(hinted, model(l))


def _hinted_batch(
    config: ModelConfig, seed: int, height: int = 64, width: int = 96
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two pictures of random L, the first with three hinted pixels, the second without hints,
    and their bases for ``config``."""
    g = torch.Generator().manual_seed(seed)
    l = torch.rand(2, 1, height, width, generator=g) * 100
    ab, mask = torch.zeros(2, 2, height, width), torch.zeros(2, 1, height, width)
    for _ in range(3):
        y, x = (int(torch.randint(n, (1,), generator=g)) for n in (height, width))
        ab[0, :, y, x], mask[0, 0, y, x] = torch.rand(2, generator=g) * 80 - 40, 1
    return l, ab, mask, network_bases(config, l, ab, mask)


def test_network_bases_are_the_smoother_and_levin_answers() -> None:
    l = _two_halves()
    ab, mask = _two_hints(40, 72)
    smoother = torch.cat(smooth_hints(l, ab, mask), 1)
    c = dataclasses.replace(TINY_LEVIN, base_variance=0.2, base_texture=30.0)
    levin = levin_hints(
        l, ab, mask, c.base_scale, c.base_variance, c.base_texture, c.base_texture_sigma, c.base_texture_reach
    )
    assert torch.equal(network_bases(TINY_SMOOTHER, l, ab, mask), smoother)
    assert torch.equal(network_bases(c, l, ab, mask), torch.cat([smoother, levin], 1))
    assert network_bases(TINY, l, ab, mask).shape == (1, 0, 40, 72)
    # without hints: gray answers, no confidence, every pixel as far from a hint as there is
    none = network_bases(c, l)
    expected = torch.zeros(1, 6, 40, 72)
    expected[:, 3] = 1
    assert torch.equal(none, expected)
    assert torch.equal(none, network_bases(c, l, torch.zeros_like(ab), torch.zeros_like(mask)))


def test_the_network_takes_the_bases_it_needs() -> None:
    torch.manual_seed(0)
    model = ColorUNet(TINY_LEVIN)
    l, ab, mask, bases = _hinted_batch(TINY_LEVIN, 0, 32, 48)
    with torch.no_grad():
        torch.nn.init.normal_(model.head.weight, std=0.1)  # a trained correction
        # without hints the bases may be left out: the network knows those of no hints
        assert torch.equal(model(l), model(l, None, None, network_bases(TINY_LEVIN, l)))
        with pytest.raises(ValueError, match="needs the bases tensor"):
            model(l, ab, mask)
        with pytest.raises(ValueError, match="takes 6 base channels, not 4"):
            model(l, ab, mask, bases[:, :4])
        pull_push = ColorUNet(TINY)
        assert torch.equal(pull_push(l, ab, mask), pull_push(l, ab, mask, network_bases(TINY, l, ab, mask)))


def _exportable() -> ColorUNet:
    """The fast network with random weights, its correction switched on (it starts at zero) and
    calibrated below 1, so every input and every branch shapes its answer."""
    torch.manual_seed(0)
    model = ColorUNet(dataclasses.replace(FAST, hinted_correction=0.4)).eval()
    with torch.no_grad():
        torch.nn.init.normal_(model.head.weight, std=0.05)
    return model


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore:`torch.jit.trace")
def test_the_network_is_torch_alone_traced_and_exported() -> None:
    """A graph recorded on one input gives eager's answer on another: nothing outside torch (the
    bases, say) is frozen into it as a constant."""
    model = _exportable()
    recorded, other = _hinted_batch(FAST, 0), _hinted_batch(FAST, 1)
    with torch.no_grad():
        expected = model(*other)
        # the inputs matter, to each picture far beyond the tolerance below
        assert (model(*recorded) - expected).abs().amax((1, 2, 3)).min() > 0.1
        traced = torch.jit.trace(model, recorded)
        torch.testing.assert_close(traced(*other), expected, atol=1e-4, rtol=0)
        exported = torch.export.export(model, recorded)
        torch.testing.assert_close(exported.module()(*other), expected, atol=1e-4, rtol=0)


def test_the_network_exports_to_onnx(tmp_path: Path) -> None:
    pytest.importorskip("onnxscript")  # torch.onnx.export's exporter
    onnxruntime = pytest.importorskip("onnxruntime")
    model = _exportable()
    recorded, other = _hinted_batch(FAST, 0), _hinted_batch(FAST, 1)
    names = ["l", "ab_hint", "mask", "bases"]
    path = tmp_path / "fast.onnx"
    torch.onnx.export(model, recorded, str(path), input_names=names, output_names=["ab"], dynamo=True)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {name: x.numpy() for name, x in zip(names, other, strict=True)})
    with torch.no_grad():
        np.testing.assert_allclose(got, model(*other).numpy(), atol=1e-3, rtol=0)


def test_spread_hints_fills_from_the_hints() -> None:
    ab, mask = torch.zeros(1, 2, 40, 72), torch.zeros(1, 1, 40, 72)
    ab[0, :, 3, 5], mask[0, 0, 3, 5] = torch.tensor([0.5, -0.4]), 1
    ab[0, :, 30, 60], mask[0, 0, 30, 60] = torch.tensor([-0.2, 0.3]), 1
    dense, reach = spread_hints(ab, mask)
    # hinted pixels keep their value exactly, every other value lies between the hints' values
    torch.testing.assert_close(dense[0, :, 3, 5], torch.tensor([0.5, -0.4]))
    torch.testing.assert_close(dense[0, :, 30, 60], torch.tensor([-0.2, 0.3]))
    assert (dense[0, 0] >= -0.2 - 1e-6).all() and (dense[0, 0] <= 0.5 + 1e-6).all()
    # nearer a hint, nearer its color; reach is 0 on the hints and grows away from them
    assert dense[0, 0, 5, 8] > dense[0, 0, 20, 36] > dense[0, 0, 28, 56]
    assert reach[0, 0, 3, 5] == 0 and reach[0, 0, 3, 6] < reach[0, 0, 20, 36] <= 1


def test_spread_hints_without_hints_is_empty() -> None:
    dense, reach = spread_hints(torch.full((2, 2, 17, 33), 0.7), torch.zeros(2, 1, 17, 33))
    assert dense.abs().max() == 0
    torch.testing.assert_close(reach, torch.ones_like(reach))
    one = torch.zeros(1, 1, 17, 33)
    one[..., 8, 8] = 1
    dense, _ = spread_hints(torch.full((1, 2, 17, 33), 0.7), one)
    torch.testing.assert_close(dense, torch.full_like(dense, 0.7))  # one hint colors everything


def test_weights_round_trip_with_config(tmp_path: Path) -> None:
    model = ColorUNet(TINY)
    save_model(model, tmp_path / "m.safetensors", steps="3")
    loaded = load_model(tmp_path / "m.safetensors")
    assert loaded.config == TINY
    l = torch.rand(1, 1, 16, 16) * 100
    torch.testing.assert_close(loaded(l), model(l), atol=0.5, rtol=0)  # stored as float16


def test_damaged_or_foreign_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_model(ColorUNet(TINY), path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # flip bits in the last tensor
    path.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailableError, match="checksum mismatch"):
        load_model(path)
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(ModelUnavailableError, match="not a readable safetensors file"):
        load_model(tmp_path / "junk.safetensors")
    with pytest.raises(ModelUnavailableError, match="no such model file"):
        load_model(tmp_path / "none.safetensors")


def test_config_json_round_trip() -> None:
    assert ModelConfig.from_json(FAST.to_json()) == FAST
    # a config that names no base (an older weights file) is a pull-push model
    old = '{"depth": 2, "name": "fast", "widths": [16, 32], "working_short_side": 256}'
    assert ModelConfig.from_json(old).base == "pull-push"
    with pytest.raises(ValueError, match="unknown base"):
        ColorUNet(ModelConfig(base="nearest"))


def test_working_size() -> None:
    assert working_size(480, 854, 256) == (256, 448)
    assert working_size(100, 60, 256) == (96, 64)  # small pictures are not enlarged
    assert all(v % 16 == 0 for v in working_size(1080, 1920, 384))


def test_colorizer_keeps_size_and_hints() -> None:
    colorizer = Colorizer(ColorUNet(TINY), "cpu")
    lightness = np.tile(np.linspace(10, 90, 70, dtype=np.float32), (50, 1))
    keyframe = Keyframe(frame=0, points=(Point(x=0.5, y=0.5, color=Color(ab=(30.0, -20.0)), radius=0.05),))
    (ab,) = colorizer.predict([lightness], [keyframe])
    assert ab.shape == (50, 70, 2) and ab.dtype == np.float32
    np.testing.assert_array_equal(ab[25, 35], [30.0, -20.0])
    two = colorizer.predict([lightness, lightness], [None, keyframe])
    np.testing.assert_allclose(two[1], ab, atol=1e-4)  # batching does not change results


def test_torch_guided_filter_matches_opencv() -> None:
    import cv2

    from vscolorize.core.upsample import guided_filter

    rng = np.random.default_rng(0)
    guide = np.kron(rng.random((6, 8)), np.ones((10, 10))).astype(np.float32)  # blocks: edges
    src = (rng.random((60, 80, 2)).astype(np.float32) - 0.5) * 100
    expected = cv2.ximgproc.guidedFilter(guide, src, 4, 1e-4)
    got = guided_filter(
        torch.from_numpy(guide)[None, None], torch.from_numpy(src).permute(2, 0, 1)[None], 4, 1e-4
    )
    np.testing.assert_allclose(got[0].permute(1, 2, 0).numpy(), expected, atol=0.01)


def test_relu_on_bfloat16_bits_is_relu() -> None:
    from vscolorize.core.models.network import _ReLU

    values = torch.tensor([-3.5, -1e-30, -0.0, 0.0, 1e-30, 2.25, float("inf"), -float("inf")])
    x = torch.cat([values, torch.randn(1000)]).bfloat16()
    with torch.no_grad():
        np.testing.assert_array_equal(_ReLU()(x.clone()).float(), torch.relu(x).float())
    grad = torch.randn(5, requires_grad=True)
    _ReLU()(grad * 1).sum().backward()  # with gradients: torch's own
    np.testing.assert_array_equal(grad.grad, (grad > 0).float())


def test_network_precision_follows_the_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    from vscolorize.core.engines import learned

    assert learned.network_precision("cuda:1") == torch.float16
    for amx, avx512, expected in (
        (True, False, torch.bfloat16),
        (False, True, torch.bfloat16),
        (False, False, torch.float32),
    ):
        capabilities = {"amx_bf16": amx, "avx512_bf16": avx512}
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda c=capabilities: c)
        assert learned.network_precision("cpu") == expected
        assert Colorizer(ColorUNet(TINY), "cpu").precision == expected


def test_bfloat16_layers_keep_the_shipped_models_colors() -> None:
    from vscolorize.core.engines.learned import get_colorizer

    model = get_colorizer("fast", "cpu").models[0]
    rng = np.random.default_rng(5)
    # soft shapes over a gradient at 854x480, hinted at five places, as a frame would be
    lightness = cv2.GaussianBlur(rng.uniform(10, 90, (480, 854)).astype(np.float32), (0, 0), 12)
    lightness = np.clip((lightness - 50) * 8 + np.linspace(30, 70, 854), 0, 100).astype(np.float32)
    points = tuple(
        Point(x=x, y=y, color=Color(ab=(a, b)))
        for x, y, a, b in rng.uniform((0.1, 0.1, -40, -40), (0.9, 0.9, 40, 40), (5, 4))
    )
    keyframes = [Keyframe(frame=0, points=points), None]
    exact = Colorizer(model, "cpu", precision=torch.float32).predict([lightness] * 2, keyframes)
    reduced = Colorizer(model, "cpu", precision=torch.bfloat16).predict([lightness] * 2, keyframes)
    for a, b in zip(reduced, exact, strict=True):
        difference = np.abs(a - b)
        assert difference.max() > 0  # the layers did run in bfloat16
        assert difference.mean() < 0.1 and difference.max() < 1.5


@pytest.mark.cuda
def test_colorizer_on_cuda_matches_cpu() -> None:
    torch.manual_seed(0)
    model = ColorUNet(TINY)
    lightness = np.tile(np.linspace(10, 90, 70, dtype=np.float32), (50, 1))
    (cpu,) = Colorizer(model, "cpu").predict([lightness], [None])
    (gpu,) = Colorizer(model, "cuda").predict([lightness], [None])
    np.testing.assert_allclose(gpu, cpu, atol=1.0)  # fp16 autocast on the GPU


def test_upsample_ab_follows_the_full_resolution_edges() -> None:
    import cv2

    from vscolorize.core.upsample import upsample_ab

    # an edge in L between two colors, at full size; the working size sees it blurred
    lightness = np.full((120, 200), 30.0, np.float32)
    lightness[:, 101:] = 70.0
    truth = np.zeros((120, 200, 2), np.float32)
    truth[:, :101] = (40.0, 10.0)
    truth[:, 101:] = (-20.0, 30.0)
    small = cv2.resize(truth, (50, 30), interpolation=cv2.INTER_AREA)
    keyframe = Keyframe(frame=0, points=(Point(x=0.25, y=0.5, color=Color(ab=(41.0, 9.0)), radius=0.02),))
    ab = upsample_ab(small, lightness, keyframe)
    assert ab.shape == (120, 200, 2) and ab.dtype == np.float32
    np.testing.assert_array_equal(ab[60, 50], [41.0, 9.0])  # the hint, exactly
    # away from the edge the colors are the truth, and next to it far closer than bilinear
    np.testing.assert_allclose(ab[:, 90:99], truth[:, 90:99], atol=0.5)
    np.testing.assert_allclose(ab[:, 103:112], truth[:, 103:112], atol=0.5)
    bilinear = cv2.resize(small, (200, 120), interpolation=cv2.INTER_LINEAR)
    assert np.abs(ab - truth)[:, 95:107].mean() < 0.2 * np.abs(bilinear - truth)[:, 95:107].mean()
    np.testing.assert_array_equal(ab, upsample_ab(small, lightness, keyframe))  # same bits
    same = upsample_ab(truth, lightness, None)  # already full size: only the hints go in
    np.testing.assert_array_equal(same, truth)


class _OutOfMemoryAbove(ColorUNet):
    """A network that runs out of memory on batches larger than ``limit`` pictures."""

    limit = 1

    def forward(self, l: torch.Tensor, *rest: torch.Tensor | None) -> torch.Tensor:
        if len(l) > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().forward(l, *rest)


def test_out_of_memory_runs_one_picture_at_a_time_or_says_so() -> None:
    from vscolorize.core.errors import DeviceError

    torch.manual_seed(0)
    model = _OutOfMemoryAbove(TINY)
    lightness = [np.full((40, 56), v, np.float32) for v in (20.0, 50.0, 80.0)]
    keyframe = Keyframe(frame=0, points=(Point(x=0.3, y=0.6, color=Color(ab=(20.0, 5.0))),))
    together = Colorizer(ColorUNet(TINY), "cpu")
    together.models[0].load_state_dict(model.state_dict())
    expected = together.predict(lightness, [keyframe, None, keyframe])
    got = Colorizer(model, "cpu").predict(lightness, [keyframe, None, keyframe])
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
    model.limit = 0
    with pytest.raises(DeviceError, match=r"ran out of memory .* one 48x32 picture: free memory on it$"):
        Colorizer(model, "cpu").predict(lightness[:1], [None])
