"""Data-parallel training with torch.distributed (gloo, 2 CPU processes)."""

import math

import torch

from pdenet import solve
from pdenet.distributed import solve_distributed

CONFIG = {"problem": "heat_paraboloid", "problem_options": {"dim": 4}, "steps": 100, "batch_size": 256,
          "network": {"width": 16, "depth": 2}, "eval_points": 1024, "checkpoint_every": 50}


def test_ddp_two_processes_matches_single_process(tmp_path):
    solution, ev_ddp = solve_distributed(CONFIG, tmp_path / "ddp", world_size=2)
    singles = [solve({**CONFIG, "seed": s}, quiet=True).evaluation["rel_l1"] for s in (0, 1)]
    # same total batch per step: the error of the DDP run lies within the seed-to-seed spread
    spread = max(singles) / min(singles)
    assert min(singles) / (2.0 * spread) < ev_ddp["rel_l1"] < max(singles) * 2.0 * spread, (ev_ddp, singles)
    # and it did learn: far below the error of the untrained network
    untrained = solve({**CONFIG, "steps": 1}, quiet=True).evaluation["rel_l1"]
    assert ev_ddp["rel_l1"] < 0.7 * untrained, (ev_ddp["rel_l1"], untrained)
    # the trained network from the run directory reproduces the recorded evaluation
    assert math.isfinite(ev_ddp["rel_l2"])
    gen = torch.Generator().manual_seed(0)
    t, x, p = solution.problem.sample_inputs(10, generator=gen)
    assert solution.predict(t, x, p).shape == (10,)
    assert (tmp_path / "ddp" / "checkpoints" / "last.pt").is_file()
    info = (tmp_path / "ddp" / "run_info.json").read_text()
    assert '"world_size": 2' in info
