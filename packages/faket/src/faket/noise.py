"""Tilt-dependent noise model of measured tilt series (the NOISY and BASELINE modalities).

Per tilt ``i`` a measured projection is modelled from the clean projection of the same sample
as ``measured_i = scale_i * clean_i + offset_i + noise_i * e``, ``e`` white Gaussian noise
of unit variance. :meth:`NoiseModel.fit` estimates ``scale``, ``offset`` and ``noise`` per
tilt by least squares over the pixels of each clean/measured pair, together with the mean and
spread (standard deviation) of each measured tilt; it then smooths each of these five curves
over the tilt position by a polynomial of low degree, fitted to all pairs at once, so that
several tomograms (with the same or different numbers of tilts) are aggregated into one model.
Tilt positions are normalised to ``[-1, 1]`` (first to last image of a series), so a model
applies to series of any length.

Modalities: ``"noisy"`` evaluates the curves at each tilt (tilt-dependent); ``"baseline"``
uses their averages over the tilt range (tilt-independent). Moment matching rescales each tilt
to the mean and spread the model gives for it.

The names follow the two ways of adding noise of this model; they are not the data
modalities of the FakET paper's evaluation. There, NOISY is simple additive noise on the
projections (what ``apply(..., modality="noisy")`` makes), while BASELINE is the output of a
physics-based simulator (CTF and noise) approximating the microscope; the package's
ablation (``benchmarks/bench_ablation.py``) builds that BASELINE from
:func:`faket.simulate.apply_ctf` followed by a NoiseModel, not from ``modality="baseline"``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faket._io import atomic_write, check_output_path

__all__ = ["NoiseModel", "PARAMETERS", "MODALITIES", "estimate_tilt_parameters", "match_moments", "tilt_positions"]

#: The per-tilt parameters of the model.
PARAMETERS = ("scale", "offset", "noise", "mean", "std")
#: Modalities of :meth:`NoiseModel.apply`.
MODALITIES = ("noisy", "baseline")
_FORMAT = "faket-noise-model"


def tilt_positions(n_tilts: int) -> np.ndarray:
    """Normalised tilt positions: ``n_tilts`` points evenly from -1 to 1 (0 for one tilt)."""
    if n_tilts == 1:
        return np.zeros(1)
    return np.linspace(-1.0, 1.0, n_tilts)


def _check_series(s: object, name: str) -> np.ndarray:
    a = np.asarray(s)
    if a.ndim != 3 or min(a.shape) == 0:
        raise ValueError(f"{name}: expected a non-empty tilt series (n_tilts, height, width), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return a


def estimate_tilt_parameters(clean: np.ndarray, measured: np.ndarray) -> dict[str, np.ndarray]:
    """Per-tilt estimates of ``scale``, ``offset``, ``noise``, ``mean`` and ``std``.

    Parameters
    ----------
    clean, measured : numpy.ndarray
        Tilt series ``(n_tilts, height, width)`` of the same sample and geometry.

    Returns
    -------
    dict
        One array of length ``n_tilts`` per name in :data:`PARAMETERS`.
    """
    c = _check_series(clean, "clean")
    m = _check_series(measured, "measured")
    if c.shape != m.shape:
        raise ValueError(f"clean and measured: shapes {c.shape} and {m.shape} differ; pairs must have the same shape")
    n = c.shape[0]
    cf, mf = c.reshape(n, -1), m.reshape(n, -1)
    cm, mm = cf.mean(axis=1), mf.mean(axis=1)
    cc, mc = cf - cm[:, None], mf - mm[:, None]
    var_c = (cc**2).mean(axis=1)
    if np.any(var_c <= 0):
        i = int(np.flatnonzero(var_c <= 0)[0])
        raise ValueError(f"clean: tilt {i} is constant; the scale of the clean signal cannot be estimated")
    scale = (cc * mc).mean(axis=1) / var_c
    offset = mm - scale * cm
    resid = mc - scale[:, None] * cc
    dof = max(cf.shape[1] - 2, 1)
    noise = np.sqrt((resid**2).sum(axis=1) / dof)
    return {"scale": scale, "offset": offset, "noise": noise, "mean": mm, "std": mf.std(axis=1)}


def match_moments(series: np.ndarray, means: Sequence[float] | np.ndarray, stds: Sequence[float] | np.ndarray) -> np.ndarray:
    """Shift and scale each tilt of ``series`` to the given mean and standard deviation."""
    s = _check_series(series, "series")
    mu = np.broadcast_to(np.asarray(means, dtype=np.float64), (s.shape[0],))
    sd = np.broadcast_to(np.asarray(stds, dtype=np.float64), (s.shape[0],))
    if np.any(sd < 0):
        raise ValueError("stds: standard deviations must be non-negative")
    flat = s.reshape(s.shape[0], -1)
    cur_sd = flat.std(axis=1)
    z = (flat - flat.mean(axis=1, keepdims=True)) / np.where(cur_sd > 0, cur_sd, 1.0)[:, None]
    return (z * sd[:, None] + mu[:, None]).reshape(s.shape).astype(np.float32)


@dataclass
class NoiseModel:
    """Polynomial curves (over normalised tilt position) of the per-tilt noise parameters.

    Attributes
    ----------
    coefficients : dict
        For each name in :data:`PARAMETERS`, polynomial coefficients (highest degree first, as
        :func:`numpy.polyval` takes them) over the tilt position in ``[-1, 1]``.
    degree : int
        Degree of the polynomials.
    per_tilt : list of dict
        The raw per-tilt estimates of each fitted pair (for inspection and plots).
    """

    coefficients: dict[str, list[float]]
    degree: int
    per_tilt: list[dict[str, list[float]]] = field(default_factory=list)

    @classmethod
    def fit(cls, clean_series_list: Sequence[np.ndarray], measured_series_list: Sequence[np.ndarray], degree: int = 3) -> NoiseModel:
        """Fit the model to pairs of clean projections and measured tilt series.

        Parameters
        ----------
        clean_series_list, measured_series_list : sequence of numpy.ndarray
            Paired tilt series ``(n_tilts, height, width)``; pairs may differ in size.
        degree : int
            Degree of the smoothing polynomials (0 to 8; at most the number of tilts - 1).

        Returns
        -------
        NoiseModel
        """
        if isinstance(clean_series_list, np.ndarray) and clean_series_list.ndim == 3:
            clean_series_list = [clean_series_list]
        if isinstance(measured_series_list, np.ndarray) and measured_series_list.ndim == 3:
            measured_series_list = [measured_series_list]
        if len(clean_series_list) != len(measured_series_list) or not clean_series_list:
            raise ValueError(
                f"clean_series_list and measured_series_list: {len(clean_series_list)} and {len(measured_series_list)} series; expected the same non-zero number"
            )
        if int(degree) != degree or not 0 <= degree <= 8:
            raise ValueError(f"degree={degree!r}: expected an integer from 0 to 8")
        estimates = [estimate_tilt_parameters(c, m) for c, m in zip(clean_series_list, measured_series_list, strict=True)]
        t = np.concatenate([tilt_positions(e["scale"].size) for e in estimates])
        if np.unique(t).size <= degree:
            raise ValueError(f"degree={degree}: needs more than {degree} distinct tilts, got {np.unique(t).size}")
        coefs = {}
        for name in PARAMETERS:
            y = np.concatenate([e[name] for e in estimates])
            coefs[name] = np.polyfit(t, y, int(degree)).tolist()
        return cls(coefficients=coefs, degree=int(degree), per_tilt=[{k: v.tolist() for k, v in e.items()} for e in estimates])

    def parameters(self, n_tilts: int, modality: str = "noisy") -> dict[str, np.ndarray]:
        """The parameters for each of ``n_tilts`` tilts (noise and std clipped at zero)."""
        if modality not in MODALITIES:
            raise ValueError(f"modality={modality!r}: accepted modalities are {', '.join(MODALITIES)}")
        if int(n_tilts) != n_tilts or n_tilts < 1:
            raise ValueError(f"n_tilts={n_tilts!r}: expected a positive integer")
        t = tilt_positions(int(n_tilts))
        out = {}
        for name in PARAMETERS:
            p = np.asarray(self.coefficients[name], dtype=np.float64)
            if modality == "noisy":
                v = np.polyval(p, t)
            else:  # the mean of the curve over [-1, 1], the same for every tilt
                v = np.full(t.shape, np.polyval(np.polyint(p), 1.0) - np.polyval(np.polyint(p), -1.0)) / 2.0
            out[name] = np.maximum(v, 0.0) if name in ("noise", "std") else v
        return out

    def apply(self, clean_series: np.ndarray, *, modality: str = "noisy", seed: int = 0, moment_matching: bool = False) -> np.ndarray:
        """Simulate a measured tilt series from clean projections.

        Parameters
        ----------
        clean_series : numpy.ndarray
            Clean projections ``(n_tilts, height, width)`` on the scale of those the model was
            fitted to.
        modality : {"noisy", "baseline"}
            Tilt-dependent parameters (``"noisy"``) or their tilt averages (``"baseline"``).
        seed : int
            Seed of the Gaussian noise.
        moment_matching : bool
            Afterwards shift and scale each tilt to the model's mean and spread for it.

        Returns
        -------
        numpy.ndarray
            Float32 tilt series of the same shape.
        """
        c = _check_series(clean_series, "clean_series")
        p = self.parameters(c.shape[0], modality)
        rng = np.random.default_rng(seed)
        out = p["scale"][:, None, None] * c + p["offset"][:, None, None]
        out += p["noise"][:, None, None] * rng.standard_normal(c.shape)
        if moment_matching:
            return match_moments(out, p["mean"], p["std"])
        return out.astype(np.float32)

    def to_dict(self) -> dict:
        """JSON-ready representation."""
        return {"format": _FORMAT, "version": 1, "degree": self.degree, "coefficients": self.coefficients, "per_tilt": self.per_tilt}

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the model as JSON (atomically)."""
        out = check_output_path(path, overwrite=overwrite)
        text = json.dumps(self.to_dict(), indent=2)
        return atomic_write(out, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike) -> NoiseModel:
        """Read a model written by :meth:`save`.

        Raises
        ------
        ValueError
            If the file is not a faket noise model.
        """
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"path={str(p)!r}: no such noise model file")
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"path={str(p)!r} is not a JSON noise model ({exc})") from None
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ValueError(f"path={str(p)!r} is not a faket noise model (missing 'format': {_FORMAT!r})")
        try:
            degree = int(d["degree"])
            coefs = {k: [float(v) for v in d["coefficients"][k]] for k in PARAMETERS}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"path={str(p)!r}: malformed noise model ({exc!r})") from None
        if any(len(v) != degree + 1 for v in coefs.values()):
            raise ValueError(f"path={str(p)!r}: each parameter needs {degree + 1} coefficients for degree {degree}")
        return cls(coefficients=coefs, degree=degree, per_tilt=d.get("per_tilt", []))
