"""The README's 30-second example really runs."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.skipif(not README.is_file(), reason="README.md is not next to the tests (installed elsewhere)")
def test_readme_quick_example_runs(capsys):
    text = README.read_text(encoding="utf-8")
    section = text.split("## 30-second example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README-example", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.count("[") >= 3  # three transformed rows were printed
