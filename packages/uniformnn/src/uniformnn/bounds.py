"""Sound output bounds of ReLU networks on boxes: interval arithmetic and CROWN.

Both methods work on batches of boxes (``lower``, ``upper`` of shape ``(B, d)``) in float64.

*Interval bound propagation* (IBP) pushes the box through each layer with interval
arithmetic. *CROWN* (Zhang et al., NeurIPS 2018) bounds each ReLU between two linear
functions (the chord ``u (t - l) / (u - l)`` above, ``alpha t`` with ``alpha`` in
``{0, 1}`` below) and propagates linear bounds backwards; pre-activation bounds of every
hidden layer are computed the same way and intersected with the interval bounds.

**Floating point.** All arithmetic is float64. To keep the bounds sound under round-off, every computed
pre-activation bound and the final bound are widened by a margin of
``16 u (k + 1) sum_j (n_j + 4)`` (``u = 2^-53``, ``n_j`` the layer widths, ``k`` the layer
index) times the value of the *absolute-value network* (all weights, biases and inputs
replaced by their absolute values), which dominates every partial sum that occurs. This is a
generous multiple of the standard a-priori bound on float64 rounding error of these sums, so
the returned upper bound is never below the exact-arithmetic maximum of the network whose
weights are stored (float32 weights are converted to float64 exactly); the widening is
about ``1e-12`` relative for the paper's networks. Values below are "exact arithmetic" values
of the network; a float32 forward pass of the same weights can differ by ~1e-7 relative.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from uniformnn.box import Box, as_box
from uniformnn.networks import ReLUNetwork, as_relu_network

__all__ = [
    "Layers",
    "crown_bounds",
    "difference_layers",
    "interval_bounds",
    "network_bounds",
]

Layers = list[tuple[torch.Tensor, torch.Tensor]]
UNIT_ROUNDOFF = 2.0**-53


def _layers_of(net: ReLUNetwork | Layers, device=None) -> Layers:
    if isinstance(net, list):
        return [(w.to(device=device, dtype=torch.float64), b.to(device=device, dtype=torch.float64)) for w, b in net]
    return as_relu_network(net).affine_layers(torch.float64, device)


def _lift_affine(layers: Layers) -> Layers:
    """Rewrite an affine map ``Wx + b`` as the ReLU network ``relu(Wx+b) - relu(-Wx-b)``."""
    (w, b), = layers
    eye = torch.eye(w.shape[0], dtype=w.dtype, device=w.device)
    return [(torch.cat([w, -w]), torch.cat([b, -b])),
            (torch.cat([eye, -eye], dim=1), torch.zeros_like(b))]


def _pad_depth(layers: Layers, depth: int) -> Layers:
    """Insert identity layers before the output layer (exact: post-ReLU values are >= 0)."""
    if len(layers) == depth:
        return layers
    if len(layers) == 1:
        layers = _lift_affine(layers)
    hidden, out = layers[:-1], layers[-1]
    n = out[0].shape[1]
    eye = torch.eye(n, dtype=out[0].dtype, device=out[0].device)
    zero = torch.zeros(n, dtype=out[0].dtype, device=out[0].device)
    return hidden + [(eye, zero)] * (depth - len(layers)) + [out]


def difference_layers(f: ReLUNetwork | Layers, g: ReLUNetwork | Layers, device=None) -> Layers:
    """Layers of one ReLU network computing ``f(x) - g(x)`` (scalar outputs).

    The two networks run in parallel (block-diagonal hidden layers, the shallower one padded
    with exact identity layers) and the output layer subtracts.
    """
    fl, gl = _layers_of(f, device), _layers_of(g, device)
    if fl[0][0].shape[1] != gl[0][0].shape[1]:
        raise ValueError(
            f"f and g: input dimensions {fl[0][0].shape[1]} and {gl[0][0].shape[1]} differ"
        )
    if fl[-1][0].shape[0] != 1 or gl[-1][0].shape[0] != 1:
        raise ValueError("f and g: both networks must have one output")
    depth = max(len(fl), len(gl), 2)
    fl, gl = _pad_depth(fl, depth), _pad_depth(gl, depth)
    out: Layers = []
    for k, ((wf, bf), (wg, bg)) in enumerate(zip(fl, gl)):
        if k == 0:
            out.append((torch.cat([wf, wg]), torch.cat([bf, bg])))
        elif k < depth - 1:
            out.append((torch.block_diag(wf, wg), torch.cat([bf, bg])))
        else:
            out.append((torch.cat([wf, -wg], dim=1), bf - bg))
    return out


def _margins(layers: Layers, lower: torch.Tensor, upper: torch.Tensor,
             extra_scale: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Per-layer absolute safety margins, shape ``(B, n_k)`` (see module docstring)."""
    m = torch.maximum(lower.abs(), upper.abs())
    total = 0
    out = []
    for k, (w, b) in enumerate(layers):
        total += w.shape[1] + 4
        m = m @ w.abs().T + b.abs()
        scale = m if (extra_scale is None or k < len(layers) - 1) else torch.maximum(m, extra_scale)
        out.append(16.0 * UNIT_ROUNDOFF * (k + 1) * total * scale)
    return out


