"""The `faket` tomography subcommands: MRC in, MRC out; one-line errors, exit 2, no partial files."""

import io
import json

import mrcfile
import numpy as np
import pytest

from faket.cli import main
from faket.mrc import read_mrc, write_mrc
from faket.projection import project
from faket.reconstruction import fbp
from faket.tilts import read_tlt


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    assert main(["phantom", str(d / "ph"), "--shape", "32", "48", "48", "--n-particles", "4", "--particle-radius", "4", "--n-vesicles", "1", "--n-fiducials", "2", "--quiet"]) == 0
    assert main(["project", str(d / "ph" / "volume.mrc"), "-o", str(d / "ts.mrc"), "--tilt-range", "-60", "60", "4", "--quiet"]) == 0
    return d


def test_phantom_project_reconstruct_chain(workdir):
    d = workdir
    vol = read_mrc(d / "ph" / "volume.mrc")
    ts = read_mrc(d / "ts.mrc")
    angles = read_tlt(d / "ts.tlt")
    np.testing.assert_array_equal(angles, np.arange(-60, 61, 4.0))
    assert ts.voxel_size == vol.voxel_size == (10.0, 10.0, 10.0)
    np.testing.assert_allclose(ts.data, project(vol.data, angles), rtol=1e-5, atol=1e-4)
    with mrcfile.open(d / "ts.mrc") as mrc:
        assert mrc.is_image_stack()
    assert mrcfile.validate(d / "ts.mrc", print_file=io.StringIO())
    # angles come from ts.tlt next to the series
    assert main(["reconstruct", str(d / "ts.mrc"), "-o", str(d / "rec.mrc"), "--thickness", "32", "--filter", "shepp-logan", "--quiet"]) == 0
    rec = read_mrc(d / "rec.mrc").data
    np.testing.assert_allclose(rec, fbp(ts.data, angles, thickness=32, filter="shepp-logan"), rtol=1e-4, atol=1e-4)
    assert main(["reconstruct", str(d / "ts.mrc"), "-o", str(d / "sirt.mrc"), "--method", "sirt", "--iterations", "3", "--thickness", "32", "--quiet"]) == 0
    assert read_mrc(d / "sirt.mrc").data.shape == (32, 48, 48)


def test_noise_fit_and_apply(workdir, tmp_path):
    d = workdir
    clean = read_mrc(d / "ts.mrc").data
    rng = np.random.default_rng(0)
    meas = 0.5 * clean + 3.0 + rng.normal(size=clean.shape) * 2.0
    write_mrc(tmp_path / "meas.mrc", meas, stack=True)
    model = tmp_path / "noise.json"
    assert main(["noise", "fit", "--clean", str(d / "ts.mrc"), "--measured", str(tmp_path / "meas.mrc"), "-o", str(model), "--degree", "1", "--quiet"]) == 0
    coefs = json.loads(model.read_text())["coefficients"]
    assert coefs["scale"][-1] == pytest.approx(0.5, rel=0.05) and coefs["noise"][-1] == pytest.approx(2.0, rel=0.05)
    out = tmp_path / "noisy.mrc"
    assert main(["noise", "apply", str(d / "ts.mrc"), "-o", str(out), "--model", str(model), "--modality", "baseline", "--seed", "3", "--quiet"]) == 0
    sim = read_mrc(out).data
    assert sim.shape == clean.shape
    resid = sim - (coefs["scale"][-1] * clean + coefs["offset"][-1])
    assert resid.std() == pytest.approx(2.0, rel=0.1)


@pytest.mark.parametrize(
    "argv_fn, message",
    [
        (lambda d, t: ["project", str(t / "text.mrc"), "-o", str(t / "o.mrc"), "--tilt-range", "-60", "60", "3"], "not a valid MRC"),
        (lambda d, t: ["project", str(t / "flat.mrc"), "-o", str(t / "o.mrc"), "--tilt-range", "-60", "60", "3"], "3-D volume"),
        (lambda d, t: ["project", str(t / "zeros.mrc"), "-o", str(t / "o.mrc"), "--tilt-range", "-60", "60", "3"], "empty"),
        (lambda d, t: ["project", str(d / "ph" / "volume.mrc"), "-o", str(t / "o.mrc"), "--tilt-range", "-100", "60", "3"], "out of range"),
        (lambda d, t: ["reconstruct", str(d / "ts.mrc"), "-o", str(t / "o.mrc"), "--angles", str(t / "short.tlt")], "counts must match"),
        (lambda d, t: ["reconstruct", str(d / "ts.mrc"), "-o", str(t / "o.mrc"), "--tilt-range", "-60", "60", "4", "--thickness", "0"], "thickness"),
        (lambda d, t: ["noise", "apply", str(d / "ts.mrc"), "-o", str(t / "o.mrc"), "--model", str(t / "text.mrc")], "JSON"),
    ],
)
def test_bad_input_one_line_exit_2_no_output(workdir, tmp_path, capsys, argv_fn, message):
    (tmp_path / "text.mrc").write_text("this is not an MRC file\n" * 100)
    write_mrc(tmp_path / "flat.mrc", np.ones((8, 8), np.float32))
    write_mrc(tmp_path / "zeros.mrc", np.zeros((8, 8, 8), np.float32))
    (tmp_path / "short.tlt").write_text("-3\n0\n3\n")
    before = set(tmp_path.iterdir())
    assert main(argv_fn(workdir, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("faket: error:") and err.count("\n") == 1 and message in err
    assert set(tmp_path.iterdir()) == before  # nothing written, no temporaries


def test_existing_output_needs_overwrite(workdir, capsys):
    d = workdir
    assert main(["project", str(d / "ph" / "volume.mrc"), "-o", str(d / "ts.mrc"), "--tilt-range", "-60", "60", "4"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_reconstruct_axis_x(workdir, tmp_path):
    d = workdir
    ts = read_mrc(d / "ts.mrc").data
    angles = read_tlt(d / "ts.tlt")
    swapped = tmp_path / "tsx.mrc"
    write_mrc(swapped, np.ascontiguousarray(ts.transpose(0, 2, 1)), stack=True)
    out = tmp_path / "recx.mrc"
    assert main(["reconstruct", str(swapped), "-o", str(out), "--angles", str(d / "ts.tlt"), "--axis", "x", "--thickness", "32", "--quiet"]) == 0
    np.testing.assert_allclose(read_mrc(out).data, fbp(ts, angles, thickness=32).transpose(0, 2, 1), atol=1e-4)
