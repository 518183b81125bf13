"""Plots of a run (matplotlib, from the ``plot`` extra); files are written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from pdenet.config import atomic_write

__all__ = ["plot_run"]


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write(path, buf.getvalue())


def plot_run(run_dir: str | Path, rows: list[dict[str, Any]], solution: Any, problem: Any) -> list[Path]:
    """Write ``loss.png`` and ``solution.png`` (a slice of the solution against its reference).

    Raises ``ImportError`` when matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pdenet.problems import KolmogorovProblem

    run_dir = Path(run_dir)
    written = []
    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy(steps, [r["loss"] for r in rows], lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(f"{problem.name}")
    _save(fig, run_dir / "loss.png")
    plt.close(fig)
    written.append(run_dir / "loss.png")

    fig, ax = plt.subplots(figsize=(5, 3.5))
    if isinstance(problem, KolmogorovProblem):
        n = 101
        lo, hi = problem.input_bounds()
        mid = torch.tensor((lo + hi) / 2, dtype=torch.float64)
        z = mid.repeat(n, 1)
        z[:, 0] = problem.t_range[1]
        z[:, 1] = torch.linspace(lo[1], hi[1], n, dtype=torch.float64)
        t, x, p = z[:, 0], z[:, 1:1 + problem.dim], z[:, 1 + problem.dim:]
        pred = solution.predict(t, x, p).double().cpu()
        if problem.has_exact:
            ref, label = problem.exact(t, x, p), "exact"
        else:
            from pdenet.montecarlo import MonteCarloSolver

            ref, label = MonteCarloSolver(problem, 2000, seed=1).predict(t, x, p), "Monte Carlo"
        ax.plot(x[:, 0], ref, "k-", lw=2, label=label)
        ax.plot(x[:, 0], pred, "r--", lw=1.5, label="network")
        ax.set_xlabel("x_1 (other inputs at the centre, t = t_max)")
        ax.set_ylabel("u")
    else:
        ax.plot(steps, [r.get("y0", float("nan")) for r in rows], lw=1, label="Y_0 (DeepBSDE)")
        try:
            ref, _ = problem.reference_solution(n_samples=100_000)
            ax.axhline(ref, color="k", ls="--", label="reference")
        except ValueError:
            pass
        ax.set_xlabel("step")
        ax.set_ylabel("u(0, x0)")
    ax.legend()
    ax.set_title(problem.name)
    _save(fig, run_dir / "solution.png")
    plt.close(fig)
    written.append(run_dir / "solution.png")
    return written
