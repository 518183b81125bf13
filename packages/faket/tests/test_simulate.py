"""Simulation pipeline: configuration, noise, measured-like stand-in, end-to-end run directory."""

import io
import json
import math

import mrcfile
import numpy as np
import pytest
import yaml

from faket.cli import main
from faket.mrc import read_mrc, write_mrc
from faket.simulate import (
    add_gaussian_noise,
    apply_ctf,
    ctf_2d,
    load_config,
    measured_like,
    simulate,
    tilt_angles,
)


def _balls(seed, shape=(16, 32, 32)):
    rng = np.random.default_rng(seed)
    v = np.zeros(shape, np.float32)
    g = np.indices(shape)
    for _ in range(4):
        c = [int(rng.integers(4, s - 4)) for s in shape]
        v[((g - np.array(c)[:, None, None, None]) ** 2).sum(0) <= 9] = 1
    return v


def test_tilt_angles_and_config_validation(tmp_path):
    a = tilt_angles(-60, 60, 2)
    assert len(a) == 61 and a[0] == -60 and a[-1] == 60 and a[30] == 0
    (tmp_path / "c.yaml").write_text("volume: v.mrc\nstyle: s.mrc\ntransfer:\n  iterations: 3\n  colour: 1\n")
    with pytest.raises(ValueError, match=r"transfer\.colour: Extra inputs are not permitted"):
        load_config(tmp_path / "c.yaml")
    (tmp_path / "c.yaml").write_text("volume: v.mrc\nstyle: s.mrc\nsnr: -1\n")
    with pytest.raises(ValueError, match="snr"):
        load_config(tmp_path / "c.yaml")
    with pytest.raises(ValueError, match="exactly one of 'volume'"):
        load_config(None, style="s.mrc")
    (tmp_path / "c.yaml").write_text("volume: v.mrc\nstyle: s.mrc\ntransfer:\n  iterations: 3\n")
    cfg = load_config(tmp_path / "c.yaml", transfer={"lr": 0.1, "iterations": None})
    assert cfg.volume == str(tmp_path / "v.mrc") and cfg.transfer.iterations == 3 and cfg.transfer.lr == 0.1
    assert cfg.transfer.ema_decay == 0.99 and cfg.transfer.style_model == "weight-free"
    (tmp_path / "c.yaml").write_text("- a list\n")
    with pytest.raises(ValueError, match="accepted: a YAML mapping"):
        load_config(tmp_path / "c.yaml")


def test_gaussian_noise_has_the_requested_snr():
    rng = np.random.default_rng(0)
    clean = rng.normal(3.0, 2.0, size=(4, 64, 64)).astype(np.float32)
    noisy = add_gaussian_noise(clean, 0.25, seed=1)
    assert np.var(noisy - clean) == pytest.approx(np.var(clean) / 0.25, rel=0.03)
    np.testing.assert_array_equal(noisy, add_gaussian_noise(clean, 0.25, seed=1))


def test_measured_like_ctf_and_tilt_dependence():
    rng = np.random.default_rng(2)
    clean = rng.normal(size=(3, 32, 32)).astype(np.float32)
    angles = np.array([0.0, 30.0, 60.0])
    # noise-free (snr huge): the image is the CTF-filtered projection plus the tilt-dependent mean
    out = measured_like(clean, angles, snr=1e12, defocus=40.0, amplitude_contrast=0.07, b_factor=30.0)
    k2 = np.fft.fftfreq(32)[3] ** 2  # frequency (0, 3/32)
    chi = math.pi * 40.0 * k2
    ctf = -(math.sqrt(1 - 0.07**2) * math.sin(chi) + 0.07 * math.cos(chi)) * math.exp(-30.0 * k2)
    f_in = np.fft.fft2(clean[1])[3, 0]
    f_out = np.fft.fft2(out[1])[3, 0]
    assert f_out == pytest.approx(ctf * f_in, rel=1e-4)
    means = out.mean(axis=(1, 2))
    assert means[0] / means[2] == pytest.approx(1 / math.cos(math.radians(60)), rel=1e-4)
    noisy = measured_like(clean, angles, snr=0.1, seed=0)
    resid = noisy - out
    assert resid[2].var() / resid[0].var() == pytest.approx(2.0, rel=0.15)  # variance ~ 1 / cos(tilt)


def test_apply_ctf_multiplies_each_plane_wave_by_the_closed_form_ctf():
    # a plane wave of integer frequency (m/h, n/w) is an eigenfunction of the filter
    h, w = 24, 32
    y, x = np.mgrid[0:h, 0:w]
    waves, expected = [], []
    for m, n in ((0, 3), (2, 5), (5, 0)):
        wave = np.cos(2 * math.pi * (m * y / h + n * x / w))
        k2 = (m / h) ** 2 + (n / w) ** 2
        chi = math.pi * 35.0 * k2
        ctf = -(math.sqrt(1 - 0.1**2) * math.sin(chi) + 0.1 * math.cos(chi)) * math.exp(-20.0 * k2)
        waves.append(wave + 7.0)  # the mean of each tilt is removed
        expected.append(ctf * wave)
    out = apply_ctf(np.array(waves), defocus=35.0, amplitude_contrast=0.1, b_factor=20.0)
    np.testing.assert_allclose(out, np.array(expected), atol=1e-5)
    assert ctf_2d((4, 4), defocus=40.0, amplitude_contrast=0.07)[0, 0] == pytest.approx(-0.07)
    with pytest.raises(ValueError, match="amplitude_contrast: 1.5"):
        ctf_2d((4, 4), amplitude_contrast=1.5)
    with pytest.raises(ValueError, match="colour: 2"):
        measured_like(np.ones((1, 4, 4)) + np.eye(4), np.zeros(1), colour=2)


