"""The tools of the workspace: what each solves, its paper, its pinned and installed version.

Nothing here imports a tool: versions come from the installed distributions' metadata and
the pins from this package's own extras, so `mds list` is instant even with JAX or torch
installed.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata as md
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

__all__ = ["TOOLS", "Tool", "installed_version", "pinned_versions", "resolve_names"]


@dataclass(frozen=True)
class Tool:
    """One workspace tool."""

    dist: str
    """Distribution name, also the console script."""
    summary: str
    """The problem it solves, in a line."""
    paper: str
    """Short reference of the paper behind it."""

    @property
    def module(self) -> str:
        """Import name."""
        return self.dist.replace("-", "_")

    @property
    def install(self) -> str:
        """The pip command that installs it at the pinned version."""
        return f"pip install 'mds-meta[{self.dist}]'"


TOOLS: dict[str, Tool] = {
    t.dist: t
    for t in [
        Tool("deeperwin", "neural-network VMC for the electronic Schroedinger equation",
             "Scherbela et al., Nat. Comput. Sci. 2022"),
        Tool("faket", "fast cryo-electron tomogram simulation with neural style transfer",
             "Harar et al., arXiv:2304.02011 (2023)"),
        Tool("pdenet", "neural solvers for high-dimensional Kolmogorov and semilinear PDEs",
             "Berner, Dablander, Grohs, NeurIPS 2020"),
        Tool("redistributor", "transform samples to follow a target distribution",
             "Harar et al., arXiv:2210.14219 (2022)"),
        Tool("stftpr", "phase retrieval from STFT magnitudes with stability diagnostics",
             "Grohs, Rathmair, Comm. Pure Appl. Math. 2019"),
        Tool("uniformnn", "uniform-norm accuracy of ReLU networks, measured and certified",
             "Berner, Grohs, Voigtlaender, ICLR 2023"),
    ]
}


def installed_version(dist: str) -> str | None:
    """The installed version of `dist`, or None when it is not installed."""
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


_PIN = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^;\s]+)\s*;\s*extra\s*==\s*['\"]([^'\"]+)['\"]")


def pinned_versions() -> dict[str, str]:
    """The version each tool is pinned to by this package's extras (`mds-meta[tool]`)."""
    pins: dict[str, str] = {}
    for req in md.requires("mds-meta") or []:
        match = _PIN.match(req)
        if match and match.group(1) == match.group(3):
            pins[match.group(1)] = match.group(2)
    return pins


def resolve_names(names: list[str]) -> list[Tool]:
    """Tools for `names` (all when empty); ValueError naming the valid names otherwise."""
    if not names:
        return list(TOOLS.values())
    chosen = []
    for name in names:
        if name not in TOOLS:
            close = difflib.get_close_matches(name, TOOLS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown tool {name!r}{hint}; valid tools: {', '.join(TOOLS)}")
        chosen.append(TOOLS[name])
    return chosen


def citation(tool: Tool, fmt: str = "bibtex") -> str:
    """The citation of an installed tool, from the tool itself.

    ``bibtex`` calls the tool's ``cite()``; ``cff`` returns the ``CITATION.cff`` shipped
    in its wheel.
    """
    if installed_version(tool.dist) is None:
        raise ValueError(f"{tool.dist} is not installed; install it with {tool.install}")
    if fmt == "bibtex":
        return importlib.import_module(tool.module).cite()
    if fmt == "cff":
        shipped = files(tool.module).joinpath("CITATION.cff")
        if not shipped.is_file():  # an editable install: the file is in the source tree
            shipped = Path(str(files(tool.module))).resolve().parents[1] / "CITATION.cff"
        return shipped.read_text(encoding="utf-8")
    raise ValueError(f"format {fmt!r} is not supported; use 'bibtex' or 'cff'")
