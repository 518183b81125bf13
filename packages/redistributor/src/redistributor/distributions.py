"""Distributions usable as source or target: a common interface and any scipy.stats distribution.

Every distribution here offers ``cdf``, ``sf``, ``ppf``, ``isf``, ``pdf`` and ``rvs``.  Internally the
transform works with the pair ``(F, S) = (cdf(x), sf(x))`` so that both tails keep full relative
precision: a point deep in the upper tail of the source is mapped through the survival function
and the inverse survival function of the target, never through ``1 - F``.

:class:`ScipyDistribution` wraps a frozen ``scipy.stats`` continuous distribution.  For the normal,
uniform, exponential, logistic and Laplace families the map uses closed forms (exact).  For every
other family (beta, gamma, Student t, ...) the quantile function is tabulated once as a function of
the log-odds ``t = log(F / S)`` and evaluated by cubic Hermite interpolation with exact derivatives
``dx/dt = F S / pdf(x)``.  The table is refined until the interpolation error, checked against scipy
at every interval midpoint (where the cubic-Hermite error term peaks), is below ``tol``
(``1e-11`` by default, relative to ``max(1, |x|)``); ``error_bound`` reports twice the largest
midpoint error found.  Probabilities beyond the table (``F`` or ``S`` below about ``2e-16``) fall
back to scipy's own ``ppf``/``isf``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from redistributor._validation import as_float_1d

__all__ = ["Distribution", "ScipyDistribution", "as_distribution", "TARGET_NAMES"]

#: scipy.stats names accepted by :func:`as_distribution` as plain strings (with their parameters).
TARGET_NAMES = (
    "norm", "uniform", "beta", "gamma", "expon", "logistic", "laplace", "t", "lognorm",
    "cauchy", "chi2", "weibull_min", "gumbel_r", "rayleigh",
)

_CHUNK = 1 << 16


def _chunks(n: int, size: int = _CHUNK):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class Distribution:
    """Base class: a one-dimensional distribution with ``cdf``, ``sf``, ``ppf``, ``isf``, ``pdf``, ``rvs``.

    Subclasses implement ``_cdf_sf(x) -> (F, S)`` and ``_ppf_cdf_sf(F, S) -> x`` on 1-D float64 arrays
    without NaN, and ``_pdf``; everything else is derived.
    """

    #: lower and upper end of the support
    support: tuple[float, float] = (-np.inf, np.inf)

    # -- to be implemented -------------------------------------------------------------
    def _cdf_sf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def _ppf_cdf_sf(self, F: np.ndarray, S: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _pdf(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # -- public, vectorised, NaN-transparent ---------------------------------------------
    def _apply(self, x: Any, fn, name: str) -> np.ndarray | float:
        arr = np.asarray(x, dtype=np.float64)
        flat = arr.ravel()
        out = np.full(flat.shape, np.nan)
        ok = ~np.isnan(flat)
        if ok.any():
            out[ok] = fn(flat[ok])
        out = out.reshape(arr.shape)
        return float(out) if out.ndim == 0 else out

    def cdf(self, x: Any) -> np.ndarray:
        """Cumulative distribution function ``P(X <= x)``."""
        return self._apply(x, lambda v: self._cdf_sf(v)[0], "x")

    def sf(self, x: Any) -> np.ndarray:
        """Survival function ``P(X > x)``, accurate where it is tiny."""
        return self._apply(x, lambda v: self._cdf_sf(v)[1], "x")

    def pdf(self, x: Any) -> np.ndarray:
        """Probability density function."""
        return self._apply(x, self._pdf, "x")

    def _check_prob(self, q: Any, name: str) -> np.ndarray:
        arr = np.asarray(q, dtype=np.float64)
        bad = (arr < 0) | (arr > 1)
        if np.any(bad):
            raise ValueError(f"{name} must lie in [0, 1], got values such as {arr[bad].ravel()[0]!r}")
        return arr

    def ppf(self, q: Any) -> np.ndarray:
        """Quantile function (inverse of ``cdf``)."""
        q = self._check_prob(q, "q")
        return self._apply(q, lambda v: self._ppf_cdf_sf(v, 1.0 - v), "q")

    def isf(self, q: Any) -> np.ndarray:
        """Inverse survival function, ``ppf(1 - q)`` computed without cancellation."""
        q = self._check_prob(q, "q")
        return self._apply(q, lambda v: self._ppf_cdf_sf(1.0 - v, v), "q")

    def rvs(self, size: int | tuple[int, ...] = 1, random_state: Any = None) -> np.ndarray:
        """Draw samples by inversion; ``random_state`` seeds :func:`numpy.random.default_rng`."""
        rng = np.random.default_rng(random_state)
        u = rng.random(size)
        flat = u.ravel()
        # use the lower half of u for F and mirror the upper half into S for full tail precision
        F = np.where(flat <= 0.5, flat, 1.0 - flat)
        S = 1.0 - F
        upper = flat > 0.5
        F[upper], S[upper] = S[upper], F[upper]
        out = self._ppf_cdf_sf(F, S) if flat.size else flat
        return np.asarray(out).reshape(np.shape(u))

    def _spec(self) -> tuple[dict, dict]:  # pragma: no cover - overridden
        """Return (JSON-able description, arrays) for saving without pickle."""
        raise TypeError(f"{type(self).__name__} cannot be saved")


# ---------------------------------------------------------------------------------------------
# scipy distributions
# ---------------------------------------------------------------------------------------------

_EXACT = {"norm", "uniform", "expon", "logistic", "laplace"}


class _HermiteQuantile:
    """Cubic Hermite table of ``x(t) = ppf(expit(t))`` on a uniform grid in ``t``."""

    T_MAX = 36.0  # expit(-36) ~ 2.3e-16

    def __init__(self, frozen: Any, tol: float, max_intervals: int = 1 << 18):
        self.frozen = frozen
        lo, hi = -self.T_MAX, self.T_MAX
        n = 1024
        while True:
            t = np.linspace(lo, hi, n + 1)
            x, dxdt = self._exact_with_slope(t)
            if not (np.all(np.isfinite(x)) and np.all(np.isfinite(dxdt))):
                # shrink the tabulated range until the quantile function and its slope are finite
                finite = np.isfinite(x) & np.isfinite(dxdt)
                idx = np.flatnonzero(finite)
                if idx.size < 16:
                    raise ValueError("quantile function cannot be tabulated")
                lo, hi = t[idx[0] + 1], t[idx[-1] - 1]
                continue
            h = (hi - lo) / n
            c0 = x[:-1]
            c1 = h * dxdt[:-1]
            delta = np.diff(x)
            c2 = 3 * delta - 2 * c1 - h * dxdt[1:]
            c3 = c1 + h * dxdt[1:] - 2 * delta
            tm = 0.5 * (t[:-1] + t[1:])
            xm = self._exact(tm)
            approx = c0 + 0.5 * (c1 + 0.5 * (c2 + 0.5 * c3))
            err = float(np.max(np.abs(approx - xm) / np.maximum(1.0, np.abs(xm))))
            if err <= tol or 2 * n > max_intervals:
                break
            n *= 2
        self.error = err
        self.converged = err <= tol
        self.t0, self.t1, self.h, self.n = lo, hi, h, n
        self.inv_h = 1.0 / h
        self.coef = tuple(np.ascontiguousarray(c) for c in (c0, c1, c2, c3))

    def _exact(self, t: np.ndarray) -> np.ndarray:
        F = special.expit(t)
        S = special.expit(-t)
        return np.where(t <= 0, self.frozen.ppf(F), self.frozen.isf(S))

    def _exact_with_slope(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self._exact(t)
        F = special.expit(t)
        S = special.expit(-t)
        with np.errstate(divide="ignore", invalid="ignore"):
            dxdt = F * S / self.frozen.pdf(x)
        return x, dxdt

    def __call__(self, t: np.ndarray) -> np.ndarray:
        out = np.empty_like(t)
        c0, c1, c2, c3 = self.coef
        for sl in _chunks(t.size):
            tc = t[sl]
            pos = tc - self.t0
            pos *= self.inv_h
            far = (pos < 0) | (pos > self.n)
            np.clip(pos, 0, self.n, out=pos)
            j = pos.astype(np.intp)
            np.minimum(j, self.n - 1, out=j)
            pos -= j  # now the fraction s in [0, 1]
            res = c3[j]
            res *= pos
            res += c2[j]
            res *= pos
            res += c1[j]
            res *= pos
            res += c0[j]
            if far.any():
                res[far] = self._exact(tc[far])
            out[sl] = res
        return out


class ScipyDistribution(Distribution):
    """A frozen ``scipy.stats`` continuous distribution with fast, accurate quantile paths.

    Parameters
    ----------
    frozen : scipy.stats frozen continuous distribution
        For example ``scipy.stats.beta(2, 5)``.
    fast : bool, default True
        Use closed forms or the Hermite quantile table (see the module documentation).
        With ``False`` every call goes to scipy.
    tol : float, default 1e-11
        Target interpolation error of the quantile table, relative to ``max(1, |x|)``.

    Attributes
    ----------
    method : str
        ``"closed-form"``, ``"hermite-table"`` or ``"scipy"``.
    error_bound : float
        Stated bound on the error of the quantile path relative to ``max(1, |x|)``:
        0 for closed forms (up to rounding), twice the largest midpoint error of the table otherwise.
    """

    def __init__(self, frozen: Any, *, fast: bool = True, tol: float = 1e-11):
        dist = getattr(frozen, "dist", None)
        if not isinstance(dist, stats.rv_continuous):
            raise TypeError(
                f"frozen must be a frozen scipy.stats continuous distribution such as "
                f"scipy.stats.norm(0, 1), got {type(frozen).__name__}"
            )
        self.frozen = frozen
        self.name = dist.name
        self.fast = bool(fast)
        self.tol = float(tol)
        self.support = tuple(float(v) for v in frozen.support())
        loc, scale = self._loc_scale()
        self._loc, self._scale = loc, scale
        self._table: _HermiteQuantile | None = None
        if not self.fast:
            self.method, self.error_bound = "scipy", 0.0
        elif self.name in _EXACT and not self._shape_args():
            self.method, self.error_bound = "closed-form", 0.0
        else:
            self.method, self.error_bound = "hermite-table", float("nan")  # built on first use

    def _shape_args(self) -> tuple:
        args = self.frozen.args
        n_shapes = self.frozen.dist.numargs
        return tuple(args[:n_shapes])

    def _loc_scale(self) -> tuple[float, float]:
        _, loc, scale = self.frozen.dist._parse_args(*self.frozen.args, **self.frozen.kwds)
        return float(loc), float(scale)

    def _ensure_table(self) -> _HermiteQuantile | None:
        if self.method != "hermite-table":
            return None
        if self._table is None:
            try:
                table = _HermiteQuantile(self.frozen, self.tol)
            except ValueError:
                table = None
            if table is None or not table.converged:
                self.method, self.error_bound = "scipy", 0.0
                return None
            self._table = table
            self.error_bound = 2.0 * table.error
        return self._table

    # -- core ----------------------------------------------------------------------------
    def _cdf_sf(self, x):
        if self.method == "closed-form" and self.name == "norm":
            z = (x - self._loc) / self._scale
            return special.ndtr(z), special.ndtr(-z)
        return self.frozen.cdf(x), self.frozen.sf(x)

    def _pdf(self, x):
        return self.frozen.pdf(x)

    def _ppf_cdf_sf(self, F, S):
        F = np.asarray(F, dtype=np.float64)
        S = np.asarray(S, dtype=np.float64)
        if self.method == "closed-form":
            return self._closed_form(F, S)
        table = self._ensure_table()
        if table is not None:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                t = np.log(F / S)  # +-inf beyond the table: scipy's own ppf/isf
            return table(t)
        lower = F <= 0.5
        out = np.empty_like(F)
        out[lower] = self.frozen.ppf(F[lower])
        out[~lower] = self.frozen.isf(S[~lower])
        return out

    def _closed_form(self, F, S):
        loc, scale, name = self._loc, self._scale, self.name
        lower = F <= 0.5
        with np.errstate(divide="ignore"):
            if name == "norm":
                z = np.where(lower, special.ndtri(F), -special.ndtri(S))
            elif name == "uniform":
                z = np.where(lower, F, 1.0 - S)
            elif name == "expon":
                z = np.where(lower, -np.log1p(-F), -np.log(S))
            elif name == "logistic":
                z = np.log(F) - np.log(S)
            else:  # laplace
                z = np.where(lower, np.log(2.0 * F), -np.log(2.0 * S))
        return loc + scale * z

    def _spec(self):
        args = [float(a) for a in self.frozen.args]
        kwds = {k: float(v) for k, v in self.frozen.kwds.items()}
        return {"type": "scipy", "name": self.name, "args": args, "kwds": kwds,
                "fast": self.fast, "tol": self.tol}, {}

    def __repr__(self) -> str:
        args = ", ".join([repr(a) for a in self.frozen.args] + [f"{k}={v!r}" for k, v in self.frozen.kwds.items()])
        return f"ScipyDistribution(scipy.stats.{self.name}({args}))"


def as_distribution(spec: Any, name: str = "target", params: dict | None = None) -> Distribution:
    """Turn a user specification into a :class:`Distribution`.

    Parameters
    ----------
    spec : str, Distribution or frozen scipy.stats distribution
        A name such as ``"norm"`` or ``"beta"`` (any continuous distribution in ``scipy.stats``; the
        common names are listed in ``TARGET_NAMES``), an existing :class:`Distribution`, or a frozen
        scipy distribution such as ``scipy.stats.beta(2, 5)``.
    name : str
        Argument name used in error messages.
    params : dict, optional
        Parameters of a named scipy distribution, e.g. ``{"a": 2, "b": 5}`` for ``"beta"``.
    """
    if isinstance(spec, Distribution):
        return spec
    if isinstance(spec, str):
        dist = getattr(stats, spec, None)
        if not isinstance(dist, stats.rv_continuous):
            raise ValueError(
                f"{name}={spec!r} is not a known distribution; use a continuous scipy.stats name "
                f"such as {', '.join(map(repr, TARGET_NAMES))}, a Distribution or a frozen scipy distribution"
            )
        try:
            frozen = dist(**(params or {}))
            frozen.support()
            frozen.ppf(0.5)
        except TypeError as exc:
            raise ValueError(
                f"{name}={spec!r}: parameters {params!r} are not accepted by scipy.stats.{spec} "
                f"(shape parameters: {dist.shapes or 'none'}; plus loc, scale): {exc}"
            ) from None
        if not np.isfinite(frozen.ppf(0.5)):
            raise ValueError(f"{name}={spec!r}: parameters {params!r} are outside the valid range")
        return ScipyDistribution(frozen)
    if isinstance(getattr(spec, "dist", None), stats.rv_continuous):
        return ScipyDistribution(spec)
    if isinstance(getattr(spec, "dist", None), stats.rv_discrete):
        raise TypeError(f"{name} must be continuous; a discrete scipy distribution was given")
    raise TypeError(
        f"{name} must be a distribution name (e.g. 'norm'), a redistributor Distribution or a frozen "
        f"scipy.stats distribution, got {type(spec).__name__}"
    )


def _float_array(x: Any, name: str) -> np.ndarray:
    return as_float_1d(x, name)
