"""Diatomic fits against a Morse potential with known parameters; tables and plots."""

import numpy as np
import pytest

from deeperwin.pes import (
    AMU_IN_ELECTRON_MASSES,
    HARTREE_IN_WAVENUMBERS,
    diatomic_reduced_mass,
    fit_diatomic,
    format_table,
    pes_table,
    plot_pes,
)

# Morse parameters close to H2
D, A, RE, EMIN = 0.1745, 1.028, 1.401, -1.1745
MU = 1.00782503223 / 2 * 1822.888486209  # H2 reduced mass, electron masses
R = np.round(np.arange(1.0, 3.0001, 0.05), 4)


def morse(r):
    return EMIN + D * (1 - np.exp(-A * (r - RE))) ** 2


def morse_omega_cm():
    # harmonic frequency of a Morse well: omega = a sqrt(2 D / mu)
    return A * np.sqrt(2 * D / MU) * 219474.6313632


def test_constants_and_reduced_mass():
    assert HARTREE_IN_WAVENUMBERS == pytest.approx(219474.63, rel=1e-8)
    assert AMU_IN_ELECTRON_MASSES == pytest.approx(1822.888, rel=1e-6)
    assert diatomic_reduced_mass("H", "H") == pytest.approx(MU, rel=1e-12)
    assert diatomic_reduced_mass("Li", "H") == pytest.approx(7.0160034366 * 1.00782503223 / 8.0238284688 * 1822.888486209)
    with pytest.raises(ValueError, match="a"):
        diatomic_reduced_mass("Xx", "H")


def test_morse_fit_recovers_the_parameters():
    fit = fit_diatomic(R, morse(R), reduced_mass=MU, model="morse", window=(0.9, 3.1))
    assert fit.equilibrium_bond_length == pytest.approx(RE, abs=1e-8)
    assert fit.harmonic_frequency == pytest.approx(morse_omega_cm(), rel=1e-7)
    assert fit.minimum_energy == pytest.approx(EMIN, abs=1e-10)
    assert fit.force_constant == pytest.approx(2 * D * A**2, rel=1e-7)


@pytest.mark.parametrize(("degree", "window", "rel"), [(4, None, 1e-3), (6, 0.3, 1e-5)])
def test_polynomial_fit_matches_morse_frequency(degree, window, rel):
    fit = fit_diatomic(R, morse(R), reduced_mass=("H", "H"), degree=degree, window=window)
    assert fit.model == f"poly{degree}"
    assert fit.equilibrium_bond_length == pytest.approx(RE, abs=2e-4)
    assert fit.harmonic_frequency == pytest.approx(morse_omega_cm(), rel=rel)
    assert fit.energy(RE) == pytest.approx(EMIN, abs=1e-5)


def test_error_propagation_matches_monte_carlo_scatter():
    rng = np.random.default_rng(0)
    sigma = 1e-4
    fits = [
        fit_diatomic(R, morse(R) + rng.normal(scale=sigma, size=R.size), np.full(R.size, sigma), reduced_mass=MU, window=0.35)
        for _ in range(200)
    ]
    for attr in ("equilibrium_bond_length", "harmonic_frequency", "minimum_energy"):
        scatter = np.std([getattr(f, attr) for f in fits], ddof=1)
        reported = np.mean([getattr(f, attr + "_error") for f in fits])
        assert reported == pytest.approx(scatter, rel=0.2), attr  # 200 samples: +-5 % at one sigma
    morse_fits = [
        fit_diatomic(R, morse(R) + rng.normal(scale=sigma, size=R.size), np.full(R.size, sigma), reduced_mass=MU, model="morse", window=(0.9, 3.1))
        for _ in range(100)
    ]
    scatter = np.std([f.harmonic_frequency for f in morse_fits], ddof=1)
    assert np.mean([f.harmonic_frequency_error for f in morse_fits]) == pytest.approx(scatter, rel=0.25)


def test_fit_without_errors_uses_residuals():
    rng = np.random.default_rng(1)
    fit = fit_diatomic(R, morse(R) + rng.normal(scale=1e-4, size=R.size), reduced_mass=MU, window=0.35)
    assert 1e-5 < fit.minimum_energy_error < 1e-3
    assert fit.residual_rms == pytest.approx(1e-4, rel=0.5)


