"""MRC round trips, tilt files and particle lists; bad files are rejected."""

import io
import warnings

import mrcfile
import numpy as np
import pytest

from faket.mrc import read_mrc, write_mrc
from faket.tilts import (
    Particle,
    read_angles,
    read_particle_list,
    read_shrec_alignment,
    read_tlt,
    write_particle_list,
    write_shrec_alignment,
    write_tlt,
)


def _valid(path):
    return mrcfile.validate(path, print_file=io.StringIO())


def test_mrc_round_trip_keeps_data_voxel_size_and_header(tmp_path):
    rng = np.random.default_rng(0)
    vol = rng.normal(size=(5, 7, 9)).astype(np.float32)
    # a file written by mrcfile itself (as IMOD/RELION would), with origin and labels
    src = tmp_path / "src.mrc"
    with mrcfile.new(src) as mrc:
        mrc.set_data(vol)
        mrc.voxel_size = (2.5, 3.0, 4.25)
        mrc.header.origin = (10.0, -20.0, 30.5)
        mrc.header.nlabl = 2
        mrc.header.label[0] = b"IMOD label one"
        mrc.header.label[1] = b"second label"
    a = read_mrc(src)
    np.testing.assert_array_equal(a.data, vol)
    assert a.voxel_size == (2.5, 3.0, 4.25)
    assert a.origin == (10.0, -20.0, 30.5)
    assert a.labels == ["IMOD label one", "second label"]
    out = tmp_path / "out.mrc"
    write_mrc(out, a.data, voxel_size=a.voxel_size, header=a.header, labels=["faket"])
    assert _valid(out)
    b = read_mrc(out)
    np.testing.assert_array_equal(b.data, vol)
    assert b.voxel_size == a.voxel_size
    assert b.origin == a.origin
    assert b.labels == ["IMOD label one", "second label", "faket"]
    assert int(b.header.ispg) == 1
    with mrcfile.open(out) as mrc:  # independent reader agrees on the header fields
        assert (mrc.header.nx, mrc.header.ny, mrc.header.nz) == (9, 7, 5)
        assert mrc.header.mode == 2
        np.testing.assert_allclose(mrc.header.dmean, vol.mean(), rtol=1e-5)


def test_mrc_stack_int_and_mmap(tmp_path):
    series = np.arange(3 * 4 * 6, dtype=np.float64).reshape(3, 4, 6)
    p = write_mrc(tmp_path / "ts.mrc", series, voxel_size=7.0, stack=True)
    assert _valid(p)
    with mrcfile.open(p) as mrc:
        assert mrc.is_image_stack()
    m = read_mrc(p, mmap=True)
    assert isinstance(m.data, np.memmap)
    np.testing.assert_array_equal(m.data, series.astype(np.float32))
    # header says stack: it is kept when the header is passed on
    q = write_mrc(tmp_path / "ts2.mrc", m.data * 2, header=m.header)
    with mrcfile.open(q) as mrc:
        assert mrc.is_image_stack()
    mask = np.zeros((4, 4, 4), dtype=np.int64)
    mask[1, 2, 3] = 5
    r = write_mrc(tmp_path / "mask.mrc", mask)
    got = read_mrc(r).data
    assert got.dtype == np.int16 and got[1, 2, 3] == 5


