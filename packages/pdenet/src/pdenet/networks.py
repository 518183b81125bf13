"""Networks: a plain MLP, the multilevel network of Berner et al., and the solution wrapper.

:class:`SolutionNet` takes ``(t, x, p)``, maps it affinely from the region of learning to
``[-1, 1]^(1 + d + k)`` (parameters are ordinary extra inputs) and feeds it to a body
network (:class:`MLP` or :class:`MultilevelNet`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["MLP", "MultilevelNet", "SolutionNet", "build_network", "ACTIVATIONS"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
}


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class MLP(nn.Module):
    """Fully connected network ``in -> hidden[0] -> ... -> hidden[-1] -> out``.

    Parameters
    ----------
    in_dim, out_dim : int
        Input and output sizes.
    hidden : sequence of int
        Hidden widths.
    activation : str
        One of ``relu``, ``gelu``, ``tanh``, ``silu``, ``softplus``.
    batch_norm : bool
        Batch normalisation before each activation (hidden layers then have no bias).
    """

    def __init__(self, in_dim: int, out_dim: int = 1, hidden: Sequence[int] = (64, 64),
                 activation: str = "gelu", batch_norm: bool = False) -> None:
        super().__init__()
        in_dim = _positive_int("in_dim", in_dim)
        out_dim = _positive_int("out_dim", out_dim)
        hidden = [_positive_int("hidden width", h) for h in hidden]
        layers: list[nn.Module] = []
        prev = in_dim
        for width in hidden:
            layers.append(nn.Linear(prev, width, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(_activation(activation))
            prev = width
        layers.append(nn.Linear(prev, out_dim))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return the output, shape ``(n, out_dim)``."""
        return self.body(z)


class _Level(nn.Module):
    """One level of the multilevel network: ``2^level`` hidden layers of equal width."""

    def __init__(self, in_dim: int, width: int, level: int, activation: str, batch_norm: bool) -> None:
        super().__init__()
        n_hidden = 2**level
        self.level = level
        self.inp = nn.Linear(in_dim, width, bias=not batch_norm)
        self.norms = nn.ModuleList(
            [nn.BatchNorm1d(width) if batch_norm else nn.Identity() for _ in range(n_hidden)])
        # n_hidden - 1 hidden-to-hidden maps and one read-out
        self.maps = nn.ModuleList(
            [nn.Linear(width, width, bias=not batch_norm) for _ in range(n_hidden - 1)] + [nn.Linear(width, 1)])
        self.act = _activation(activation)

    def forward(self, z: torch.Tensor, skips: list[torch.Tensor] | None) -> list[torch.Tensor]:
        h = self.inp(z)
        exported = []
        for i, (norm, lin) in enumerate(zip(self.norms, self.maps)):
            h = lin(self.act(norm(h)))
            if skips is not None:
                h = h + skips[i]
            # every second state goes to the next-shallower level (which has half the depth)
            if self.level == 0 or i % 2 == 1:
                exported.append(h)
        return exported


class MultilevelNet(nn.Module):
    """The multilevel architecture of Berner, Dablander, Grohs (NeurIPS 2020).

    ``levels`` sub-networks; level ``l`` has ``2^l`` hidden layers of width ``factor * in_dim``
    with batch normalisation. Levels are evaluated from the deepest to the shallowest: every
    second hidden state of level ``l`` is added to the corresponding state of level ``l - 1``,
    so that the read-out of level 0 is the sum of all levels' read-outs (a residual, multilevel
    decomposition of the solution in the spirit of multilevel Monte Carlo).

    Parameters
    ----------
    in_dim : int
        Input size.
    levels : int
        Number of levels (depths 1, 2, 4, ...).
    factor : int
        Width multiplier: hidden width ``factor * in_dim``.
    width : int, optional
        Hidden width, overriding ``factor``.
    activation : str
        Activation.
    batch_norm : bool
        Batch normalisation before each activation (default True, as in the paper).
    """

    def __init__(self, in_dim: int, levels: int = 3, factor: int = 5, width: int | None = None,
                 activation: str = "relu", batch_norm: bool = True) -> None:
        super().__init__()
        in_dim = _positive_int("in_dim", in_dim)
        levels = _positive_int("levels", levels)
        width = _positive_int("width", width) if width is not None else _positive_int("factor", factor) * in_dim
        self.levels = nn.ModuleList([_Level(in_dim, width, lvl, activation, batch_norm) for lvl in range(levels)])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return the output, shape ``(n, 1)``."""
        skips = None
        for level in reversed(self.levels):
            skips = level(z, skips)
        return skips[-1]


class SolutionNet(nn.Module):
    """``u_theta(t, x, p)``: input normalisation to ``[-1, 1]`` followed by a body network.

    Parameters
    ----------
    body : nn.Module
        Network from ``1 + d + k`` inputs to one output.
    low, high : array_like
        Bounds of ``(t, x, p)`` on the region of learning.
    """

    def __init__(self, body: nn.Module, low: Sequence[float], high: Sequence[float]) -> None:
        super().__init__()
        low = torch.as_tensor(np.asarray(low, dtype=float), dtype=torch.float32)
        high = torch.as_tensor(np.asarray(high, dtype=float), dtype=torch.float32)
        span = high - low
        span = torch.where(span > 0, span, torch.ones_like(span))
        self.register_buffer("center", (low + high) / 2)
        self.register_buffer("half_span", span / 2)
        self.body = body

    def forward(self, t: torch.Tensor, x: torch.Tensor, p: torch.Tensor | None = None) -> torch.Tensor:
        """Return ``u`` with shape ``(n,)``."""
        parts = [t.unsqueeze(-1), x]
        if p is not None and p.shape[-1] > 0:
            parts.append(p)
        z = torch.cat(parts, dim=-1)
        z = (z - self.center.to(z.dtype)) / self.half_span.to(z.dtype)
        return self.body(z).squeeze(-1)


def build_network(kind: str, in_dim: int, *, width: int = 64, depth: int = 3, levels: int = 3,
                  activation: str = "gelu", batch_norm: bool | None = None) -> nn.Module:
    """Build a body network by name.

    Parameters
    ----------
    kind : str
        ``mlp`` or ``multilevel``.
    in_dim : int
        Input size.
    width : int
        Hidden width.
    depth : int
        Hidden layers of the MLP.
    levels : int
        Levels of the multilevel network.
    activation : str
        Activation name.
    batch_norm : bool, optional
        Default: False for the MLP, True for the multilevel network.
    """
    if kind == "mlp":
        return MLP(in_dim, 1, [width] * _positive_int("depth", depth), activation, bool(batch_norm))
    if kind == "multilevel":
        return MultilevelNet(in_dim, levels=levels, width=width, activation=activation,
                             batch_norm=True if batch_norm is None else bool(batch_norm))
    raise ValueError(f"network kind must be 'mlp' or 'multilevel', got {kind!r}")
