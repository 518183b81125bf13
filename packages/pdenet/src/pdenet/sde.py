"""Stochastic differential equations and their samplers.

Every linear Kolmogorov problem in pdenet is given by a time-homogeneous Ito SDE

.. math::

    dX_s = \\mu(X_s, p)\\, ds + \\sigma(X_s, p)\\, dW_s, \\qquad X_0 = x,

whose generator :math:`L u = \\tfrac12 \\operatorname{Tr}(\\sigma\\sigma^T \\nabla^2 u) + \\mu \\cdot \\nabla u`
defines the PDE. The affine SDEs (Brownian motion, geometric Brownian motion,
Ornstein-Uhlenbeck) are sampled exactly; any other SDE is discretised by Euler-Maruyama.

All samplers work on batches: ``x`` has shape ``(n, d)``, the parameters ``p`` shape
``(n, k)`` (``k`` may be zero) and the horizon ``t`` shape ``(n,)`` (every sample has its
own horizon). Randomness comes from an explicit :class:`torch.Generator`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Coefficient = float | np.ndarray | torch.Tensor | Callable[[torch.Tensor], torch.Tensor]

__all__ = [
    "SDE",
    "BrownianMotion",
    "GeometricBrownianMotion",
    "OrnsteinUhlenbeck",
    "EulerSDE",
    "SDEPath",
]


def _check_dim(dim: Any) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"dim must be a positive integer, got {dim!r}")
    if dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim}")
    return int(dim)


def _check_positive_constant(name: str, value: Coefficient, dim: int) -> None:
    """Reject non-positive or mis-shaped constant coefficients at construction time."""
    if callable(value):
        return
    arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != dim):
        raise ValueError(f"{name} must be a scalar or a vector of length dim={dim}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be positive and finite, got {arr.tolist()}")


def _coef(value: Coefficient, p: torch.Tensor, n: int, like: torch.Tensor) -> torch.Tensor:
    """Evaluate a coefficient as a tensor broadcastable against ``(n, d)``."""
    if callable(value):
        out = value(p)
        if not isinstance(out, torch.Tensor):
            out = torch.as_tensor(out, dtype=like.dtype, device=like.device)
        out = out.to(dtype=like.dtype, device=like.device)
        if out.ndim == 0:
            return out
        if out.ndim == 1:
            if out.shape[0] != n:
                raise ValueError(f"a parametric coefficient returned shape {tuple(out.shape)}, expected ({n},) or ({n}, d)")
            return out.unsqueeze(-1)
        return out
    return torch.as_tensor(np.asarray(value, dtype=float) if not isinstance(value, torch.Tensor) else value,
                           dtype=like.dtype, device=like.device)


def _as_time(t: torch.Tensor | float, n: int, like: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    if t.ndim == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(f"t must have shape ({n},) matching x, got {tuple(t.shape)}")
    return t


class SDEPath:
    """A discretised path: states ``x[k]`` at times ``times[k]`` and Brownian increments.

    Attributes
    ----------
    times : torch.Tensor
        Shape ``(K + 1, n)``; sample ``i`` runs on the uniform grid of ``[0, t_i]``.
    x : torch.Tensor
        Shape ``(K + 1, n, d)``.
    dw : torch.Tensor
        Shape ``(K, n, m)``, the increments ``W(times[k + 1]) - W(times[k])``.
    """

    def __init__(self, times: torch.Tensor, x: torch.Tensor, dw: torch.Tensor) -> None:
        self.times = times
        self.x = x
        self.dw = dw


class SDE:
    """Base class of a time-homogeneous Ito SDE ``dX = mu(X, p) dt + sigma(X, p) dW``.

    Subclasses implement :meth:`drift` and :meth:`diffusion_times`; affine SDEs also
    override :meth:`sample` with an exact sampler and set ``exact = True``.

    Parameters
    ----------
    dim : int
        State dimension ``d``; the Brownian motion has the same dimension.
    """

    #: whether :meth:`sample` draws from the exact law of ``X_t``
    exact: bool = False

    def __init__(self, dim: int) -> None:
        self.dim = _check_dim(dim)
        self.noise_dim = self.dim

    # -- coefficients -----------------------------------------------------------------
    def drift(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """Return ``mu(x, p)`` with shape ``(n, d)``."""
        raise NotImplementedError

    def diffusion_times(self, x: torch.Tensor, p: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        """Return ``sigma(x, p) @ dw`` for a batch of noise vectors ``dw`` of shape ``(n, m)``."""
        raise NotImplementedError

    # -- sampling ---------------------------------------------------------------------
    def _check(self, x: torch.Tensor, p: torch.Tensor | None) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), got {tuple(x.shape)}")
        if p is None:
            p = x.new_zeros((x.shape[0], 0))
        if p.ndim != 2 or p.shape[0] != x.shape[0]:
            raise ValueError(f"p must have shape ({x.shape[0]}, k), got {tuple(p.shape)}")
        return p

    def euler_step(self, x: torch.Tensor, p: torch.Tensor, dt: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        """One Euler-Maruyama step with per-sample step sizes ``dt`` of shape ``(n,)``."""
        return x + self.drift(x, p) * dt.unsqueeze(-1) + self.diffusion_times(x, p, dw)

    def step(self, x: torch.Tensor, p: torch.Tensor, dt: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        """Advance by ``dt`` driven by the increment ``dw``: exact where possible, else Euler."""
        return self.euler_step(x, p, dt, dw)

    def sample(
        self,
        x: torch.Tensor,
        t: torch.Tensor | float,
        p: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        n_steps: int = 32,
    ) -> torch.Tensor:
        """Draw ``X_t`` started at ``X_0 = x`` (exact for affine SDEs, Euler otherwise).

        Parameters
        ----------
        x : torch.Tensor
            Initial states, shape ``(n, d)``.
        t : torch.Tensor or float
            Horizons, shape ``(n,)`` or a scalar.
        p : torch.Tensor, optional
            Parameters, shape ``(n, k)``.
        generator : torch.Generator, optional
            Source of randomness.
        n_steps : int
            Euler steps (ignored by exact samplers).

        Notes
        -----
        Only the current state is kept (memory of order ``n d``, not ``n_steps n d`` as for
        :meth:`path`). SDEs with an exact :meth:`step` (``exact = True``) take one step of
        length ``t``; otherwise the random numbers are drawn in the same order as in
        :meth:`path`, so the result equals ``path(...).x[-1]`` for the same generator state.
        """
        p = self._check(x, p)
        if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
        n = x.shape[0]
        t = _as_time(t, n, x)
        if torch.any(t < 0):
            raise ValueError("t must be non-negative")
        steps = 1 if self.exact else n_steps
        dt = t / steps
        sqdt = dt.sqrt().unsqueeze(-1)
        cur = x
        for _ in range(steps):
            dw = torch.randn((n, self.noise_dim), generator=generator, dtype=x.dtype, device=x.device) * sqdt
            cur = self.step(cur, p, dt, dw)
        return cur

    def path(
        self,
        x: torch.Tensor,
        t: torch.Tensor | float,
        p: torch.Tensor | None = None,
        *,
        n_steps: int = 32,
        generator: torch.Generator | None = None,
    ) -> SDEPath:
        """Simulate the path on the uniform grid of ``[0, t]`` with ``n_steps`` steps.

        The increments ``dw`` are returned so that stochastic integrals against the same
        Brownian motion can be formed (BSDE and control-variate losses).
        """
        p = self._check(x, p)
        if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
        n = x.shape[0]
        t = _as_time(t, n, x)
        if torch.any(t < 0):
            raise ValueError("t must be non-negative")
        dt = t / n_steps
        sqdt = dt.sqrt().unsqueeze(-1)
        xs = [x]
        dws = []
        times = [torch.zeros_like(t)]
        cur = x
        for k in range(n_steps):
            dw = torch.randn((n, self.noise_dim), generator=generator, dtype=x.dtype, device=x.device) * sqdt
            cur = self.step(cur, p, dt, dw)
            xs.append(cur)
            dws.append(dw)
            times.append(dt * (k + 1))
        return SDEPath(torch.stack(times), torch.stack(xs), torch.stack(dws))


class BrownianMotion(SDE):
    """Scaled Brownian motion with constant drift, ``dX = mu dt + sigma dW`` (exact).

    Parameters
    ----------
    dim : int
        Dimension.
    sigma : float, array or callable
        Diffusion: a positive scalar, a positive vector (diagonal) or a callable
        ``p -> (n,)`` or ``(n, d)`` for a parameter-dependent diffusion.
    mu : float, array or callable
        Constant drift (default 0).
    """

    exact = True

    def __init__(self, dim: int, sigma: Coefficient = 1.0, mu: Coefficient = 0.0) -> None:
        super().__init__(dim)
        _check_positive_constant("sigma", sigma, self.dim)
        self.sigma = sigma
        self.mu = mu

    def drift(self, x, p):
        return torch.zeros_like(x) + _coef(self.mu, p, x.shape[0], x)

    def diffusion_times(self, x, p, dw):
        return _coef(self.sigma, p, x.shape[0], x) * dw

    def step(self, x, p, dt, dw):
        # the Euler step is exact for constant coefficients
        return self.euler_step(x, p, dt, dw)


class GeometricBrownianMotion(SDE):
    """Correlated geometric Brownian motion ``dX_i = mu_i X_i dt + sigma_i X_i (L dW)_i`` (exact).

    Here ``L`` is the Cholesky factor of the correlation matrix, so that the driving
    Brownian motions of the assets have correlation ``correlation``. The exact solution
    ``X_i(t) = X_i(0) exp((mu_i - sigma_i^2 / 2) t + sigma_i (L W_t)_i)`` is used.

    Parameters
    ----------
    dim : int
        Number of assets.
    mu : float, array or callable
        Drift rates (the risk-free rate for risk-neutral pricing).
    sigma : float, array or callable
        Positive volatilities.
    correlation : array, optional
        ``(d, d)`` symmetric positive definite correlation matrix with unit diagonal.
    """

    exact = True

    def __init__(self, dim: int, mu: Coefficient = 0.0, sigma: Coefficient = 0.2,
                 correlation: np.ndarray | None = None) -> None:
        super().__init__(dim)
        _check_positive_constant("sigma", sigma, self.dim)
        self.mu = mu
        self.sigma = sigma
        if correlation is None:
            self._chol = None
        else:
            corr = np.asarray(correlation, dtype=float)
            if corr.shape != (self.dim, self.dim):
                raise ValueError(f"correlation must have shape ({self.dim}, {self.dim}), got {corr.shape}")
            if not np.allclose(corr, corr.T) or not np.allclose(np.diag(corr), 1.0):
                raise ValueError("correlation must be symmetric with unit diagonal")
            try:
                self._chol = np.linalg.cholesky(corr)
            except np.linalg.LinAlgError:
                raise ValueError("correlation must be positive definite") from None
        self.correlation = correlation

    def _mix(self, dw: torch.Tensor) -> torch.Tensor:
        if self._chol is None:
            return dw
        chol = torch.as_tensor(self._chol, dtype=dw.dtype, device=dw.device)
        return dw @ chol.T

    def drift(self, x, p):
        return _coef(self.mu, p, x.shape[0], x) * x

    def diffusion_times(self, x, p, dw):
        return _coef(self.sigma, p, x.shape[0], x) * x * self._mix(dw)

    def step(self, x, p, dt, dw):
        n = x.shape[0]
        mu = _coef(self.mu, p, n, x)
        sig = _coef(self.sigma, p, n, x)
        return x * torch.exp((mu - 0.5 * sig**2) * dt.unsqueeze(-1) + sig * self._mix(dw))


class OrnsteinUhlenbeck(SDE):
    """Ornstein-Uhlenbeck process ``dX = theta (m - X) dt + sigma dW`` (exact marginals).

    :meth:`sample` draws ``X_t = m + (x - m) e^{-theta t} + sigma sqrt((1 - e^{-2 theta t}) / (2 theta)) Z``
    exactly; :meth:`path` uses Euler-Maruyama steps so that its increments ``dw`` are the
    increments of the driving Brownian motion.

    Parameters
    ----------
    dim : int
        Dimension.
    theta : float or callable
        Positive mean-reversion speed.
    mean : float, array or callable
        Long-run mean ``m``.
    sigma : float, array or callable
        Positive diffusion.
    """

    exact = True

    def __init__(self, dim: int, theta: Coefficient = 1.0, mean: Coefficient = 0.0,
                 sigma: Coefficient = 1.0) -> None:
        super().__init__(dim)
        _check_positive_constant("theta", theta, self.dim)
        _check_positive_constant("sigma", sigma, self.dim)
        self.theta = theta
        self.mean = mean
        self.sigma = sigma

    def drift(self, x, p):
        n = x.shape[0]
        return _coef(self.theta, p, n, x) * (_coef(self.mean, p, n, x) - x)

    def diffusion_times(self, x, p, dw):
        return _coef(self.sigma, p, x.shape[0], x) * dw

    def sample(self, x, t, p=None, *, generator=None, n_steps=32):
        p = self._check(x, p)
        n = x.shape[0]
        t = _as_time(t, n, x).unsqueeze(-1)
        if torch.any(t < 0):
            raise ValueError("t must be non-negative")
        th = _coef(self.theta, p, n, x)
        m = _coef(self.mean, p, n, x)
        sig = _coef(self.sigma, p, n, x)
        decay = torch.exp(-th * t)
        std = sig * torch.sqrt(-torch.expm1(-2.0 * th * t) / (2.0 * th))
        z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return m + (x - m) * decay + std * z


class EulerSDE(SDE):
    """A general SDE from user-given coefficient functions, discretised by Euler-Maruyama.

    Parameters
    ----------
    dim : int
        Dimension.
    drift : callable
        ``(x, p) -> (n, d)``.
    diffusion : callable
        ``(x, p) -> (n, d, m)`` matrix, or ``(n, d)`` for a diagonal diffusion.
    noise_dim : int, optional
        Dimension ``m`` of the Brownian motion (default ``d``).
    """

    def __init__(self, dim: int, drift: Callable, diffusion: Callable, noise_dim: int | None = None) -> None:
        super().__init__(dim)
        if not callable(drift) or not callable(diffusion):
            raise TypeError("drift and diffusion must be callables (x, p) -> tensor")
        self._drift = drift
        self._diffusion = diffusion
        if noise_dim is not None:
            self.noise_dim = _check_dim(noise_dim)

    def drift(self, x, p):
        return self._drift(x, p)

    def diffusion_times(self, x, p, dw):
        sig = self._diffusion(x, p)
        if sig.ndim == 3:
            return torch.einsum("ndm,nm->nd", sig, dw)
        return sig * dw
