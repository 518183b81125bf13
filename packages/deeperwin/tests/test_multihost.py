"""Two processes on CPU form one run with ``jax.distributed`` (gloo collectives), 2 devices each.

Each process is a subprocess with its own forced host device count; they meet at a
coordinator on a free localhost port. The two-process run (interrupted and restarted) is
compared with the same configuration run in this process on one device: the random streams
do not depend on how the walkers are split, so the runs are the same computation up to the
order of floating-point reductions.
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

from deeperwin.run import run

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


def _two_processes(mode: str, run_dir: Path, config: dict) -> list[dict]:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu",
           "OMP_NUM_THREADS": "1"}
    address = f"localhost:{_free_port()}"
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, mode, str(run_dir), address, str(i), json.dumps(config)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=500)
            assert p.returncode == 0, stderr[-3000:]
            outs.append(json.loads(stdout.split("RESULT", 1)[1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return outs


def _check_against_single_process(tmp_path: Path, outs: list[dict], config: dict) -> None:
    assert [o["process_index"] for o in outs] == [0, 1]
    assert all(o["process_count"] == 2 and o["devices"] == 4 and o["local_devices"] == 2 for o in outs)
    single = run(config, tmp_path / "single", quiet=True)  # reference: one process, one device

    # one run directory written once: the files of a single-process run, no stray temporaries
    names = sorted(p.name for p in (tmp_path / "multi").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "single").iterdir())
    assert not [n for n in names if n.startswith(".")]
    metrics = (tmp_path / "multi" / "metrics.csv").read_text().splitlines()
    assert [int(line.split(",")[0]) for line in metrics[1:]] == list(range(1, 7))
    assert json.loads((tmp_path / "multi" / "checkpoint.json").read_text())["meta"]["step"] == 6

    # both processes return the same evaluation, equal to the single-process run
    assert outs[0]["energy"] == outs[1]["energy"]
    assert outs[0]["energy"] == pytest.approx(single["energy"], abs=1e-4)
    # the checkpoint holds the gathered arrays (all 16 walkers, from both processes), as on one device
    with np.load(tmp_path / "multi" / "checkpoint.npz") as a, np.load(tmp_path / "single" / "checkpoint.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            assert a[k].shape == b[k].shape
            np.testing.assert_allclose(a[k], b[k], rtol=1e-3, atol=1e-4)


def test_two_processes_write_one_run_directory_and_restart(tmp_path, tiny_config):
    # the same two processes run 3 of 6 steps (stop with a checkpoint), then restart from the directory
    outs = _two_processes("both", tmp_path / "multi", tiny_config)
    _check_against_single_process(tmp_path, outs, tiny_config)


@pytest.mark.slow
def test_two_processes_restart_in_new_processes(tmp_path, tiny_config):
    # interrupted after 3 steps; two new processes (new coordinator port) continue the run to the end
    stopped = _two_processes("stop", tmp_path / "multi", tiny_config)
    assert [o["stopped_at"] for o in stopped] == [3, 3]
    _check_against_single_process(tmp_path, _two_processes("restart", tmp_path / "multi", tiny_config), tiny_config)
