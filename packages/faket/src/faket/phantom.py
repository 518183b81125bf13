"""Built-in synthetic cryo-ET samples, so that every command runs without downloading data.

A phantom is a volume ``(z, y, x)`` of density in arbitrary units (vitreous ice about 1, protein
about 1.35 times that, lipid membranes 1.2, gold 10), with a class mask and a SHREC-style
particle list: an ice slab with smooth density fluctuations, a curved membrane sheet, vesicles
(lipid bilayer shells), particles of several shapes and classes at random non-overlapping
positions and orientations, and gold fiducials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.spatial.transform import Rotation

from faket._io import atomic_write
from faket.mrc import write_mrc
from faket.tilts import Particle, write_particle_list

__all__ = ["Phantom", "make_phantom", "PARTICLE_SHAPES", "ICE", "PROTEIN", "LIPID", "GOLD"]

ICE, PROTEIN, LIPID, GOLD = 1.0, 1.35, 1.2, 10.0


def _sphere(p: np.ndarray, r: float) -> np.ndarray:
    return np.linalg.norm(p, axis=-1) - r


def _shape_sphere(p: np.ndarray, r: float) -> np.ndarray:
    return _sphere(p, 0.8 * r)


def _shape_ellipsoid(p: np.ndarray, r: float) -> np.ndarray:
    axes = np.array([1.0, 0.55, 0.4]) * r
    return (np.linalg.norm(p / axes, axis=-1) - 1.0) * 0.45 * r


def _shape_rod(p: np.ndarray, r: float) -> np.ndarray:
    radial = np.hypot(p[..., 1], p[..., 2]) - 0.3 * r
    axial = np.abs(p[..., 0]) - 0.95 * r
    return np.maximum(radial, axial)


def _shape_dumbbell(p: np.ndarray, r: float) -> np.ndarray:
    off = np.array([0.5 * r, 0.0, 0.0])
    return np.minimum(_sphere(p - off, 0.45 * r), _sphere(p + off, 0.45 * r))


def _shape_ring(p: np.ndarray, r: float) -> np.ndarray:
    q = np.hypot(p[..., 0], p[..., 1]) - 0.65 * r
    return np.hypot(q, p[..., 2]) - 0.28 * r


def _shape_tetrahedron(p: np.ndarray, r: float) -> np.ndarray:
    # four blobs at the corners of a tetrahedron (an asymmetric-looking complex)
    corners = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float) * 0.4 * r
    return np.min([_sphere(p - c, 0.38 * r) for c in corners], axis=0)


#: Signed-distance functions ``f(points, radius)`` of the particle shapes (negative inside).
PARTICLE_SHAPES: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "sphere": _shape_sphere,
    "ellipsoid": _shape_ellipsoid,
    "rod": _shape_rod,
    "dumbbell": _shape_dumbbell,
    "ring": _shape_ring,
    "tetrahedron": _shape_tetrahedron,
}


def _soft(sdf: np.ndarray, width: float = 0.7) -> np.ndarray:
    """Occupancy from a signed distance: 1 inside, 0 outside, a smooth step of ``width`` voxels."""
    return 0.5 * (1.0 - np.tanh(sdf / width))


def _template(shape: str, radius: int, rotation: np.ndarray | None = None) -> np.ndarray:
    """Occupancy of ``shape`` on a cube of side ``2 * radius + 1`` (axes z, y, x)."""
    g = np.arange(-radius, radius + 1, dtype=np.float64)
    zz, yy, xx = np.meshgrid(g, g, g, indexing="ij")
    pts = np.stack([xx, yy, zz], axis=-1)  # (x, y, z) coordinates of each voxel
    if rotation is not None:
        pts = pts @ rotation  # body coordinates: R^T p for row vectors
    return _soft(PARTICLE_SHAPES[shape](pts, float(radius)))


@dataclass
class Phantom:
    """A synthetic sample.

    Attributes
    ----------
    volume : numpy.ndarray
        Float32 density ``(z, y, x)`` (zero outside the ice slab).
    class_mask : numpy.ndarray
        Int16 labels ``(z, y, x)``: 0 background, ``i`` for ``class_names[i - 1]``.
    particles : list of Particle
        Every object with its class name, centre in voxels and Euler angles (ZXZ, degrees);
        vesicles and fiducials included, as in SHREC.
    templates : dict
        Class name to a small float32 density ``(z, y, x)`` of the particle in its reference
        orientation (for template matching).
    voxel_size : float
        Voxel size in Angstrom.
    class_names : list of str
        Names of the labels 1, 2, ... of ``class_mask``.
    """

    volume: np.ndarray
    class_mask: np.ndarray
    particles: list[Particle]
    templates: dict[str, np.ndarray]
    voxel_size: float = 10.0
    class_names: list[str] = field(default_factory=list)

    def save(self, directory: str | os.PathLike, *, overwrite: bool = False) -> dict[str, Path]:
        """Write ``volume.mrc`` (the grand model), ``class_mask.mrc``, ``particle_locations.txt``,
        ``classes.json`` and ``templates/<class>.mrc`` into ``directory`` (created if needed).

        Returns
        -------
        dict
            Name to path of each file written.
        """
        d = Path(directory)
        if d.exists() and not d.is_dir():
            raise NotADirectoryError(f"directory={str(d)!r} exists and is not a directory")
        d.mkdir(parents=True, exist_ok=True)
        (d / "templates").mkdir(exist_ok=True)
        out: dict[str, Path] = {}
        out["volume"] = write_mrc(d / "volume.mrc", self.volume, voxel_size=self.voxel_size, overwrite=overwrite, labels=["faket phantom: density"])
        out["class_mask"] = write_mrc(d / "class_mask.mrc", self.class_mask, voxel_size=self.voxel_size, overwrite=overwrite, labels=["faket phantom: class mask"])
        out["particles"] = write_particle_list(d / "particle_locations.txt", self.particles, overwrite=overwrite)
        text = json.dumps({"labels": {str(i + 1): n for i, n in enumerate(self.class_names)}, "voxel_size": self.voxel_size}, indent=2)
        p = d / "classes.json"
        if p.exists() and not overwrite:
            raise FileExistsError(f"path={str(p)!r} exists; pass overwrite=True (CLI: --overwrite) to replace it")
        out["classes"] = atomic_write(p, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
        for name, tpl in self.templates.items():
            out[f"template_{name}"] = write_mrc(d / "templates" / f"{name}.mrc", tpl, voxel_size=self.voxel_size, overwrite=overwrite)
        return out


def make_phantom(
    shape: Sequence[int] = (64, 128, 128),
    *,
    n_particles: int = 20,
    classes: Sequence[str] | None = None,
    n_vesicles: int = 2,
    n_fiducials: int = 4,
    membrane: bool = True,
    particle_radius: int = 6,
    voxel_size: float = 10.0,
    seed: int = 0,
) -> Phantom:
    """Generate a synthetic cryo-ET sample.

    Parameters
    ----------
    shape : sequence of int
        Volume shape ``(z, y, x)``; ``z`` is the slab thickness direction.
    n_particles : int
        Number of particles (classes drawn in turn, positions and orientations at random).
    classes : sequence of str, optional
        Particle classes, names from :data:`PARTICLE_SHAPES` (default: all of them).
    n_vesicles : int
        Number of vesicles (spherical lipid bilayers).
    n_fiducials : int
        Number of gold fiducials (class ``"fiducial"``).
    membrane : bool
        Add a curved membrane sheet (class ``"membrane"``; not in the particle list).
    particle_radius : int
        Radius in voxels of the particles' bounding spheres.
    voxel_size : float
        Voxel size in Angstrom (stored in the files).
    seed : int
        Seed of every random choice.

    Returns
    -------
    Phantom

    Raises
    ------
    ValueError
        If the arguments are invalid or the objects do not fit without overlapping.
    """
    shp = tuple(int(s) for s in shape)
    if len(shp) != 3 or min(shp) < 16 or any(int(s) != s for s in shape):
        raise ValueError(f"shape={tuple(shape)!r}: expected three integers of at least 16 (z, y, x)")
    cls_list = list(PARTICLE_SHAPES) if classes is None else list(classes)
    if not cls_list:
        raise ValueError("classes: expected at least one particle class")
    for c in cls_list:
        if c not in PARTICLE_SHAPES:
            raise ValueError(f"classes: {c!r} is not a particle shape; accepted: {', '.join(PARTICLE_SHAPES)}")
    if len(set(cls_list)) != len(cls_list):
        raise ValueError(f"classes={cls_list!r}: names must be distinct")
    for name, v in (("n_particles", n_particles), ("n_vesicles", n_vesicles), ("n_fiducials", n_fiducials)):
        if int(v) != v or v < 0:
            raise ValueError(f"{name}={v!r}: expected a non-negative integer")
    if int(particle_radius) != particle_radius or not 3 <= particle_radius <= min(shp) // 4:
        raise ValueError(f"particle_radius={particle_radius!r}: expected an integer from 3 to {min(shp) // 4} for shape {shp}")
    if not (np.isfinite(voxel_size) and voxel_size > 0):
        raise ValueError(f"voxel_size={voxel_size!r}: expected a positive number of Angstrom")
    rng = np.random.default_rng(seed)
    nz, ny, nx = shp
    class_names = [*cls_list, "vesicle", "fiducial", "membrane"]
    label = {n: i + 1 for i, n in enumerate(class_names)}

    # ice slab (central 80 % of z) with smooth density fluctuations
    zmargin = max(2, int(round(0.1 * nz)))
    slab = np.zeros(shp, dtype=bool)
    slab[zmargin : nz - zmargin] = True
    volume = np.where(slab, ICE, 0.0) + slab * 0.03 * gaussian_filter(rng.standard_normal(shp), 2.0) / 0.05
    class_mask = np.zeros(shp, dtype=np.int16)

    def paste(density: np.ndarray, occupancy: np.ndarray, center: np.ndarray, lab: int) -> None:
        r = density.shape[0] // 2
        cz, cy, cx = (int(round(c)) for c in center)
        sl = (slice(cz - r, cz + r + 1), slice(cy - r, cy + r + 1), slice(cx - r, cx + r + 1))
        sub = volume[sl]
        sub += density - ICE * occupancy * (sub > 0.5)  # matter displaces ice
        class_mask[sl][occupancy > 0.5] = lab

    # membrane: a gently curved sheet across the slab, 4 voxels thick, near one side in y
    membrane_band = None
    if membrane:
        xs = np.arange(nx)
        membrane_band = 0.15 * ny + 0.1 * (xs - nx / 2) + 0.03 * ny * np.sin(2 * np.pi * (xs / nx + rng.uniform()))
        dist = np.abs(np.arange(ny)[:, None] - membrane_band[None, :])  # (y, x)
        occ = _soft(dist - 2.0)[None, :, :] * slab
        volume += (LIPID - ICE) * occ
        class_mask[occ > 0.5] = label["membrane"]

    placed: list[tuple[np.ndarray, float]] = []  # (centre zyx, radius)

    def find_spot(radius: float) -> np.ndarray:
        lo = np.array([zmargin + radius + 1, radius + 1, radius + 1])
        hi = np.array([nz - zmargin - radius - 2, ny - radius - 2, nx - radius - 2])
        if np.any(hi <= lo):
            raise ValueError(f"an object of radius {radius:g} voxels does not fit shape {shp}; use a larger shape or fewer/smaller objects")
        for _ in range(2000):
            c = rng.uniform(lo, hi)
            if membrane_band is not None and abs(c[1] - membrane_band[int(c[2])]) < radius + 4:
                continue
            if all(np.linalg.norm(c - q) > radius + rq + 1 for q, rq in placed):
                placed.append((c, radius))
                return np.round(c)
        raise ValueError(f"could not place all objects without overlap in shape {shp}; use a larger shape or fewer objects")

    particles: list[Particle] = []
    # vesicles: bilayer shells
    for _ in range(int(n_vesicles)):
        rv = int(rng.integers(max(5, min(shp) // 8), max(6, min(shp) // 5) + 1))
        c = find_spot(rv + 2)
        g = np.arange(-(rv + 2), rv + 3, dtype=np.float64)
        d = np.sqrt(sum(a**2 for a in np.meshgrid(g, g, g, indexing="ij")))
        shell = _soft(np.abs(d - rv) - 1.5)
        paste((LIPID - ICE) * shell + ICE * shell, shell, c, label["vesicle"])
        particles.append(Particle("vesicle", float(c[2]), float(c[1]), float(c[0]), (0.0, 0.0, 0.0)))
    # particles, classes in turn, random orientation
    templates = {name: (PROTEIN * _template(name, int(particle_radius))).astype(np.float32) for name in cls_list}
    for i in range(int(n_particles)):
        name = cls_list[i % len(cls_list)]
        c = find_spot(particle_radius + 1.0)
        euler = rng.uniform([-180, 0, -180], [180, 180, 180])
        rot = Rotation.from_euler("ZXZ", euler, degrees=True).as_matrix()
        occ = _template(name, int(particle_radius), rot)
        paste(PROTEIN * occ, occ, c, label[name])
        particles.append(Particle(name, float(c[2]), float(c[1]), float(c[0]), tuple(float(e) for e in euler)))  # type: ignore[arg-type]
    # gold fiducials: small dense beads near the slab surfaces
    for _ in range(int(n_fiducials)):
        c = find_spot(3.0)
        occ = _template("sphere", 3)
        paste(GOLD * occ, occ, c, label["fiducial"])
        particles.append(Particle("fiducial", float(c[2]), float(c[1]), float(c[0]), (0.0, 0.0, 0.0)))
    return Phantom(
        volume=volume.astype(np.float32),
        class_mask=class_mask,
        particles=particles,
        templates=templates,
        voxel_size=float(voxel_size),
        class_names=class_names,
    )
