"""Certified brackets ``[lower, upper]`` of ``sup_{x in box} |f(x) - g(x)|`` by branch and bound.

The lower bound is attained (random search, projected gradient ascent, and the points that
the bounding step suggests); the upper bound is certified by bound propagation (CROWN or
interval arithmetic, see :mod:`uniformnn.bounds`) on sub-boxes of the input box, or by a
Lipschitz argument for non-network functions with a known Lipschitz constant. Branch and
bound repeatedly splits the sub-boxes with the largest upper bounds until

``upper - lower <= max(atol, rtol * lower)``

or the time budget or box budget is spent. The upper bound is valid whenever the method
stops: it is the largest upper bound among the sub-boxes not yet discarded (a sub-box is
discarded only when its bound is at most the attained lower bound).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from uniformnn.bounds import crown_bounds, difference_layers, interval_bounds
from uniformnn.networks import as_relu_network
from uniformnn.objective import Objective
from uniformnn.search import gradient_ascent, lower_bound

__all__ = ["BracketResult", "sup_norm_bracket", "METHODS", "BRANCHING"]

METHODS = ("crown", "interval")
BRANCHING = ("gradient", "widest")


@dataclass
class BracketResult:
    """Result of :func:`sup_norm_bracket`."""

    lower: float
    """Attained lower bound ``|h(argmax)|``."""

    upper: float
    """Certified upper bound (``inf`` when no certificate was asked for)."""

    argmax: np.ndarray
    """Point where ``lower`` is attained, shape ``(d,)``."""

    status: str
    """``"converged"`` (gap reached), ``"time_budget"``, ``"max_boxes"`` or ``"uncertified"``."""

    n_bounded: int
    """Number of sub-boxes bounded."""

    n_live: int
    """Sub-boxes still open when the method stopped."""

    elapsed: float
    """Wall-clock seconds in total."""

    lower_elapsed: float
    """Seconds spent in the initial lower-bound search."""

    method: str
    """Bounding method used (``"crown"``, ``"interval"`` or ``"lipschitz"`` mixes)."""

    history: list[tuple[float, float, float]] = field(default_factory=list)
    """``(seconds, lower, upper)`` after each branch-and-bound round."""

    @property
    def gap(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower

    @property
    def rel_gap(self) -> float:
        """``(upper - lower) / lower`` (``inf`` if ``lower == 0``)."""
        return self.gap / self.lower if self.lower > 0 else math.inf

    @property
    def certified(self) -> bool:
        """Whether ``upper`` is a certificate (finite)."""
        return math.isfinite(self.upper)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (without the history)."""
        return {
            "lower": self.lower, "upper": self.upper, "rel_gap": self.rel_gap,
            "argmax": [float(v) for v in self.argmax], "status": self.status,
            "n_bounded": self.n_bounded, "n_live": self.n_live, "elapsed": self.elapsed,
            "lower_elapsed": self.lower_elapsed, "method": self.method,
        }


