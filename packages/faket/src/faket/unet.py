"""A small 3-D U-Net for particle segmentation in reconstructions, at CPU scale.

The downstream test of the FakET paper: train a segmentation network on reconstructions of
one modality (e.g. FAKET-styled simulations) and test it on held-out reconstructions of
another (e.g. measured-like data). :func:`train_unet` trains on random patches,
:func:`predict_segmentation` labels a whole volume, :func:`segmentation_scores` gives Dice
per class and :func:`particles_from_labels` turns a label volume into particle detections
for :func:`faket.evaluate.f1_score`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import ndimage
from torch import nn
from torch.nn import functional as F

from faket.evaluate import Detection

__all__ = [
    "TrainedUNet",
    "UNet3D",
    "particles_from_labels",
    "predict_segmentation",
    "segmentation_scores",
    "train_unet",
]


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, padding=1),
        nn.GroupNorm(1, cout),
        nn.ReLU(inplace=True),
        nn.Conv3d(cout, cout, 3, padding=1),
        nn.GroupNorm(1, cout),
        nn.ReLU(inplace=True),
    )


class UNet3D(nn.Module):
    """3-D U-Net (Cicek et al. 2016) with `depth` poolings and `base` channels at the top.

    Parameters
    ----------
    n_classes : int
        Output classes (0 = background).
    base : int
        Channels of the first level (doubled per level).
    depth : int
        Number of down-sampling steps; input sides must be multiples of ``2**depth``
        (:func:`predict_segmentation` pads).
    """

    def __init__(self, n_classes: int, base: int = 8, depth: int = 2) -> None:
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes: {n_classes!r} is not accepted; accepted: >= 2 (background and a class)")
        self.n_classes, self.base, self.depth = n_classes, base, depth
        chans = [base * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_block(1, chans[0])] + [_block(chans[i - 1], chans[i]) for i in range(1, depth + 1)])
        self.up = nn.ModuleList([nn.ConvTranspose3d(chans[i], chans[i - 1], 2, stride=2) for i in range(depth, 0, -1)])
        self.dec = nn.ModuleList([_block(2 * chans[i - 1], chans[i - 1]) for i in range(depth, 0, -1)])
        self.head = nn.Conv3d(chans[0], n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(batch, n_classes, z, y, x)`` of ``(batch, 1, z, y, x)`` input."""
        skips = []
        for i, block in enumerate(self.down):
            if i > 0:
                x = F.max_pool3d(x, 2)
            x = block(x)
            skips.append(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips[:-1])):
            x = dec(torch.cat([up(x), skip], dim=1))
        return self.head(x)


