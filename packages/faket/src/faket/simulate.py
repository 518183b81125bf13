"""End to end: a volume (or a phantom) and a style tilt series -> a styled tilt series and its
reconstruction, written to a run directory.

The pipeline of the FakET paper:

1. project the volume at the tilt angles (:func:`faket.projection.project`);
2. add noise: the NOISY modality (a fitted :class:`faket.noise.NoiseModel` when one is
   given, else white Gaussian noise at a signal-to-noise ratio, :func:`add_gaussian_noise`);
3. neural style transfer of every tilt from the style tilt series with the same tilt index
   (:func:`faket.transfer.style_transfer`), starting from the NOISY projections;
4. reconstruct (:func:`faket.reconstruction.fbp` or ``sirt``).

The run directory holds ``config.yaml`` (the resolved configuration), ``styled.mrc``,
``reconstruction.mrc``, ``angles.tlt``, ``trace.json`` (transfer losses), ``metrics.json``
(statistics of the styled series against the style series), preview PNGs (with matplotlib),
the phantom's particle list and class mask when a phantom was made, and, on request,
the intermediate ``projections.mrc`` and ``noisy.mrc``.

When no measured tilt series is at hand, :func:`measured_like` makes a stand-in from
projections: phase-contrast transfer function, coloured and white noise growing with the
tilt, and a tilt-dependent mean; it is a simulation, not a measurement.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from faket.transfer import (
    TransferResult,
    atomic_write_text,
    check_tilt_series,
    style_transfer,
    write_trace,
)

__all__ = [
    "PhantomSettings",
    "SimulateConfig",
    "TransferSettings",
    "add_gaussian_noise",
    "apply_ctf",
    "ctf_2d",
    "load_config",
    "measured_like",
    "simulate",
    "tilt_angles",
]


class TransferSettings(BaseModel):
    """Settings of the style transfer (see :func:`faket.transfer.style_transfer`)."""

    model_config = ConfigDict(extra="forbid")
    style_model: Literal["vgg19", "vgg19-random", "weight-free"] = "weight-free"
    weights: str | None = None
    iterations: int = Field(100, ge=0)
    lr: float = Field(0.15, gt=0)
    ema_decay: float = Field(0.99, ge=0, lt=1)
    content_weight: float = Field(0.1, ge=0)
    style_weight: float = Field(1.0, ge=0)
    content_layers: list[str] | None = None
    style_layers: list[str] | None = None
    style_weights: list[float] | None = None
    scales: int | list[int] | None = None
    batch_size: int = Field(4, ge=1)
    device: str | None = None
    seed: int = 0


class PhantomSettings(BaseModel):
    """Settings of the phantom made when no volume is given (see :func:`faket.phantom.make_phantom`)."""

    model_config = ConfigDict(extra="forbid")
    shape: tuple[int, int, int] = (32, 64, 64)
    n_particles: int = Field(8, ge=0)
    n_vesicles: int = Field(0, ge=0)
    n_fiducials: int = Field(2, ge=0)
    particle_radius: int = Field(5, ge=2)
    seed: int = 0


class SimulateConfig(BaseModel):
    """Configuration of :func:`simulate` (the YAML file of ``faket simulate --config``).

    Exactly one of ``volume`` (an MRC file, ``(z, y, x)``) and ``phantom`` is set. The style
    tilt series (an MRC stack) must have one tilt per angle; tilt ``i`` of the style styles
    tilt ``i`` of the simulation. Angles come from ``angles`` (a ``.tlt`` file) or
    ``tilt_range`` (start, stop, step in degrees, stop included).
    """

    model_config = ConfigDict(extra="forbid")
    volume: str | None = None
    phantom: PhantomSettings | None = None
    style: str
    angles: str | None = None
    tilt_range: tuple[float, float, float] = (-60.0, 60.0, 2.0)
    noise_model: str | None = None
    snr: float = Field(0.5, gt=0)
    transfer: TransferSettings = TransferSettings()
    reconstruction: Literal["fbp", "sirt"] = "fbp"
    thickness: int | None = Field(None, ge=1)
    save_intermediate: bool = False
    previews: bool = True
    seed: int = 0

    @model_validator(mode="after")
    def _one_source(self) -> SimulateConfig:
        if (self.volume is None) == (self.phantom is None):
            raise ValueError("give exactly one of 'volume' (an MRC file) and 'phantom' (phantom settings)")
        return self


def _pydantic_message(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        parts.append(f"{loc}: {err['msg']}")
    return f"{source}: " + "; ".join(parts)


def load_config(path: str | os.PathLike | None = None, **overrides: Any) -> SimulateConfig:
    """Read a YAML configuration (unknown keys rejected) and apply `overrides` on top.

    Nested overrides use dicts (``transfer={"iterations": 10}``); ``None`` values are ignored.
    Relative paths in the file are taken relative to the file's directory.

    Raises
    ------
    ValueError
        If the file is not a YAML mapping or a value is invalid (naming the key).
    """
    data: dict[str, Any] = {}
    source = "config"
    if path is not None:
        p = Path(path)
        source = str(p)
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"config: {source!r} is not valid YAML ({str(exc).splitlines()[0]})") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ValueError(f"config: {source!r} holds a {type(loaded).__name__}; accepted: a YAML mapping")
        data = loaded
        for key in ("volume", "style", "angles", "noise_model"):
            if isinstance(data.get(key), str) and not Path(data[key]).is_absolute():
                data[key] = str(p.parent / data[key])
        tr = data.get("transfer")
        if isinstance(tr, dict) and isinstance(tr.get("weights"), str) and not Path(tr["weights"]).is_absolute():
            tr["weights"] = str(p.parent / tr["weights"])
    for key, value in overrides.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **{k: v for k, v in value.items() if v is not None}}
        elif isinstance(value, dict):
            data[key] = {k: v for k, v in value.items() if v is not None}
        else:
            data[key] = value
    try:
        return SimulateConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(_pydantic_message(exc, source)) from None


def tilt_angles(start: float, stop: float, step: float) -> np.ndarray:
    """Angles ``start, start + step, ..., stop`` (stop included when reached) in degrees."""
    if not (step > 0 and stop >= start and -90 <= start and stop <= 90):
        raise ValueError(f"tilt_range: ({start}, {stop}, {step}) is not accepted; accepted: -90 <= start <= stop <= 90, step > 0")
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    return (start + step * np.arange(n)).astype(np.float64)


def add_gaussian_noise(clean: np.ndarray, snr: float, *, seed: int = 0) -> np.ndarray:
    """NOISY projections: `clean` plus white Gaussian noise of variance ``var(clean) / snr``."""
    clean = check_tilt_series(clean, "clean")
    if not (math.isfinite(snr) and snr > 0):
        raise ValueError(f"snr: {snr!r} is not accepted; accepted: a finite positive number")
    rng = np.random.default_rng(seed)
    sigma = float(clean.std()) / math.sqrt(snr)
    return (clean + rng.normal(0.0, sigma, clean.shape)).astype(np.float32)


def ctf_2d(shape: tuple[int, int], *, defocus: float = 40.0, amplitude_contrast: float = 0.07, b_factor: float = 30.0) -> np.ndarray:
    """The contrast transfer function on the FFT grid of an image of `shape` ``(h, w)``.

    ``-(sqrt(1 - A**2) sin(chi) + A cos(chi)) * exp(-b_factor * k**2)`` with
    ``chi = pi * defocus * k**2`` and ``k`` the spatial frequency in cycles per pixel (the
    layout of :func:`numpy.fft.fftfreq`, zero frequency first).

    Parameters
    ----------
    shape : tuple of int
        Image height and width.
    defocus : float
        Defocus term (pixels squared); larger moves the first zero to lower frequencies.
    amplitude_contrast : float
        Amplitude contrast fraction ``A`` in [0, 1].
    b_factor : float
        Envelope decay (>= 0).
    """
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape: {tuple(shape)!r} is not accepted; accepted: (height, width), both >= 1")
    if not (math.isfinite(defocus) and math.isfinite(b_factor) and b_factor >= 0):
        raise ValueError(f"defocus/b_factor: {defocus!r}/{b_factor!r} are not accepted; accepted: finite numbers, b_factor >= 0")
    if not 0.0 <= amplitude_contrast <= 1.0:
        raise ValueError(f"amplitude_contrast: {amplitude_contrast!r} is not accepted; accepted: a fraction in [0, 1]")
    ky = np.fft.fftfreq(int(shape[0]))[:, None]
    kx = np.fft.fftfreq(int(shape[1]))[None, :]
    k2 = ky**2 + kx**2
    chi = math.pi * defocus * k2
    a = amplitude_contrast
    return -(math.sqrt(1 - a * a) * np.sin(chi) + a * np.cos(chi)) * np.exp(-b_factor * k2)


def apply_ctf(clean: np.ndarray, *, defocus: float = 40.0, amplitude_contrast: float = 0.07, b_factor: float = 30.0) -> np.ndarray:
    """Filter every tilt of `clean` (mean removed per tilt) with the CTF of :func:`ctf_2d`.

    This is the deterministic imaging part of :func:`measured_like` (no noise, no offset).

    Returns
    -------
    numpy.ndarray
        Float32 tilt series of the same shape.
    """
    return _ctf_filtered(check_tilt_series(clean, "clean"), defocus, amplitude_contrast, b_factor).astype(np.float32)


def _ctf_filtered(clean: np.ndarray, defocus: float, amplitude_contrast: float, b_factor: float) -> np.ndarray:
    ctf = ctf_2d(clean.shape[1:], defocus=defocus, amplitude_contrast=amplitude_contrast, b_factor=b_factor)
    return np.real(np.fft.ifft2(np.fft.fft2(clean - clean.mean(axis=(1, 2), keepdims=True)) * ctf))


def measured_like(
    clean: np.ndarray,
    angles: np.ndarray,
    *,
    defocus: float = 40.0,
    amplitude_contrast: float = 0.07,
    b_factor: float = 30.0,
    snr: float = 0.1,
    colour: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """A measured-like tilt series made from clean projections (a stand-in, not a measurement).

    Per tilt: the contrast transfer function ``-(sqrt(1 - A**2) sin(chi) + A cos(chi))``
    with ``chi = pi * defocus * k**2`` (``k`` in cycles per pixel) and an envelope
    ``exp(-b_factor * k**2)``; then noise whose variance grows as ``1 / cos(tilt)`` (longer
    path through the specimen), a mix of white and low-pass (coloured) noise; and a mean that
    falls with ``cos(tilt)``, as the transmitted intensity does.

    Parameters
    ----------
    clean : numpy.ndarray
        Projections ``(n, h, w)`` (line integrals of the density).
    angles : numpy.ndarray
        Tilt angles in degrees, one per projection.
    defocus : float
        Defocus term (pixels squared); larger moves the first CTF zero to lower frequencies.
    amplitude_contrast : float
        Amplitude contrast fraction ``A``.
    b_factor : float
        Envelope decay.
    snr : float
        Signal-to-noise ratio (variance) at tilt 0.
    colour : float
        Fraction of the noise variance that is low-pass (0: white).
    seed : int
        Seed of the noise.
    """
    clean = check_tilt_series(clean, "clean")
    ang = np.asarray(angles, dtype=np.float64)
    if ang.shape != (clean.shape[0],):
        raise ValueError(f"angles: {ang.shape[0] if ang.ndim == 1 else ang.shape} angles for {clean.shape[0]} tilts; accepted: one angle per tilt")
    if not (math.isfinite(snr) and snr > 0):
        raise ValueError(f"snr: {snr!r} is not accepted; accepted: a finite positive number")
    if not 0.0 <= colour <= 1.0:
        raise ValueError(f"colour: {colour!r} is not accepted; accepted: a fraction in [0, 1]")
    n, h, w = clean.shape
    ky = np.fft.fftfreq(h)[:, None]
    kx = np.fft.fftfreq(w)[None, :]
    k2 = ky**2 + kx**2
    imaged = _ctf_filtered(clean, defocus, amplitude_contrast, b_factor)
    rng = np.random.default_rng(seed)
    sig = float(imaged[np.argmin(np.abs(ang))].std()) or 1.0
    lowpass = np.exp(-k2 / (2 * 0.05**2))
    out = np.empty_like(imaged)
    for i, t in enumerate(ang):
        path = 1.0 / max(math.cos(math.radians(t)), 0.2)
        sigma = sig * math.sqrt(path / snr)
        white = rng.normal(size=(h, w))
        coloured = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(h, w))) * lowpass))
        coloured /= max(float(coloured.std()), 1e-12)
        noise = math.sqrt(1 - colour) * white + math.sqrt(colour) * coloured
        mean = 10.0 * sig * math.cos(math.radians(t))
        out[i] = imaged[i] + sigma * noise + mean
    return out.astype(np.float32)


def _save_previews(directory: Path, panels: list[tuple[str, np.ndarray]], name: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4))
    for ax, (title, img) in zip(np.atleast_1d(axes), panels):
        lo, hi = np.percentile(img, [1, 99])
        ax.imshow(img, cmap="gray", vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    path = directory / name
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def simulate(
    config: SimulateConfig | dict[str, Any],
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the simulation pipeline and write its run directory.

    Parameters
    ----------
    config : SimulateConfig or dict
        The configuration (a dict is validated, unknown keys rejected).
    out_dir : str or PathLike
        Run directory; built under a temporary name and renamed when complete. An existing
        non-empty directory is refused unless `overwrite`.
    overwrite : bool
        Replace the files of an existing run directory.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        ``out_dir``, ``files`` (paths written), ``metrics`` (see
        :func:`faket.evaluate.compare_tilt_series`, curves left out) and ``seconds``.
    """
    import time

    from faket.evaluate import compare_tilt_series
    from faket.mrc import read_mrc, write_mrc
    from faket.projection import project
    from faket.reconstruction import fbp, sirt
    from faket.tilts import read_tlt, write_tlt

    if not isinstance(config, SimulateConfig):
        try:
            config = SimulateConfig.model_validate(config)
        except ValidationError as exc:
            raise ValueError(_pydantic_message(exc, "config")) from None
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not overwrite)):
        raise FileExistsError(f"out_dir: {str(out)!r} exists and is not an empty directory; pass overwrite=True (CLI: --overwrite)")
    t0 = time.perf_counter()
    phantom = None
    if config.volume is not None:
        vol_file = read_mrc(config.volume)
        volume = np.asarray(vol_file.data, dtype=np.float32)
        voxel = float(vol_file.voxel_size[0]) if vol_file.voxel_size else 1.0
        if volume.ndim != 3:
            raise ValueError(f"volume: {config.volume!r} holds shape {volume.shape}; accepted: a 3-D volume (z, y, x)")
    else:
        from faket.phantom import make_phantom

        ps = config.phantom
        assert ps is not None
        phantom = make_phantom(
            tuple(ps.shape),
            n_particles=ps.n_particles,
            n_vesicles=ps.n_vesicles,
            n_fiducials=ps.n_fiducials,
            particle_radius=ps.particle_radius,
            seed=ps.seed,
        )
        volume = np.asarray(phantom.volume, dtype=np.float32)
        voxel = float(np.atleast_1d(phantom.voxel_size)[0]) if phantom.voxel_size is not None else 1.0
    if not np.isfinite(volume).all():
        raise ValueError("volume: holds non-finite values; accepted: finite data")
    angles = read_tlt(config.angles) if config.angles is not None else tilt_angles(*config.tilt_range)
    style = check_tilt_series(read_mrc(config.style).data, f"style ({config.style})")
    if style.shape[0] != len(angles):
        raise ValueError(
            f"style: {config.style!r} has {style.shape[0]} tilts but there are {len(angles)} angles; accepted: "
            "a style tilt series with one tilt per angle (paired by tilt index)"
        )
    tr = config.transfer
    clean = np.asarray(project(volume, angles), dtype=np.float32)
    if config.noise_model is not None:
        from faket.noise import NoiseModel

        noisy = np.asarray(NoiseModel.load(config.noise_model).apply(clean, modality="noisy", seed=config.seed), dtype=np.float32)
    else:
        noisy = add_gaussian_noise(clean, config.snr, seed=config.seed)
    result: TransferResult = style_transfer(
        noisy,
        style,
        style_model=tr.style_model,
        weights=tr.weights,
        iterations=tr.iterations,
        lr=tr.lr,
        ema_decay=tr.ema_decay,
        content_weight=tr.content_weight,
        style_weight=tr.style_weight,
        content_layers=tr.content_layers,
        style_layers=tr.style_layers,
        style_weights=tr.style_weights,
        scales=tr.scales,
        batch_size=tr.batch_size,
        device=tr.device,
        seed=tr.seed,
        progress=progress,
    )
    styled = result.styled
    thickness = config.thickness or volume.shape[0]
    if config.reconstruction == "fbp":
        recon = np.asarray(fbp(styled, angles, thickness=thickness), dtype=np.float32)
    else:
        recon = np.asarray(sirt(styled, angles, thickness=thickness), dtype=np.float32)
    # Gram statistics with other random filters than a weight-free transfer optimised
    metrics = compare_tilt_series(styled, style, style_model="weight-free", seed=tr.seed + 7919)
    metrics_small = {k: v for k, v in metrics.items() if not isinstance(v, list)}
    noisy_metrics = compare_tilt_series(noisy, style, style_model="weight-free", seed=tr.seed + 7919)
    metrics_small["noisy_vs_style"] = {k: v for k, v in noisy_metrics.items() if not isinstance(v, list)}

    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        names: list[str] = []

        def mrc(name: str, data: np.ndarray) -> None:
            write_mrc(tmp / name, data, voxel_size=voxel)
            names.append(name)

        resolved = config.model_dump(mode="json")
        resolved["resolved"] = {"n_tilts": int(len(angles)), "angles": [float(a) for a in angles], "transfer": result.config}
        atomic_write_text(tmp / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
        names.append("config.yaml")
        mrc("styled.mrc", styled)
        mrc("reconstruction.mrc", recon)
        write_tlt(tmp / "angles.tlt", angles)
        names.append("angles.tlt")
        write_trace(tmp / "trace.json", result)
        names.append("trace.json")
        atomic_write_text(tmp / "metrics.json", json.dumps(metrics_small, indent=1))
        names.append("metrics.json")
        if config.save_intermediate:
            mrc("projections.mrc", clean)
            mrc("noisy.mrc", noisy)
        if phantom is not None:
            from faket.tilts import write_particle_list

            write_particle_list(tmp / "particles.txt", list(phantom.particles))
            names.append("particles.txt")
            mrc("class_mask.mrc", np.asarray(phantom.class_mask, dtype=np.int16))
            mrc("volume.mrc", volume)
        if config.previews:
            mid = int(np.argmin(np.abs(angles)))
            p = _save_previews(
                tmp,
                [(f"NOISY (tilt {angles[mid]:g})", noisy[mid]), ("FAKET styled", styled[mid]), ("style", style[mid])],
                "preview_tilt.png",
            )
            if p is not None:
                names.append(p.name)
            p = _save_previews(tmp, [("reconstruction, central z slice", recon[recon.shape[0] // 2])], "preview_reconstruction.png")
            if p is not None:
                names.append(p.name)
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "out_dir": str(out),
        "files": [str(out / n) for n in names],
        "metrics": metrics_small,
        "seconds": time.perf_counter() - t0,
    }
