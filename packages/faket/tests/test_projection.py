"""Projector and back-projectors against scikit-image; adjointness; SIRT."""

import numpy as np
import pytest
import torch
from skimage.data import shepp_logan_phantom
from skimage.transform import iradon, radon, resize

from faket.projection import backproject, project
from faket.reconstruction import FILTERS, angular_weights, fbp, filter_response, sirt

N = 64


@pytest.fixture(scope="module")
def slice2d():
    img = resize(shepp_logan_phantom(), (N, N), anti_aliasing=True)
    yy, xx = np.mgrid[:N, :N] - N // 2
    img[np.hypot(yy, xx) > N // 2 - 1] = 0.0  # zero outside the circle, as radon(circle=True) needs
    return img


def _disk(n=N):
    yy, xx = np.mgrid[:n, :n] - n // 2
    return np.hypot(yy, xx) < n // 2 - 2


def _rel(a, b, mask=None):
    if mask is not None:
        a, b = a[mask], b[mask]
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("angles", [np.linspace(-90, 90, 48, endpoint=False), np.linspace(-60, 60, 41), np.array([-73.0, 0.0, 12.5, 45.0, 89.0])])
def test_project_matches_skimage_radon_per_slice(slice2d, angles):
    vol = np.stack([slice2d, 0.5 * slice2d[::-1], slice2d.T], axis=1).astype(np.float32)  # (z, y, x)
    series = project(vol, angles)
    assert series.shape == (angles.size, 3, N) and series.dtype == np.float32
    for j in range(3):
        ref = radon(vol[:, j, :].astype(np.float64), angles, circle=True).T
        # Joseph's method vs bilinear rotation: both linear interpolation; they agree to ~1 %
        assert _rel(series[:, j, :], ref) < 0.02


def test_project_axis_x_and_detector_width(slice2d):
    vol = np.stack([slice2d] * 2, axis=1).astype(np.float32)  # tilt plane (z, x)
    angles = np.array([-30.0, 0.0, 40.0])
    full = project(vol, angles)
    wide = project(vol, angles, detector_width=N + 10)
    narrow = project(vol, angles, detector_width=N - 20)
    np.testing.assert_allclose(wide[:, :, 5 : 5 + N], full, atol=1e-5)  # centre n // 2 stays put
    np.testing.assert_allclose(narrow, full[:, :, 10 : N - 10], atol=1e-5)
    # tilting about x is tilting about y of the volume with x and y swapped
    swapped = np.ascontiguousarray(vol.transpose(0, 2, 1))
    np.testing.assert_allclose(project(swapped, angles, axis="x"), full.transpose(0, 2, 1), atol=1e-5)
    # tilt 0 is the sum along z, exactly
    np.testing.assert_allclose(full[1], vol.sum(axis=0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis", ["y", "x"])
def test_backproject_is_exact_adjoint(axis):
    rng = np.random.default_rng(1)
    shape = (17, 9, 23)
    angles = np.array([-88.0, -60.0, -44.9, -10.0, 0.0, 7.5, 45.1, 70.0, 90.0])
    x = rng.normal(size=shape).astype(np.float32)
    for width in (None, 31, 12):
        ax = project(x, angles, axis=axis, detector_width=width).astype(np.float64)
        y = rng.normal(size=ax.shape).astype(np.float32)
        aty = backproject(y, angles, shape, axis=axis).astype(np.float64)
        lhs, rhs = np.vdot(ax, y), np.vdot(x.astype(np.float64), aty)
        assert abs(lhs - rhs) <= 1e-5 * np.sqrt(np.vdot(ax, ax) * np.vdot(y, y))


def test_torch_in_torch_out():
    vol = torch.rand(8, 4, 8)
    out = project(vol, [0.0, 30.0], device="cpu")
    assert isinstance(out, torch.Tensor) and out.shape == (2, 4, 8)
    np.testing.assert_allclose(out.numpy(), project(vol.numpy(), [0.0, 30.0]), atol=1e-6)


@pytest.mark.parametrize("filt", ["ramp", "shepp-logan", "cosine", "hamming"])
@pytest.mark.parametrize("angles", [np.linspace(-90, 90, 60, endpoint=False), np.linspace(-60, 60, 41)])
def test_fbp_matches_skimage_iradon(slice2d, filt, angles):
    sino = radon(slice2d, angles, circle=True)  # (N, n_angles)
    series = np.ascontiguousarray(sino.T[:, None, :], dtype=np.float32)
    ours = fbp(series, angles, filter=filt)[:, 0, :]
    ref = iradon(sino, angles, circle=True, filter_name=filt)
    disk = _disk()
    err_ours, err_ref = _rel(ours, slice2d, disk), _rel(ref, slice2d, disk)
    assert err_ours <= err_ref * 1.002 + 1e-6  # at least the quality of iradon
    assert _rel(ours, ref, disk) < 2e-3  # same algorithm up to float32 and windowing detail


def test_fbp_of_projector_output_reconstructs_phantom(slice2d):
    vol = np.stack([slice2d] * 2, axis=1).astype(np.float32)
    angles = np.linspace(-90, 90, 90, endpoint=False)
    rec = fbp(project(vol, angles), angles)
    ref = iradon(radon(slice2d, angles, circle=True), angles, circle=True)
    disk = _disk()
    assert _rel(rec[:, 1], slice2d, disk) < 1.05 * _rel(ref, slice2d, disk)


def test_fbp_thickness_and_z_offset(slice2d):
    vol = np.stack([slice2d] * 2, axis=1).astype(np.float32)
    angles = np.linspace(-60, 60, 31)
    series = project(vol, angles)
    full = fbp(series, angles)
    slab = fbp(series, angles, thickness=20, z_offset=-7)
    # slab z index k is specimen z (k - 10) + (-7), i.e. full index k - 10 - 7 + N // 2
    np.testing.assert_allclose(slab, full[N // 2 - 17 : N // 2 + 3], atol=1e-4)
    assert fbp(series, angles, thickness=10, width=40).shape == (10, 2, 40)


def test_axis_x_reconstruction_is_transposed_axis_y(slice2d):
    vol = np.stack([slice2d[::2, ::2]] * 3, axis=1).astype(np.float32)  # (z, y, x) with y = 3
    angles = np.linspace(-60, 60, 21)
    series_y = project(vol, angles)
    swapped = np.ascontiguousarray(vol.transpose(0, 2, 1))  # the same sample, tilted about x
    series_x = project(swapped, angles, axis="x")
    np.testing.assert_allclose(series_x, series_y.transpose(0, 2, 1), atol=1e-5)
    np.testing.assert_allclose(fbp(series_x, angles, axis="x"), fbp(series_y, angles).transpose(0, 2, 1), atol=1e-4)
    np.testing.assert_allclose(sirt(series_x, angles, axis="x", iterations=3), sirt(series_y, angles, iterations=3).transpose(0, 2, 1), atol=1e-4)


def test_filters_and_weights():
    f = np.fft.fftfreq(256)
    ramp = filter_response("ramp", 256)
    assert abs(ramp[0]) < 1e-3 and np.allclose(ramp[1:], np.abs(f[1:]), atol=2e-3)
    for name in FILTERS:
        h = filter_response(name, 128)
        assert h.shape == (128,) and np.all(np.isfinite(h))
    assert np.all(filter_response("hamming", 128) <= filter_response("ramp", 128) + 1e-12)
    np.testing.assert_allclose(angular_weights(np.linspace(-90, 90, 36, endpoint=False)), np.pi / 36)
    w = angular_weights([-60.0, -10.0, 0.0, 60.0])
    assert w.sum() == pytest.approx(np.pi) and w[1] < w[0]


def test_sirt_beats_fbp_in_missing_wedge(slice2d):
    vol = np.stack([slice2d] * 2, axis=1).astype(np.float32)
    angles = np.linspace(-60, 60, 41)
    series = project(vol, angles)
    calls = []
    rec = sirt(series, angles, iterations=40, callback=calls.append)
    assert calls == list(range(1, 41))
    disk = _disk()
    ref = iradon(radon(slice2d, angles, circle=True), angles, circle=True)
    assert _rel(rec[:, 0], slice2d, disk) < _rel(ref, slice2d, disk)


def test_bad_inputs():
    vol = np.zeros((4, 4, 4), np.float32)
    with pytest.raises(ValueError, match="3-D volume"):
        project(np.zeros((4, 4)), [0.0])
    with pytest.raises(ValueError, match="empty"):
        project(np.zeros((0, 4, 4)), [0.0])
    with pytest.raises(ValueError, match="out of range"):
        project(vol, [0.0, 120.0])
    with pytest.raises(ValueError, match="axis"):
        project(vol, [0.0], axis="z")
    with pytest.raises(ValueError, match="device"):
        project(vol, [0.0], device="warp-drive")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            project(vol, [0.0], device="cuda")
    with pytest.raises(ValueError, match="NaN"):
        project(np.full((2, 2, 2), np.nan), [0.0])
    with pytest.raises(ValueError, match="counts must match"):
        fbp(np.zeros((3, 4, 4), np.float32), [0.0, 1.0])
    with pytest.raises(ValueError, match="filter"):
        fbp(np.zeros((2, 4, 4), np.float32), [0.0, 1.0], filter="butterworth")
    with pytest.raises(ValueError, match="thickness"):
        fbp(np.zeros((2, 4, 4), np.float32), [0.0, 1.0], thickness=0)
