"""Fast interval location in a sorted knot array (a bucketed replacement for binary search).

``np.interp`` and ``np.searchsorted`` do a binary search per element.  For the piecewise-linear
distributions here the knots are fixed after fitting, so a table over equal-width buckets gives
each query a starting knot and a few vectorised comparison steps finish the job.  The bucket of a
knot and of a query are computed by the same floating-point expression, which is monotone, so the
start is exact (no slack).  Queries in crowded buckets (heavy-tailed data) use ``np.searchsorted``;
the result is identical in every case.
"""

from __future__ import annotations

import numpy as np

_MAX_STEPS = 2


class Locator:
    """Locate ``x`` among nondecreasing knots ``kx``: the largest ``i`` with ``kx[i] <= x``.

    ``i`` is clipped to ``[0, len(kx) - 1]``; at a repeated knot value the last copy is returned
    (right-continuity), also below the first knot when the first value is repeated.
    """

    def __init__(self, kx: np.ndarray):
        kx = np.ascontiguousarray(kx, dtype=np.float64)
        if kx.size < 2:
            raise ValueError("need at least two knots")
        self.last_overall = kx.size - 1
        # repeated knots: search among distinct values and return the index of the last copy
        last_copy = np.append(kx[1:] != kx[:-1], True)
        self.copy_index = None if last_copy.all() else np.flatnonzero(last_copy)
        if self.copy_index is not None:
            kx = kx[last_copy]
            if kx.size < 2:
                kx = np.append(kx, np.inf)
        self.kx = kx
        self.last = kx.size - 1
        lo, hi = float(kx[0]), float(kx[-1])
        self.lo = lo
        span = hi - lo
        n_buckets = int(min(max(4 * kx.size, 1024), 1 << 20)) if span > 0 else 1
        self.inv_dx = n_buckets / span if span > 0 else 0.0
        self.n_buckets = n_buckets
        bk = self._bucket(kx)
        count = np.bincount(bk, minlength=n_buckets)
        # start[b]: the last knot in an earlier bucket (knots below x for sure), or 0
        below = np.concatenate([[0], np.cumsum(count)[:-1]])
        self.start = np.maximum(below - 1, 0).astype(np.int32 if kx.size < 2**31 else np.intp)
        self.crowded = count > _MAX_STEPS
        self.any_crowded = bool(self.crowded.any())
        self.steps = int(min(int(count.max(initial=0)), _MAX_STEPS)) + 1
        self.kx_next = np.append(kx[1:], np.inf)

    def _bucket(self, x: np.ndarray) -> np.ndarray:
        pos = x - self.lo
        pos *= self.inv_dx
        np.maximum(pos, 0, out=pos)
        np.minimum(pos, self.n_buckets - 1, out=pos)
        return pos.astype(np.intp)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Return interval indices for a 1-D float64 array without NaN."""
        b = self._bucket(x)
        i = self.start[b].astype(np.intp)
        nxt = self.kx_next
        for _ in range(self.steps):
            i += x >= nxt[i]
        np.minimum(i, self.last, out=i)
        if self.any_crowded:
            crowd = self.crowded[b]
            if crowd.any():
                xi = x[crowd]
                j = np.searchsorted(self.kx, xi, side="right") - 1
                np.maximum(j, 0, out=j)
                np.minimum(j, self.last, out=j)
                i[crowd] = j
        if self.copy_index is not None:
            i = self.copy_index[np.minimum(i, self.copy_index.size - 1)]
        return i
