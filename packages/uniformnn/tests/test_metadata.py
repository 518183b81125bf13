"""Metadata every workspace package must get right."""

from importlib.resources import files

import uniformnn
from uniformnn.cli import main


def test_cite_matches_citation_cff():
    cff = files("uniformnn").joinpath("CITATION.cff").read_text(encoding="utf-8")
    bib = uniformnn.cite()
    assert bib.lstrip().startswith("@")
    title = next(line for line in cff.splitlines() if line.startswith("  title:"))
    assert title.split(":", 1)[1].strip().strip('"') in bib


def test_version_flag(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert uniformnn.__version__ in capsys.readouterr().out
