"""Input checks shared by the public API: clear errors at the boundary."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_float_1d(x: Any, name: str, *, allow_nan: bool = True, min_size: int = 1) -> np.ndarray:
    """Return ``x`` as a 1-D float64 array (a new array only when needed; never modified in place)."""
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype!s}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype!s}")
    arr = arr.astype(np.float64, copy=False).ravel()
    check_finite(arr, name, allow_nan=allow_nan)
    n_valid = arr.size - (int(np.count_nonzero(np.isnan(arr))) if allow_nan else 0)
    if n_valid < min_size:
        raise ValueError(
            f"{name} must contain at least {min_size} non-NaN value(s), got {n_valid} "
            f"(array of shape {np.shape(x)})"
        )
    return arr


def check_finite(arr: np.ndarray, name: str, *, allow_nan: bool = True) -> None:
    """Raise ValueError if ``arr`` holds +-inf (or NaN when ``allow_nan`` is false)."""
    if arr.dtype.kind not in "fc":
        return
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains +-inf; accepted are finite values (NaN passes through)")
    if not allow_nan and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; accepted are finite values here")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError naming them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} is not accepted; use one of {', '.join(map(repr, choices))}")
    return value


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name}={value!r} is not accepted; use an integer >= {minimum}")
    return int(value)