def _abs_network_value(layers, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    m = torch.maximum(lo.abs(), hi.abs())
    for w, b in layers:
        m = m @ w.abs().T + b.abs()
    return m.amax(dim=1, keepdim=True)


class _Bounder:
    """Upper bounds of ``max |h|`` on batches of sub-boxes, candidate points and split scores."""

    def __init__(self, obj: Objective, method: str, branching: str, alpha_steps: int = 0) -> None:
        self.obj, self.method, self.branching = obj, method, branching
        self.alpha_steps = alpha_steps
        dev = obj.device
        self.parts: list[tuple[str, Any, float, Any]] = []
        if obj.is_network_difference:
            f_layers = obj.f.network.affine_layers(torch.float64, dev)
            if obj.g is None:
                self.layers = f_layers
                self.scale_layers = [f_layers]
            else:
                g_layers = obj.g.network.affine_layers(torch.float64, dev)
                self.layers = difference_layers(f_layers, g_layers)
                self.scale_layers = [f_layers, g_layers]
            self.kind = method
        else:
            self.layers = None
            for sign, t in ((1.0, obj.f), (-1.0, obj.g)):
                if t is None:
                    continue
                if t.network is not None:
                    self.parts.append(("net", t.network.affine_layers(torch.float64, dev), sign, t))
                else:
                    self.parts.append(("lip", float(t.lipschitz), sign, t))
            self.kind = f"{method}+lipschitz"

    def _net_bounds(self, layers, lo, hi, extra_scale=None):
        """``(ub of +out, ub of -out)``, the linear coefficients (or None)."""
        if self.method == "interval":
            out_lo, out_hi = interval_bounds(layers, lo, hi)[-1]
            if extra_scale is not None:  # the margin of the f - g rounding
                pad = 64 * 2.0**-53 * extra_scale[:, 0]
                return out_hi[:, 0] + pad, -out_lo[:, 0] + pad, None
            return out_hi[:, 0], -out_lo[:, 0], None
        ub, a, _ = crown_bounds(layers, lo, hi, extra_scale=extra_scale, return_linear=True,
                                alpha_steps=self.alpha_steps)
        return ub[:, 0], ub[:, 1], a

    def __call__(self, lo: torch.Tensor, hi: torch.Tensor):
        center = (lo + hi) / 2
        cands = [center]
        if self.layers is not None:
            extra = sum(_abs_network_value(sl, lo, hi) for sl in self.scale_layers)
            up, dn, a = self._net_bounds(self.layers, lo, hi, extra)
            ub = torch.maximum(up, dn)
            if a is not None:
                pick = (dn > up).long()
                a_star = a[torch.arange(a.shape[0], device=a.device), pick]
                cands.append(torch.where(a_star > 0, hi, lo))
                score = a_star.abs() * (hi - lo)
            else:
                score = None
        else:
            h_hi = torch.zeros(lo.shape[0], dtype=torch.float64, device=lo.device)
            h_lo = torch.zeros_like(h_hi)
            rad = torch.linalg.vector_norm(hi - lo, dim=1) / 2 * (1 + 1e-12)
            for kind, data, sign, t in self.parts:
                if kind == "net":
                    up, dn, _ = self._net_bounds(data, lo, hi)
                    t_hi, t_lo = up, -dn
                else:
                    with torch.no_grad():
                        v = self.obj._eval(t, "f" if sign > 0 else "g", center)
                    slack = data * rad + 1e-12 * v.abs()
                    t_hi, t_lo = v + slack, v - slack
                if sign > 0:
                    h_hi, h_lo = h_hi + t_hi, h_lo + t_lo
                else:
                    h_hi, h_lo = h_hi - t_lo, h_lo - t_hi
            ub = torch.maximum(h_hi, -h_lo)
            score = None
        if score is None or self.branching == "widest":
            score = (hi - lo) / self.root_width
        return ub, torch.stack(cands, dim=1), score


def _not_certifiable(obj: Objective, f: Any, g: Any) -> ValueError:
    for name, orig, t in (("f", f, obj.f), ("g", g, obj.g)):
        if t is None or t.network is not None or t.lipschitz is not None:
            continue
        if isinstance(orig, torch.nn.Module):
            try:
                as_relu_network(orig, name=name)
            except (TypeError, ValueError) as exc:
                return ValueError(f"{exc}; pass certify=False for a lower bound only")
        return ValueError(
            f"{name}: a certified upper bound needs a ReLU network or a function with a known "
            f"Lipschitz constant (uniformnn.function_target(..., lipschitz=L)); got "
            f"{type(orig).__name__}. Pass certify=False for a lower bound only"
        )
    return ValueError("cannot certify")  # pragma: no cover


def sup_norm_bracket(
    f: Any,
    g: Any = None,
    box: Any = None,
    *,
    rtol: float = 0.01,
    atol: float = 0.0,
    time_budget: float | None = 60.0,
    max_boxes: int = 2_000_000,
    batch_size: int = 1024,
    method: str = "crown",
    branching: str = "widest",
    alpha_steps: int = 0,
    certify: bool = True,
    n_random: int = 2**16,
    n_starts: int = 64,
    steps: int = 100,
    seed: int = 0,
    device: str | torch.device | None = None,
    dim: int | None = None,
    progress: bool = False,
) -> BracketResult:
    """Bracket ``sup_{x in box} |f(x) - g(x)|`` between an attained and a certified bound.

    Parameters
    ----------
    f, g
        ReLU networks (:class:`~uniformnn.networks.ReLUNetwork` or Linear/ReLU
        ``nn.Sequential``), :class:`~uniformnn.targets.Target` objects (networks or functions
        with a Lipschitz constant) or, with ``certify=False``, any torch module or callable.
        ``g=None`` brackets ``sup |f|``.
    box
        Input box (:class:`~uniformnn.box.Box`, ``(lower, upper)``); default: ``f``'s box.
    rtol, atol
        Stop when ``upper - lower <= max(atol, rtol * lower)``.
    time_budget
        Seconds for the whole computation (``None``: no limit). The result is valid (but
        possibly wider) when the budget stops it.
    max_boxes
        Largest number of open sub-boxes kept in memory.
    batch_size
        Most sub-boxes split per round (each gives two children); rounds start smaller and
        grow while they take less than about half a second, so that the time budget is kept.
    method
        ``"crown"`` (linear relaxation) or ``"interval"`` (interval arithmetic).
    branching
        ``"widest"`` splits the widest coordinate relative to the input box; ``"gradient"``
        the coordinate with the largest ``|a_i| (u_i - l_i)`` of the CROWN linear bound
        ``a . x + c``.
    alpha_steps
        Projected gradient steps optimising CROWN's lower ReLU slopes on each sub-box
        (alpha-CROWN; tighter, slower per box). 0 uses CROWN's adaptive slopes.
    certify
        If ``False`` only the lower bound is computed (``upper = inf``).
    n_random, n_starts, steps
        Budget of the initial lower-bound search (see :func:`~uniformnn.search.lower_bound`).
    seed
        Seed of all random choices.
    device
        ``None``: CUDA when present, else CPU.
    dim
        Input dimension when neither function tells it.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    BracketResult

    Raises
    ------
    ValueError
        For a bad box or dimension mismatch, unknown ``method``/``branching``, bad tolerances,
        or when ``certify=True`` and a side is neither a ReLU network nor Lipschitz.
    """
    if method not in METHODS:
        raise ValueError(f"method: got {method!r}; expected one of {METHODS}")
    if branching not in BRANCHING:
        raise ValueError(f"branching: got {branching!r}; expected one of {BRANCHING}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{name}: got {v!r}; expected a finite number >= 0")
    if time_budget is not None and not (time_budget > 0):
        raise ValueError(f"time_budget: got {time_budget!r}; expected seconds > 0 or None")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: got {batch_size!r}; expected an integer >= 1")
    t0 = time.perf_counter()
    obj = Objective(f, g, box, dim=dim, device=device)
    if certify and not obj.certifiable:
        raise _not_certifiable(obj, f, g)
    lb = lower_bound(obj, n_random=n_random, n_starts=n_starts, steps=steps, seed=seed)
    lower, argmax = lb.value, torch.as_tensor(lb.argmax, dtype=torch.float64, device=obj.device)
    lower_elapsed = time.perf_counter() - t0
    if not certify:
        return BracketResult(lower, math.inf, lb.argmax, "uncertified", 0, 0,
                             time.perf_counter() - t0, lower_elapsed, "none",
                             [(lower_elapsed, lower, math.inf)])

    if isinstance(alpha_steps, bool) or not isinstance(alpha_steps, int) or alpha_steps < 0:
        raise ValueError(f"alpha_steps: got {alpha_steps!r}; expected an integer >= 0")
    bounder = _Bounder(obj, method, branching, alpha_steps)
    root_lo, root_hi = obj.bounds_tensors()
    bounder.root_width = torch.where(root_hi > root_lo, root_hi - root_lo, torch.ones_like(root_hi))
    lo, hi = root_lo[None].clone(), root_hi[None].clone()
    ub, cands, score = bounder(lo, hi)
    n_bounded = 1
    history: list[tuple[float, float, float]] = []
    status = "converged"
    bar = tqdm(total=None, disable=not progress, unit="box", desc="bracket", leave=False)

    def improve(points: torch.Tensor) -> None:
        nonlocal lower, argmax
        with torch.no_grad():
            v = obj(points).abs()
        j = int(torch.argmax(v))
        if float(v[j]) > lower:
            lower, argmax = float(v[j]), points[j].clone()

    improve(cands.reshape(-1, obj.dim))
    rounds = 0
    cur_batch = min(64, batch_size)
    per_box = None  # seconds per child box, measured
    try:
        while True:
            keep = ub > lower
            lo, hi, ub, score = lo[keep], hi[keep], ub[keep], score[keep]
            upper = max(lower, float(ub.max())) if ub.numel() else lower
            now = time.perf_counter() - t0
            history.append((now, lower, upper))
            bar.set_postfix(lower=f"{lower:.6g}", upper=f"{upper:.6g}", live=ub.numel())
            if upper - lower <= max(atol, rtol * lower):
                status = "converged"
                break
            if time_budget is not None and now >= time_budget:
                status = "time_budget"
                break
            if ub.numel() + 2 * min(batch_size, ub.numel()) > max_boxes:
                status = "max_boxes"
                break
            # only sub-boxes whose bound exceeds the stopping threshold need splitting
            n_need = int((ub > lower + max(atol, rtol * lower)).sum())
            k = min(cur_batch, n_need)
            if time_budget is not None and per_box is not None:
                fit = int((time_budget - now) / (2 * per_box))
                k = max(1, min(k, fit))
            t_round = time.perf_counter()
            sel = torch.topk(ub, k).indices
            rest = torch.ones(ub.numel(), dtype=torch.bool, device=ub.device)
            rest[sel] = False
            plo, phi, pscore = lo[sel], hi[sel], score[sel]
            pscore = torch.where(phi > plo, pscore, torch.full_like(pscore, -1.0))
            dim_split = torch.argmax(pscore, dim=1)
            rows = torch.arange(k, device=plo.device)
            mid = (plo[rows, dim_split] + phi[rows, dim_split]) / 2
            left_hi, right_lo = phi.clone(), plo.clone()
            left_hi[rows, dim_split] = mid
            right_lo[rows, dim_split] = mid
            clo, chi = torch.cat([plo, right_lo]), torch.cat([left_hi, phi])
            cub, ccands, cscore = bounder(clo, chi)
            n_bounded += 2 * k
            bar.update(2 * k)
            pts = ccands.reshape(-1, obj.dim)
            improve(pts)
            rounds += 1
            if rounds % 8 == 0 and steps > 0:  # local polish of the most promising points
                top = torch.topk(cub, min(16, cub.numel())).indices
                v, x, _ = gradient_ascent(obj, ccands[top, 0], steps=20, step_size=1e-2,
                                          final_step_size=1e-6)
                if v > lower:
                    lower, argmax = v, x
            lo = torch.cat([lo[rest], clo])
            hi = torch.cat([hi[rest], chi])
            ub = torch.cat([ub[rest], cub])
            score = torch.cat([score[rest], cscore])
            took = time.perf_counter() - t_round
            per_box = took / (2 * k)
            if took < 0.25 and k == cur_batch:
                cur_batch = min(2 * cur_batch, batch_size)
            elif took > 1.0:
                cur_batch = max(1, cur_batch // 2)
    finally:
        bar.close()
    upper = max(lower, float(ub.max())) if ub.numel() else lower
    return BracketResult(lower, upper, argmax.detach().cpu().numpy(), status, n_bounded,
                         int(ub.numel()), time.perf_counter() - t0, lower_elapsed,
                         bounder.kind, history)
