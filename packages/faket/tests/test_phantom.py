"""Synthetic samples: reproducible, non-overlapping, consistent mask, list and templates."""

import io

import mrcfile
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from faket.mrc import read_mrc
from faket.phantom import PARTICLE_SHAPES, make_phantom
from faket.tilts import read_particle_list


@pytest.fixture(scope="module")
def phantom():
    return make_phantom((48, 96, 96), n_particles=12, n_vesicles=1, n_fiducials=3, particle_radius=5, seed=3)


def test_phantom_contents(phantom):
    p = phantom
    assert p.volume.shape == p.class_mask.shape == (48, 96, 96)
    assert p.volume.dtype == np.float32 and p.class_mask.dtype == np.int16
    names = [q.cls for q in p.particles]
    assert names.count("vesicle") == 1 and names.count("fiducial") == 3
    assert sum(n in PARTICLE_SHAPES for n in names) == 12
    assert set(p.templates) == set(PARTICLE_SHAPES)
    # every class of the mask is a listed class; the background is ice or vacuum
    assert set(np.unique(p.class_mask)) <= set(range(len(p.class_names) + 1))
    for q in p.particles:
        lab = p.class_names.index(q.cls) + 1
        z, y, x = int(q.z), int(q.y), int(q.x)
        r = 9 if q.cls == "vesicle" else 6
        box = p.class_mask[max(z - r, 0) : z + r + 1, max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1]
        assert (box == lab).sum() > 10, q
        if q.cls in ("sphere", "ellipsoid", "rod", "fiducial"):
            assert p.class_mask[z, y, x] == lab
    # gold is far denser than ice and protein
    fid = p.particles[[q.cls for q in p.particles].index("fiducial")]
    assert p.volume[int(fid.z), int(fid.y), int(fid.x)] > 5.0
    assert np.percentile(p.volume[p.class_mask == 0], 99) < 1.5
    ice = p.volume[20:28][p.class_mask[20:28] == 0]
    assert abs(np.median(ice) - 1.0) < 0.05


def test_no_overlap_and_orientations(phantom):
    centres = np.array([[q.x, q.y, q.z] for q in phantom.particles if q.cls in PARTICLE_SHAPES])
    d = np.linalg.norm(centres[:, None] - centres[None], axis=-1) + np.eye(len(centres)) * 1e9
    assert d.min() > 2 * 5  # bounding spheres of radius 5 do not touch
    rots = [q.rotation for q in phantom.particles if q.cls in PARTICLE_SHAPES]
    assert len({tuple(np.round(r, 6)) for r in rots}) == len(rots)


def test_pasted_particle_is_rotated_template():
    # a single ellipsoid: its occupancy equals the template rotated by the listed Euler angles
    p = make_phantom((40, 64, 64), n_particles=1, classes=["ellipsoid"], n_vesicles=0, n_fiducials=0, membrane=False, particle_radius=6, seed=1)
    q = p.particles[0]
    rot = Rotation.from_euler("ZXZ", q.rotation, degrees=True)
    mask = p.class_mask == 1
    pts = np.argwhere(mask)[:, ::-1] - np.array([q.x, q.y, q.z])  # (x, y, z) offsets
    body = rot.inv().apply(pts)  # back to the reference orientation
    r = np.linalg.norm(body / (np.array([1.0, 0.55, 0.4]) * 6), axis=1)
    assert np.all(r < 1.15)  # every masked voxel lies inside the rotated ellipsoid
    tpl_vol = (p.templates["ellipsoid"] > 0.5 * p.templates["ellipsoid"].max()).sum()
    assert abs(mask.sum() - tpl_vol) < 0.15 * tpl_vol


def test_reproducible_and_save(tmp_path, phantom):
    again = make_phantom((48, 96, 96), n_particles=12, n_vesicles=1, n_fiducials=3, particle_radius=5, seed=3)
    np.testing.assert_array_equal(again.volume, phantom.volume)
    other = make_phantom((48, 96, 96), n_particles=12, n_vesicles=1, n_fiducials=3, particle_radius=5, seed=4)
    assert not np.array_equal(other.volume, phantom.volume)
    files = phantom.save(tmp_path / "ph")
    for path in files.values():
        if path.suffix == ".mrc":
            assert mrcfile.validate(path, print_file=io.StringIO())
    np.testing.assert_array_equal(read_mrc(files["volume"]).data, phantom.volume)
    assert read_mrc(files["volume"]).voxel_size == (10.0, 10.0, 10.0)
    np.testing.assert_array_equal(read_mrc(files["class_mask"]).data, phantom.class_mask)
    back = read_particle_list(files["particles"])
    assert [b.cls for b in back] == [q.cls for q in phantom.particles]
    with pytest.raises(FileExistsError):
        phantom.save(tmp_path / "ph")


def test_bad_arguments():
    with pytest.raises(ValueError, match="shape"):
        make_phantom((8, 64, 64))
    with pytest.raises(ValueError, match="not a particle shape"):
        make_phantom((32, 64, 64), classes=["cube"])
    with pytest.raises(ValueError, match="overlap|fit"):
        make_phantom((24, 32, 32), n_particles=200, particle_radius=5)
