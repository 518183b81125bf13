"""The bracket against exact maxima of piecewise-linear networks in 1-D and 2-D.

The linear regions are enumerated here, independently of the package: starting from the box,
every region is split along the zero set of each hidden neuron (affine on the region because
the activation pattern of all earlier layers is constant there). On the final regions the
networks are affine, so max |f - g| is attained at a region vertex.
"""

import numpy as np
import pytest
import torch

from uniformnn import Box, ReLUNetwork, sup_norm_bracket, teacher_network


def params(net):
    return [(w.detach().double().numpy(), b.detach().double().numpy()) for w, b in
            ((lin.weight, lin.bias) for lin in net.layers)]


def pre_activations(layers, x, k):
    """Pre-activation of layer k at points x (n, d), in float64."""
    z = x
    for j, (w, b) in enumerate(layers):
        h = z @ w.T + b
        if j == k:
            return h
        z = np.maximum(h, 0)
    raise IndexError(k)


def evaluate(layers, x):
    return pre_activations(layers, x, len(layers) - 1)[:, 0]


def breakpoints_1d(layers, a, b):
    pts = np.array([a, b], dtype=float)
    for k in range(len(layers) - 1):
        v = pre_activations(layers, pts[:, None], k)  # (n_pts, n_k), affine between pts
        new = []
        for i in range(len(pts) - 1):
            va, vb = v[i], v[i + 1]
            cross = (va * vb) < 0
            t = va[cross] / (va[cross] - vb[cross])
            new.extend(pts[i] + t * (pts[i + 1] - pts[i]))
        pts = np.unique(np.concatenate([pts, new]))
    return pts


def exact_max_1d(nets, a, b):
    layer_sets = [params(n) for n in nets]
    pts = np.unique(np.concatenate([breakpoints_1d(ls, a, b) for ls in layer_sets]))
    h = evaluate(layer_sets[0], pts[:, None])
    if len(layer_sets) > 1:
        h = h - evaluate(layer_sets[1], pts[:, None])
    return float(np.abs(h).max()), len(pts)


def split_polygon(poly, vals):
    """Split a convex polygon (m, 2) by the zero line of an affine function with vertex values."""
    pos, neg = [], []
    m = len(poly)
    for i in range(m):
        p, q = poly[i], poly[(i + 1) % m]
        vp, vq = vals[i], vals[(i + 1) % m]
        if vp >= 0:
            pos.append(p)
        if vp <= 0:
            neg.append(p)
        if (vp > 0 > vq) or (vp < 0 < vq):
            x = p + vp / (vp - vq) * (q - p)
            pos.append(x)
            neg.append(x)
    return [np.array(part) for part in (pos, neg) if len(part) >= 3]


def regions_2d(layer_sets, lower, upper):
    polys = [np.array([[lower[0], lower[1]], [upper[0], lower[1]], [upper[0], upper[1]],
                       [lower[0], upper[1]]], dtype=float)]
    for layers in layer_sets:
        for k in range(len(layers) - 1):
            for j in range(layers[k][0].shape[0]):
                out = []
                for poly in polys:
                    v = pre_activations(layers, poly, k)[:, j]
                    if v.min() < 0 < v.max():
                        out.extend(split_polygon(poly, v))
                    else:
                        out.append(poly)
                polys = out
    return polys


def exact_max_2d(nets, lower, upper):
    layer_sets = [params(n) for n in nets]
    polys = regions_2d(layer_sets, lower, upper)
    verts = np.concatenate(polys)
    h = evaluate(layer_sets[0], verts)
    if len(layer_sets) > 1:
        h = h - evaluate(layer_sets[1], verts)
    return float(np.abs(h).max()), len(polys)


def test_enumeration_helpers_agree_with_dense_grid():
    # the reference itself: the region maximum dominates a dense grid and is attained closely
    f, g = teacher_network(2, (8, 8), seed=3), teacher_network(2, (8,), seed=4)
    exact, n_regions = exact_max_2d([f, g], (-0.5, -0.5), (0.5, 0.5))
    assert n_regions > 10
    grid = np.stack(np.meshgrid(*[np.linspace(-0.5, 0.5, 801)] * 2), -1).reshape(-1, 2)
    with torch.no_grad():
        x = torch.tensor(grid)
        dense = float((f(x) - g(x)).abs().max())
    assert dense <= exact + 1e-12
    assert dense >= exact - 1e-2


