"""Evaluation: how close a simulated tilt series is to a measured one, and how well particles
can be found in its reconstruction.

- :func:`radial_power_spectrum`, :func:`tilt_statistics`, :func:`gram_statistics` and
  :func:`compare_tilt_series`: statistics of a simulated tilt series against a measured one.
- :func:`normalized_cross_correlation`, :func:`locate_particles`: template matching on a
  reconstruction with the phantom's templates; :func:`f1_score` scores detections against the
  particle list (one-to-one matching within a distance).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.fft import irfftn, next_fast_len, rfftn
from scipy.optimize import linear_sum_assignment

__all__ = [
    "Detection",
    "compare_tilt_series",
    "f1_score",
    "gram_statistics",
    "locate_particles",
    "normalized_cross_correlation",
    "radial_power_spectrum",
    "tilt_statistics",
]


def _as_stack(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or min(arr.shape) == 0:
        raise ValueError(f"{name}: shape {np.shape(x)} is not accepted; accepted: an image (h, w) or a tilt series (n, h, w)")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: holds non-finite values; accepted: finite data")
    return arr


def radial_power_spectrum(images: np.ndarray, n_bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum, averaged over the tilts of a stack.

    The power of an image ``x`` (mean removed) is ``|FFT2(x)|**2 / (h * w)``, so that by
    Parseval's theorem its mean over all frequencies is the variance of ``x`` (white noise
    of variance ``s**2`` has a flat spectrum at ``s**2``). Frequencies (cycles per pixel)
    are binned by their radius in bins of width ``1 / min(h, w)``.

    Parameters
    ----------
    images : numpy.ndarray
        ``(h, w)`` or ``(n, h, w)``.
    n_bins : int, optional
        Number of radial bins (default ``min(h, w) // 2``, up to the Nyquist frequency 0.5).

    Returns
    -------
    tuple of numpy.ndarray
        ``(frequency, power)``: bin centres in cycles per pixel and mean power per bin.
    """
    stack = _as_stack(images, "images")
    n, h, w = stack.shape
    side = min(h, w)
    if n_bins is None:
        n_bins = side // 2
    if not (isinstance(n_bins, int) and n_bins >= 1):
        raise ValueError(f"n_bins: {n_bins!r} is not accepted; accepted: a positive integer")
    centred = stack - stack.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fft2(centred)) ** 2).mean(axis=0) / (h * w)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    radius = np.sqrt(fy**2 + fx**2)
    width = 0.5 / n_bins
    index = np.floor(radius / width + 0.5).astype(int)  # bin k holds radii in [(k - 1/2), (k + 1/2)) * width
    keep = (index >= 1) & (index <= n_bins)
    sums = np.bincount(index[keep], weights=power[keep], minlength=n_bins + 1)[1:]
    counts = np.bincount(index[keep], minlength=n_bins + 1)[1:]
    freq = np.arange(1, n_bins + 1) * width
    with np.errstate(invalid="ignore", divide="ignore"):
        spectrum = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return freq, spectrum


def tilt_statistics(series: np.ndarray) -> dict[str, np.ndarray]:
    """Per-tilt mean and standard deviation of a tilt series ``(n, h, w)``."""
    stack = _as_stack(series, "series")
    return {"mean": stack.mean(axis=(1, 2)), "std": stack.std(axis=(1, 2))}


