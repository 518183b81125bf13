"""DeepBSDE (Han, Jentzen, E, PNAS 2018) for semilinear parabolic PDEs.

For the problem ``u_t + L u + f(t, x, u, sigma^T grad u) = 0``, ``u(T, x) = g(x)`` (see
:class:`pdenet.problems.SemilinearProblem`), the pair ``Y_t = u(t, X_t)``,
``Z_t = sigma^T grad u(t, X_t)`` solves the BSDE ``dY = -f(t, X, Y, Z) dt + Z . dW``.
DeepBSDE makes ``Y_0 = u(0, x0)`` and ``Z_0`` trainable parameters, represents ``Z`` at each
later time step by its own network of ``X_{t_n}``, runs the Euler scheme

.. math::

    Y_{n+1} = Y_n - f(t_n, X_n, Y_n, Z_n)\\,\\Delta t + Z_n \\cdot \\Delta W_n ,

and minimises ``E |Y_N - g(X_N)|^2``. The trained ``Y_0`` approximates ``u(0, x0)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from pdenet.problems import SemilinearProblem

__all__ = ["DeepBSDEModel", "deepbsde_loss", "DeepBSDESolution"]


class _StackedBatchNorm(nn.Module):
    """Batch normalisation over the sample axis of a ``(S, B, w)`` stack, separately per slice."""

    def __init__(self, n_stack: int, width: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n_stack, 1, width))
        self.bias = nn.Parameter(torch.zeros(n_stack, 1, width))
        self.register_buffer("running_mean", torch.zeros(n_stack, 1, width))
        self.register_buffer("running_var", torch.ones(n_stack, 1, width))
        self.momentum = momentum
        self.eps = eps

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.training and h.shape[1] > 1:
            mean = h.mean(1, keepdim=True)
            var = h.var(1, keepdim=True, unbiased=False)
            with torch.no_grad():
                n = h.shape[1]
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * n / (n - 1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        return (h - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class StackedMLP(nn.Module):
    """``S`` independent MLPs ``d -> width^depth -> d`` evaluated in one batched call.

    The input has shape ``(S, B, d)``: slice ``s`` goes through network ``s``. Each network
    is an MLP with (optional) batch normalisation before every activation, the gradient
    network of Han, Jentzen, E (2018) for one time step. Stacking replaces ``S`` small
    matrix products by one batched product per layer.
    """

    def __init__(self, n_stack: int, dim: int, width: int, depth: int, activation: str = "relu",
                 batch_norm: bool = True) -> None:
        super().__init__()
        from pdenet.networks import _activation

        sizes = [dim] + [width] * depth + [dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.norms = nn.ModuleList()
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1.0 / math.sqrt(a)
            self.weights.append(nn.Parameter(torch.empty(n_stack, a, b).uniform_(-bound, bound)))
            last = i == len(sizes) - 2
            self.biases.append(nn.Parameter(torch.empty(n_stack, 1, b).uniform_(-bound, bound)))
            if not last:
                self.norms.append(_StackedBatchNorm(n_stack, b) if batch_norm else nn.Identity())
        # the read-out starts at zero, so that Z starts at 0 and Y_0 starts from the
        # linear (f-free) dynamics instead of being pushed away by large random gradients
        with torch.no_grad():
            self.weights[-1].zero_()
            self.biases[-1].zero_()
        self.act = _activation(activation)
        self.batch_norm = batch_norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(S, B, d)`` to ``(S, B, d)``."""
        h = x
        n_layers = len(self.weights)
        for i in range(n_layers):
            h = torch.baddbmm(self.biases[i], h, self.weights[i])
            if i < n_layers - 1:
                h = self.act(self.norms[i](h))
        return h


