"""The error function ``h = f - g`` of two functions on a box, as used by all estimators."""

from __future__ import annotations

from typing import Any

import torch

from uniformnn.box import Box, as_box
from uniformnn.targets import Target, as_target

__all__ = ["Objective", "resolve_device"]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` or ``"auto"``: the first CUDA device when present, else the CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: got {device!r}; expected 'cpu', 'cuda', 'cuda:N' or 'auto'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: got {device!r} but no CUDA device is available")
    return dev


class Objective:
    """``h(x) = f(x) - g(x)`` on a box (``g = None`` means ``h = f``), evaluated in float64.

    Parameters
    ----------
    f, g
        :class:`~uniformnn.networks.ReLUNetwork`, Linear/ReLU ``nn.Sequential``, other torch
        modules, :class:`~uniformnn.targets.Target` or callables ``(n, d) -> (n,)``.
    box
        The input box; default: ``f``'s box (for networks, the ``input_box`` stored with them,
        else ``[-0.5, 0.5]^d``).
    dim
        Input dimension, needed when neither ``f`` nor ``g`` tells it.
    device
        Where batches are evaluated (``None``: CUDA when present, else CPU).
    """

    def __init__(self, f: Any, g: Any = None, box: Box | Any = None, *, dim: int | None = None,
                 device: str | torch.device | None = None) -> None:
        if box is not None and not isinstance(box, Box):
            box = as_box(box, dim)
        if dim is None and box is not None:
            dim = box.dim
        self.f: Target = _first_target(f, g, dim, box, "f")
        dim = self.f.dim
        if box is None:
            box = self.f.box
        box = as_box(box, dim)
        self.f = as_target(self.f, dim=dim, box=box, name="f")
        self.g: Target | None = None if g is None else as_target(g, dim=dim, box=box, name="g")
        self.box = box
        self.dim = dim
        self.device = resolve_device(device)
        self._nets: dict[str, torch.nn.Module] = {}

    @property
    def is_network_difference(self) -> bool:
        """Whether both sides are ReLU networks (or ``g`` is absent)."""
        return self.f.network is not None and (self.g is None or self.g.network is not None)

    @property
    def certifiable(self) -> bool:
        """Whether a certified upper bound of ``sup |h|`` can be computed."""
        return all(t is None or t.network is not None or t.lipschitz is not None
                   for t in (self.f, self.g))

    def _eval(self, t: Target, key: str, x: torch.Tensor) -> torch.Tensor:
        if t.network is not None:
            net = self._nets.get(key)
            if net is None:
                net = self._nets[key] = t.network.to(torch.float64).to(x.device)
            return net(x)[:, 0]
        try:
            return t(x)
        except RuntimeError:  # e.g. a CPU-only user function given a CUDA tensor
            return t(x.cpu()).to(x.device)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``h`` on a float64 batch of shape ``(n, d)``; returns ``(n,)``."""
        out = self._eval(self.f, "f", x)
        if self.g is not None:
            out = out - self._eval(self.g, "g", x)
        return out

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` points uniform in the box (drawn on the CPU for reproducibility)."""
        lo = torch.tensor(self.box.lower, dtype=torch.float64)
        hi = torch.tensor(self.box.upper, dtype=torch.float64)
        u = torch.rand(n, self.dim, generator=generator, dtype=torch.float64)
        return (lo + u * (hi - lo)).to(self.device)

    def bounds_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Box bounds as float64 tensors on the device."""
        return (torch.tensor(self.box.lower, dtype=torch.float64, device=self.device),
                torch.tensor(self.box.upper, dtype=torch.float64, device=self.device))


def _first_target(f: Any, g: Any, dim: int | None, box: Box | None, name: str) -> Target:
    if dim is None:
        for obj in (f, g):
            if isinstance(obj, Target):
                dim = obj.dim
                break
            d = getattr(obj, "in_dim", None)
            if d is not None:
                dim = d
                break
    return as_target(f, dim=dim, box=box, name=name)
