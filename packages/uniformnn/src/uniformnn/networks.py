"""Fully connected ReLU networks, random teachers and the saved-network file format.

A :class:`ReLUNetwork` with widths ``[d, n_1, ..., n_{L-1}, 1]`` computes

.. math::

    x \\mapsto W_L \\varrho(W_{L-1} \\cdots \\varrho(W_1 x + b_1) \\cdots + b_{L-1}) + b_L,

with :math:`\\varrho(t) = \\max(t, 0)` applied entrywise and no activation after the last
layer.

**Saved-network file format.** :func:`save_network` writes a file readable by ``torch.load(path, weights_only=True)``
holding one ``dict``:

====================  =================================================================
key                   value
====================  =================================================================
``format``            the string ``"uniformnn.relu_network"``
``format_version``    the integer ``1``
``widths``            list of ints ``[d, n_1, ..., n_L]``
``weights``           list of ``L`` tensors, ``weights[k]`` of shape ``(n_{k+1}, n_k)``
``biases``            list of ``L`` tensors, ``biases[k]`` of shape ``(n_{k+1},)``
``activation``        the string ``"relu"`` (applied after every layer but the last)
``input_box``         ``None`` or ``{"lower": [...], "upper": [...]}``
``metadata``          a dict of JSON-compatible values (free use)
====================  =================================================================

Weights may be float32 or float64; bounds are always computed from them in float64.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from uniformnn.box import Box, as_box

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ReLUNetwork",
    "as_relu_network",
    "load_network",
    "random_relu_network",
    "save_network",
    "teacher_network",
]

FORMAT_NAME = "uniformnn.relu_network"
FORMAT_VERSION = 1
DISTRIBUTIONS = ("uniform", "rademacher", "truncated_normal")


class ReLUNetwork(nn.Module):
    """A fully connected feed-forward ReLU network with scalar or vector output.

    Parameters
    ----------
    weights
        ``L`` matrices; ``weights[k]`` has shape ``(n_{k+1}, n_k)``.
    biases
        ``L`` vectors; ``biases[k]`` has shape ``(n_{k+1},)``.
    input_box
        Optional domain the network is meant for (stored in saved files).
    dtype
        Floating point type of the parameters (default: that of ``weights[0]``,
        float32 if it is not a floating point tensor).
    """

    def __init__(
        self,
        weights: Sequence[Any],
        biases: Sequence[Any],
        *,
        input_box: Box | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if len(weights) == 0:
            raise ValueError("weights: got an empty list; expected at least one layer")
        if len(weights) != len(biases):
            raise ValueError(
                f"weights/biases: got {len(weights)} weight matrices and {len(biases)} bias "
                "vectors; expected one bias per layer"
            )
        ws = [torch.as_tensor(w) for w in weights]
        bs = [torch.as_tensor(b) for b in biases]
        if dtype is None:
            dtype = ws[0].dtype if ws[0].is_floating_point() else torch.float32
        self.layers = nn.ModuleList()
        for k, (w, b) in enumerate(zip(ws, bs)):
            if w.ndim != 2:
                raise ValueError(f"weights[{k}]: has shape {tuple(w.shape)}; expected a matrix")
            if b.shape != (w.shape[0],):
                raise ValueError(
                    f"biases[{k}]: has shape {tuple(b.shape)}; expected ({w.shape[0]},) to match "
                    f"weights[{k}] of shape {tuple(w.shape)}"
                )
            if k > 0 and w.shape[1] != ws[k - 1].shape[0]:
                raise ValueError(
                    f"weights[{k}]: has {w.shape[1]} columns but layer {k - 1} has "
                    f"{ws[k - 1].shape[0]} outputs"
                )
            if not (torch.isfinite(w).all() and torch.isfinite(b).all()):
                raise ValueError(f"layer {k}: weights or biases are not finite")
            lin = nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
            with torch.no_grad():
                lin.weight.copy_(w.to(dtype))
                lin.bias.copy_(b.to(dtype))
            self.layers.append(lin)
        if input_box is not None:
            input_box = as_box(input_box, self.in_dim, name="input_box")
        self.input_box = input_box

    @property
    def widths(self) -> list[int]:
        """``[d, n_1, ..., n_L]``."""
        return [self.layers[0].in_features] + [lin.out_features for lin in self.layers]

    @property
    def in_dim(self) -> int:
        """Input dimension ``d``."""
        return self.layers[0].in_features

    @property
    def out_dim(self) -> int:
        """Output dimension ``n_L``."""
        return self.layers[-1].out_features

    @property
    def depth(self) -> int:
        """Number of affine layers ``L`` (hidden layers plus the output layer)."""
        return len(self.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the network on a batch ``x`` of shape ``(n, d)``; returns ``(n, out_dim)``."""
        for lin in self.layers[:-1]:
            x = torch.relu(lin(x))
        return self.layers[-1](x)

    def affine_layers(
        self, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Detached ``(W_k, b_k)`` pairs converted (exactly, for float32 weights) to ``dtype``."""
        return [
            (lin.weight.detach().to(dtype=dtype, device=device),
             lin.bias.detach().to(dtype=dtype, device=device))
            for lin in self.layers
        ]

    def lipschitz_upper_bound(self) -> float:
        """Product of spectral norms, an upper bound of the Euclidean Lipschitz constant."""
        out = 1.0
        for w, _ in self.affine_layers():
            out *= float(torch.linalg.matrix_norm(w, ord=2))
        return out

    def extra_repr(self) -> str:
        return f"widths={self.widths}"


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name}: got {value!r}; expected an integer >= {minimum}")
    return int(value)


def random_relu_network(
    widths: Sequence[int],
    *,
    coef: float = 0.5,
    distribution: str = "uniform",
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    input_box: Box | None = None,
) -> ReLUNetwork:
    """A random ReLU network whose weights and biases all lie in ``[-coef, coef]``.

    Parameters
    ----------
    widths
        ``[d, n_1, ..., n_L]`` with at least two entries.
    coef
        Bound on the absolute value of every coefficient (``> 0``).
    distribution
        ``"uniform"`` (uniform on ``[-coef, coef]``, the paper's teachers),
        ``"rademacher"`` (``+-coef`` with equal probability) or ``"truncated_normal"``
        (normal with standard deviation ``coef / 2`` truncated to ``[-coef, coef]``).
    seed
        Seed of the generator; the same seed gives the same network.
    """
    widths = list(widths)
    if len(widths) < 2:
        raise ValueError(f"widths: got {widths!r}; expected at least [d, n_out]")
    for i, w in enumerate(widths):
        _check_int(f"widths[{i}]", w, 1)
    if not (np.isfinite(coef) and coef > 0):
        raise ValueError(f"coef: got {coef!r}; expected a positive finite number")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution: got {distribution!r}; expected one of {DISTRIBUTIONS}")
    gen = torch.Generator().manual_seed(int(seed))

    def sample(shape: tuple[int, ...]) -> torch.Tensor:
        if distribution == "uniform":
            return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * coef
        if distribution == "rademacher":
            return (torch.randint(0, 2, shape, generator=gen).to(torch.float64) * 2 - 1) * coef
        out = torch.randn(shape, generator=gen, dtype=torch.float64) * (coef / 2)
        bad = out.abs() > coef
        while bad.any():  # rejection sampling gives the exact truncated law
            out[bad] = torch.randn(int(bad.sum()), generator=gen, dtype=torch.float64) * (coef / 2)
            bad = out.abs() > coef
        return out

    ws, bs = [], []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        ws.append(sample((n_out, n_in)))
        bs.append(sample((n_out,)))
    return ReLUNetwork(ws, bs, dtype=dtype, input_box=input_box)


def teacher_network(
    dim: int,
    hidden: Sequence[int] = (32, 32, 32, 32),
    *,
    coef: float = 0.5,
    distribution: str = "uniform",
    seed: int = 0,
) -> ReLUNetwork:
    """The paper's random teacher: widths ``[dim, *hidden, 1]``, coefficients in ``[-coef, coef]``.

    The default is the architecture ``[d, 32, 32, 32, 32, 1]`` with weights and biases
    uniform in ``[-0.5, 0.5]`` on the input domain ``[-0.5, 0.5]^d`` (Berner, Grohs and
    Voigtlaender, ICLR 2023).
    """
    dim = _check_int("dim", dim, 1)
    return random_relu_network(
        [dim, *hidden, 1], coef=coef, distribution=distribution, seed=seed,
        input_box=Box.cube(dim),
    )


def as_relu_network(model: Any, *, name: str = "model") -> ReLUNetwork:
    """Convert ``model`` to a :class:`ReLUNetwork` or explain why it is not one.

    Accepted: a :class:`ReLUNetwork`; an ``nn.Sequential`` of ``nn.Linear`` layers with one
    ``nn.ReLU`` between consecutive ones (``nn.Flatten``/``nn.Identity`` are ignored) and
    none after the last. Anything else raises ``TypeError`` (not a network) or
    ``ValueError`` (a layer that is not ReLU/Linear, e.g. ``nn.Tanh``).
    """
    if isinstance(model, ReLUNetwork):
        return model
    if not isinstance(model, nn.Sequential):
        raise TypeError(
            f"{name}: got {type(model).__name__}; expected a ReLUNetwork or an nn.Sequential of "
            "Linear and ReLU layers"
        )
    ws, bs = [], []
    expect_linear = True
    for i, layer in enumerate(model):
        if isinstance(layer, nn.Flatten | nn.Identity):
            continue
        if isinstance(layer, nn.Linear):
            if not expect_linear:
                raise ValueError(f"{name}: layer {i} is Linear right after Linear; expected a ReLU between")
            ws.append(layer.weight.detach())
            bs.append(
                layer.bias.detach() if layer.bias is not None
                else torch.zeros(layer.out_features, dtype=layer.weight.dtype)
            )
            expect_linear = False
        elif isinstance(layer, nn.ReLU):
            if expect_linear:
                raise ValueError(f"{name}: layer {i} is a ReLU not preceded by a Linear layer")
            expect_linear = True
        else:
            raise ValueError(
                f"{name}: layer {i} is {type(layer).__name__}; a certificate needs a network of "
                "Linear and ReLU layers only"
            )
    if not ws:
        raise ValueError(f"{name}: has no Linear layer")
    if expect_linear:
        raise ValueError(f"{name}: ends with a ReLU; expected a Linear output layer")
    return ReLUNetwork(ws, bs)


def save_network(net: ReLUNetwork | nn.Sequential, path: str | os.PathLike, *,
                 metadata: dict[str, Any] | None = None) -> Path:
    """Write ``net`` in the saved-network format (see the module docstring); atomic."""
    net = as_relu_network(net, name="net")
    path = Path(path)
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "widths": net.widths,
        "weights": [w.detach().cpu().clone() for w, _ in net.affine_layers(net.layers[0].weight.dtype)],
        "biases": [b.detach().cpu().clone() for _, b in net.affine_layers(net.layers[0].weight.dtype)],
        "activation": "relu",
        "input_box": net.input_box.to_dict() if net.input_box is not None else None,
        "metadata": dict(metadata or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_network(path: str | os.PathLike, *, dtype: torch.dtype | None = None) -> ReLUNetwork:
    """Read a network written by :func:`save_network`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a saved uniformnn network (wrong format, unknown version,
        inconsistent shapes or a non-ReLU activation).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"network file {str(path)!r} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for garbage input
        raise ValueError(
            f"network file {str(path)!r}: cannot be read as a torch file with weights_only=True "
            f"({type(exc).__name__}); expected a file written by uniformnn.save_network (a "
            "pickled module is not accepted: convert it with as_relu_network and save_network)"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise ValueError(
            f"network file {str(path)!r}: is not a uniformnn network (expected a dict with "
            f"format={FORMAT_NAME!r})"
        )
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"network file {str(path)!r}: format_version {version!r} is not supported; expected "
            f"{FORMAT_VERSION}"
        )
    if payload.get("activation", "relu") != "relu":
        raise ValueError(
            f"network file {str(path)!r}: activation {payload.get('activation')!r}; only 'relu' "
            "is supported"
        )
    try:
        box = payload.get("input_box")
        net = ReLUNetwork(
            payload["weights"], payload["biases"], dtype=dtype,
            input_box=None if box is None else Box(box["lower"], box["upper"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"network file {str(path)!r}: inconsistent content: {exc}") from None
    if list(payload.get("widths", net.widths)) != net.widths:
        raise ValueError(
            f"network file {str(path)!r}: widths {payload.get('widths')} do not match the "
            f"weight shapes {net.widths}"
        )
    net.metadata = dict(payload.get("metadata") or {})
    return net


def double_copy(module: nn.Module) -> nn.Module:
    """A float64 deep copy of ``module`` in eval mode, without gradients on its parameters."""
    out = copy.deepcopy(module).to(torch.float64).eval()
    for p in out.parameters():
        p.requires_grad_(False)
    return out
