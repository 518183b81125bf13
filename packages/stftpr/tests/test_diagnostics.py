"""Stability diagnostics: islands and per-island ambiguity, graph quantities against brute force."""

import itertools

import numpy as np
import pytest
from _signals import fm_tone, gabor_atom

from stftpr import (
    STFT,
    algebraic_connectivity,
    cut_conductance,
    diagnose,
    find_islands,
    reconstruct,
    reconstruct_islands,
    snr,
    snr_per_island,
    sweep_cut,
    tf_graph,
)

L = 4096


@pytest.fixture(scope="module")
def two_atoms():
    tf = STFT(256, 32, "gauss")
    x = gabor_atom(L, 1024, 0.1, tf.lam, 0.0) + gabor_atom(L, 3072, 0.3, tf.lam, 2.0)
    return tf, x, np.abs(tf.forward(x))


def test_two_separated_atoms_two_islands_and_per_island_ambiguity(two_atoms):
    tf, x, s = two_atoms
    report = diagnose(s, tf)
    assert report.regime == "islands" and report.n_islands == 2
    assert [round(i.energy_share, 3) for i in report.islands] == [0.5, 0.5]
    assert "2 islands" in str(report) and "one phase per island" in str(report)
    # the frames and channels of the islands are where the atoms are
    centers = tf.frame_centers(s.shape[1])
    for isl in report.islands:
        t_mid = centers[(isl.frames[0] + isl.frames[1]) // 2]
        f_mid = (isl.channels[0] + isl.channels[1]) / 2 / tf.n_fft
        assert (abs(t_mid - 1024) < 64 and abs(f_mid - 0.1) < 0.01) or (abs(t_mid - 3072) < 64 and abs(f_mid - 0.3) < 0.01)
    res = reconstruct(s, tf, n_iter=50, length=L)
    assert res.spectral_convergence < -50  # the magnitude is matched ...
    assert snr(x, res.signal, align="analytic") < 5  # ... but not the relative phase of the atoms
    assert snr_per_island(x, res.signal, tf, report.labels) > 40  # which is all the data determines
    # per-island reconstruction: each island on its own, then aligned island by island
    signals, labels = reconstruct_islands(s, tf, report.labels, length=L, n_iter=30)
    assert len(signals) == 2
    assert snr_per_island(x, signals[0] + signals[1], tf, labels) > 35


def test_connected_signal_is_stable_and_weak_link_is_flagged():
    tf = STFT(256, 32, "gauss")
    x = fm_tone(L)
    rep = diagnose(np.abs(tf.forward(x)), tf)
    assert rep.regime == "stable" and rep.n_islands == 1 and rep.stable
    # two atoms joined by a faint bridge: one island at a low threshold, but a bottleneck
    lam = tf.lam
    n = np.arange(L)
    bridge = 3e-3 * np.cos(2 * np.pi * (0.1 * n + 0.2 / (2 * 2048) * (n - 1024) ** 2 * (n > 1024)))
    bridge *= (n > 1024) & (n < 3072)
    y = gabor_atom(L, 1024, 0.1, lam) + gabor_atom(L, 3072, 0.3, lam) + bridge
    rep = diagnose(np.abs(tf.forward(y)), tf, threshold=1e-4)
    assert rep.n_islands == 1
    assert rep.regime == "weakly connected", str(rep)
    assert rep.bottleneck < 0.05
    # the cut separates the two atoms
    c = tf.frame_centers(rep.cut.shape[1])
    m1, m2 = round(0.1 * tf.n_fft), round(0.3 * tf.n_fft)
    k1, k2 = np.argmin(abs(c - 1024)), np.argmin(abs(c - 3072))
    assert rep.cut[m1, k1] != rep.cut[m2, k2]


def test_graph_quantities_against_brute_force():
    rng = np.random.default_rng(3)
    s = rng.random((4, 4)) + 0.1
    s[:, 2] *= 0.05  # a weak column: the best cut
    g = tf_graph(s)
    W = g.weights.toarray()
    assert np.allclose(W, W.T) and W.shape == (16, 16)
    # edges: 4-neighbours with weight s_u s_v
    assert W[0, 1] == pytest.approx(s[0, 0] * s[0, 1]) and W[0, 4] == pytest.approx(s[0, 0] * s[1, 0])
    assert W[0, 5] == 0
    d = W.sum(1)
    Lap = np.eye(16) - W / np.sqrt(np.outer(d, d))
    lam2, fied = algebraic_connectivity(g)
    assert lam2 == pytest.approx(np.linalg.eigvalsh(Lap)[1], abs=1e-12)
    # Cheeger constant by enumerating all 2^15 cuts
    masks = np.array([(0,) + bits for bits in itertools.product([0, 1], repeat=15)][1:], dtype=float)
    cuts = np.sum((masks @ W) * (1 - masks), axis=1)
    vols = masks @ d
    best = float(np.min(cuts / np.minimum(vols, d.sum() - vols)))
    assert best == pytest.approx(cut_conductance(g, masks[np.argmin(cuts / np.minimum(vols, d.sum() - vols))] > 0))
    phi, mask = sweep_cut(g, fied)
    assert phi == pytest.approx(cut_conductance(g, mask))
    assert lam2 / 2 <= best + 1e-12 <= phi + 1e-12 <= np.sqrt(2 * lam2) + 1e-12
    assert phi == pytest.approx(best)  # here the sweep finds the optimal cut (the weak column)


def test_large_input_is_coarsened_but_cut_evaluated_on_full_lattice():
    tf = STFT(128, 16, "gauss")
    x = fm_tone(8000)
    s = np.abs(tf.forward(x))
    full = diagnose(s, tf)
    coarse = diagnose(s, tf, max_nodes=500)
    assert coarse.coarsening > 1 and full.coarsening == 1
    assert "coarsened" in str(coarse)
    assert coarse.regime == full.regime == "stable"
    assert np.isnan(coarse.cheeger_lower)
    g = tf_graph(np.where(coarse.labels > 0, s, 0.0), tf, floor=0.0)  # the graph of the island
    assert coarse.cheeger_upper == pytest.approx(cut_conductance(g, coarse.cut.flat[g.nodes]))


def test_find_islands_and_bad_input():
    s = np.zeros((6, 8))
    s[1:3, 1:3] = 1.0
    s[4, 5:7] = 0.5
    s[5, 0] = 1e-3  # below the threshold
    labels, islands = find_islands(s, threshold=0.01, min_share=0)
    assert len(islands) == 2 and islands[0].n_coefficients == 4 and islands[1].n_coefficients == 2
    assert islands[0].energy_share == pytest.approx(4 / 4.5)
    assert set(np.unique(labels)) == {0, 1, 2}
    with pytest.raises(ValueError, match="threshold"):
        find_islands(s, threshold=0)
    with pytest.raises(ValueError, match="identically zero"):
        diagnose(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="2-D"):
        diagnose(np.ones((2, 5, 5)))
    with pytest.raises(ValueError, match="non-negative"):
        diagnose(-np.ones((5, 5)))


def test_degenerate_magnitudes():
    tf = STFT(64, 16)
    s = np.zeros((33, 10))
    s[5, 5] = 1.0
    rep = diagnose(s, tf)
    assert rep.regime == "stable" and rep.n_islands == 1 and "single coefficient" in str(rep)
    s[20, 2] = 1.0
    assert diagnose(s, tf).regime == "islands"
