"""Empirical distribution: a continuous piecewise-linear CDF through order statistics, with tail models.

Plotting positions
------------------
The ``r``-th smallest of ``n`` samples (``r = 1..n``) gets ``F = r / (n + 1)`` and
``S = (n + 1 - r) / (n + 1)`` (the mean of ``F(X_(r))`` for continuous data).  Between knots the CDF
is linear.  The mass ``1 / (n + 1)`` below the smallest and above the largest sample is placed by
the tail model of that side:

``"gpd"`` (default where no bound is given)
    a generalised Pareto tail fitted to the ``k = ceil(sqrt(n))`` most extreme samples of that side.
    The knots stop at the ``k + 1``-th most extreme sample (the anchor, tail probability
    ``(k + 1) / (n + 1)``); beyond it the quantile function is the Pareto curve
    ``z(L) = sigma expm1(xi L) / xi`` in ``L = log(anchor probability / tail probability)``, which
    passes through the anchor and the most extreme sample (``L = log(k + 1)``) exactly and whose shape
    ``xi`` (grid of step 0.005 in ``[-1, 1.5]``) is fitted by weighted least squares to the ``k - 1``
    samples in between (see :func:`_fit_gpd`).  It replaces the individually noisy extreme order
    statistics by one smooth monotone curve: for light and exponential-type tails (normal, gamma,
    uniform, beta, exponential) the quantiles at the extreme probabilities are markedly closer to the
    truth; for heavy tails (Student t(3), Pareto) about as close as the order statistics, because the
    curve is pinned to the very noisy extreme sample (README, "Error at the extreme points").  Beyond
    the extreme sample the tail continues exponentially with the hazard the Pareto curve has there, so
    new data beyond the sample range keep their order.  A side falls back to ``"exponential"`` for
    ``n < 100`` or when the ``k + 2`` most extreme values of that side are not distinct (an atom in
    the tail, e.g. rounded data or images).
``"exponential"``
    every order statistic up to the extreme sample is a knot, and beyond it
    ``F(x) = F_min exp((x - x_min) / beta_lo)`` below the sample range and
    ``S(x) = S_max exp(-(x_max - x) / beta_hi)`` above it, with ``beta`` the mean excess of the
    ``k = ceil(sqrt(n))`` most extreme samples over the ``k+1``-th (the maximum-likelihood
    scale of an exponential tail).  Unbounded, so new data beyond the sample range keep their order.
``"bounds"``
    linear extension to a known bound of the support, ``F(a) = 0`` or ``F(b) = 1``.
``"clip"``
    values beyond the sample range are treated as the extreme sample value: the CDF is constant
    ``1 / (n + 1)`` below ``x_min`` (and ``n / (n + 1)`` above ``x_max``); the quantile function
    returns ``x_min`` for probabilities below ``1 / (n + 1)``.

Knot grid
---------
``n_quantiles="all"`` keeps every order statistic.  ``"auto"`` keeps every order statistic for
``n <= 4096`` and otherwise the union of ``max(1024, 2 ceil(sqrt(n)))`` ranks equally spaced in
probability and 1024 ranks equally spaced in log-odds (dense in both tails).  Within a cell of
probability width ``dp`` the chord deviates from the full empirical CDF by about
``sqrt(dp / n)`` (empirical-process fluctuation) plus ``dp**2 |f'| / (8 f**2)`` (curvature); with
``dp <= 1 / (2 sqrt(n))`` in the bulk and ``dp`` proportional to ``min(p, 1 - p)`` in the tails both
stay below the sampling error ``sqrt(p (1 - p) / n)`` of the empirical CDF itself.  An integer
``n_quantiles`` gives that many ranks equally spaced in probability.

Ties
----
A value that occurs ``c > 1`` times occupies the ranks ``r0..r1``; both ``r0`` and ``r1`` are kept as
knots, so the CDF jumps at that value from ``F(r0)`` to ``F(r1)`` (an atom).  With a knot grid
(``n_quantiles`` other than ``"all"``), only runs of ties that contain a grid rank become atoms; a
shorter run lies inside one grid cell, its jump is below the grid's resolution, and its values all
map to one output value.  When data are
transformed (:meth:`EmpiricalDistribution.cdf_sf_ties`), a value at an atom is placed at a uniform
random position within the jump (``ties="spread"``, seeded) or at its middle
(``ties="midrank"``); :meth:`cdf` itself is right-continuous.

Counts
------
:meth:`EmpiricalDistribution.from_counts` builds the same distribution as :meth:`~EmpiricalDistribution.fit`
from distinct values and their counts, in time and memory proportional to the number of distinct
values and knots (the rank of every knot follows from the cumulative counts).  Integer data with few
distinct values, such as 8- and 16-bit images, are fitted this way from :func:`numpy.bincount`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from redistributor._locate import Locator
from redistributor._validation import as_float_1d, check_choice
from redistributor.distributions import Distribution, _chunks

__all__ = ["EmpiricalDistribution", "TAIL_MODELS", "TIE_METHODS"]

TAIL_MODELS = ("gpd", "exponential", "bounds", "clip")
_UNBOUNDED = ("gpd", "exponential")
#: Smallest sample size for which the generalised Pareto tail is fitted (``k = 10`` excesses).
GPD_MIN_SAMPLES = 100
TIE_METHODS = ("spread", "midrank")


def _tie_runs(xs: np.ndarray, chunk: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of every run of >= 2 equal values in sorted ``xs`` (chunked, bounded memory)."""
    n = xs.size
    firsts: list[np.ndarray] = []
    lasts: list[np.ndarray] = []
    for start in range(0, n - 1, chunk):
        stop = min(start + chunk, n - 1)
        eq = xs[start + 1 : stop + 1] == xs[start:stop]  # eq[j]: xs[start+j] == xs[start+j+1]
        if not eq.any():
            continue
        d = np.diff(eq.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
        s = np.flatnonzero(d == 1) + start
        e = np.flatnonzero(d == -1) + start  # run of equal pairs [s, e) -> values s..e
        firsts.append(s)
        lasts.append(e)
    if not firsts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    f = np.concatenate(firsts)
    last = np.concatenate(lasts)
    # merge runs split at chunk borders
    if f.size > 1:
        join = f[1:] == last[:-1]
        if join.any():
            keep_first = np.concatenate([[True], ~join])
            keep_last = np.concatenate([~join, [True]])
            f, last = f[keep_first], last[keep_last]
    return f.astype(np.int64), last.astype(np.int64)


def _tail_k(n: int) -> int:
    """Number of extreme samples behind a tail model: ``ceil(sqrt(n))`` (at least 1, at most ``n - 1``)."""
    return max(1, min(n - 1, math.ceil(math.sqrt(n))))


_XI_GRID = np.round(np.arange(-1.0, 1.5 + 1e-9, 0.005), 3)


def _fit_gpd(z: np.ndarray) -> tuple[float, float] | None:
    """Scale and shape ``(sigma, xi)`` of the generalised Pareto tail through the ``k`` ascending excesses ``z``.

    ``z`` are the distances of the ``k`` most extreme samples beyond the anchor (the ``k + 1``-th most
    extreme sample).  The ``j``-th most extreme sample has the tail probability ``j / (n + 1)``, i.e.
    ``L_j = log((k + 1) / j)`` relative to the anchor, and the Pareto quantile curve is
    ``z(L) = sigma expm1(xi L) / xi``.  The curve is made to pass through the most extreme sample
    (``z(L_1) = z_max``, which fixes ``sigma`` for every ``xi``), and ``xi`` is the value on a grid of
    step 0.005 in ``[-1, 1.5]`` that minimises the weighted squared distance
    ``sum_j j (z_j - z(L_j))**2`` over the samples in between (weight ``j``: the variance of the
    ``j``-th extreme order statistic falls like ``1 / j``).  The anchor and the extreme sample are
    thus kept exactly, as with the order statistics, and the ``k - 1`` samples in between are
    smoothed by a one-parameter monotone curve.  Returns ``None`` for fewer than three excesses.
    """
    k = z.size
    if k < 3:
        return None
    j = np.arange(k, 0, -1, dtype=np.float64)  # z ascending: z[0] is the k-th most extreme, z[-1] the most extreme
    L = np.log((k + 1) / j)
    Lk = L[-1]
    zmax = float(z[-1])
    sse = np.empty(_XI_GRID.size)
    Li, zi, wi = L[None, :-1], z[None, :-1], j[:-1]
    for start in range(0, _XI_GRID.size, 32):  # blocks of the grid: a few hundred kB at a time
        xi = _XI_GRID[start : start + 32, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            shape = np.where(xi == 0, Li / Lk, np.expm1(xi * Li) / np.expm1(xi * Lk))
        shape *= -zmax
        shape += zi
        shape *= shape
        sse[start : start + 32] = shape @ wi
    best = float(_XI_GRID[int(np.argmin(sse))])
    sigma = zmax / Lk if best == 0 else best * zmax / math.expm1(best * Lk)
    if not (math.isfinite(sigma) and sigma > 0):
        return None
    return sigma, best


def _tail_log_ratio(z: np.ndarray, sigma: float, xi: float, zend: float) -> np.ndarray:
    """``L = log(S_anchor / S)`` at the distances ``z >= 0`` beyond a tail's anchor knot.

    Generalised Pareto up to ``zend`` (``L = log1p(xi z / sigma) / xi``; ``z / sigma`` for ``xi = 0``),
    then exponential with the hazard scale ``sigma + xi zend`` the Pareto law has at ``zend``.
    """
    zc = np.minimum(z, zend)
    L = zc / sigma if xi == 0 else np.log1p(xi * zc / sigma) / xi
    if math.isfinite(zend):
        L = L + np.maximum(z - zend, 0.0) / (sigma + xi * zend)
    return L


def _tail_distance(L: np.ndarray, sigma: float, xi: float, zend: float) -> np.ndarray:
    """Inverse of :func:`_tail_log_ratio`: the distance ``z`` at which ``log(S_anchor / S) = L``."""
    if not math.isfinite(zend):
        return sigma * L if xi == 0 else sigma * np.expm1(xi * L) / xi
    Lend = zend / sigma if xi == 0 else math.log1p(xi * zend / sigma) / xi
    Lc = np.minimum(L, Lend)
    z = sigma * Lc if xi == 0 else sigma * np.expm1(xi * Lc) / xi
    return z + np.maximum(L - Lend, 0.0) * (sigma + xi * zend)


def _auto_ranks(n: int, n_quantiles: Any) -> np.ndarray:
    if n_quantiles == "all" or (n_quantiles == "auto" and n <= 4096):
        return np.arange(n, dtype=np.int64)
    if n_quantiles == "auto":
        m = max(1024, 2 * math.ceil(math.sqrt(n)))
        uni = np.rint(np.linspace(0, n - 1, min(m, n))).astype(np.int64)
        lo, hi = math.log(1.0 / n), math.log(n)  # log-odds of ranks 1 and n (out of n + 1)
        t = np.linspace(lo, hi, 1024)
        p = 1.0 / (1.0 + np.exp(-t))
        lg = np.clip(np.rint(p * (n + 1)) - 1, 0, n - 1).astype(np.int64)
        return np.union1d(uni, lg)
    k = int(n_quantiles)
    return np.unique(np.rint(np.linspace(0, n - 1, min(k, n))).astype(np.int64))


def _parse_tails(tails: Any, bounds: tuple) -> tuple[str, str]:
    a, b = bounds
    if tails is None:
        return ("bounds" if a is not None else "gpd", "bounds" if b is not None else "gpd")
    if isinstance(tails, str):
        tails = (tails, tails)
    if not (isinstance(tails, tuple | list) and len(tails) == 2):
        raise ValueError(f"tails={tails!r} is not accepted; use one of {TAIL_MODELS} or a (lower, upper) pair")
    lo = check_choice(tails[0], "tails", TAIL_MODELS)
    hi = check_choice(tails[1], "tails", TAIL_MODELS)
    if lo == "bounds" and a is None:
        raise ValueError("tails='bounds' on the lower side needs bounds=(a, b) with a finite a")
    if hi == "bounds" and b is None:
        raise ValueError("tails='bounds' on the upper side needs bounds=(a, b) with a finite b")
    return lo, hi


def _parse_bounds(bounds: Any) -> tuple[float | None, float | None]:
    if bounds is None:
        return None, None
    if not (isinstance(bounds, tuple | list) and len(bounds) == 2):
        raise ValueError(f"bounds={bounds!r} is not accepted; use (a, b) with None for an open side")
    out = []
    for v in bounds:
        if v is None or (isinstance(v, float) and np.isinf(v)):
            out.append(None)
        else:
            try:
                out.append(float(v))
            except (TypeError, ValueError):
                raise ValueError(f"bounds={bounds!r} is not accepted; use two numbers or None") from None
    if out[0] is not None and out[1] is not None and not out[0] < out[1]:
        raise ValueError(f"bounds={bounds!r} is not accepted; need a < b")
    return out[0], out[1]


def _touched(ranks: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Which runs of ties ``first..last`` contain at least one grid rank."""
    j = np.searchsorted(ranks, first, side="left")
    return (j < ranks.size) & (ranks[np.minimum(j, ranks.size - 1)] <= last)


def _repeat_head(values: np.ndarray, counts: np.ndarray, m: int) -> np.ndarray:
    """The first ``m`` entries of ``np.repeat(values, counts)`` without building the whole array."""
    stop = int(np.searchsorted(np.cumsum(counts), m, side="left")) + 1
    return np.repeat(values[:stop], np.minimum(counts[:stop], m))[:m]


def _check_fit_args(n: int, xmin: float, xmax: float, n_quantiles: Any, tails: Any, bounds: Any,
                    name: str = "x"):
    """Shared checks of :meth:`EmpiricalDistribution.fit` and ``from_counts``; returns (a, b, lo, hi)."""
    if n == 0:
        raise ValueError(f"{name} is empty (or all NaN); need at least two distinct values")
    if xmin == xmax:
        raise ValueError(f"{name} is constant (every value equals {float(xmin)!r}); "
                         "a distribution cannot be estimated from it")
    if not (n_quantiles in ("auto", "all") or (isinstance(n_quantiles, int | np.integer)
                                               and not isinstance(n_quantiles, bool) and n_quantiles >= 2)):
        raise ValueError(f"n_quantiles={n_quantiles!r} is not accepted; use 'auto', 'all' or an integer >= 2")
    a, b = _parse_bounds(bounds)
    lo_model, hi_model = _parse_tails(tails, (a, b))
    if a is not None and xmin < a:
        raise ValueError(f"bounds: the lower bound {a} is above the smallest sample {xmin}")
    if b is not None and xmax > b:
        raise ValueError(f"bounds: the upper bound {b} is below the largest sample {xmax}")
    return a, b, lo_model, hi_model


class EmpiricalDistribution(Distribution):
    """Continuous piecewise-linear distribution through order statistics, with explicit tail models.

    Build it with :meth:`fit` (from samples) or :meth:`from_weighted` (from a quantile sketch); the
    constructor takes the knots directly.  See the module documentation for the plotting positions,
    the knot grid, the tail models and tie handling.

    Parameters
    ----------
    knots_x : array
        Nondecreasing knot positions; a repeated value is an atom (a jump of the CDF).
    knots_rank : array
        Strictly increasing plotting ranks ``r`` (``F = r / (n + 1)``), same length as ``knots_x``.
    n : float
        Number of samples (the total weight).
    tails : (str, str)
        Tail model below and above the knots: ``"gpd"``, ``"exponential"``, ``"bounds"`` or ``"clip"``.
    tail_scales : (float, float)
        Scales of the ``"gpd"`` (``sigma``) and ``"exponential"`` (``beta``) tails (ignored for the other models).
    tail_shapes : (float, float)
        Shapes ``xi`` of the ``"gpd"`` tails (ignored for the other models).
    tail_ends : (float, float)
        Distances from the first/last knot to the extreme sample, where a ``"gpd"`` tail hands over to
        its exponential continuation (ignored for the other models).
    """

    def __init__(self, knots_x, knots_rank, n, tails=("exponential", "exponential"), tail_scales=(1.0, 1.0),
                 tail_shapes=(0.0, 0.0), tail_ends=(math.inf, math.inf)):
        kx = np.ascontiguousarray(knots_x, dtype=np.float64)
        kr = np.ascontiguousarray(knots_rank, dtype=np.float64)
        if kx.ndim != 1 or kx.shape != kr.shape or kx.size < 2:
            raise ValueError("knots_x and knots_rank must be 1-D of equal length >= 2")
        if np.any(np.diff(kx) < 0) or np.any(np.diff(kr) <= 0):
            raise ValueError("knots_x must be nondecreasing and knots_rank strictly increasing")
        self.n = float(n)
        self.tails = (check_choice(tails[0], "tails", TAIL_MODELS), check_choice(tails[1], "tails", TAIL_MODELS))
        self.tail_scales = (float(tail_scales[0]), float(tail_scales[1]))
        shapes = [float(v) if m == "gpd" else 0.0 for v, m in zip(tail_shapes, self.tails, strict=True)]
        ends = [float(v) if m == "gpd" else math.inf for v, m in zip(tail_ends, self.tails, strict=True)]
        self.tail_shapes = (shapes[0], shapes[1])
        self.tail_ends = (ends[0], ends[1])
        self.knots_x = kx
        self.knots_rank = kr
        self._setup()

    def _setup(self) -> None:
        kx, kr, n1 = self.knots_x, self.knots_rank, self.n + 1.0
        self._F = kr / n1
        self._S = (n1 - kr) / n1
        width = np.diff(kx)
        with np.errstate(divide="ignore"):
            inv = np.where(width > 0, 1.0 / np.where(width > 0, width, 1.0), 0.0)
        self._inv_w = np.append(inv, 0.0)
        self._dF = np.append(np.diff(self._F), 0.0)
        self._dS = np.append(-np.diff(self._S), 0.0)
        self._has_atoms = bool(np.any(width == 0))
        self._loc = Locator(kx)
        lo = kx[0] if self.tails[0] not in _UNBOUNDED else -np.inf
        hi = kx[-1] if self.tails[1] not in _UNBOUNDED else np.inf
        self.support = (float(lo), float(hi))
        self._slope = np.append(self._dF[:-1] * inv, 0.0)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def fit(cls, x: Any, *, n_quantiles: Any = "auto", tails: Any = None, bounds: Any = None,
            _name: str = "x") -> EmpiricalDistribution:
        """Estimate the distribution of the samples ``x`` (any shape; NaN ignored; ``x`` is not modified).

        Parameters
        ----------
        x : array_like
            Samples; integers and booleans are accepted.
        n_quantiles : "auto", "all" or int
            Knot grid (see the module documentation).
        tails : str or (str, str), optional
            Tail model(s): ``"gpd"``, ``"exponential"``, ``"bounds"`` or ``"clip"``.  Default: ``"bounds"``
            on a side with a given bound, ``"gpd"`` otherwise.
        bounds : (float or None, float or None), optional
            Known bounds of the support.
        """
        arr = as_float_1d(x, _name)
        xs = np.sort(arr)
        n_nan = int(np.count_nonzero(np.isnan(xs[-1:]))) and int(np.count_nonzero(np.isnan(xs)))
        if n_nan:
            xs = xs[: xs.size - n_nan]
        return cls._from_sorted(xs, n_quantiles=n_quantiles, tails=tails, bounds=bounds, _name=_name)

    @classmethod
    def _from_sorted(cls, xs: np.ndarray, *, n_quantiles: Any = "auto", tails: Any = None, bounds: Any = None,
                     _name: str = "x"):
        n = xs.size
        a, b, lo_model, hi_model = _check_fit_args(n, xs[0] if n else 0.0, xs[-1] if n else 0.0,
                                                   n_quantiles, tails, bounds, _name)
        ranks = _auto_ranks(n, n_quantiles)
        first, last = _tie_runs(xs)
        if first.size and ranks.size < n:
            # a run of ties that no grid rank falls into is finer than the grid: not an atom
            touched = _touched(ranks, first, last)
            first, last = first[touched], last[touched]
        if first.size:
            # knots: the grid ranks plus both ends of every run of ties, none inside a run
            keep = np.zeros(n, dtype=bool)
            keep[ranks] = True
            keep[first] = True
            keep[last] = True
            inside = np.zeros(n + 1, dtype=np.int8)
            inside[first + 1] = 1
            inside[last] -= 1
            keep &= np.cumsum(inside[:n], dtype=np.int8) == 0
            keep[last] = True
            ranks = np.flatnonzero(keep)
        k = _tail_k(n)
        return cls._assemble(xs[ranks], ranks, n, xs[: k + 2], xs[max(0, n - k - 2) :], a, b, lo_model, hi_model)

    @classmethod
    def _assemble(cls, kx, ranks, n, head, tail, a, b, lo_model, hi_model):
        """Knots at sample ranks (0-based) plus tails; ``head``/``tail``: the ``k + 2`` smallest/largest samples.

        A ``"gpd"`` side needs ``n >= GPD_MIN_SAMPLES`` and ``k + 2`` distinct extreme values on that side
        (no atom in the tail); otherwise it falls back to ``"exponential"``.  With a Pareto tail the
        knots stop at the ``k + 1``-th most extreme sample (the anchor) and the model replaces the
        order statistics beyond it.
        """
        k = _tail_k(n)
        h1, t1 = head[: k + 1], tail[tail.size - k - 1 :]
        span = float(tail[-1] - head[0])
        shapes, ends, scales = [0.0, 0.0], [math.inf, math.inf], [1.0, 1.0]
        models = [lo_model, hi_model]
        for side, ext in ((0, head), (1, tail[::-1])):
            if models[side] != "gpd":
                continue
            fitted = None
            if n >= GPD_MIN_SAMPLES and ext.size == k + 2 and np.all(np.diff(ext) > 0 if side == 0 else np.diff(ext) < 0):
                z = np.abs(ext[:k][::-1] - ext[k])  # ascending excesses beyond the anchor ext[k]
                fitted = _fit_gpd(z)
            if fitted is None:
                models[side] = "exponential"
            else:
                scales[side], shapes[side] = fitted
                ends[side] = float(abs(ext[0] - ext[k]))
        lo_model, hi_model = models
        if lo_model == "exponential":
            beta_lo = float(np.mean(h1[k] - h1[:k]))
            scales[0] = beta_lo if beta_lo > 0 else span / n
        if hi_model == "exponential":
            beta_hi = float(np.mean(t1[1:] - t1[0]))
            scales[1] = beta_hi if beta_hi > 0 else span / n
        if lo_model == "gpd" or hi_model == "gpd":
            keep = np.ones(ranks.size, dtype=bool)
            extra_r, extra_x = [], []
            if lo_model == "gpd":
                keep &= ranks >= k
                if not np.any(ranks == k):
                    extra_r.append(k)
                    extra_x.append(head[k])
            if hi_model == "gpd":
                keep &= ranks <= n - k - 1
                if not np.any(ranks == n - k - 1):
                    extra_r.append(n - k - 1)
                    extra_x.append(tail[tail.size - k - 1])
            ranks = np.concatenate([ranks[keep], np.asarray(extra_r, dtype=np.int64)])
            kx = np.concatenate([kx[keep], np.asarray(extra_x, dtype=np.float64)])
            order = np.argsort(ranks, kind="stable")
            ranks, kx = ranks[order], kx[order]
        kr = ranks.astype(np.float64) + 1.0
        if lo_model == "bounds":
            kx = np.concatenate([[a], kx])
            kr = np.concatenate([[0.0], kr])
        if hi_model == "bounds":
            kx = np.concatenate([kx, [b]])
            kr = np.concatenate([kr, [n + 1.0]])
        return cls(kx, kr, n, (lo_model, hi_model), tuple(scales), tuple(shapes), tuple(ends))

    @classmethod
    def from_counts(cls, values: Any, counts: Any, *, n_quantiles: Any = "auto", tails: Any = None,
                    bounds: Any = None, _name: str = "values") -> EmpiricalDistribution:
        """Estimate the distribution of data given as distinct values and how often each occurs.

        The result is identical to ``fit(np.repeat(values, counts))`` (same knots, ranks and tail
        scales) but costs memory and time in the number of distinct values and knots only, not in the
        number of samples: the rank of every knot follows from the cumulative counts.  This is the
        fast path for integer data with few distinct values such as 8- or 16-bit images, whose counts
        come from :func:`numpy.bincount`.

        Parameters
        ----------
        values : array_like
            Distinct sample values (any order; NaN and +-inf are rejected).
        counts : array_like of int
            Number of samples equal to each value (``>= 0``; values with count 0 are ignored).
        n_quantiles, tails, bounds
            As in :meth:`fit`.
        """
        v = as_float_1d(values, "values", allow_nan=False, min_size=0)
        c = np.asarray(counts)
        if c.shape != np.shape(values) or c.ndim != 1:
            raise ValueError(f"counts must be 1-D with one entry per value, got shapes {c.shape} and {np.shape(values)}")
        if c.size and (c.dtype.kind not in "iub" or c.min() < 0):
            raise ValueError("counts must be non-negative integers")
        c = c.astype(np.int64)
        order = np.argsort(v, kind="stable")
        v, c = v[order], c[order]
        if v.size > 1 and np.any(v[1:] == v[:-1]):
            raise ValueError("values must be distinct (merge the counts of equal values)")
        nz = c > 0
        v, c = v[nz], c[nz]
        n = int(c.sum())
        a, b, lo_model, hi_model = _check_fit_args(n, v[0] if n else 0.0, v[-1] if n else 0.0,
                                                   n_quantiles, tails, bounds, _name)
        end = np.cumsum(c)  # samples of value j occupy ranks end[j] - c[j] .. end[j] - 1
        start = end - c
        ranks = _auto_ranks(n, n_quantiles)
        tie = np.flatnonzero(c >= 2)
        if tie.size:
            first, last = start[tie], end[tie] - 1
            if ranks.size < n:
                keep_tie = _touched(ranks, first, last)
                tie, first, last = tie[keep_tie], first[keep_tie], last[keep_tie]
            atom = np.zeros(v.size, dtype=bool)
            atom[tie] = True
            j = np.searchsorted(end, ranks, side="right")
            strictly_inside = atom[j] & (ranks > start[j]) & (ranks < end[j] - 1)
            ranks = np.union1d(ranks[~strictly_inside], np.concatenate([first, last]))
        kx = v[np.searchsorted(end, ranks, side="right")]
        k = _tail_k(n)
        return cls._assemble(kx, ranks, n, _repeat_head(v, c, k + 2), _repeat_head(v[::-1], c[::-1], k + 2)[::-1],
                             a, b, lo_model, hi_model)

    @classmethod
    def from_weighted(cls, values, weights, *, minimum=None, maximum=None, tails: Any = None, bounds: Any = None):
        """Build the distribution from weighted points (e.g. the items of a quantile sketch).

        Each point of weight ``w`` stands for ``w`` samples; the plotting rank of a point is the middle
        of the ranks it stands for.  ``minimum`` and ``maximum`` (exact extremes, when known) become the
        first and last knots.
        """
        v = np.asarray(values, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        order = np.argsort(v, kind="stable")
        v, w = v[order], w[order]
        n = float(w.sum())
        if v.size == 0 or n <= 0:
            raise ValueError("the sketch is empty; feed it data before building a distribution")
        vmin = float(v[0] if minimum is None else minimum)
        vmax = float(v[-1] if maximum is None else maximum)
        if vmin == vmax:
            raise ValueError(f"x is constant (every value equals {vmin!r}); a distribution cannot be estimated from it")
        # collapse equal values to one weighted point, then give each point its rank range
        uniq, inv = np.unique(v, return_inverse=True)
        wu = np.bincount(inv, weights=w)
        cum = np.cumsum(wu)
        first_rank = cum - wu + 1.0
        last_rank = cum
        atom = wu > 1.5  # a point standing for several samples: keep the spread of its ranks
        # a weighted point from a sketch stands for w samples *around* it, not w equal samples;
        # only genuine repeats (the same value inserted several times) are atoms.  Sketch points with
        # weight > 1 but a unique value are represented by their mid rank.
        mult = np.bincount(inv)
        atom &= mult > 1
        mid = 0.5 * (first_rank + last_rank)
        kx = np.where(atom[:, None], np.stack([uniq, uniq], 1), np.stack([uniq, uniq], 1))
        kr = np.where(atom[:, None], np.stack([first_rank, last_rank], 1), np.stack([mid, mid], 1))
        keep = np.ones(kx.shape, dtype=bool)
        keep[~atom, 1] = False
        kx, kr = kx[keep], kr[keep]
        if kx[0] > vmin:
            kx, kr = np.concatenate([[vmin], kx]), np.concatenate([[1.0], kr])
        if kx[-1] < vmax:
            kx, kr = np.concatenate([kx, [vmax]]), np.concatenate([kr, [n]])
        # ranks must increase strictly; clamp into [1, n] and drop collisions
        kr = np.clip(kr, 1.0, n)
        ok = np.concatenate([[True], np.diff(kr) > 0])
        kx, kr = kx[ok], kr[ok]
        a, b = _parse_bounds(bounds)
        lo_model, hi_model = _parse_tails(tails, (a, b))
        # a sketch keeps weighted points, not the extreme order statistics a Pareto fit needs
        lo_model = "exponential" if lo_model == "gpd" else lo_model
        hi_model = "exponential" if hi_model == "gpd" else hi_model
        nk = kx.size
        k = max(1, min(nk - 1, math.ceil(math.sqrt(nk))))
        span = vmax - vmin
        beta_lo = float(np.average(kx[k] - kx[:k], weights=np.diff(np.concatenate([[0.0], kr[:k]])) + 1e-300))
        beta_hi = float(np.average(kx[nk - k :] - kx[nk - k - 1], weights=np.diff(kr[nk - k - 1 :]) + 1e-300))
        beta_lo = beta_lo if beta_lo > 0 else span / n
        beta_hi = beta_hi if beta_hi > 0 else span / n
        if lo_model == "bounds":
            if a > vmin:
                raise ValueError(f"bounds: the lower bound {a} is above the smallest sample {vmin}")
            kx, kr = np.concatenate([[a], kx]), np.concatenate([[0.0], kr])
        if hi_model == "bounds":
            if b < vmax:
                raise ValueError(f"bounds: the upper bound {b} is below the largest sample {vmax}")
            kx, kr = np.concatenate([kx, [b]]), np.concatenate([kr, [n + 1.0]])
        return cls(kx, kr, n, (lo_model, hi_model), (beta_lo, beta_hi))

    # -- evaluation ------------------------------------------------------------------------
    def cdf_sf_ties(self, x: np.ndarray, ties: str = "spread", rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``(F, S)`` at ``x`` (1-D float64, no NaN) with values at atoms spread (``"spread"``) or centred (``"midrank"``)."""
        return self._eval(x, ties, rng)

    def _cdf_sf(self, x):
        return self._eval(x, None, None)

    def _eval(self, x, ties, rng):
        F = np.empty_like(x)
        S = np.empty_like(x)
        kx = self.knots_x
        lo_model, hi_model = self.tails
        for sl in _chunks(x.size):
            xc = x[sl]
            if lo_model == "clip":
                xc = np.maximum(xc, kx[0])
            if hi_model == "clip":
                xc = np.minimum(xc, kx[-1])
            i = self._loc(xc)
            w = xc - kx[i]
            w *= self._inv_w[i]
            f = self._dF[i]
            f *= w
            f += self._F[i]
            s = self._dS[i]
            s *= w
            np.subtract(self._S[i], s, out=s)
            if ties is not None and self._has_atoms:
                at = self._at_atom(i, xc)
                if at.any():
                    ia = i[at]
                    v = 0.5 if ties == "midrank" else rng.random(ia.size)
                    f[at] = self._F[ia - 1] + v * (self._F[ia] - self._F[ia - 1])
                    s[at] = self._S[ia] + (1.0 - v) * (self._S[ia - 1] - self._S[ia])
            below = xc < kx[0]
            if self.tails[0] != "clip" and below.any():
                if lo_model in _UNBOUNDED:
                    f[below] = self._F[0] * np.exp(-self._tail_L(0, kx[0] - xc[below]))
                else:  # bounds: outside the support
                    f[below] = 0.0
                s[below] = 1.0 - f[below]
            above = xc > kx[-1]
            if self.tails[1] != "clip" and above.any():
                if hi_model in _UNBOUNDED:
                    s[above] = self._S[-1] * np.exp(-self._tail_L(1, xc[above] - kx[-1]))
                else:
                    s[above] = 0.0
                f[above] = 1.0 - s[above]
            F[sl] = f
            S[sl] = s
        return F, S

    def _tail_L(self, side: int, z: np.ndarray) -> np.ndarray:
        """``log`` of the anchor's tail probability over the tail probability at distance ``z`` beyond it."""
        return _tail_log_ratio(z, self.tail_scales[side], self.tail_shapes[side], self.tail_ends[side])

    def _tail_hazard_scale(self, side: int, z: np.ndarray) -> np.ndarray:
        """``1 / hazard`` of the tail at distance ``z`` beyond the anchor (the density is ``F / this``)."""
        xi, zend = self.tail_shapes[side], self.tail_ends[side]
        return self.tail_scales[side] + xi * np.minimum(z, zend)

    def _at_atom(self, i: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Mask of points ``x`` equal to their knot ``i`` where the CDF jumps (an atom)."""
        kx = self.knots_x
        at = i > 0
        at &= x == kx[i]
        at[at] = kx[i[at] - 1] == kx[i[at]]
        return at

    def atom_jumps(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Where the points ``x`` (1-D float64, no NaN) sit on an atom, and the jump there.

        Returns ``(at, F_lo, dF, S_hi, dS)``: ``at`` marks the points at an atom; for those, the CDF
        jumps from ``F_lo`` to ``F_lo + dF`` and the survival function from ``S_hi + dS`` down to
        ``S_hi``.  ``cdf_sf_ties`` places a tied point at ``F_lo + v dF``, ``S_hi + (1 - v) dS`` with
        ``v`` uniform (``"spread"``) or ``1/2`` (``"midrank"``); the counting path of
        :class:`~redistributor.transformer.Redistributor` uses this to spread ties per distinct value.
        """
        kx = self.knots_x
        xc = x
        if self.tails[0] == "clip":
            xc = np.maximum(xc, kx[0])
        if self.tails[1] == "clip":
            xc = np.minimum(xc, kx[-1])
        i = self._loc(xc)
        at = self._at_atom(i, xc) if self._has_atoms else np.zeros(x.shape, dtype=bool)
        ia = i[at]
        F, S = self._F, self._S
        return at, F[ia - 1], F[ia] - F[ia - 1], S[ia], S[ia - 1] - S[ia]

    def _ppf_cdf_sf(self, F, S):
        F = np.asarray(F, dtype=np.float64)
        S = np.asarray(S, dtype=np.float64)
        out = np.empty_like(F)
        kx, kF, kS = self.knots_x, self._F, self._S
        if not hasattr(self, "_locF"):
            self._locF = Locator(kF)
            self._dxdF = np.append(np.diff(kx) / np.diff(kF), 0.0)
            self._dxdS = np.append(np.diff(kx) / -np.diff(kS), 0.0)
        # one interval search (through F); the offset within the interval from F in the lower half
        # and from S in the upper half, so that both tails keep their relative precision
        i = self._locF(F)
        base = kx[i]
        lo_part = F - kF[i]
        lo_part *= self._dxdF[i]
        hi_part = kS[i] - S
        hi_part *= self._dxdS[i]
        out = base + np.where(F <= 0.5, lo_part, hi_part)
        lo_f, hi_s = kF[0], kS[-1]
        tail_lo = F < lo_f
        if tail_lo.any():
            if self.tails[0] in _UNBOUNDED:
                with np.errstate(divide="ignore"):
                    out[tail_lo] = kx[0] - _tail_distance(math.log(lo_f) - np.log(F[tail_lo]), self.tail_scales[0],
                                                          self.tail_shapes[0], self.tail_ends[0])
            else:
                out[tail_lo] = kx[0]
        tail_hi = S < hi_s
        if tail_hi.any():
            if self.tails[1] in _UNBOUNDED:
                with np.errstate(divide="ignore"):
                    out[tail_hi] = kx[-1] + _tail_distance(math.log(hi_s) - np.log(S[tail_hi]), self.tail_scales[1],
                                                           self.tail_shapes[1], self.tail_ends[1])
            else:
                out[tail_hi] = kx[-1]
        return out

    def _pdf(self, x):
        kx = self.knots_x
        i = self._loc(x)
        out = self._slope[i].copy()
        below, above = x < kx[0], x > kx[-1]
        if self.tails[0] in _UNBOUNDED:
            z = kx[0] - x[below]
            out[below] = self._F[0] * np.exp(-self._tail_L(0, z)) / self._tail_hazard_scale(0, z)
        else:
            out[below] = 0.0
        if self.tails[1] in _UNBOUNDED:
            z = x[above] - kx[-1]
            out[above] = self._S[-1] * np.exp(-self._tail_L(1, z)) / self._tail_hazard_scale(1, z)
        else:
            out[above] = 0.0
        out[x == kx[-1]] = self._slope[-2] if self.tails[1] != "clip" else 0.0
        return out

    @property
    def n_knots(self) -> int:
        """Number of knots of the piecewise-linear CDF."""
        return int(self.knots_x.size)

    def _spec(self):
        meta = {"type": "empirical", "n": self.n, "tails": list(self.tails), "tail_scales": list(self.tail_scales)}
        if "gpd" in self.tails:
            meta["tail_shapes"] = list(self.tail_shapes)
            meta["tail_ends"] = [v if math.isfinite(v) else None for v in self.tail_ends]
        return meta, {"knots_x": self.knots_x, "knots_rank": self.knots_rank}

    @classmethod
    def _from_spec(cls, meta: dict, arrays: dict) -> EmpiricalDistribution:
        ends = [math.inf if v is None else v for v in meta.get("tail_ends", [None, None])]
        return cls(arrays["knots_x"], arrays["knots_rank"], meta["n"], tuple(meta["tails"]), tuple(meta["tail_scales"]),
                   tuple(meta.get("tail_shapes", [0.0, 0.0])), tuple(ends))

    def __repr__(self) -> str:
        return f"EmpiricalDistribution(n={self.n:g}, n_knots={self.n_knots}, tails={self.tails})"
