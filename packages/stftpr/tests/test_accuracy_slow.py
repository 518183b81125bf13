"""Longer accuracy runs on the benchmark signals (marked slow: not part of the default run)."""

import numpy as np
import pytest

from stftpr import STFT, reconstruct
from stftpr.signals import music_like, speech_like


@pytest.mark.slow
@pytest.mark.parametrize("make", [speech_like, music_like])
def test_pghi_start_beats_random_start_on_benchmark_signals(make):
    x = make(2.0, 16000, seed=1)
    for hop, gain in ((256, 1.5), (128, 5.0)):  # redundancy 4 and 8, Gaussian window
        tf = STFT(1024, hop, "gauss")
        s = np.abs(tf.forward(x))
        fgla = reconstruct(s, tf, "fgla", n_iter=100, length=x.size)
        both = reconstruct(s, tf, "pghi+fgla", n_iter=100, length=x.size)
        assert both.spectral_convergence < fgla.spectral_convergence - gain
        assert both.spectral_convergence < -20
