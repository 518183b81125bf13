"""The demo runs end to end and writes valid files (`faket demo`)."""

import io

import mrcfile
import pytest

from faket.cli import main


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, capsys):
    """The whole demo (a few minutes on a laptop CPU): not in the default run."""
    assert main(["demo", "--out", str(tmp_path / "d"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FAKET (weight-free")
    for name in ("noisy.mrc", "measured_like.mrc", "faket_styled.mrc", "faket_reconstruction.mrc"):
        assert mrcfile.validate(str(tmp_path / "d" / name), print_file=io.StringIO())
