"""CLI of the style-transfer side: `faket style`, `faket evaluate`, errors as one line and exit 2."""

import json

import numpy as np
import pytest

from faket.cli import main
from faket.mrc import read_mrc, write_mrc


@pytest.fixture
def stacks(tmp_path):
    rng = np.random.default_rng(0)
    write_mrc(tmp_path / "content.mrc", rng.normal(size=(3, 32, 32)).astype(np.float32))
    write_mrc(tmp_path / "style.mrc", (5 + 2 * rng.normal(size=(3, 32, 32))).astype(np.float32))
    write_mrc(tmp_path / "style2.mrc", rng.normal(size=(2, 32, 32)).astype(np.float32))
    return tmp_path


def _one_line_error(capsys, argv, *fragments):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("faket: error: "), err
    for f in fragments:
        assert f in err, err


def test_style_command(stacks, capsys):
    out = stacks / "styled.mrc"
    argv = ["style", str(stacks / "content.mrc"), str(stacks / "style.mrc"), str(out), "--iterations", "2", "--device", "cpu", "--trace", str(stacks / "t.json"), "--quiet"]
    assert main(argv) == 0
    styled = read_mrc(out).data
    assert styled.shape == (3, 32, 32)
    style = read_mrc(stacks / "style.mrc").data
    np.testing.assert_allclose(styled.mean(axis=(1, 2)), style.mean(axis=(1, 2)), rtol=1e-4)
    trace = json.loads((stacks / "t.json").read_text())
    assert trace["config"]["iterations"] == 2 and trace["trace"][-1]["iteration"] == 2
    capsys.readouterr()
    _one_line_error(capsys, argv, "exists", "--overwrite")


def test_style_command_errors(stacks, capsys, tmp_path):
    base = ["style", str(stacks / "content.mrc")]
    _one_line_error(capsys, base + [str(stacks / "style2.mrc"), str(tmp_path / "o.mrc"), "--iterations", "1"], "style: 2 tilts but content has 3")
    _one_line_error(
        capsys,
        base + [str(stacks / "style.mrc"), str(tmp_path / "o.mrc"), "--style-model", "vgg19", "--weights", str(tmp_path / "none.pth")],
        "none.pth",
        "not found",
        "never downloads",
    )
    (tmp_path / "bad.pth").write_bytes(b"\x00junk")
    _one_line_error(
        capsys,
        base + [str(stacks / "style.mrc"), str(tmp_path / "o.mrc"), "--style-model", "vgg19", "--weights", str(tmp_path / "bad.pth")],
        "could not be read",
    )
    bad = read_mrc(stacks / "content.mrc").data.copy()
    bad[0, 0, 0] = np.inf
    import mrcfile  # faket's writer refuses non-finite data; another program may not

    with mrcfile.new(tmp_path / "inf.mrc") as f:
        f.set_data(bad)
    _one_line_error(capsys, ["style", str(tmp_path / "inf.mrc"), str(stacks / "style.mrc"), str(tmp_path / "o.mrc")], "non-finite")
    assert not (tmp_path / "o.mrc").exists()


def test_evaluate_command(stacks, capsys):
    out = stacks / "m.json"
    assert main(["evaluate", str(stacks / "content.mrc"), str(stacks / "content.mrc"), "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["mean_abs_diff"] == 0 and printed["gram_mean"] == pytest.approx(0, abs=1e-6)
    assert "spectrum_simulated" in json.loads(out.read_text())
    _one_line_error(capsys, ["evaluate", str(stacks / "content.mrc"), str(stacks / "style2.mrc")], "measured: 2 tilts")
    argv = ["evaluate", str(stacks / "content.mrc"), str(stacks / "style.mrc"), "--out", str(out)]
    _one_line_error(capsys, argv, "exists", "--overwrite")
    assert json.loads(out.read_text())["gram_mean"] == pytest.approx(0, abs=1e-6)  # left as it was
    assert main(argv + ["--overwrite"]) == 0
    assert json.loads(out.read_text())["gram_mean"] > 0
