"""The `pdenet` command: list, solve, evaluate, demo and bad input (one line, exit 2)."""

import json

import pytest

from pdenet.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "heat_paraboloid" in out and "allen_cahn" in out and "bsde_detached" in out


def test_solve_and_evaluate(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["solve", "heat_paraboloid", "--dim", "3", "--steps", "40", "--batch-size", "64", "--width", "16",
                 "--loss", "bsde_detached", "--time-steps", "2", "--out", str(run), "--quiet", "--seed", "3"])
    assert code == 0
    out = capsys.readouterr().out
    assert "relative L1" in out and (run / "model.pt").is_file()
    assert main(["evaluate", str(run), "--points", "200"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1])["n_points"] == 200


def test_solve_semilinear_with_config(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("problem: burgers_type\nloss: deepbsde\nsteps: 5\nbatch_size: 16\ntime_steps: 4\n"
                   "problem_options: {dim: 4}\n")
    assert main(["solve", "burgers_type", "--config", str(cfg), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert "u(0, x0)" in capsys.readouterr().out


def test_demo(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "relative L1 error" in out and "wrote" in out


@pytest.mark.parametrize("argv,fragment", [
    (["solve", "heat"], "unknown problem 'heat'"),
    (["solve", "heat_paraboloid", "--dim", "0"], "--dim must be positive"),
    (["solve", "heat_paraboloid", "--loss", "l7"], "--loss must be one of"),
    (["solve", "hjb", "--loss", "feynman_kac"], "loss must be 'deepbsde'"),
    (["solve", "black_scholes_put", "--steps", "-3"], "--steps must be positive"),
    (["evaluate", "/nonexistent/run"], "is not a pdenet run directory"),
])
def test_bad_input_one_line_exit_2(argv, fragment, capsys, tmp_path):
    code = main([*argv, *(["--out", str(tmp_path / "x")] if argv[0] == "solve" else [])])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_config_file(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("problem: heat_paraboloid\nsteps: 5\nwarp: 9\n")
    assert main(["solve", "heat_paraboloid", "--config", str(cfg)]) == 2
    assert "warp: unknown key" in capsys.readouterr().err
