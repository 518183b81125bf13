"""Two processes on CPU form one run with ``jax.distributed`` (gloo collectives), 2 devices each.

Each process is a subprocess with its own forced host device count; they meet at a
coordinator on a free localhost port. The two-process run (interrupted and restarted) is
compared with the same configuration run in this process on one device (the session's
``tiny_run``): the random streams do not depend on how the walkers are split, so the runs are
the same computation up to the order of floating-point reductions. The two processes start
when collection ends and run while the tests before this one run (``early_subprocesses`` in
conftest.py).
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    mode, run_dir, address, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    config = json.loads(sys.argv[5])
    config["parallel"] = {"distributed": True, "coordinator_address": address, "num_processes": 2, "process_id": pid}
    from deeperwin.run import restart, run
    if mode in ("stop", "both"):
        out = run(config, run_dir, quiet=True, stop_after=3)
        assert out == {"stopped_at": 3}, out
    if mode in ("restart", "both"):  # the stored configuration is process 0's: each process names itself
        out = restart(run_dir, quiet=True, overrides=[f"parallel.process_id={pid}",
                                                      f"parallel.coordinator_address={address}"])
    import jax
    out.update(process_index=jax.process_index(), process_count=jax.process_count(), devices=len(jax.devices()),
               local_devices=len(jax.local_devices()))
    print("RESULT" + json.dumps(out))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _two_process_commands(mode: str, run_dir: Path, config: dict) -> list[tuple[list[str], dict]]:
    """``(argv, env)`` of the two processes of one distributed run (a new coordinator port)."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu",
           "OMP_NUM_THREADS": "1"}
    address = f"localhost:{_free_port()}"
    return [([sys.executable, "-c", SCRIPT, mode, str(run_dir), address, str(i), json.dumps(config)], env)
            for i in range(2)]


def _results(outputs: list[tuple[int, str, str]]) -> list[dict]:
    outs = []
    for returncode, stdout, stderr in outputs:
        assert returncode == 0, stderr[-3000:]
        outs.append(json.loads(stdout.split("RESULT", 1)[1]))
    return outs


def _two_processes(mode: str, run_dir: Path, config: dict) -> list[dict]:
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for argv, env in _two_process_commands(mode, run_dir, config)]
    try:
        outputs = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=500)
            outputs.append((p.returncode, stdout, stderr))
        return _results(outputs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def _check_against_single_process(multi: Path, outs: list[dict], single_run: tuple[dict, Path]) -> None:
    assert [o["process_index"] for o in outs] == [0, 1]
    assert all(o["process_count"] == 2 and o["devices"] == 4 and o["local_devices"] == 2 for o in outs)
    single, single_dir = single_run  # reference: the same configuration run in one process on one device

    # one run directory written once: the files of a single-process run, no stray temporaries
    names = sorted(p.name for p in multi.iterdir())
    assert names == sorted(p.name for p in single_dir.iterdir())
    assert not [n for n in names if n.startswith(".")]
    metrics = (multi / "metrics.csv").read_text().splitlines()
    assert [int(line.split(",")[0]) for line in metrics[1:]] == list(range(1, 7))
    assert json.loads((multi / "checkpoint.json").read_text())["meta"]["step"] == 6

    # both processes return the same evaluation, equal to the single-process run
    assert outs[0]["energy"] == outs[1]["energy"]
    assert outs[0]["energy"] == pytest.approx(single["energy"], abs=1e-4)
    # the checkpoint holds the gathered arrays (all 16 walkers, from both processes), as on one device
    with np.load(multi / "checkpoint.npz") as a, np.load(single_dir / "checkpoint.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            assert a[k].shape == b[k].shape
            np.testing.assert_allclose(a[k], b[k], rtol=1e-3, atol=1e-4)


def _launch_stop_and_restart(workdir: Path, tiny_config: dict) -> list[tuple[list[str], dict]]:
    # the same two processes run 3 of 6 steps (stop with a checkpoint), then restart from the directory
    return _two_process_commands("both", workdir / "multi", tiny_config)


@pytest.mark.early_subprocesses(launcher=_launch_stop_and_restart, order=1)  # after test_parallel's
def test_two_processes_write_one_run_directory_and_restart(early_subprocesses, tiny_run):
    outs = _results(early_subprocesses.outputs)
    _check_against_single_process(early_subprocesses.workdir / "multi", outs, tiny_run)


@pytest.mark.slow
def test_two_processes_restart_in_new_processes(tmp_path, tiny_config, tiny_run):
    # interrupted after 3 steps; two new processes (new coordinator port) continue the run to the end
    stopped = _two_processes("stop", tmp_path / "multi", tiny_config)
    assert [o["stopped_at"] for o in stopped] == [3, 3]
    _check_against_single_process(tmp_path / "multi", _two_processes("restart", tmp_path / "multi", tiny_config),
                                  tiny_run)
