"""Benchmark: redistributor against its peers on the same data; prints one table.

Run (from packages/redistributor, with the bench extra installed)::

    python benchmarks/bench_redistributor.py            # 1e6 and 1e7 samples, 1536x2048 RGB pair
    python benchmarks/bench_redistributor.py --quick    # 1e5 samples, small image (seconds)
    python benchmarks/bench_redistributor.py --part images   # only the image rows

Tasks: N(0, 1) samples mapped to U(0, 1), to Beta(2, 5), and to a target learned from as many samples
of Gamma(3); an RGB image matched to a reference image.  Peers: scikit-learn ``QuantileTransformer``
(defaults, and ``n_quantiles=5000, subsample=None``; for targets other than U(0,1) composed with the
target's quantile function, as a user of scikit-learn would), ``skimage.exposure.match_histograms``,
and plain ``np.quantile`` on 5000 levels plus ``np.interp``.  Columns: fit and transform time (s),
peak extra memory during fit+transform (traced numpy allocations, as a multiple of the input size),
mean and max absolute error against the exact map ``F_T^-1(F_S(x))``, and the KS distance of the
output to the target (on a fixed subsample of 10**6 outputs; for images the mean over channels of the
two-sample KS distance to the reference).  Also printed: the Beta(2, 5) quantile path against
``scipy.stats.beta.ppf`` on the same points.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
import tracemalloc

import numpy as np
from scipy import stats

from redistributor import Redistributor, ScipyDistribution
from redistributor.diagnostics import ks_statistic
from redistributor.images import match_image

N_LEVELS = 5000


def measure(fn):
    """Run fn() -> (fit_s, transform_s, out); return times, peak traced memory (bytes) and output."""
    gc.collect()
    tracemalloc.start()
    fit_s, tr_s, out = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return fit_s, tr_s, peak, out


def timed(f, *a, **k):
    t = time.perf_counter()
    r = f(*a, **k)
    return time.perf_counter() - t, r


def methods_for(task, x, y_target, tgt):
    """Callables returning (fit_s, transform_s, output) for each method on one task."""
    from sklearn.preprocessing import QuantileTransformer

    X = x.reshape(-1, 1)

    def ours():
        target = y_target if task == "learned" else tgt
        params = {"a": 2, "b": 5} if task == "beta" else None
        r = Redistributor(target=target if task == "learned" else {"uniform": "uniform", "beta": "beta"}[task],
                          target_params=params)
        f, r = timed(r.fit, X)
        t, out = timed(r.transform, X)
        return f, t, out

    def qt(**kw):
        def run():
            q = QuantileTransformer(output_distribution="uniform", **kw)
            f, q = timed(q.fit, X)
            if task == "learned":
                q2 = QuantileTransformer(output_distribution="uniform", **kw)
                f2, q2 = timed(q2.fit, y_target.reshape(-1, 1))
                t, out = timed(lambda: q2.inverse_transform(q.transform(X)))
                return f + f2, t, out
            if task == "beta":
                t, out = timed(lambda: stats.beta(2, 5).ppf(q.transform(X)))
                return f, t, out
            t, out = timed(q.transform, X)
            return f, t, out
        return run

    def numpy_interp():
        p = np.linspace(0, 1, N_LEVELS)
        f, qx = timed(np.quantile, x, p)
        if task == "learned":
            f2, qy = timed(np.quantile, y_target, p)
            t, out = timed(lambda: np.interp(x, qx, qy))
            return f + f2, t, out
        if task == "beta":
            t, out = timed(lambda: stats.beta(2, 5).ppf(np.interp(x, qx, p)))
            return f, t, out
        t, out = timed(np.interp, x, qx, p)
        return f, t, out

    def skimage_mh():
        from skimage.exposure import match_histograms

        t, out = timed(match_histograms, x, y_target)
        return 0.0, t, out

    m = {"redistributor": ours, "QuantileTransformer()": qt(),
         f"QuantileTransformer({N_LEVELS}, subsample=None)": qt(n_quantiles=N_LEVELS, subsample=None),
         f"np.quantile({N_LEVELS}) + np.interp": numpy_interp}
    if task == "learned":
        m["skimage match_histograms"] = skimage_mh
    return m


def run_arrays(n, rng, rows, ratios):
    x = rng.standard_normal(n)
    y_target = stats.gamma(3.0).rvs(n, random_state=rng)
    sub = rng.choice(n, size=min(n, 10**6), replace=False)
    u = stats.norm.cdf(x)
    for task, tgt in (("uniform", stats.uniform()), ("beta", stats.beta(2, 5)), ("learned", stats.gamma(3.0))):
        exact = tgt.ppf(u)
        times = {}
        for name, fn in methods_for(task, x, y_target, tgt).items():
            fit_s, tr_s, peak, out = measure(fn)
            out = np.asarray(out).reshape(-1)
            err = np.abs(out - exact)
            ks = ks_statistic(out[sub], tgt)
            rows.append((f"N(0,1)->{task}", f"{n:.0e}", name, fit_s, tr_s, peak / x.nbytes, err.mean(), err.max(), ks))
            times[name] = (fit_s + tr_s, err.mean(), err.max())
            del out, err
            gc.collect()
        ours = times["redistributor"]
        peer = times[f"QuantileTransformer({N_LEVELS}, subsample=None)"]
        ratios.append(f"n={n:.0e} {task}: fit+transform {peer[0] / ours[0]:.1f}x faster than "
                      f"QuantileTransformer({N_LEVELS}, subsample=None); mean error {ours[1]:.2e} vs {peer[1]:.2e}, "
                      f"max error {ours[2]:.2e} vs {peer[2]:.2e}")
    return u


def run_beta_ppf(u, ratios):
    d = ScipyDistribution(stats.beta(2, 5))
    d.ppf(0.5)  # build the table once (included below separately)
    t_build, _ = timed(lambda: ScipyDistribution(stats.beta(2, 5)).ppf(0.5))
    t_ours, ours = timed(d.ppf, u)
    t_scipy, ref = timed(stats.beta(2, 5).ppf, u)
    ratios.append(f"Beta(2,5) quantiles on {u.size:.0e} points: {t_scipy / t_ours:.1f}x faster than scipy.stats.beta.ppf "
                  f"({t_ours:.2f} s + {t_build:.3f} s table vs {t_scipy:.2f} s), max abs error "
                  f"{np.max(np.abs(ours - ref)):.1e} (stated bound {d.error_bound:.1e})")


def make_images(h, w, rng):
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    src = np.stack([0.5 + 0.4 * np.sin(6 * xx + 2 * yy), 0.4 + 0.3 * np.cos(5 * yy), 0.3 + 0.3 * xx * yy], -1)
    src = np.clip(src + 0.05 * rng.standard_normal(src.shape), 0, 1)
    ref = np.stack([0.3 + 0.2 * np.cos(4 * xx), 0.6 + 0.3 * np.sin(7 * yy * xx), 0.7 - 0.4 * yy], -1)
    ref = np.clip(ref + 0.08 * rng.standard_normal(ref.shape), 0, 1)
    return (src * 255).astype(np.uint8), (ref * 255).astype(np.uint8)


def run_images(h, w, rng, rows):
    from skimage.exposure import match_histograms

    src, ref = make_images(h, w, rng)

    def ks(out):
        return float(np.mean([stats.ks_2samp(out[..., c].ravel()[::7], ref[..., c].ravel()[::7]).statistic
                              for c in range(3)]))

    for name, fn in (("redistributor match_image (rgb)", lambda: (0.0, *timed(match_image, src, ref))),
                     ("redistributor match_image (rgb, midrank)",
                      lambda: (0.0, *timed(match_image, src, ref, ties="midrank"))),
                     ("redistributor match_image (lab)", lambda: (0.0, *timed(match_image, src, ref, color_space="lab"))),
                     ("skimage match_histograms", lambda: (0.0, *timed(match_histograms, src, ref, channel_axis=-1)))):
        _, tr, peak, out = measure(fn)
        rows.append((f"RGB image {w}x{h}", "uint8", name, float("nan"), tr, peak / src.nbytes, float("nan"), float("nan"), ks(out)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--part", choices=("all", "arrays", "images"), default="all",
                    help="run only the array tasks (with the Beta quantile comparison) or only the images")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    sizes = [10**5] if args.quick else [10**6, 10**7]
    rows, ratios = [], []
    if args.part in ("all", "arrays"):
        u = None
        for n in sizes:
            u = run_arrays(n, rng, rows, ratios)
        run_beta_ppf(u, ratios)
    if args.part in ("all", "images"):
        run_images(*((240, 320) if args.quick else (1536, 2048)), np.random.default_rng(args.seed), rows)
    print(f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}")
    head = ("task", "n", "method", "fit s", "transform s", "peak mem / input", "mean abs err", "max abs err", "KS")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r[0], r[1], r[2]] + [("-" if np.isnan(v) else f"{v:.3g}") if isinstance(v, float) else str(v) for v in r[3:]]
        print("| " + " | ".join(cells) + " |")
    print()
    for line in ratios:
        print("- " + line)


if __name__ == "__main__":
    main()
