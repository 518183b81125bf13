"""Diagnostics: how close transformed data are to the target, and a plot of the transform.

``ks_statistic``
    the Kolmogorov-Smirnov distance ``sup |F_n - F|`` between the sample and the target, exact
    (evaluated on both sides of every jump of the empirical CDF).
``wasserstein_distance``
    the 1-Wasserstein distance ``int |F_n(t) - F(t)| dt``: 8-point Gauss-Legendre quadrature on
    every gap between order statistics (split where ``F`` crosses the level of ``F_n``), and adaptive
    quadrature of the target's tails beyond the sample range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import integrate

from redistributor._validation import as_float_1d
from redistributor.distributions import as_distribution

__all__ = ["ks_statistic", "wasserstein_distance", "report", "plot_transform"]


def _sorted_sample(x: Any) -> np.ndarray:
    arr = as_float_1d(x, "x")
    return np.sort(arr[~np.isnan(arr)])


def ks_statistic(x: Any, target: Any = "norm", target_params: dict | None = None) -> float:
    """Kolmogorov-Smirnov distance between the sample ``x`` (NaN ignored) and the target distribution."""
    xs = _sorted_sample(x)
    n = xs.size
    F = as_distribution(target, "target", target_params).cdf(xs)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - F), np.max(F - (i - 1) / n)))


_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)


def wasserstein_distance(x: Any, target: Any = "norm", target_params: dict | None = None) -> float:
    """1-Wasserstein distance between the sample ``x`` (NaN ignored) and the target distribution."""
    xs = _sorted_sample(x)
    n = xs.size
    dist = as_distribution(target, "target", target_params)
    total = 0.0
    if n > 1:
        a, b = xs[:-1], xs[1:]
        level = np.arange(1, n) / n
        Fa, Fb = dist.cdf(a), dist.cdf(b)
        # split each gap where F crosses the level of F_n (F is monotone: at most one crossing)
        cross = (Fa < level) & (Fb > level)
        c = np.where(cross, dist.ppf(np.clip(level, 0, 1)), b)
        c = np.clip(c, a, b)
        for lo, hi in ((a, c), (c, b)):
            mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
            for node, w in zip(_GL_X, _GL_W, strict=True):
                total += float(np.sum(w * half * np.abs(level - dist.cdf(mid + half * node))))
    lo_s, hi_s = dist.support
    total += integrate.quad(lambda t: float(dist.cdf(t)), lo_s, xs[0], limit=200)[0] if xs[0] > lo_s else 0.0
    total += integrate.quad(lambda t: float(dist.sf(t)), xs[-1], hi_s, limit=200)[0] if xs[-1] < hi_s else 0.0
    return total


def report(redistributor: Any, X: Any) -> list[dict]:
    """KS and 1-Wasserstein distance of ``redistributor.transform(X)`` to the target, one dict per column."""
    Y = np.asarray(redistributor.transform(X))
    Y = Y.reshape(Y.shape[0], -1) if Y.ndim > 1 else Y.reshape(-1, 1)
    targets = getattr(redistributor, "targets_", None) or [as_distribution(redistributor.target, "target",
                                                                            redistributor.target_params)]
    rows = []
    for j in range(Y.shape[1]):
        t = targets[min(j, len(targets) - 1)]
        rows.append({"column": j, "ks": ks_statistic(Y[:, j], t), "wasserstein": wasserstein_distance(Y[:, j], t)})
    return rows


def plot_transform(redistributor: Any, column: int = 0, *, ax: Any = None, n_points: int = 512, exact: Any = None):
    """Plot the estimated map ``x -> R(x)`` of one column (needs the ``plot`` extra, matplotlib).

    Parameters
    ----------
    redistributor : Redistributor
        Fitted (or with given source and target).
    column : int
        Column whose map is drawn.
    ax : matplotlib Axes, optional
        Axes to draw into; a new figure otherwise.
    n_points : int
        Number of points on the curve (from the source's 0.1 % to 99.9 % quantile).
    exact : callable, optional
        The exact map, drawn dashed for comparison.

    Returns
    -------
    matplotlib.figure.Figure
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - needs the plot extra
        raise ImportError("plot_transform needs matplotlib: pip install 'redistributor[plot]'") from exc
    r = redistributor
    src = r.sources_[column] if hasattr(r, "sources_") else as_distribution(r.source, "source")
    xs = src.ppf(np.linspace(0.001, 0.999, n_points))
    p = getattr(r, "n_features_in_", 1)
    X = np.zeros((n_points, p))
    X[:, column] = xs
    y = np.asarray(r.transform(X if hasattr(r, "sources_") else xs)).reshape(n_points, -1)[:, column if hasattr(r, "sources_") else 0]
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4))
    else:
        fig = ax.figure
    ax.plot(xs, y, label="estimated map R")
    if exact is not None:
        ax.plot(xs, exact(xs), "--", label="exact map")
    ax.set_xlabel("source value x")
    ax.set_ylabel("R(x)")
    ax.legend()
    return fig
