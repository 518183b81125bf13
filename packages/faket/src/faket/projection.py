"""Parallel-beam projection of volumes at tilt angles, and its exact adjoint, in torch.

Geometry: volumes are indexed ``(z, y, x)``; the beam runs along ``z`` at tilt 0. With ``axis="y"`` (the
IMOD convention: the tilt axis lies along the image ``y`` axis) the specimen is tilted in the
``x``-``z`` plane and the tilt series is indexed ``(tilt, y, u)``, ``u`` the detector coordinate
perpendicular to the axis. Centres are at index ``n // 2`` (as in :func:`skimage.transform.radon`
and IMOD), and the detector coordinate of a point is ``u = x cos(theta) - z sin(theta)``, so
that ``project(volume, angles)[:, j, :]`` equals ``skimage.transform.radon(volume[:, j, :],
angles, circle=True).T`` up to interpolation error. With ``axis="x"`` the roles of ``x`` and
``y`` are swapped and the series is indexed ``(tilt, u, x)``.

Contrast convention: :func:`project` returns line integrals of the density (dense matter is
bright), as the projections in the FakET paper; :func:`to_micrograph_contrast` inverts them so
that dense matter is dark as in measured tilt series.

The projector is Joseph's ray-driven method (linear interpolation along the ray, stepping along
the axis closer to the ray), assembled as one sparse matrix for all tilts of a plane and applied
to every plane at once (a sparse-dense product): batched over tilts and planes, on the GPU when
one is present. :func:`backproject` applies the transposed matrix, the exact adjoint.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import scipy.sparse
import torch

from faket.tilts import check_angles

__all__ = ["project", "backproject", "default_device", "to_micrograph_contrast", "check_volume", "check_tilt_series"]


def default_device(device: str | torch.device | None = None) -> torch.device:
    """Return ``device`` as a torch device; None means CUDA when available, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:1')") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r}: CUDA is not available on this machine; use 'cpu'")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device={str(device)!r}: only {torch.cuda.device_count()} CUDA device(s) present")
    return dev


def _check_axis(axis: str) -> str:
    if axis not in ("x", "y"):
        raise ValueError(f"axis={axis!r}: the tilt axis must be 'y' (IMOD default) or 'x'")
    return axis


def check_volume(volume: object, name: str = "volume") -> None:
    """Raise ValueError unless ``volume`` is a non-empty finite 3-D array."""
    shape = tuple(volume.shape) if hasattr(volume, "shape") else np.shape(volume)
    if len(shape) != 3:
        raise ValueError(f"{name}: expected a 3-D volume (z, y, x), got shape {shape}")
    if min(shape) == 0:
        raise ValueError(f"{name}: empty volume of shape {shape}")


def check_tilt_series(series: object, n_angles: int, name: str = "tilt_series") -> None:
    """Raise ValueError unless ``series`` is a non-empty 3-D stack with ``n_angles`` images."""
    shape = tuple(series.shape) if hasattr(series, "shape") else np.shape(series)
    if len(shape) != 3:
        raise ValueError(f"{name}: expected a 3-D tilt series (n_tilts, height, width), got shape {shape}")
    if min(shape) == 0:
        raise ValueError(f"{name}: empty tilt series of shape {shape}")
    if shape[0] != n_angles:
        raise ValueError(f"{name}: {shape[0]} images but {n_angles} tilt angles; the counts must match")


def _as_tensor(a: object, device: torch.device, name: str) -> tuple[torch.Tensor, bool]:
    """Return a float32 tensor on ``device`` and whether the input was a tensor."""
    if isinstance(a, torch.Tensor):
        t = a.detach().to(device=device, dtype=torch.float32)
        was_tensor = True
    else:
        arr = np.asarray(a)
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
            raise TypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not arr.flags.writeable:  # e.g. a read-only memory map from read_mrc(mmap=True)
            arr = arr.copy()
        t = torch.from_numpy(arr).to(device)
        was_tensor = False
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return t, was_tensor


def _out(t: torch.Tensor, was_tensor: bool) -> np.ndarray | torch.Tensor:
    return t if was_tensor else t.cpu().numpy()


def _coo(rows: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """COO matrix from entries already sorted by row, then column, without duplicates."""
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), vals.to(torch.float32), shape, is_coalesced=True, check_invariants=False)


