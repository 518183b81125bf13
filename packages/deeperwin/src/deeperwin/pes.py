"""Potential energy curves: tables, diatomic fits (bond length, harmonic frequency), plots.

Energies in hartree, bond lengths in bohr. :func:`fit_diatomic` fits a polynomial around
the minimum or a Morse curve and returns the equilibrium bond length R_e, the minimum
energy and the harmonic frequency omega_e = sqrt(k / mu) (k = E''(R_e), mu the reduced
nuclear mass) in cm^-1, with standard errors propagated linearly from the covariance of
the fitted parameters (from the given energy errors, or from the residuals if none are
given). :func:`load_h2_reference` reads the shipped H2 FCI/aug-cc-pV5Z curve.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "AMU_IN_ELECTRON_MASSES",
    "COORDINATES",
    "HARTREE_IN_WAVENUMBERS",
    "DiatomicFit",
    "H2Reference",
    "diatomic_reduced_mass",
    "fit_diatomic",
    "format_table",
    "load_h2_reference",
    "pes_table",
    "plot_pes",
]

#: CODATA 2018: 1 hartree in cm^-1.
HARTREE_IN_WAVENUMBERS = 219474.6313632
#: CODATA 2018: atomic mass unit in electron masses.
AMU_IN_ELECTRON_MASSES = 1822.888486209

# atomic masses (amu) of the most abundant isotope (AME 2016, as listed by NIST)
_ISOTOPE_MASS = {
    "H": 1.00782503223, "D": 2.01410177812, "He": 4.00260325413, "Li": 7.0160034366,
    "Be": 9.012183065, "B": 11.00930536, "C": 12.0, "N": 14.00307400443, "O": 15.99491461957,
    "F": 18.99840316273, "Ne": 19.9924401762,
}  # fmt: skip


def diatomic_reduced_mass(a: str | float, b: str | float) -> float:
    """Reduced mass m_a m_b / (m_a + m_b) in electron masses (atomic units).

    Parameters
    ----------
    a, b : str or float
        Element symbols H to Ne (most abundant isotope, atomic mass) or ``"D"``, or masses
        in amu.

    Returns
    -------
    float
    """
    masses = []
    for arg, v in (("a", a), ("b", b)):
        if isinstance(v, str):
            if v not in _ISOTOPE_MASS:
                raise ValueError(f"{arg}: no isotope mass for {v!r}; accepted: {', '.join(_ISOTOPE_MASS)} or a mass in amu")
            masses.append(_ISOTOPE_MASS[v])
        elif isinstance(v, int | float) and math.isfinite(v) and v > 0:
            masses.append(float(v))
        else:
            raise ValueError(f"{arg}: expected an element symbol or a positive mass in amu, got {v!r}")
    return masses[0] * masses[1] / (masses[0] + masses[1]) * AMU_IN_ELECTRON_MASSES


@dataclass(frozen=True, eq=False)
class DiatomicFit:
    """Result of :func:`fit_diatomic` (bohr, hartree, cm^-1; errors are standard errors).

    Attributes
    ----------
    equilibrium_bond_length, equilibrium_bond_length_error : float
        R_e and its error (bohr).
    minimum_energy, minimum_energy_error : float
        E(R_e) and its error (hartree).
    harmonic_frequency, harmonic_frequency_error : float
        omega_e = sqrt(E''(R_e) / mu) and its error (cm^-1).
    force_constant : float
        E''(R_e) (hartree / bohr^2).
    reduced_mass : float
        mu (electron masses).
    model : str
        ``"poly<degree>"`` or ``"morse"``.
    params, covariance : numpy.ndarray
        Fitted parameters (polynomial coefficients in powers of R - center, lowest first;
        or E_min, D_e, a, R_e for Morse) and their covariance.
    center : float
        Expansion point of the polynomial (bohr; 0 for Morse).
    n_points : int
        Points used in the fit.
    residual_rms : float
        Root mean square residual of the fit (hartree).
    fit_range : tuple of float
        Smallest and largest bond length used in the fit (bohr).
    """

    equilibrium_bond_length: float
    equilibrium_bond_length_error: float
    minimum_energy: float
    minimum_energy_error: float
    harmonic_frequency: float
    harmonic_frequency_error: float
    force_constant: float
    reduced_mass: float
    model: str
    params: np.ndarray = field(repr=False)
    covariance: np.ndarray = field(repr=False)
    center: float = field(repr=False)
    n_points: int = field(repr=False)
    residual_rms: float = field(repr=False)
    fit_range: tuple[float, float] = field(default=(0.0, 0.0), repr=False)

    def energy(self, r: Any) -> np.ndarray:
        """The fitted curve at bond lengths `r` (bohr)."""
        r = np.asarray(r, dtype=float)
        if self.model == "morse":
            e_min, d, a, r_e = self.params
            return e_min + d * (1 - np.exp(-a * (r - r_e))) ** 2
        return np.polynomial.polynomial.polyval(r - self.center, self.params)

    def __str__(self) -> str:
        return (
            f"R_e = {self.equilibrium_bond_length:.5f} +- {self.equilibrium_bond_length_error:.5f} bohr, "
            f"omega_e = {self.harmonic_frequency:.1f} +- {self.harmonic_frequency_error:.1f} cm^-1, "
            f"E_min = {self.minimum_energy:.6f} +- {self.minimum_energy_error:.6f} Ha ({self.model})"
        )


#: Coordinates of a curve: row key -> (table header, axis label). Only bond lengths must be positive.
COORDINATES = {
    "bond_length": ("R (bohr)", "bond length (bohr)"),
    "amplitude": ("amplitude (bohr)", "displacement amplitude (bohr)"),
    "geometry_index": ("geometry", "geometry index"),
}


def _check_coordinate(coordinate: str) -> None:
    if coordinate not in COORDINATES:
        raise ValueError(f"coordinate={coordinate!r}: expected one of {sorted(COORDINATES)}")


def _curve_arrays(bond_lengths: Any, energies: Any, errors: Any,
                  positive: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r = np.asarray(bond_lengths, dtype=float)
    e = np.asarray(energies, dtype=float)
    if r.ndim != 1 or e.shape != r.shape:
        raise ValueError(f"energies: expected one energy per bond length, got shapes {e.shape} and {r.shape}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(e))):
        raise ValueError("bond_lengths: bond lengths and energies must be finite")
    if positive and np.any(r <= 0):
        raise ValueError("bond_lengths: must be positive (bohr)")
    if len(np.unique(r)) != len(r):
        raise ValueError("bond_lengths: contains duplicates")
    s = None
    if errors is not None:
        s = np.asarray(errors, dtype=float)
        if s.shape != r.shape or not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ValueError(f"errors: expected one positive finite error per bond length, got {errors!r}")
    order = np.argsort(r)
    return r[order], e[order], (None if s is None else s[order])


def fit_diatomic(
    bond_lengths: Any,
    energies: Any,
    errors: Any = None,
    *,
    reduced_mass: float | tuple[str | float, str | float],
    model: str = "poly",
    degree: int = 4,
    window: float | tuple[float, float] | None = None,
) -> DiatomicFit:
    """Fit a diatomic potential energy curve: R_e, E_min and the harmonic frequency.

    Parameters
    ----------
    bond_lengths : array_like
        Bond lengths (bohr).
    energies : array_like
        Energies (hartree).
    errors : array_like or None
        Standard errors of the energies (e.g. from :func:`deeperwin.blocking.blocking_analysis`);
        used as weights and for the parameter covariance. None: unweighted, covariance from
        the residuals.
    reduced_mass : float or tuple
        Reduced nuclear mass in electron masses, or a pair of element symbols / masses in
        amu passed to :func:`diatomic_reduced_mass` (e.g. ``("H", "H")``).
    model : {"poly", "morse"}
        ``"poly"``: polynomial of `degree` in R - R_c around the lowest point R_c;
        ``"morse"``: E_min + D (1 - exp(-a (R - R_e)))**2 over the window.
    degree : int
        Polynomial degree (2 to 8; "poly" only).
    window : float, tuple or None
        Points used: None for all points with energy within 10 mHa of the lowest one
        (at least degree + 2 points nearest the minimum); a float w for R_c - w <= R <= R_c + w;
        a tuple (lo, hi) for lo <= R <= hi.

    Returns
    -------
    DiatomicFit

    Raises
    ------
    ValueError
        Bad shapes or values, too few points in the window, or no minimum inside it.
    """
    from scipy.optimize import curve_fit

    r, e, s = _curve_arrays(bond_lengths, energies, errors)
    mu = diatomic_reduced_mass(*reduced_mass) if isinstance(reduced_mass, tuple | list) else reduced_mass
    if not (isinstance(mu, int | float) and math.isfinite(mu) and mu > 0):
        raise ValueError(f"reduced_mass: expected a positive number (electron masses) or a pair of elements, got {reduced_mass!r}")
    if model not in ("poly", "morse"):
        raise ValueError(f"model: expected 'poly' or 'morse', got {model!r}")
    if not isinstance(degree, int) or not 2 <= degree <= 8:
        raise ValueError(f"degree: expected an integer from 2 to 8, got {degree!r}")
    n_params = degree + 1 if model == "poly" else 4
    i_min = int(np.argmin(e))
    r_c = float(r[i_min])
    if window is None:
        mask = e <= e[i_min] + 0.01
        if mask.sum() < n_params + 1:
            nearest = np.argsort(np.abs(r - r_c))[: n_params + 1]
            mask = np.zeros_like(mask)
            mask[nearest] = True
    elif isinstance(window, int | float) and window > 0:
        mask = np.abs(r - r_c) <= window + 1e-12
    elif isinstance(window, tuple | list) and len(window) == 2 and window[0] < window[1]:
        mask = (r >= window[0]) & (r <= window[1])
    else:
        raise ValueError(f"window: expected None, a positive half-width (bohr) or a (low, high) pair, got {window!r}")
    if mask.sum() < n_params + 1:
        raise ValueError(f"window: {int(mask.sum())} points inside, the {model} fit needs at least {n_params + 1}")
    rw, ew = r[mask], e[mask]
    sw = None if s is None else s[mask]

    if model == "poly":
        x = rw - r_c
        a_mat = np.vander(x, degree + 1, increasing=True)
        wts = np.ones_like(x) if sw is None else 1.0 / sw
        aw = a_mat * wts[:, None]
        coef, *_ = np.linalg.lstsq(aw, ew * wts, rcond=None)
        resid = ew - a_mat @ coef
        cov = np.linalg.inv(aw.T @ aw)
        if sw is None:
            dof = max(len(x) - len(coef), 1)
            cov = cov * float(resid @ resid) / dof
        p = np.polynomial.polynomial
        d1, d2, d3 = p.polyder(coef, 1), p.polyder(coef, 2), p.polyder(coef, 3)
        roots = [z.real for z in np.roots(d1[::-1]) if abs(z.imag) < 1e-9 and x.min() <= z.real <= x.max()]
        roots = [z for z in roots if p.polyval(z, d2) > 0]
        if not roots:
            raise ValueError("window: the fitted polynomial has no minimum inside the window; widen the window or lower the degree")
        x_e = min(roots, key=abs)
        k = float(p.polyval(x_e, d2))
        k3 = float(p.polyval(x_e, d3))
        j = np.arange(degree + 1)
        dx = -(j * np.where(j >= 1, x_e ** np.maximum(j - 1, 0), 0.0)) / k  # d x_e / d c_j
        de = x_e**j  # dE/dc_j (E' = 0 at the minimum)
        dk = j * (j - 1) * np.where(j >= 2, x_e ** np.maximum(j - 2, 0), 0.0) + k3 * dx
        r_e, e_min, params, center = r_c + x_e, float(p.polyval(x_e, coef)), coef, r_c
        model_name = f"poly{degree}"
    else:
        e_min0 = float(ew.min())
        k0 = _quadratic_curvature(rw, ew)
        d0 = max(float(ew.max() - e_min0), 0.05)
        p0 = [e_min0, d0, math.sqrt(max(k0, 1e-3) / (2 * d0)), r_c]

        def morse(rr, e0, dd, aa, re):
            return e0 + dd * (1 - np.exp(-aa * (rr - re))) ** 2

        try:
            params, cov = curve_fit(morse, rw, ew, p0=p0, sigma=sw, absolute_sigma=sw is not None, maxfev=20000)
        except RuntimeError as exc:
            raise ValueError(f"model: the Morse fit did not converge ({exc}); try model='poly'") from None
        e_min, d_e, a, r_e = (float(v) for v in params)
        resid = ew - morse(rw, *params)
        k = 2 * d_e * a**2
        dx = np.array([0.0, 0.0, 0.0, 1.0])
        de = np.array([1.0, 0.0, 0.0, 0.0])
        dk = np.array([0.0, 2 * a**2, 4 * d_e * a, 0.0])
        center = 0.0
        model_name = "morse"
    if k <= 0:
        raise ValueError("window: the fitted curvature at the minimum is not positive")
    omega_au = math.sqrt(k / mu)
    domega = omega_au / (2 * k) * dk

    def _err(g: np.ndarray) -> float:
        return float(math.sqrt(max(float(g @ cov @ g), 0.0)))

    return DiatomicFit(
        equilibrium_bond_length=float(r_e), equilibrium_bond_length_error=_err(dx),
        minimum_energy=float(e_min), minimum_energy_error=_err(de),
        harmonic_frequency=omega_au * HARTREE_IN_WAVENUMBERS, harmonic_frequency_error=_err(domega) * HARTREE_IN_WAVENUMBERS,
        force_constant=k, reduced_mass=float(mu), model=model_name, params=np.asarray(params), covariance=np.asarray(cov),
        center=center, n_points=int(mask.sum()), residual_rms=float(np.sqrt(np.mean(resid**2))),
        fit_range=(float(rw.min()), float(rw.max())),
    )  # fmt: skip


def _quadratic_curvature(r: np.ndarray, e: np.ndarray) -> float:
    i = int(np.argmin(e))
    idx = np.argsort(np.abs(r - r[i]))[:3]
    c = np.polyfit(r[idx], e[idx], 2)
    return 2 * float(c[0])


# ---------------------------------------------------------------------- tables
def pes_table(
    bond_lengths: Any,
    energies: Any,
    errors: Any = None,
    *,
    reference: Any = None,
    hf: Any = None,
    coordinate: str = "bond_length",
) -> list[dict[str, float | None]]:
    """Rows of a potential energy curve table, sorted by bond length (or other coordinate).

    Parameters
    ----------
    bond_lengths, energies : array_like
        The curve (bohr, hartree); with another ``coordinate``, its values (any finite,
        distinct numbers).
    errors : array_like or None
        Standard errors of `energies`.
    reference, hf : array_like or None
        Reference and Hartree-Fock energies at the same bond lengths.
    coordinate : str
        What the first argument is, and the key of the first column: ``"bond_length"``
        (positive, bohr), ``"amplitude"`` (of a displacement, bohr) or ``"geometry_index"``
        (see ``COORDINATES``).

    Returns
    -------
    list of dict
        Keys ``bond_length`` (or the ``coordinate``), ``energy``, ``error``, ``reference``, ``hf``,
        ``delta_reference`` (energy - reference) and ``correlation_fraction``
        ((hf - energy) / (hf - reference), the fraction of the correlation energy
        recovered), None where not available.
    """
    _check_coordinate(coordinate)
    r, e, s = _curve_arrays(bond_lengths, energies, errors, positive=coordinate == "bond_length")
    order = np.argsort(np.asarray(bond_lengths, dtype=float))
    extra = {}
    for name, values in (("reference", reference), ("hf", hf)):
        if values is None:
            extra[name] = [None] * len(r)
            continue
        v = np.asarray(values, dtype=float)
        if v.shape != r.shape or not np.all(np.isfinite(v)):
            raise ValueError(f"{name}: expected one finite energy per bond length, got shape {v.shape}")
        extra[name] = [float(x) for x in v[order]]
    rows = []
    for i in range(len(r)):
        ref, hf_i = extra["reference"][i], extra["hf"][i]
        frac = None
        if ref is not None and hf_i is not None and hf_i != ref:
            frac = (hf_i - float(e[i])) / (hf_i - ref)
        rows.append({
            coordinate: float(r[i]), "energy": float(e[i]), "error": None if s is None else float(s[i]),
            "reference": ref, "hf": hf_i, "delta_reference": None if ref is None else float(e[i]) - ref,
            "correlation_fraction": frac,
        })  # fmt: skip
    return rows


def format_table(rows: list[dict[str, Any]], *, digits: int = 6) -> str:
    """Format :func:`pes_table` rows (or any list of flat dicts) as a Markdown table.

    Columns whose values are all None are left out; deltas are shown in mHa. The first
    column is headed by its coordinate (``COORDINATES``: ``R (bohr)`` for bond lengths,
    ``amplitude (bohr)`` for displacements, ``geometry`` for indices of explicit geometries).
    """
    if not rows:
        raise ValueError("rows: expected at least one row")
    cols = [c for c in rows[0] if any(row.get(c) is not None for row in rows)]
    header = {**{k: v[0] for k, v in COORDINATES.items()}, "energy": "E (Ha)", "error": "error (Ha)", "reference": "reference (Ha)",
              "hf": "HF (Ha)", "delta_reference": "E - ref (mHa)", "correlation_fraction": "corr. energy (%)"}  # fmt: skip

    def cell(col: str, v: Any) -> str:
        if v is None:
            return ""
        if col == "delta_reference":
            return f"{1000 * v:.3f}"
        if col == "correlation_fraction":
            return f"{100 * v:.2f}"
        if col in ("bond_length", "amplitude"):
            return f"{v:.4f}"
        if col == "geometry_index":
            return f"{v:.0f}"
        if isinstance(v, float):
            return f"{v:.{digits}f}"
        return str(v)

    lines = ["| " + " | ".join(header.get(c, c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(c, row.get(c)) for c in cols) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------- shipped reference
@dataclass(frozen=True, eq=False)
class H2Reference:
    """The shipped H2 curve (see ``benchmarks/make_h2_reference.py``)."""

    bond_lengths: np.ndarray
    energies: np.ndarray
    hf_energies: np.ndarray
    basis: str
    method: str
    command: str
    pyscf_version: str

    def energy(self, r: Any) -> np.ndarray:
        """Cubic-spline interpolation of the FCI curve at `r` (bohr, inside the grid)."""
        from scipy.interpolate import CubicSpline

        r = np.asarray(r, dtype=float)
        if np.any(r < self.bond_lengths[0]) or np.any(r > self.bond_lengths[-1]):
            raise ValueError(f"r: outside the reference grid [{self.bond_lengths[0]}, {self.bond_lengths[-1]}] bohr")
        return CubicSpline(self.bond_lengths, self.energies)(r)


def load_h2_reference() -> H2Reference:
    """Read the shipped H2 FCI curve (pyscf FCI, aug-cc-pV5Z, 1.0 to 3.0 bohr)."""
    doc = json.loads(files("deeperwin").joinpath("data", "h2_fci_av5z.json").read_text(encoding="utf-8"))
    return H2Reference(
        bond_lengths=np.asarray(doc["bond_lengths"], dtype=float), energies=np.asarray(doc["energies"], dtype=float),
        hf_energies=np.asarray(doc["hf_energies"], dtype=float), basis=doc["basis"], method=doc["method"],
        command=doc["command"], pyscf_version=doc["pyscf_version"],
    )  # fmt: skip


# ---------------------------------------------------------------------- plot
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _curve_arg(name: str, value: Any, r: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 2:
        x, y = (np.asarray(v, dtype=float) for v in value)
    else:
        x, y = r, np.asarray(value, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"{name}: expected energies at the bond lengths or a (bond_lengths, energies) pair")
    return x, y


def plot_pes(
    bond_lengths: Any,
    energies: Any,
    errors: Any = None,
    *,
    hf: Any = None,
    reference: Any = None,
    fit: DiatomicFit | None = None,
    label: str = "VMC",
    title: str | None = None,
    path: str | Path | None = None,
    coordinate: str = "bond_length",
):
    """Plot a potential energy curve with error bars, optional HF and reference curves.

    Needs matplotlib (``pip install 'deeperwin[plot]'``).

    Parameters
    ----------
    bond_lengths, energies, errors : array_like
        The curve to plot (bohr, hartree); errors as error bars.
    hf, reference : array_like or tuple or None
        Energies at the same bond lengths, or a ``(bond_lengths, energies)`` pair on
        their own grid (e.g. the shipped H2 reference curve).
    fit : DiatomicFit or None
        Draw the fitted curve over the fitted range and mark R_e.
    label, title : str
        Legend label of the curve and the plot title.
    path : str or Path or None
        Save the figure there (PNG/PDF/SVG by suffix; written to a temporary name, then renamed).
    coordinate : str
        What the first argument is (see :func:`pes_table`); sets the axis label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plot_pes needs matplotlib: pip install 'deeperwin[plot]'") from exc
    _check_coordinate(coordinate)
    r, e, s = _curve_arrays(bond_lengths, energies, errors, positive=coordinate == "bond_length")
    hf_c = _curve_arg("hf", hf, np.sort(np.asarray(bond_lengths, dtype=float)))
    ref_c = _curve_arg("reference", reference, np.sort(np.asarray(bond_lengths, dtype=float)))
    fig, ax = plt.subplots(figsize=(6, 4))
    if ref_c is not None:
        ax.plot(*ref_c, "-", color="black", lw=1, label="reference")
    if hf_c is not None:
        ax.plot(*hf_c, "--", color="gray", lw=1, label="Hartree-Fock")
    ax.errorbar(r, e, yerr=s, fmt="o", ms=4, capsize=2, label=label)
    if fit is not None:
        grid = np.linspace(*fit.fit_range, 200)
        ax.plot(grid, fit.energy(grid), "-", lw=1, alpha=0.7, label=f"fit ({fit.model})")
        ax.axvline(fit.equilibrium_bond_length, color="C1", lw=0.8, ls=":")
    ax.set_xlabel(COORDINATES[coordinate][1])
    ax.set_ylabel("energy (hartree)")
    if title:
        ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        fmt = path.suffix.lstrip(".").lower() or "png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            fig.savefig(tmp, format=fmt, dpi=120)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; keep ordinary permissions
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return fig
