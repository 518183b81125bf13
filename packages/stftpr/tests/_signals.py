"""Test signals generated on the fly (imported by the tests as `_signals`)."""

import numpy as np


def gauss_chirp(L: int, f0: float, f1: float, *, complex_: bool = False, width: float = 6.0) -> np.ndarray:
    """Linear chirp from f0 to f1 (cycles per sample) under a Gaussian envelope well inside [0, L)."""
    n = np.arange(L)
    phase = 2 * np.pi * (f0 * n + (f1 - f0) / (2 * L) * n**2)
    env = np.exp(-np.pi * ((n - L / 2) / (L / width)) ** 2)
    return env * (np.exp(1j * phase) if complex_ else np.cos(phase))


def harmonic_signal(L: int, seed: int = 0) -> np.ndarray:
    """A connected, speech-like test signal: harmonics of a gliding pitch under a smooth envelope."""
    rng = np.random.default_rng(seed)
    n = np.arange(L)
    f = 0.02 + 0.01 * np.sin(2 * np.pi * n / L)
    ph = 2 * np.pi * np.cumsum(f)
    x = sum(rng.uniform(0.3, 1.0) / k * np.cos(k * ph + rng.uniform(0, 2 * np.pi)) for k in range(1, 6))
    return x * np.hanning(L) ** 0.5


def gabor_atom(L: int, t0: float, f0: float, lam: float, theta: float = 0.0) -> np.ndarray:
    n = np.arange(L)
    return np.exp(-np.pi * (n - t0) ** 2 / lam) * np.cos(2 * np.pi * f0 * n + theta)


def fm_tone(L: int, theta: float = 0.3) -> np.ndarray:
    """A connected test signal: one tone with slow vibrato under a Gaussian envelope."""
    n = np.arange(L)
    f = 0.08 + 0.03 * np.sin(2 * np.pi * 1.5 * n / L)
    return np.cos(2 * np.pi * np.cumsum(f) + theta) * np.exp(-np.pi * ((n - L / 2) / (L / 2.5)) ** 2)
