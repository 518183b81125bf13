"""Target functions: random teachers, classic test functions and user functions.

A :class:`Target` bundles a function ``R^d -> R`` (evaluated on float64 batches), its input
box and, where known, a ReLU network representing it exactly (then sup-norm errors can be
certified by bound propagation) or a Lipschitz constant (then they can be certified by a
Lipschitz argument).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from uniformnn.box import Box, as_box
from uniformnn.networks import ReLUNetwork, double_copy, load_network, teacher_network

__all__ = [
    "Target",
    "as_target",
    "function_target",
    "make_target",
    "network_target",
    "oscillatory_target",
    "sines_target",
    "TARGET_KINDS",
]

TARGET_KINDS = ("teacher", "oscillatory", "sines", "abs", "network")


@dataclass
class Target:
    """A scalar function on a box."""

    fn: Callable[[torch.Tensor], torch.Tensor]
    """Maps a float64 tensor of shape ``(n, d)`` to a tensor of shape ``(n,)`` or ``(n, 1)``."""

    dim: int
    """Input dimension ``d``."""

    box: Box
    """Input domain."""

    name: str = "target"
    """Short label used in tables and plots."""

    network: ReLUNetwork | None = None
    """A :class:`~uniformnn.networks.ReLUNetwork` equal to ``fn`` (or ``None``)."""

    lipschitz: float | None = None
    """A Lipschitz constant of ``fn`` with respect to the Euclidean norm on the box (or ``None``)."""

    info: dict[str, Any] = field(default_factory=dict)
    """Free-form description (kept in result tables)."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate on a batch ``x`` of shape ``(n, d)``; returns shape ``(n,)``."""
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"x: has shape {tuple(x.shape)}; expected (n, {self.dim}) for target {self.name!r}"
            )
        y = self.fn(x)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.shape != (x.shape[0],):
            raise ValueError(
                f"target {self.name!r}: returned shape {tuple(y.shape)}; expected ({x.shape[0]},)"
            )
        return y


def network_target(net: ReLUNetwork, *, box: Box | None = None, name: str = "network") -> Target:
    """A target given by a scalar-output ReLU network (certifiable)."""
    if net.out_dim != 1:
        raise ValueError(f"net: has {net.out_dim} outputs; a target must have one")
    box = as_box(box if box is not None else net.input_box, net.in_dim)
    net64 = double_copy(net)
    return Target(lambda x: net64(x)[:, 0], net.in_dim, box, name, network=net64,
                  info={"widths": net.widths})


def oscillatory_target(dim: int = 1, *, box: Box | None = None) -> Target:
    """The classic test function ``log(sin(50 x) + 2) + sin(5 x)``, averaged over coordinates.

    For ``d = 1`` this is exactly ``log(sin(50x) + 2) + sin(5x)``; for ``d > 1`` it is the mean
    of that function over the coordinates. Its derivative is bounded by ``50 / 1 + 5 = 55`` per
    coordinate, so ``55 / sqrt(d)`` is a Euclidean Lipschitz constant.
    """
    box = as_box(box, dim)

    def fn(x: torch.Tensor) -> torch.Tensor:
        return (torch.log(torch.sin(50 * x) + 2) + torch.sin(5 * x)).mean(dim=1)

    return Target(fn, dim, box, "oscillatory", lipschitz=55.0 / math.sqrt(dim))


def sines_target(dim: int = 1, *, frequency: float = 1.0, box: Box | None = None) -> Target:
    """``mean_i sin(2 pi frequency x_i)``, Lipschitz constant ``2 pi frequency / sqrt(d)``."""
    box = as_box(box, dim)

    def fn(x: torch.Tensor) -> torch.Tensor:
        return torch.sin(2 * math.pi * frequency * x).mean(dim=1)

    return Target(fn, dim, box, f"sines{frequency:g}",
                  lipschitz=2 * math.pi * abs(frequency) / math.sqrt(dim))


def function_target(
    fn: Callable[[torch.Tensor], torch.Tensor],
    dim: int,
    *,
    box: Box | None = None,
    lipschitz: float | None = None,
    name: str = "function",
) -> Target:
    """Wrap a user function ``fn: (n, d) float64 tensor -> (n,)``.

    ``lipschitz`` (Euclidean norm) enables certified upper bounds; without it only the lower
    bound of a sup-norm error can be computed.
    """
    if not callable(fn):
        raise TypeError(f"fn: got {type(fn).__name__}; expected a callable")
    if lipschitz is not None and not (math.isfinite(lipschitz) and lipschitz >= 0):
        raise ValueError(f"lipschitz: got {lipschitz!r}; expected a finite number >= 0 or None")
    return Target(fn, int(dim), as_box(box, int(dim)), name, lipschitz=lipschitz)


