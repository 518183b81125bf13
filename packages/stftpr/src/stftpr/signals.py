"""Synthetic test signals (seeded): a speech-like and a music-like signal, Gabor atoms, chirps.

They are made on the fly so that the demo, the tests and the benchmark need no data files.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps


def _check(duration: float, fs: int) -> int:
    if not (isinstance(duration, int | float) and np.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
    if isinstance(fs, bool) or not isinstance(fs, int | np.integer) or fs < 1000:
        raise ValueError(f"fs must be an integer sampling rate >= 1000 Hz, got {fs!r}")
    return int(round(duration * fs))


def speech_like(duration: float = 5.0, fs: int = 16000, seed: int = 0) -> np.ndarray:
    """A speech-like signal: voiced syllables and noise bursts.

    Voiced syllables are harmonics of a pitch that glides between 90 and 240 Hz, shaped by
    three moving formant resonances, with sharp onsets and smooth decays; between them,
    band-passed noise bursts stand in for fricatives. Peak amplitude 0.9.

    Parameters
    ----------
    duration
        Seconds.
    fs
        Sampling rate in Hz.
    seed
        Seed of every random choice.

    Returns
    -------
    numpy.ndarray
        The signal, ``round(duration * fs)`` samples.
    """
    n = _check(duration, fs)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = np.zeros(n)
    pos = 0.05
    while pos < duration - 0.1:
        syl = rng.uniform(0.15, 0.35)
        start, stop = int(pos * fs), min(int((pos + syl) * fs), n)
        ts = t[start:stop] - t[start]
        f0 = rng.uniform(100, 200) * (1 + rng.uniform(-0.25, 0.25) * ts / syl)
        phase = 2 * np.pi * np.cumsum(f0) / fs
        formants = np.array([rng.uniform(300, 800), rng.uniform(900, 2200), rng.uniform(2300, 3200)])
        drift = 1 + 0.15 * np.sin(2 * np.pi * ts / syl)[:, None] * rng.uniform(-1, 1, 3)[None, :]
        fk = formants[None, :] * drift
        seg = np.zeros(ts.size)
        for k in range(1, int(3800 / f0.max()) + 1):
            fh = k * f0
            gain = np.sum(1.0 / (1.0 + ((fh[:, None] - fk) / (0.12 * fk)) ** 2), axis=1)
            seg += gain / np.sqrt(k) * np.cos(k * phase)
        env = (1 - np.exp(-ts / 0.008)) * np.exp(-((ts / syl) ** 4) * 3)
        x[start:stop] += env * seg / max(np.abs(seg).max(), 1e-12)
        pos += syl
        if rng.random() < 0.5 and pos < duration - 0.1:  # a fricative-like noise burst
            blen = rng.uniform(0.04, 0.1)
            b0, b1 = int(pos * fs), min(int((pos + blen) * fs), n)
            lo = rng.uniform(2000, 4000)
            sos = sps.butter(4, [lo, min(lo + 2500, 0.45 * fs)], btype="band", fs=fs, output="sos")
            burst = sps.sosfilt(sos, rng.standard_normal(b1 - b0))
            benv = np.hanning(b1 - b0)
            x[b0:b1] += 0.4 * benv * burst / max(np.abs(burst).max(), 1e-12)
            pos += blen
        pos += rng.uniform(0.02, 0.08)
    return 0.9 * x / max(np.abs(x).max(), 1e-12)


def music_like(duration: float = 5.0, fs: int = 16000, seed: int = 0) -> np.ndarray:
    """A music-like signal: a chord progression with decaying partials, plus percussive transients.

    Parameters
    ----------
    duration
        Seconds.
    fs
        Sampling rate in Hz.
    seed
        Seed of every random choice.

    Returns
    -------
    numpy.ndarray
        The signal, ``round(duration * fs)`` samples, peak amplitude 0.9.
    """
    n = _check(duration, fs)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = np.zeros(n)
    chord_len = 0.5
    roots = [48, 53, 55, 50, 57, 52]
    for i, start_t in enumerate(np.arange(0.0, duration, chord_len)):
        start = int(start_t * fs)
        stop = min(int((start_t + chord_len * 1.4) * fs), n)
        ts = t[start:stop] - t[start]
        root = roots[i % len(roots)]
        for interval in (0, 4, 7, 12):
            f = 440.0 * 2 ** ((root + interval - 69) / 12)
            for k in range(1, 7):
                if k * f > 0.45 * fs:
                    break
                amp = rng.uniform(0.5, 1.0) / k**1.2
                x[start:stop] += amp * np.exp(-ts * (1.5 + 0.8 * k)) * np.sin(2 * np.pi * k * f * ts + rng.uniform(0, 2 * np.pi))
        x[start:stop] *= 1.0  # the chord
    for hit_t in np.arange(0.25, duration - 0.05, 0.25):
        start = int(hit_t * fs)
        ln = min(int(0.08 * fs), n - start)
        decay = np.exp(-np.arange(ln) / (0.012 * fs))
        if rng.random() < 0.5:  # a hi-hat like click
            sos = sps.butter(2, 3000, btype="high", fs=fs, output="sos")
            burst = sps.sosfilt(sos, rng.standard_normal(ln))
        else:  # a kick-like thump
            burst = np.sin(2 * np.pi * 60 * np.arange(ln) / fs * (1 + 2 * decay))
        x[start : start + ln] += 1.5 * decay * burst
    return 0.9 * x / max(np.abs(x).max(), 1e-12)


def gabor_atom(length: int, t0: float, f0: float, lam: float, phase: float = 0.0, *, real: bool = True) -> np.ndarray:
    """The Gabor atom ``exp(-pi (n - t0)^2 / lam) * exp(i (2 pi f0 n + phase))`` (real part if ``real``).

    Parameters
    ----------
    length
        Number of samples.
    t0
        Centre in samples.
    f0
        Frequency in cycles per sample.
    lam
        Gaussian width parameter in samples squared.
    phase
        Phase in radians.
    real
        Return the real part (a cosine atom).
    """
    n = np.arange(length)
    z = np.exp(-np.pi * (n - t0) ** 2 / lam) * np.exp(1j * (2 * np.pi * f0 * n + phase))
    return z.real if real else z


def two_atoms(length: int, lam: float, *, phase_gap: float = 2.0) -> np.ndarray:
    """Two well separated real Gabor atoms whose phases differ by ``phase_gap`` radians.

    At a quarter and three quarters of the signal, at 0.1 and 0.3 cycles per sample: their
    spectrogram is two islands, so the magnitude determines the signal only up to one phase
    per atom.
    """
    return gabor_atom(length, length / 4, 0.1, lam) + gabor_atom(length, 3 * length / 4, 0.3, lam, phase_gap)
