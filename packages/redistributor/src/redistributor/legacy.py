"""Thin wrappers that keep 1.x code working; each warns with a ``DeprecationWarning``.

- ``LearnedDistribution(x, a, b, bins)`` becomes ``EmpiricalDistribution.fit(x, bounds=(a, b), n_quantiles=bins)``
- ``KernelDensity(x, bandwidth=h)`` becomes ``KDEDistribution.fit(x, bandwidth=h)``
- ``save_redistributor(r, path)`` becomes ``redistributor.save(r, path)`` (``.npz``, no pickle)
- ``load_redistributor(path)`` becomes ``redistributor.load(path)``
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from redistributor.empirical import EmpiricalDistribution
from redistributor.kde import KDEDistribution

__all__ = ["LearnedDistribution", "KernelDensity", "save_redistributor", "load_redistributor"]


def _warn(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated since redistributor 2.0 and will be removed; use {new}",
                  DeprecationWarning, stacklevel=3)


class LearnedDistribution(EmpiricalDistribution):
    """Deprecated 1.x name: an :class:`~redistributor.empirical.EmpiricalDistribution` learned from ``x``.

    As in 1.x the distribution lives on ``[a, b]`` where bounds are given and on the sample range
    otherwise (tail model ``"bounds"`` or ``"clip"``); ``bins`` becomes ``n_quantiles``.  The 1.x
    options ``keep_x_unchanged``, ``assume_sorted``, ``fill_value``, ``bounds_error`` and
    ``resolve_duplicates`` are accepted and have no effect (2.0 never changes ``x``, and ties are
    handled by ``Redistributor(ties=...)``); ``subsample_x`` keeps every k-th sample as before.
    """

    def __init__(self, x: Any, a: float | None = None, b: float | None = None, bins: int | None = None,
                 keep_x_unchanged: bool = True, subsample_x: int | None = None, ravel_x: bool = True,
                 assume_sorted: bool = False, fill_value: Any = "auto", bounds_error: Any = "warn",
                 resolve_duplicates: Any = ("max", "raise"), seed: Any = None, name: str = "LearnedDistribution",
                 **kwargs: Any):
        _warn("LearnedDistribution(x)", "EmpiricalDistribution.fit(x, bounds=(a, b))")
        arr = np.asarray(x)
        if not ravel_x and arr.ndim != 1:
            raise ValueError(f"x must be 1-D when ravel_x=False, got shape {arr.shape}")
        arr = arr.ravel()
        if subsample_x is not None:
            if not (isinstance(subsample_x, int) and 2 <= subsample_x <= arr.size):
                raise ValueError(f"subsample_x={subsample_x!r} is not accepted; use an int with 2 <= subsample_x <= x.size")
            arr = arr[::subsample_x]
        tails = ("bounds" if a is not None else "clip", "bounds" if b is not None else "clip")
        fitted = EmpiricalDistribution.fit(arr, n_quantiles=bins if bins is not None else "auto", tails=tails, bounds=(a, b))
        self.__dict__.update(fitted.__dict__)
        self.a, self.b, self.name, self.seed = a, b, name, seed
        self.xmin, self.xmax = float(np.nanmin(arr)), float(np.nanmax(arr))


class KernelDensity(KDEDistribution):
    """Deprecated 1.x name: a Gaussian :class:`~redistributor.kde.KDEDistribution` of ``x``.

    ``bandwidth`` (a number as in 1.x, which passed it to scikit-learn and defaulted to 1.0, or one of
    ``"scott"``, ``"silverman"``, ``"isj"``) is honoured; ``grid_density`` sets the minimum grid size.
    Only the Gaussian kernel exists, as in 1.x.
    """

    def __init__(self, x: Any, ravel_x: bool = True, grid_density: int = 5000, cdf_method: str = "fast",
                 name: str = "KDE", **kwargs: Any):
        _warn("KernelDensity(x)", "KDEDistribution.fit(x, bandwidth=...)")
        if kwargs.get("kernel", "gaussian") != "gaussian":
            raise ValueError(f"kernel={kwargs['kernel']!r} is not accepted; only 'gaussian' is supported")
        if grid_density < 10:
            raise ValueError(f"grid_density={grid_density!r} is not accepted; use at least 10")
        arr = np.asarray(x)
        if not ravel_x and arr.ndim != 1:
            raise ValueError(f"x must be 1-D when ravel_x=False, got shape {arr.shape}")
        fitted = KDEDistribution.fit(arr.ravel(), bandwidth=kwargs.get("bandwidth", 1.0),
                                     grid_size=max(int(grid_density), 1024))
        self.__dict__.update(fitted.__dict__)
        self.name, self.cdf_method = name, cdf_method


def save_redistributor(d: Any, path: Any) -> None:
    """Deprecated 1.x function (joblib); now writes the pickle-free ``.npz`` format of :func:`redistributor.save`."""
    from redistributor.persistence import save

    _warn("save_redistributor", "redistributor.save (.npz, no pickle)")
    save(d, path)


def load_redistributor(path: Any):
    """Deprecated 1.x function; reads files written by :func:`redistributor.save`.

    1.x joblib files are read by :func:`redistributor.load_v1` (a restricted unpickler), not here.
    """
    from redistributor.persistence import load

    _warn("load_redistributor", "redistributor.load")
    return load(path)
