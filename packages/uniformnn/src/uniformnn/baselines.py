"""Classical baselines: piecewise-constant and piecewise-linear interpolation on tensor grids.

With ``m`` samples in dimension ``d`` a tensor grid has ``n = floor(m^(1/d))`` nodes per
coordinate (``n^d <= m`` samples are used).

- ``"constant"``: nodes at the cell midpoints ``l + (i + 1/2) h``, ``h = (u - l) / n``; the
  interpolant takes the value of the nearest node (piecewise constant on the cells). For
  classes of Lipschitz functions this is the worst-case optimal use of ``m`` samples in the
  uniform norm, and for the bounded-coefficient network classes of Berner, Grohs and
  Voigtlaender it is optimal up to constants.
- ``"linear"``: nodes ``l + i (u - l) / (n - 1)`` including the faces; the interpolant is the
  continuous piecewise-linear function on the Kuhn (Freudenthal) triangulation of the grid
  cells (linear interpolation for ``d = 1``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from uniformnn.box import Box, as_box
from uniformnn.targets import Target, as_target

__all__ = ["BASELINES", "GridInterpolant", "fit_baseline", "grid_size"]

BASELINES = ("constant", "linear")


def grid_size(m: int, dim: int, kind: str = "constant") -> int:
    """Nodes per coordinate of the largest tensor grid with at most ``m`` nodes."""
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"m: got {m!r}; expected a positive integer number of samples")
    n = int(math.floor(m ** (1.0 / dim) + 1e-9))
    while (n + 1) ** dim <= m:
        n += 1
    while n > 1 and n**dim > m:
        n -= 1
    minimum = 2 if kind == "linear" else 1
    if n < minimum:
        raise ValueError(
            f"m: {m} samples give fewer than {minimum} grid nodes per coordinate in dimension "
            f"{dim}; the {kind!r} baseline needs m >= {minimum ** dim}"
        )
    return n


class GridInterpolant(torch.nn.Module):
    """Interpolant of a function from its values on a tensor grid (see module docstring).

    Parameters
    ----------
    target
        Function sampled on the grid (a :class:`~uniformnn.targets.Target`, network or callable).
    n
        Nodes per coordinate.
    kind
        ``"constant"`` or ``"linear"``.
    box
        Domain (default: the target's box).
    """

    def __init__(self, target: Any, n: int, kind: str = "constant", box: Box | None = None,
                 *, dim: int | None = None) -> None:
        super().__init__()
        if kind not in BASELINES:
            raise ValueError(f"kind: got {kind!r}; expected one of {BASELINES}")
        t: Target = as_target(target, dim=dim, box=box, name="target")
        self.box = as_box(box if box is not None else t.box, t.dim)
        self.kind, self.n, self.dim = kind, int(n), t.dim
        if self.n < (2 if kind == "linear" else 1):
            raise ValueError(f"n: got {n!r}; the {kind!r} interpolant needs more nodes")
        lo = torch.tensor(self.box.lower, dtype=torch.float64)
        hi = torch.tensor(self.box.upper, dtype=torch.float64)
        i = torch.arange(self.n, dtype=torch.float64)
        if kind == "constant":
            axes = [lo[j] + (i + 0.5) * (hi[j] - lo[j]) / self.n for j in range(self.dim)]
        else:
            axes = [lo[j] + i * (hi[j] - lo[j]) / (self.n - 1) for j in range(self.dim)]
        mesh = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, self.dim)
        with torch.no_grad():
            values = torch.cat([t(mesh[s:s + 2**16]) for s in range(0, mesh.shape[0], 2**16)])
        self.register_buffer("values", values.to(torch.float64))
        self.register_buffer("lo", lo)
        self.register_buffer("hi", hi)
        self.register_buffer("strides", torch.tensor(
            [self.n ** (self.dim - 1 - j) for j in range(self.dim)], dtype=torch.long))

    @property
    def n_samples(self) -> int:
        """Number of function values used, ``n^d``."""
        return self.n**self.dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate at ``x`` of shape ``(k, d)`` (points outside the box are clamped)."""
        width = self.hi - self.lo
        u = (x.to(self.values.dtype) - self.lo) / torch.where(width > 0, width, torch.ones_like(width))
        if self.kind == "constant":
            idx = torch.clamp(torch.floor(u * self.n), 0, self.n - 1).long()
            return self.values[(idx * self.strides).sum(-1)]
        s = torch.clamp(u, 0, 1) * (self.n - 1)
        base = torch.clamp(torch.floor(s), 0, self.n - 2)
        t = s - base  # local coordinates in [0, 1]^d
        idx = base.long()
        order = torch.argsort(t, dim=-1, descending=True)
        t_sorted = torch.gather(t, -1, order)
        flat = (idx * self.strides).sum(-1)
        value = self.values[flat]
        prev = value
        for k in range(self.dim):  # walk the simplex v_0 -> v_0 + e_{pi(0)} -> ...
            flat = flat + self.strides[order[:, k]]
            nxt = self.values[flat]
            value = value + (nxt - prev) * t_sorted[:, k]
            prev = nxt
        return value


def fit_baseline(target: Any, m: int, kind: str = "constant", *, box: Box | None = None,
                 dim: int | None = None) -> GridInterpolant:
    """The ``kind`` interpolant of ``target`` on the largest tensor grid with ``<= m`` nodes."""
    if kind not in BASELINES:
        raise ValueError(f"kind: got {kind!r}; expected one of {BASELINES}")
    t = as_target(target, dim=dim, box=box, name="target")
    return GridInterpolant(t, grid_size(m, t.dim, kind), kind, box)
