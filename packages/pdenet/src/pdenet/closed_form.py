"""Closed-form solutions of the built-in problems (torch, batched, differentiable).

Every function takes tensors and returns a tensor of shape ``(n,)``. The formulas are
checked against Monte Carlo in the test suite.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "heat_paraboloid",
    "heat_gaussian",
    "black_scholes_call",
    "black_scholes_put",
    "burgers_type",
]


def heat_paraboloid(t: torch.Tensor, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Solution of ``u_t = (sigma^2 / 2) Laplace u``, ``u(0, x) = ||x||^2``.

    With ``X_t = x + sigma W_t``, ``u(t, x) = E ||X_t||^2 = ||x||^2 + d sigma^2 t``
    (Beck et al., J. Sci. Comput. 2021, Sec. 4.1, for ``sigma = sqrt(2)``).

    Parameters
    ----------
    t : torch.Tensor
        Times, shape ``(n,)``.
    x : torch.Tensor
        Points, shape ``(n, d)``.
    sigma : torch.Tensor
        Diffusion coefficients, shape ``(n,)`` or scalar.
    """
    d = x.shape[-1]
    return (x**2).sum(-1) + d * sigma**2 * t


def heat_gaussian(t: torch.Tensor, x: torch.Tensor, sigma: float, a: float) -> torch.Tensor:
    """Solution of ``u_t = (sigma^2 / 2) Laplace u``, ``u(0, x) = exp(-a ||x||^2)``.

    Gaussian convolution gives, with ``v = sigma^2 t``,
    ``u(t, x) = (1 + 2 a v)^(-d/2) exp(-a ||x||^2 / (1 + 2 a v))``.
    """
    d = x.shape[-1]
    s = 1.0 + 2.0 * a * sigma**2 * t
    return torch.exp(-0.5 * d * torch.log(s) - a * (x**2).sum(-1) / s)


def _bs_d12(t, x, sigma, strike, rate):
    vol = sigma * torch.sqrt(t)
    d1 = (torch.log(x / strike) + (rate + 0.5 * sigma**2) * t) / vol
    return d1, d1 - vol


def black_scholes_call(t, x, sigma, strike, rate) -> torch.Tensor:
    """Black-Scholes price of a European call with time to maturity ``t`` and spot ``x``.

    ``C = x N(d1) - K e^{-r t} N(d2)``, ``d1 = (ln(x / K) + (r + sigma^2 / 2) t) / (sigma sqrt(t))``,
    ``d2 = d1 - sigma sqrt(t)`` (Black and Scholes 1973). At ``t = 0`` the payoff ``(x - K)^+``.
    """
    t = torch.as_tensor(t, dtype=x.dtype)
    safe_t = torch.clamp(t, min=1e-12)
    d1, d2 = _bs_d12(safe_t, x, sigma, strike, rate)
    price = x * torch.special.ndtr(d1) - strike * torch.exp(-rate * safe_t) * torch.special.ndtr(d2)
    return torch.where(t > 0, price, torch.clamp(x - strike, min=0.0))


def black_scholes_put(t, x, sigma, strike, rate) -> torch.Tensor:
    """Black-Scholes price of a European put, ``P = K e^{-r t} N(-d2) - x N(-d1)``."""
    t = torch.as_tensor(t, dtype=x.dtype)
    safe_t = torch.clamp(t, min=1e-12)
    d1, d2 = _bs_d12(safe_t, x, sigma, strike, rate)
    price = strike * torch.exp(-rate * safe_t) * torch.special.ndtr(-d2) - x * torch.special.ndtr(-d1)
    return torch.where(t > 0, price, torch.clamp(strike - x, min=0.0))


def burgers_type(t: torch.Tensor, x: torch.Tensor, horizon: float) -> torch.Tensor:
    """Explicit solution ``u(t, x) = 1 / (1 + exp(-(t + mean(x))))`` of the Burgers-type problem.

    See :func:`pdenet.problems.burgers_type` for the equation it solves. ``horizon`` is
    unused and kept for a uniform signature.
    """
    del horizon
    return torch.sigmoid(t + x.mean(-1))


def chi2_expectation(func, dof: int, n_grid: int = 200_001) -> float:
    """``E[func(Y)]`` for ``Y ~ chi^2(dof)`` by the trapezoidal rule on a fine grid (float64).

    Used for an independent check of the Cole-Hopf reference of the HJB problem.
    """
    import numpy as np

    hi = dof + 60.0 * math.sqrt(2.0 * dof) + 60.0
    y = np.linspace(0.0, hi, n_grid)[1:]
    logpdf = (dof / 2 - 1) * np.log(y) - y / 2 - (dof / 2) * math.log(2.0) - math.lgamma(dof / 2)
    vals = func(y) * np.exp(logpdf)
    return float(np.trapezoid(vals, y))
