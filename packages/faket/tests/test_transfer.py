"""Style transfer: Gram matrices and losses against hand computation, one step, seeds, bad input."""

import json

import numpy as np
import pytest
import torch

from faket.style import MultiScaleTextureModel, normalised_weights
from faket.transfer import (
    gram_matrix,
    match_mean_std,
    minmax_scale,
    scaled_mse,
    style_transfer,
    transfer_losses,
    write_trace,
)


def _stacks(n=3, h=36, w=32, seed=0):
    rng = np.random.default_rng(seed)
    content = rng.normal(5.0, 2.0, (n, h, w)).astype(np.float32)
    # the style: smooth blobs, a different texture
    base = rng.normal(size=(n, h, w))
    k = np.ones(5) / 5
    for ax in (1, 2):
        base = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), ax, base)
    style = (100 + 30 * base).astype(np.float32)
    return content, style


def test_gram_matrix_by_hand():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(2, 3, 4, 5))
    g = gram_matrix(torch.from_numpy(f)).numpy()
    for b in range(2):
        for i in range(3):
            for j in range(3):
                assert g[b, i, j] == pytest.approx(sum(f[b, i, y, x] * f[b, j, y, x] for y in range(4) for x in range(5)) / 20)


def test_scaled_mse_by_hand():
    a = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    b = torch.tensor([[1.0, 0.0, 6.0], [1.0, -1.0, 0.5]])
    # (0 + 4 + 9) / (0 + 2 + 3) and (1 + 1 + 0.25) / (1 + 1 + 0.5)
    np.testing.assert_allclose(scaled_mse(a, b).numpy(), [13 / 5, 2.25 / 2.5], rtol=1e-6)


def test_paper_style_weights_normalised():
    w = normalised_weights([256, 64, 16, 4, 1])
    assert sum(w) == pytest.approx(1.0)
    assert w[0] == pytest.approx(256 / 341) and w[4] == pytest.approx(1 / 341)


def test_losses_by_hand():
    model = MultiScaleTextureModel(levels=2, channels=3, seed=2)
    gen = torch.Generator().manual_seed(0)
    img, cimg, simg = (torch.rand(2, 1, 8, 8, generator=gen) for _ in range(3))
    cf = model(cimg, ["scale1"])["scale1"]
    sf = model(simg, ["scale1", "scale2"])
    style_targets = {k: gram_matrix(v) for k, v in sf.items()}
    closs, sloss = transfer_losses(model, img, {"scale1": cf}, style_targets, {"scale1": 0.8, "scale2": 0.2}, 0.5, 2.0)
    f = {k: v.numpy().astype(np.float64) for k, v in model(img, ["scale1", "scale2"]).items()}

    def smse(a, b):
        d = (a - b).ravel()
        return (d**2).sum() / (np.abs(d).sum() + 1e-8)

    def gram(x):
        m = x.reshape(x.shape[0], -1)
        return m @ m.T / m.shape[1]

    for b in range(2):
        c_ref = 0.5 * smse(f["scale1"][b], cf[b].numpy())
        s_ref = 2.0 * sum(wt * smse(gram(f[k][b]), gram(sf[k][b].numpy())) for k, wt in (("scale1", 0.8), ("scale2", 0.2)))
        assert closs[b].item() == pytest.approx(c_ref, rel=1e-5)
        assert sloss[b].item() == pytest.approx(s_ref, rel=1e-5)


def test_one_style_step_moves_gram_toward_style():
    content, style = _stacks()
    model = MultiScaleTextureModel(levels=3, channels=8, seed=0)
    layers = list(model.layer_names)

    def style_distance(stack):
        x = torch.from_numpy(minmax_scale(stack))[:, None]
        s = torch.from_numpy(minmax_scale(style))[:, None]
        fx, fs = model(x, layers), model(s, layers)
        return sum(float(((gram_matrix(fx[k]) - gram_matrix(fs[k])) ** 2).sum()) for k in layers)

    # one small Adam step (a sign-gradient step: a descent direction), style term only, no EMA lag
    out = style_transfer(content, style, style_model=model, iterations=1, lr=0.005, ema_decay=0.0, content_weight=0.0,
                         match_style_stats=False, device="cpu")
    # compare in the [0, 1] scale of the optimisation: the output mapped back the same way as the content
    lo, hi = content.min(), content.max()
    out01 = (out.styled - lo) / (hi - lo)
    before = style_distance(content)
    after = style_distance(out01 * (hi - lo) + lo)
    assert after < before
    assert len(out.trace) == 1 and out.trace[0]["iteration"] == 1


