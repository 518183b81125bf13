"""Tests of the workspace tooling in throw-away git repositories and workspaces."""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import bibtexparser
import pytest
import yaml

CI = Path(__file__).resolve().parent.parent
ROOT = CI.parent
sys.path.insert(0, str(CI))
from _common import packages  # noqa: E402

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}


def script(name: str, *args, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CI / name), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env)


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                         env=GIT_ENV)
    return out.stdout.strip()


def commit_file(repo: Path, rel: str, text: str) -> str:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"change {rel}")
    return git(repo, "rev-parse", "HEAD")


# --------------------------------------------------------------------------- list-packages

@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "ws"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for dirname, dist in [("alpha", "alpha"), ("beta", "beta-tool"), ("gamma", "gamma")]:
        (repo / "packages" / dirname).mkdir(parents=True)
        (repo / "packages" / dirname / "pyproject.toml").write_text(
            f'[project]\nname = "{dist}"\nversion = "0.1"\n')
    (repo / "README.md").write_text("ws\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def changed(repo: Path, base: str) -> list[str]:
    proc = script("list-packages", "--root", repo, "--changed", base)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_list_packages_all(repo):
    proc = script("list-packages", "--root", repo)
    assert json.loads(proc.stdout) == ["alpha", "beta-tool", "gamma"]


def test_list_packages_changed_only_touched_packages(repo):
    base = git(repo, "rev-parse", "HEAD")
    assert changed(repo, base) == []
    commit_file(repo, "packages/beta/src/beta_tool/core.py", "x = 1\n")
    assert changed(repo, base) == ["beta-tool"]
    commit_file(repo, "README.md", "docs only\n")
    assert changed(repo, base) == ["beta-tool"]
    commit_file(repo, "packages/alpha/README.md", "a\n")
    assert changed(repo, base) == ["alpha", "beta-tool"]


@pytest.mark.parametrize("shared", ["shared-ci/list-packages", "hatch.toml",
                                    ".github/workflows/ci.yml"])
def test_list_packages_shared_change_means_all(repo, shared):
    base = git(repo, "rev-parse", "HEAD")
    commit_file(repo, shared, "changed\n")
    assert changed(repo, base) == ["alpha", "beta-tool", "gamma"]


def test_list_packages_uses_merge_base(repo):
    # main moves on (gamma) after the branch point; the branch changed alpha only
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "packages/alpha/x.py", "1\n")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "packages/gamma/x.py", "1\n")
    git(repo, "checkout", "-q", "feature")
    assert changed(repo, "main") == ["alpha"]


def test_list_packages_bad_base(repo):
    proc = script("list-packages", "--root", repo, "--changed", "no-such-ref")
    assert proc.returncode != 0
    assert "no-such-ref" in proc.stderr and "Traceback" not in proc.stderr


def test_list_packages_real_workspace():
    proc = script("list-packages")
    found = sorted(p.parent.name for p in (ROOT / "packages").glob("*/pyproject.toml"))
    assert sorted(json.loads(proc.stdout)) == found


# --------------------------------------------------------------------------- check-pins

@pytest.fixture
def meta_copy(tmp_path):
    """A copy of the workspace's release metadata (enough for check-pins)."""
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(ROOT / "LICENSE", root / "LICENSE")
    for pkg in packages(ROOT):
        dest = root / "packages" / pkg.path.name
        for rel in ["pyproject.toml", "CITATION.cff", "CHANGELOG.md", "LICENSE",
                    f"src/{pkg.module}/__about__.py"]:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(pkg.path / rel, dest / rel)
    return root


