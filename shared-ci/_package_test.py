"""Testing one package from its built wheel, in two phases (used by test-package and test-all).

`prepare` builds the sdist and the wheel from it, creates a fresh virtual environment and
installs the wheel with its `test` extra; it is mostly waiting on the package index, so
test-all prepares the next packages while the current one's tests use the CPU. `run`
checks that the package imports from that environment, runs its tests from the unpacked
sdist, and checks that docs/cli.md is current.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _common import ROOT, Package, package, tools_python, venv_python


@dataclass
class Prepared:
    """A package built and installed into its own environment."""

    pkg: Package
    work: Path
    ok: bool = False
    log: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    python: Path | None = None
    src_dir: Path | None = None
    built: list[Path] = field(default_factory=list)

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def _call(prep: Prepared, cmd: list, echo: bool, quiet: bool = False) -> bool:
    """Run a command; its output goes to the terminal (echo) or to prep.log.

    `quiet` drops its standard output (errors are kept).
    """
    line = "+ " + " ".join(str(c) for c in cmd)
    if echo:
        print(line, flush=True)
        out = subprocess.DEVNULL if quiet else None
        return subprocess.run([str(c) for c in cmd], stdout=out).returncode == 0
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    prep.log += [line, *([] if quiet else proc.stdout.splitlines()), *proc.stderr.splitlines()]
    return proc.returncode == 0


def prepare(name: str, root: Path, python: str, echo: bool = True) -> Prepared:
    """Build `name` (sdist, then wheel from the sdist) and install the wheel[test] fresh."""
    pkg = package(name, root)
    prep = Prepared(pkg, Path(tempfile.mkdtemp(prefix=f"test-{pkg.dist}-")))
    try:
        return _prepare(prep, python, echo)
    except Exception as exc:  # reported with the package's step, never lost in a thread
        prep.log.append(f"error: preparing {pkg.dist} failed: {exc!r}")
        prep.ok = False
        return prep


def _prepare(prep: Prepared, python: str, echo: bool) -> Prepared:
    pkg = prep.pkg
    start = time.perf_counter()
    # hatchling comes from the tools environment: no per-build isolated environment
    if not _call(prep, [tools_python(), "-m", "build", "--no-isolation", "--outdir",
                        prep.work / "dist", pkg.path], echo, quiet=True):
        prep.log.append(f"error: building {pkg.dist} failed")
        return prep
    sdists = sorted((prep.work / "dist").glob("*.tar.gz"))
    wheels = sorted((prep.work / "dist").glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        prep.log.append(f"error: expected one sdist and one wheel, got {sdists + wheels}")
        return prep
    prep.built = [*sdists, *wheels]
    with tarfile.open(sdists[0]) as tar:
        tar.extractall(prep.work / "sdist", filter="data")
    (prep.src_dir,) = list((prep.work / "sdist").iterdir())
    prep.timings["build"] = time.perf_counter() - start

    t0 = time.perf_counter()
    if not _call(prep, [python, "-m", "venv", prep.work / "venv"], echo):
        return prep
    prep.python = venv_python(prep.work / "venv")
    cmd = [prep.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--progress-bar", "off"]
    constraints = prep.src_dir / "tests" / "constraints.txt"
    if constraints.exists():  # the package's CI pins, e.g. a CPU build of torch
        cmd += ["-c", constraints]
    if not _call(prep, [*cmd, f"{wheels[0]}[test]"], echo):
        prep.log.append(f"error: installing {wheels[0].name}[test] failed")
        return prep
    prep.timings["install"] = time.perf_counter() - t0
    prep.ok = True
    return prep


def _plain(cmd: list, cwd: Path) -> int:
    return subprocess.run([str(c) for c in cmd], cwd=cwd).returncode


def run(prep: Prepared, root: Path, pytest_args: list[str],
        call: Callable[[list, Path], int] = _plain) -> int:
    """Run the tests of a prepared package; 0 when they and the CLI-reference check pass.

    `call(cmd, cwd) -> exit code` runs pytest and the check (test-all streams and counts).
    """
    pkg, py, src_dir = prep.pkg, prep.python, prep.src_dir
    assert py is not None and src_dir is not None
    where = subprocess.run([py, "-c", f"import {pkg.module}; print({pkg.module}.__file__)"],
                           cwd=src_dir, capture_output=True, text=True)
    if where.returncode != 0:
        print(where.stderr)
        print(f"error: {pkg.module} does not import from its installed wheel")
        return 1
    if not Path(where.stdout.strip()).resolve().is_relative_to((prep.work / "venv").resolve()):
        print(f"error: {pkg.module} imported from {where.stdout.strip()}, not the venv")
        return 1
    t0 = time.perf_counter()
    status = call([py, "-m", "pytest", "-p", "no:cacheprovider", *pytest_args], src_dir)
    prep.timings["tests"] = time.perf_counter() - t0
    if status != 0:
        return status
    return call([py, ROOT / "shared-ci" / "gen-cli-docs", "--check", "--root", root, pkg.dist],
                src_dir)


def summary(prep: Prepared) -> str:
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in prep.timings.items())
    return f"test-package {prep.pkg.dist}: {sum(prep.timings.values()):.0f} s ({parts})"
