"""Metadata every workspace package must get right."""

from importlib.resources import files

import faket
from faket.cli import main


def test_cite_matches_citation_cff():
    cff = files("faket").joinpath("CITATION.cff").read_text(encoding="utf-8")
    bib = faket.cite()
    assert bib.lstrip().startswith("@")
    title = next(line for line in cff.splitlines() if line.startswith("  title:"))
    assert title.split(":", 1)[1].strip().strip('"') in bib


def test_version_flag(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert faket.__version__ in capsys.readouterr().out
