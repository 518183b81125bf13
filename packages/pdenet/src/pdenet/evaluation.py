"""Relative errors on fresh points of the region of learning."""

from __future__ import annotations

import math
from typing import Any

import torch

from pdenet.montecarlo import MonteCarloSolver
from pdenet.problems import KolmogorovProblem

__all__ = ["relative_errors", "evaluate"]


def relative_errors(pred: torch.Tensor, ref: torch.Tensor) -> dict[str, float]:
    """Relative L1, L2 and L-infinity errors of ``pred`` against ``ref`` (empirical measures).

    ``rel_l1 = sum |pred - ref| / sum |ref|``, ``rel_l2 = ||pred - ref||_2 / ||ref||_2``,
    ``rel_linf = max |pred - ref| / max |ref|``.
    """
    pred = torch.as_tensor(pred, dtype=torch.float64).reshape(-1)
    ref = torch.as_tensor(ref, dtype=torch.float64).reshape(-1)
    if pred.shape != ref.shape:
        raise ValueError(f"pred and ref must have the same length, got {pred.numel()} and {ref.numel()}")
    err = (pred - ref).abs()
    return {
        "rel_l1": float(err.sum() / ref.abs().sum()),
        "rel_l2": float(torch.sqrt((err**2).sum() / (ref**2).sum())),
        "rel_linf": float(err.max() / ref.abs().max()),
    }


def _predict(solution: Any, t, x, p, batch_size: int) -> torch.Tensor:
    fn = solution.predict if hasattr(solution, "predict") else solution
    outs = []
    for s in range(0, x.shape[0], batch_size):
        out = fn(t[s:s + batch_size], x[s:s + batch_size], p[s:s + batch_size])
        outs.append(torch.as_tensor(out, dtype=torch.float64).detach().cpu().reshape(-1))
    return torch.cat(outs)


def evaluate(solution: Any, problem: KolmogorovProblem, *, n_points: int = 4096, seed: int = 12345,
             mc_samples: int = 4096, batch_size: int = 8192, mc_max_batch: int = 2**20,
             confidence: float = 0.95) -> dict[str, Any]:
    """Relative errors of ``solution`` on ``n_points`` fresh uniform points of the region.

    The reference is the closed form when the problem has one, else a Monte Carlo estimate
    with ``mc_samples`` samples per point (batched). For a Monte Carlo reference the result
    also reports ``reference_rel_half_width``: the mean 95 % confidence half-width of the
    reference relative to the mean of ``|u|``, which bounds how well a relative L1 error can
    be resolved.

    Parameters
    ----------
    solution : object
        Anything with ``predict(t, x, p)`` (:class:`pdenet.NeuralSolution`,
        :class:`pdenet.MonteCarloSolver`) or a callable ``(t, x, p) -> (n,)``.
    problem : KolmogorovProblem
        The PDE and region.
    n_points : int
        Number of evaluation points.
    seed : int
        Seed of the evaluation points (and of the Monte Carlo reference).
    mc_samples : int
        Samples per point of the Monte Carlo reference.
    batch_size : int
        Points per call of ``solution``.
    mc_max_batch : int
        Simultaneous samples of the Monte Carlo reference.
    confidence : float
        Level of the reported confidence intervals.

    Returns
    -------
    dict
        ``rel_l1``, ``rel_l2``, ``rel_linf``, ``rel_l1_ci`` (half-width of the error estimate
        from the finite number of points), ``reference`` (``exact`` or ``monte_carlo``),
        ``reference_rel_half_width``, ``n_points``.
    """
    if not isinstance(problem, KolmogorovProblem):
        raise TypeError(f"problem must be a KolmogorovProblem, got {type(problem).__name__}")
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2, got {n_points!r}")
    gen = torch.Generator().manual_seed(int(seed))
    t, x, p = problem.sample_inputs(n_points, generator=gen, dtype=torch.float64)
    pred = _predict(solution, t, x, p, batch_size)
    if problem.has_exact:
        ref = problem.exact(t, x, p)
        kind, rel_half = "exact", 0.0
    else:
        mc = MonteCarloSolver(problem, mc_samples, seed=seed + 1, max_batch=mc_max_batch)
        ref, half = mc.solve(t, x, p, confidence=confidence)
        kind, rel_half = "monte_carlo", float(half.mean() / ref.abs().mean())
    out: dict[str, Any] = relative_errors(pred, ref)
    err = (pred - ref).abs()
    z = math.sqrt(2.0) * float(torch.special.erfinv(torch.tensor(confidence, dtype=torch.float64)))
    out["rel_l1_ci"] = float(z * err.std() / math.sqrt(n_points) / ref.abs().mean())
    out["reference"] = kind
    out["reference_rel_half_width"] = rel_half
    out["n_points"] = n_points
    return out
