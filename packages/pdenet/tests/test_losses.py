"""Feynman-Kac and BSDE losses: unbiasedness and gradient variance near the solution."""

import math

import pytest
import torch

from pdenet.losses import bsde_loss, feynman_kac_loss, get_loss, gradient_variance
from pdenet.problems import get_problem


class NearExact(torch.nn.Module):
    """The exact solution plus a small trainable perturbation (a model 'near the solution')."""

    def __init__(self, problem, scale=0.05):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.problem = problem
        self.w = torch.nn.Parameter(torch.randn(problem.dim, generator=gen, dtype=torch.float64) / math.sqrt(problem.dim))
        self.a = torch.nn.Parameter(torch.tensor(scale, dtype=torch.float64))

    def forward(self, t, x, p):
        return self.problem.exact_solution(t, x, p) + self.a * torch.tanh(x @ self.w) * t


@pytest.mark.parametrize("name", ["heat_paraboloid", "black_scholes_put"])
def test_bsde_gradient_variance_is_lower_than_feynman_kac(name):
    problem = get_problem(name)
    model = NearExact(problem) if problem.dim > 1 else None
    if model is None:  # one-dimensional: perturb with a fixed profile
        model = NearExact(problem)
        with torch.no_grad():
            model.w.fill_(0.1)
    fk_var, _ = gradient_variance(model, problem, "feynman_kac", n_batches=24, batch_size=256)
    bsde_var, _ = gradient_variance(model, problem, "bsde", n_batches=24, batch_size=256, n_steps=16)
    det_var, _ = gradient_variance(model, problem, "bsde_detached", n_batches=24, batch_size=256, n_steps=16)
    assert bsde_var < 0.3 * fk_var, (bsde_var, fk_var)
    assert det_var < 0.3 * fk_var, (det_var, fk_var)


def test_bsde_loss_vanishes_at_the_solution_but_feynman_kac_does_not():
    problem = get_problem("heat_paraboloid", dim=5)
    model = NearExact(problem, scale=0.0)
    gen = torch.Generator().manual_seed(1)
    t, x, p = problem.sample_inputs(2000, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        fk = float(feynman_kac_loss(model, problem, t, x, p, generator=gen))
    losses = [float(bsde_loss(model, problem, t, x, p, generator=gen, n_steps=k).detach()) for k in (4, 16, 64)]
    assert losses[-1] < 0.02 * fk
    # the residual is the time-discretisation error of the Ito sum: O(1 / n_steps)
    assert losses[0] > losses[1] > losses[2]
    assert losses[0] / losses[2] == pytest.approx(16, rel=0.35)


def test_detached_control_variate_target_is_unbiased():
    # E[phi(X_t) - Ito sum] = u(t, x) for ANY integrand, here a deliberately wrong model
    problem = get_problem("black_scholes_put")
    model = NearExact(problem, scale=3.0)
    n = 100_000
    t = torch.full((n,), 0.7, dtype=torch.float64)
    x = torch.full((n, 1), 10.0, dtype=torch.float64)
    p = torch.tensor([[0.3, 10.5]], dtype=torch.float64).expand(n, 2)
    # loss = E (u(t,x) - target)^2 with u(t,x) constant over the batch: minimiser = mean target
    u0 = model(t[:1], x[:1], p[:1])
    loss_fn = get_loss("bsde_detached", 4)
    shifted = []
    for delta in (-0.01, 0.0, 0.01):
        shifted.append(float(loss_fn(lambda tt, xx, pp, d=delta: model(tt, xx, pp) + d, problem, t, x, p,
                                     torch.Generator().manual_seed(2))))
    # quadratic in delta: minimum at delta* = mean(target) - u0
    a2 = (shifted[2] + shifted[0] - 2 * shifted[1]) / (2 * 0.01**2)
    delta_star = -(shifted[2] - shifted[0]) / (2 * 0.01) / (2 * a2)
    exact = problem.exact(t[:1], x[:1], p[:1])
    assert abs(float(u0 + delta_star - exact)) < 0.01


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        get_loss("l1", 4)
    with pytest.raises(ValueError, match="applies to semilinear problems"):
        get_loss("deepbsde", 4)
