"""Read fitted redistributors saved by redistributor 1.x (``save_redistributor``, a joblib pickle).

**Pickle executes code.**  A pickle file can name any importable function and have it called while
loading, so :func:`load_v1` never hands a 1.x file to :func:`pickle.load` or :func:`joblib.load`.
It reads the file with a restricted unpickler (joblib's array-aware ``NumpyUnpickler`` with its
``find_class`` replaced) that resolves only a fixed list of names:

- the 1.x classes ``redistributor.Redistributor``, ``LearnedDistribution``, ``KernelDensity`` and
  ``interp1d_with_warning``, scipy's ``interp1d`` and scipy.stats distribution objects (frozen or
  not): each becomes a *data-only stand-in*, a plain object that only stores the attributes saved in
  the file and has no methods that run;
- numpy's array and scalar reconstructors and joblib's array wrapper (array data);
- names that only carry state 1.x objects happened to hold and that the conversion does not need
  (numpy random generators, bound methods, scikit-learn's kernel-density tree, scipy's interpolation
  methods): they become inert placeholders, nothing of them is called.

Any other name in the file is refused with a ``ValueError`` naming it.  The stand-ins are then
converted into 2.x objects from their data: a 1.x ``LearnedDistribution`` (its piecewise-linear CDF
through ``lattice_vals`` and ``lattice``) and a 1.x ``KernelDensity`` (its CDF on the evaluation
grid) into an :class:`~redistributor.empirical.EmpiricalDistribution` with the same knots and
probabilities (``"clip"`` tails, the 1.x clamp, or ``"bounds"`` where 1.x had bounds ``a``/``b``),
and scipy.stats objects into the same scipy.stats distribution rebuilt by name.  Only load files you
trust anyway: the restriction removes the code-execution route, not every way a crafted file could
misbehave (e.g. a huge array).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import math
import os
import pickle
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_v1"]


class _Stand:
    """Data-only stand-in: stores the state saved in the file, nothing else."""

    _v1_name = "object"

    def __new__(cls, *args: Any, **kwargs: Any):
        obj = object.__new__(cls)
        obj.__dict__["_v1_args"] = args
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        if (isinstance(state, tuple) and len(state) == 2 and (state[0] is None or isinstance(state[0], dict))
                and (state[1] is None or isinstance(state[1], dict))):
            state, slots = state
            state = dict(state or {}, **(slots or {}))
        if isinstance(state, dict):
            self.__dict__.update({k: v for k, v in state.items() if isinstance(k, str)})
        else:
            self.__dict__["_v1_state"] = state

    def __call__(self, *args: Any, **kwargs: Any) -> _Inert:
        return _Inert()


class _Inert(_Stand):
    """Placeholder for state the conversion does not use (random generators, methods, trees)."""


def _stand_in(name: str) -> type:
    return type(f"v1:{name}", (_Stand,), {"_v1_name": name})


_V1_CLASSES = {name: _stand_in(name) for name in
               ("Redistributor", "LearnedDistribution", "KernelDensity", "interp1d_with_warning")}
_Interp1d = _stand_in("interp1d")
_Frozen = _stand_in("rv_frozen")
_ScipyGen = _stand_in("scipy.stats distribution")

_NUMPY_DATA = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    *(("numpy", t) for t in ("float16", "float32", "float64", "longdouble", "int8", "int16", "int32", "int64",
                             "uint8", "uint16", "uint32", "uint64", "bool_", "intc", "intp")),
}
#: module prefixes of names that only carry state the conversion ignores
_INERT_PREFIXES = ("numpy.random", "sklearn.neighbors", "sklearn.metrics", "scipy.interpolate")


def _safe_reconstruct(cls: Any, base: Any, state: Any) -> Any:
    """``copyreg._reconstructor`` for protocol-0/1 pickles, limited to the stand-ins."""
    if isinstance(cls, type) and issubclass(cls, _Stand):
        return cls.__new__(cls)
    raise ValueError(f"a 1.x file may not rebuild {cls!r}")


def _unpickler_class():
    from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

    class _RestrictedUnpickler(NumpyUnpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _NUMPY_DATA:
                return super().find_class(module, name)
            if module == "joblib.numpy_pickle" and name == "NumpyArrayWrapper":
                return NumpyArrayWrapper
            if module == "redistributor" and name in _V1_CLASSES:
                return _V1_CLASSES[name]
            if module.startswith("scipy.interpolate") and name == "interp1d":
                return _Interp1d
            if module == "scipy.stats._distn_infrastructure" and name in ("rv_frozen", "rv_continuous_frozen"):
                return _Frozen
            if module.startswith("scipy.stats._") and name.endswith("_gen"):
                return _ScipyGen
            if module == "copyreg" and name == "_reconstructor":
                return _safe_reconstruct
            if (module == "builtins" and name == "getattr") or module.startswith(_INERT_PREFIXES):
                return _Inert
            raise ValueError(f"the file names {module}.{name}, which is not part of a redistributor 1.x "
                             "file; load_v1 refuses it (pickle would run it)")

    return _RestrictedUnpickler


def _open_decompressed(path: Path) -> io.BufferedIOBase:
    """The file, decompressed if joblib compressed it (zlib, gzip, bz2, lzma, xz)."""
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(b"\x1f\x8b"):
        return gzip.open(path, "rb")
    if head.startswith(b"BZh"):
        return bz2.open(path, "rb")
    if head.startswith(b"\xfd7zXZ"):
        return lzma.open(path, "rb", format=lzma.FORMAT_XZ)
    if head.startswith(b"\x5d\x00\x00"):
        return lzma.open(path, "rb", format=lzma.FORMAT_ALONE)
    if head[:1] == b"\x78":  # joblib's zlib compressor
        return io.BytesIO(zlib.decompress(path.read_bytes()))
    if head[:1] == b"\x80":  # an uncompressed pickle (protocol >= 2)
        return open(path, "rb")
    raise ValueError(f"{str(path)!r} is not a redistributor 1.x file (not a joblib pickle)")


def _float_array(v: Any, what: str) -> np.ndarray:
    a = np.asarray(v)
    if a.dtype.kind not in "fiu" or a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)):
        raise ValueError(f"the 1.x file's {what} is not a finite 1-D numeric array")
    return a.astype(np.float64)


def _from_cdf_knots(x: Any, F: Any, what: str):
    """An EmpiricalDistribution whose CDF is the piecewise-linear curve through ``(x, F)``."""
    from redistributor.empirical import EmpiricalDistribution

    x, F = _float_array(x, f"{what} x"), _float_array(F, f"{what} probabilities")
    if x.shape != F.shape:
        raise ValueError(f"the 1.x file's {what} has knots and probabilities of different lengths")
    # keep strictly increasing probabilities and nondecreasing positions (the 1.x grids are monotone;
    # flat stretches of a KDE's CDF at 0 or 1 are dropped)
    keep = np.concatenate([[True], np.diff(F) > 0])
    x, F = x[keep], F[keep]
    if np.any(np.diff(x) < 0) or F[0] < 0 or F[-1] > 1 or x.size < 2:
        raise ValueError(f"the 1.x file's {what} is not a monotone CDF")
    lo = "bounds" if F[0] == 0.0 else "clip"
    hi = "bounds" if F[-1] == 1.0 else "clip"
    inner = F[(F > 0) & (F < 1)]
    n = float(max(x.size, 2))
    if inner.size and min(inner[0], 1.0 - inner[-1]) > 1e-9:
        # plotting ranks F (n + 1) with n = 1 / (smallest tail probability) - 1, as in 1.x (F = r / (K + 1));
        # a kernel density's grid CDF can start at a denormal probability: then n = number of knots
        n = max(n, 1.0 / min(inner[0], 1.0 - inner[-1]) - 1.0)
    ranks = F * (n + 1.0)
    keep = np.concatenate([[True], np.diff(ranks) > 0])  # probabilities a few ulps apart (denormals)
    return EmpiricalDistribution(x[keep], ranks[keep], n, (lo, hi))


def _scipy_by_name(gen: Any, args: Any = (), kwds: Any = None):
    from scipy import stats

    name = gen.__dict__.get("name")
    obj = getattr(stats, name, None) if isinstance(name, str) and name.isidentifier() else None
    if not isinstance(obj, stats.rv_continuous):
        raise ValueError(f"the 1.x file holds a scipy.stats distribution named {name!r}, which this scipy "
                         "does not have as a continuous distribution")
    args = tuple(args or ())
    kwds = dict(kwds or {})
    for v in (*args, *kwds.values()):
        if not (isinstance(v, int | float | np.integer | np.floating) and math.isfinite(float(v))):
            raise ValueError(f"the 1.x file's scipy.stats {name} has a parameter {v!r} that is not a number")
    return obj(*[float(v) for v in args], **{str(k): float(v) for k, v in kwds.items()})


def _convert(obj: Any, what: str) -> Any:
    d = getattr(obj, "__dict__", {})
    if isinstance(obj, _V1_CLASSES["LearnedDistribution"]):
        cdf = d.get("_cdf")
        if cdf is None:
            raise ValueError(f"the 1.x {what} (LearnedDistribution) has no CDF interpolant")
        return _from_cdf_knots(cdf.__dict__.get("x"), cdf.__dict__.get("y"), f"{what} LearnedDistribution CDF")
    if isinstance(obj, _V1_CLASSES["KernelDensity"]):
        cdf = d.get("_cdf_fast")
        if cdf is not None:
            return _from_cdf_knots(cdf.__dict__.get("x"), cdf.__dict__.get("y"), f"{what} KernelDensity CDF")
        ppf = d.get("_ppf")
        if ppf is None:
            raise ValueError(f"the 1.x {what} (KernelDensity) has no CDF grid")
        return _from_cdf_knots(ppf.__dict__.get("y"), ppf.__dict__.get("x"), f"{what} KernelDensity CDF")
    if isinstance(obj, _Frozen):
        return _scipy_by_name(d.get("dist"), d.get("args"), d.get("kwds"))
    if isinstance(obj, _ScipyGen):
        return _scipy_by_name(obj)
    raise ValueError(f"the 1.x {what} is a {getattr(type(obj), '_v1_name', type(obj).__name__)}, which load_v1 "
                     "cannot convert (supported: LearnedDistribution, KernelDensity, scipy.stats distributions)")


def load_v1(path: str | os.PathLike) -> Any:
    """Read a redistributor saved by redistributor 1.x (``save_redistributor``, a joblib file) safely.

    The file is read by a restricted unpickler that accepts only the 1.x classes, numpy arrays and a
    few known inert names and maps them onto data-only stand-ins (module documentation of
    :mod:`redistributor.v1_files`); any other name is refused, so loading cannot run code the file
    names.  Pickle itself is unsafe: never use :func:`pickle.load` or :func:`joblib.load` on files
    you did not write.

    Parameters
    ----------
    path : str or path-like
        A file written by 1.x ``save_redistributor(r, path)`` (or ``joblib.dump`` of a 1.x
        ``Redistributor`` or distribution), compressed or not.

    Returns
    -------
    Redistributor or Distribution
        A 1.x ``Redistributor`` becomes ``Redistributor(source=..., target=...)`` with the converted
        distributions (it maps arrays of any shape elementwise, like 1.x, without ``fit``); a single
        1.x distribution becomes the converted distribution.

    Raises
    ------
    ValueError
        If the file does not exist, is not a 1.x joblib file, names anything outside the accepted
        list, or holds objects that cannot be converted.
    """
    from redistributor.distributions import as_distribution
    from redistributor.transformer import Redistributor

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"path={str(p)!r} is not a file")
    with _open_decompressed(p) as fh:
        unpickler = _unpickler_class()(str(p), fh, True)
        try:
            obj = unpickler.load()
        except ValueError:
            raise
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, IndexError, KeyError) as exc:
            raise ValueError(f"{str(p)!r} is not a readable redistributor 1.x file ({exc!r})") from None
    if isinstance(obj, _V1_CLASSES["Redistributor"]):
        d = obj.__dict__
        if "source" not in d or "target" not in d:
            raise ValueError(f"{str(p)!r}: the 1.x Redistributor has no source or target")
        src, tgt = _convert(d["source"], "source"), _convert(d["target"], "target")
        return Redistributor(source=as_distribution(src, "source"), target=as_distribution(tgt, "target"))
    return _convert(obj, "object")
