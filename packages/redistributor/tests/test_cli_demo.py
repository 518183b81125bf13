"""CLI subcommands and the demo, through main() as a user would call them."""

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from redistributor.cli import main


@pytest.fixture
def images(tmp_path, rng):
    yy, xx = np.mgrid[0:48, 0:64]
    src = np.stack([xx * 3, yy * 4, (xx + yy) * 2], -1).astype(np.uint8)
    ref = (rng.beta(5, 2, (40, 30, 3)) * 255).astype(np.uint8)
    Image.fromarray(src).save(tmp_path / "src.png")
    Image.fromarray(ref).save(tmp_path / "ref.png")
    return tmp_path, src, ref


@pytest.mark.parametrize("out_name", ["out.png", "out.tif", "out.jpg"])
def test_match_cli_round_trip(images, out_name, capsys):
    d, src, ref = images
    assert main(["match", str(d / "src.png"), str(d / "ref.png"), "-o", str(d / out_name)]) == 0
    assert "wrote" in capsys.readouterr().out
    if out_name.endswith(".tif"):
        import tifffile

        out = tifffile.imread(d / out_name)
    else:
        out = np.asarray(Image.open(d / out_name))
    assert out.shape == src.shape and out.dtype == np.uint8
    tol = 0.03 if not out_name.endswith(".jpg") else 0.1
    for c in range(3):
        assert stats.ks_2samp(out[..., c].ravel(), ref[..., c].ravel()).statistic < tol


def test_match_cli_lab_and_bad_files(images, capsys):
    d, _, _ = images
    assert main(["match", str(d / "src.png"), str(d / "ref.png"), "-o", str(d / "lab.png"), "--color-space", "lab"]) == 0
    (d / "notes.png").write_text("hello")
    capsys.readouterr()
    assert main(["match", str(d / "notes.png"), str(d / "ref.png"), "-o", str(d / "bad.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a readable image" in err
    assert not (d / "bad.png").exists()
    assert main(["match", str(d / "src.png"), str(d / "ref.png"), "-o", str(d / "bad.gif")]) == 2
    assert sorted(p.name for p in d.iterdir()) == ["lab.png", "notes.png", "ref.png", "src.png"]


def test_transform_cli(tmp_path, rng, capsys):
    x = rng.gamma(2.0, size=(4000, 2))
    np.save(tmp_path / "x.npy", x)
    rc = main(["transform", str(tmp_path / "x.npy"), "--target", "beta", "--param", "a=2", "--param", "b=5",
               "-o", str(tmp_path / "y.npy"), "--save-model", str(tmp_path / "m.npz")])
    assert rc == 0
    y = np.load(tmp_path / "y.npy")
    assert y.shape == x.shape
    assert stats.kstest(y[:, 0], stats.beta(2, 5).cdf).statistic < 0.02
    assert main(["transform", str(tmp_path / "y.npy"), "--model", str(tmp_path / "m.npz"), "--inverse",
                 "-o", str(tmp_path / "back.npy")]) == 0
    assert np.allclose(np.load(tmp_path / "back.npy"), x)
    np.save(tmp_path / "v.npy", x[:, 0])
    np.save(tmp_path / "ref.npy", rng.uniform(5, 6, 3000))
    assert main(["transform", str(tmp_path / "v.npy"), "--target", str(tmp_path / "ref.npy"), "-o", str(tmp_path / "w.npy")]) == 0
    w = np.load(tmp_path / "w.npy")
    assert w.shape == (4000,) and stats.kstest(w, stats.uniform(5, 1).cdf).statistic < 0.04
    ref = np.load(tmp_path / "ref.npy")
    assert main(["transform", str(tmp_path / "v.npy"), "--target", str(tmp_path / "ref.npy"), "--tails", "clip",
                 "-o", str(tmp_path / "w.npy")]) == 0
    w = np.load(tmp_path / "w.npy")
    assert ref.min() <= w.min() and w.max() <= ref.max()  # clip tails: inside the reference range


@pytest.mark.parametrize("argv, message", [
    (["--target", "gauss"], "target='gauss'"),
    (["--target", "beta", "--param", "alpha=2"], "beta"),
    (["--inverse"], "--inverse needs --model"),
])
def test_transform_cli_errors(tmp_path, rng, capsys, argv, message):
    np.save(tmp_path / "x.npy", rng.standard_normal(100))
    rc = main(["transform", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "y.npy").exists()


def test_transform_cli_bad_input_files(tmp_path, capsys):
    (tmp_path / "x.npy").write_text("nope")
    assert main(["transform", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]) == 2
    np.save(tmp_path / "c.npy", np.ones(10))
    assert main(["transform", str(tmp_path / "c.npy"), "-o", str(tmp_path / "y.npy")]) == 2
    assert "constant" in capsys.readouterr().err
    np.save(tmp_path / "i.npy", np.array([1.0, np.inf]))
    assert main(["transform", str(tmp_path / "i.npy"), "-o", str(tmp_path / "y.npy")]) == 2
    assert not (tmp_path / "y.npy").exists()


def test_demo(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--quiet", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert names == ["before_after.png", "config.json", "convergence.png", "metrics.csv", "transform.png"]
    rows = np.genfromtxt(tmp_path / "demo" / "metrics.csv", delimiter=",", names=True)
    # the held-out KS distance shrinks with n and ends far below the untransformed one
    assert rows["ks_after"][-1] < rows["ks_after"][0] / 5
    assert rows["ks_after"][-1] < rows["ks_before"][-1] / 20
    assert "n^-" in out and out.count("wrote") == 5



def test_demo_out_is_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    assert main(["demo", "--out", str(tmp_path / "taken"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists and is not a directory" in err[0]
