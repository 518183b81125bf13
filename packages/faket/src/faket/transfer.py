"""Neural style transfer per tilt, with the losses and settings of the FakET paper.

Each tilt of the content series (the NOISY projections of a simulated volume) is optimised
so that its feature Gram matrices match those of the style tilt with the same index (a
measured tilt series), while its content-layer features stay close to the content's:

- content layer ``relu2_2``; style layers ``relu1_1 ... relu5_1`` weighted 256, 64, 16, 4, 1
  (normalised to sum 1) for VGG19;
- Gram matrices normalised by the number of spatial positions;
- scaled MSE loss ``sum((a - b)**2) / sum(|a - b|)`` for both terms;
- Adam with learning rate 0.15 on the image, clamped to [0, 1] after every step, and an
  exponential moving average (decay 0.99, bias-corrected) of the iterates as the result;
- the optimisation starts from the content (the NOISY projections);
- each stack is min-max scaled to [0, 1] first; the output is matched per tilt to the mean
  and standard deviation of the style tilt.

Tilts are optimised in batches. The loss of a batch is the sum of per-tilt losses and Adam
acts elementwise, so batching does not change the result (up to floating-point rounding).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from faket.style import StyleModel, make_style_model, normalised_weights

__all__ = [
    "TransferResult",
    "check_tilt_series",
    "gram_matrix",
    "match_mean_std",
    "minmax_scale",
    "resolve_devices",
    "scaled_mse",
    "style_transfer",
    "transfer_losses",
    "write_trace",
]


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices of feature maps ``(batch, channels, h, w)`` divided by ``h * w``.

    Returns
    -------
    torch.Tensor
        ``(batch, channels, channels)``.
    """
    if features.ndim != 4:
        raise ValueError(f"features: shape {tuple(features.shape)} is not accepted; accepted: (batch, channels, h, w)")
    mat = features.flatten(2)
    return mat @ mat.transpose(1, 2) / mat.shape[-1]


