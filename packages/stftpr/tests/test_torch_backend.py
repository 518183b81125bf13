"""The torch backend agrees with the numpy backend."""

import numpy as np
import pytest
import torch  # the `test` extra installs it
from _signals import fm_tone

from stftpr import STFT, reconstruct, spectral_convergence

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", ["gla", "fgla", "admm", "pghi+fgla"])
@pytest.mark.parametrize("onesided", [True, False])
def test_torch_matches_numpy_float64(method, onesided, device):
    tf = STFT(128, 32, "hann", phase="timeinv", onesided=onesided)
    x = np.stack([fm_tone(2000), fm_tone(2000, theta=1.0)])
    if not onesided:
        x = x + 1j * np.roll(x, 50, axis=-1)
    s = np.abs(tf.forward(x))
    a = reconstruct(s, tf, method, n_iter=25, length=2000)
    b = reconstruct(s, tf, method, n_iter=25, length=2000, backend="torch", device=device)
    np.testing.assert_allclose(b.history, a.history, atol=1e-8)
    np.testing.assert_allclose(b.signal, a.signal, atol=1e-9 * np.abs(a.signal).max())
    np.testing.assert_allclose(b.coefficients, a.coefficients, atol=1e-8 * np.abs(a.coefficients).max())


def test_torch_float32_and_tensor_api():
    from stftpr.torch_backend import TorchSTFT, griffin_lim

    tf = STFT(256, 64, "gauss")
    x = fm_tone(4000)
    s = np.abs(tf.forward(x)).astype(np.float32)
    res = reconstruct(s, tf, "fgla", n_iter=40, length=4000, backend="torch", device="cpu")
    ref = reconstruct(s.astype(np.float64), tf, "fgla", n_iter=40, length=4000)
    assert res.signal.dtype == np.float32
    assert abs(res.spectral_convergence - ref.spectral_convergence) < 0.5
    # tensors in, tensors out, batched
    mag = torch.as_tensor(np.stack([s, s]))
    y, hist = griffin_lim(mag, tf, "fgla", n_iter=40, length=4000)
    assert isinstance(y, torch.Tensor) and y.shape == (2, 4000) and hist.shape == (40, 2)
    assert spectral_convergence(s, y[0].numpy(), tf) == pytest.approx(float(hist[-1, 0]), abs=1e-3)
    # the transform mirrors the numpy one
    ts = TorchSTFT(tf, device="cpu")
    xt = torch.as_tensor(x)
    np.testing.assert_allclose(ts.from_raw(ts.analysis(xt)).numpy(), tf.forward(x), atol=1e-10)
    np.testing.assert_allclose(ts.synthesis(ts.analysis(xt), 4000).numpy(), x, atol=1e-12)
    a = reconstruct(s.astype(np.float64), tf, "admm", n_iter=10, length=4000, rho=3.0)
    b = reconstruct(s.astype(np.float64), tf, "admm", n_iter=10, length=4000, rho=3.0, backend="torch", device="cpu")
    np.testing.assert_allclose(b.history, a.history, atol=1e-8)
    with pytest.raises(ValueError, match="method must be one of"):
        griffin_lim(mag, tf, "lbfgs")
    with pytest.raises(ValueError, match="expects"):
        griffin_lim(mag[..., :10, :], tf)
    with pytest.raises(ValueError, match="backend='torch' supports"):
        reconstruct(s, tf, "lbfgs", backend="torch")