def test_mrc_bad_inputs(tmp_path):
    txt = tmp_path / "not.mrc"
    txt.write_text("hello, I am not an MRC file\n" * 50)
    with pytest.raises(ValueError, match="not a valid MRC file"):
        read_mrc(txt)
    with pytest.raises(FileNotFoundError):
        read_mrc(tmp_path / "missing.mrc")
    with pytest.raises(ValueError, match="shape"):
        write_mrc(tmp_path / "x.mrc", np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="empty"):
        write_mrc(tmp_path / "x.mrc", np.zeros((0, 3, 3), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        write_mrc(tmp_path / "x.mrc", np.full((2, 2), np.nan))
    ok = write_mrc(tmp_path / "ok.mrc", np.ones((2, 2, 2), np.float32))
    with pytest.raises(FileExistsError):
        write_mrc(ok, np.ones((2, 2, 2), np.float32))
    write_mrc(ok, np.zeros((2, 2, 2), np.float32), overwrite=True)
    assert read_mrc(ok).data.sum() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not.mrc", "ok.mrc"]  # no temporaries left


def test_mrc_permissive_reads_damaged_file_with_warning(tmp_path):
    p = write_mrc(tmp_path / "d.mrc", np.ones((2, 3, 4), np.float32))
    raw = bytearray(p.read_bytes())
    raw[208:212] = b"XXXX"  # destroy the map ID string
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="permissive"):
        read_mrc(p)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        v = read_mrc(p, permissive=True)
    assert any(issubclass(x.category, RuntimeWarning) for x in w)
    np.testing.assert_array_equal(v.data, 1.0)


def test_tlt_round_trip_and_errors(tmp_path):
    angles = np.arange(-60, 61, 3, dtype=float)
    p = write_tlt(tmp_path / "a.tlt", angles)
    assert p.read_text().splitlines()[0] == " -60.00"  # IMOD layout
    np.testing.assert_array_equal(read_tlt(p), angles)
    q = tmp_path / "b.tlt"
    q.write_text("  -1.5\n\n 0.25\n 12.125\n")
    np.testing.assert_array_equal(read_tlt(q), [-1.5, 0.25, 12.125])
    np.testing.assert_array_equal(read_angles(q), [-1.5, 0.25, 12.125])
    q.write_text("10\nabc\n")
    with pytest.raises(ValueError, match="line 2"):
        read_tlt(q)
    q.write_text("10\n95\n")
    with pytest.raises(ValueError, match="out of range"):
        read_tlt(q)
    q.write_text("\n\n")
    with pytest.raises(ValueError, match="non-empty"):
        read_tlt(q)


def test_shrec_alignment(tmp_path):
    p = tmp_path / "alignment_simulated.txt"
    p.write_text(
        "# PyTom alignment file\n#\n# AlignmentTransX\n# AlignmentTransY\n# TiltAngle\n# Magnification\n"
        "   0.5   -1.0  -60.0  0.0  1.0  projections/synthetic_1.mrc\n"
        "   0.0    0.0    0.0  0.0  1.0  projections/synthetic_2.mrc\n"
        "  -0.5    2.0   60.0  0.0  1.0  projections/synthetic_3.mrc\n"
    )
    al = read_shrec_alignment(p)
    np.testing.assert_array_equal(al.angles, [-60, 0, 60])
    np.testing.assert_array_equal(al.shifts, [[0.5, -1], [0, 0], [-0.5, 2]])
    np.testing.assert_array_equal(read_angles(p), [-60, 0, 60])
    q = write_shrec_alignment(tmp_path / "w.txt", [-2.0, 0.0, 2.0], shifts=[[1, 2], [3, 4], [5, 6]])
    back = read_shrec_alignment(q)
    np.testing.assert_array_equal(back.angles, [-2, 0, 2])
    np.testing.assert_array_equal(back.shifts, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(back.magnification, 1.0)
    p.write_text("# header\n1.0 2.0\n")
    with pytest.raises(ValueError, match="line 2"):
        read_shrec_alignment(p)


def test_particle_list_round_trip_and_errors(tmp_path):
    p = tmp_path / "particle_locations.txt"
    p.write_text("4V94 181 286 19 -97.0 107.2 -14.0\nvesicle 10.5 20 30\n")
    parts = read_particle_list(p)
    assert parts[0] == Particle("4V94", 181.0, 286.0, 19.0, (-97.0, 107.2, -14.0))
    assert parts[1] == Particle("vesicle", 10.5, 20.0, 30.0, None)
    q = write_particle_list(tmp_path / "out.txt", parts)
    again = read_particle_list(q)
    assert again[0] == parts[0]
    assert again[1] == Particle("vesicle", 10.5, 20.0, 30.0, (0.0, 0.0, 0.0))
    p.write_text("4V94 1 2\n")
    with pytest.raises(ValueError, match="line 1"):
        read_particle_list(p)
    p.write_text("4V94 1 2 z\n")
    with pytest.raises(ValueError, match="not numbers"):
        read_particle_list(p)
    with pytest.raises(ValueError, match="class names"):
        write_particle_list(tmp_path / "bad.txt", [Particle("a b", 1, 2, 3)])
    assert not (tmp_path / "bad.txt").exists()


def test_memory_mapped_volume_projects_without_copy_warnings(tmp_path):
    import warnings as w

    from faket.projection import project

    vol = np.random.default_rng(0).random((8, 4, 8)).astype(np.float32)
    p = write_mrc(tmp_path / "v.mrc", vol)
    m = read_mrc(p, mmap=True)
    with w.catch_warnings():
        w.simplefilter("error")
        out = project(m.data, [0.0])
    np.testing.assert_allclose(out[0], vol.sum(axis=0), rtol=1e-5)