@pytest.mark.parametrize(("seed", "method"), [(0, "crown"), (1, "crown"), (2, "interval")])
def test_bracket_contains_exact_max_1d(seed, method):
    hidden = (32, 32, 32, 32) if method == "crown" else (32, 32)
    f = teacher_network(1, hidden, seed=10 + seed)
    g = teacher_network(1, (16, 16), seed=20 + seed)
    exact, _ = exact_max_1d([f, g], -0.5, 0.5)
    r = sup_norm_bracket(f, g, rtol=1e-3, time_budget=30, method=method, seed=seed,
                         n_random=256, steps=20)
    assert r.status == "converged"
    assert r.lower <= exact + 1e-12
    assert r.upper >= exact
    assert r.upper - r.lower <= 1e-3 * r.lower + 1e-15


def test_bracket_of_single_network_1d_on_sub_box():
    f = teacher_network(1, (32, 32), seed=5)
    exact, _ = exact_max_1d([f], -0.3, 0.1)
    r = sup_norm_bracket(f, None, Box((-0.3,), (0.1,)), rtol=1e-4, time_budget=30)
    assert r.lower <= exact + 1e-12 <= r.upper + 1e-12
    assert r.upper >= exact
    assert -0.3 <= r.argmax[0] <= 0.1


@pytest.mark.parametrize("seed", [0, 1])
def test_bracket_contains_exact_max_2d(seed):
    f = teacher_network(2, (12, 12), seed=30 + seed)
    g = teacher_network(2, (12, 12), seed=40 + seed)
    exact, n_regions = exact_max_2d([f, g], (-0.5, -0.5), (0.5, 0.5))
    assert n_regions > 50
    r = sup_norm_bracket(f, g, rtol=1e-3, time_budget=30, seed=seed, n_random=256, steps=20)
    assert r.status == "converged"
    assert r.lower <= exact + 1e-12
    assert r.upper >= exact
    # the reported point really attains the lower bound
    with torch.no_grad():
        x = torch.tensor(r.argmax[None])
        assert abs(float((f(x) - g(x)).abs()) - r.lower) < 1e-12


def test_bracket_contains_exact_max_2d_student_like_pair():
    # a near-copy (small error relative to the functions) is the hard, realistic case
    f = teacher_network(2, (16, 16), seed=7)
    gen = torch.Generator().manual_seed(0)
    ws = [lin.weight.detach() + 0.01 * torch.randn(lin.weight.shape, generator=gen, dtype=torch.float64)
          for lin in f.layers]
    bs = [lin.bias.detach() for lin in f.layers]
    g = ReLUNetwork(ws, bs)
    exact, _ = exact_max_2d([f, g], (-0.5, -0.5), (0.5, 0.5))
    r = sup_norm_bracket(f, g, rtol=1e-3, time_budget=30, n_random=256, steps=20)
    assert r.lower <= exact + 1e-12
    assert r.upper >= exact
    assert r.rel_gap <= 1e-3


def test_float32_student_certified_in_exact_arithmetic():
    # float32 weights are converted exactly; the bound holds for the float64 evaluation
    f = teacher_network(1, (32, 32), seed=8)
    g = ReLUNetwork([lin.weight.detach().float() for lin in teacher_network(1, (32,), seed=9).layers],
                    [lin.bias.detach().float() for lin in teacher_network(1, (32,), seed=9).layers])
    assert g.layers[0].weight.dtype == torch.float32
    exact, _ = exact_max_1d([f, g], -0.5, 0.5)
    r = sup_norm_bracket(f, g, rtol=1e-4, time_budget=30)
    assert r.lower <= exact + 1e-12
    assert r.upper >= exact


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bracket_contains_exact_max_2d_on_2_32_32_1_pairs(seed):
    f = teacher_network(2, (32, 32), seed=50 + seed)
    g = teacher_network(2, (32, 32), seed=60 + seed)
    exact, n_regions = exact_max_2d([f, g], (-0.5, -0.5), (0.5, 0.5))
    assert n_regions > 200
    r = sup_norm_bracket(f, g, rtol=1e-3, time_budget=120, seed=seed)
    assert r.lower <= exact + 1e-12
    assert r.upper >= exact
    assert r.rel_gap <= 1e-3
