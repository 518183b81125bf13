"""Axis-aligned input boxes ``[lower_1, upper_1] x ... x [lower_d, upper_d]``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Box", "as_box"]


@dataclass(frozen=True)
class Box:
    """A closed axis-aligned box in ``R^d``.

    Parameters
    ----------
    lower, upper
        Sequences of ``d`` finite floats with ``lower[i] <= upper[i]``.

    Raises
    ------
    ValueError
        If the bounds have different lengths, are empty, not finite, or ``lower > upper``
        in some coordinate.
    """

    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def __post_init__(self) -> None:
        lo = tuple(float(v) for v in np.asarray(self.lower, dtype=float).reshape(-1))
        hi = tuple(float(v) for v in np.asarray(self.upper, dtype=float).reshape(-1))
        if len(lo) == 0:
            raise ValueError("box: lower is empty; expected at least one coordinate")
        if len(lo) != len(hi):
            raise ValueError(
                f"box: lower has {len(lo)} coordinates but upper has {len(hi)}; they must match"
            )
        for i, (a, b) in enumerate(zip(lo, hi)):
            if not (math.isfinite(a) and math.isfinite(b)):
                raise ValueError(f"box: coordinate {i} has bounds [{a}, {b}]; expected finite numbers")
            if a > b:
                raise ValueError(
                    f"box: coordinate {i} has lower {a} > upper {b}; expected lower <= upper"
                )
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)

    @classmethod
    def cube(cls, dim: int, low: float = -0.5, high: float = 0.5) -> Box:
        """The cube ``[low, high]^dim`` (default ``[-0.5, 0.5]^dim``, the paper's input domain)."""
        if not isinstance(dim, int | np.integer) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"dim: got {dim!r}; expected a positive integer")
        return cls((low,) * int(dim), (high,) * int(dim))

    @property
    def dim(self) -> int:
        """Number of coordinates ``d``."""
        return len(self.lower)

    @property
    def widths(self) -> np.ndarray:
        """``upper - lower`` per coordinate."""
        return np.asarray(self.upper) - np.asarray(self.lower)

    @property
    def volume(self) -> float:
        """Lebesgue measure of the box."""
        return float(np.prod(self.widths))

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-friendly ``{"lower": [...], "upper": [...]}``."""
        return {"lower": list(self.lower), "upper": list(self.upper)}


def as_box(box: Box | Sequence | None, dim: int | None = None, *, name: str = "box") -> Box:
    """Turn ``box`` into a :class:`Box` and check its dimension.

    Accepted forms: a :class:`Box`; a pair ``(lower, upper)`` of sequences; a pair of two
    floats ``(low, high)`` meaning ``[low, high]^dim``; ``None`` meaning ``[-0.5, 0.5]^dim``.
    """
    if box is None:
        if dim is None:
            raise ValueError(f"{name}: got None and no dimension to build a default box from")
        return Box.cube(dim)
    if not isinstance(box, Box):
        try:
            lower, upper = box  # type: ignore[misc]
        except (TypeError, ValueError):
            raise ValueError(
                f"{name}: got {box!r}; expected a Box, a pair (lower, upper) or None"
            ) from None
        if np.ndim(lower) == 0 and np.ndim(upper) == 0:
            if dim is None:
                raise ValueError(
                    f"{name}: scalar bounds {box!r} need a dimension; give lower and upper as lists"
                )
            lower, upper = [lower] * dim, [upper] * dim
        box = Box(tuple(np.ravel(lower)), tuple(np.ravel(upper)))
    if dim is not None and box.dim != dim:
        raise ValueError(f"{name}: has dimension {box.dim} but the input dimension is {dim}")
    return box
