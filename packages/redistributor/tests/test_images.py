"""Image matching: per channel, Lab and PCA; dtype and range kept; file reading and writing."""

import numpy as np
import pytest
from scipy import stats

from redistributor.images import lab_to_rgb, match_image, read_image, rgb_to_lab, write_image


@pytest.fixture
def pair(rng):
    img = (rng.random((60, 80, 3)) ** 2 * 255).astype(np.uint8)
    ref = (rng.beta(5, 2, (70, 50, 3)) * 255).astype(np.uint8)
    return img, ref


def test_lab_reference_values_and_round_trip(rng):
    # published CIELAB (D65) coordinates of sRGB primaries and white
    assert np.allclose(rgb_to_lab(np.array([1.0, 0, 0])), [53.2408, 80.0925, 67.2032], atol=2e-3)
    assert np.allclose(rgb_to_lab(np.array([0, 0, 1.0])), [32.2970, 79.1875, -107.8602], atol=2e-3)
    assert np.allclose(rgb_to_lab(np.ones(3)), [100, 0, 0], atol=1e-3)
    rgb = rng.random((20, 20, 3))
    assert np.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-12)


@pytest.mark.parametrize("space", ["rgb", "lab", "pca"])
def test_match_follows_reference_and_keeps_dtype(pair, space):
    img, ref = pair
    before = img.copy()
    out = match_image(img, ref, color_space=space)
    assert out.dtype == np.uint8 and out.shape == img.shape
    assert np.array_equal(img, before)
    for c in range(3):
        ks_before = stats.ks_2samp(img[..., c].ravel(), ref[..., c].ravel()).statistic
        ks_after = stats.ks_2samp(out[..., c].ravel(), ref[..., c].ravel()).statistic
        assert ks_after < ks_before / 3
        if space == "rgb":
            # order between distinct input levels is kept (ties are spread within their own jump)
            xin, xout = img[..., c].ravel(), out[..., c].ravel().astype(int)
            levels = np.unique(xin)
            hi = np.array([xout[xin == v].max() for v in levels])
            lo = np.array([xout[xin == v].min() for v in levels])
            assert np.all(hi[:-1] <= lo[1:] + 1)
            assert ks_after < 0.02


def test_float_and_uint16_images_and_alpha(rng):
    img = rng.random((30, 40, 4))
    ref = rng.beta(2, 5, (30, 30, 3))
    out = match_image(img, ref)
    assert out.dtype == np.float64 and 0 <= out.min() and out.max() <= 1
    assert np.array_equal(out[..., 3], img[..., 3])
    img16 = (rng.random((30, 30)) * 65535).astype(np.uint16)
    out16 = match_image(img16, "uniform")  # per-pixel-value target: uniform on [0, 1] times 65535? no: pixel units
    assert out16.dtype == np.uint16


def test_match_to_distribution(rng):
    img = (rng.random((64, 64)) ** 3 * 255).astype(np.uint8)
    out = match_image(img, stats.uniform(0, 255))  # histogram equalisation
    assert stats.kstest(out.ravel() / 255.0, "uniform").statistic < 0.02


def test_bad_images(rng, tmp_path):
    with pytest.raises(ValueError, match="color_space='hsv'"):
        match_image(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), color_space="hsv")
    with pytest.raises(ValueError, match="channels"):
        match_image(rng.random((4, 4, 3)), rng.random((4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        match_image(np.full((4, 4), np.nan), rng.random((4, 4)))
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="not a readable image"):
        read_image(bad)
    with pytest.raises(ValueError, match="suffix"):
        write_image(tmp_path / "x.bmp", np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match="PNG output needs a uint8 image.*write TIFF"):
        write_image(tmp_path / "x.png", rng.random((3, 3, 3)))
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        write_image(tmp_path / "folder.png", np.zeros((3, 3), np.uint8))
    grey = (rng.random((8, 8, 3)) * 255).astype(np.uint8)
    grey[..., 2] = 9
    with pytest.raises(ValueError, match=r"image channel 2 is constant \(every pixel equals 9\)"):
        match_image(grey, (rng.random((8, 8, 3)) * 255).astype(np.uint8))
    with pytest.raises(ValueError, match=r"reference channel 0 is constant"):
        match_image(grey[..., 0], np.zeros((5, 5)))
    with pytest.raises(ValueError, match="reference='nrom' is not a known distribution"):
        match_image(grey[..., 0], "nrom")
    assert sorted(f.name for f in tmp_path.iterdir()) == ["folder.png", "notes.png"]  # nothing half-written


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg"])
def test_read_write_round_trip(rng, tmp_path, suffix):
    yy, xx = np.mgrid[0:20, 0:30]
    img = np.stack([xx * 8, yy * 12, (xx + yy) * 5], axis=-1).astype(np.uint8)  # smooth: JPEG keeps it
    p = write_image(tmp_path / f"a{suffix}", img)
    back = read_image(p)
    assert back.shape == img.shape and back.dtype == np.uint8
    if suffix != ".jpg":
        assert np.array_equal(back, img)
    else:
        assert np.mean(np.abs(back.astype(int) - img)) < 3
    assert [f.name for f in tmp_path.iterdir()] == [f"a{suffix}"]  # no temporary file left behind


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_lab_lookup_table_equals_formula(rng, dtype):
    from redistributor.images import _to_lab

    top = np.iinfo(dtype).max
    px = (rng.random((5000, 3)) * top).astype(dtype)
    px[:3] = [[0, 0, 0], [top, top, top], [10, 11, 12]]  # both branches of the sRGB curve
    assert np.array_equal(_to_lab(px, float(top)), rgb_to_lab(px / float(top)))
