"""Metrics against closed forms."""

import numpy as np
import pytest
from _signals import fm_tone

from stftpr import STFT, align_per_island, snr, spectral_convergence


def test_snr_closed_forms(rng):
    x = rng.standard_normal(1000)
    e = rng.standard_normal(1000)
    e *= 0.1 * np.linalg.norm(x) / np.linalg.norm(e)
    assert snr(x, x + e, align="none") == pytest.approx(20.0)
    assert snr(x, -(x + e)) == pytest.approx(20.0)  # the sign of a real signal is free
    assert snr(x, -x, align="none") == pytest.approx(20 * np.log10(0.5))
    z = x + 1j * rng.standard_normal(1000)
    assert snr(z, np.exp(1.1j) * z) > 250  # a global phase is free for complex signals
    assert snr(z, np.exp(1.1j) * z, align="none") < 5
    # a real narrowband signal rotated in its analytic phase: not a sign flip, but the same magnitude
    y = fm_tone(4000)
    y_rot = fm_tone(4000, theta=0.3 + 1.0)
    assert snr(y, y_rot) < 5
    assert snr(y, y_rot, align="analytic") > 40
    with pytest.raises(ValueError, match="align"):
        snr(x, x, align="best")
    with pytest.raises(ValueError, match="same shape"):
        snr(x, x[:10])


def test_spectral_convergence_closed_form(rng):
    tf = STFT(64, 16)
    x = rng.standard_normal(500)
    s = np.abs(tf.forward(x))
    assert spectral_convergence(s, x, tf) < -280
    assert spectral_convergence(s, 1.1 * x, tf) == pytest.approx(20 * np.log10(0.1))
    assert spectral_convergence(s, 1.1 * tf.forward(x), tf) == pytest.approx(20 * np.log10(0.1))
    batch = spectral_convergence(np.stack([s, s]), np.stack([x, 0.5 * x]), tf)
    assert batch.shape == (2,) and batch[1] == pytest.approx(20 * np.log10(0.5))
    with pytest.raises(ValueError, match="frames"):
        spectral_convergence(s, x[:100], tf)


def test_align_per_island_recovers_island_phases(rng):
    c = rng.standard_normal((4, 6)) + 1j * rng.standard_normal((4, 6))
    labels = np.zeros((4, 6), dtype=int)
    labels[:2, :3] = 1
    labels[2:, 3:] = 2
    rot = np.where(labels == 1, np.exp(0.7j), np.where(labels == 2, np.exp(-2.0j), np.exp(0.1j)))
    np.testing.assert_allclose(align_per_island(c, c * rot, labels), c, atol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        align_per_island(c, c, labels[:2])