def _check_boxes(layers: Layers, lower: torch.Tensor, upper: torch.Tensor):
    d = layers[0][0].shape[1]
    if lower.ndim == 1:
        lower, upper = lower[None], upper[None]
    if lower.shape != upper.shape or lower.ndim != 2 or lower.shape[1] != d:
        raise ValueError(
            f"boxes: lower {tuple(lower.shape)} and upper {tuple(upper.shape)} must both have "
            f"shape (B, {d})"
        )
    if bool((lower > upper).any()):
        raise ValueError("boxes: some lower bound exceeds its upper bound")
    return lower.to(torch.float64), upper.to(torch.float64)


def interval_bounds(layers: Layers, lower: torch.Tensor, upper: torch.Tensor,
                    *, margins: list[torch.Tensor] | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Interval bounds ``(l_k, u_k)`` of every layer's pre-activation (last: the output).

    Parameters
    ----------
    layers
        ``[(W_1, b_1), ..., (W_L, b_L)]`` in float64.
    lower, upper
        Boxes, shape ``(B, d)``.
    """
    lower, upper = _check_boxes(layers, lower, upper)
    if margins is None:
        margins = _margins(layers, lower, upper)
    c, r = (lower + upper) / 2, (upper - lower) / 2
    out = []
    for k, (w, b) in enumerate(layers):
        if k > 0:
            lo, hi = torch.relu(out[-1][0]), torch.relu(out[-1][1])
            c, r = (lo + hi) / 2, (hi - lo) / 2
        cc, rr = c @ w.T + b, r @ w.abs().T
        out.append((cc - rr - margins[k], cc + rr + margins[k]))
    return out


def _relaxation(lo: torch.Tensor, hi: torch.Tensor):
    """Slopes/intercepts of the CROWN relaxation: upper ``su t + iu``, lower ``sl t``."""
    active = lo >= 0
    unstable = (lo < 0) & (hi > 0)
    denom = torch.where(unstable, hi - lo, torch.ones_like(hi))
    su = torch.where(unstable, hi / denom, active.to(hi.dtype))
    iu = torch.where(unstable, -su * lo, torch.zeros_like(lo))
    sl = torch.where(unstable, (hi > -lo).to(hi.dtype), active.to(hi.dtype))
    return su, iu, sl


def _backward(layers: Layers, k: int, lam: torch.Tensor, relax, xc, xr):
    """Upper bound of ``lam . h_k(x)`` over the boxes; also the linear bound ``A x + c``."""
    w, b = layers[k]
    return _backward_from(layers, k, lam @ w, lam @ b, relax, xc, xr)


def _backward_from(layers: Layers, k: int, lam: torch.Tensor, const: torch.Tensor, relax, xc, xr):
    """As :func:`_backward`, starting from the coefficients ``lam`` on ``relu(h_{k-1})``."""
    for j in range(k - 1, -1, -1):
        su, iu, sl = relax[j]
        pos, neg = lam.clamp(min=0), lam.clamp(max=0)
        const = const + torch.bmm(pos, iu.unsqueeze(-1))[..., 0]
        lam = pos * su.unsqueeze(1) + neg * (sl if sl.ndim == 3 else sl.unsqueeze(1))
        w, b = layers[j]
        const = const + lam @ b
        lam = lam @ w
    ub = (torch.bmm(lam, xc.unsqueeze(-1)) + torch.bmm(lam.abs(), xr.unsqueeze(-1)))[..., 0] + const
    return ub, lam, const


def _optimise_alpha(layers, lam, relax, xc, xr, ub, a, c, steps, lr):
    """alpha-CROWN on the final specification; keeps the elementwise best bound."""
    s = lam.shape[1]
    logits, masks = [], []
    for su, _iu, sl in relax:
        unstable = (su > 0) & (su < 1)
        init = sl.unsqueeze(1).expand(-1, s, -1).clamp(0.05, 0.95)
        logits.append(torch.logit(init).clone().requires_grad_(True))
        masks.append(unstable.unsqueeze(1))
    opt = torch.optim.Adam(logits, lr=lr)
    best_ub, best_a, best_c = ub, a, c
    for _ in range(steps):
        relax_a = []
        for (su, iu, sl), lg, m in zip(relax, logits, masks):
            alpha = torch.where(m, torch.sigmoid(lg), sl.unsqueeze(1))
            relax_a.append((su, iu, alpha))
        with torch.enable_grad():
            ub_t, a_t, c_t = _backward(layers, len(layers) - 1, lam, relax_a, xc, xr)
            loss = ub_t.sum()
            opt.zero_grad()
            loss.backward()
        opt.step()
        ub_t, a_t, c_t = ub_t.detach(), a_t.detach(), c_t.detach()
        better = ub_t < best_ub
        best_ub = torch.where(better, ub_t, best_ub)
        best_a = torch.where(better.unsqueeze(-1), a_t, best_a)
        best_c = torch.where(better, c_t, best_c)
    return best_ub, best_a, best_c


def crown_bounds(layers: Layers, lower: torch.Tensor, upper: torch.Tensor,
                 spec: torch.Tensor | None = None, *, extra_scale: torch.Tensor | None = None,
                 return_linear: bool = False, alpha_steps: int = 0, alpha_lr: float = 0.2):
    """CROWN upper bounds of ``spec @ output`` over each box.

    Parameters
    ----------
    layers
        ``[(W_1, b_1), ..., (W_L, b_L)]`` in float64.
    lower, upper
        Boxes, shape ``(B, d)``.
    spec
        Matrix ``(s, n_L)`` of output directions; default ``[I; -I]`` so that the result
        holds upper bounds of the outputs followed by upper bounds of their negatives.
    extra_scale
        Optional ``(B, 1)`` magnitude added to the final margin's scale (used for ``f - g``).
    alpha_steps
        Number of projected Adam steps optimising the lower ReLU slopes ``alpha`` in
        ``[0, 1]`` of every unstable neuron, separately for each box and output direction
        (alpha-CROWN, Xu et al., ICLR 2021); 0 keeps CROWN's adaptive choice. Every ``alpha``
        gives a sound bound, and the smallest bound seen is returned.
    alpha_lr
        Step size of that optimisation.
    return_linear
        Also return ``A`` (``(B, s, d)``) and ``c`` (``(B, s)``) with
        ``spec @ output(x) <= A x + c`` on each box (before the margin).

    Returns
    -------
    torch.Tensor
        ``(B, s)`` upper bounds (margin included), plus ``(A, c)`` if requested.
    """
    lower, upper = _check_boxes(layers, lower, upper)
    n_out = layers[-1][0].shape[0]
    margins = _margins(layers, lower, upper, extra_scale)
    ibp = interval_bounds(layers, lower, upper, margins=margins)
    xc, xr = (lower + upper) / 2, (upper - lower) / 2
    bsz = lower.shape[0]
    pre = [ibp[0]]  # exact up to rounding for the first (affine) layer
    relax = [_relaxation(*ibp[0])]
    for k in range(1, len(layers) - 1):
        w, b = layers[k]
        plo, phi = torch.relu(pre[-1][0]), torch.relu(pre[-1][1])
        cc, rr = (plo + phi) / 2 @ w.T + b, (phi - plo) / 2 @ w.abs().T
        lo = torch.maximum(ibp[k][0], cc - rr - margins[k])
        hi = torch.minimum(ibp[k][1], cc + rr + margins[k])
        # Only neurons that interval arithmetic leaves unstable need CROWN bounds: the ReLU
        # relaxation of a stable neuron is exact whatever its bounds are.
        unstable = (lo < 0) & (hi > 0)
        n_unst = int(unstable.sum(dim=1).max()) if unstable.numel() else 0
        if n_unst > 0:
            # indices of (up to n_unst) unstable neurons per box, padded with a valid index
            order = torch.argsort(unstable.to(torch.int8), dim=1, descending=True, stable=True)
            idx = order[:, :n_unst]
            valid = torch.gather(unstable, 1, idx)
            rows = w[idx]  # (B, U, n_{k-1})
            lam_w = torch.cat([rows, -rows], dim=1)
            b = layers[k][1][idx]
            ub, _, _ = _backward_from(layers, k, lam_w, torch.cat([b, -b], dim=1), relax, xc, xr)
            new_hi = ub[:, :n_unst] + torch.gather(margins[k], 1, idx)
            new_lo = -ub[:, n_unst:] - torch.gather(margins[k], 1, idx)
            cur_hi, cur_lo = torch.gather(hi, 1, idx), torch.gather(lo, 1, idx)
            new_hi = torch.where(valid, torch.minimum(new_hi, cur_hi), cur_hi)
            new_lo = torch.where(valid, torch.maximum(new_lo, cur_lo), cur_lo)
            hi = hi.scatter(1, idx, new_hi)
            lo = lo.scatter(1, idx, new_lo)
        pre.append((lo, hi))
        relax.append(_relaxation(lo, hi))
    default_spec = spec is None
    if default_spec:
        eye = torch.eye(n_out, dtype=torch.float64, device=lower.device)
        spec = torch.cat([eye, -eye])
    lam = spec.to(lower).expand(bsz, *spec.shape)
    ub, a, c = _backward(layers, len(layers) - 1, lam, relax, xc, xr)
    if alpha_steps > 0:
        ub, a, c = _optimise_alpha(layers, lam, relax, xc, xr, ub, a, c, alpha_steps, alpha_lr)
    ub = ub + margins[-1].amax(dim=1, keepdim=True)
    if default_spec:  # intersect with the interval bound of the output
        ub = torch.minimum(ub, torch.cat([ibp[-1][1], -ibp[-1][0]], dim=1))
    if return_linear:
        return ub, a, c
    return ub


def network_bounds(net: ReLUNetwork, box: Box | Sequence, *, method: str = "crown"):
    """Certified ``(lower, upper)`` bounds of each output of ``net`` over ``box``.

    Parameters
    ----------
    net
        A :class:`~uniformnn.networks.ReLUNetwork` (or Linear/ReLU ``nn.Sequential``).
    box
        The input box.
    method
        ``"crown"`` or ``"interval"``.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper bounds, each of shape ``(n_out,)``.
    """
    net = as_relu_network(net, name="net")
    box = as_box(box, net.in_dim)
    layers = _layers_of(net)
    lo = torch.tensor([box.lower], dtype=torch.float64)
    hi = torch.tensor([box.upper], dtype=torch.float64)
    if method == "interval":
        out_lo, out_hi = interval_bounds(layers, lo, hi)[-1]
        return out_lo[0].numpy(), out_hi[0].numpy()
    if method != "crown":
        raise ValueError(f"method: got {method!r}; expected 'crown' or 'interval'")
    ub = crown_bounds(layers, lo, hi)[0]
    n = net.out_dim
    return (-ub[n:]).numpy(), ub[:n].numpy()
