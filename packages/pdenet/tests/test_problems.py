"""Problems, samplers and closed forms, checked against Monte Carlo and quadrature."""

import math

import numpy as np
import pytest
import torch

from pdenet import closed_form
from pdenet.problems import (
    Box,
    KolmogorovProblem,
    allen_cahn,
    get_problem,
    hjb_cole_hopf,
    hjb_cole_hopf_quadrature,
    list_problems,
)
from pdenet.sde import BrownianMotion, EulerSDE, GeometricBrownianMotion, OrnsteinUhlenbeck


def _mc_check(problem, n_points=4, n_samples=100_000, seed=0, z=4.5):
    """Closed form within z standard errors of a Monte Carlo estimate at random points."""
    gen = torch.Generator().manual_seed(seed)
    t, x, p = problem.sample_inputs(n_points, generator=gen, dtype=torch.float64)
    exact = problem.exact(t, x, p)
    for i in range(n_points):  # one point at a time keeps memory small in high dimension
        tt, xx, pp = t[i].expand(n_samples), x[i].expand(n_samples, -1), p[i].expand(n_samples, -1)
        y = problem.simulate_target(tt, xx, pp, generator=gen)
        se = y.std() / math.sqrt(n_samples)
        assert abs(float(y.mean() - exact[i])) <= z * float(se) + 1e-12, (float(y.mean()), float(exact[i]), float(se))


@pytest.mark.parametrize("name,kwargs", [
    ("heat_paraboloid", {"dim": 10}),
    ("heat_gaussian", {"dim": 150}),
    ("black_scholes_put", {}),
    ("black_scholes_call", {}),
])
def test_closed_forms_match_monte_carlo(name, kwargs):
    _mc_check(get_problem(name, **kwargs), n_samples=3_000 if name == "heat_gaussian" else 40_000)


def test_black_scholes_put_call_parity():
    put, call = get_problem("black_scholes_put"), get_problem("black_scholes_call")
    gen = torch.Generator().manual_seed(3)
    t, x, p = put.sample_inputs(100, generator=gen, dtype=torch.float64)
    lhs = call.exact(t, x, p) - put.exact(t, x, p)
    rhs = x[:, 0] - p[:, 1] * torch.exp(-0.05 * t)
    assert torch.allclose(lhs, rhs, atol=1e-10)


def test_ornstein_uhlenbeck_exact_matches_euler_and_moments():
    ou = OrnsteinUhlenbeck(2, theta=1.5, mean=0.3, sigma=0.7)
    gen = torch.Generator().manual_seed(0)
    n = 100_000
    x0 = torch.tensor([[1.0, -1.0]], dtype=torch.float64).expand(n, 2)
    t = 0.8
    exact = ou.sample(x0, t, generator=gen)
    euler = ou.path(x0, t, n_steps=50, generator=gen).x[-1]
    mean = 0.3 + (x0[0] - 0.3) * math.exp(-1.5 * t)
    var = 0.49 * (1 - math.exp(-3.0 * t)) / 3.0
    for sample in (exact, euler):
        assert torch.allclose(sample.mean(0), mean, atol=5 * math.sqrt(var / n) + 2e-3)
        assert torch.allclose(sample.var(0), torch.full((2,), var, dtype=torch.float64), rtol=0.03)


def test_correlated_gbm_log_moments():
    corr = np.array([[1.0, 0.6], [0.6, 1.0]])
    gbm = GeometricBrownianMotion(2, mu=0.05, sigma=[0.2, 0.3], correlation=corr)
    gen = torch.Generator().manual_seed(1)
    n = 200_000
    x0 = torch.full((n, 2), 10.0, dtype=torch.float64)
    s = gbm.sample(x0, 1.0, generator=gen)
    logs = torch.log(s / 10.0)
    assert torch.allclose(logs.mean(0), torch.tensor([0.05 - 0.02, 0.05 - 0.045], dtype=torch.float64), atol=3e-3)
    c = torch.corrcoef(logs.T)[0, 1]
    assert abs(float(c) - 0.6) < 0.01
    # the stepped path (exact transitions) has the right mean E S_T = S_0 e^{mu T}
    path = gbm.path(x0[:50_000], 1.0, n_steps=50, generator=gen).x[-1]
    assert torch.allclose(path.mean(0), torch.full((2,), 10.0 * math.exp(0.05), dtype=torch.float64), rtol=5e-3)


def test_euler_sde_converges_to_exact_gbm():
    gbm = GeometricBrownianMotion(1, mu=0.1, sigma=0.3)
    eul = EulerSDE(1, drift=lambda x, p: 0.1 * x, diffusion=lambda x, p: 0.3 * x)
    gen = torch.Generator().manual_seed(2)
    n = 100_000
    x0 = torch.ones((n, 1), dtype=torch.float64)
    a = gbm.sample(x0, 1.0, generator=gen)
    b = eul.sample(x0, 1.0, generator=gen, n_steps=100)
    assert abs(float(a.mean() - b.mean())) < 0.01
    assert abs(float(a.std() - b.std())) < 0.01