def scaled_mse(input: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scaled MSE per batch element: ``sum((input - target)**2) / (sum(|input - target|) + eps)``.

    The sums run over all axes but the first; the gradient of this loss has an L1 norm of
    about one whatever the scale of the features.

    Returns
    -------
    torch.Tensor
        ``(batch,)``.
    """
    diff = (input - target).flatten(1)
    return diff.pow(2).sum(1) / (diff.abs().sum(1) + eps)


def check_tilt_series(stack: Any, name: str) -> np.ndarray:
    """Return `stack` as a float32 ``(n_tilts, height, width)`` array after validation.

    Raises
    ------
    ValueError
        If it is not three-dimensional, empty, holds non-finite values or is constant.
    """
    arr = np.asarray(stack)
    if arr.ndim != 3 or min(arr.shape) == 0:
        raise ValueError(f"{name}: shape {arr.shape} is not accepted; accepted: a non-empty tilt series (n_tilts, height, width)")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"{name}: dtype {arr.dtype} is not accepted; accepted: real numbers")
    arr = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: {int(bad.sum())} non-finite values (first at tilt/row/column {first}); accepted: finite data")
    if float(arr.max()) == float(arr.min()):
        raise ValueError(f"{name}: the stack is constant ({float(arr.min())}); accepted: a stack with some contrast")
    return arr


def minmax_scale(stack: np.ndarray) -> np.ndarray:
    """Scale a whole stack linearly to [0, 1] (one minimum and maximum for all tilts)."""
    lo, hi = float(stack.min()), float(stack.max())
    return ((stack - lo) / (hi - lo)).astype(np.float32)


def match_mean_std(stack: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Give every tilt of `stack` the mean and standard deviation of the same tilt of `reference`."""
    if stack.shape[0] != reference.shape[0]:
        raise ValueError(f"reference: {reference.shape[0]} tilts, stack has {stack.shape[0]}; accepted: equal tilt counts")
    s = stack.astype(np.float64)
    mean = s.mean(axis=(1, 2), keepdims=True)
    std = s.std(axis=(1, 2), keepdims=True)
    ref = reference.astype(np.float64)
    rmean = ref.mean(axis=(1, 2), keepdims=True)
    rstd = ref.std(axis=(1, 2), keepdims=True)
    out = np.where(std > 0, (s - mean) / np.where(std > 0, std, 1.0), 0.0) * rstd + rmean
    return out.astype(np.float32)


def transfer_losses(
    model: StyleModel,
    image: torch.Tensor,
    content_targets: dict[str, torch.Tensor],
    style_targets: dict[str, torch.Tensor],
    style_weights: dict[str, float],
    content_weight: float,
    style_weight: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-tilt content and style losses of `image` ``(batch, 1, h, w)``.

    Content: ``content_weight * sum_l scaled_mse(F_l(image), content_targets[l])`` over the
    content layers; style: ``style_weight * sum_l style_weights[l] * scaled_mse(G_l(image),
    style_targets[l])`` with ``G_l`` the :func:`gram_matrix` of layer ``l``.

    Returns
    -------
    tuple of torch.Tensor
        ``(content, style)``, each ``(batch,)``.
    """
    layers = set(content_targets) | set(style_targets)
    feats = model(image, layers)
    content = image.new_zeros(image.shape[0])
    for layer, target in content_targets.items():
        content = content + content_weight * scaled_mse(feats[layer], target)
    style = image.new_zeros(image.shape[0])
    for layer, target in style_targets.items():
        style = style + style_weight * style_weights[layer] * scaled_mse(gram_matrix(feats[layer]), target)
    return content, style


@dataclass
class TransferResult:
    """Result of :func:`style_transfer`.

    Attributes
    ----------
    styled : numpy.ndarray
        Styled tilt series ``(n_tilts, height, width)``, float32, each tilt with the mean and
        standard deviation of its style tilt.
    trace : list of dict
        Loss records: ``tilts`` (first, last + 1), ``scale`` (image size), ``iteration``,
        ``loss``, ``content``, ``style`` (means over the tilts of the batch).
    config : dict
        The resolved settings.
    """

    styled: np.ndarray
    trace: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def resolve_devices(device: str | torch.device | Sequence[str] | None) -> list[torch.device]:
    """Devices to use: ``None`` means every CUDA GPU present, else the CPU.

    Parameters
    ----------
    device : str, torch.device, sequence of str or None
        ``"cpu"``, ``"cuda"`` (every GPU), ``"cuda:1"``, a comma-separated string or a list.
    """
    if device is None:
        if torch.cuda.is_available():
            return [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())]
        return [torch.device("cpu")]
    names: list[str]
    if isinstance(device, torch.device):
        names = [str(device)]
    elif isinstance(device, str):
        names = [d.strip() for d in device.split(",") if d.strip()]
    else:
        names = [str(d) for d in device]
    out: list[torch.device] = []
    for name in names:
        try:
            dev = torch.device(name)
        except RuntimeError:
            raise ValueError(f"device: {name!r} is not accepted; accepted: 'cpu', 'cuda', 'cuda:N'") from None
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(f"device: {name!r} requested but no CUDA GPU is available; accepted here: 'cpu'")
            if dev.index is None:
                out += [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())]
                continue
            if dev.index >= torch.cuda.device_count():
                raise ValueError(f"device: {name!r}: only {torch.cuda.device_count()} GPUs are present")
        elif dev.type != "cpu":
            raise ValueError(f"device: {name!r} is not accepted; accepted: 'cpu', 'cuda', 'cuda:N'")
        out.append(dev)
    if not out:
        raise ValueError(f"device: {device!r} names no device")
    return out


def _scale_sizes(height: int, width: int, scales: Sequence[int] | int | None) -> list[tuple[int, int]]:
    """Image sizes of the multi-scale schedule (long side per scale), ending at the native size."""
    long = max(height, width)
    if scales is None:
        return [(height, width)]
    if isinstance(scales, (int, np.integer)) and not isinstance(scales, bool):
        if scales < 16:
            raise ValueError(f"scales: minimum scale {scales} is not accepted; accepted: >= 16 pixels")
        sides = []
        s = int(scales)
        while s < long:
            sides.append(s)
            s *= 2
        sides.append(long)
    else:
        sides = [int(s) for s in scales]
        if not sides or any(s < 16 or s > long for s in sides) or sides != sorted(sides):
            raise ValueError(f"scales: {list(scales)!r} is not accepted; accepted: increasing sizes between 16 and the image's long side {long}")
    out = []
    for side in sides:
        f = side / long
        out.append((max(1, round(height * f)), max(1, round(width * f))))
    return out


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False).clamp(0, 1)


def _run_batch(
    model: StyleModel,
    content: torch.Tensor,
    style: torch.Tensor,
    sizes: list[tuple[int, int]],
    content_layers: list[str],
    style_layers: list[str],
    style_weights: dict[str, float],
    *,
    content_weight: float,
    style_weight: float,
    iterations: int,
    lr: float,
    ema_decay: float,
    trace_every: int,
    tilt_range: tuple[int, int],
    on_step: Any,
) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    trace: list[dict[str, Any]] = []
    image: torch.Tensor | None = None
    for size in sizes:
        c = _resize(content, size)
        s = _resize(style, size)
        with torch.no_grad():
            cf = model(c, content_layers)
            sf = model(s, style_layers)
            content_targets = {k: cf[k] for k in content_layers}
            style_targets = {k: gram_matrix(sf[k]) for k in style_layers}
        image = c.clone() if image is None else _resize(image, size)
        image.requires_grad_(True)
        opt = torch.optim.Adam([image], lr=lr)
        accum = torch.zeros_like(image, requires_grad=False)
        norm = 0.0
        for it in range(1, iterations + 1):
            closs, sloss = transfer_losses(model, image, content_targets, style_targets, style_weights, content_weight, style_weight)
            loss = closs + sloss
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            with torch.no_grad():
                image.clamp_(0, 1)
                accum.mul_(ema_decay).add_(image, alpha=1 - ema_decay)
                norm = norm * ema_decay + (1 - ema_decay)
            if it == 1 or it % trace_every == 0 or it == iterations:
                trace.append(
                    {
                        "tilts": list(tilt_range),
                        "scale": list(size),
                        "iteration": it,
                        "loss": float(loss.detach().mean()),
                        "content": float(closs.detach().mean()),
                        "style": float(sloss.detach().mean()),
                    }
                )
            on_step()
        image = (accum / norm).clamp(0, 1).detach() if iterations > 0 else image.detach()
    assert image is not None
    return _resize(image, tuple(content.shape[-2:])), trace


def style_transfer(
    content: np.ndarray,
    style: np.ndarray,
    *,
    style_model: str | StyleModel = "weight-free",
    weights: str | Path | None = None,
    iterations: int = 100,
    lr: float = 0.15,
    ema_decay: float = 0.99,
    content_weight: float = 0.1,
    style_weight: float = 1.0,
    content_layers: Sequence[str] | None = None,
    style_layers: Sequence[str] | None = None,
    style_weights: Sequence[float] | None = None,
    scales: Sequence[int] | int | None = None,
    batch_size: int = 4,
    device: str | torch.device | Sequence[str] | None = None,
    seed: int = 0,
    match_style_stats: bool = True,
    trace_every: int = 10,
    progress: bool = False,
) -> TransferResult:
    """Transfer the style of tilt series `style` onto tilt series `content`, tilt by tilt.

    Parameters
    ----------
    content : numpy.ndarray
        ``(n_tilts, height, width)``: the NOISY projections; also the starting image.
    style : numpy.ndarray
        ``(n_tilts, h, w)``: the style tilt series (e.g. a measured one), paired with
        `content` by tilt index (same tilt count; resized to the content's size).
    style_model : {"vgg19", "vgg19-random", "weight-free"} or StyleModel
        Feature extractor (see :func:`faket.style.make_style_model`).
    weights : str or Path, optional
        VGG19 weights file for ``style_model="vgg19"`` (default: torch's hub cache).
    iterations : int
        Adam iterations per scale.
    lr : float
        Adam learning rate (image values lie in [0, 1]).
    ema_decay : float
        Decay of the exponential moving average of the iterates (the returned image).
    content_weight, style_weight : float
        Weights of the content and style terms. The paper's scripts do not fix the content
        weight in what the issue recovered; 0.1 was chosen on the demo phantom (weight-free
        model, 40 iterations, Gram distance to the style 0.68 with 1.0, 0.27 with 0.1,
        0.37 with 0.015).
    content_layers, style_layers : sequence of str, optional
        Layers (default: the model's, ``relu2_2`` and ``relu1_1 ... relu5_1`` for VGG19).
    style_weights : sequence of float, optional
        Relative weights of the style layers, normalised to sum 1 (default 256, 64, 16, 4, 1).
    scales : int or sequence of int, optional
        Multi-scale schedule: ``None``, the native size only; an int, the smallest long side,
        doubled up to the native size; a list, the long sides. Each scale starts from the
        result of the previous one, upsampled.
    batch_size : int
        Tilts optimised together.
    device : str or sequence, optional
        ``None``: every GPU present, else the CPU; ``"cpu"``; ``"cuda"``; ``"cuda:0,cuda:1"``.
        With several devices, batches are spread over them.
    seed : int
        Seed of the style model's random weights or filters; the optimisation itself is
        deterministic on the CPU (same seed and input, same result).
    match_style_stats : bool
        Match every output tilt to the mean and standard deviation of its style tilt;
        otherwise the output is in the content's original range.
    trace_every : int
        Record the losses every this many iterations (and at the first and last).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    TransferResult

    Raises
    ------
    ValueError
        Different tilt counts, non-finite or constant stacks, unknown layers, bad settings.
    """
    content_arr = check_tilt_series(content, "content")
    style_arr = check_tilt_series(style, "style")
    if content_arr.shape[0] != style_arr.shape[0]:
        raise ValueError(
            f"style: {style_arr.shape[0]} tilts but content has {content_arr.shape[0]}; accepted: style and content "
            "tilt series with the same number of tilts (paired by tilt index)"
        )
    if not (isinstance(iterations, int) and iterations >= 0):
        raise ValueError(f"iterations: {iterations!r} is not accepted; accepted: an integer >= 0")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size: {batch_size!r} is not accepted; accepted: an integer >= 1")
    if not (isinstance(trace_every, int) and trace_every >= 1):
        raise ValueError(f"trace_every: {trace_every!r} is not accepted; accepted: an integer >= 1")
    if not (math.isfinite(float(lr)) and float(lr) > 0):
        raise ValueError(f"lr: {lr!r} is not accepted; accepted: a finite positive number")
    for name, value in (("content_weight", content_weight), ("style_weight", style_weight)):
        if not (math.isfinite(float(value)) and float(value) >= 0):
            raise ValueError(f"{name}: {value!r} is not accepted; accepted: a finite non-negative number")
    if not (0.0 <= float(ema_decay) < 1.0):
        raise ValueError(f"ema_decay: {ema_decay!r} is not accepted; accepted: 0 <= ema_decay < 1")
    devices = resolve_devices(device)
    model0 = make_style_model(style_model, weights=weights, seed=seed)
    c_layers = model0.check_layers(content_layers if content_layers is not None else model0.default_content_layers, "content_layers")
    s_layers = model0.check_layers(style_layers if style_layers is not None else model0.default_style_layers, "style_layers")
    if style_weights is None:
        if style_layers is None:
            raw = list(model0.default_style_weights)
        else:
            raw = [1.0] * len(s_layers)
    else:
        raw = list(style_weights)
    if len(raw) != len(s_layers):
        raise ValueError(f"style_weights: {len(raw)} weights for {len(s_layers)} style layers; accepted: one weight per style layer")
    sw = dict(zip(s_layers, normalised_weights(raw)))
    n, h, w = content_arr.shape
    sizes = _scale_sizes(h, w, scales)

    content01 = minmax_scale(content_arr)
    style01 = minmax_scale(style_arr)
    style_t = torch.from_numpy(style01)[:, None]
    if style_t.shape[-2:] != (h, w):
        style_t = F.interpolate(style_t, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    content_t = torch.from_numpy(content01)[:, None]

    models = {str(devices[0]): model0.to(devices[0])}
    for dev in devices[1:]:
        models[str(dev)] = make_style_model(style_model, weights=weights, seed=seed).to(dev)

    batches = [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    total = len(batches) * len(sizes) * iterations
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="style transfer", unit="it")
    lock = threading.Lock()

    def on_step() -> None:
        if bar is not None:
            with lock:
                bar.update(1)

    def work(k: int) -> tuple[int, torch.Tensor, list[dict[str, Any]]]:
        dev = devices[k % len(devices)]
        lo, hi = batches[k]
        out, trace = _run_batch(
            models[str(dev)],
            content_t[lo:hi].to(dev),
            style_t[lo:hi].to(dev),
            sizes,
            c_layers,
            s_layers,
            sw,
            content_weight=float(content_weight),
            style_weight=float(style_weight),
            iterations=iterations,
            lr=float(lr),
            ema_decay=float(ema_decay),
            trace_every=trace_every,
            tilt_range=(lo, hi),
            on_step=on_step,
        )
        return k, out.cpu(), trace

    styled01 = np.empty((n, h, w), dtype=np.float32)
    traces: dict[int, list[dict[str, Any]]] = {}
    try:
        if len(devices) == 1:
            results = [work(k) for k in range(len(batches))]
        else:
            # one thread per device, each working through its own batches in turn
            def device_work(d: int) -> list[tuple[int, torch.Tensor, list[dict[str, Any]]]]:
                return [work(k) for k in range(d, len(batches), len(devices))]

            with ThreadPoolExecutor(max_workers=len(devices)) as pool:
                results = [r for rs in pool.map(device_work, range(len(devices))) for r in rs]
    finally:
        if bar is not None:
            bar.close()
    for k, out, trace in results:
        lo, hi = batches[k]
        styled01[lo:hi] = out[:, 0].numpy()
        traces[k] = trace
    if match_style_stats:
        styled = match_mean_std(styled01, style_arr)
    else:
        lo_c, hi_c = float(content_arr.min()), float(content_arr.max())
        styled = (styled01 * (hi_c - lo_c) + lo_c).astype(np.float32)
    config = {
        "style_model": model0.name,
        "weights": None if weights is None else str(weights),
        "iterations": iterations,
        "lr": float(lr),
        "ema_decay": float(ema_decay),
        "content_weight": float(content_weight),
        "style_weight": float(style_weight),
        "content_layers": c_layers,
        "style_layers": s_layers,
        "style_weights": [sw[k] for k in s_layers],
        "scales": [list(s) for s in sizes],
        "batch_size": batch_size,
        "devices": [str(d) for d in devices],
        "seed": seed,
        "match_style_stats": match_style_stats,
        "n_tilts": n,
        "shape": [h, w],
    }
    return TransferResult(styled=styled, trace=[r for k in sorted(traces) for r in traces[k]], config=config)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file in the same directory, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_trace(path: str | Path, result: TransferResult) -> Path:
    """Write the resolved settings and the loss trace of `result` as JSON (atomically)."""
    return atomic_write_text(path, json.dumps({"config": result.config, "trace": result.trace}, indent=1))
