"""Error of a learned-target map at the extreme sample points, over repeated seeds; prints one table.

Run (from packages/redistributor)::

    python benchmarks/bench_tail_error.py                      # n = 1e5 and 1e6, 10 seeds, 9 pairs
    python benchmarks/bench_tail_error.py --n 1e7 --seeds 5 --pairs norm:gamma3

For known S and T, ``n`` samples of S are mapped onto a target learned from ``n`` samples of T, and
compared with the exact map ``F_T^-1(F_S(x))`` at every sample point.  Methods: ``Redistributor``
with its default ``"gpd"`` tails (a generalised Pareto curve through the sqrt(n) most extreme samples
of each side), ``Redistributor(tails="exponential")`` (every extreme order statistic is a knot, so the
k-th largest source sample goes to the k-th largest target sample) and ``np.quantile`` on 5000 levels of both
samples plus ``np.interp`` (what ``QuantileTransformer(n_quantiles=5000, subsample=None)`` computes;
its last cell joins the 5000-quantile of both samples by a chord).  Columns: mean absolute error, the
median and the 90th percentile over seeds of the maximum absolute error, and the mean error of the
100 worst points.  The maximum sits at the few most extreme points, where both estimates inherit the
sampling noise of the extreme order statistics; one draw says little, hence the seeds.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from redistributor import Redistributor

DISTS = {"norm": stats.norm(), "gamma3": stats.gamma(3.0), "t5": stats.t(5), "unif": stats.uniform(),
         "beta25": stats.beta(2, 5), "lognorm": stats.lognorm(0.5), "expon": stats.expon(), "t3": stats.t(3)}
PAIRS = ("norm:gamma3", "norm:unif", "t5:norm", "gamma3:norm", "lognorm:beta25", "unif:expon", "norm:t5",
         "t3:lognorm", "gamma3:t3")


def exact_map(x, S, T):
    F, Sf = S.cdf(x), S.sf(x)
    return np.where(F <= 0.5, T.ppf(F), T.isf(Sf))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=float, nargs="+", default=[1e5, 1e6])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--pairs", nargs="+", default=list(PAIRS), help="source:target names from " + ", ".join(DISTS))
    args = ap.parse_args()
    print("| S -> T | n | method | mean abs err | max abs err, median over seeds | 90th percentile | top-100 mean |")
    print("|---|---|---|---|---|---|---|")
    for pair in args.pairs:
        s_name, t_name = pair.split(":")
        S, T = DISTS[s_name], DISTS[t_name]
        for n in (int(v) for v in args.n):
            names = ("redistributor (gpd tails)", "redistributor (order-statistic tails)", "np.quantile(5000) + np.interp")
            errs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
            for seed in range(args.seeds):
                rng = np.random.default_rng(seed)
                x = S.rvs(n, random_state=rng)
                y = T.rvs(n, random_state=rng)
                exact = exact_map(x, S, T)
                X = x.reshape(-1, 1)
                gpd = Redistributor(target=y).fit(X).transform(X)[:, 0]
                ostat = Redistributor(target=y, tails="exponential").fit(X).transform(X)[:, 0]
                p = np.linspace(0, 1, 5000)
                peer = np.interp(x, np.quantile(x, p), np.quantile(y, p))
                for name, out in zip(names, (gpd, ostat, peer), strict=True):
                    e = np.abs(out - exact)
                    top = np.partition(e, e.size - 100)[-100:]
                    errs[name].append((float(e.mean()), float(e.max()), float(top.mean())))
                del x, y, exact, gpd, ostat, peer
            for name, rows in errs.items():
                a = np.array(rows)
                print(f"| {s_name} -> {t_name} | {n:.0e} | {name} | {a[:, 0].mean():.3g} | {np.median(a[:, 1]):.3g} | "
                      f"{np.quantile(a[:, 1], 0.9):.3g} | {a[:, 2].mean():.3g} |", flush=True)


if __name__ == "__main__":
    main()
