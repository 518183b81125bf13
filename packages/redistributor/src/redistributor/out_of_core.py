"""Out-of-core fitting and lazy transforms on dask arrays (optional extra ``redistributor[dask]``).

Fitting sketches every chunk of every column with its own :class:`~redistributor.sketch.KLLSketch`
(independent seeds spawned from ``random_state``), merges them in a binary tree and builds the
empirical source from the merged sketch; only the sketches (a few thousand floats each) travel
between workers.  Transforming uses ``map_blocks`` and stays lazy.  Both run on whatever dask
scheduler is active, including a ``dask.distributed`` cluster.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from redistributor.sketch import KLLSketch

__all__ = ["fit_sketches", "transform_dask"]


def _require_dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("dask input needs the optional dependency: pip install 'redistributor[dask]'") from exc
    return dask, da


def _sketch_block(block: np.ndarray, k: int, seeds: list) -> list[KLLSketch]:
    block = np.asarray(block)
    if block.dtype.kind == "f" and np.isinf(block).any():
        raise ValueError("X contains +-inf; accepted are finite values (NaN passes through)")
    return [KLLSketch(k, s).update(block[:, j]) for j, s in enumerate(seeds)]


def _merge_lists(a: list[KLLSketch], b: list[KLLSketch]) -> list[KLLSketch]:
    return [x.merge(y) for x, y in zip(a, b, strict=True)]


def fit_sketches(X: Any, k: int, seed: np.random.SeedSequence) -> list[KLLSketch]:
    """One merged KLL sketch per column of the 2-D dask array ``X`` (computed on the active scheduler)."""
    dask, _ = _require_dask()
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    blocks = X.to_delayed()
    n_rows, n_cols = blocks.shape
    col_seeds = seed.spawn(X.shape[1])
    per_col_block = [s.spawn(n_rows) for s in col_seeds]
    col_start = np.concatenate([[0], np.cumsum(X.chunks[1])])
    columns: list = []
    for cb in range(n_cols):
        cols = range(col_start[cb], col_start[cb + 1])
        parts = [dask.delayed(_sketch_block)(blocks[rb, cb], k, [per_col_block[c][rb] for c in cols])
                 for rb in range(n_rows)]
        while len(parts) > 1:  # binary merge tree
            parts = [dask.delayed(_merge_lists)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                     for i in range(0, len(parts), 2)]
        columns.append(parts[0])
    (results,) = dask.compute(columns)
    return [s for group in results for s in group]


def _transform_block(block: np.ndarray, sources, targets, ties: str, entropy: Any, out_dtype, inverse: bool,
                     elementwise: bool, block_info=None) -> np.ndarray:
    from redistributor.transformer import map_array

    info = (block_info or {}).get(0, {})
    chunk_loc = info.get("chunk-location", (0,))
    rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=tuple(int(c) for c in chunk_loc)))
    block = np.asarray(block)
    if block.dtype.kind == "f" and np.isinf(block).any():
        raise ValueError("X contains +-inf; accepted are finite values (NaN passes through)")
    out = np.empty(block.shape, dtype=out_dtype)
    if elementwise:
        map_array(sources[0], targets[0], block.reshape(-1), out.reshape(-1), ties=ties, rng=rng, inverse=inverse)
        return out
    c0 = info.get("array-location", [(0, 0), (0, block.shape[1])])[1][0]
    for j in range(block.shape[1]):
        map_array(sources[c0 + j], targets[c0 + j], block[:, j], out[:, j], ties=ties, rng=rng, inverse=inverse)
    return out


def transform_dask(redistributor: Any, X: Any, *, inverse: bool = False) -> Any:
    """Lazy ``redistributor.transform(X)`` (or inverse) of a dask array via ``map_blocks``."""
    _require_dask()
    r = redistributor
    elementwise = not hasattr(r, "sources_")
    if elementwise:
        from redistributor.distributions import as_distribution

        sources = [as_distribution(r.source, "source")]
        targets = [as_distribution(r.target, "target", r.target_params)]
    else:
        if X.ndim != 2 or X.shape[1] != r.n_features_in_:
            raise ValueError(f"X has shape {X.shape}, but Redistributor is expecting {r.n_features_in_} features as input")
        sources, targets = r.sources_, r.targets_
    seed = r._seed_seq()
    out_dtype = r._out_dtype(X.dtype)
    return X.map_blocks(_transform_block, sources, targets, r.ties, seed.entropy, out_dtype, inverse, elementwise,
                        dtype=out_dtype)
