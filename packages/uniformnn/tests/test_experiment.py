"""The experiment runner: resume after interruption, shards, process pool, config errors."""

import json

import pytest

from uniformnn.config import load_config
from uniformnn.experiment import collect_results, plan_jobs, read_results, run_experiment

CONFIG = {
    "name": "tiny",
    "dims": [1],
    "sample_counts": [8, 16],
    "seeds": [0],
    "target": {"kind": "teacher", "count": 2, "hidden": [8, 8]},
    "students": {"widths": [8], "depths": [1], "learning_rates": [0.01], "steps": 5},
    "baselines": ["constant", "linear"],
    "evaluation": {"n_eval": 256, "n_random": 256, "n_starts": 2, "steps": 2},
}


class Interrupt(Exception):
    pass


def test_resume_after_interruption_does_not_repeat_finished_jobs(tmp_path):
    jobs = plan_jobs(CONFIG)
    assert len(jobs) == 2 * 2 * (1 + 2)  # teachers x m x (student + 2 baselines)
    assert len({j["job_id"] for j in jobs}) == len(jobs)
    seen = []

    def stop_after_three(row):
        seen.append(row["job_id"])
        if len(seen) == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_experiment(CONFIG, tmp_path, quiet=True, on_job_done=stop_after_three)
    done_files = sorted((tmp_path / "jobs").glob("*.json"))
    assert len(done_files) == 3
    stamps = {p.name: p.stat().st_mtime_ns for p in done_files}
    assert len(read_results(tmp_path)) == 3  # the table holds what finished

    rerun = []
    summary = run_experiment(CONFIG, tmp_path, quiet=True, on_job_done=lambda r: rerun.append(r["job_id"]))
    assert summary == {"n_jobs": 12, "n_run": 9, "n_skipped": 3, "results": str(tmp_path / "results.csv")}
    assert not set(rerun) & set(seen)
    assert {p.name: p.stat().st_mtime_ns for p in done_files} == stamps
    rows = read_results(tmp_path / "results.csv")
    assert len(rows) == 12 and {r["job_id"] for r in rows} == {j["job_id"] for j in jobs}
    for r in rows:
        assert r["l2"] <= r["linf"] + 1e-12 and r["l1"] <= r["l2"] + 1e-12
    # a third run has nothing to do
    assert run_experiment(CONFIG, tmp_path, quiet=True)["n_run"] == 0
    assert not list(tmp_path.rglob(".*tmp*"))
    # the student checkpoint is a loadable network
    student = next(r for r in rows if r["method"] == "student")
    from uniformnn import load_network

    assert load_network(tmp_path / "networks" / f"{student['job_id']}.pt").widths == [1, 8, 1]


def test_shards_partition_the_jobs_and_collect_merges(tmp_path):
    cfg = {**CONFIG, "students": None, "baselines": ["constant"]}
    ids = set()
    for i in range(3):
        s = run_experiment(cfg, tmp_path, shard=f"{i}/3", quiet=True)
        ids |= {json.loads(p.read_text())["row"]["job_id"] for p in (tmp_path / "jobs").glob("*.json")}
        assert s["n_run"] == s["n_jobs"]
    assert ids == {j["job_id"] for j in plan_jobs(cfg)}
    collect_results(tmp_path)
    assert len(read_results(tmp_path)) == len(ids)
    with pytest.raises(ValueError, match="shard"):
        run_experiment(cfg, tmp_path, shard="3/3", quiet=True)


def test_process_pool_gives_the_same_results_as_serial(tmp_path):
    cfg = {**CONFIG, "sample_counts": [8], "baselines": []}
    run_experiment(cfg, tmp_path / "serial", quiet=True)
    run_experiment(cfg, tmp_path / "pool", workers=2, quiet=True)
    a = {r["job_id"]: r for r in read_results(tmp_path / "serial")}
    b = {r["job_id"]: r for r in read_results(tmp_path / "pool")}
    assert a.keys() == b.keys()
    for k in a:
        assert a[k]["l2"] == pytest.approx(b[k]["l2"], rel=1e-6)


def test_bracket_evaluation_mode(tmp_path):
    cfg = {**CONFIG, "sample_counts": [16], "baselines": [],
           "target": {"kind": "teacher", "count": 1, "hidden": [8]},
           "evaluation": {**CONFIG["evaluation"], "linf": "bracket", "bracket_time": 20}}
    run_experiment(cfg, tmp_path, quiet=True)
    (r,) = read_results(tmp_path)
    assert r["linf_method"].startswith("bracket")
    assert r["linf"] <= r["linf_upper"]


def test_config_errors(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("dims: [1]\nsampel_counts: [4]\n")
    with pytest.raises(ValueError, match="sampel_counts: Extra inputs are not permitted"):
        load_config(bad)
    bad.write_text("dims: [0]\n")
    with pytest.raises(ValueError, match="dims"):
        load_config(bad)
    bad.write_text("dims: [1\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "none.yml")
    run_experiment({**CONFIG, "students": None, "baselines": ["constant"], "sample_counts": [4]},
                   tmp_path / "run", quiet=True)
    with pytest.raises(ValueError, match="different experiment"):
        run_experiment({**CONFIG, "students": None, "baselines": ["linear"]}, tmp_path / "run", quiet=True)


def test_shard_auto_reads_torchrun_and_slurm_variables(monkeypatch):
    from uniformnn.experiment import _resolve_shard

    for var in ("RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(var, raising=False)
    assert _resolve_shard("auto") == (0, 1)
    monkeypatch.setenv("SLURM_PROCID", "2")
    monkeypatch.setenv("SLURM_NTASKS", "5")
    assert _resolve_shard("auto") == (2, 5)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert _resolve_shard("auto") == (1, 4)
    assert _resolve_shard("3/8") == (3, 8)


def test_read_results_keeps_text_columns_as_text(tmp_path):
    from uniformnn.experiment import RESULT_COLUMNS

    path = tmp_path / "results.csv"
    row = {c: "" for c in RESULT_COLUMNS}
    row.update(job_id="1234e56789012345", method="student", dim="2", m="64", lr="0.01",
               l2="1.5e-03", linf_upper="nan", optimizer="adam")
    path.write_text(",".join(RESULT_COLUMNS) + "\n" + ",".join(row[c] for c in RESULT_COLUMNS) + "\n")
    (r,) = read_results(path)
    assert r["job_id"] == "1234e56789012345" and r["dim"] == 2 and r["m"] == 64
    assert r["lr"] == 0.01 and r["l2"] == 0.0015 and r["batch_size"] is None
    assert r["linf_upper"] != r["linf_upper"]  # nan
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="expected columns"):
        read_results(bad)
