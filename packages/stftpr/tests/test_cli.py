"""The CLI: invert (audio and .npy), diagnose, demo; bad input gives one line and exit code 2."""

import json

import numpy as np
import pytest
import soundfile as sf
from _signals import fm_tone

from stftpr import STFT, snr, spectral_convergence
from stftpr.cli import main
from stftpr.signals import two_atoms

FS = 8000


@pytest.fixture
def wav(tmp_path):
    x = 0.5 * fm_tone(6000)
    path = tmp_path / "in.wav"
    sf.write(path, np.stack([x, -0.5 * x], axis=1), FS, subtype="FLOAT")  # two channels
    return path, x


def test_invert_audio(wav, tmp_path, capsys):
    path, x = wav
    out = tmp_path / "sub" / "out.wav"
    hist = tmp_path / "hist.csv"
    rc = main(["invert", str(path), "-o", str(out), "--n-fft", "256", "--hop", "32", "--window", "gauss",
               "--n-iter", "20", "--history", str(hist), "--quiet"])
    assert rc == 0
    assert "spectral convergence" in capsys.readouterr().out
    y, fs = sf.read(out, always_2d=True)
    assert fs == FS and y.shape == (6000, 2)
    tf = STFT(256, 32, ("gauss", 1.0))
    for ch, ref in enumerate((x, -0.5 * x)):
        assert spectral_convergence(np.abs(tf.forward(ref)), y[:, ch], tf) < -45
        assert snr(ref, y[:, ch], align="analytic") > 30
    lines = hist.read_text().splitlines()
    assert lines[0] == "iteration,channel_0,channel_1" and len(lines) == 21
    assert not list(out.parent.glob(".*partial*"))  # no temporary files left


def test_invert_npy(tmp_path, capsys):
    tf = STFT(128, 32, "hann")
    x = fm_tone(3000)
    np.save(tmp_path / "mag.npy", np.abs(tf.forward(x)))
    out = tmp_path / "out.flac"
    rc = main(["invert", str(tmp_path / "mag.npy"), "-o", str(out), "--n-fft", "128", "--hop", "32",
               "--sr", "8000", "--length", "3000", "--n-iter", "30", "--quiet"])
    assert rc == 0
    y, fs = sf.read(out)
    assert fs == 8000 and y.shape == (3000,)
    assert spectral_convergence(np.abs(tf.forward(x)), y, tf) < -40  # FLAC is 24-bit at most
    # the torch backend gives the same result as numpy
    out_t = tmp_path / "out_torch.wav"
    rc = main(["invert", str(tmp_path / "mag.npy"), "-o", str(out_t), "--n-fft", "128", "--hop", "32",
               "--sr", "8000", "--length", "3000", "--n-iter", "30", "--quiet", "--backend", "torch", "--device", "cpu"])
    assert rc == 0
    out_n = tmp_path / "out_numpy.wav"
    main(["invert", str(tmp_path / "mag.npy"), "-o", str(out_n), "--n-fft", "128", "--hop", "32",
          "--sr", "8000", "--length", "3000", "--n-iter", "30", "--quiet"])
    np.testing.assert_allclose(sf.read(out_t)[0], sf.read(out_n)[0], atol=1e-6)
    # without --sr the output rate is unknown
    rc = main(["invert", str(tmp_path / "mag.npy"), "-o", str(out), "--n-fft", "128", "--hop", "32"])
    assert rc == 2 and "--sr" in capsys.readouterr().err


def test_diagnose_two_atoms(tmp_path, capsys):
    tf = STFT(256, 32, "gauss")
    x = two_atoms(4096, tf.lam)
    path = tmp_path / "atoms.wav"
    sf.write(path, x / np.abs(x).max() * 0.5, FS, subtype="FLOAT")
    rc = main(["diagnose", str(path), "--n-fft", "256", "--hop", "32", "--window", "gauss",
               "--plot", str(tmp_path / "d.png"), "--json", str(tmp_path / "d.json")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "2 islands" in out
    summary = json.loads((tmp_path / "d.json").read_text())
    assert summary["n_islands"] == 2 and summary["regime"] == "islands"
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo(tmp_path, capsys):
    rc = main(["demo", "--out", str(tmp_path / "demo"), "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "2 islands" in out
    metrics = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    assert metrics["speech_pghi_fgla_sc_db"] < metrics["speech_fgla_sc_db"] < -20
    assert metrics["atoms_per_island_snr_db"] > 40 > 5 > metrics["atoms_global_snr_db"]
    for name in ("config.json", "history.csv", "original.wav", "reconstructed_pghi_fgla.wav", "report.txt", "islands.png"):
        assert (tmp_path / "demo" / name).is_file()


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["invert", "{missing}", "-o", "{out}"], "does not exist"),
        (["invert", "{garbage}", "-o", "{out}"], "cannot read audio file"),
        (["invert", "{nan}", "-o", "{out}"], "non-finite"),
        (["invert", "{wav}", "-o", "{out}", "--n-fft", "256", "--win-length", "512"], "longer than the FFT"),
        (["invert", "{wav}", "-o", "{tmp}/out.xyz"], "unknown extension"),
        (["invert", "{badmag}", "-o", "{out}", "--sr", "8000"], "shape (10, 7)"),
        (["invert", "{negmag}", "-o", "{out}", "--sr", "8000", "--n-fft", "16", "--hop", "4"], "negative"),
        (["diagnose", "{wav}", "--threshold", "2"], "threshold must be in (0, 1)"),
        (["invert", "{wav}", "-o", "{out}", "--n-iter", "-3"], "n_iter"),
    ],
)
def test_bad_input_one_line_exit_2(args, fragment, wav, tmp_path, capsys):
    path, _ = wav
    (tmp_path / "garbage.wav").write_bytes(b"not audio at all")
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.1]), FS, subtype="FLOAT")
    np.save(tmp_path / "badmag.npy", np.ones((10, 7)))
    np.save(tmp_path / "negmag.npy", -np.ones((9, 7)))
    names = {"missing": tmp_path / "missing.wav", "garbage": tmp_path / "garbage.wav", "nan": tmp_path / "nan.wav",
             "wav": path, "out": tmp_path / "o.wav", "tmp": tmp_path, "badmag": tmp_path / "badmag.npy",
             "negmag": tmp_path / "negmag.npy"}
    rc = main([a.format(**names) for a in args])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("stftpr: error:")
    assert fragment in err
    assert not (tmp_path / "o.wav").exists()
