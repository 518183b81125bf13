"""Shared test settings and fixtures.

- pyscf on one thread (much faster on a loaded machine).
- ``tiny_config``: the smallest He run; every test that runs it reuses the same compiled functions
  (engines cache them by settings), and ``tiny_run`` is one finished run of it for the session.
- ``early_subprocesses``: tests that check subprocesses (several forced CPU devices, two processes
  of one distributed run) start them when collection ends and run last, so that the subprocesses
  compile on the second core while the other tests run in this process (which mostly compiles on
  one core).
"""

import copy
import inspect
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


_TINY = {
    "system": "He",
    "wavefunction": {"n_determinants": 1, "one_electron_width": 8, "two_electron_width": 4, "n_layers": 1},
    "sampling": {"n_walkers": 16, "steps_per_sample": 2, "burn_in": 2},
    "optimization": {"n_steps": 6, "optimizer": "kfac", "learning_rate": 0.01, "pretrain_steps": 2},
    "evaluation": {"n_steps": 16},
    "checkpoint_every": 3,
    "seed": 3,
}


@pytest.fixture
def tiny_config():
    """The smallest He run configuration; tests sharing it reuse each other's compiled functions."""
    return copy.deepcopy(_TINY)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """``(result, run_dir)`` of one complete run of ``tiny_config``, shared by the tests that compare with it.

    Read-only: a test that writes into a run directory makes its own.
    """
    from deeperwin.run import run

    run_dir = tmp_path_factory.mktemp("tiny") / "full"
    return run(copy.deepcopy(_TINY), run_dir, quiet=True), run_dir


# ---------------------------------------------------------------- subprocesses started early
SUBPROCESS_TIMEOUT_S = 900


@dataclass
class Subprocesses:
    """Processes started for a test, their scratch directory and, once finished, their outputs.

    Their stdout and stderr go to files in ``workdir`` (a pipe nobody reads before the test runs
    would fill up and stop a chatty process).
    """

    workdir: Path
    procs: list = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    outputs: list | None = None  # (returncode, stdout, stderr) per process

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        i = len(self.procs)
        with open(self.workdir / f"{i}.stdout", "w") as out, open(self.workdir / f"{i}.stderr", "w") as err:
            self.procs.append(subprocess.Popen(argv, env=env, cwd=self.workdir, stdout=out, stderr=err,
                                               stdin=subprocess.DEVNULL))

    def wait(self) -> list:
        """Wait for every process (at most ``SUBPROCESS_TIMEOUT_S`` from the start); their outputs."""
        if self.outputs is None:
            try:
                for p in self.procs:
                    p.wait(timeout=max(1.0, SUBPROCESS_TIMEOUT_S - (time.monotonic() - self.started)))
            finally:
                self.stop()
            self.outputs = [(p.returncode, (self.workdir / f"{i}.stdout").read_text(),
                             (self.workdir / f"{i}.stderr").read_text()) for i, p in enumerate(self.procs)]
        return self.outputs

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


_EARLY = pytest.StashKey[dict]()


def _launch(launcher) -> Subprocesses:
    """Start the processes ``launcher(workdir[, tiny_config])`` names as ``(argv, env)`` pairs."""
    job = Subprocesses(Path(tempfile.mkdtemp(prefix="deeperwin-test-")))
    kwargs = {"tiny_config": copy.deepcopy(_TINY)} if "tiny_config" in inspect.signature(launcher).parameters else {}
    try:
        for argv, env in launcher(job.workdir, **kwargs):
            job.start(argv, env)
    except BaseException:
        job.stop()
        shutil.rmtree(job.workdir, ignore_errors=True)
        raise
    return job


def pytest_configure(config):
    config.addinivalue_line("markers", "early_subprocesses(launcher=f): start the test's subprocesses when collection "
                                       "ends (see tests/conftest.py)")
    config.stash[_EARLY] = {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # the tests that wait for early subprocesses go last: the processes have the longest time to finish
    items.sort(key=lambda item: item.get_closest_marker("early_subprocesses") is not None)  # stable


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    jobs = session.config.stash[_EARLY]
    for item in session.items:
        marker = item.get_closest_marker("early_subprocesses")
        if marker is not None and marker.kwargs["launcher"] not in jobs:
            jobs[marker.kwargs["launcher"]] = _launch(marker.kwargs["launcher"])


def pytest_sessionfinish(session):
    for job in session.config.stash.get(_EARLY, {}).values():
        job.stop()
        shutil.rmtree(job.workdir, ignore_errors=True)


@pytest.fixture
def early_subprocesses(request) -> Subprocesses:
    """The finished subprocesses of the test's ``early_subprocesses`` marker (started now if they were not)."""
    marker = request.node.get_closest_marker("early_subprocesses")
    if marker is None:
        raise ValueError("early_subprocesses: the test needs a @pytest.mark.early_subprocesses(launcher=...) marker")
    jobs = request.config.stash[_EARLY]
    if marker.kwargs["launcher"] not in jobs:
        jobs[marker.kwargs["launcher"]] = _launch(marker.kwargs["launcher"])
    job = jobs[marker.kwargs["launcher"]]
    job.wait()
    return job