def test_transfer_output_statistics_and_determinism(tmp_path):
    content, style = _stacks(n=3)
    kw = dict(style_model="weight-free", iterations=3, batch_size=2, device="cpu", trace_every=1)
    a = style_transfer(content, style, seed=0, **kw)
    b = style_transfer(content, style, seed=0, **kw)
    c = style_transfer(content, style, seed=1, **kw)
    assert a.styled.shape == content.shape and a.styled.dtype == np.float32
    np.testing.assert_array_equal(a.styled, b.styled)
    assert not np.array_equal(a.styled, c.styled)
    # per tilt: the style tilt's mean and spread
    np.testing.assert_allclose(a.styled.mean(axis=(1, 2)), style.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(a.styled.std(axis=(1, 2)), style.std(axis=(1, 2)), rtol=1e-4)
    # batches of 2 + 1 tilts, 3 iterations each
    assert [(r["tilts"], r["iteration"]) for r in a.trace] == [([0, 2], 1), ([0, 2], 2), ([0, 2], 3), ([2, 3], 1), ([2, 3], 2), ([2, 3], 3)]
    # batching does not change the result: losses are per tilt and Adam is elementwise
    d = style_transfer(content, style, seed=0, **{**kw, "batch_size": 1})
    np.testing.assert_allclose(d.styled, a.styled, atol=1e-4)
    path = write_trace(tmp_path / "trace.json", a)
    data = json.loads(path.read_text())
    assert data["config"]["lr"] == 0.15 and data["config"]["ema_decay"] == 0.99 and len(data["trace"]) == 6


def test_multi_scale_schedule():
    content, style = _stacks(n=1, h=64, w=64)
    r = style_transfer(content, style, iterations=2, scales=32, device="cpu")
    assert r.config["scales"] == [[32, 32], [64, 64]]
    assert sorted({tuple(t["scale"]) for t in r.trace}) == [(32, 32), (64, 64)]
    assert r.styled.shape == (1, 64, 64)


def test_match_mean_std():
    rng = np.random.default_rng(0)
    x, ref = rng.normal(size=(2, 5, 5)), rng.normal(3, 4, size=(2, 7, 6))
    y = match_mean_std(x, ref)
    np.testing.assert_allclose(y.mean(axis=(1, 2)), ref.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(y.std(axis=(1, 2)), ref.std(axis=(1, 2)), rtol=1e-5)


def test_bad_input():
    content, style = _stacks(n=3)
    with pytest.raises(ValueError, match="style: 2 tilts but content has 3"):
        style_transfer(content, style[:2], iterations=1)
    bad = content.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"content: 1 non-finite values \(first at tilt/row/column \(1, 2, 3\)\)"):
        style_transfer(bad, style, iterations=1)
    with pytest.raises(ValueError, match="style: the stack is constant"):
        style_transfer(content, np.ones_like(style), iterations=1)
    with pytest.raises(ValueError, match="content: shape"):
        style_transfer(content[0], style, iterations=1)
    with pytest.raises(ValueError, match="style_layers: 'relu1_1' is not a layer of the weight-free"):
        style_transfer(content, style, style_layers=["relu1_1"], iterations=1)
    with pytest.raises(ValueError, match="style_weights: 2 weights for 5 style layers"):
        style_transfer(content, style, style_weights=[1, 2], iterations=1)
    with pytest.raises(ValueError, match="device: 'tpu'"):
        style_transfer(content, style, device="tpu", iterations=1)
    with pytest.raises(ValueError, match="lr"):
        style_transfer(content, style, lr=-1, iterations=1)


def test_several_devices_path_on_cpu():
    """Batches spread over two 'devices' (both the CPU here; GPUs on a machine that has them)."""
    content, style = _stacks(n=5)
    kw = dict(iterations=2, batch_size=2, seed=0)
    two = style_transfer(content, style, device="cpu,cpu", **kw)
    one = style_transfer(content, style, device="cpu", **kw)
    assert two.config["devices"] == ["cpu", "cpu"]
    np.testing.assert_array_equal(two.styled, one.styled)
    assert [r["tilts"] for r in two.trace if r["iteration"] == 2] == [[0, 2], [2, 4], [4, 5]]
