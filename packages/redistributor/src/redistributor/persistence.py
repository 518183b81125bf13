"""Save and load a fitted :class:`~redistributor.transformer.Redistributor` without pickle.

The file is one ``.npz`` archive: every array of the fitted distributions under its own key, and a
JSON document (stored as UTF-8 bytes under ``__meta__``) with the format name, the format version,
the parameters and how the arrays make up each distribution.  Loading uses
``numpy.load(allow_pickle=False)``, so a file cannot run code.  A file with an unknown format
version is refused with a clear error.

Format versions
---------------
1
    parameters and the fitted distributions.
2
    adds the streaming state: the KLL sketches of :meth:`Redistributor.partial_fit` (or of a fit on
    dask input) with their items, compaction counters, seeds and the state of their coin generators,
    so that a loaded redistributor resumes streaming (``partial_fit``, ``merge``) exactly where it
    stopped.  A redistributor that has streamed too little data to be fitted yet can be saved too.
3 (written now)
    empirical distributions may have generalised Pareto tails (tail model ``"gpd"``, the default
    since this version), stored with their shapes and hand-over distances (``tail_shapes``,
    ``tail_ends``).

Files of all three versions are read; a file of any other version gives a ``ValueError`` that names the
version found and the versions this release reads.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from redistributor.__about__ import __version__
from redistributor._atomic import atomic_path
from redistributor.distributions import Distribution, ScipyDistribution
from redistributor.empirical import EmpiricalDistribution

__all__ = ["save", "load", "FORMAT_VERSION"]

FORMAT_NAME = "redistributor"
FORMAT_VERSION = 3
#: Format versions this release reads.
READABLE_VERSIONS = (1, 2, 3)
_SIMPLE = ("n_quantiles", "tails", "bounds", "ties", "bandwidth", "sketch_size", "dtype", "random_state",
           "target_params")


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if v is None or isinstance(v, str | int | float | bool):
        return v
    raise TypeError(f"parameter value {v!r} cannot be saved")


def save(redistributor: Any, path: str | os.PathLike) -> Path:
    """Write a fitted redistributor to ``path`` (``.npz``) atomically; returns the path."""
    from sklearn.utils.validation import check_is_fitted

    from redistributor.transformer import Redistributor

    if not isinstance(redistributor, Redistributor):
        raise TypeError(f"redistributor must be a Redistributor, got {type(redistributor).__name__}")
    if not hasattr(redistributor, "sketches_"):
        check_is_fitted(redistributor, "sources_")
    r = redistributor
    fitted = hasattr(r, "sources_")
    dists: list[Distribution] = []
    index: dict[int, int] = {}

    def ref(d: Distribution) -> int:
        if id(d) not in index:
            index[id(d)] = len(dists)
            dists.append(d)
        return index[id(d)]

    src_ids = [ref(d) for d in r.sources_] if fitted else None
    # a streaming state not fitted yet still records its target (learned now if given as samples)
    tgt_ids = [ref(d) for d in (r.targets_ if fitted else r._build_targets(r.n_features_in_))]
    arrays: dict[str, np.ndarray] = {}
    specs = []
    for i, d in enumerate(dists):
        meta, arrs = d._spec()
        meta = dict(meta)
        meta["arrays"] = {}
        for k, a in arrs.items():
            key = f"dist{i}_{k}"
            arrays[key] = np.asarray(a)
            meta["arrays"][k] = key
        specs.append(meta)
    params = {k: _jsonable(getattr(r, k)) for k in _SIMPLE}
    params["source"] = r.source if isinstance(r.source, str) else None
    params["target"] = r.target if isinstance(r.target, str) else None
    doc = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "library_version": __version__,
           "params": params, "n_features_in": int(r.n_features_in_), "distributions": specs,
           "sources": src_ids, "targets": tgt_ids}
    if hasattr(r, "feature_names_in_"):
        doc["feature_names_in"] = [str(f) for f in r.feature_names_in_]
    if hasattr(r, "sketches_"):
        doc["sketches"] = []
        for j, sk in enumerate(r.sketches_):
            meta, arrs = sk._state()
            meta["arrays"] = {}
            for k, a in arrs.items():
                arrays[f"sketch{j}_{k}"] = a
                meta["arrays"][k] = f"sketch{j}_{k}"
            doc["sketches"].append(meta)
    arrays["__meta__"] = np.frombuffer(json.dumps(doc).encode("utf-8"), dtype=np.uint8)
    p = Path(path)
    with atomic_path(p, name="path") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return p


def _build(meta: dict, arrays: dict) -> Distribution:
    kind = meta.get("type")
    arrs = {k: arrays[v] for k, v in meta.get("arrays", {}).items()}
    if kind == "empirical":
        return EmpiricalDistribution._from_spec(meta, arrs)
    if kind == "kde":
        from redistributor.kde import KDEDistribution

        return KDEDistribution._from_spec(meta, arrs)
    if kind == "scipy":
        from scipy import stats

        dist = getattr(stats, meta["name"], None)
        if not isinstance(dist, stats.rv_continuous):
            raise ValueError(f"saved distribution scipy.stats.{meta['name']} is not available in this scipy")
        return ScipyDistribution(dist(*meta["args"], **meta["kwds"]), fast=meta["fast"], tol=meta["tol"])
    raise ValueError(f"saved distribution type {kind!r} is unknown to this version of redistributor")


def load(path: str | os.PathLike):
    """Read a redistributor written by :func:`save` (format version 1, 2 or 3)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{str(p)!r} is not a file")
    if not zipfile.is_zipfile(p):
        with open(p, "rb") as f:
            head = f.read(3)
        hint = ("; it looks like a pickle or joblib file, e.g. from redistributor 1.x: read those with "
                "redistributor.load_v1(path)") if head[:1] in (b"\x80", b"\x78", b"\x1f") or head == b"BZh" else ""
        raise ValueError(f"{str(p)!r} is not a saved redistributor (not an .npz archive){hint}")
    try:
        with np.load(p, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{str(p)!r} is not a saved redistributor (.npz): {exc}") from None
    if "__meta__" not in arrays:
        raise ValueError(f"{str(p)!r} is an .npz file but not a saved redistributor (no __meta__ entry)")
    try:
        doc = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{str(p)!r}: the metadata is not valid JSON: {exc}") from None
    if doc.get("format") != FORMAT_NAME:
        raise ValueError(f"{str(p)!r} is not a saved redistributor (format {doc.get('format')!r})")
    version = doc.get("format_version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise ValueError(
            f"{str(p)!r} has format_version={version!r}; this redistributor {__version__} reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))} (saved by a newer release? upgrade redistributor)")
    try:
        return _restore(doc, arrays)
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{str(p)!r}: the saved redistributor is incomplete or damaged ({exc!r})") from None


def _restore(doc: dict, arrays: dict):
    from redistributor.sketch import KLLSketch
    from redistributor.transformer import Redistributor

    dists = [_build(m, arrays) for m in doc["distributions"]]
    params = dict(doc["params"])
    fitted = doc["sources"] is not None
    sources = [dists[i] for i in doc["sources"]] if fitted else []
    targets = [dists[i] for i in doc["targets"]]
    for key in ("tails", "bounds"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    if params["source"] is None:
        params["source"] = sources[0]
    if params["target"] is None:
        params["target"] = targets[0] if all(t is targets[0] for t in targets) else list(targets)
    r = Redistributor(**params)
    r.n_features_in_ = int(doc["n_features_in"])
    if "feature_names_in" in doc:
        r.feature_names_in_ = np.asarray(doc["feature_names_in"], dtype=object)
    if fitted:
        r.sources_ = sources
        r.targets_ = targets
    if "sketches" in doc:
        r.sketches_ = [KLLSketch._from_state(m, {k: arrays[v] for k, v in m["arrays"].items()})
                       for m in doc["sketches"]]
    return r