def test_fit_bad_input():
    with pytest.raises(ValueError, match="energies"):
        fit_diatomic(R, morse(R)[:-1], reduced_mass=MU)
    with pytest.raises(ValueError, match="errors"):
        fit_diatomic(R, morse(R), np.zeros(R.size), reduced_mass=MU)
    with pytest.raises(ValueError, match="window"):
        fit_diatomic(R, morse(R), reduced_mass=MU, window=0.05)
    with pytest.raises(ValueError, match="window"):  # monotonic data: no minimum
        fit_diatomic(R[:10], R[:10] * 0.1, reduced_mass=MU, window=(1.0, 1.5))
    with pytest.raises(ValueError, match="reduced_mass"):
        fit_diatomic(R, morse(R), reduced_mass=-1.0)
    with pytest.raises(ValueError, match="model"):
        fit_diatomic(R, morse(R), reduced_mass=MU, model="spline")
    with pytest.raises(ValueError, match="bond_lengths"):
        fit_diatomic([1.0, 1.0, 2.0], [0.0, 0.0, 0.0], reduced_mass=MU)


def test_pes_table_and_format():
    r = np.array([1.6, 1.4])
    rows = pes_table(r, [-1.16, -1.17], [1e-4, 2e-4], reference=[-1.168, -1.1745], hf=[-1.12, -1.1336])
    assert [row["bond_length"] for row in rows] == [1.4, 1.6]  # sorted
    assert rows[0]["delta_reference"] == pytest.approx(-1.17 + 1.1745)
    assert rows[0]["correlation_fraction"] == pytest.approx((-1.1336 + 1.17) / (-1.1336 + 1.1745))
    assert rows[0]["error"] == 2e-4
    text = format_table(rows)
    assert text.splitlines()[0].startswith("| R (bohr)") and "4.500" in text  # 4.5 mHa above the reference
    assert "reference" not in format_table(pes_table(r, [-1.16, -1.17])).splitlines()[0]
    with pytest.raises(ValueError, match="reference"):
        pes_table(r, [-1.16, -1.17], reference=[1.0])


def test_plot_pes_writes_png(tmp_path):
    fit = fit_diatomic(R, morse(R), reduced_mass=MU)
    out = tmp_path / "pes.png"
    fig = plot_pes(R, morse(R), np.full(R.size, 1e-3), hf=morse(R) + 0.04, reference=(R, morse(R) - 0.001), fit=fit, path=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_mode & 0o044  # readable by others as with open(), not mkstemp's 0600
    assert not list(tmp_path.glob("*.tmp"))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"reference", "Hartree-Fock", "VMC"} <= set(labels)


def test_table_and_plot_label_the_coordinate_of_non_scan_geometry_sets(tmp_path):
    # displacement amplitudes may be zero or negative; explicit geometries are numbered from 0
    rows = pes_table([0.1, -0.1, 0.0], [-1.0, -1.1, -1.2], [1e-4, 1e-4, 1e-4], coordinate="amplitude")
    assert [row["amplitude"] for row in rows] == [-0.1, 0.0, 0.1] and "bond_length" not in rows[0]
    header = format_table(rows).splitlines()[0]
    assert header.startswith("| amplitude (bohr) |") and "R (bohr)" not in header
    rows = pes_table([0, 1, 2], [-1.0, -1.1, -1.2], coordinate="geometry_index")
    text = format_table(rows)
    assert text.splitlines()[0].startswith("| geometry |")
    assert [line.split("|")[1].strip() for line in text.splitlines()[2:]] == ["0", "1", "2"]
    fig = plot_pes([0, 1, 2], [-1.0, -1.1, -1.2], coordinate="geometry_index", path=tmp_path / "p.png")
    assert fig.axes[0].get_xlabel() == "geometry index"
    with pytest.raises(ValueError, match="bond_lengths: must be positive"):
        pes_table([0.0, 1.0], [-1.0, -1.1])
    with pytest.raises(ValueError, match="coordinate='angle'"):
        pes_table([1.0, 2.0], [-1.0, -1.1], coordinate="angle")