class DeepBSDEModel(nn.Module):
    """Trainable ``u(0, x0)``, ``Z_0`` and one gradient network per time step.

    Parameters
    ----------
    dim : int
        Space dimension.
    n_steps : int
        Number of time steps ``N`` (networks for steps ``1..N-1``).
    width, depth : int
        Hidden width and number of hidden layers of each gradient network
        (Han, Jentzen, E: ``d + 10`` and 2).
    activation : str
        Activation of the gradient networks.
    batch_norm : bool
        Batch normalisation in the gradient networks (as in the paper).
    y0_range : tuple of float
        ``u(0, x0)`` is initialised uniformly in this range.
    generator : torch.Generator, optional
        Randomness of the initialisation of ``Y_0`` and ``Z_0``.
    """

    def __init__(self, dim: int, n_steps: int, *, width: int, depth: int = 2, activation: str = "relu",
                 batch_norm: bool = True, y0_range: tuple[float, float] = (0.0, 1.0),
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps}")
        lo, hi = y0_range
        self.y0 = nn.Parameter(lo + (hi - lo) * torch.rand((), generator=generator))
        self.z0 = nn.Parameter(0.02 * torch.rand(dim, generator=generator) - 0.01)
        self.subnets = (StackedMLP(n_steps - 1, dim, width, depth, activation, batch_norm)
                        if n_steps > 1 else None)
        self.n_steps = n_steps
        self.dim = dim

    def z_all(self, xs: torch.Tensor) -> torch.Tensor:
        """``Z_0, ..., Z_{N-1}`` for the states ``xs`` of shape ``(N, B, d)`` at ``t_0, ..., t_{N-1}``.

        ``Z_n`` approximates ``sigma^T grad u(t_n, X_n)``; ``Z_0`` is a trainable vector.
        """
        z0 = self.z0.expand(1, xs.shape[1], -1)
        if self.subnets is None:
            return z0
        return torch.cat([z0, self.subnets(xs[1:])], dim=0)


def deepbsde_loss(model: DeepBSDEModel, problem: SemilinearProblem, batch_size: int, *,
                  generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32,
                  device: str | torch.device = "cpu") -> torch.Tensor:
    """``mean |Y_N - g(X_N)|^2`` over ``batch_size`` fresh forward paths."""
    x0 = torch.as_tensor(problem.x0, dtype=dtype, device=device).expand(batch_size, -1)
    path = problem.sde.path(x0, problem.horizon, None, n_steps=model.n_steps, generator=generator)
    dt = problem.horizon / model.n_steps
    zs = model.z_all(path.x[:-1])
    noise = (zs * path.dw).sum(-1)
    y = model.y0.expand(batch_size)
    for n in range(model.n_steps):
        t_n = torch.full((batch_size,), n * dt, dtype=dtype, device=device)
        y = y - problem.f(t_n, path.x[n], y, zs[n]) * dt + noise[n]
    return ((y - problem.g(path.x[-1])) ** 2).mean()


class DeepBSDESolution:
    """The result of a DeepBSDE run: ``u(0, x0)`` and ``sigma^T grad u(0, x0)``.

    Parameters
    ----------
    model : DeepBSDEModel
        The trained model.
    problem : SemilinearProblem
        The PDE.
    """

    def __init__(self, model: DeepBSDEModel, problem: SemilinearProblem) -> None:
        self.model = model
        self.problem = problem

    @property
    def value(self) -> float:
        """The approximation of ``u(0, x0)``."""
        return float(self.model.y0.detach())

    @property
    def z0(self) -> np.ndarray:
        """The approximation of ``sigma^T grad u(0, x0)``."""
        return self.model.z0.detach().cpu().numpy().copy()

    def evaluate(self, n_samples: int = 1_000_000, seed: int = 0) -> dict[str, Any]:
        """Relative error of ``u(0, x0)`` against the problem's reference."""
        ref, half = self.problem.reference_solution(n_samples=n_samples, seed=seed)
        rel = abs(self.value - ref) / abs(ref)
        return {"value": self.value, "reference": ref, "reference_half_width": half,
                "rel_error": rel, "abs_error": abs(self.value - ref)}
