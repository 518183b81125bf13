"""Shared test settings and fixtures.

- pyscf on one thread (much faster on a loaded machine).
- ``block_error``: a blocking error bar written independently of deeperwin.blocking.
- ``tiny_config``: the smallest He run; every test that runs it reuses the same compiled functions
  (engines cache them by settings), and ``tiny_run`` is one finished run of it for the session.
- ``early_subprocesses``: tests that check subprocesses (several forced CPU devices, two processes
  of one distributed run) queue them when collection ends and run last, so that the subprocesses
  compile on the second core while the other tests run in this process (which mostly compiles on
  one core). One launcher runs at a time.
"""

import copy
import inspect
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
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


def _block_error(x, n_blocks=10):
    """Standard error of the mean from block means (independent of deeperwin.blocking)."""
    blocks = np.array_split(np.asarray(x), n_blocks)
    means = np.array([b.mean() for b in blocks])
    return means.std(ddof=1) / np.sqrt(n_blocks)


@pytest.fixture(scope="session")
def block_error():
    """``block_error(x, n_blocks=10)``: the standard error of the mean of ``x`` from block means."""
    return _block_error


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """``(result, run_dir)`` of one complete run of ``tiny_config``, shared by the tests that compare with it.

    Read-only: a test that writes into a run directory makes its own.
    """
    from deeperwin.run import run

    run_dir = tmp_path_factory.mktemp("tiny") / "full"
    return run(copy.deepcopy(_TINY), run_dir, quiet=True), run_dir


# ---------------------------------------------------------------- subprocesses started early
SUBPROCESS_TIMEOUT_S = 900  # per launcher, from the start of its processes


@dataclass
class Subprocesses:
    """The processes of one launcher, their scratch directory and, once finished, their outputs.

    Their stdout and stderr go to files in ``workdir`` (a pipe nobody reads before the test runs
    would fill up and stop a chatty process).
    """

    launcher: Callable
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="deeperwin-test-")))
    procs: list = field(default_factory=list)
    outputs: list | None = None  # (returncode, stdout, stderr) per process
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Start the processes ``launcher(workdir[, tiny_config])`` names as ``(argv, env)`` pairs; wait for them."""
        try:
            params = inspect.signature(self.launcher).parameters
            kwargs = {"tiny_config": copy.deepcopy(_TINY)} if "tiny_config" in params else {}
            for i, (argv, env) in enumerate(self.launcher(self.workdir, **kwargs)):
                with open(self.workdir / f"{i}.stdout", "w") as out, open(self.workdir / f"{i}.stderr", "w") as err:
                    self.procs.append(subprocess.Popen(argv, env=env, cwd=self.workdir, stdout=out, stderr=err,
                                                       stdin=subprocess.DEVNULL))
            deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
            for p in self.procs:
                p.wait(timeout=max(1.0, deadline - time.monotonic()))
            self.outputs = [(p.returncode, (self.workdir / f"{i}.stdout").read_text(),
                             (self.workdir / f"{i}.stderr").read_text()) for i, p in enumerate(self.procs)]
        except BaseException as exc:  # handed to the test that waits for these processes
            self.error = exc
        finally:
            self.stop()
            self.done.set()

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


class _Queue(threading.Thread):
    """Runs the launchers one after the other (one at a time: several forced CPU devices in one
    process synchronise at every collective, which is slow when many processes share 2 cores)."""

    def __init__(self, jobs: list[Subprocesses]) -> None:
        super().__init__(daemon=True)
        self.jobs, self.stopping = jobs, threading.Event()

    def run(self) -> None:
        for job in self.jobs:
            if self.stopping.is_set():
                job.error = RuntimeError("test session ended before the subprocesses started")
                job.done.set()
            else:
                job.run()


_EARLY = pytest.StashKey[dict]()
_QUEUE = pytest.StashKey[_Queue]()


def pytest_configure(config):
    config.addinivalue_line("markers", "early_subprocesses(launcher=f, order=0): queue the test's subprocesses when "
                                       "collection ends (see tests/conftest.py)")
    config.stash[_EARLY] = {}


def _queue_position(item) -> tuple[bool, int]:
    marker = item.get_closest_marker("early_subprocesses")
    return (False, 0) if marker is None else (True, marker.kwargs.get("order", 0))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # the tests that wait for early subprocesses go last (the processes have the longest time to
    # finish), in the order their launchers are queued (marker argument ``order``, default 0)
    items.sort(key=_queue_position)  # stable


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    jobs = session.config.stash[_EARLY]
    for item in session.items:
        marker = item.get_closest_marker("early_subprocesses")
        if marker is not None and marker.kwargs["launcher"] not in jobs:
            jobs[marker.kwargs["launcher"]] = Subprocesses(marker.kwargs["launcher"])
    if jobs:
        session.config.stash[_QUEUE] = _Queue(list(jobs.values()))
        session.config.stash[_QUEUE].start()


def pytest_sessionfinish(session):
    queue = session.config.stash.get(_QUEUE, None)
    if queue is not None:
        queue.stopping.set()
    for job in session.config.stash.get(_EARLY, {}).values():
        job.stop()
    if queue is not None:
        queue.join(timeout=30)
    for job in session.config.stash.get(_EARLY, {}).values():
        job.stop()
        shutil.rmtree(job.workdir, ignore_errors=True)


@pytest.fixture
def early_subprocesses(request) -> Subprocesses:
    """The finished subprocesses of the test's ``early_subprocesses`` marker (run now if they were not queued)."""
    marker = request.node.get_closest_marker("early_subprocesses")
    if marker is None:
        raise ValueError("early_subprocesses: the test needs a @pytest.mark.early_subprocesses(launcher=...) marker")
    jobs = request.config.stash[_EARLY]
    launcher = marker.kwargs["launcher"]
    if launcher not in jobs:
        jobs[launcher] = Subprocesses(launcher)
        jobs[launcher].run()
    job = jobs[launcher]
    if not job.done.wait(timeout=2 * SUBPROCESS_TIMEOUT_S):  # the queue may run another launcher first
        raise TimeoutError(f"the subprocesses of {launcher.__name__} did not finish")
    if job.error is not None:
        raise job.error
    return job
