"""Sup-norm brackets: closing the gap, dense-grid brute force, Lipschitz targets, bad input."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from uniformnn import (
    Box,
    function_target,
    lower_bound,
    make_target,
    random_relu_network,
    sup_norm_bracket,
    teacher_network,
)


def grid_max(fn, box, n):
    axes = [np.linspace(lo, hi, n) for lo, hi in zip(box.lower, box.upper)]
    x = torch.tensor(np.stack(np.meshgrid(*axes), -1).reshape(-1, len(axes)))
    with torch.no_grad():
        return float(fn(x).abs().max())


def test_bracket_closes_to_one_percent_on_2_32_32_1_difference():
    f = random_relu_network([2, 32, 32, 1], coef=0.5, seed=11)
    g = random_relu_network([2, 32, 32, 1], coef=0.5, seed=12)
    box = Box.cube(2)
    r = sup_norm_bracket(f, g, box, rtol=0.01, time_budget=60)
    assert r.status == "converged"
    assert r.rel_gap <= 0.01
    brute = grid_max(lambda x: (f(x) - g(x))[:, 0], box, 1001)
    assert r.upper >= brute            # certified bound never below a brute-force maximum
    assert r.lower >= brute * (1 - 0.01)  # and the attained bound is as good as the grid
    assert r.history[-1][2] == pytest.approx(r.upper)


def test_upper_bound_never_below_dense_grid_for_single_network_on_offset_box():
    f = teacher_network(2, (32, 32, 32), seed=2)
    box = Box((-0.2, 0.1), (0.4, 0.3))
    r = sup_norm_bracket(f, None, box, rtol=0.005, time_budget=60)
    assert r.upper >= grid_max(lambda x: f(x)[:, 0], box, 801)
    assert np.all(r.argmax >= box.lower) and np.all(r.argmax <= box.upper)


def test_lipschitz_target_against_relu_student():
    target = make_target("oscillatory", 1)
    student = random_relu_network([1, 16, 1], coef=0.5, seed=0)
    r = sup_norm_bracket(target, student, rtol=0.01, time_budget=60)
    assert r.status == "converged"
    n = 2_000_001
    brute = grid_max(lambda x: target(x) - student(x)[:, 0], target.box, n)
    # grid spacing h gives true max <= brute + L * h / 2 (L of target plus student slope bound)
    slack = (55 + student.lipschitz_upper_bound()) * (1.0 / (n - 1)) / 2
    assert r.upper >= brute
    assert r.lower <= brute + slack
    assert "lipschitz" in r.method


def test_user_function_with_lipschitz_constant_and_no_network():
    fn = function_target(lambda x: torch.cos(3 * x[:, 0]) * x[:, 1], 2, lipschitz=math.sqrt(9 * 0.25 + 1))
    r = sup_norm_bracket(fn, None, rtol=0.01, time_budget=60)
    # exact: max |cos(3 x) y| on [-0.5, 0.5]^2 is 0.5 (x = 0, |y| = 0.5)
    assert r.lower <= 0.5 + 1e-12 <= r.upper + 1e-12
    assert r.rel_gap <= 0.01


def test_time_budget_returns_valid_wider_bracket(monkeypatch):
    # A clock that advances 0.5 s per reading: the budget runs out after a few rounds on any
    # machine, however fast (a real 3 s budget let a fast machine converge first).
    import types

    import uniformnn.bracket as bracket_module

    ticks = iter(range(10**6))
    monkeypatch.setattr(bracket_module, "time", types.SimpleNamespace(perf_counter=lambda: 0.5 * next(ticks)))
    f = teacher_network(4, seed=0)
    g = teacher_network(4, seed=1)
    r = sup_norm_bracket(f, g, rtol=1e-6, time_budget=3, n_random=4096, steps=10)
    assert r.status == "time_budget"
    assert r.upper >= r.lower > 0
    assert r.upper >= lower_bound(f, g, n_random=2**15, seed=5).value


def test_certificate_needs_relu_or_lipschitz():
    tanh_net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    relu = random_relu_network([1, 8, 1], seed=0)
    with pytest.raises(ValueError, match="layer 1 is Tanh.*certify=False"):
        sup_norm_bracket(tanh_net, relu, dim=1)
    with pytest.raises(ValueError, match="Lipschitz"):
        sup_norm_bracket(lambda x: x[:, 0] ** 2, relu)
    r = sup_norm_bracket(tanh_net, relu, certify=False, n_random=1024, steps=10)
    assert r.status == "uncertified" and math.isinf(r.upper) and r.lower > 0


def test_bad_input():
    f = random_relu_network([2, 4, 1], seed=0)
    g = random_relu_network([3, 4, 1], seed=1)
    with pytest.raises(ValueError, match="input dimension"):
        sup_norm_bracket(f, g)
    with pytest.raises(ValueError, match="lower 1.0 > upper 0.0"):
        sup_norm_bracket(f, None, ((1.0, 0.0), (0.0, 1.0)))
    with pytest.raises(ValueError, match="input dimension 2, expected 3"):
        sup_norm_bracket(f, None, Box.cube(3))
    with pytest.raises(ValueError, match="method"):
        sup_norm_bracket(f, None, method="milp")
    with pytest.raises(ValueError, match="rtol"):
        sup_norm_bracket(f, None, rtol=-1)


def test_lower_bound_finds_known_maximum():
    # |x_1| on [-0.5, 0.3]: maximum 0.5 at the corner x_1 = -0.5
    t = make_target("abs", 2)
    lb = lower_bound(t, None, Box((-0.5, -0.5), (0.3, 0.5)), n_random=256, n_starts=8, steps=50)
    assert lb.value == pytest.approx(0.5, abs=1e-9)
    assert lb.argmax[0] == pytest.approx(-0.5, abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("d", [3, 4])
def test_student_like_pairs_close_to_one_percent_in_moderate_dimension(d):
    # a teacher and a trained-student-like perturbation of it (the benchmark's setting)
    f = teacher_network(d, seed=d)
    gen = torch.Generator().manual_seed(d)
    g = type(f)([lin.weight.detach() + 0.01 * torch.randn(lin.weight.shape, generator=gen,
                                                          dtype=torch.float64) for lin in f.layers],
                [lin.bias.detach() for lin in f.layers])
    r = sup_norm_bracket(f, g, rtol=0.01, time_budget=300)
    assert r.status == "converged" and r.rel_gap <= 0.01
    assert r.upper >= lower_bound(f, g, n_random=2**20, n_starts=0, seed=9).value
