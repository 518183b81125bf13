"""The :class:`Redistributor` transformer: ``R = F_T^{-1} o F_S``, one monotone map per column."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from redistributor._validation import check_choice
from redistributor.distributions import _CHUNK, Distribution, as_distribution
from redistributor.empirical import TIE_METHODS, EmpiricalDistribution

__all__ = ["Redistributor", "SOURCE_METHODS"]

#: Ways to learn the source distribution from data.
SOURCE_METHODS = ("empirical", "kde", "sketch")
_DTYPES = ("float64", "float32", "preserve")


def _is_dask(X: Any) -> bool:
    return type(X).__module__.startswith("dask.") and hasattr(X, "chunks")


def _is_samples(spec: Any) -> bool:
    """A target given as samples (a numeric array) rather than as a distribution."""
    if isinstance(spec, str | Distribution) or hasattr(spec, "dist"):
        return False
    if isinstance(spec, list | tuple) and spec and not isinstance(spec[0], int | float | np.number):
        return False
    return isinstance(spec, np.ndarray | list | tuple) or _is_dask(spec)


def _map_chunk(src: Distribution, tgt: Distribution, x: np.ndarray, ties: str, rng: Any, inverse: bool) -> np.ndarray:
    """Apply the map (or its inverse) to one 1-D float64 chunk; NaN passes through."""
    nan = np.isnan(x)
    has_nan = bool(nan.any())
    v = x[~nan] if has_nan else x
    if inverse:
        F, S = tgt._cdf_sf(v)
        y = src._ppf_cdf_sf(F, S)
    else:
        if isinstance(src, EmpiricalDistribution):
            F, S = src.cdf_sf_ties(v, ties, rng)
        else:
            F, S = src._cdf_sf(v)
        y = tgt._ppf_cdf_sf(F, S)
    if not has_nan:
        return y
    out = np.full(x.shape, np.nan)
    out[~nan] = y
    return out


#: Integer columns whose values span at most ``max(_MAX_LEVELS, min(n, _MAX_LEVELS_CAP))`` levels take
#: the counting path: counts by ``np.bincount`` in ``fit`` and one evaluation of the map per distinct
#: value (a lookup table) in ``transform``.  Its results equal those of the general path exactly.
_MAX_LEVELS = 1 << 16
_MAX_LEVELS_CAP = 1 << 24
_BINCOUNT_CHUNK = 1 << 20


def _codes(x: np.ndarray, lo: int) -> np.ndarray:
    """``x - lo`` as non-negative integers (``x`` integer or bool, values in ``[lo, lo + span)``)."""
    if x.dtype == bool:
        return x.view(np.uint8)
    if lo == 0 and x.dtype.kind == "u" and x.dtype.itemsize <= 4:
        return x
    udt = np.dtype(f"u{x.dtype.itemsize}")
    # subtract in the unsigned type of the same width: wraps modulo 2**bits, exact because span < 2**bits
    c = x.view(udt) - np.array(lo, dtype=x.dtype).view(udt)
    return c.astype(np.intp) if udt.itemsize == 8 else c


def integer_levels(x: np.ndarray, *, need_counts: bool = True) -> tuple[int, np.ndarray] | None:
    """``(lo, counts)`` with ``counts[k]`` the number of entries equal to ``lo + k``, for an integer or
    bool 1-D array spanning few levels (see ``_MAX_LEVELS``); ``None`` when the counting path does not apply.

    With ``need_counts=False`` the counts of 8- and 16-bit input are not computed: every level of the
    type is then reported present (count 1), which is enough to build a lookup table."""
    if x.dtype.kind not in "biu" or x.size == 0 or _MAX_LEVELS <= 0:
        return None
    xv = x.view(np.uint8) if x.dtype == bool else x
    if xv.dtype.itemsize <= 2:  # 8- and 16-bit: count over the whole range of the type (no min/max pass)
        info = np.iinfo(xv.dtype)
        lo, span = int(info.min), int(info.max) - int(info.min) + 1
    else:
        lo, hi = int(xv.min()), int(xv.max())
        if x.dtype.itemsize == 8 and (lo < -(2**53) or hi > 2**53):  # not exact in float64
            return None
        span = hi - lo + 1
        if span > max(_MAX_LEVELS, min(x.size, _MAX_LEVELS_CAP)):
            return None
    if not need_counts and span <= _MAX_LEVELS:
        return lo, np.ones(span, dtype=np.int64)
    counts = np.zeros(span, dtype=np.int64)
    if xv.dtype.itemsize == 1:
        # 8-bit: count pairs of bytes as one uint16 (half the elements for bincount), then fold the
        # 256 x 256 pair histogram onto the two bytes
        by_byte = np.zeros(256, dtype=np.int64)
        step = 4 * _BINCOUNT_CHUNK
        for start in range(0, x.size, step):
            c = np.ascontiguousarray(xv[start : start + step]).view(np.uint8)
            m = c.size - c.size % 2
            pairs = np.bincount(c[:m].view("<u2"), minlength=1 << 16).reshape(256, 256)
            by_byte += pairs.sum(axis=0)
            by_byte += pairs.sum(axis=1)
            if m < c.size:
                by_byte[c[-1]] += 1
        # byte b holds the value b (unsigned) or b - 256 (int8 for b >= 128); code = value - lo
        counts[:] = by_byte if lo == 0 else np.roll(by_byte, -lo)
        return lo, counts
    for start in range(0, x.size, _BINCOUNT_CHUNK):
        counts += np.bincount(_codes(xv[start : start + _BINCOUNT_CHUNK], lo), minlength=span)
    return lo, counts


def _map_levels(src: Distribution, tgt: Distribution, x: np.ndarray, out: np.ndarray, levels: tuple[int, np.ndarray],
                ties: str, rng: Any, inverse: bool) -> np.ndarray:
    """Counting path of :func:`map_array`: the map is evaluated once per distinct value of ``x``.

    Values that are not at an atom of an empirical source (and every value for ``ties="midrank"`` or
    the inverse map) are deterministic: a lookup table.  With ``ties="spread"``, each point at an atom
    gets its own uniform draw within the jump of its value (the jump ends are tabulated per value);
    the draws are taken chunk by chunk in the same order as the general path, so the result is the
    same array, bit for bit.
    """
    lo, counts = levels
    present = np.flatnonzero(counts)
    vals = (present + lo).astype(np.float64)
    if inverse:
        F, S = tgt._cdf_sf(vals)
        y = src._ppf_cdf_sf(F, S)
    elif isinstance(src, EmpiricalDistribution):
        F, S = src.cdf_sf_ties(vals, "midrank", None)
        y = tgt._ppf_cdf_sf(F, S)
    else:
        F, S = src._cdf_sf(vals)
        y = tgt._ppf_cdf_sf(F, S)
    lut = np.zeros(counts.size)
    lut[present] = y
    spread = None
    if not inverse and ties == "spread" and isinstance(src, EmpiricalDistribution):
        at, f_lo, df, s_hi, ds = src.atom_jumps(vals)
        if at.any():
            spread = np.zeros(counts.size, dtype=bool)
            spread[present[at]] = True
            tables = []
            for t in (f_lo, df, s_hi, ds):
                full = np.zeros(counts.size)
                full[present[at]] = t
                tables.append(full)
    chunk = _CHUNK if spread is not None else _BINCOUNT_CHUNK  # spreading draws in the general path's chunks
    for start in range(0, x.shape[0], chunk):
        sl = slice(start, min(start + chunk, x.shape[0]))
        c = _codes(x[sl], lo)
        if spread is None:
            out[sl] = lut[c]
            continue
        a = spread[c]
        n_at = int(np.count_nonzero(a))
        if n_at == 0:
            out[sl] = lut[c]
            continue
        k = c if n_at == c.size else c[a]  # images: nearly every pixel sits on an atom
        v = rng.random(n_at)
        f = tables[0][k]
        f += v * tables[1][k]
        v -= 1.0
        v *= tables[3][k]
        s_ = tables[2][k]
        s_ -= v  # S_hi + (1 - v) dS
        y = tgt._ppf_cdf_sf(f, s_)
        if n_at == c.size:
            out[sl] = y
        else:
            res = lut[c]
            res[a] = y
            out[sl] = res
    return out


def map_array(src: Distribution, tgt: Distribution, x: np.ndarray, out: np.ndarray, *, ties: str = "spread",
              rng: Any = None, inverse: bool = False) -> np.ndarray:
    """Write ``R(x)`` (or ``R^{-1}(x)``) for a 1-D array ``x`` into ``out`` chunk by chunk (bounded extra memory).

    Integer input with few distinct values (e.g. 8- and 16-bit images) takes the counting path
    (one map evaluation per distinct value); the result is the same.
    """
    levels = integer_levels(x, need_counts=False)
    if levels is not None:
        return _map_levels(src, tgt, x, out, levels, ties, rng, inverse)
    for start in range(0, x.shape[0], _CHUNK):
        sl = slice(start, min(start + _CHUNK, x.shape[0]))
        out[sl] = _map_chunk(src, tgt, np.asarray(x[sl], dtype=np.float64), ties, rng, inverse)
    return out


class Redistributor(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Transform data so that each column follows a target distribution: ``R = F_T^{-1} o F_S``.

    The map is the composition of the source CDF ``F_S`` (learned from the data passed to :meth:`fit`
    or given) and the target quantile function ``F_T^{-1}``.  It is monotone; with ``n`` samples the
    estimated map converges to the exact one at the rate ``n^{-1/2}`` (Harar et al., 2022).  The
    computation goes through ``(F, S)`` pairs, so both tails keep their precision.

    Integer (and bool) input whose values span few levels (8- and 16-bit data, small integer ranges)
    takes a counting path: ``fit`` counts the values with :func:`numpy.bincount` instead of sorting,
    and ``transform`` evaluates the map once per distinct value (a lookup table); tied values at an
    atom are still spread one by one with ``ties="spread"``.  The result is identical, bit for bit, to
    that of the same values given as floats.

    Parameters
    ----------
    source : {"empirical", "kde", "sketch"}, Distribution or frozen scipy distribution, default "empirical"
        How to learn the source distribution of each column: an empirical CDF through the order
        statistics (:class:`~redistributor.empirical.EmpiricalDistribution`), a kernel density
        (:class:`~redistributor.kde.KDEDistribution`) or a KLL quantile sketch
        (:class:`~redistributor.sketch.KLLSketch`, bounded memory).  A given distribution is used for
        every column and nothing is learned.
    target : str, Distribution, frozen scipy distribution or array, default "norm"
        Target distribution: a ``scipy.stats`` name (with ``target_params``), a distribution object,
        or samples from which the target is learned empirically (a 2-D array of samples with one
        column per feature gives one target per column).  A list of distributions gives one target
        per column.
    target_params : dict, optional
        Parameters of a named target, e.g. ``{"a": 2, "b": 5}`` for ``target="beta"``.
    n_quantiles : "auto", "all" or int, default "auto"
        Knot grid of empirical distributions (see :mod:`redistributor.empirical`).
    tails : str or (str, str), optional
        Tail model(s) of learned empirical distributions: ``"gpd"`` (default without bounds: a
        generalised Pareto curve through the ``sqrt(n)`` most extreme samples), ``"exponential"``
        (every order statistic a knot, exponential beyond), ``"bounds"``, ``"clip"``; see
        :mod:`redistributor.empirical`.  Sketch-based sources use ``"exponential"`` for ``"gpd"``.
    bounds : (float or None, float or None), optional
        Known bounds of the source support (used by ``tails="bounds"`` and by the kernel density's
        reflection).
    ties : {"spread", "midrank"}, default "spread"
        Where tied values land within their jump of the empirical CDF: uniformly at random (seeded by
        ``random_state``), so that tied inputs follow a continuous target, or at the middle.
    bandwidth : str or float, default "isj"
        Bandwidth of ``source="kde"``: ``"isj"``, ``"scott"``, ``"silverman"`` or a number.
    sketch_size : int, default 1024
        Parameter ``k`` of the KLL sketch (``source="sketch"``, :meth:`partial_fit` and dask input).
    dtype : {"float64", "float32", "preserve"}, default "float64"
        Output dtype; ``"preserve"`` keeps float32 input float32 (other input gives float64).
    random_state : int or None
        Seed of tie spreading and of the sketch's compaction coins.

    Attributes
    ----------
    sources_ : list of Distribution
        Source distribution of each column.
    targets_ : list of Distribution
        Target distribution of each column.
    n_features_in_ : int
        Number of columns seen in :meth:`fit`.
    sketches_ : list of KLLSketch
        Present after :meth:`partial_fit` (or fitting dask input); saved by :meth:`save`, so streaming resumes after :meth:`load`.

    Examples
    --------
    >>> import numpy as np
    >>> from redistributor import Redistributor
    >>> x = np.random.default_rng(0).gamma(2.0, size=(10_000, 1))
    >>> r = Redistributor(target="uniform").fit(x)
    >>> u = r.transform(x)
    >>> bool(abs(u.mean() - 0.5) < 0.01)
    True
    """

    def __init__(self, source: Any = "empirical", target: Any = "norm", *, target_params: dict | None = None,
                 n_quantiles: Any = "auto", tails: Any = None, bounds: Any = None, ties: str = "spread",
                 bandwidth: Any = "isj", sketch_size: int = 1024, dtype: str = "float64", random_state: Any = None):
        self.source = source
        self.target = target
        self.target_params = target_params
        self.n_quantiles = n_quantiles
        self.tails = tails
        self.bounds = bounds
        self.ties = ties
        self.bandwidth = bandwidth
        self.sketch_size = sketch_size
        self.dtype = dtype
        self.random_state = random_state

    # -- sklearn plumbing -------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"] if self.dtype == "preserve" else [
            self.dtype if self.dtype in _DTYPES[:2] else "float64"]
        return tags

    def _fixed(self) -> bool:
        return not isinstance(self.source, str) and not _is_samples(self.target) and not (
            isinstance(self.target, list | tuple))

    def _check_params(self) -> None:
        if isinstance(self.source, str):
            check_choice(self.source, "source", SOURCE_METHODS)
        else:
            as_distribution(self.source, "source")
        check_choice(self.ties, "ties", TIE_METHODS)
        self._seed_seq()  # random_state: an int, a SeedSequence or None
        check_choice(self.dtype, "dtype", _DTYPES)
        if isinstance(self.sketch_size, bool) or not isinstance(self.sketch_size, Integral) or self.sketch_size < 8:
            raise ValueError(f"sketch_size={self.sketch_size!r} is not accepted; use an integer >= 8")
        if self.target_params is not None and not isinstance(self.target_params, dict):
            raise TypeError(f"target_params must be a dict or None, got {type(self.target_params).__name__}")

    def _validated(self, X: Any, *, reset: bool, dtype: Any) -> np.ndarray:
        """scikit-learn's validation, with messages that name X and what is accepted for strings and +-inf."""
        if isinstance(X, np.ndarray) and X.dtype.kind in "USV":
            raise TypeError(f"X must be a real numeric array, got dtype {X.dtype}")
        try:
            return validate_data(self, X, dtype=dtype, ensure_all_finite="allow-nan", ensure_min_samples=1,
                                 reset=reset)
        except ValueError as exc:
            if "infinity" in str(exc):
                raise ValueError("X contains +-inf; accepted are finite values (NaN passes through)") from None
            raise

    @staticmethod
    def _in_dtype(X: Any) -> Any:
        """Validation dtype: integer and bool arrays stay as they are (for the counting path), else float."""
        if isinstance(X, np.ndarray) and X.dtype.kind in "biu":
            return None
        return [np.float64, np.float32]

    def _out_dtype(self, in_dtype: np.dtype) -> np.dtype:
        if self.dtype == "float32" or (self.dtype == "preserve" and in_dtype == np.float32):
            return np.dtype(np.float32)
        return np.dtype(np.float64)

    def _seed_seq(self) -> np.random.SeedSequence:
        rs = self.random_state
        if isinstance(rs, np.random.SeedSequence):
            return rs
        if rs is None or isinstance(rs, Integral):
            return np.random.SeedSequence(rs)
        raise TypeError(f"random_state must be an int, a numpy SeedSequence or None, got {type(rs).__name__}")

    # -- fitting ----------------------------------------------------------------------------
    def _build_targets(self, n_features: int) -> list[Distribution]:
        tgt = self.target
        if isinstance(tgt, list | tuple) and not _is_samples(tgt):
            if len(tgt) != n_features:
                raise ValueError(f"target has {len(tgt)} entries but X has {n_features} features; give one per feature")
            return [as_distribution(t, "target", self.target_params) for t in tgt]
        if _is_samples(tgt):
            if _is_dask(tgt):
                from redistributor.out_of_core import fit_sketches

                sk = fit_sketches(tgt if tgt.ndim == 2 else tgt.reshape(-1, 1), self.sketch_size, self._seed_seq())
                dists = [s.to_distribution(tails=self.tails) for s in sk]
                arr_ndim = tgt.ndim
            else:
                arr = np.asarray(tgt)
                arr_ndim = arr.ndim
                if arr.ndim == 2 and arr.shape[1] > 1:
                    dists = [self._fit_target_column(arr[:, j], f"target[:, {j}]") for j in range(arr.shape[1])]
                else:
                    dists = [self._fit_target_column(arr, "target")]
            if len(dists) == 1:
                return dists * n_features
            if len(dists) != n_features:
                raise ValueError(
                    f"target samples have {len(dists)} columns (ndim={arr_ndim}) but X has {n_features} features; "
                    "give a 1-D array or one column per feature")
            return dists
        dist = as_distribution(tgt, "target", self.target_params)
        return [dist] * n_features

    def _fit_target_column(self, col: np.ndarray, name: str) -> EmpiricalDistribution:
        levels = integer_levels(col.ravel()) if isinstance(col, np.ndarray) and col.dtype.kind in "biu" else None
        if levels is not None and np.count_nonzero(levels[1]) >= 2:
            nz = np.flatnonzero(levels[1])
            return EmpiricalDistribution.from_counts(nz + levels[0], levels[1][nz], n_quantiles=self.n_quantiles,
                                                     tails=self.tails, _name=name)
        return EmpiricalDistribution.fit(col, n_quantiles=self.n_quantiles, tails=self.tails, _name=name)

    def _fit_column(self, col: np.ndarray, j: int) -> Distribution:
        name = f"X[:, {j}]"
        if col.dtype.kind in "biu":
            levels = integer_levels(col) if self.source == "empirical" else None
            if levels is not None and np.count_nonzero(levels[1]) >= 2:
                nz = np.flatnonzero(levels[1])
                return EmpiricalDistribution.from_counts(nz + levels[0], levels[1][nz], n_quantiles=self.n_quantiles,
                                                         tails=self.tails, bounds=self.bounds, _name=name)
            col = col.astype(np.float64)
        n_valid = col.size - int(np.count_nonzero(np.isnan(col)))
        if n_valid < 2:
            raise ValueError(f"Redistributor needs at least 2 non-NaN samples per feature to fit; {name} got "
                             f"{n_valid} sample(s) that are not NaN")
        if self.source == "empirical":
            return EmpiricalDistribution.fit(col, n_quantiles=self.n_quantiles, tails=self.tails, bounds=self.bounds,
                                             _name=name)
        if self.source == "kde":
            from redistributor.kde import KDEDistribution

            return KDEDistribution.fit(col, bandwidth=self.bandwidth, bounds=self.bounds)
        from redistributor.sketch import KLLSketch

        sk = KLLSketch(self.sketch_size, self._seed_seq())
        for start in range(0, col.size, 1 << 20):
            sk.update(col[start : start + (1 << 20)])
        return sk.to_distribution(tails=self.tails, bounds=self.bounds)

    def fit(self, X: Any = None, y: Any = None) -> Redistributor:
        """Learn the source distribution of each column of ``X`` (and a target given as samples).

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or dask array
            Training data; NaN is ignored, +-inf is rejected.  ``X`` is never modified.  A dask array
            is fitted out of core with one KLL sketch per chunk and column, merged.  May be omitted
            when ``source`` and ``target`` are both given distributions (as in 1.x).
        y : None
            Ignored.

        Returns
        -------
        Redistributor
            ``self``.
        """
        self._check_params()
        if X is None:
            if self._fixed():  # 1.x style: source and target given, nothing to learn
                return self
            raise ValueError("fit needs X, the data whose distribution is learned (or give a source distribution)")
        for attr in ("sketches_",):
            if hasattr(self, attr):
                delattr(self, attr)
        if _is_dask(X):
            from redistributor.out_of_core import fit_sketches

            if X.ndim != 2:
                raise ValueError(f"X must be 2-D (n_samples, n_features), got a dask array with shape {X.shape}")
            self.n_features_in_ = int(X.shape[1])
            sketches = fit_sketches(X, self.sketch_size, self._seed_seq())
            for j, s in enumerate(sketches):
                if s.n < 2:
                    raise ValueError(f"Redistributor needs at least 2 non-NaN samples per feature to fit, column {j} has {s.n}")
            self.sketches_ = sketches
            self.sources_ = [s.to_distribution(tails=self.tails, bounds=self.bounds) for s in sketches]
            self.targets_ = self._build_targets(self.n_features_in_)
            return self
        X = self._validated(X, reset=True, dtype=self._in_dtype(X))
        if self._fixed():
            src = as_distribution(self.source, "source")
            self.sources_ = [src] * X.shape[1]
        else:
            self.sources_ = [self._fit_column(X[:, j], j) for j in range(X.shape[1])]
        self.targets_ = self._build_targets(X.shape[1])
        return self

    def partial_fit(self, X: Any, y: Any = None) -> Redistributor:
        """Update per-column KLL sketches with a batch of rows (bounded memory, any number of calls).

        The source of each column becomes the empirical distribution through the sketch items; see
        :class:`~redistributor.sketch.KLLSketch` for the rank-error guarantee.  ``source`` must be
        ``"empirical"`` or ``"sketch"``.
        """
        self._check_params()
        if self.source not in ("empirical", "sketch"):
            raise ValueError(f"partial_fit needs source='empirical' or 'sketch', got source={self.source!r}")
        first = not hasattr(self, "sketches_")
        X = self._validated(X, reset=first, dtype=[np.float64, np.float32])
        if first:
            from redistributor.sketch import KLLSketch

            self.sketches_ = KLLSketch(self.sketch_size, self._seed_seq()).spawn(X.shape[1])
        for j, s in enumerate(self.sketches_):
            s.update(X[:, j])
        self._refresh_from_sketches()
        return self

    def _refresh_from_sketches(self) -> None:
        if all(s.n >= 2 and s.min < s.max for s in self.sketches_):
            self.sources_ = [s.to_distribution(tails=self.tails, bounds=self.bounds) for s in self.sketches_]
            self.targets_ = self._build_targets(self.n_features_in_)
        else:
            for attr in ("sources_", "targets_"):
                if hasattr(self, attr):
                    delattr(self, attr)

    def merge(self, other: Redistributor) -> Redistributor:
        """Merge the sketches of another partially fitted redistributor (e.g. from another worker) into this one."""
        if not isinstance(other, Redistributor) or not hasattr(other, "sketches_") or not hasattr(self, "sketches_"):
            raise ValueError("merge needs two redistributors fitted with partial_fit (or on dask input)")
        if other.n_features_in_ != self.n_features_in_:
            raise ValueError(f"other has {other.n_features_in_} features, this one {self.n_features_in_}")
        for a, b in zip(self.sketches_, other.sketches_, strict=True):
            a.merge(b)
        self._refresh_from_sketches()
        return self

    # -- transforming -----------------------------------------------------------------------
    def _prepare(self, X: Any) -> tuple[np.ndarray, bool]:
        """Validate ``X``; return (array, elementwise) where elementwise means any shape, one map."""
        if not hasattr(self, "sources_") and self._fixed():
            self._check_params()
            arr = np.asarray(X)
            if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
                raise TypeError(f"X must be a real numeric array, got dtype {arr.dtype}")
            if arr.dtype.kind == "f" and np.isinf(arr).any():
                raise ValueError("X contains +-inf; accepted are finite values (NaN passes through)")
            return arr, True
        check_is_fitted(self, "sources_")
        X = self._validated(X, reset=False, dtype=self._in_dtype(X))
        return X, False

    def _run(self, X: Any, inverse: bool) -> Any:
        if _is_dask(X):
            from redistributor.out_of_core import transform_dask

            if not (self._fixed() and not hasattr(self, "sources_")):
                check_is_fitted(self, "sources_")
            self._check_params()
            return transform_dask(self, X, inverse=inverse)
        X, elementwise = self._prepare(X)
        out = np.empty(X.shape, dtype=self._out_dtype(X.dtype))
        rng = np.random.default_rng(self._seed_seq())
        if elementwise:
            src = as_distribution(self.source, "source")
            tgt = as_distribution(self.target, "target", self.target_params)
            map_array(src, tgt, X.reshape(-1), out.reshape(-1), ties=self.ties, rng=rng, inverse=inverse)
            return out
        for j in range(X.shape[1]):
            map_array(self.sources_[j], self.targets_[j], X[:, j], out[:, j], ties=self.ties, rng=rng, inverse=inverse)
        return out

    def transform(self, X: Any) -> Any:
        """Map each column through ``F_T^{-1}(F_S(x))``; NaN passes through; ``X`` is not modified.

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or dask array
            Data; with a given (not learned) source and target any shape is accepted and mapped
            elementwise.  A dask array gives a lazy dask array (``map_blocks``).

        Returns
        -------
        ndarray or dask array
            Transformed data, dtype according to ``dtype``.
        """
        return self._run(X, inverse=False)

    def inverse_transform(self, X: Any) -> Any:
        """Map back through ``F_S^{-1}(F_T(y))``; NaN passes through; ``X`` is not modified.

        Values outside the support of the target (e.g. above 1 for ``target="uniform"``) have
        ``F_T = 0`` or ``1`` and go to the ends of the source's support: ``-inf`` or ``+inf`` with
        ``"gpd"`` or ``"exponential"`` tails, the bound or the extreme sample with ``"bounds"`` or ``"clip"`` tails.
        """
        return self._run(X, inverse=True)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit to ``X`` and return the transformed ``X``."""
        return self.fit(X, y).transform(X)

    # -- persistence and diagnostics (thin wrappers) -----------------------------------------
    def save(self, path: Any) -> None:
        """Save the fitted redistributor without pickle (see :func:`redistributor.persistence.save`)."""
        from redistributor.persistence import save

        save(self, path)

    @classmethod
    def load(cls, path: Any) -> Redistributor:
        """Load a redistributor written by :meth:`save`."""
        from redistributor.persistence import load

        return load(path)

    # -- 1.x compatibility -------------------------------------------------------------------
    def kstest(self, n: int = 20):
        """Deprecated (1.x): KS test of ``transform(source.rvs(n))`` against the target; use :func:`redistributor.diagnostics.ks_statistic`."""
        import warnings

        from scipy import stats

        warnings.warn("Redistributor.kstest is deprecated; use redistributor.diagnostics.ks_statistic",
                      DeprecationWarning, stacklevel=2)
        src = as_distribution(self.source, "source")
        tgt = as_distribution(self.target, "target", self.target_params)
        y = self.transform(src.rvs(n, random_state=self.random_state))
        return stats.kstest(y, tgt.cdf)

    def plot_transform_function(self, **kwargs: Any):
        """Deprecated (1.x): use :func:`redistributor.diagnostics.plot_transform`."""
        import warnings

        from redistributor.diagnostics import plot_transform

        warnings.warn("plot_transform_function is deprecated; use redistributor.diagnostics.plot_transform",
                      DeprecationWarning, stacklevel=2)
        return plot_transform(self, **kwargs)
