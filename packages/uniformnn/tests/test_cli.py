"""The command line: every subcommand, and one-line errors with exit code 2."""

import json

import pytest
import yaml

from uniformnn import random_relu_network, save_network, teacher_network
from uniformnn.cli import main


@pytest.fixture
def nets(tmp_path):
    f = save_network(random_relu_network([2, 16, 16, 1], seed=1), tmp_path / "f.pt")
    g = save_network(random_relu_network([2, 16, 1], seed=2), tmp_path / "g.pt")
    return f, g


def test_bracket_command(nets, tmp_path, capsys):
    f, g = nets
    out = tmp_path / "res" / "bracket.json"
    assert main(["bracket", str(f), "--target", str(g), "--rtol", "0.01", "--quiet",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "sup-norm error in [" in text and "converged" in text
    res = json.loads(out.read_text())
    assert res["lower"] <= res["upper"] <= res["lower"] * 1.01 + 1e-15
    # a sub-box given per coordinate, and a builtin target
    assert main(["bracket", str(f), "--box", "[-0.1,0.2]x[0,0.1]", "--target", "abs", "--quiet"]) == 0
    assert main(["bracket", str(f), "--target", "teacher:3", "--quiet", "--time-budget", "5"]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--box", "[0.5,-0.5]"], "lower 0.5 > upper -0.5"),
        (["--box", "[0,1]x[0,1]x[0,1]"], "input dimension 2"),
        (["--box", "[a,1]"], "expected a number"),
        (["--box", "0,1"], "expected intervals"),
        (["--target", "nosuchfile.pt"], "expected a network file"),
        (["--rtol", "-1"], "rtol"),
    ],
)
def test_bracket_bad_input_one_line_exit_2(nets, argv, message, capsys):
    f, _ = nets
    assert main(["bracket", str(f), "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("uniformnn: error:") and message in err
    assert err.count("\n") == 1


def test_bracket_rejects_files_that_are_not_networks(tmp_path, nets, capsys):
    junk = tmp_path / "junk.pt"
    junk.write_text("hello")
    assert main(["bracket", str(junk)]) == 2
    assert "cannot be read as a torch file" in capsys.readouterr().err
    other = save_network(teacher_network(3, (4,)), tmp_path / "d3.pt")
    assert main(["bracket", str(nets[0]), "--target", str(other)]) == 2
    assert "input dimension 3" in capsys.readouterr().err
    assert main(["bracket", str(tmp_path / "missing.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_experiment_and_plot_commands(tmp_path, capsys):
    cfg = {
        "name": "cli", "dims": [1], "sample_counts": [8, 32], "seeds": [0],
        "target": {"kind": "teacher", "count": 2, "hidden": [8]},
        "students": {"widths": [8], "depths": [1], "steps": 5},
        "baselines": ["constant"],
        "evaluation": {"n_eval": 256, "n_random": 256, "n_starts": 2, "steps": 2},
    }
    path = tmp_path / "cfg.yml"
    path.write_text(yaml.safe_dump(cfg))
    run = tmp_path / "run"
    assert main(["experiment", str(path), "--out", str(run), "--quiet", "--max-jobs", "3"]) == 0
    assert "3 jobs run, 0 already done, 8 in total" in capsys.readouterr().out
    assert main(["experiment", str(path), "--out", str(run), "--quiet"]) == 0
    assert "5 jobs run, 3 already done" in capsys.readouterr().out
    assert main(["experiment", str(path), "--out", str(run), "--collect"]) == 0
    assert main(["plot", str(run)]) == 0
    out = capsys.readouterr().out
    assert "aggregate.csv" in out and "error_vs_m_d1.png" in out
    assert (run / "plots" / "gap_linf_over_l2.png").stat().st_size > 1000
    path.write_text("dims: [1]\nunknown_key: 3\n")
    assert main(["experiment", str(path), "--out", str(tmp_path / "x")]) == 2
    assert "unknown_key" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "nothing.csv")]) == 2


def test_demo_command(tmp_path, monkeypatch, capsys):
    # the full demo (about a minute) is shrunk here; every step of run_demo still runs
    import uniformnn.demo as demo

    small = json.loads(json.dumps(demo.DEMO_CONFIG))
    small["sample_counts"] = [16, 64]
    small["target"]["count"] = 1
    small["students"]["steps"] = 20
    small["evaluation"].update(n_eval=1024, n_random=1024, n_starts=2, steps=5)
    monkeypatch.setattr(demo, "DEMO_CONFIG", small)
    assert main(["demo", "--out", str(tmp_path / "demo"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "sup-norm error in [" in out
    for name in ("aggregate.csv", "bracket.json", "plots/error_vs_m_d2.png", "run/results.csv"):
        assert (tmp_path / "demo" / name).exists()
    res = json.loads((tmp_path / "demo" / "bracket.json").read_text())
    assert res["lower"] <= res["upper"]
