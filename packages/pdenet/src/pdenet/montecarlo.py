"""The classical baseline: a Monte Carlo solver with the same ``predict`` interface as a trained network."""

from __future__ import annotations

import math

import torch

from pdenet.problems import KolmogorovProblem

__all__ = ["MonteCarloSolver"]


class MonteCarloSolver:
    """Pointwise Monte Carlo estimates of ``u(t, x, p) = E[e^{-rt} phi(X^x_t, p)]``.

    Each query point gets ``n_samples`` independent SDE samples; points are processed in
    chunks so that at most ``max_batch`` samples, and at most ``max_elements`` state entries
    (samples times the dimension ``d``), are alive at once. The memory of a call is therefore
    bounded independently of the number of points and of ``n_samples``.

    Parameters
    ----------
    problem : KolmogorovProblem
        The PDE.
    n_samples : int
        Samples per point.
    seed : int
        Seed of the generator (the same seed gives the same estimates).
    n_steps : int
        Euler steps for SDEs without an exact sampler.
    max_batch : int
        Largest number of simultaneous samples.
    max_elements : int
        Largest number of simultaneous state entries ``samples * d`` (default ``2**23``,
        64 MB per float64 state array); the effective batch is
        ``max(1, min(max_batch, max_elements // d))`` samples.
    dtype : torch.dtype
        Simulation precision (default float64).
    device : str or torch.device
        Where to simulate.
    """

    def __init__(self, problem: KolmogorovProblem, n_samples: int = 10_000, *, seed: int = 0,
                 n_steps: int = 32, max_batch: int = 2**20, max_elements: int = 2**23, dtype: torch.dtype = torch.float64,
                 device: str | torch.device = "cpu") -> None:
        if not isinstance(problem, KolmogorovProblem):
            raise TypeError(f"problem must be a KolmogorovProblem, got {type(problem).__name__}")
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
            raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"max_batch must be a positive integer, got {max_batch!r}")
        if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 1:
            raise ValueError(f"max_elements must be a positive integer, got {max_elements!r}")
        self.problem = problem
        self.n_samples = n_samples
        self.seed = int(seed)
        self.n_steps = n_steps
        self.max_batch = max_batch
        self.max_elements = max_elements
        self.dtype = dtype
        self.device = torch.device(device)

    @property
    def batch_samples(self) -> int:
        """Number of samples simulated at once: ``max(1, min(max_batch, max_elements // d))``."""
        return max(1, min(self.max_batch, self.max_elements // self.problem.dim))

    def solve(self, t: torch.Tensor, x: torch.Tensor, p: torch.Tensor | None = None,
              *, confidence: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
        """Estimates and confidence half-widths (normal approximation) at the points.

        Parameters
        ----------
        t, x, p : torch.Tensor
            Query points, shapes ``(n,)``, ``(n, d)``, ``(n, k)``.
        confidence : float
            Level of the confidence interval.

        Returns
        -------
        mean, half_width : torch.Tensor
            Shape ``(n,)`` each.
        """
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
        t = torch.as_tensor(t, dtype=self.dtype, device=self.device)
        x = torch.as_tensor(x, dtype=self.dtype, device=self.device)
        p = None if p is None else torch.as_tensor(p, dtype=self.dtype, device=self.device)
        p = self.problem.check_inputs(t, x, p)
        z = math.sqrt(2.0) * float(torch.special.erfinv(torch.tensor(confidence, dtype=torch.float64)))
        gen = torch.Generator(device=self.device).manual_seed(self.seed)
        n, m = x.shape[0], self.n_samples
        batch = self.batch_samples
        chunk = max(1, batch // m)
        means, halves = [], []
        for start in range(0, n, chunk):
            sl = slice(start, min(n, start + chunk))
            c = sl.stop - sl.start
            total = torch.zeros(c, dtype=self.dtype, device=self.device)
            total_sq = torch.zeros_like(total)
            done = 0
            per = max(1, batch // c)
            while done < m:
                r = min(per, m - done)
                tt = t[sl].repeat_interleave(r)
                xx = x[sl].repeat_interleave(r, 0)
                pp = p[sl].repeat_interleave(r, 0)
                y = self.problem.simulate_target(tt, xx, pp, generator=gen, n_steps=self.n_steps).view(c, r)
                total += y.sum(1)
                total_sq += (y**2).sum(1)
                done += r
            mean = total / m
            var = torch.clamp(total_sq / m - mean**2, min=0.0) * m / (m - 1)
            means.append(mean)
            halves.append(z * torch.sqrt(var / m))
        return torch.cat(means), torch.cat(halves)

    def predict(self, t: torch.Tensor, x: torch.Tensor, p: torch.Tensor | None = None) -> torch.Tensor:
        """Monte Carlo estimates at the points, shape ``(n,)`` (same interface as a trained network)."""
        return self.solve(t, x, p)[0]

    def __call__(self, t, x, p=None):
        return self.predict(t, x, p)
