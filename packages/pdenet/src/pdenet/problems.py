"""Problem API and the built-in problems with their references.

Two kinds of problems:

:class:`KolmogorovProblem`
    A linear Kolmogorov PDE learned on a whole region. For a time-homogeneous SDE
    ``dX = mu(X, p) ds + sigma(X, p) dW`` (see :mod:`pdenet.sde`), initial condition
    ``phi(x, p)`` and a constant discount rate ``r(p)``, the solution

    .. math::

        u(t, x, p) = E\\left[e^{-r(p) t} \\varphi(X^x_t, p)\\right]

    solves ``du/dt = L u - r u`` with ``u(0, x, p) = phi(x, p)`` (Feynman-Kac). For option
    pricing ``t`` is the time to maturity. The region of learning is the box
    ``[t_min, t_max] x X x P``.

:class:`SemilinearProblem`
    A semilinear parabolic PDE with terminal condition in backward time (the convention of
    Han, Jentzen and E, PNAS 2018),

    .. math::

        \\partial_t u + \\tfrac12 \\operatorname{Tr}(\\sigma\\sigma^T \\nabla^2 u) + \\mu\\cdot\\nabla u
        + f(t, x, u, \\sigma^T \\nabla u) = 0, \\qquad u(T, x) = g(x),

    solved at a point ``x0`` by the DeepBSDE method.

Built-in problems are listed by :func:`list_problems` and built by :func:`get_problem`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pdenet import closed_form
from pdenet.sde import SDE, BrownianMotion, GeometricBrownianMotion

__all__ = [
    "Box",
    "KolmogorovProblem",
    "SemilinearProblem",
    "ProblemInfo",
    "list_problems",
    "get_problem",
    "heat_paraboloid",
    "heat_gaussian",
    "black_scholes",
    "basket_option",
    "hjb",
    "allen_cahn",
    "burgers_type",
    "hjb_cole_hopf",
    "hjb_cole_hopf_quadrature",
]


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def _dim(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _interval(name: str, value: Any, *, positive: bool = False) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"{name} must satisfy low <= high (finite), got ({lo}, {hi})")
    if positive and lo <= 0:
        raise ValueError(f"{name} must be positive, got ({lo}, {hi})")
    return lo, hi


@dataclass(frozen=True)
class Box:
    """An axis-aligned box ``[low_1, high_1] x ... x [low_k, high_k]`` (possibly degenerate).

    Parameters
    ----------
    low, high : array_like
        Lower and upper corners, each of length ``k`` (``k = 0`` allowed).
    """

    low: tuple[float, ...]
    high: tuple[float, ...]

    def __post_init__(self) -> None:
        low = tuple(float(v) for v in np.atleast_1d(np.asarray(self.low, dtype=float)))
        high = tuple(float(v) for v in np.atleast_1d(np.asarray(self.high, dtype=float)))
        if len(low) != len(high):
            raise ValueError(f"Box corners have different lengths {len(low)} and {len(high)}")
        if any(lo > hi or not math.isfinite(lo) or not math.isfinite(hi) for lo, hi in zip(low, high)):
            raise ValueError(f"Box needs finite low <= high, got low={low}, high={high}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @classmethod
    def cube(cls, dim: int, low: float, high: float) -> Box:
        """The cube ``[low, high]^dim``."""
        return cls((low,) * dim, (high,) * dim)

    @property
    def dim(self) -> int:
        """Number of coordinates."""
        return len(self.low)

    def sample(self, n: int, *, generator: torch.Generator | None = None,
               dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> torch.Tensor:
        """Draw ``n`` uniform points, shape ``(n, k)``."""
        lo = torch.tensor(self.low, dtype=dtype, device=device)
        hi = torch.tensor(self.high, dtype=dtype, device=device)
        u = torch.rand((n, self.dim), generator=generator, dtype=dtype, device=device)
        return lo + (hi - lo) * u

    def contains(self, points: torch.Tensor, atol: float = 1e-6) -> torch.Tensor:
        """Boolean mask of the rows of ``points`` that lie in the box."""
        lo = torch.tensor(self.low, dtype=points.dtype, device=points.device)
        hi = torch.tensor(self.high, dtype=points.dtype, device=points.device)
        return ((points >= lo - atol) & (points <= hi + atol)).all(-1)


@dataclass
class KolmogorovProblem:
    """A (parametric) linear Kolmogorov PDE and its region of learning.

    Parameters
    ----------
    name : str
        Short identifier.
    sde : SDE
        The diffusion; ``sde.dim`` is the space dimension ``d``.
    phi : callable
        Initial condition ``(x, p) -> (n,)``.
    x_domain : Box
        Region of ``x``.
    t_range : tuple of float
        ``(t_min, t_max)``, ``0 <= t_min <= t_max``, ``t_max > 0``.
    p_domain : Box, optional
        Region of the parameters (default: none).
    param_names : tuple of str
        Names of the parameters, in the order of the columns of ``p``.
    discount : float or callable, optional
        Discount rate ``r`` or ``p -> (n,)`` (default 0).
    exact_solution : callable, optional
        ``(t, x, p) -> (n,)``, when a closed form is known.
    description, source : str
        Formula and reference, shown by ``pdenet list``.
    """

    name: str
    sde: SDE
    phi: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    x_domain: Box
    t_range: tuple[float, float]
    p_domain: Box = field(default_factory=lambda: Box((), ()))
    param_names: tuple[str, ...] = ()
    discount: float | Callable[[torch.Tensor], torch.Tensor] = 0.0
    exact_solution: Callable[..., torch.Tensor] | None = None
    description: str = ""
    source: str = ""

    kind = "kolmogorov"

    def __post_init__(self) -> None:
        if not isinstance(self.sde, SDE):
            raise TypeError(f"sde must be a pdenet.sde.SDE, got {type(self.sde).__name__}")
        if self.x_domain.dim != self.sde.dim:
            raise ValueError(f"x_domain has dimension {self.x_domain.dim} but the SDE has dim={self.sde.dim}")
        lo, hi = _interval("t_range", self.t_range)
        if lo < 0 or hi <= 0:
            raise ValueError(f"t_range must satisfy 0 <= t_min <= t_max and t_max > 0, got ({lo}, {hi})")
        self.t_range = (lo, hi)
        self.param_names = tuple(self.param_names)
        if len(self.param_names) != self.p_domain.dim:
            raise ValueError(f"param_names has {len(self.param_names)} names but p_domain has dimension {self.p_domain.dim}")
        if not callable(self.phi):
            raise TypeError("phi must be a callable (x, p) -> tensor")

    # -- shapes -----------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Space dimension ``d``."""
        return self.sde.dim

    @property
    def n_params(self) -> int:
        """Number of parameters ``k``."""
        return self.p_domain.dim

    @property
    def input_dim(self) -> int:
        """Dimension of the network input ``(t, x, p)``."""
        return 1 + self.dim + self.n_params

    @property
    def has_exact(self) -> bool:
        """Whether a closed-form solution is known."""
        return self.exact_solution is not None

    def input_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of ``(t, x, p)``, used to normalise network inputs."""
        low = np.array([self.t_range[0], *self.x_domain.low, *self.p_domain.low])
        high = np.array([self.t_range[1], *self.x_domain.high, *self.p_domain.high])
        return low, high

    def check_inputs(self, t: torch.Tensor, x: torch.Tensor, p: torch.Tensor | None) -> torch.Tensor:
        """Validate shapes of a batch; returns ``p`` (an empty ``(n, 0)`` tensor if None)."""
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}) for problem {self.name!r}, got {tuple(x.shape)}")
        n = x.shape[0]
        if t.shape != (n,):
            raise ValueError(f"t must have shape ({n},), got {tuple(t.shape)}")
        if p is None:
            if self.n_params:
                raise ValueError(f"problem {self.name!r} needs parameters {self.param_names}; p is missing")
            p = x.new_zeros((n, 0))
        if p.ndim != 2 or p.shape != (n, self.n_params):
            raise ValueError(f"p must have shape ({n}, {self.n_params}) for parameters {self.param_names}, got {tuple(p.shape)}")
        return p

    # -- sampling ---------------------------------------------------------------------
    def sample_inputs(self, n: int, *, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"):
        """Draw ``n`` uniform points ``(t, x, p)`` of the region of learning."""
        t = Box((self.t_range[0],), (self.t_range[1],)).sample(n, generator=generator, dtype=dtype, device=device)[:, 0]
        x = self.x_domain.sample(n, generator=generator, dtype=dtype, device=device)
        p = self.p_domain.sample(n, generator=generator, dtype=dtype, device=device)
        return t, x, p

    def discount_rate(self, p: torch.Tensor) -> torch.Tensor:
        """The discount rate ``r(p)``, shape ``(n,)``."""
        if callable(self.discount):
            return self.discount(p).to(p.dtype)
        return torch.full((p.shape[0],), float(self.discount), dtype=p.dtype, device=p.device)

    def payoff(self, x_t: torch.Tensor, t: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """Discounted initial condition ``exp(-r t) phi(X_t, p)``."""
        out = self.phi(x_t, p)
        if callable(self.discount) or float(self.discount) != 0.0:
            out = out * torch.exp(-self.discount_rate(p) * t)
        return out

    def simulate_target(self, t: torch.Tensor, x: torch.Tensor, p: torch.Tensor | None = None, *,
                        generator: torch.Generator | None = None, n_steps: int = 32) -> torch.Tensor:
        """One Monte Carlo sample of ``exp(-r t) phi(X^x_t, p)`` per row (the regression target)."""
        p = self.check_inputs(t, x, p)
        x_t = self.sde.sample(x, t, p, generator=generator, n_steps=n_steps)
        return self.payoff(x_t, t, p)

    def exact(self, t: torch.Tensor, x: torch.Tensor, p: torch.Tensor | None = None) -> torch.Tensor:
        """The closed-form solution; raises ``ValueError`` if none is known."""
        if self.exact_solution is None:
            raise ValueError(f"problem {self.name!r} has no closed-form solution; use a Monte Carlo reference")
        p = self.check_inputs(t, x, p)
        return self.exact_solution(t, x, p)

    def config(self) -> dict[str, Any]:
        """Description used in run directories."""
        return {"name": self.name, "kind": self.kind, "dim": self.dim, "t_range": list(self.t_range),
                "params": list(self.param_names)}


@dataclass
class SemilinearProblem:
    """A semilinear parabolic PDE with terminal condition, solved at ``(0, x0)`` by DeepBSDE.

    Parameters
    ----------
    name : str
        Short identifier.
    sde : SDE
        Forward diffusion ``X`` (``X_0 = x0``); its generator is the linear part of the PDE.
    horizon : float
        Terminal time ``T > 0``.
    x0 : array_like
        Point of interest, length ``d``.
    f : callable
        Nonlinearity ``(t, x, y, z) -> (n,)`` with ``z = sigma^T grad u`` of shape ``(n, d)``.
    g : callable
        Terminal condition ``x -> (n,)``.
    exact_solution : callable, optional
        ``(t, x) -> (n,)`` when known.
    reference : callable, optional
        ``(n_samples, seed) -> (value, half_width)``: a reference for ``u(0, x0)``.
    reference_value : float, optional
        A published reference value of ``u(0, x0)`` (used when ``reference`` is None).
    description, source : str
        Formula and reference, shown by ``pdenet list``.
    """

    name: str
    sde: SDE
    horizon: float
    x0: np.ndarray
    f: Callable[..., torch.Tensor]
    g: Callable[[torch.Tensor], torch.Tensor]
    exact_solution: Callable[..., torch.Tensor] | None = None
    reference: Callable[..., tuple[float, float]] | None = None
    reference_value: float | None = None
    description: str = ""
    source: str = ""

    kind = "semilinear"

    def __post_init__(self) -> None:
        self.horizon = _positive("horizon", self.horizon)
        x0 = np.asarray(self.x0, dtype=float)
        if x0.shape != (self.sde.dim,):
            raise ValueError(f"x0 must have length dim={self.sde.dim}, got shape {x0.shape}")
        self.x0 = x0

    @property
    def dim(self) -> int:
        """Space dimension ``d``."""
        return self.sde.dim

    def reference_solution(self, n_samples: int = 1_000_000, seed: int = 0) -> tuple[float, float | None]:
        """Reference ``u(0, x0)`` and its 95 % half-width (None for a published constant)."""
        if self.exact_solution is not None:
            x = torch.as_tensor(self.x0, dtype=torch.float64)[None]
            return float(self.exact_solution(torch.zeros(1, dtype=torch.float64), x)[0]), 0.0
        if self.reference is not None:
            return self.reference(n_samples, seed)
        if self.reference_value is not None:
            return float(self.reference_value), None
        raise ValueError(f"problem {self.name!r} has no reference value")

    def config(self) -> dict[str, Any]:
        """Description used in run directories."""
        return {"name": self.name, "kind": self.kind, "dim": self.dim, "horizon": self.horizon}


# ----------------------------------------------------------------------------------------
# built-in Kolmogorov problems
# ----------------------------------------------------------------------------------------
def heat_paraboloid(dim: int = 10, sigma_range: tuple[float, float] = (0.5, 1.5),
                    t_range: tuple[float, float] = (0.0, 1.0),
                    x_range: tuple[float, float] = (0.0, 1.0)) -> KolmogorovProblem:
    """Heat equation with paraboloid initial condition and parametric diffusion.

    ``du/dt = (sigma^2 / 2) Laplace u``, ``u(0, x) = ||x||^2``, exact solution
    ``u(t, x, sigma) = ||x||^2 + d sigma^2 t``. The diffusion ``sigma`` is a parameter
    (network input). Beck, Becker, Grohs, Jaafari, Jentzen, "Solving the Kolmogorov PDE by
    means of deep learning", J. Sci. Comput. 2021 (the case ``sigma = sqrt(2)``); parametric
    version as in Berner, Dablander, Grohs, NeurIPS 2020.
    """
    dim = _dim("dim", dim)
    s_lo, s_hi = _interval("sigma_range", sigma_range, positive=True)
    x_lo, x_hi = _interval("x_range", x_range)
    return KolmogorovProblem(
        name="heat_paraboloid",
        sde=BrownianMotion(dim, sigma=lambda p: p[:, 0]),
        phi=lambda x, p: (x**2).sum(-1),
        x_domain=Box.cube(dim, x_lo, x_hi),
        t_range=t_range,
        p_domain=Box((s_lo,), (s_hi,)),
        param_names=("sigma",),
        exact_solution=lambda t, x, p: closed_form.heat_paraboloid(t, x, p[:, 0]),
        description="u_t = sigma^2/2 Laplace u, u(0,x) = |x|^2; u = |x|^2 + d sigma^2 t",
        source="Beck et al., J. Sci. Comput. 2021; Berner, Dablander, Grohs, NeurIPS 2020",
    )


def heat_gaussian(dim: int = 150, sigma: float = math.sqrt(2.0), a: float | None = None,
                  t_range: tuple[float, float] = (0.0, 1.0),
                  x_range: tuple[float, float] = (-1.0, 1.0)) -> KolmogorovProblem:
    """Heat equation with Gaussian initial condition, default ``d = 150``.

    ``du/dt = (sigma^2 / 2) Laplace u``, ``u(0, x) = exp(-a ||x||^2)`` with ``a = 1 / d`` by
    default; exact solution ``(1 + 2 a sigma^2 t)^(-d/2) exp(-a ||x||^2 / (1 + 2 a sigma^2 t))``
    (convolution of Gaussians).
    """
    dim = _dim("dim", dim)
    sigma = _positive("sigma", sigma)
    a = _positive("a", 1.0 / dim if a is None else a)
    x_lo, x_hi = _interval("x_range", x_range)
    return KolmogorovProblem(
        name="heat_gaussian",
        sde=BrownianMotion(dim, sigma=sigma),
        phi=lambda x, p: torch.exp(-a * (x**2).sum(-1)),
        x_domain=Box.cube(dim, x_lo, x_hi),
        t_range=t_range,
        exact_solution=lambda t, x, p: closed_form.heat_gaussian(t, x, sigma, a),
        description="u_t = sigma^2/2 Laplace u, u(0,x) = exp(-a|x|^2); Gaussian convolution closed form",
        source="closed form (Gaussian convolution)",
    )


def black_scholes(kind: str = "put", rate: float = 0.05,
                  sigma_range: tuple[float, float] = (0.1, 0.4),
                  strike_range: tuple[float, float] = (9.0, 11.0),
                  t_range: tuple[float, float] = (0.25, 1.0),
                  x_range: tuple[float, float] = (9.0, 11.0)) -> KolmogorovProblem:
    """Black-Scholes European put or call with parametric volatility and strike.

    ``u(t, x, sigma, K) = E[e^{-r t} phi(S_t)]`` for ``dS = r S dt + sigma S dW``, ``S_0 = x``,
    ``phi = (K - s)^+`` (put) or ``(s - K)^+`` (call); ``t`` is the time to maturity. Exact
    solution: the Black-Scholes formula (Black and Scholes 1973). Parametric setting of
    Berner, Dablander, Grohs, NeurIPS 2020.
    """
    if kind not in ("put", "call"):
        raise ValueError(f"kind must be 'put' or 'call', got {kind!r}")
    rate = float(rate)
    s_lo, s_hi = _interval("sigma_range", sigma_range, positive=True)
    k_lo, k_hi = _interval("strike_range", strike_range, positive=True)
    x_lo, x_hi = _interval("x_range", x_range, positive=True)
    if kind == "put":
        def phi(x, p):
            return torch.clamp(p[:, 1] - x[:, 0], min=0.0)

        def exact(t, x, p):
            return closed_form.black_scholes_put(t, x[:, 0], p[:, 0], p[:, 1], rate)
    else:
        def phi(x, p):
            return torch.clamp(x[:, 0] - p[:, 1], min=0.0)

        def exact(t, x, p):
            return closed_form.black_scholes_call(t, x[:, 0], p[:, 0], p[:, 1], rate)
    return KolmogorovProblem(
        name=f"black_scholes_{kind}",
        sde=GeometricBrownianMotion(1, mu=rate, sigma=lambda p: p[:, 0]),
        phi=phi,
        x_domain=Box((x_lo,), (x_hi,)),
        t_range=t_range,
        p_domain=Box((s_lo, k_lo), (s_hi, k_hi)),
        param_names=("sigma", "strike"),
        discount=rate,
        exact_solution=exact,
        description=f"Black-Scholes European {kind}, parameters (sigma, strike); closed form",
        source="Black & Scholes 1973; Berner, Dablander, Grohs, NeurIPS 2020",
    )


def basket_option(dim: int = 5, rate: float = 0.05, strike: float = 10.0, correlation: float = 0.5,
                  sigmas: tuple[float, ...] | None = None,
                  t_range: tuple[float, float] = (0.5, 1.0),
                  x_range: tuple[float, float] = (9.0, 11.0)) -> KolmogorovProblem:
    """Correlated basket call on the arithmetic mean, reference by Monte Carlo.

    ``u(t, x) = E[e^{-r t} (mean_i S^i_t - K)^+]`` for correlated geometric Brownian motions
    with volatilities ``sigmas`` (default evenly spaced in ``[0.1, 0.3]``) and constant
    pairwise correlation. No closed form exists; the reference is a Monte Carlo estimate with a
    confidence interval (:class:`pdenet.montecarlo.MonteCarloSolver`). Beck et al., J. Sci.
    Comput. 2021, Sec. 4.
    """
    dim = _dim("dim", dim)
    strike = _positive("strike", strike)
    if not -1.0 / max(dim - 1, 1) < correlation < 1.0:
        raise ValueError(f"correlation must lie in (-1/(d-1), 1) for a positive definite matrix, got {correlation}")
    sig = np.linspace(0.1, 0.3, dim) if sigmas is None else np.asarray(sigmas, dtype=float)
    if sig.shape != (dim,):
        raise ValueError(f"sigmas must have length dim={dim}, got {sig.shape}")
    corr = np.full((dim, dim), float(correlation))
    np.fill_diagonal(corr, 1.0)
    x_lo, x_hi = _interval("x_range", x_range, positive=True)
    return KolmogorovProblem(
        name="basket_option",
        sde=GeometricBrownianMotion(dim, mu=float(rate), sigma=sig, correlation=corr),
        phi=lambda x, p: torch.clamp(x.mean(-1) - strike, min=0.0),
        x_domain=Box.cube(dim, x_lo, x_hi),
        t_range=t_range,
        discount=float(rate),
        description="correlated arithmetic basket call; Monte Carlo reference",
        source="Beck et al., J. Sci. Comput. 2021",
    )


# ----------------------------------------------------------------------------------------
# built-in semilinear problems
# ----------------------------------------------------------------------------------------
def hjb_cole_hopf(x: np.ndarray | None = None, t: float = 0.0, *, dim: int = 100, lam: float = 1.0,
                  horizon: float = 1.0, sigma: float = math.sqrt(2.0), n_samples: int = 1_000_000,
                  seed: int = 0, batch_size: int = 100_000) -> tuple[float, float]:
    """Reference solution of the HJB problem via the Cole-Hopf transform, by Monte Carlo.

    For ``u_t + (sigma^2 / 2) Laplace u - lam ||grad u||^2 = 0``, ``u(T, x) = g(x)``, the
    substitution ``w = exp(-(2 lam / sigma^2) u)`` linearises the equation, so

    .. math::

        u(t, x) = -\\frac{\\sigma^2}{2\\lambda} \\ln E\\left[\\exp\\left(-\\frac{2\\lambda}{\\sigma^2}
        g(x + \\sigma W_{T-t})\\right)\\right]

    (Han, Jentzen, E, PNAS 2018, HJB example), with ``g(x) = ln((1 + ||x||^2) / 2)``.

    Returns
    -------
    value, half_width : float
        The estimate and its 95 % confidence half-width (delta method).
    """
    dim = _dim("dim", dim)
    lam = _positive("lam", lam)
    horizon = _positive("horizon", horizon)
    n_samples = _dim("n_samples", n_samples)
    if not 0 <= t < horizon:
        raise ValueError(f"t must lie in [0, horizon={horizon}), got {t}")
    x = np.zeros(dim) if x is None else np.asarray(x, dtype=float)
    if x.shape != (dim,):
        raise ValueError(f"x must have length dim={dim}, got shape {x.shape}")
    gen = torch.Generator().manual_seed(int(seed))
    c = 2.0 * lam / sigma**2
    xt = torch.as_tensor(x, dtype=torch.float64)
    total = total_sq = 0.0
    done = 0
    scale = sigma * math.sqrt(horizon - t)
    while done < n_samples:
        m = min(batch_size, n_samples - done)
        w = xt + scale * torch.randn((m, dim), generator=gen, dtype=torch.float64)
        v = torch.exp(-c * torch.log((1.0 + (w**2).sum(-1)) / 2.0))
        total += float(v.sum())
        total_sq += float((v**2).sum())
        done += m
    mean = total / n_samples
    var = max(total_sq / n_samples - mean**2, 0.0) * n_samples / max(n_samples - 1, 1)
    value = -math.log(mean) / c
    half = 1.96 * math.sqrt(var / n_samples) / (mean * c)
    return value, half


def hjb_cole_hopf_quadrature(*, dim: int = 100, lam: float = 1.0, horizon: float = 1.0,
                             sigma: float = math.sqrt(2.0)) -> float:
    """``u(0, 0)`` of the HJB problem by one-dimensional quadrature (no sampling error).

    At ``x = 0``, ``||sigma W_T||^2 = sigma^2 T Y`` with ``Y ~ chi^2(d)``, so the Cole-Hopf
    expectation is a one-dimensional integral against the chi-square density.
    """
    c = 2.0 * lam / sigma**2
    s2 = sigma**2 * horizon
    mean = closed_form.chi2_expectation(lambda y: np.exp(-c * np.log((1.0 + s2 * y) / 2.0)), dim)
    return -math.log(mean) / c


def hjb(dim: int = 100, lam: float = 1.0, horizon: float = 1.0) -> SemilinearProblem:
    """Hamilton-Jacobi-Bellman equation of a linear-quadratic control problem, ``d = 100``.

    ``u_t + Laplace u - lam ||grad u||^2 = 0``, ``u(T, x) = ln((1 + ||x||^2) / 2)``, i.e.
    ``X = sqrt(2) W`` and ``f(t, x, y, z) = -(lam / 2) ||z||^2``. Reference by the Cole-Hopf
    transform (:func:`hjb_cole_hopf`); ``u(0, 0) = 4.590162`` for ``lam = 1``, ``T = 1``.
    Han, Jentzen, E, "Solving high-dimensional partial differential equations using deep
    learning", PNAS 115 (2018), Sec. "HJB equation".
    """
    dim = _dim("dim", dim)
    lam = _positive("lam", lam)
    horizon = _positive("horizon", horizon)
    sigma = math.sqrt(2.0)

    def reference(n_samples: int = 1_000_000, seed: int = 0):
        return hjb_cole_hopf(dim=dim, lam=lam, horizon=horizon, n_samples=n_samples, seed=seed)

    return SemilinearProblem(
        name="hjb",
        sde=BrownianMotion(dim, sigma=sigma),
        horizon=horizon,
        x0=np.zeros(dim),
        f=lambda t, x, y, z: -(lam / sigma**2) * (z**2).sum(-1),
        g=lambda x: torch.log((1.0 + (x**2).sum(-1)) / 2.0),
        reference=reference,
        description="u_t + Laplace u - lam |grad u|^2 = 0, u(T,x) = ln((1+|x|^2)/2); Cole-Hopf reference",
        source="Han, Jentzen, E, PNAS 2018",
    )


#: u(0, 0) of the Allen-Cahn problem (d = 100, T = 0.3), Han, Jentzen, E, PNAS 2018
ALLEN_CAHN_REFERENCE = 0.052802


def allen_cahn(dim: int = 100, horizon: float = 0.3) -> SemilinearProblem:
    """Allen-Cahn equation ``u_t + Laplace u + u - u^3 = 0``, ``u(T, x) = 1 / (2 + 0.4 ||x||^2)``.

    Reference ``u(0, 0) = 0.052802`` for ``d = 100``, ``T = 0.3``, computed by the branching
    diffusion method and reported in Han, Jentzen, E, "Solving high-dimensional partial
    differential equations using deep learning", PNAS 115 (2018), Sec. "Allen-Cahn equation".
    For other dimensions or horizons no reference is available.
    """
    dim = _dim("dim", dim)
    horizon = _positive("horizon", horizon)
    ref = ALLEN_CAHN_REFERENCE if (dim == 100 and horizon == 0.3) else None
    return SemilinearProblem(
        name="allen_cahn",
        sde=BrownianMotion(dim, sigma=math.sqrt(2.0)),
        horizon=horizon,
        x0=np.zeros(dim),
        f=lambda t, x, y, z: y - y**3,
        g=lambda x: 1.0 / (2.0 + 0.4 * (x**2).sum(-1)),
        reference_value=ref,
        description="u_t + Laplace u + u - u^3 = 0, u(T,x) = 1/(2+0.4|x|^2); reference 0.052802 (d=100, T=0.3)",
        source="Han, Jentzen, E, PNAS 2018 (branching diffusion reference)",
    )


def burgers_type(dim: int = 100, horizon: float = 1.0, sigma: float | None = None) -> SemilinearProblem:
    """A Burgers-type semilinear PDE with the explicit solution ``u = 1 / (1 + exp(-(t + mean(x))))``.

    With ``X = sigma W`` the equation is ``u_t + (sigma^2 / 2) Laplace u + f(u, z) = 0`` with

    .. math::

        f(t, x, y, z) = \\left(\\frac{\\sigma y}{d} - \\frac{2d + \\sigma^2}{2 \\sigma d}\\right)
        \\sum_i z_i ,

    derived here so that the logistic function of ``t + mean(x)`` solves it exactly (the test
    suite checks the residual by automatic differentiation). The solution has the form of the
    Burgers-type example of E, Han, Jentzen, Commun. Math. Stat. 5 (2017), Sec. 4.5.
    ``sigma`` defaults to ``sqrt(d)`` so that ``mean(X_T)`` has unit variance at ``T = 1``.
    """
    dim = _dim("dim", dim)
    horizon = _positive("horizon", horizon)
    sigma = math.sqrt(dim) if sigma is None else _positive("sigma", sigma)
    d = float(dim)

    def f(t, x, y, z):
        return (sigma * y / d - (2 * d + sigma**2) / (2 * sigma * d)) * z.sum(-1)

    return SemilinearProblem(
        name="burgers_type",
        sde=BrownianMotion(dim, sigma=sigma),
        horizon=horizon,
        x0=np.zeros(dim),
        f=f,
        g=lambda x: torch.sigmoid(horizon + x.mean(-1)),
        exact_solution=lambda t, x: closed_form.burgers_type(t, x, horizon),
        description="Burgers-type PDE with explicit solution u = logistic(t + mean(x))",
        source="E, Han, Jentzen, Commun. Math. Stat. 2017 (Sec. 4.5)",
    )


# ----------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProblemInfo:
    """A registry entry: name, kind, factory and a one-line description."""

    name: str
    kind: str
    factory: Callable[..., KolmogorovProblem | SemilinearProblem]
    summary: str


_REGISTRY: dict[str, ProblemInfo] = {}


def _register(name: str, kind: str, factory: Callable, summary: str) -> None:
    _REGISTRY[name] = ProblemInfo(name, kind, factory, summary)


_register("heat_paraboloid", "kolmogorov", heat_paraboloid,
          "heat equation, u(0,x)=|x|^2, parametric diffusion, d=10 (closed form)")
_register("heat_gaussian", "kolmogorov", heat_gaussian,
          "heat equation, Gaussian initial condition, d=150 (closed form)")
_register("black_scholes_put", "kolmogorov", lambda **kw: black_scholes("put", **kw),
          "Black-Scholes put, parametric volatility and strike (closed form)")
_register("black_scholes_call", "kolmogorov", lambda **kw: black_scholes("call", **kw),
          "Black-Scholes call, parametric volatility and strike (closed form)")
_register("basket_option", "kolmogorov", basket_option,
          "correlated basket call, d=5 (Monte Carlo reference with confidence interval)")
_register("hjb", "semilinear", hjb,
          "HJB linear-quadratic control, d=100, u(0,0)=4.590162 (Cole-Hopf)")
_register("allen_cahn", "semilinear", allen_cahn,
          "Allen-Cahn, d=100, T=0.3, u(0,0)=0.052802 (Han-Jentzen-E)")
_register("burgers_type", "semilinear", burgers_type,
          "Burgers-type semilinear PDE with explicit solution, d=100")


def list_problems() -> list[ProblemInfo]:
    """All built-in problems, in registration order."""
    return list(_REGISTRY.values())


def get_problem(name: str, **kwargs: Any) -> KolmogorovProblem | SemilinearProblem:
    """Build a built-in problem by name, e.g. ``get_problem("heat_paraboloid", dim=10)``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or bad keyword values.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown problem {name!r}; known problems: {', '.join(_REGISTRY)}")
    try:
        return _REGISTRY[name].factory(**kwargs)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise ValueError(f"problem {name!r} does not accept these options: {exc}") from None
        raise
