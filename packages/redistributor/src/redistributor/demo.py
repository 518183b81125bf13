"""The headline example of redistributor, small enough for a laptop (`redistributor demo`, `mds demo`).

A bimodal source (60 % Gamma(2), 40 % N(7, 0.7**2)) is mapped onto N(0, 1).  The demo writes a run
directory with the resolved configuration, a metrics table (KS and 1-Wasserstein distance to the
target of 20 000 fresh samples pushed through the map learned from ``n`` samples, and the sup error of the estimated map against the exact one, for growing sample sizes) and
three figures when matplotlib is installed (the ``plot`` extra): before/after histograms, the
estimated and the exact transform, and the convergence of the errors with ``n``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from redistributor._atomic import atomic_path
from redistributor.diagnostics import ks_statistic, wasserstein_distance
from redistributor.transformer import Redistributor

_W = 0.6


def _source_cdf(x):
    return _W * stats.gamma(2.0).cdf(x) + (1 - _W) * stats.norm(7.0, 0.7).cdf(x)


def _source_pdf(x):
    return _W * stats.gamma(2.0).pdf(x) + (1 - _W) * stats.norm(7.0, 0.7).pdf(x)


def _sample(n: int, rng: np.random.Generator) -> np.ndarray:
    k = rng.random(n) < _W
    return np.where(k, rng.gamma(2.0, size=n), rng.normal(7.0, 0.7, size=n))


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)


def run_demo(out_dir: str | Path, *, quiet: bool = False, seed: int = 0) -> dict[str, Any]:
    """Run the demo, write its outputs under `out_dir` and return a summary.

    Returns
    -------
    dict
        ``headline``: one line with the headline figure; ``files``: paths written.
    """
    from tqdm.auto import tqdm

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir {str(out)!r} exists and is not a directory; give a new or existing directory")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = [100, 300, 1_000, 3_000, 10_000, 30_000]
    config = {"source": "0.6 Gamma(2) + 0.4 N(7, 0.7^2)", "target": "norm", "sizes": sizes, "seed": seed,
              "redistributor": {"source": "empirical", "n_quantiles": "auto", "tails": "exponential",
                                "ties": "spread"}}
    files: list[str] = []
    cfg = out / "config.json"
    _write_text(cfg, json.dumps(config, indent=2) + "\n")
    files.append(str(cfg))

    grid = np.linspace(stats.gamma(2.0).ppf(0.05), 7.0 + 0.7 * 1.6, 300)  # fixed interval inside the support
    exact_map = stats.norm.ppf(_source_cdf(grid))
    rows = []
    show = not quiet and sys.stderr.isatty()
    for n in tqdm(sizes, desc="sample sizes", disable=not show):
        x = _sample(n, rng)
        r = Redistributor(target="norm", random_state=seed).fit(x[:, None])
        held_out = _sample(20_000, rng)  # fresh samples: how well the learned map generalises
        y = r.transform(held_out[:, None])[:, 0]
        sup_err = float(np.max(np.abs(r.transform(grid[:, None])[:, 0] - exact_map)))
        rows.append({"n": n, "ks_before": ks_statistic(held_out, "norm"), "ks_after": ks_statistic(y, "norm"),
                     "wasserstein_after": wasserstein_distance(y, "norm"), "sup_map_error": sup_err})
    metrics = out / "metrics.csv"
    with atomic_path(metrics) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    files.append(str(metrics))
    slope = float(np.polyfit(np.log(sizes), np.log([row["sup_map_error"] for row in rows]), 1)[0])
    last = rows[-1]

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        x = _sample(sizes[-1], np.random.default_rng(seed))
        r = Redistributor(target="norm", random_state=seed).fit(x[:, None])
        y = r.transform(x[:, None])[:, 0]
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        t = np.linspace(-1, 10, 400)
        axes[0].hist(x, bins=80, density=True, alpha=0.6, label="samples")
        axes[0].plot(t, _source_pdf(t), "k", lw=1, label="source density")
        axes[0].set_title("before")
        z = np.linspace(-4, 4, 400)
        axes[1].hist(y, bins=80, density=True, alpha=0.6, label="R(samples)")
        axes[1].plot(z, stats.norm.pdf(z), "k", lw=1, label="N(0, 1)")
        axes[1].set_title("after")
        for ax in axes:
            ax.legend(fontsize=8)
        fig.tight_layout()
        files.append(_save_fig(fig, out / "before_after.png"))
        fig, ax = plt.subplots(figsize=(5, 4))
        xs = np.linspace(0.05, 9.5, 500)
        ax.plot(xs, r.transform(xs[:, None])[:, 0], label=f"estimated map (n={sizes[-1]})")
        ax.plot(xs, stats.norm.ppf(_source_cdf(xs)), "--", label="exact map")
        ax.set_xlabel("x")
        ax.set_ylabel("R(x)")
        ax.legend()
        fig.tight_layout()
        files.append(_save_fig(fig, out / "transform.png"))
        fig, ax = plt.subplots(figsize=(5, 4))
        ns = np.array(sizes, dtype=float)
        for key, label in (("ks_after", "KS of R(held-out) to N(0,1)"), ("wasserstein_after", "W1 of R(held-out) to N(0,1)"),
                           ("sup_map_error", "sup error of the map")):
            ax.loglog(ns, [row[key] for row in rows], "o-", label=label)
        ax.loglog(ns, 1.0 / np.sqrt(ns), "k:", label="n^-1/2")
        ax.set_xlabel("n")
        ax.legend(fontsize=8)
        fig.tight_layout()
        files.append(_save_fig(fig, out / "convergence.png"))
        plt.close("all")
    headline = (f"KS distance of held-out samples to N(0,1): {last['ks_before']:.3f} before, "
                f"{last['ks_after']:.4f} after the map learned from n={last['n']}; "
                f"sup error of the map falls as n^{slope:.2f}")
    if plt is None:
        headline += " (figures skipped: install redistributor[plot])"
    return {"headline": headline, "files": files}


def _save_fig(fig, path: Path) -> str:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    return str(path)