def gram_statistics(
    simulated: np.ndarray,
    measured: np.ndarray,
    *,
    style_model: Any = "weight-free",
    layers: Iterable[str] | None = None,
    seed: int = 0,
    max_tilts: int | None = 8,
) -> dict[str, float]:
    """Relative Gram-matrix distance per layer of a style model between two tilt series.

    For each layer, the mean over tilts (paired by index, each stack min-max scaled) of
    ``||G(sim) - G(meas)||_F / ||G(meas)||_F``.

    Parameters
    ----------
    simulated, measured : numpy.ndarray
        Tilt series with the same number of tilts.
    style_model : str or StyleModel
        See :func:`faket.style.make_style_model`.
    layers : iterable of str, optional
        Layers (default: the model's style layers).
    seed : int
        Seed of random weights or filters.
    max_tilts : int, optional
        Use this many tilts, evenly spaced (all with ``None``).
    """
    import torch

    from faket.style import make_style_model
    from faket.transfer import check_tilt_series, gram_matrix, minmax_scale

    sim = check_tilt_series(simulated, "simulated")
    meas = check_tilt_series(measured, "measured")
    if sim.shape[0] != meas.shape[0]:
        raise ValueError(f"measured: {meas.shape[0]} tilts but simulated has {sim.shape[0]}; accepted: equal tilt counts")
    model = make_style_model(style_model, seed=seed)
    names = model.check_layers(layers if layers is not None else model.default_style_layers, "layers")
    idx = np.arange(sim.shape[0])
    if max_tilts is not None and sim.shape[0] > max_tilts:
        idx = np.unique(np.linspace(0, sim.shape[0] - 1, max_tilts).round().astype(int))
    a = torch.from_numpy(minmax_scale(sim)[idx])[:, None]
    b = torch.from_numpy(minmax_scale(meas)[idx])[:, None]
    if b.shape[-2:] != a.shape[-2:]:
        b = torch.nn.functional.interpolate(b, size=a.shape[-2:], mode="bicubic", align_corners=False)
    out: dict[str, float] = {}
    with torch.no_grad():
        fa, fb = model(a, names), model(b, names)
        for name in names:
            ga, gb = gram_matrix(fa[name]), gram_matrix(fb[name])
            rel = (ga - gb).flatten(1).norm(dim=1) / gb.flatten(1).norm(dim=1).clamp_min(1e-12)
            out[name] = float(rel.mean())
    return out


def compare_tilt_series(
    simulated: np.ndarray,
    measured: np.ndarray,
    *,
    style_model: Any = "weight-free",
    seed: int = 0,
) -> dict[str, Any]:
    """Statistics comparing a simulated tilt series with a measured one.

    Returns
    -------
    dict
        ``spectrum_log_rmse``: RMS difference of the log10 radial power spectra (each stack
        standardised first, so only the shape of the spectrum counts); ``mean_abs_diff`` and
        ``std_rel_diff``: mean over tilts of ``|mean_sim - mean_meas|`` and
        ``|std_sim / std_meas - 1|``; ``gram``: :func:`gram_statistics` per layer;
        ``gram_mean``: their mean; ``frequency``, ``spectrum_simulated``,
        ``spectrum_measured``, ``tilt_mean_*``, ``tilt_std_*``: the curves.
    """
    sim = _as_stack(simulated, "simulated")
    meas = _as_stack(measured, "measured")
    if sim.shape[0] != meas.shape[0]:
        raise ValueError(f"measured: {meas.shape[0]} tilts but simulated has {sim.shape[0]}; accepted: equal tilt counts")
    n_bins = min(min(sim.shape[1:]), min(meas.shape[1:])) // 2

    def standardised(x: np.ndarray) -> np.ndarray:
        return (x - x.mean()) / max(x.std(), 1e-12)

    f, ps = radial_power_spectrum(standardised(sim), n_bins)
    _, pm = radial_power_spectrum(standardised(meas), n_bins)
    ok = np.isfinite(ps) & np.isfinite(pm) & (ps > 0) & (pm > 0)
    log_rmse = float(np.sqrt(np.mean((np.log10(ps[ok]) - np.log10(pm[ok])) ** 2))) if ok.any() else math.nan
    ts, tm = tilt_statistics(sim), tilt_statistics(meas)
    gram = gram_statistics(sim, meas, style_model=style_model, seed=seed)
    return {
        "spectrum_log_rmse": log_rmse,
        "mean_abs_diff": float(np.mean(np.abs(ts["mean"] - tm["mean"]))),
        "std_rel_diff": float(np.mean(np.abs(ts["std"] / np.maximum(tm["std"], 1e-12) - 1))),
        "gram": gram,
        "gram_mean": float(np.mean(list(gram.values()))),
        "frequency": f.tolist(),
        "spectrum_simulated": ps.tolist(),
        "spectrum_measured": pm.tolist(),
        "tilt_mean_simulated": ts["mean"].tolist(),
        "tilt_mean_measured": tm["mean"].tolist(),
        "tilt_std_simulated": ts["std"].tolist(),
        "tilt_std_measured": tm["std"].tolist(),
    }


