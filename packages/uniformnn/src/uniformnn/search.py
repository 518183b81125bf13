"""Lower bounds of ``sup |f - g|``: dense random search and multi-start projected gradient ascent.

Every value returned here is attained: it is ``|h(x)|`` at the returned point ``x``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from uniformnn.objective import Objective

__all__ = ["LowerBound", "error_norms", "lower_bound", "random_search", "gradient_ascent"]


@dataclass
class LowerBound:
    """An attained value ``|f(x) - g(x)|`` and its point."""

    value: float
    """``|h(argmax)|``, a lower bound of the sup norm."""

    argmax: np.ndarray
    """The point, shape ``(d,)``."""

    n_evaluations: int
    """Number of function evaluations used (gradient steps count once per point)."""

    elapsed: float
    """Wall-clock seconds."""

    history: list[tuple[float, float]] = field(default_factory=list)
    """``(seconds, value)`` pairs as the bound improved."""



def _check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name}: got {value!r}; expected an integer >= {minimum}")
    return int(value)


@torch.no_grad()
def random_search(obj: Objective, n: int, *, seed: int = 0, batch_size: int = 2**16,
                  keep: int = 0) -> tuple[float, torch.Tensor, torch.Tensor]:
    """Evaluate ``|h|`` at ``n`` uniform random points of the box.

    Returns
    -------
    tuple
        The best value, its point, and the ``keep`` best points (``(keep, d)``) to start
        local searches from.
    """
    n = _check_positive_int("n", n)
    batch_size = _check_positive_int("batch_size", batch_size)
    gen = torch.Generator().manual_seed(int(seed))
    best_v, best_x = -math.inf, None
    top_v = torch.empty(0, dtype=torch.float64, device=obj.device)
    top_x = torch.empty(0, obj.dim, dtype=torch.float64, device=obj.device)
    done = 0
    while done < n:
        m = min(batch_size, n - done)
        x = obj.sample(m, gen)
        v = obj(x).abs()
        i = int(torch.argmax(v))
        if float(v[i]) > best_v:
            best_v, best_x = float(v[i]), x[i].clone()
        if keep:
            allv, allx = torch.cat([top_v, v]), torch.cat([top_x, x])
            k = min(keep, allv.numel())
            idx = torch.topk(allv, k).indices
            top_v, top_x = allv[idx], allx[idx]
        done += m
    return best_v, best_x, top_x


def gradient_ascent(obj: Objective, starts: torch.Tensor, *, steps: int = 100,
                    step_size: float = 0.05, final_step_size: float = 1e-4
                    ) -> tuple[float, torch.Tensor, int]:
    """Projected (sign-)gradient ascent of ``|h|`` from each start, all starts in one batch.

    The step length decays geometrically from ``step_size`` to ``final_step_size`` (both
    relative to the box widths); iterates are clipped to the box. Functions without
    gradients (e.g. numpy-based callables) return the start values.

    Returns
    -------
    tuple
        The best value seen, its point and the number of evaluations.
    """
    steps = _check_positive_int("steps", steps, 0)
    lo, hi = obj.bounds_tensors()
    width = hi - lo
    x = starts.detach().clone().to(obj.device)
    with torch.no_grad():
        v0 = obj(x).abs()
    i = int(torch.argmax(v0))
    best_v, best_x = float(v0[i]), x[i].clone()
    evals = x.shape[0]
    if steps == 0:
        return best_v, best_x, evals
    ratio = (final_step_size / step_size) ** (1 / max(steps - 1, 1))
    eta = step_size
    for _ in range(steps):
        x.requires_grad_(True)
        v = obj(x).abs()
        if not v.requires_grad:
            break
        (grad,) = torch.autograd.grad(v.sum(), x)
        evals += x.shape[0]
        with torch.no_grad():
            vd = v.detach()
            j = int(torch.argmax(vd))
            if float(vd[j]) > best_v:
                best_v, best_x = float(vd[j]), x[j].detach().clone()
            x = torch.minimum(torch.maximum(x.detach() + eta * width * torch.sign(grad), lo), hi)
        eta *= ratio
    with torch.no_grad():
        v = obj(x).abs()
        evals += x.shape[0]
        j = int(torch.argmax(v))
        if float(v[j]) > best_v:
            best_v, best_x = float(v[j]), x[j].clone()
    return best_v, best_x, evals


def lower_bound(
    f: Any,
    g: Any = None,
    box: Any = None,
    *,
    n_random: int = 2**16,
    n_starts: int = 64,
    steps: int = 200,
    seed: int = 0,
    batch_size: int = 2**16,
    device: str | torch.device | None = None,
    dim: int | None = None,
) -> LowerBound:
    """An attained lower bound of ``sup_{x in box} |f(x) - g(x)|``.

    Dense random search over ``n_random`` uniform points, then projected gradient ascent
    from the ``n_starts // 2`` best of them and ``n_starts - n_starts // 2`` fresh uniform
    points, all batched (on the GPU when present).

    Parameters
    ----------
    f, g
        Functions to compare (see :class:`~uniformnn.objective.Objective`); ``g=None``
        bounds ``sup |f|``.
    box
        Input box (default: that of ``f``).
    n_random, n_starts, steps
        Budget of the random search and of the gradient ascent.
    seed
        Seed of all random choices.
    """
    obj = f if isinstance(f, Objective) else Objective(f, g, box, dim=dim, device=device)
    n_random = _check_positive_int("n_random", n_random)
    n_starts = _check_positive_int("n_starts", n_starts, 0)
    t0 = time.perf_counter()
    best_v, best_x, top = random_search(obj, n_random, seed=seed, batch_size=batch_size,
                                        keep=n_starts // 2)
    history = [(time.perf_counter() - t0, best_v)]
    evals = n_random
    if n_starts > 0:
        gen = torch.Generator().manual_seed(int(seed) + 1)
        starts = torch.cat([top, obj.sample(n_starts - top.shape[0], gen)])
        v, x, e = gradient_ascent(obj, starts, steps=steps)
        evals += e
        if v > best_v:
            best_v, best_x = v, x
        history.append((time.perf_counter() - t0, best_v))
    return LowerBound(best_v, best_x.detach().cpu().numpy(), evals, time.perf_counter() - t0, history)


@torch.no_grad()
def error_norms(f: Any, g: Any = None, box: Any = None, *, n: int = 2**16, seed: int = 0,
                batch_size: int = 2**16, device: str | torch.device | None = None,
                dim: int | None = None) -> dict[str, float]:
    """Monte Carlo estimates of the L1 and L2 norms of ``f - g`` and the sampled maximum.

    Norms are taken with respect to the uniform probability measure on the box, i.e.
    ``L1 = E|h(X)|`` and ``L2 = (E h(X)^2)^(1/2)`` for ``X`` uniform on the box.

    Returns
    -------
    dict
        ``l1``, ``l2``, ``linf_sampled`` (the maximum of ``|h|`` over the same points) and
        ``n``.
    """
    obj = f if isinstance(f, Objective) else Objective(f, g, box, dim=dim, device=device)
    n = _check_positive_int("n", n)
    gen = torch.Generator().manual_seed(int(seed))
    s1 = s2 = 0.0
    mx = 0.0
    done = 0
    while done < n:
        m = min(batch_size, n - done)
        v = obj(obj.sample(m, gen)).abs()
        s1 += float(v.sum())
        s2 += float((v * v).sum())
        mx = max(mx, float(v.max()))
        done += m
    return {"l1": s1 / n, "l2": math.sqrt(s2 / n), "linf_sampled": mx, "n": n}