def test_end_to_end_run_directory(tmp_path, capsys):
    angles = tilt_angles(-60, 60, 20)
    write_mrc(tmp_path / "volume.mrc", _balls(0))
    from faket.projection import project

    style = measured_like(np.asarray(project(_balls(1), angles)), angles, seed=1)
    write_mrc(tmp_path / "style.mrc", style)
    cfg = {"volume": str(tmp_path / "volume.mrc"), "style": str(tmp_path / "style.mrc"), "tilt_range": (-60, 60, 20),
           "transfer": {"iterations": 3, "device": "cpu"}, "save_intermediate": True}
    summary = simulate(cfg, tmp_path / "run")
    run = tmp_path / "run"
    names = sorted(p.name for p in run.iterdir())
    for name in ("config.yaml", "styled.mrc", "reconstruction.mrc", "trace.json", "metrics.json", "angles.tlt", "projections.mrc", "noisy.mrc"):
        assert name in names
    for name in ("styled.mrc", "reconstruction.mrc", "projections.mrc", "noisy.mrc"):
        assert mrcfile.validate(str(run / name), print_file=io.StringIO())
    assert read_mrc(run / "styled.mrc").data.shape == (7, 32, 32)
    assert read_mrc(run / "reconstruction.mrc").data.shape == (16, 32, 32)
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert resolved["transfer"]["iterations"] == 3 and len(resolved["resolved"]["angles"]) == 7
    assert json.loads((run / "trace.json").read_text())["trace"][-1]["iteration"] == 3
    assert summary["metrics"]["mean_abs_diff"] < 1e-3 * float(np.abs(style).mean())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]  # no temporary directory left
    with pytest.raises(FileExistsError, match="overwrite"):
        simulate(cfg, run)
    with pytest.raises(ValueError, match="style: .* has 7 tilts but there are 4 angles"):
        simulate({**cfg, "tilt_range": (-60, 60, 40)}, tmp_path / "run2")
    assert not (tmp_path / "run2").exists()
    # the CLI: same run, then a bad config key as one line and exit 2
    argv = ["simulate", "--volume", str(tmp_path / "volume.mrc"), "--style", str(tmp_path / "style.mrc"), "--tilt-range", "-60", "60", "20",
            "--iterations", "1", "--device", "cpu", "--no-previews", "--out", str(tmp_path / "cli"), "--quiet"]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "cli" / "styled.mrc").is_file()
    # a phantom instead of a volume: its particle list and class mask come along
    argv_ph = ["simulate", "--phantom", "--phantom-shape", "16", "32", "32", "--phantom-particles", "3", "--phantom-radius", "3",
               "--style", str(tmp_path / "style.mrc"), "--tilt-range", "-60", "60", "20", "--iterations", "1", "--device", "cpu",
               "--no-previews", "--out", str(tmp_path / "ph"), "--quiet"]
    assert main(argv_ph) == 0
    from faket.tilts import read_particle_list

    assert len(read_particle_list(tmp_path / "ph" / "particles.txt")) == 5  # 3 particles and 2 fiducials (the default)
    assert read_mrc(tmp_path / "ph" / "class_mask.mrc").data.shape == (16, 32, 32)
    capsys.readouterr()
    (tmp_path / "bad.yaml").write_text("style: s.mrc\nvolume: v.mrc\nnoise: 3\n")
    assert main(["simulate", "--config", str(tmp_path / "bad.yaml"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "noise: Extra inputs are not permitted" in err


def test_noise_model_gives_the_noisy_projections(tmp_path):
    from faket.noise import NoiseModel
    from faket.projection import project

    angles = tilt_angles(-60, 60, 20)
    clean = np.asarray(project(_balls(3), angles), dtype=np.float32)
    measured = measured_like(clean, angles, seed=4)
    NoiseModel.fit([clean], [measured], degree=2).save(tmp_path / "noise.json")
    write_mrc(tmp_path / "volume.mrc", _balls(0))
    write_mrc(tmp_path / "style.mrc", measured)
    cfg = {"volume": str(tmp_path / "volume.mrc"), "style": str(tmp_path / "style.mrc"), "tilt_range": (-60, 60, 20),
           "noise_model": str(tmp_path / "noise.json"), "transfer": {"iterations": 0, "device": "cpu"},
           "save_intermediate": True, "previews": False, "seed": 5}
    simulate(cfg, tmp_path / "run")
    clean0 = np.asarray(project(_balls(0), angles), dtype=np.float32)
    expected = NoiseModel.load(tmp_path / "noise.json").apply(clean0, modality="noisy", seed=5)
    np.testing.assert_allclose(read_mrc(tmp_path / "run" / "noisy.mrc").data, expected, rtol=1e-6, atol=1e-6)
