"""KLL quantile sketch (Karnin, Lang and Liberty, 2016): bounded memory, mergeable, with a stated rank error.

The sketch keeps a hierarchy of *compactors*.  Items at level ``h`` have weight ``2**h``.  Level ``h`` of
``H`` levels holds at most ``max(2, ceil(k * (2/3)**(H - 1 - h)))`` items, so the sketch never holds
more than about ``3 k`` items whatever the stream length.  When a level overflows it is sorted, and
every second item (starting at a random offset, 0 or 1) is promoted to the next level with twice the
weight.

Rank-error guarantee
--------------------
For any query value ``y``, one compaction of a level with weight ``w`` changes the estimated rank of
``y`` by ``0`` or ``+-w``, with a fair coin deciding the sign; the schedule of compactions does not
depend on the coins.  The total error is therefore a martingale with bounded increments, and by the
Azuma-Hoeffding inequality::

    P(abs(rank_estimate(y) - rank(y)) > t) <= 2 exp(-t**2 / (2 V)),   V = sum over compactions of w**2.

The sketch counts its compactions per level, so ``V`` is known exactly; :meth:`KLLSketch.rank_error_bound`
returns ``t = sqrt(2 V ln(2 / delta))``, which holds for one query with probability ``1 - delta``
(use ``delta / m`` for ``m`` queries at once), for every input order.  Merged sketches add their
``V``; each sketch must use its own seed (``spawn`` gives independent ones).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from redistributor._validation import as_float_1d

__all__ = ["KLLSketch"]


class KLLSketch:
    """Mergeable streaming quantile sketch with bounded memory.

    Parameters
    ----------
    k : int, default 1024
        Capacity of the top compactor; memory is about ``3 k`` floats and the rank error is of order
        ``n / k``.
    random_state : int, numpy.random.SeedSequence or None
        Seed of the compaction coins.

    Examples
    --------
    >>> import numpy as np
    >>> s = KLLSketch(k=256, random_state=0)
    >>> for chunk in np.array_split(np.arange(100_000.0), 10):
    ...     s.update(chunk)
    >>> abs(s.quantile(0.5) - 50_000) < 2 * s.rank_error_bound()
    True
    """

    _C = 2.0 / 3.0

    def __init__(self, k: int = 1024, random_state: Any = None):
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 8:
            raise ValueError(f"k={k!r} is not accepted; use an integer >= 8")
        self.k = int(k)
        self._seed = random_state if isinstance(random_state, np.random.SeedSequence) else np.random.SeedSequence(random_state)
        self._rng = np.random.default_rng(self._seed)
        self.levels: list[np.ndarray] = [np.empty(0)]
        self.compactions: list[int] = [0]
        self.n = 0
        self.min = math.inf
        self.max = -math.inf

    # -- capacity and compaction ----------------------------------------------------------
    def _capacity(self, h: int) -> int:
        depth = len(self.levels) - 1 - h
        return max(2, math.ceil(self.k * self._C**depth))

    def _compress(self) -> None:
        while True:
            h = next((i for i, lev in enumerate(self.levels) if lev.size > self._capacity(i)), None)
            if h is None:
                return
            if h + 1 == len(self.levels):
                self.levels.append(np.empty(0))
                self.compactions.append(0)
            items = np.sort(self.levels[h])
            keep = items[-1:] if items.size % 2 else items[:0]
            even = items[: items.size - keep.size]
            offset = int(self._rng.integers(2))
            self.levels[h + 1] = np.concatenate([self.levels[h + 1], even[offset::2]])
            self.levels[h] = keep
            self.compactions[h] += 1

    def update(self, x: Any) -> KLLSketch:
        """Add samples (any shape; NaN ignored; +-inf rejected); returns ``self``."""
        arr = as_float_1d(x, "x", min_size=0)
        arr = arr[~np.isnan(arr)]
        if arr.size == 0:
            return self
        self.n += int(arr.size)
        self.min = min(self.min, float(arr.min()))
        self.max = max(self.max, float(arr.max()))
        self.levels[0] = np.concatenate([self.levels[0], arr])
        self._compress()
        return self

    def merge(self, other: KLLSketch) -> KLLSketch:
        """Merge ``other`` into this sketch (in place; returns ``self``)."""
        if not isinstance(other, KLLSketch):
            raise TypeError(f"other must be a KLLSketch, got {type(other).__name__}")
        while len(self.levels) < len(other.levels):
            self.levels.append(np.empty(0))
            self.compactions.append(0)
        for h, lev in enumerate(other.levels):
            self.levels[h] = np.concatenate([self.levels[h], lev])
            self.compactions[h] += other.compactions[h]
        self.n += other.n
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.k = max(self.k, other.k)
        self._compress()
        return self

    def spawn(self, n: int) -> list[KLLSketch]:
        """Return ``n`` empty sketches with the same ``k`` and independent seeds (for parallel workers)."""
        return [KLLSketch(self.k, s) for s in self._seed.spawn(n)]

    # -- queries --------------------------------------------------------------------------
    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Retained items and their weights (unsorted)."""
        vals = np.concatenate(self.levels) if self.levels else np.empty(0)
        wts = np.concatenate([np.full(lev.size, 2.0**h) for h, lev in enumerate(self.levels)])
        return vals, wts

    @property
    def size(self) -> int:
        """Number of retained items (the memory footprint in floats)."""
        return int(sum(lev.size for lev in self.levels))

    def rank(self, x: Any) -> np.ndarray:
        """Estimated number of samples ``<= x``."""
        vals, wts = self.items()
        order = np.argsort(vals, kind="stable")
        cum = np.concatenate([[0.0], np.cumsum(wts[order])])
        return cum[np.searchsorted(vals[order], np.asarray(x, dtype=np.float64), side="right")]

    def quantile(self, q: Any) -> np.ndarray:
        """Estimated ``q``-quantile(s): the smallest retained item whose estimated rank reaches ``q n``."""
        if self.n == 0:
            raise ValueError("the sketch is empty; call update() first")
        qa = np.asarray(q, dtype=np.float64)
        if np.any((qa < 0) | (qa > 1)):
            raise ValueError(f"q must lie in [0, 1], got {q!r}")
        vals, wts = self.items()
        order = np.argsort(vals, kind="stable")
        v, cum = vals[order], np.cumsum(wts[order])
        idx = np.clip(np.searchsorted(cum, qa * self.n, side="left"), 0, v.size - 1)
        out = v[idx]
        out = np.where(qa <= 0, self.min, np.where(qa >= 1, self.max, out))
        return float(out) if out.ndim == 0 else out

    def variance_proxy(self) -> float:
        """``V = sum_h compactions_h * 4**h``, the Azuma-Hoeffding variance proxy of the rank error."""
        return float(sum(c * 4.0**h for h, c in enumerate(self.compactions)))

    def rank_error_bound(self, delta: float = 0.01) -> float:
        """Rank error (in samples) exceeded for one query with probability at most ``delta``."""
        if not 0 < delta < 1:
            raise ValueError(f"delta={delta!r} is not accepted; use 0 < delta < 1")
        return math.sqrt(2.0 * self.variance_proxy() * math.log(2.0 / delta))

    def to_distribution(self, *, tails: Any = None, bounds: Any = None):
        """An :class:`~redistributor.empirical.EmpiricalDistribution` through the retained items."""
        from redistributor.empirical import EmpiricalDistribution

        if self.n == 0:
            raise ValueError("x is empty (or all NaN); the sketch has seen no data")
        vals, wts = self.items()
        return EmpiricalDistribution.from_weighted(vals, wts, minimum=self.min, maximum=self.max, tails=tails, bounds=bounds)

    # -- state without pickle (used by redistributor.save / load) ------------------------------
    def _state(self) -> tuple[dict, dict]:
        """The complete state as (JSON-able description, arrays): items, levels, counters, seed and coins.

        Restoring it with :meth:`_from_state` gives a sketch that continues exactly as this one would
        (the same future compactions and coin flips)."""
        seed = self._seed
        meta = {"k": self.k, "n": self.n,
                "seed": {"entropy": seed.entropy, "spawn_key": list(seed.spawn_key), "pool_size": seed.pool_size,
                         "n_children_spawned": seed.n_children_spawned},
                "rng": self._rng.bit_generator.state}
        arrays = {"items": np.concatenate(self.levels) if self.levels else np.empty(0),
                  "level_sizes": np.array([lev.size for lev in self.levels], dtype=np.int64),
                  "compactions": np.array(self.compactions, dtype=np.int64),
                  "extremes": np.array([self.min, self.max], dtype=np.float64)}
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: dict, arrays: dict) -> KLLSketch:
        sd = meta["seed"]
        seed = np.random.SeedSequence(sd["entropy"], spawn_key=tuple(sd["spawn_key"]), pool_size=sd["pool_size"],
                                      n_children_spawned=sd["n_children_spawned"])
        sk = cls(int(meta["k"]), seed)
        if sk._rng.bit_generator.state["bit_generator"] != meta["rng"]["bit_generator"]:
            raise ValueError(f"saved sketch uses the bit generator {meta['rng']['bit_generator']!r}, "
                             f"this numpy gives {sk._rng.bit_generator.state['bit_generator']!r}")
        sk._rng.bit_generator.state = meta["rng"]
        sizes = np.asarray(arrays["level_sizes"], dtype=np.int64)
        items = np.asarray(arrays["items"], dtype=np.float64)
        if sizes.sum() != items.size or arrays["compactions"].size != sizes.size:
            raise ValueError("saved sketch is inconsistent: level sizes do not match the stored items")
        sk.levels = [a.copy() for a in np.split(items, np.cumsum(sizes)[:-1])]
        sk.compactions = [int(c) for c in arrays["compactions"]]
        sk.n = int(meta["n"])
        sk.min, sk.max = (float(v) for v in arrays["extremes"])
        return sk

    def __repr__(self) -> str:
        return f"KLLSketch(k={self.k}, n={self.n}, size={self.size})"
