"""The README's Python examples really run (the 30-second example, images, out of core)."""

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
pytestmark = pytest.mark.skipif(not README.is_file(), reason="README.md is not next to the tests (installed elsewhere)")


def _block(section: str) -> str:
    text = README.read_text(encoding="utf-8")
    part = text.split(section, 1)[1]
    return re.search(r"```python\n(.*?)```", part, re.S).group(1)


def test_readme_quick_example_runs(capsys):
    exec(compile(_block("## 30-second example"), "README-example", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.count("[") >= 3  # three transformed rows were printed


def test_readme_images_example_runs(tmp_path, monkeypatch):
    from redistributor.images import read_image, write_image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:64]
    photo = np.stack([xx * 3, yy * 4, (xx + yy) * 2], axis=-1).astype(np.uint8)
    write_image(tmp_path / "photo.jpg", photo)
    write_image(tmp_path / "reference.png", (rng.beta(5, 2, (40, 50, 3)) * 255).astype(np.uint8))
    monkeypatch.chdir(tmp_path)
    exec(compile(_block("### Images"), "README-images", "exec"), {})
    out = read_image(tmp_path / "photo-matched.png")
    assert out.shape == photo.shape and out.dtype == np.uint8


def test_readme_out_of_core_example_runs(capsys):
    pytest.importorskip("distributed")
    exec(compile(_block("### Larger than memory"), "README-dask", "exec"), {"__name__": "__main__"})
    rows = np.array([[float(v) for v in line.strip(" []").split()]
                     for line in capsys.readouterr().out.strip().splitlines()])
    assert rows.shape == (3, 3) and np.all((rows > 0) & (rows < 1))
