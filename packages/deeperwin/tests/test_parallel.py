"""Walkers sharded over 4 forced CPU devices (subprocess: XLA_FLAGS must be set before jax starts)."""

import json
import os
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile
    import jax, numpy as np
    from deeperwin.checkpoint import load_checkpoint, save_checkpoint
    from deeperwin.optimize import Engine, OptimizationConfig, SamplingConfig
    from deeperwin.wavefunction import WavefunctionConfig

    assert len(jax.devices()) == 4, jax.devices()

    def engine(devices):
        e = Engine([2.0], np.zeros((1, 3)), 1, 1, wavefunction=WavefunctionConfig(1, 8, 4, 1),
                   sampling=SamplingConfig(n_walkers=32, steps_per_sample=5, burn_in=10),
                   optimization=OptimizationConfig(optimizer="adam", learning_rate=0.02), seed=0)
        e.use_devices(devices)
        return e

    out = {}
    for name, devices in (("one", jax.devices()[:1]), ("four", jax.devices())):
        e = engine(devices)
        state = e.burn_in(e.init_state())
        energies = []
        for _ in range(30):
            state, stats = e.train_step(state)
            energies.append(stats["energy"])
        out[name] = {"energies": energies, "n_shards": len(state.walkers.r.sharding.device_set)}
        if name == "four":
            with tempfile.TemporaryDirectory() as tmp:
                save_checkpoint(tmp, state, {"step": state.step})
                e1 = engine(jax.devices()[:1])
                restored, meta = load_checkpoint(tmp, e1.init_state())
                restored = e1.place_state(restored._replace(step=meta["step"]))
                _, s4 = e.train_step(state)
                _, s1 = e1.train_step(restored)
                out["restored"] = {"energy_4": s4["energy"], "energy_1": s1["energy"],
                                   "n_shards": len(restored.walkers.r.sharding.device_set)}
    print("RESULT" + json.dumps(out))
    """
)


def _launch(workdir):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    return [([sys.executable, "-c", SCRIPT], env)]


@pytest.mark.early_subprocesses(launcher=_launch)  # started when collection ends: it compiles while other tests run
def test_sharded_run_matches_single_device(early_subprocesses):
    [(returncode, stdout, stderr)] = early_subprocesses.wait()
    assert returncode == 0, stderr[-3000:]
    out = json.loads(stdout.split("RESULT", 1)[1])
    assert out["one"]["n_shards"] == 1 and out["four"]["n_shards"] == 4
    e1, e4 = out["one"]["energies"], out["four"]["energies"]
    # same seed, same random stream: the two runs are the same Markov chain up to reduction order,
    # so their late energies agree statistically (well within the walker noise)
    late1, late4 = sum(e1[-15:]) / 15, sum(e4[-15:]) / 15
    assert abs(late1 - late4) < 0.05, (late1, late4)
    assert late4 < -2.5
    # a checkpoint written on 4 devices continues on 1 device with the same step
    r = out["restored"]
    assert r["n_shards"] == 1
    assert abs(r["energy_4"] - r["energy_1"]) < 1e-4 * abs(r["energy_4"])