@dataclass
class TrainedUNet:
    """A trained :class:`UNet3D` with its training history.

    Attributes
    ----------
    model : UNet3D
        The network (evaluation mode, on the CPU).
    history : list of dict
        ``step`` and ``loss`` per training step.
    config : dict
        The settings of :func:`train_unet`.
    """

    model: UNet3D
    history: list[dict[str, float]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def _standardise(volume: np.ndarray) -> np.ndarray:
    v = np.asarray(volume, dtype=np.float32)
    return (v - v.mean()) / max(float(v.std()), 1e-12)


def _check_pairs(volumes: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if len(volumes) == 0 or len(volumes) != len(masks):
        raise ValueError(f"volumes/masks: {len(volumes)} volumes and {len(masks)} masks; accepted: equally many, at least one")
    vs, ms = [], []
    for i, (v, m) in enumerate(zip(volumes, masks)):
        v = np.asarray(v)
        m = np.asarray(m)
        if v.ndim != 3 or v.shape != m.shape:
            raise ValueError(f"volumes[{i}]/masks[{i}]: shapes {v.shape} and {m.shape}; accepted: equal 3-D shapes")
        if not np.isfinite(v).all():
            raise ValueError(f"volumes[{i}]: non-finite values; accepted: finite data")
        if not np.issubdtype(m.dtype, np.integer) or m.min() < 0:
            raise ValueError(f"masks[{i}]: dtype {m.dtype}, minimum {m.min()}; accepted: non-negative integer labels")
        vs.append(_standardise(v))
        ms.append(m.astype(np.int64))
    return vs, ms


def train_unet(
    volumes: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    *,
    n_classes: int | None = None,
    steps: int = 200,
    patch: int = 32,
    batch_size: int = 4,
    lr: float = 3e-3,
    base: int = 8,
    depth: int = 2,
    seed: int = 0,
    device: str | None = None,
    foreground_fraction: float = 0.5,
    progress: bool = False,
) -> TrainedUNet:
    """Train a :class:`UNet3D` on random patches of labelled volumes.

    Each volume is standardised (zero mean, unit variance). The loss is cross-entropy with
    class weights ``1 / sqrt(frequency)`` (particles are rare) plus a soft Dice term of the
    foreground classes. Patches are flipped at random along each axis.

    Parameters
    ----------
    volumes : sequence of numpy.ndarray
        Reconstructions ``(z, y, x)``.
    masks : sequence of numpy.ndarray
        Integer labels of the same shapes (0 = background).
    n_classes : int, optional
        Default: largest label + 1.
    steps : int
        Optimiser steps (Adam).
    patch : int
        Cubic patch side (a multiple of ``2**depth``, at most the smallest volume side).
    batch_size : int
        Patches per step.
    lr : float
        Learning rate.
    base, depth : int
        Network size (see :class:`UNet3D`).
    seed : int
        Seed of the initialisation and the patch sampling.
    device : str, optional
        ``None``: a GPU when present, else the CPU.
    foreground_fraction : float
        Probability that a patch is placed around a random foreground voxel (else uniformly).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    TrainedUNet
    """
    vs, ms = _check_pairs(volumes, masks)
    k = int(max(int(m.max()) for m in ms) + 1) if n_classes is None else int(n_classes)
    k = max(k, 2)
    step = 2**depth
    if patch % step or patch > min(min(v.shape) for v in vs) or patch < step:
        raise ValueError(f"patch: {patch!r} is not accepted; accepted: a multiple of {step} no larger than the smallest volume side")
    if not (isinstance(steps, int) and steps >= 0 and isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"steps/batch_size: {steps!r}/{batch_size!r} are not accepted; accepted: integers >= 0 / >= 1")
    dev = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    counts = np.bincount(np.concatenate([m.ravel() for m in ms]), minlength=k)[:k].astype(np.float64)
    freq = np.maximum(counts / counts.sum(), 1e-6)
    cw = torch.tensor(1.0 / np.sqrt(freq), dtype=torch.float32)
    cw = (cw / cw.mean()).to(dev)
    if not 0.0 <= foreground_fraction <= 1.0:
        raise ValueError(f"foreground_fraction: {foreground_fraction!r} is not accepted; accepted: 0 <= value <= 1")
    foreground = [np.argwhere(m > 0) for m in ms]
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = UNet3D(k, base=base, depth=depth).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="U-Net training", unit="step")
    model.train()
    for it in range(steps):
        xs, ys = [], []
        for _ in range(batch_size):
            i = int(rng.integers(len(vs)))
            v, m = vs[i], ms[i]
            if foreground[i].shape[0] and rng.random() < foreground_fraction:
                # a patch around a random foreground voxel (particles are rare)
                centre = foreground[i][int(rng.integers(foreground[i].shape[0]))]
                o = [int(np.clip(c - patch // 2 + rng.integers(-patch // 4, patch // 4 + 1), 0, s - patch)) for c, s in zip(centre, v.shape)]
            else:
                o = [int(rng.integers(s - patch + 1)) for s in v.shape]
            sl = tuple(slice(a, a + patch) for a in o)
            pv, pm = v[sl], m[sl]
            for ax in range(3):
                if rng.random() < 0.5:
                    pv, pm = np.flip(pv, ax), np.flip(pm, ax)
            xs.append(np.ascontiguousarray(pv))
            ys.append(np.ascontiguousarray(pm))
        x = torch.from_numpy(np.stack(xs))[:, None].to(dev)
        y = torch.from_numpy(np.stack(ys)).to(dev)
        logits = model(x)
        ce = F.cross_entropy(logits, y, weight=cw)
        prob = logits.softmax(1)[:, 1:]
        onehot = F.one_hot(y, k).permute(0, 4, 1, 2, 3)[:, 1:].float()
        inter = (prob * onehot).sum((0, 2, 3, 4))
        dice = 1 - ((2 * inter + 1) / (prob.sum((0, 2, 3, 4)) + onehot.sum((0, 2, 3, 4)) + 1)).mean()
        loss = ce + dice
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append({"step": it + 1, "loss": float(loss.detach())})
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    model.eval()
    config = {"n_classes": k, "steps": steps, "patch": patch, "batch_size": batch_size, "lr": lr, "base": base, "depth": depth, "seed": seed, "foreground_fraction": foreground_fraction}
    return TrainedUNet(model.cpu(), history, config)


def predict_segmentation(trained: TrainedUNet | UNet3D, volume: np.ndarray, *, device: str | None = None) -> np.ndarray:
    """Label every voxel of `volume` (standardised first) with the most probable class."""
    model = trained.model if isinstance(trained, TrainedUNet) else trained
    v = np.asarray(volume)
    if v.ndim != 3 or not np.isfinite(v).all():
        raise ValueError(f"volume: shape {v.shape} (or non-finite values) is not accepted; accepted: a finite 3-D volume")
    step = 2**model.depth
    pads = [(0, (-s) % step) for s in v.shape]
    x = np.pad(_standardise(v), pads, mode="reflect" if all(p[1] < s for p, s in zip(pads, v.shape)) else "edge")
    dev = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    model = model.to(dev).eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(np.ascontiguousarray(x))[None, None].to(dev))
    model.cpu()
    labels = logits.argmax(1)[0].cpu().numpy()
    return labels[: v.shape[0], : v.shape[1], : v.shape[2]].astype(np.int64)


def segmentation_scores(pred: np.ndarray, truth: np.ndarray, n_classes: int | None = None) -> dict[str, Any]:
    """Dice coefficient per foreground class and their mean.

    ``dice_c = 2 |P_c & T_c| / (|P_c| + |T_c|)`` (1 when both are empty).
    """
    p, t = np.asarray(pred), np.asarray(truth)
    if p.shape != t.shape:
        raise ValueError(f"pred/truth: shapes {p.shape} and {t.shape}; accepted: equal shapes")
    k = int(max(p.max(), t.max()) + 1) if n_classes is None else int(n_classes)
    dice = {}
    for c in range(1, k):
        pc, tc = p == c, t == c
        denom = int(pc.sum() + tc.sum())
        dice[c] = 1.0 if denom == 0 else 2.0 * int((pc & tc).sum()) / denom
    return {"dice": dice, "mean_dice": float(np.mean(list(dice.values()))) if dice else math.nan}


def particles_from_labels(labels: np.ndarray, class_names: Sequence[str] | None = None, *, min_size: int = 1) -> list[Detection]:
    """Particles of a label volume: connected foreground components, their centroids and majority class.

    Parameters
    ----------
    labels : numpy.ndarray
        Integer labels ``(z, y, x)``, 0 = background.
    class_names : sequence of str, optional
        Name of label ``c`` is ``class_names[c - 1]`` (default: ``str(c)``).
    min_size : int
        Components with fewer voxels are dropped.
    """
    lab = np.asarray(labels)
    comp, n = ndimage.label(lab > 0)
    out = []
    for i, sl in enumerate(ndimage.find_objects(comp), start=1):
        if sl is None:
            continue
        region = comp[sl] == i
        size = int(region.sum())
        if size < min_size:
            continue
        cls_vals = lab[sl][region]
        c = int(np.bincount(cls_vals).argmax())
        zz, yy, xx = np.nonzero(region)
        name = class_names[c - 1] if class_names is not None and 0 < c <= len(class_names) else str(c)
        out.append(Detection(name, float(xx.mean() + sl[2].start), float(yy.mean() + sl[1].start), float(zz.mean() + sl[0].start), float(size)))
    return out