def test_hjb_cole_hopf_reference():
    # quadrature against the chi-square law: no sampling error
    assert abs(hjb_cole_hopf_quadrature() - 4.590162) < 5e-6
    value, half = hjb_cole_hopf(n_samples=200_000, seed=0)
    assert half < 2e-3
    assert abs(value - 4.590162) < half * 1.5 + 1e-4
    # lambda -> 0 recovers the heat equation: u = E g(X_T)
    small, _ = hjb_cole_hopf(lam=1e-4, n_samples=100_000, dim=10)
    gen = torch.Generator().manual_seed(0)
    w = math.sqrt(2.0) * torch.randn((100_000, 10), generator=gen, dtype=torch.float64)
    heat = float(torch.log((1 + (w**2).sum(-1)) / 2).mean())
    assert abs(small - heat) < 0.01


def test_hjb_reference_solution_from_problem():
    prob = get_problem("hjb")
    value, half = prob.reference_solution(n_samples=100_000)
    assert abs(value - 4.590162) < 3 * half


def test_burgers_type_solution_solves_pde():
    d, sigma = 5, 1.3
    prob = get_problem("burgers_type", dim=d, sigma=sigma)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((64, d), generator=gen, dtype=torch.float64).requires_grad_(True)
    t = torch.rand(64, generator=gen, dtype=torch.float64).requires_grad_(True)
    u = prob.exact_solution(t, x)
    ut, ux = torch.autograd.grad(u.sum(), (t, x), create_graph=True)
    lap = sum(torch.autograd.grad(ux[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(d))
    residual = ut + 0.5 * sigma**2 * lap + prob.f(t, x, u, sigma * ux)
    assert residual.abs().max() < 1e-12
    # terminal condition
    assert torch.allclose(prob.exact_solution(torch.full((64,), prob.horizon, dtype=torch.float64), x), prob.g(x))


def test_allen_cahn_reference_only_for_published_setting():
    assert allen_cahn().reference_solution() == (0.052802, None)
    with pytest.raises(ValueError, match="no reference"):
        allen_cahn(dim=10).reference_solution()


def test_registry_and_bad_input():
    names = [info.name for info in list_problems()]
    assert {"heat_paraboloid", "heat_gaussian", "black_scholes_put", "black_scholes_call", "basket_option",
            "hjb", "allen_cahn", "burgers_type"} <= set(names)
    with pytest.raises(ValueError, match="unknown problem 'nope'"):
        get_problem("nope")
    with pytest.raises(ValueError, match="does not accept"):
        get_problem("heat_paraboloid", bogus=1)
    with pytest.raises(ValueError, match="sigma_range must be positive"):
        get_problem("heat_paraboloid", sigma_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="horizon must be positive"):
        get_problem("hjb", horizon=0.0)
    with pytest.raises(ValueError, match="horizon must be positive"):
        get_problem("allen_cahn", horizon=-1)
    with pytest.raises(ValueError, match="sigma must be positive"):
        BrownianMotion(3, sigma=-1.0)
    with pytest.raises(ValueError, match="sigma must be a scalar or a vector of length dim=3"):
        BrownianMotion(3, sigma=[1.0, 2.0])
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        get_problem("heat_gaussian", dim=0)
    with pytest.raises(ValueError, match="t_range"):
        get_problem("heat_paraboloid", t_range=(0.0, 0.0))
    with pytest.raises(ValueError, match="correlation must be positive definite"):
        GeometricBrownianMotion(2, correlation=[[1.0, 2.0], [2.0, 1.0]])


def test_dimension_mismatch_is_reported():
    prob = get_problem("heat_paraboloid", dim=4)
    t = torch.zeros(3)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 4\)"):
        prob.exact(t, torch.zeros(3, 5), torch.ones(3, 1))
    with pytest.raises(ValueError, match="p is missing"):
        prob.exact(t, torch.zeros(3, 4), None)
    with pytest.raises(ValueError, match="x_domain has dimension 2 but the SDE has dim=3"):
        KolmogorovProblem("bad", BrownianMotion(3), lambda x, p: x.sum(-1), Box.cube(2, 0, 1), (0.0, 1.0))


def test_heat_gaussian_closed_form_is_the_convolution():
    # one-dimensional check of the formula by quadrature
    x, t, s, a = 0.7, 0.4, 1.2, 0.8
    v = s**2 * t
    y = np.linspace(-12, 12, 200_001)
    dens = np.exp(-(y**2) / (2 * v)) / math.sqrt(2 * math.pi * v)
    quad = np.trapezoid(np.exp(-a * (x + y) ** 2) * dens, y)
    cf = closed_form.heat_gaussian(torch.tensor([t], dtype=torch.float64), torch.tensor([[x]], dtype=torch.float64), s, a)
    assert abs(float(cf) - quad) < 1e-10
