"""Losses for learning the solution of a linear Kolmogorov PDE on a whole region.

Both losses draw fresh points ``(t, x, p)`` of the region of learning and simulate the SDE
from ``X_0 = x`` up to time ``t``.

Feynman-Kac regression (Beck et al. 2021; Berner, Dablander, Grohs 2020)
    ``E | u_theta(t, x, p) - e^{-r t} phi(X_t, p) |^2``; its minimiser over all functions is
    the solution ``u``, but the loss and its gradient carry the full variance of the payoff.

BSDE / control-variate loss (Richter and Berner, ICML 2022)
    By Ito's formula applied to ``s -> e^{-r s} u(t - s, X_s)``,

    .. math::

        e^{-rt}\\varphi(X_t) = u(t, x) + \\int_0^t e^{-rs} \\nabla u(t - s, X_s)\\cdot \\sigma(X_s)\\, dW_s ,

    so ``E | u_theta(t, x, p) + I_theta - e^{-rt} phi(X_t) |^2`` with the Ito sum
    ``I_theta = sum_k e^{-r s_k} grad u_theta(t - s_k, X_k) . sigma(X_k) dW_k`` vanishes at the
    solution up to time discretisation: its gradient has (almost) no variance near the
    solution. With ``detach=True`` the stochastic integral is a control variate only (no
    gradient flows through it); the Ito sum has mean zero for any integrand, so the minimiser
    is exactly ``u`` for any number of time steps.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from pdenet.problems import KolmogorovProblem

__all__ = ["LOSSES", "feynman_kac_loss", "bsde_loss", "get_loss", "gradient_variance"]

Model = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def feynman_kac_loss(model: Model, problem: KolmogorovProblem, t: torch.Tensor, x: torch.Tensor,
                     p: torch.Tensor, *, generator: torch.Generator | None = None,
                     n_steps: int = 32) -> torch.Tensor:
    """Feynman-Kac regression loss on a batch (``n_steps`` only matters for Euler SDEs).

    Parameters
    ----------
    model : callable
        ``(t, x, p) -> (n,)``, e.g. :class:`pdenet.networks.SolutionNet`.
    problem : KolmogorovProblem
        The PDE.
    t, x, p : torch.Tensor
        A batch of the region of learning, shapes ``(n,)``, ``(n, d)``, ``(n, k)``.
    generator : torch.Generator, optional
        Randomness of the SDE.
    n_steps : int
        Euler steps for SDEs without an exact sampler.
    """
    with torch.no_grad():
        target = problem.simulate_target(t, x, p, generator=generator, n_steps=n_steps)
    return ((model(t, x, p) - target) ** 2).mean()


def bsde_loss(model: Model, problem: KolmogorovProblem, t: torch.Tensor, x: torch.Tensor,
              p: torch.Tensor, *, generator: torch.Generator | None = None, n_steps: int = 8,
              detach: bool = False) -> torch.Tensor:
    """BSDE (control-variate) loss of Richter and Berner (2022) on a batch.

    Parameters
    ----------
    model : callable
        ``(t, x, p) -> (n,)``, differentiable in ``x``.
    problem : KolmogorovProblem
        The PDE.
    t, x, p : torch.Tensor
        A batch of the region of learning.
    generator : torch.Generator, optional
        Randomness of the SDE.
    n_steps : int
        Time steps of the Ito sum (and of the SDE path).
    detach : bool
        Detach the stochastic integral (control-variate regression) instead of
        differentiating through it.
    """
    p = problem.check_inputs(t, x, p)
    path = problem.sde.path(x, t, p, n_steps=n_steps, generator=generator)
    k_steps, n, d = path.x.shape[0] - 1, x.shape[0], x.shape[1]
    # network values at (t - s_k, X_k) for k = 0..K-1 in one batched call; k = 0 is u(t, x)
    xs = path.x[:-1].reshape(k_steps * n, d).detach().requires_grad_(True)
    ts = (t.unsqueeze(0) - path.times[:-1]).reshape(k_steps * n)
    ps = p.repeat(k_steps, 1)
    u_all = model(ts, xs, ps)
    grad = torch.autograd.grad(u_all.sum(), xs, create_graph=not detach, retain_graph=True)[0]
    grad = grad.reshape(k_steps, n, d)
    incr = torch.stack([problem.sde.diffusion_times(path.x[k], p, path.dw[k]) for k in range(k_steps)])
    weights = torch.ones_like(path.times[:-1])
    rate = problem.discount_rate(p)
    if torch.any(rate != 0):
        weights = torch.exp(-rate.unsqueeze(0) * path.times[:-1])
    integral = (weights * (grad * incr).sum(-1)).sum(0)
    with torch.no_grad():
        target = problem.payoff(path.x[-1], t, p)
    u0 = u_all.reshape(k_steps, n)[0]
    if detach:
        return ((u0 - (target - integral.detach())) ** 2).mean()
    return ((u0 + integral - target) ** 2).mean()


LOSSES: dict[str, str] = {
    "feynman_kac": "Feynman-Kac regression (Beck et al. 2021)",
    "bsde": "BSDE loss, differentiated through the stochastic integral (Richter & Berner 2022)",
    "bsde_detached": "BSDE loss with detached stochastic integral (control variate)",
    "deepbsde": "DeepBSDE for semilinear problems (Han, Jentzen, E 2018)",
}


def get_loss(name: str, n_steps: int) -> Callable[..., torch.Tensor]:
    """The loss function of a Kolmogorov problem by name (``feynman_kac``, ``bsde``, ``bsde_detached``)."""
    if name == "feynman_kac":
        return lambda m, pr, t, x, p, g: feynman_kac_loss(m, pr, t, x, p, generator=g, n_steps=n_steps)
    if name in ("bsde", "bsde_detached"):
        detach = name == "bsde_detached"
        return lambda m, pr, t, x, p, g: bsde_loss(m, pr, t, x, p, generator=g, n_steps=n_steps, detach=detach)
    if name == "deepbsde":
        raise ValueError("loss 'deepbsde' applies to semilinear problems; for a Kolmogorov problem "
                         "use 'feynman_kac', 'bsde' or 'bsde_detached'")
    raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(LOSSES)}")


def gradient_variance(model: torch.nn.Module, problem: KolmogorovProblem, loss: str, *,
                      n_batches: int = 32, batch_size: int = 256, n_steps: int = 8,
                      seed: int = 0) -> tuple[float, float]:
    """Total variance and squared norm of the mean of the loss gradient over independent batches.

    Every batch uses the same points ``(t, x, p)`` (drawn once) and fresh SDE paths, so the
    variance measured is the Monte Carlo variance of the gradient estimator that the loss
    induces at the current parameters.

    Returns
    -------
    variance, mean_sq : float
        ``trace Cov(grad)`` per batch and ``||E grad||^2``.
    """
    fn = get_loss(loss, n_steps)
    gen = torch.Generator().manual_seed(seed)
    dtype = next(model.parameters()).dtype
    t, x, p = problem.sample_inputs(batch_size, generator=gen, dtype=dtype)
    params = [q for q in model.parameters() if q.requires_grad]
    grads = []
    for _ in range(n_batches):
        model.zero_grad()
        fn(model, problem, t, x, p, gen).backward()
        grads.append(torch.cat([q.grad.reshape(-1).clone() for q in params]))
    g = torch.stack(grads).double()
    mean = g.mean(0)
    var = ((g - mean) ** 2).sum(-1).mean() * n_batches / (n_batches - 1)
    return float(var), float((mean**2).sum())
