"""Metadata every workspace package must get right."""

from importlib.resources import files
from pathlib import Path

import deeperwin
from deeperwin.cli import main


def _citation_cff() -> str:
    """CITATION.cff as installed: in the package (wheel), or in the source tree (editable)."""
    shipped = files("deeperwin").joinpath("CITATION.cff")
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    package_dir = Path(deeperwin.__file__).resolve().parent
    assert package_dir.parent.name == "src", "CITATION.cff is missing from the installed wheel"
    return (package_dir.parents[1] / "CITATION.cff").read_text(encoding="utf-8")


def test_cite_matches_citation_cff():
    cff = _citation_cff()
    bib = deeperwin.cite()
    assert bib.lstrip().startswith("@")
    title = next(line for line in cff.splitlines() if line.startswith("  title:"))
    assert title.split(":", 1)[1].strip().strip('"') in bib


def test_version_flag(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert deeperwin.__version__ in capsys.readouterr().out


def test_public_api_resolves():
    for name in deeperwin.__all__:
        assert getattr(deeperwin, name) is not None, name
