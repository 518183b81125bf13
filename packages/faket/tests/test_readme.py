"""The README's 30-second example runs as written and prints what the README says."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.skipif(not README.is_file(), reason="README.md is not shipped with this installation")
def test_readme_example_runs_as_written():
    text = README.read_text(encoding="utf-8")
    code = re.search(r"## 30-second example\n\n```python\n(.*?)```", text, re.S).group(1)
    claimed = re.search(r"prints `(.*?)`", text).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().strip() == claimed


@pytest.mark.skipif(not README.is_file(), reason="README.md is not shipped with this installation")
def test_readme_style_transfer_example_runs_as_written():
    text = README.read_text(encoding="utf-8")
    code = re.search(r"### Example: styling a tilt series\n\n```python\n(.*?)```", text, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    shape, loss = out.getvalue().split(")")
    assert shape.strip() == "(7, 32, 32" and float(loss) > 0
