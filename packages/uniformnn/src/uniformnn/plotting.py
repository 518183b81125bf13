"""Plots of error against sample count (log-log) with fitted rates and reference rates.

Needs matplotlib (``pip install uniformnn[plot]``).

For each dimension one figure shows the worst-case (min over hyperparameters of max over
targets) L2 and L-infinity errors of every method against ``m``, each with its least-squares
rate ``e ~ C m^(-r)`` in the legend, and dashed reference lines of the rates ``m^(-1/d)``
(the uniform-norm lower-bound rate for the network classes of Grohs and Voigtlaender,
FoCM 2023, and Berner, Grohs and Voigtlaender, ICLR 2023) and ``m^(-1/2)`` (the Monte
Carlo rate reachable in L2), anchored at the first point of the worst L-infinity curve.
Constants of the theorems depend on the architecture and are not drawn; the lines show
the slopes. A second figure shows the ratio L-infinity / L2 (the gap) against ``m``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from uniformnn.aggregation import aggregate

__all__ = ["fit_rate", "plot_results"]


def fit_rate(m: list[float], err: list[float]) -> tuple[float, float]:
    """Least-squares fit of ``log err = log C - r log m``; returns ``(r, C)``.

    Raises
    ------
    ValueError
        With fewer than two points or non-positive values.
    """
    m_arr, e_arr = np.asarray(m, dtype=float), np.asarray(err, dtype=float)
    if m_arr.size < 2 or m_arr.shape != e_arr.shape:
        raise ValueError("fit_rate: needs at least two (m, error) pairs")
    if (m_arr <= 0).any() or (e_arr <= 0).any():
        raise ValueError("fit_rate: m and errors must be positive")
    slope, intercept = np.polyfit(np.log(m_arr), np.log(e_arr), 1)
    return float(-slope), float(math.exp(intercept))


def _save(fig, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def plot_results(rows: list[dict[str, Any]], out_dir: str | os.PathLike, *,
                 seed_reduce: str = "mean") -> list[str]:
    """Write ``error_vs_m_d{d}.png`` per dimension and ``gap_linf_over_l2.png``.

    Parameters
    ----------
    rows
        Result rows (:func:`~uniformnn.experiment.read_results`).
    out_dir
        Directory for the PNG files (created).

    Returns
    -------
    list of str
        Paths written.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'uniformnn[plot]'") from exc
    agg = aggregate(rows, norms=("l2", "linf"), seed_reduce=seed_reduce)
    if not agg:
        raise ValueError("rows: no finite L2/L-infinity errors to plot")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    dims = sorted({a["dim"] for a in agg})
    methods = sorted({a["method"] for a in agg}, key=lambda s: (s != "student", s))
    colors = {meth: f"C{k}" for k, meth in enumerate(methods)}
    for d in dims:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        anchor = None
        for meth in methods:
            for norm, style in (("linf", "-o"), ("l2", "--s")):
                pts = sorted((a["m"], a["worst"]) for a in agg
                             if a["dim"] == d and a["method"] == meth and a["norm"] == norm and a["worst"] > 0)
                if not pts:
                    continue
                ms, es = zip(*pts)
                label = f"{meth} {'L∞' if norm == 'linf' else 'L2'}"
                if len(pts) >= 2:
                    r, _ = fit_rate(list(ms), list(es))
                    label += f" (rate {r:.2f})"
                ax.loglog(ms, es, style, color=colors[meth], label=label, ms=4)
                if norm == "linf" and anchor is None:
                    anchor = (ms[0], es[0])
        if anchor is not None:
            ms_all = sorted({a["m"] for a in agg if a["dim"] == d})
            grid = np.geomspace(ms_all[0], ms_all[-1], 50)
            m0, e0 = anchor
            ax.loglog(grid, e0 * (grid / m0) ** (-1.0 / d), ":", color="k",
                      label=f"reference m^(-1/{d}) (uniform lower-bound rate)")
            ax.loglog(grid, e0 * (grid / m0) ** (-0.5), ":", color="grey",
                      label="reference m^(-1/2) (L2 / Monte Carlo rate)")
        ax.set_xlabel("number of samples m")
        ax.set_ylabel("worst-case error (min over settings of max over targets)")
        ax.set_title(f"d = {d}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        path = out_dir / f"error_vs_m_d{d}.png"
        _save(fig, path)
        plt.close(fig)
        written.append(str(path))
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for d in dims:
        for meth in methods:
            l2 = {a["m"]: a["worst"] for a in agg if a["dim"] == d and a["method"] == meth and a["norm"] == "l2"}
            li = {a["m"]: a["worst"] for a in agg if a["dim"] == d and a["method"] == meth and a["norm"] == "linf"}
            ms = sorted(set(l2) & set(li))
            ms = [m for m in ms if l2[m] > 0]
            if ms:
                ax.semilogx(ms, [li[m] / l2[m] for m in ms], "-o", ms=4, label=f"{meth}, d = {d}")
    ax.set_xlabel("number of samples m")
    ax.set_ylabel("L∞ error / L2 error (worst case)")
    ax.set_title("gap between uniform and L2 accuracy")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    path = out_dir / "gap_linf_over_l2.png"
    _save(fig, path)
    plt.close(fig)
    written.append(str(path))
    return written
