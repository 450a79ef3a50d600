from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import color as skcolor

from vscolorize.core.color import (
    AB_SCALE,
    denormalize_ab,
    fit_chroma,
    gray_to_l,
    l_to_gray,
    lab_planes_to_srgb,
    lab_to_srgb,
    normalize_ab,
    normalize_l,
    srgb_to_l,
    srgb_to_lab,
)


@pytest.fixture
def rgb() -> np.ndarray:
    rng = np.random.default_rng(1)
    values = rng.random((16, 24, 3))
    values[0, :8] = [
        [0, 0, 0],
        [1, 1, 1],
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0.5, 0.5, 0.5],
        [0.01, 0.02, 0.03],
        [0.04, 0.04, 0.04],
    ]
    return values


def test_srgb_to_lab_matches_skimage(rgb: np.ndarray) -> None:
    np.testing.assert_allclose(srgb_to_lab(rgb), skcolor.rgb2lab(rgb), atol=2e-3)


def test_lab_to_srgb_matches_skimage(rgb: np.ndarray) -> None:
    lab = skcolor.rgb2lab(rgb)
    np.testing.assert_allclose(lab_to_srgb(lab), skcolor.lab2rgb(lab), atol=1e-4)


def test_known_values() -> None:
    white = srgb_to_lab(np.array([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(white, [100, 0, 0], atol=0.01)  # as in skimage
    red = srgb_to_lab(np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(red, [53.24, 80.09, 67.20], atol=0.02)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_numpy(rgb: np.ndarray, dtype: type) -> None:
    x = rgb.astype(dtype)
    back = lab_to_srgb(srgb_to_lab(x), gamut="none")
    np.testing.assert_allclose(back, x, atol=1e-9 if dtype == np.float64 else 2e-5)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_numpy_dtype_and_shape_kept(dtype: type) -> None:
    x = np.full((2, 5, 7, 3), 0.3, dtype)
    lab = srgb_to_lab(x)
    assert lab.dtype == dtype and lab.shape == x.shape
    assert lab_to_srgb(lab).dtype == dtype


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_torch_dtype_shape_and_values(rgb: np.ndarray, dtype: torch.dtype) -> None:
    t = torch.from_numpy(rgb).permute(2, 0, 1)[None].repeat(2, 1, 1, 1).to(dtype)
    lab = srgb_to_lab(t)
    assert lab.dtype == dtype and lab.shape == t.shape
    expected = skcolor.rgb2lab(t[0].double().permute(1, 2, 0).numpy())
    tolerance = {torch.float16: 0.2, torch.bfloat16: 1.0}.get(dtype, 2e-3)
    np.testing.assert_allclose(lab[1].double().permute(1, 2, 0).numpy(), expected, atol=tolerance)
    assert lab_to_srgb(lab).dtype == dtype


def test_torch_channel_axis_is_minus_three() -> None:
    t = torch.rand(3, 4, 5, dtype=torch.float64)
    lab = srgb_to_lab(t)
    np.testing.assert_allclose(
        lab.permute(1, 2, 0).numpy(), srgb_to_lab(t.permute(1, 2, 0).numpy()), atol=1e-12
    )


def test_gradcheck() -> None:
    rgb = (torch.rand(1, 3, 3, 4, dtype=torch.float64) * 0.9 + 0.05).requires_grad_()
    assert torch.autograd.gradcheck(srgb_to_lab, (rgb,))
    lab = srgb_to_lab(rgb.detach()).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: lab_to_srgb(x, gamut="none"), (lab,))


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"srgb_to_lab: expected an array of shape \(\.\.\., 3\)"):
        srgb_to_lab(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="expected a tensor of shape"):
        srgb_to_lab(torch.zeros(4, 4, 3))
    with pytest.raises(TypeError, match="floating-point"):
        srgb_to_lab(np.zeros((4, 3), np.uint8))
    with pytest.raises(ValueError, match="gamut must be"):
        lab_to_srgb(np.zeros((1, 3)), gamut="wrap")  # type: ignore[arg-type]


def test_fit_chroma_keeps_lightness_and_hue() -> None:
    lab = np.array([[50.0, 120.0, -90.0], [90.0, -100.0, 100.0], [60.0, 5.0, 5.0]])
    fitted = fit_chroma(lab)
    rgb = lab_to_srgb(fitted, gamut="none")
    assert rgb.min() >= -1e-5 and rgb.max() <= 1 + 1e-5
    np.testing.assert_allclose(fitted[:, 0], lab[:, 0])
    np.testing.assert_allclose(fitted[:, 1] * lab[:, 2], fitted[:, 2] * lab[:, 1], atol=1e-9)
    assert (np.abs(fitted[:2, 1:]) < np.abs(lab[:2, 1:])).all()  # out of gamut: reduced
    np.testing.assert_array_equal(fitted[2], lab[2])  # in gamut: untouched
    # it reduces only as much as needed: 2 % more chroma leaves the gamut (the table it reads the
    # boundary from keeps 1.5 % inside it)
    more = fitted[:2].copy()
    more[:, 1:] *= 1.02
    outside = lab_to_srgb(more, gamut="none")
    assert ((outside < -1e-5) | (outside > 1 + 1e-5)).any(axis=1).all()


def test_chroma_gamut_keeps_lightness_where_clip_does_not() -> None:
    lab = np.array([[[70.0, 90.0, 80.0]]])
    l_chroma = srgb_to_lab(lab_to_srgb(lab, gamut="chroma"))[..., 0]
    l_clip = srgb_to_lab(lab_to_srgb(lab, gamut="clip"))[..., 0]
    assert abs(l_chroma.item() - 70) < 0.05 < abs(l_clip.item() - 70)


def test_srgb_to_l_agrees_with_srgb_to_lab(rgb: np.ndarray) -> None:
    np.testing.assert_allclose(srgb_to_l(rgb), srgb_to_lab(rgb)[..., 0], atol=1e-9)
    assert srgb_to_l(rgb.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="srgb_to_l: expected an array of shape"):
        srgb_to_l(np.zeros((4, 4)))


def test_l_to_gray_is_the_gray_whose_lightness_it_is() -> None:
    lum = np.linspace(0, 100, 201, dtype=np.float32).reshape(3, 67)
    gray = l_to_gray(lum)
    assert gray.shape == lum.shape and gray.dtype == np.float32
    np.testing.assert_allclose(gray_to_l(gray), lum, atol=1e-2)  # float32 near black
    np.testing.assert_allclose(l_to_gray(np.float32([0, 100])), [0, 1], atol=1e-5)


def test_gray_to_l_agrees_with_srgb_to_lab() -> None:
    g = np.linspace(0, 1, 101, dtype=np.float32)
    np.testing.assert_allclose(gray_to_l(g), srgb_to_lab(np.stack([g] * 3, -1))[:, 0], atol=1e-4)


def test_model_normalization() -> None:
    lum = torch.tensor([0.0, 50.0, 100.0])
    assert normalize_l(lum).tolist() == [-0.5, 0.0, 0.5]
    ab = torch.tensor([-110.0, 55.0])
    assert normalize_ab(ab).tolist() == [-1.0, 0.5]
    assert torch.equal(denormalize_ab(normalize_ab(ab)), ab)
    assert AB_SCALE == 110


@pytest.mark.cuda
def test_cuda_matches_cpu(rgb: np.ndarray) -> None:
    t = torch.from_numpy(rgb).permute(2, 0, 1)[None].float()
    torch.testing.assert_close(srgb_to_lab(t.cuda()).cpu(), srgb_to_lab(t), atol=1e-3, rtol=0)


@pytest.mark.parametrize("shape", [(3,), (7, 3), (16, 24, 3), (2, 5, 7, 3)])
def test_float32_lab_to_srgb_through_opencv_matches_skimage(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(2)
    rgb = rng.random(shape)
    lab = skcolor.rgb2lab(rgb.reshape(-1, 3)).reshape(shape)
    out = lab_to_srgb(lab.astype(np.float32))
    assert out.dtype == np.float32 and out.shape == shape
    np.testing.assert_allclose(out, skcolor.lab2rgb(lab.reshape(-1, 3)).reshape(shape), atol=5e-4)
    assert lab_to_srgb(np.zeros((0, 3), np.float32)).shape == (0, 3)


def test_float32_lab_to_srgb_clamps_l_and_leaves_input_alone() -> None:
    lab = np.array([[120.0, 0, 0], [-5.0, 20, 30], [50.0, 150, -150]], np.float32)
    before = lab.copy()
    out = lab_to_srgb(lab)
    np.testing.assert_array_equal(lab, before)
    np.testing.assert_allclose(out, lab_to_srgb(lab.astype(np.float64)), atol=5e-4)
    chroma = lab_to_srgb(lab, gamut="chroma")
    np.testing.assert_allclose(chroma, lab_to_srgb(lab.astype(np.float64), gamut="chroma"), atol=5e-4)


def test_lab_planes_to_srgb_keeps_lightness_and_hue() -> None:
    rng = np.random.default_rng(3)
    lum = rng.uniform(0, 100, (40, 60)).astype(np.float32)
    ab = rng.uniform(-120, 120, (40, 60, 2)).astype(np.float32)
    rgb = lab_planes_to_srgb(lum, ab)
    assert rgb.dtype == np.float32 and rgb.shape == (40, 60, 3)
    assert rgb.min() >= 0 and rgb.max() <= 1
    back = srgb_to_lab(rgb.astype(np.float64))
    # L* is kept (the chroma went down instead) except at the very ends, where the table's
    # interpolation leaves a sliver of clipping
    assert np.percentile(np.abs(back[..., 0] - lum), 99) < 0.02
    # never more chroma than each pixel's own fit, often less: the neighbors' limits count too
    own = srgb_to_lab(lab_to_srgb(np.dstack([lum, ab]), gamut="chroma").astype(np.float64))
    assert (chroma_of(back) <= chroma_of(own) + 0.05).all()
    assert (chroma_of(back) < chroma_of(own) - 1).mean() > 0.3
    # hue kept where there is chroma left to measure it
    hue_in = np.arctan2(ab[..., 1], ab[..., 0])
    hue_out = np.arctan2(back[..., 2], back[..., 1])
    diff = np.angle(np.exp(1j * (hue_out - hue_in)))[chroma_of(back) > 10]
    assert np.percentile(np.abs(diff), 99) < 0.02
    # same bits for the same input
    np.testing.assert_array_equal(rgb, lab_planes_to_srgb(lum, ab))
    # colors inside the gamut: lab_to_srgb's own conversion, bit for bit
    muted = ab * np.float32(0.05)
    lab = np.dstack([np.clip(lum, 20, 80), muted])
    np.testing.assert_array_equal(lab_planes_to_srgb(lab[..., 0], muted), lab_to_srgb(lab, gamut="chroma"))


def chroma_of(lab: np.ndarray) -> np.ndarray:
    return np.hypot(lab[..., 1], lab[..., 2])


def test_a_color_beyond_the_gamut_does_not_follow_the_grain() -> None:
    """A dark, grainy area asked for more chroma than it can show: fitted pixel by pixel, the
    chroma would follow each grain of L*; a frame's conversion keeps it smooth."""
    rng = np.random.default_rng(8)
    lum = (12 + rng.normal(0, 2, (60, 80))).astype(np.float32)
    ab = np.broadcast_to(np.float32([40, 30]), (60, 80, 2))
    frame = srgb_to_lab(lab_planes_to_srgb(lum, ab).astype(np.float64))
    pixelwise = srgb_to_lab(lab_to_srgb(np.dstack([lum, ab]), gamut="chroma").astype(np.float64))

    def steps(lab: np.ndarray) -> float:
        """The median a*b* difference between horizontal neighbors."""
        return float(np.median(np.linalg.norm(np.diff(lab[..., 1:], axis=1), axis=-1)))

    assert steps(pixelwise) > 2  # a perceivable step between most neighbors
    assert steps(frame) < steps(pixelwise) / 3
    np.testing.assert_allclose(frame[..., 0], lum, atol=0.05)  # L* untouched


def _fit_by_search(lab: np.ndarray) -> np.ndarray:
    """The largest a*b* scale (to 2^-30) that stays in the gamut, through the formulas."""
    low, high = np.zeros(lab.shape[:-1]), np.ones(lab.shape[:-1])
    for _ in range(30):
        mid = (low + high) / 2
        rgb = lab_to_srgb(np.concatenate([lab[..., :1], lab[..., 1:] * mid[..., None]], -1), gamut="none")
        fits = ((rgb >= -1e-6) & (rgb <= 1 + 1e-6)).all(-1)
        low, high = np.where(fits, mid, low), np.where(fits, high, mid)
    return np.concatenate([lab[..., :1], lab[..., 1:] * low[..., None]], -1)


def test_fit_chroma_close_to_exact_search() -> None:
    rng = np.random.default_rng(4)
    lab = np.dstack([rng.uniform(5, 95, (30, 30)), rng.uniform(-120, 120, (30, 30, 2))])
    fast = fit_chroma(lab.astype(np.float32))
    exact = _fit_by_search(lab)
    assert fast.dtype == np.float32
    np.testing.assert_array_equal(fast[..., 0], lab[..., 0].astype(np.float32))
    ratio = np.hypot(*fast[..., 1:].transpose(2, 0, 1)) / np.hypot(*exact[..., 1:].transpose(2, 0, 1))
    # the interpolated table is a little off near the gamut's cusps, both ways
    assert ratio.min() > 0.97 and ratio.max() < 1.06 and abs(np.median(ratio) - 0.99) < 0.01


def test_chroma_table_is_the_encoded_gamut_boundary() -> None:
    # the table is bisected in linear light; each entry must be the boundary the encoded color
    # shows: its chroma inside the gamut, a step beyond (at every (L*, hue) below the cap) outside
    from vscolorize.core.color import _chroma_limits, _in_gamut, _to_srgb_unclipped

    table = _chroma_limits().astype(np.float64)
    rng = np.random.default_rng(5)
    rows, cols = rng.integers(0, table.shape[0], 400), rng.integers(0, table.shape[1], 400)
    lightness, hue = rows * 0.5, np.radians(cols.astype(np.float64))

    def fits(chroma: np.ndarray) -> np.ndarray:
        lab = np.stack([lightness, chroma * np.cos(hue), chroma * np.sin(hue)], -1)
        return np.asarray(_in_gamut(_to_srgb_unclipped(lab, -1, np)))

    limit = table[rows, cols]
    # 0 where not even gray fits: L* 100's white is a hair beyond 1 through the matrices
    colored = limit > 0
    assert colored.mean() > 0.9 and fits(limit * (1 - 1e-6))[colored].all()
    below_cap = limit < 199
    assert below_cap.mean() > 0.9 and not fits(limit + 1e-3)[below_cap].any()


def test_fit_chroma_same_table_for_torch_and_numpy() -> None:
    rng = np.random.default_rng(5)
    lab = np.dstack([rng.uniform(0, 100, (20, 30)), rng.uniform(-120, 120, (20, 30, 2))])
    t = torch.from_numpy(lab).permute(2, 0, 1)[None]
    fitted = fit_chroma(t)
    assert fitted.dtype == torch.float64 and fitted.shape == t.shape
    # OpenCV's hue (to 0.01 degree) and interpolation (1/32 of a cell) against torch's exact ones
    np.testing.assert_allclose(fitted[0].permute(1, 2, 0).numpy(), fit_chroma(lab), atol=0.05)
    shown = lab_to_srgb(t, gamut="chroma")[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(shown, lab_to_srgb(lab, gamut="chroma"), atol=2e-3)
    gray = torch.zeros(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    lab_to_srgb(gray, gamut="chroma").sum().backward()
    assert gray.grad is not None and torch.isfinite(gray.grad).all()


def test_fit_chroma_any_shape() -> None:
    rng = np.random.default_rng(6)
    lab = np.concatenate([rng.uniform(0, 100, (40000, 1)), rng.uniform(-120, 120, (40000, 2))], 1)
    lab = lab.astype(np.float32)  # one row of 40000 pixels: wider than OpenCV's remap takes at once
    rgb = lab_to_srgb(lab, gamut="chroma")
    np.testing.assert_array_equal(rgb, lab_to_srgb(lab.reshape(200, 200, 3), gamut="chroma").reshape(-1, 3))
    one = lab_planes_to_srgb(np.full((1, 1), 50, np.float32), np.full((1, 1, 2), 90, np.float32))
    assert one.shape == (1, 1, 3)
    assert lab_planes_to_srgb(np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32)).shape == (
        0,
        4,
        3,
    )
