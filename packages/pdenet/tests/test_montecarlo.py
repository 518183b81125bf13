"""Memory bounds of the Monte Carlo solver and of SDE sampling (the benchmark was OOM-killed)."""

import math

import pytest
import torch

from pdenet import MonteCarloSolver
from pdenet.problems import get_problem
from pdenet.sde import BrownianMotion, EulerSDE


def test_euler_sample_equals_last_state_of_path():
    # sample() keeps only the current state but draws the same random numbers as path()
    sde = EulerSDE(3, drift=lambda x, p: -0.5 * x, diffusion=lambda x, p: 0.2 + 0.1 * x.abs())
    x0 = torch.randn((500, 3), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a = sde.sample(x0, 0.7, generator=torch.Generator().manual_seed(4), n_steps=20)
    b = sde.path(x0, 0.7, generator=torch.Generator().manual_seed(4), n_steps=20).x[-1]
    assert torch.equal(a, b)


def test_exact_sampler_ignores_n_steps():
    # as documented, n_steps is ignored by exact samplers (one exact step, no stored path)
    bm = BrownianMotion(4, sigma=0.8, mu=0.1)
    x0 = torch.zeros((1000, 4), dtype=torch.float64)
    a = bm.sample(x0, 0.5, generator=torch.Generator().manual_seed(1), n_steps=1)
    b = bm.sample(x0, 0.5, generator=torch.Generator().manual_seed(1), n_steps=64)
    assert torch.equal(a, b)


def test_large_monte_carlo_call_runs_in_bounded_batches(monkeypatch):
    problem = get_problem("heat_gaussian", dim=150)
    gen = torch.Generator().manual_seed(2)
    t, x, p = problem.sample_inputs(24, generator=gen, dtype=torch.float64)
    exact = problem.exact(t, x, p)

    # reference: every point in one batch
    small = MonteCarloSolver(problem, 1500, seed=3, max_batch=2**30, max_elements=2**40)
    ref_mean, ref_half = small.solve(t, x, p)

    rows = []
    original = problem.simulate_target

    def recording(tt, xx, pp=None, **kw):
        rows.append(xx.shape[0])
        return original(tt, xx, pp, **kw)

    monkeypatch.setattr(problem, "simulate_target", recording)
    batched = MonteCarloSolver(problem, 1500, seed=3, max_elements=2**16)
    mean, half = batched.solve(t, x, p)
    assert batched.batch_samples == 2**16 // 150
    assert len(rows) > 24  # points were split and each point's samples were split too
    assert max(rows) * problem.dim <= 2**16
    # the default bounds state arrays to 2**23 entries whatever the dimension
    assert MonteCarloSolver(problem).batch_samples * problem.dim <= 2**23
    # same estimates up to Monte Carlo error, and both cover the closed form
    z = 4.5 / 1.96
    assert torch.all((mean - ref_mean).abs() <= z * torch.sqrt(half**2 + ref_half**2))
    assert torch.all((mean - exact).abs() <= z * half)
    assert torch.all((ref_mean - exact).abs() <= z * ref_half)
    assert math.isclose(float(half.mean()), float(ref_half.mean()), rel_tol=0.2)


def test_max_elements_is_validated():
    problem = get_problem("heat_paraboloid", dim=2)
    with pytest.raises(ValueError, match="max_elements"):
        MonteCarloSolver(problem, 10, max_elements=0)
