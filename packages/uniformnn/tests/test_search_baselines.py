"""Monte Carlo norms and the grid baselines against closed forms."""

import math

import pytest
import torch

from uniformnn import Box, error_norms, make_target, random_relu_network
from uniformnn.baselines import GridInterpolant, fit_baseline, grid_size


def test_error_norms_closed_form():
    # h(x) = |x_1| on [-0.5, 0.5]^2: E|h| = 1/4, (E h^2)^(1/2) = sqrt(1/12), max 1/2
    est = error_norms(make_target("abs", 2), n=2**18, seed=0)
    assert est["l1"] == pytest.approx(0.25, rel=5e-3)
    assert est["l2"] == pytest.approx(math.sqrt(1 / 12), rel=5e-3)
    assert 0.49 < est["linf_sampled"] <= 0.5


def test_grid_size():
    assert grid_size(100, 2) == 10 and grid_size(99, 2) == 9 and grid_size(1000, 3) == 10
    with pytest.raises(ValueError, match="needs m >= 4"):
        grid_size(3, 2, "linear")


def test_constant_interpolation_of_affine_function_has_known_sup_error():
    net = random_relu_network([2, 1], seed=0)  # affine a . x + b
    a = net.layers[0].weight.detach()[0].double()
    n = 7
    interp = GridInterpolant(net, n, "constant", Box.cube(2))
    # on each cell the error is a . (x - midpoint), maximal at a corner: sum |a_i| h / 2
    expected = float(a.abs().sum()) * (1.0 / n) / 2
    corners = torch.tensor([[-0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [0.5, -0.5]], dtype=torch.float64)
    with torch.no_grad():
        err = (net(corners)[:, 0] - interp(corners)).abs().max()
    assert float(err) == pytest.approx(expected, rel=1e-12)
    mc = error_norms(net, interp, Box.cube(2), n=2**16)
    assert mc["linf_sampled"] <= expected + 1e-12


@pytest.mark.parametrize("d", [1, 2, 3])
def test_linear_interpolation_reproduces_affine_functions(d):
    net = random_relu_network([d, 1], seed=d)
    interp = fit_baseline(net, 5**d, "linear", box=Box.cube(d))
    assert interp.n == 5
    x = torch.rand(500, d, dtype=torch.float64) - 0.5
    with torch.no_grad():
        assert torch.allclose(interp(x), net(x)[:, 0], atol=1e-13)


def test_linear_interpolation_is_exact_on_kinks_at_nodes():
    # |x_1| has its kink at 0, a grid node when n is odd: the interpolant is exact
    t = make_target("abs", 2)
    interp = fit_baseline(t, 9 * 9, "linear")
    x = torch.rand(1000, 2, dtype=torch.float64) - 0.5
    assert torch.allclose(interp(x), t(x), atol=1e-13)
    # and it is continuous and piecewise linear: first-order convergence is beaten by smooth fns
    smooth = make_target("sines", 1)
    e1 = error_norms(smooth, fit_baseline(smooth, 17, "linear"), n=2**14)["linf_sampled"]
    e2 = error_norms(smooth, fit_baseline(smooth, 33, "linear"), n=2**14)["linf_sampled"]
    assert e1 / e2 == pytest.approx(4.0, rel=0.15)  # O(h^2)
