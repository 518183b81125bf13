"""The `mds` command against a fake tool built in the test, and the pins against pyproject."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import bibtexparser
import pytest

import mds_meta
from mds_meta.cli import main
from mds_meta.tools import TOOLS, Tool, pinned_versions

HERE = Path(__file__).resolve().parent
TITLE = "A Fake Paper on {Gabor} Phase Retrieval"


@pytest.fixture
def fake_tool(tmp_path, monkeypatch):
    """An installed distribution `fakemds` 1.2.3 with cite(), CITATION.cff and a demo."""
    site = tmp_path / "site"
    pkg = site / "fakemds"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(f'''
        def cite():
            return """@article{{fake2024,
          title = {{{TITLE}}},
          author = {{Doe, Jane and Roe, Richard}},
          journal = {{Journal of Tests}},
          year = {{2024}},
        }}
        """
    '''))
    (pkg / "demo.py").write_text(textwrap.dedent('''
        from pathlib import Path
        def run_demo(out_dir, *, quiet=False, seed=0):
            out = Path(out_dir) / "result.txt"
            out.write_text("42")
            return {"headline": "answer 42", "files": [str(out)]}
    '''))
    (pkg / "CITATION.cff").write_text('cff-version: 1.2.0\ntitle: "fakemds"\n')
    info = site / "fakemds-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakemds\nVersion: 1.2.3\n")
    for name in ("fakemds", "fakemds.demo"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    tool = Tool("fakemds", "a fake tool", "Doe and Roe, J. Tests 2024")
    monkeypatch.setitem(TOOLS, "fakemds", tool)
    return tool


def test_pins_in_metadata_equal_pyproject():
    with open(HERE.parent / "pyproject.toml", "rb") as fh:
        extras = tomllib.load(fh)["project"]["optional-dependencies"]
    expected = {name: reqs[0].split("==")[1] for name, reqs in extras.items()
                if name in TOOLS}
    assert pinned_versions() == expected
    assert set(expected) == set(TOOLS)
    assert sorted(extras["all"]) == sorted(f"{k}=={v}" for k, v in expected.items())


def test_cite_bibtex_parses(fake_tool, capsys):
    assert main(["cite", "fakemds"]) == 0
    library = bibtexparser.parse_string(capsys.readouterr().out)
    assert not library.failed_blocks
    (entry,) = library.entries
    assert entry.key == "fake2024"
    assert entry["title"] == TITLE
    assert entry["author"] == "Doe, Jane and Roe, Richard"


def test_cite_cff(fake_tool, capsys):
    assert main(["cite", "fakemds", "--format", "cff"]) == 0
    assert capsys.readouterr().out.startswith("cff-version: 1.2.0")


def test_list_reports_installed_and_pinned(fake_tool, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    fake_row = next(line for line in out.splitlines() if line.startswith("fakemds"))
    assert "1.2.3" in fake_row and "Doe and Roe" in fake_row
    for name in TOOLS:
        assert any(line.startswith(name) for line in out.splitlines())


def test_demo_runs_installed_and_reports_missing(fake_tool, tmp_path, capsys):
    results = mds_meta.run_demos([fake_tool, TOOLS["deeperwin"]], tmp_path / "out")
    ok, missing = results
    assert ok.status == "ok" and ok.headline == "answer 42"
    assert Path(ok.files[0]).read_text() == "42"
    if mds_meta.installed_version("deeperwin") is None:
        assert missing.status == "not installed"
        assert "mds-meta[deeperwin]" in missing.message


def test_demo_failure_is_reported_not_raised(fake_tool, tmp_path):
    (tmp_path / "site" / "fakemds" / "demo.py").write_text("def run_demo(out_dir, **kw):\n    raise RuntimeError('boom')\n")
    (result,) = mds_meta.run_demos([fake_tool], tmp_path / "out")
    assert result.status == "failed"
    assert "RuntimeError: boom" in result.message


@pytest.mark.parametrize("argv", [["cite", "fakeet"], ["demo", "nosuchtool"]])
def test_unknown_tool_exits_2_with_valid_names(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("mds: error: unknown tool")
    assert "faket" in err[0]


def test_console_script_unknown_tool_exit_code():
    proc = subprocess.run([sys.executable, "-m", "mds_meta.cli", "cite", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "valid tools" in proc.stderr
