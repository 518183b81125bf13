"""DeepBSDE against an explicit solution, the Cole-Hopf reference (HJB) and the published
Allen-Cahn value."""

import numpy as np
import pytest
import torch

from pdenet import solve
from pdenet.deepbsde import DeepBSDEModel, StackedMLP, deepbsde_loss
from pdenet.networks import MLP
from pdenet.problems import get_problem

HJB_REF = 4.590162  # Cole-Hopf, Han-Jentzen-E (2018); checked by quadrature in test_problems
AC_REF = 0.052802  # Han-Jentzen-E (2018), branching diffusion
# CI-sized runs: HJB in d = 10 (about 2.5 % off after 300 steps) and Allen-Cahn in d = 100
# after 400 steps (not converged, about 17 % off): they check that DeepBSDE moves Y_0 from its
# random start into a band around the reference. The accuracy targets (HJB d = 100 within
# 1 %, Allen-Cahn within 2 %) are the slow tests below.
HJB_CI_TOL = 0.05
AC_CI_TOL = 0.25


def test_stacked_networks_equal_separate_networks():
    torch.manual_seed(0)
    stacked = StackedMLP(3, 4, 6, 2, activation="tanh", batch_norm=False)
    with torch.no_grad():
        for w in stacked.weights:
            w.normal_()
    x = torch.randn(3, 5, 4)
    out = stacked(x)
    for s in range(3):
        mlp = MLP(4, 4, [6, 6], "tanh")
        lin = [m for m in mlp.modules() if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for i, layer in enumerate(lin):
                layer.weight.copy_(stacked.weights[i][s].T)
                layer.bias.copy_(stacked.biases[i][s, 0])
        assert torch.allclose(mlp(x[s]), out[s], atol=1e-6)


def test_deepbsde_loss_is_small_with_exact_gradients():
    # with Z = sigma grad u of the explicit solution and Y_0 = u(0, x0), the Euler residual is small
    prob = get_problem("burgers_type", dim=4)
    model = DeepBSDEModel(4, 50, width=8, y0_range=(0.5, 0.5))
    sigma = float(np.sqrt(4))

    def z_all(xs):
        t = torch.arange(xs.shape[0], dtype=xs.dtype)[:, None] * (1.0 / 50)
        u = torch.sigmoid(t + xs.mean(-1))
        return (sigma * u * (1 - u) / 4).unsqueeze(-1).expand_as(xs)

    model.z_all = z_all
    loss = deepbsde_loss(model, prob, 4000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model2 = DeepBSDEModel(4, 50, width=8, y0_range=(0.5, 0.5)).double()
    with torch.no_grad():
        model2.z0.zero_()
    loss_zero = deepbsde_loss(model2, prob, 4000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert float(loss) < 0.05 * float(loss_zero)


def test_burgers_type_explicit_solution():
    r = solve({"problem": "burgers_type", "problem_options": {"dim": 10}, "loss": "deepbsde", "steps": 300,
               "batch_size": 128, "optim": {"lr": 3e-3, "y0_lr": 3e-2}}, quiet=True)
    assert r.evaluation["reference"] == 0.5
    assert r.evaluation["rel_error"] < 0.04, r.evaluation


def test_hjb_d10_ci_sized():
    # CI-sized: d = 10 against the package's Cole-Hopf Monte Carlo reference (the d = 100,
    # 1 % target against 4.590162 is the slow test below)
    from pdenet.problems import hjb_cole_hopf

    ref, half = hjb_cole_hopf(dim=10, n_samples=200_000)
    r = solve({"problem": "hjb", "problem_options": {"dim": 10}, "loss": "deepbsde", "steps": 300,
               "batch_size": 256, "optim": {"lr": 3e-3, "y0_lr": 5e-2, "lr_final": 1e-5}}, quiet=True)
    assert abs(r.solution.value - ref) / ref < HJB_CI_TOL, (r.solution.value, ref, half)


def test_allen_cahn_d100_ci_sized():
    r = solve({"problem": "allen_cahn", "loss": "deepbsde", "steps": 400, "batch_size": 64,
               "y0_range": [0.3, 0.6], "optim": {"lr": 1e-3, "y0_lr": 1e-2, "lr_final": 1e-5}}, quiet=True)
    assert abs(r.solution.value - AC_REF) / AC_REF < AC_CI_TOL, r.evaluation


@pytest.mark.slow
def test_hjb_d100_within_1_percent():
    r = solve({"problem": "hjb", "loss": "deepbsde", "steps": 2000, "batch_size": 256,
               "optim": {"lr": 3e-3, "y0_lr": 5e-2, "lr_final": 1e-5}}, quiet=True)
    assert abs(r.solution.value - HJB_REF) / HJB_REF < 0.01, r.evaluation


@pytest.mark.slow
def test_allen_cahn_d100_within_2_percent():
    r = solve({"problem": "allen_cahn", "loss": "deepbsde", "steps": 2000, "batch_size": 256,
               "y0_range": [0.3, 0.6], "optim": {"lr": 1e-3, "y0_lr": 1e-2, "lr_final": 1e-5}}, quiet=True)
    assert abs(r.solution.value - AC_REF) / AC_REF < 0.02, r.evaluation
