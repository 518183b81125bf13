"""Benchmark: stftpr's phase retrieval against librosa (and torchaudio where it imports).

Signals: a speech-like and a music-like signal, 5 s at 16 kHz, made by `stftpr.signals`.
Configurations: Hann, n_fft 1024, hop 256 (redundancy 4); Gaussian (tfr 1), n_fft 1024,
hop 256 (redundancy 4) and hop 128 (redundancy 8). Each method (GLA, FGLA, the accelerated
GLA of Nenov et al. 2023, ADMM) runs 100 iterations from the same seeded random phase
(PGHI+FGLA and PGHI+AGLA start from PGHI instead). All runs use float32
signals and magnitudes (librosa's usual precision); spectral convergence is computed in
float64, each method on the transform it inverts (stftpr's STFT, librosa.stft with
center=True, torchaudio's Spectrogram).

Run:  python benchmarks/bench_griffinlim.py [--duration 5] [--n-iter 100]
Needs the `bench` extra (librosa; torchaudio if it installs against your torch).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from stftpr import STFT, pghi, reconstruct
from stftpr.signals import music_like, speech_like

FS = 16000
# columns of a result row: name, wall seconds, wall seconds per iteration, SC dB, CPU seconds


def sc_db(target: np.ndarray, got: np.ndarray) -> float:
    target = target.astype(np.float64)
    return float(20 * np.log10(np.linalg.norm(np.abs(got).astype(np.float64) - target) / np.linalg.norm(target)))


def run_ours(x, tf: STFT, n_iter: int, seed: int):
    s = np.abs(tf.forward(x)).astype(np.float32)
    rows = []
    for method in ("gla", "fgla", "agla", "admm", "pghi", "pghi+fgla", "pghi+agla"):
        t0, c0 = time.perf_counter(), time.process_time()
        if method == "pghi":  # the phase alone; the synthesis is not timed
            phase = pghi(s, tf, seed=seed)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            y = tf.inverse(s * np.exp(1j * phase), x.size)
        else:
            y = reconstruct(s, tf, method, n_iter=n_iter, length=x.size, seed=seed).signal
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        sc = sc_db(s, tf.forward(y.astype(np.float64)))
        per_iter = dt / n_iter if method in ("gla", "fgla", "agla", "admm") else float("nan")
        rows.append((f"stftpr {method.upper()}", dt, per_iter, sc, cpu))
    return rows


def run_librosa(x, tf: STFT, n_iter: int, seed: int):
    import librosa

    window = tf.window.astype(np.float32) if tf.window_name == "gauss" else "hann"
    S = np.abs(librosa.stft(x, n_fft=tf.n_fft, hop_length=tf.hop, window=window, center=True))
    rows = []
    for momentum in (0.0, 0.99):
        t0, c0 = time.perf_counter(), time.process_time()
        y = librosa.griffinlim(
            S, n_iter=n_iter, hop_length=tf.hop, window=window, momentum=momentum, init="random",
            random_state=seed, length=x.size, n_fft=tf.n_fft,
        )
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        got = librosa.stft(y, n_fft=tf.n_fft, hop_length=tf.hop, window=window, center=True)
        rows.append((f"librosa GLA (momentum {momentum})", dt, dt / n_iter, sc_db(S, got), cpu))
    return rows


def run_torchaudio(x, tf: STFT, n_iter: int, seed: int):
    import torch
    import torchaudio

    if tf.window_name == "gauss":
        win = torch.as_tensor(tf.window, dtype=torch.float32)

        def window_fn(n, **kw):
            return win
    else:
        window_fn = torch.hann_window
    spec = torchaudio.transforms.Spectrogram(n_fft=tf.n_fft, hop_length=tf.hop, window_fn=window_fn, power=1.0)
    xt = torch.as_tensor(x)
    S = spec(xt)
    rows = []
    for momentum in (0.0, 0.99):
        torch.manual_seed(seed)
        gl = torchaudio.transforms.GriffinLim(
            n_fft=tf.n_fft, hop_length=tf.hop, window_fn=window_fn, power=1.0, n_iter=n_iter,
            momentum=momentum, length=x.size, rand_init=True,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        y = gl(S)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows.append((f"torchaudio GriffinLim (momentum {momentum})", dt, dt / n_iter, sc_db(S.numpy(), spec(y).numpy()), cpu))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=5.0, help="seconds of each signal (default 5)")
    ap.add_argument("--n-iter", type=int, default=100, help="iterations (default 100)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    try:
        import torchaudio  # noqa: F401

        torchaudio_status = "ok"
    except Exception as exc:  # torchaudio wheels must match the installed torch exactly
        torchaudio_status = f"not available ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
    try:
        import librosa

        librosa_version = librosa.__version__
    except ImportError:
        librosa_version = None

    configs = [
        ("Hann 1024/256 (red. 4)", STFT(1024, 256, "hann")),
        ("Gauss 1024/256 (red. 4)", STFT(1024, 256, ("gauss", 1.0))),
        ("Gauss 1024/128 (red. 8)", STFT(1024, 128, ("gauss", 1.0))),
    ]
    signals = {
        "speech-like": speech_like(args.duration, FS, seed=args.seed).astype(np.float32),
        "music-like": music_like(args.duration, FS, seed=args.seed).astype(np.float32),
    }
    # warm-up: compile the PGHI kernel (numba) and librosa's numba-compiled overlap-add outside
    # the timings (otherwise the first librosa row carries seconds of compilation)
    pghi(np.abs(configs[0][1].forward(signals["speech-like"][:4000])), configs[0][1])
    if librosa_version:
        run_librosa(signals["speech-like"][:8000], configs[0][1], 2, args.seed)

    print(f"# python {platform.python_version()}, {platform.machine()}, librosa {librosa_version}, torchaudio: {torchaudio_status}")
    print(f"# {args.duration:g} s at {FS} Hz, {args.n_iter} iterations, seed {args.seed}")
    print("| signal | transform | method | wall time (s) | CPU time (s) | wall ms / iteration | spectral convergence (dB) |")
    print("|---|---|---|---:|---:|---:|---:|")
    summary = []
    for sig_name, x in signals.items():
        for cfg_name, tf in configs:
            rows = run_ours(x, tf, args.n_iter, args.seed)
            if librosa_version:
                rows += run_librosa(x, tf, args.n_iter, args.seed)
            if torchaudio_status == "ok":
                rows += run_torchaudio(x, tf, args.n_iter, args.seed)
            for name, dt, per_iter, sc, cpu in rows:
                per = "" if np.isnan(per_iter) else f"{1e3 * per_iter:.2f}"
                print(f"| {sig_name} | {cfg_name} | {name} | {dt:.3f} | {cpu:.3f} | {per} | {sc:.1f} |")
            summary.append((sig_name, cfg_name, {r[0]: r for r in rows}))

    print()
    print("Targets (from the issue):")
    for sig_name, cfg_name, r in summary:
        ours = r["stftpr FGLA"]
        line = [f"{sig_name}, {cfg_name}:"]
        lib = r.get("librosa GLA (momentum 0.99)")
        if lib:
            line.append(f"FGLA time/iter vs librosa = {ours[2] / lib[2]:.2f}x (target <= 1);")
            gain = lib[3] - r["stftpr PGHI+FGLA"][3]
            line.append(f"PGHI+FGLA gain over librosa FGLA = {gain:.1f} dB (target >= 10);")
        line.append(f"PGHI+FGLA = {r['stftpr PGHI+FGLA'][3]:.1f} dB;")
        p = r["stftpr PGHI"]
        line.append(
            f"PGHI = {1e3 * p[1] / args.duration:.1f} ms wall, {1e3 * p[4] / args.duration:.1f} ms CPU "
            "per second of audio (target < 50)"
        )
        print(" ".join(line))


if __name__ == "__main__":
    main()