def normalized_cross_correlation(volume: np.ndarray, template: np.ndarray, *, mask: np.ndarray | None = None) -> np.ndarray:
    """Normalised cross-correlation of `template` at every position of `volume` (2-D or 3-D).

    ``ncc[p] = sum((v - mean_v) * (t - mean_t)) / sqrt(sum((v - mean_v)**2) * sum((t - mean_t)**2))``
    over the template's support placed with its centre (index ``shape // 2``) at ``p``;
    positions where the template reaches past the border see zeros there. Computed with FFTs.

    Parameters
    ----------
    volume : numpy.ndarray
        Image or volume.
    template : numpy.ndarray
        Same number of dimensions, no larger than `volume`.
    mask : numpy.ndarray, optional
        Boolean support inside the template's box (default: the whole box).

    Returns
    -------
    numpy.ndarray
        Same shape as `volume`, values in [-1, 1] (0 where the volume is constant under the template).
    """
    v = np.asarray(volume, dtype=np.float64)
    t = np.asarray(template, dtype=np.float64)
    if v.ndim not in (2, 3) or t.ndim != v.ndim or any(ts > vs for ts, vs in zip(t.shape, v.shape)) or t.size == 0:
        raise ValueError(
            f"template: shape {t.shape} with volume {v.shape} is not accepted; accepted: 2-D or 3-D, same dimensions, "
            "template no larger than the volume"
        )
    if not (np.isfinite(v).all() and np.isfinite(t).all()):
        raise ValueError("volume/template: non-finite values; accepted: finite data")
    m = np.ones(t.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if m.shape != t.shape or not m.any():
        raise ValueError(f"mask: shape {m.shape} or empty support is not accepted; accepted: a boolean array of the template's shape")
    n = float(m.sum())
    t0 = np.where(m, t - t[m].mean(), 0.0)
    tnorm = math.sqrt(float((t0**2).sum()))
    if tnorm == 0:
        raise ValueError("template: constant on its support; accepted: a template with contrast")
    shape = [next_fast_len(vs + ts - 1) for vs, ts in zip(v.shape, t.shape)]
    axes = tuple(range(v.ndim))
    fv = rfftn(v, shape, axes=axes)
    fv2 = rfftn(v * v, shape, axes=axes)

    def correlate(kernel: np.ndarray, fimg: np.ndarray) -> np.ndarray:
        # full correlation via convolution with the flipped kernel, then the "same" crop centred on the template centre
        k = kernel[tuple(slice(None, None, -1) for _ in axes)]
        full = irfftn(fimg * rfftn(k, shape, axes=axes), shape, axes=axes)
        start = [ts - 1 - ts // 2 for ts in t.shape]
        return full[tuple(slice(s, s + vs) for s, vs in zip(start, v.shape))]

    num = correlate(t0, fv)
    mf = m.astype(np.float64)
    s1 = correlate(mf, fv)
    s2 = correlate(mf, fv2)
    var = np.maximum(s2 - s1 * s1 / n, 0.0)
    denom = np.sqrt(var) * tnorm
    scale = max(float(np.abs(v).max()), 1e-300) ** 2 * n
    ok = var > 1e-10 * scale
    out = np.zeros(v.shape)
    out[ok] = num[ok] / denom[ok]
    return np.clip(out, -1.0, 1.0)


@dataclass
class Detection:
    """A located particle: class name, position in voxels (x, y, z) and score."""

    cls: str
    x: float
    y: float
    z: float
    score: float = 1.0


def locate_particles(
    volume: np.ndarray,
    templates: Mapping[str, np.ndarray],
    *,
    threshold: float = 0.3,
    min_distance: int | None = None,
    max_particles: int | None = None,
    margin: int = 0,
) -> list[Detection]:
    """Find particles in a reconstruction by NCC template matching with one template per class.

    Every position takes the class with the highest NCC; peaks are local maxima of that
    score within `min_distance` voxels (default: half the smallest template size) that reach
    `threshold`, strongest first.

    Parameters
    ----------
    volume : numpy.ndarray
        Reconstruction ``(z, y, x)``.
    templates : mapping
        Class name -> template ``(z, y, x)`` (with the same contrast as the volume's particles).
    threshold : float
        Minimum NCC of a detection.
    min_distance : int, optional
        Non-maximum suppression radius (a cube of side ``2 * min_distance + 1``).
    max_particles : int, optional
        Keep at most this many detections.
    margin : int
        Ignore peaks closer than this to the border.

    Returns
    -------
    list of Detection
        Positions in voxel coordinates ``x`` (last axis), ``y``, ``z`` (first axis).
    """
    vol = np.asarray(volume, dtype=np.float64)
    if vol.ndim != 3:
        raise ValueError(f"volume: shape {vol.shape} is not accepted; accepted: a 3-D volume (z, y, x)")
    if not templates:
        raise ValueError("templates: empty; accepted: a mapping class name -> 3-D template")
    names = list(templates)
    scores = np.stack([normalized_cross_correlation(vol, np.asarray(templates[k])) for k in names])
    best = scores.argmax(axis=0)
    score = scores.max(axis=0)
    if min_distance is None:
        min_distance = max(1, min(min(np.shape(t)) for t in templates.values()) // 2)
    peaks = (score == ndimage.maximum_filter(score, size=2 * int(min_distance) + 1, mode="constant", cval=-np.inf)) & (score >= threshold)
    if margin > 0:
        inner = np.zeros_like(peaks)
        inner[margin:-margin, margin:-margin, margin:-margin] = True
        peaks &= inner
    zz, yy, xx = np.nonzero(peaks)
    order = np.argsort(-score[zz, yy, xx], kind="stable")
    if max_particles is not None:
        order = order[:max_particles]
    return [Detection(names[best[zz[i], yy[i], xx[i]]], float(xx[i]), float(yy[i]), float(zz[i]), float(score[zz[i], yy[i], xx[i]])) for i in order]


def f1_score(
    detections: Iterable[Any],
    particles: Iterable[Any],
    *,
    tolerance: float,
    match_class: bool = True,
) -> dict[str, float]:
    """Precision, recall and F1 of detections against a particle list.

    A detection and a particle match when they are at most `tolerance` voxels apart (and of
    the same class with `match_class`); the matching is one-to-one and maximises the number
    of matches (then minimises the total distance), by the Hungarian algorithm.

    Parameters
    ----------
    detections, particles : iterables
        Objects with attributes ``cls``, ``x``, ``y``, ``z`` (e.g. :class:`Detection`,
        ``faket.tilts.Particle``).
    tolerance : float
        Largest matching distance in voxels.
    match_class : bool
        Require equal classes.

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn``, ``precision``, ``recall``, ``f1`` (0 when undefined).
    """
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance: {tolerance!r} is not accepted; accepted: a finite number >= 0")
    det = list(detections)
    par = list(particles)
    tp = 0
    if det and par:
        a = np.array([[d.x, d.y, d.z] for d in det], dtype=np.float64)
        b = np.array([[p.x, p.y, p.z] for p in par], dtype=np.float64)
        dist = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
        allowed = dist <= tolerance
        if match_class:
            allowed &= np.array([[str(d.cls) == str(p.cls) for p in par] for d in det])
        # maximise matches first, total distance second
        big = 1.0 + float(dist[allowed].sum()) if allowed.any() else 1.0
        cost = np.where(allowed, dist - big, 0.0)
        rows, cols = linear_sum_assignment(cost)
        tp = int(allowed[rows, cols].sum())
    fp, fn = len(det) - tp, len(par) - tp
    precision = tp / len(det) if det else 0.0
    recall = tp / len(par) if par else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) > 0 else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}