def check_pins(root: Path) -> subprocess.CompletedProcess:
    return script("check-pins", "--root", root)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def test_check_pins_passes_on_the_workspace(meta_copy):
    proc = check_pins(meta_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("check-pins: ok")


def test_check_pins_wrong_pin(meta_copy):
    pkg = next(p for p in packages(meta_copy) if p.dist != "mds-meta")
    meta = meta_copy / "packages" / "mds-meta" / "pyproject.toml"
    edit(meta, f'{pkg.dist} = ["{pkg.dist}=={pkg.version}"]', f'{pkg.dist} = ["{pkg.dist}==0.0.1"]')
    proc = check_pins(meta_copy)
    assert proc.returncode == 1
    assert f"extra '{pkg.dist}' pins {pkg.dist}==0.0.1" in proc.stdout
    assert f"version is {pkg.version}" in proc.stdout


def test_check_pins_version_bump_without_pin(meta_copy):
    pkg = next(p for p in packages(meta_copy) if p.dist != "mds-meta")
    edit(pkg.about, pkg.version, "9.9.9")
    proc = check_pins(meta_copy)
    assert proc.returncode == 1
    assert "9.9.9" in proc.stdout  # pins and CITATION.cff no longer agree


def test_check_pins_invalid_citation(meta_copy):
    cff = meta_copy / "packages" / "mds-meta" / "CITATION.cff"
    data = yaml.safe_load(cff.read_text())
    del data["authors"]
    data["cff-version"] = "1.2"
    cff.write_text(yaml.safe_dump(data))
    proc = check_pins(meta_copy)
    assert proc.returncode == 1
    assert "mds-meta: CITATION.cff: (top level): 'authors' is a required property" in proc.stdout
    assert "cff-version" in proc.stdout


def test_check_pins_invalid_version_and_changelog(meta_copy):
    pkg = next(p for p in packages(meta_copy) if p.dist != "mds-meta")
    edit(pkg.about, pkg.version, "1.0-banana")
    edit(pkg.path / "CHANGELOG.md", "## Unreleased", "## Later")
    proc = check_pins(meta_copy)
    assert proc.returncode == 1
    assert f"{pkg.dist}: version '1.0-banana'" in proc.stdout
    assert f"{pkg.dist}: CHANGELOG.md has no '## Unreleased' section" in proc.stdout


def test_check_pins_license_copy(meta_copy):
    (meta_copy / "packages" / "mds-meta" / "LICENSE").write_text("All rights reserved\n")
    proc = check_pins(meta_copy)
    assert proc.returncode == 1 and "mds-meta: LICENSE differs" in proc.stdout


# --------------------------------------------------------------------------- release tags

def test_release_tag():
    pkg = packages(ROOT)[0]
    ok = script("release-tag", f"{pkg.dist}-v{pkg.version}")
    assert ok.returncode == 0 and ok.stdout.strip() == pkg.dist
    wrong = script("release-tag", f"{pkg.dist}-v999.0")
    assert wrong.returncode == 1 and "999.0" in wrong.stderr and pkg.version in wrong.stderr
    unknown = script("release-tag", "nosuch-v1.0")
    assert unknown.returncode == 1 and "names no package" in unknown.stderr


# --------------------------------------------------------------------------- workspace files

def test_hatch_matrix_lists_every_package():
    with open(ROOT / "hatch.toml", "rb") as fh:
        hatch = tomllib.load(fh)
    (matrix,) = hatch["envs"]["pkg"]["matrix"]
    assert sorted(matrix["package"]) == sorted(p.dist for p in packages(ROOT))


def test_every_script_has_help():
    for path in sorted(CI.iterdir()):
        if path.is_file() and os.access(path, os.X_OK):
            proc = script(path.name, "--help")
            assert proc.returncode == 0, path.name
            assert len(proc.stdout.strip().splitlines()) >= 3, path.name


def test_ci_run_is_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(python3 shared-ci/\S+.*)$", readme, re.M)
    ci_run = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
              if line.startswith("python3 ")]
    assert ci_run and ci_run[0] in commands


@pytest.mark.parametrize("pkg", [p for p in packages(ROOT)
                                 if (p.path / "src" / p.module / "_citation.py").exists()],
                         ids=lambda p: p.dist)
def test_citation_is_bibtex_of_the_cff_paper(pkg):
    bib = runpy.run_path(str(pkg.path / "src" / pkg.module / "_citation.py"))["cite"]()
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks
    (entry,) = library.entries
    cff = yaml.safe_load((pkg.path / "CITATION.cff").read_text())["preferred-citation"]
    assert entry["title"].replace("{", "").replace("}", "") == cff["title"]
    assert str(cff["year"]) == entry["year"]
    families = [a["family-names"] for a in cff["authors"]]
    assert [a.split(",")[0].strip() for a in entry["author"].split(" and ")] == families


# --------------------------------------------------------------------------- test-package

@pytest.fixture(scope="module")
def leaky_workspace(tmp_path_factory):
    """A workspace with one scaffolded package whose code imports PyYAML."""
    root = tmp_path_factory.mktemp("leaky")
    shutil.copy(ROOT / "LICENSE", root / "LICENSE")
    proc = script("new-package", "leaky", "--root", root, "--summary", "A leaky package",
                  "--title", "On leaks", "--author", "Doe, Jane", "--journal", "J. Tests",
                  "--year", "2024")
    assert proc.returncode == 0, proc.stderr
    pkg = root / "packages" / "leaky"
    # the tests need only pytest; the code needs PyYAML, which is not declared
    edit(pkg / "pyproject.toml", 'test = ["pytest>=8", "matplotlib>=3.8", "pyyaml>=6"]',
         'test = ["pytest>=8"]')
    edit(pkg / "pyproject.toml", 'dependencies = ["numpy>=1.26", "tqdm>=4.66"]',
         "dependencies = []")
    (pkg / "src" / "leaky" / "config.py").write_text(
        "import yaml\n\n\ndef load(text):\n    return yaml.safe_load(text)\n")
    (pkg / "tests" / "test_config.py").write_text(
        "from leaky.config import load\n\n\ndef test_load():\n    assert load('a: 1') == {'a': 1}\n")
    (pkg / "tests" / "test_metadata.py").unlink()  # its cite test reads CITATION.cff only
    env = {**os.environ, "PYTHONPATH": str(pkg / "src")}
    gen = script("gen-cli-docs", "leaky", "--root", root, env=env)
    assert gen.returncode == 0, gen.stderr
    return root


def test_test_package_catches_an_undeclared_dependency(leaky_workspace):
    proc = script("test-package", "leaky", "--root", leaky_workspace)
    assert proc.returncode != 0
    assert "No module named 'yaml'" in proc.stdout + proc.stderr


def test_test_package_passes_once_declared(leaky_workspace, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(leaky_workspace, root)
    edit(root / "packages" / "leaky" / "pyproject.toml", "dependencies = []",
         'dependencies = ["pyyaml>=6"]')
    proc = script("test-package", "leaky", "--root", root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "1 passed" in proc.stdout
