"""Sphinx configuration of the workspace documentation.

One section per package, generated at build time from packages/*/pyproject.toml: the
package README (the problem, the paper, quickstart, how to cite), its CLI reference
(docs/cli.md, generated from the parser and checked in CI), its API (sphinx-autoapi,
static: no package is imported) and its changelog. Adding a package needs no change here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATED = HERE / "packages"

project = "Mathematical Data Science tools"
author = "Mathematical Data Science group, University of Vienna"
copyright = "2026, " + author

extensions = ["myst_parser", "autoapi.extension", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "README.md", "requirements.txt"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
html_theme = "furo"
html_title = project
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# "Attributes" sections become :ivar: fields, not a second description of attributes that
# autoapi already documents from the class body
napoleon_use_ivar = True


def _members() -> list[dict]:
    members = []
    for pyproject in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        with open(pyproject, "rb") as fh:
            project_ = tomllib.load(fh)["project"]
        dist = project_["name"]
        members.append({"dist": dist, "module": dist.replace("-", "_"),
                        "path": pyproject.parent, "summary": project_.get("description", "")})
    return members


MEMBERS = _members()

autoapi_type = "python"
autoapi_dirs = [str(m["path"] / "src" / m["module"]) for m in MEMBERS]
autoapi_root = "autoapi"
autoapi_add_toctree_entry = False
autoapi_keep_files = False
autoapi_options = ["members", "undoc-members", "show-inheritance", "show-module-summary",
                   "imported-members"]
autoapi_member_order = "groupwise"
# A package's public API is shown on its index page (imported-members) and in the module
# that defines it, so a type named in a docstring can resolve to two targets, and words
# of parameter types such as "array of shape (n_samples, n_features)" are parsed into
# references that several packages define (`shape`, `n_samples`). Sphinx warns that such
# a reference is ambiguous; that one warning class is silenced, every other warning
# still fails the build.
suppress_warnings = ["ref.python"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _generate() -> None:
    """Write docs-site/packages/<dist>/*.md: includes of each package's own files."""
    rows = ["| package | what it does | install |", "| --- | --- | --- |"]
    toc = []
    for m in MEMBERS:
        dist, rel = m["dist"], f"../../../packages/{m['dist']}"
        out = GENERATED / dist
        _write(out / "index.md",
               f"```{{include}} {rel}/README.md\n:relative-docs: ../\n:relative-images:\n```\n\n"
               f"```{{toctree}}\n:hidden:\n\ncli\napi\nchangelog\n```\n")
        _write(out / "cli.md", f"```{{include}} {rel}/docs/cli.md\n```\n")
        _write(out / "changelog.md", f"```{{include}} {rel}/CHANGELOG.md\n```\n")
        _write(out / "api.md",
               f"# `{m['module']}` API\n\n"
               f"Generated from the source by sphinx-autoapi.\n\n"
               f"```{{toctree}}\n:maxdepth: 2\n\n/autoapi/{m['module']}/index\n```\n")
        rows.append(f"| [{dist}]({dist}/index) | {m['summary']} | `pip install {dist}` |")
        toc.append(f"{dist}/index")
    _write(GENERATED / "index.md",
           "# Packages\n\n" + "\n".join(rows) + "\n\n```{toctree}\n:maxdepth: 1\n\n"
           + "\n".join(toc) + "\n```\n")


_generate()
