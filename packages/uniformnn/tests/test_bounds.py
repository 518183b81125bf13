"""Soundness and tightness of interval and CROWN bounds against dense sampling."""

import pytest
import torch

from uniformnn import (
    crown_bounds,
    difference_layers,
    interval_bounds,
    network_bounds,
    random_relu_network,
    teacher_network,
)


def sampled_extremes(fn, lo, hi, n=4000, seed=0):
    gen = torch.Generator().manual_seed(seed)
    b, d = lo.shape
    u = torch.rand(b, n, d, generator=gen, dtype=torch.float64)
    # include the box corners (extremes of piecewise-linear maps are often there)
    x = lo[:, None] + u * (hi - lo)[:, None]
    with torch.no_grad():
        v = fn(x.reshape(-1, d)).reshape(b, n)
    return v.min(1).values, v.max(1).values


@pytest.mark.parametrize("d", [1, 3, 6])
def test_bounds_contain_sampled_range_on_random_boxes(d):
    f = teacher_network(d, (32, 32, 32), seed=d)
    g = random_relu_network([d, 16, 1], seed=d + 1)
    layers = difference_layers(f, g)
    gen = torch.Generator().manual_seed(1)
    c = torch.rand(64, d, generator=gen, dtype=torch.float64) - 0.5
    r = torch.rand(64, d, generator=gen, dtype=torch.float64) * 0.2
    lo, hi = c - r, c + r
    smin, smax = sampled_extremes(lambda x: (f(x) - g(x))[:, 0], lo, hi)
    ub = crown_bounds(layers, lo, hi)
    ibp_lo, ibp_hi = interval_bounds(layers, lo, hi)[-1]
    assert (ub[:, 0] >= smax).all() and (-ub[:, 1] <= smin).all()
    assert (ibp_hi[:, 0] >= smax).all() and (ibp_lo[:, 0] <= smin).all()
    # CROWN is intersected with the interval bound, so never looser
    assert (ub[:, 0] <= ibp_hi[:, 0] + 1e-12).all()


def test_difference_layers_compute_f_minus_g_exactly():
    f = random_relu_network([3, 8, 8, 8, 1], seed=0)
    g = random_relu_network([3, 5, 1], seed=1)
    affine = random_relu_network([3, 1], seed=2)  # no hidden layer
    x = torch.rand(100, 3, dtype=torch.float64) - 0.5
    for a, b in ((f, g), (g, f), (f, affine), (affine, g)):
        layers = difference_layers(a, b)
        z = x
        for k, (w, bias) in enumerate(layers):
            z = z @ w.T + bias
            if k < len(layers) - 1:
                z = torch.relu(z)
        with torch.no_grad():
            assert torch.allclose(z, a(x) - b(x), atol=1e-13)


def test_network_bounds_of_affine_map_are_exact():
    net = random_relu_network([2, 1], seed=5)
    (w, b), = net.affine_layers()
    lo, hi = network_bounds(net, ((-1.0, 0.0), (1.0, 2.0)), method="crown")
    corners = torch.tensor([[-1.0, 0.0], [-1.0, 2.0], [1.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    vals = (corners @ w.T + b)[:, 0]
    assert lo[0] == pytest.approx(float(vals.min()), abs=1e-12)
    assert hi[0] == pytest.approx(float(vals.max()), abs=1e-12)
    assert lo[0] <= float(vals.min()) and hi[0] >= float(vals.max())


def test_bounds_shrink_to_the_value_on_tiny_boxes():
    f = teacher_network(2, seed=3)
    x0 = torch.tensor([[0.1, -0.2]], dtype=torch.float64)
    lo, hi = network_bounds(f, (x0[0] - 1e-9, x0[0] + 1e-9))
    with torch.no_grad():
        v = float(f(x0))
    assert lo[0] <= v <= hi[0] and hi[0] - lo[0] < 1e-6


def test_bad_boxes():
    layers = difference_layers(random_relu_network([2, 3, 1], seed=0),
                               random_relu_network([2, 3, 1], seed=1))
    with pytest.raises(ValueError, match="shape"):
        crown_bounds(layers, torch.zeros(1, 3), torch.ones(1, 3))
    with pytest.raises(ValueError, match="exceeds"):
        crown_bounds(layers, torch.ones(1, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="method"):
        network_bounds(random_relu_network([2, 1]), ((0, 0), (1, 1)), method="zonotope")