def _abs_target(dim: int, box: Box | None) -> Target:
    # |x_1| = relu(x_1) + relu(-x_1): an exact ReLU network, handy as a sanity check.
    w1 = torch.zeros(2, dim, dtype=torch.float64)
    w1[0, 0], w1[1, 0] = 1.0, -1.0
    net = ReLUNetwork([w1, torch.ones(1, 2, dtype=torch.float64)],
                      [torch.zeros(2, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)])
    t = network_target(net, box=as_box(box, dim), name="abs")
    t.lipschitz = 1.0
    return t


def make_target(kind: str, dim: int, *, seed: int = 0, box: Box | None = None,
                **options: Any) -> Target:
    """Build a target by name (used by configuration files and the CLI).

    Parameters
    ----------
    kind
        ``"teacher"`` (options ``hidden``, ``coef``, ``distribution``; see
        :func:`~uniformnn.networks.teacher_network`), ``"oscillatory"``, ``"sines"``
        (option ``frequency``), ``"abs"`` (``|x_1|``) or ``"network"`` (option ``path``).
    dim
        Input dimension.
    seed
        Seed of random targets (teachers).
    """
    if kind not in TARGET_KINDS:
        raise ValueError(f"target kind: got {kind!r}; expected one of {TARGET_KINDS}")
    allowed = {
        "teacher": {"hidden", "coef", "distribution"},
        "oscillatory": set(),
        "sines": {"frequency"},
        "abs": set(),
        "network": {"path"},
    }[kind]
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(
            f"target {kind!r}: unknown options {sorted(unknown)}; accepted: {sorted(allowed)}"
        )
    if kind == "teacher":
        net = teacher_network(dim, tuple(options.get("hidden", (32, 32, 32, 32))),
                              coef=float(options.get("coef", 0.5)),
                              distribution=options.get("distribution", "uniform"), seed=seed)
        t = network_target(net, box=box, name="teacher")
        t.info.update({"seed": seed, "coef": float(options.get("coef", 0.5))})
        return t
    if kind == "oscillatory":
        return oscillatory_target(dim, box=box)
    if kind == "sines":
        return sines_target(dim, frequency=float(options.get("frequency", 1.0)), box=box)
    if kind == "abs":
        return _abs_target(dim, box)
    if "path" not in options:
        raise ValueError("target 'network': needs the option path (a saved network file)")
    net = load_network(options["path"])
    if net.in_dim != dim:
        raise ValueError(f"target network {options['path']!r}: has input dimension {net.in_dim}, expected {dim}")
    return network_target(net, box=box, name="network")


def as_target(obj: Any, *, dim: int | None = None, box: Box | None = None,
              name: str = "f") -> Target:
    """Turn a network, module, :class:`Target` or callable into a :class:`Target`.

    ``nn.Sequential`` of Linear/ReLU layers become certifiable network targets; other modules
    and callables need ``dim`` (or a box) and can only be bounded from below unless they are
    Targets with a Lipschitz constant.
    """
    if isinstance(obj, Target):
        if dim is not None and obj.dim != dim:
            raise ValueError(f"{name}: has input dimension {obj.dim}, expected {dim}")
        if box is not None:
            obj = Target(obj.fn, obj.dim, as_box(box, obj.dim), obj.name, obj.network,
                         obj.lipschitz, dict(obj.info))
        return obj
    if isinstance(obj, ReLUNetwork):
        if dim is not None and obj.in_dim != dim:
            raise ValueError(f"{name}: has input dimension {obj.in_dim}, expected {dim}")
        return network_target(obj, box=box, name=name)
    if isinstance(obj, nn.Module):
        from uniformnn.networks import as_relu_network

        try:
            return as_target(as_relu_network(obj, name=name), dim=dim, box=box, name=name)
        except (TypeError, ValueError):
            pass
        if dim is None and box is None:
            raise ValueError(f"{name}: a general torch module needs dim or box to be given")
        d = dim if dim is not None else as_box(box).dim
        mod = double_copy(obj)
        return Target(lambda x: mod(x), d, as_box(box, d), name, info={"module": type(obj).__name__})
    if callable(obj):
        if dim is None and box is None:
            raise ValueError(f"{name}: a callable needs dim or box to be given")
        d = dim if dim is not None else as_box(box).dim
        return function_target(obj, d, box=box, name=name)
    raise TypeError(
        f"{name}: got {type(obj).__name__}; expected a ReLUNetwork, torch module, Target or callable"
    )