def _tilt_order(angles_key: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Tilts stepped along z (``|theta| <= 45`` degrees) first, then the others; and the inverse."""
    theta = np.deg2rad(np.asarray(angles_key))
    along_z = np.abs(np.cos(theta)) >= np.abs(np.sin(theta))
    order = np.concatenate([np.flatnonzero(along_z), np.flatnonzero(~along_z)])
    return order, np.argsort(order)


# Sparse operators work on zero-padded planes: index i of an axis of length n sits at i + 1 of
# the padded axis of length n + 3, so that every interpolation has two in-range taps (zero
# weights or zero padding outside) and every row has the same number of entries: no masks.
_PAD = (1, 2)


def _padded(n: int) -> int:
    return n + _PAD[0] + _PAD[1]


def _linear_taps(coord: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left tap index (in the padded axis) and weight of the right tap for ``coord`` (float
    position on the unpadded axis of length ``n``); positions outside hit only the padding."""
    pc = (coord + _PAD[0]).clamp_(0.0, float(n + 1))
    k0 = torch.floor(pc)
    return k0.long(), (pc - k0).to(torch.float32)


@functools.lru_cache(maxsize=2)
def _joseph(nz: int, nx: int, nu: int, angles_key: tuple[float, ...], z_shift: float, device: str) -> torch.Tensor:
    """Sparse matrix ``(n_tilts * nu, (nz + 3) * (nx + 3))`` of Joseph's projector for one
    zero-padded plane. Rows are ordered (tilt in :func:`_tilt_order`, u), columns (z, x)."""
    dev = torch.device(device)
    f64 = dict(dtype=torch.float64, device=dev)
    order, _ = _tilt_order(angles_key)
    theta = torch.deg2rad(torch.tensor(angles_key, **f64))[torch.from_numpy(order).to(dev)]
    c, s = torch.cos(theta), torch.sin(theta)
    n_a = int((c.abs() >= s.abs()).sum())
    wx = _padded(nx)
    u = torch.arange(nu, **f64) - nu // 2
    zc = torch.arange(nz, **f64) - nz // 2 + z_shift
    xc = torch.arange(nx, **f64) - nx // 2
    nb = len(angles_key) - n_a
    n1 = n_a * nu * 2 * nz
    idx = torch.empty(2, n1 + nb * nu * 2 * nx, dtype=torch.long, device=dev)  # written in place
    vals = torch.empty(idx.shape[1], dtype=torch.float32, device=dev)
    if n_a:  # tilts up to 45 degrees: step along z, interpolate along x; entries (tilt, u, z, 2)
        ca, sa = c[:n_a, None, None], s[:n_a, None, None]
        k0, w1 = _linear_taps((u[None, :, None] + zc[None, None, :] * sa) / ca + nx // 2, nx)
        idx[0, :n1].view(n_a * nu, 2 * nz).copy_(torch.arange(n_a * nu, device=dev)[:, None].expand(-1, 2 * nz))
        col = idx[1, :n1].view(n_a, nu, nz, 2)
        col[..., 0] = k0 + ((torch.arange(nz, device=dev) + _PAD[0]) * wx)
        col[..., 1] = col[..., 0] + 1
        inv = (1.0 / ca.abs()).to(torch.float32)
        val = vals[:n1].view(n_a, nu, nz, 2)
        val[..., 1] = w1 * inv
        val[..., 0] = inv - val[..., 1]
    if nb:  # steeper tilts: step along x, interpolate along z; entries (tilt, u, x, 2), sorted per row
        cb, sb = c[n_a:, None, None], s[n_a:, None, None]
        k0, w1 = _linear_taps((xc[None, None, :] * cb - u[None, :, None]) / sb - z_shift + nz // 2, nz)
        col = torch.empty(*k0.shape, 2, dtype=torch.long, device=dev)
        col[..., 0] = k0 * wx + (torch.arange(nx, device=dev) + _PAD[0])
        col[..., 1] = col[..., 0] + wx
        inv = (1.0 / sb.abs()).to(torch.float32)
        val = torch.stack([(1.0 - w1) * inv, w1 * inv], dim=-1)
        sorted_cols, perm = torch.sort(col.reshape(nb * nu, 2 * nx), dim=-1)
        idx[1, n1:].view(nb * nu, 2 * nx).copy_(sorted_cols)
        vals[n1:].view(nb * nu, 2 * nx).copy_(torch.gather(val.reshape(nb * nu, 2 * nx), -1, perm))
        idx[0, n1:].view(nb * nu, 2 * nx).copy_(torch.arange(n_a * nu, (n_a + nb) * nu, device=dev)[:, None].expand(-1, 2 * nx))
    return torch.sparse_coo_tensor(idx, vals, (len(angles_key) * nu, _padded(nz) * wx), is_coalesced=True, check_invariants=False)


@functools.lru_cache(maxsize=2)
def _joseph_adjoint(nz: int, nx: int, nu: int, angles_key: tuple[float, ...], z_shift: float, device: str) -> torch.Tensor:
    """The transpose of :func:`_joseph`, sorted (rows: padded (z, x), columns: (tilt, u))."""
    a = _joseph(nz, nx, nu, angles_key, z_shift, device)
    idx = a.indices().cpu().numpy()
    indptr = np.zeros(a.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(idx[0], minlength=a.shape[0]), out=indptr[1:])
    m = scipy.sparse.csr_matrix((a.values().cpu().numpy(), idx[1], indptr), shape=tuple(a.shape))
    mt = m.T.tocsr()  # counting sort: rows and the columns within them come out sorted
    rows = torch.from_numpy(np.repeat(np.arange(mt.shape[0], dtype=np.int64), np.diff(mt.indptr)))
    cols = torch.from_numpy(mt.indices.astype(np.int64))
    return _coo(rows, cols, torch.from_numpy(mt.data), mt.shape).to(torch.device(device))


@functools.lru_cache(maxsize=2)
def _pixel_backprojector(nz: int, nx: int, nu: int, angles_key: tuple[float, ...], z_shift: float, device: str) -> torch.Tensor:
    """Sparse matrix ``(nz * nx, n_tilts * (nu + 3))``: the value at each pixel by linear
    interpolation of each zero-padded projection at ``u = x cos - z sin`` (the back-projection
    of filtered back-projection). Columns are ordered (tilt as given, padded u)."""
    dev = torch.device(device)
    theta = torch.deg2rad(torch.tensor(angles_key, dtype=torch.float64, device=dev))
    nt = theta.numel()
    wu = _padded(nu)
    zc = (torch.arange(nz, dtype=torch.float64, device=dev) - nz // 2 + z_shift)[:, None, None]
    xc = (torch.arange(nx, dtype=torch.float64, device=dev) - nx // 2)[None, :, None]
    k0, w1 = _linear_taps(xc * torch.cos(theta) - zc * torch.sin(theta) + nu // 2, nu)  # (nz, nx, nt)
    nnz = nz * nx * nt * 2
    idx = torch.empty(2, nnz, dtype=torch.long, device=dev)  # written in place
    idx[0].view(nz * nx, 2 * nt).copy_(torch.arange(nz * nx, device=dev)[:, None].expand(-1, 2 * nt))
    col = idx[1].view(nz, nx, nt, 2)
    col[..., 0] = k0 + torch.arange(nt, device=dev) * wu
    col[..., 1] = col[..., 0] + 1
    vals = torch.empty(nnz, dtype=torch.float32, device=dev)
    val = vals.view(nz, nx, nt, 2)
    val[..., 1] = w1
    val[..., 0] = 1.0 - w1
    return torch.sparse_coo_tensor(idx, vals, (nz * nx, nt * wu), is_coalesced=True, check_invariants=False)


def _angles_key(angles: np.ndarray) -> tuple[float, ...]:
    return tuple(float(a) for a in angles)


def _apply_planes(matrix: torch.Tensor, planes: torch.Tensor) -> torch.Tensor:
    """``matrix @ planes`` with ``planes`` of shape ``(n_in, n_planes)``."""
    return torch.sparse.mm(matrix, planes)


def project(
    volume: np.ndarray | torch.Tensor,
    angles: Sequence[float] | np.ndarray,
    *,
    axis: str = "y",
    detector_width: int | None = None,
    device: str | torch.device | None = None,
    z_shift: float = 0.0,
) -> np.ndarray | torch.Tensor:
    """Parallel-beam projections (line integrals) of a volume at the given tilt angles.

    Parameters
    ----------
    volume : numpy.ndarray or torch.Tensor
        Volume ``(z, y, x)``.
    angles : sequence of float
        Tilt angles in degrees, in [-90, 90].
    axis : {"y", "x"}
        Tilt axis (``"y"``: IMOD convention).
    detector_width : int, optional
        Number of detector pixels perpendicular to the tilt axis (default: the volume's size
        along that direction); a smaller detector crops the projections around the centre, a
        larger one pads them.
    device : str or torch.device, optional
        Where to compute (default: CUDA when available, else CPU).
    z_shift : float
        Shift of the volume centre along ``z`` in voxels (a slab above or below the centre
        plane of the specimen).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Float32 tilt series ``(n_tilts, ny, detector_width)`` for ``axis="y"``, ``(n_tilts,
        detector_width, nx)`` for ``axis="x"``; a tensor on ``device`` if ``volume`` is a tensor.
    """
    _check_axis(axis)
    check_volume(volume)
    a = check_angles(angles)
    dev = default_device(device)
    vol, was_tensor = _as_tensor(volume, dev, "volume")
    if axis == "x":
        vol = vol.permute(0, 2, 1)  # (z, x, y): the tilt plane is (z, y)
    nz, nplanes, nw = vol.shape
    nu = nw if detector_width is None else int(detector_width)
    if detector_width is not None and (int(detector_width) != detector_width or nu < 1):
        raise ValueError(f"detector_width={detector_width!r}: expected a positive integer")
    mat = _joseph(nz, nw, nu, _angles_key(a), float(z_shift), str(dev))
    vol = torch.nn.functional.pad(vol, (*_PAD, 0, 0, *_PAD))
    planes = vol.permute(0, 2, 1).reshape(_padded(nz) * _padded(nw), nplanes)  # rows (z, w), one column per plane
    _, inverse = _tilt_order(_angles_key(a))
    out = _apply_planes(mat, planes).reshape(a.size, nu, nplanes)[torch.from_numpy(inverse).to(dev)]  # (tilt, u, plane)
    out = out.permute(0, 2, 1) if axis == "y" else out
    return _out(out.contiguous(), was_tensor)


def backproject(
    tilt_series: np.ndarray | torch.Tensor,
    angles: Sequence[float] | np.ndarray,
    shape: tuple[int, int, int],
    *,
    axis: str = "y",
    device: str | torch.device | None = None,
    z_shift: float = 0.0,
) -> np.ndarray | torch.Tensor:
    """Exact adjoint of :func:`project`: ``<project(v), s> == <v, backproject(s)>``.

    Parameters
    ----------
    tilt_series : numpy.ndarray or torch.Tensor
        Tilt series as returned by :func:`project`.
    angles : sequence of float
        Tilt angles in degrees.
    shape : tuple of int
        Volume shape ``(z, y, x)``.
    axis : {"y", "x"}
        Tilt axis.
    device : str or torch.device, optional
        Where to compute.
    z_shift : float
        Shift of the volume centre along ``z`` in voxels (the adjoint of a projector whose
        volume centre sits ``z_shift`` voxels above the detector centre plane).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Float32 volume of ``shape``.
    """
    _check_axis(axis)
    a = check_angles(angles)
    check_tilt_series(tilt_series, a.size)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape={tuple(shape)!r}: expected a positive 3-D volume shape (z, y, x)")
    nz, ny, nx = (int(v) for v in shape)
    dev = default_device(device)
    ts, was_tensor = _as_tensor(tilt_series, dev, "tilt_series")
    if axis == "y":
        if ts.shape[1] != ny:
            raise ValueError(f"tilt_series: height {ts.shape[1]} does not match the volume's y size {ny}")
        nu, nw, nplanes = ts.shape[2], nx, ny
        cols = ts.permute(0, 2, 1)  # (tilt, u, plane)
    else:
        if ts.shape[2] != nx:
            raise ValueError(f"tilt_series: width {ts.shape[2]} does not match the volume's x size {nx}")
        nu, nw, nplanes = ts.shape[1], ny, nx
        cols = ts
    mat = _joseph_adjoint(nz, nw, nu, _angles_key(a), float(z_shift), str(dev))
    order, _ = _tilt_order(_angles_key(a))
    cols = cols[torch.from_numpy(order).to(dev)]
    vol = _apply_planes(mat, cols.reshape(a.size * nu, nplanes)).reshape(_padded(nz), _padded(nw), nplanes)
    vol = vol[_PAD[0] : _PAD[0] + nz, _PAD[0] : _PAD[0] + nw]
    vol = vol.permute(0, 2, 1) if axis == "y" else vol  # (z, y, x)
    return _out(vol.contiguous(), was_tensor)


def to_micrograph_contrast(tilt_series: np.ndarray) -> np.ndarray:
    """Invert line integrals so that dense matter is dark, as in measured cryo-ET tilt series."""
    return -np.asarray(tilt_series, dtype=np.float32)
