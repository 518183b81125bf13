"""Style models: torchvision VGG19 layout, weight files, random init, weight-free model."""

import numpy as np
import pytest
import torch
from scipy.signal import correlate2d

from faket.style import (
    VGG19_FILENAME,
    MultiScaleTextureModel,
    VGG19Features,
    default_vgg19_weights_path,
    load_vgg19_state_dict,
    make_style_model,
    vgg19,
)

# torchvision's vgg19().features: convolutions at these indices (ReLU after each, pools at 4, 9, 18, 27, 36)
CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
CONV_CHANNELS = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512]



def _synthetic_state_dict(seed=0, prefix="features.", classifier=True):
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    cin = 3
    for i, c in zip(CONV_INDICES, CONV_CHANNELS):
        sd[f"{prefix}{i}.weight"] = 0.01 * torch.randn(c, cin, 3, 3, generator=gen)
        sd[f"{prefix}{i}.bias"] = 0.01 * torch.randn(c, generator=gen)
        cin = c
    if classifier:  # small stand-ins: the classifier is ignored
        sd["classifier.0.weight"] = torch.zeros(4, 3)
        sd["classifier.0.bias"] = torch.zeros(4)
    return sd


def test_layout_matches_torchvision_keys():
    model = VGG19Features()
    keys = list(model.state_dict())
    expected = [f"features.{i}.{kind}" for i in CONV_INDICES for kind in ("weight", "bias")]
    assert keys == expected
    assert len(model.features) == 37
    assert [type(m).__name__ for m in model.features][:5] == ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d"]
    for i in (4, 9, 18, 27, 36):
        assert isinstance(model.features[i], torch.nn.MaxPool2d)


@pytest.fixture(scope="module")
def saved_full(tmp_path_factory):
    """A synthetic full vgg19() state dict written once for the module."""
    sd = _synthetic_state_dict(seed=3)
    path = tmp_path_factory.mktemp("weights") / "full.pth"
    torch.save(sd, path)
    return sd, path


def test_features_only_state_dict(tmp_path, saved_full):
    sd = {k[len("features."):]: v for k, v in saved_full[0].items() if k.startswith("features.")}
    path = tmp_path / "features.pth"
    torch.save(sd, path)
    loaded = load_vgg19_state_dict(path)
    assert sorted(loaded) == sorted(sd)
    assert all(torch.equal(loaded[k], sd[k]) for k in sd)


def test_weights_load_from_local_file(saved_full):
    prefix = "features."
    sd, path = saved_full
    model = vgg19(path)
    for i in CONV_INDICES:
        assert torch.equal(model.features[i].weight, sd[f"{prefix}{i}.weight"])
        assert torch.equal(model.features[i].bias, sd[f"{prefix}{i}.bias"])
    # relu1_1 against an independent computation: ImageNet normalisation, 3x3 correlation, ReLU
    rng = np.random.default_rng(0)
    img = rng.random((6, 7)).astype(np.float32)
    feats = model(torch.from_numpy(img)[None, None], ["relu1_1", "relu2_2"])
    assert feats["relu2_2"].shape == (1, 128, 3, 3)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    w = sd[f"{prefix}0.weight"].numpy().astype(np.float64)
    b = sd[f"{prefix}0.bias"].numpy().astype(np.float64)
    for out_ch in (0, 17, 63):
        acc = np.full(img.shape, b[out_ch])
        for c in range(3):
            acc += correlate2d((img - mean[c]) / std[c], w[out_ch, c], mode="same", boundary="fill")
        np.testing.assert_allclose(feats["relu1_1"][0, out_ch].numpy(), np.maximum(acc, 0), rtol=1e-4, atol=1e-5)


def test_weights_from_hub_cache(tmp_path, monkeypatch, saved_full):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert default_vgg19_weights_path() == tmp_path / "checkpoints" / VGG19_FILENAME
    with pytest.raises(FileNotFoundError) as info:
        vgg19()
    msg = str(info.value)
    assert str(tmp_path / "checkpoints" / VGG19_FILENAME) in msg and "never downloads" in msg
    (tmp_path / "checkpoints").mkdir()
    sd, path = saved_full
    (tmp_path / "checkpoints" / VGG19_FILENAME).symlink_to(path)
    loaded = load_vgg19_state_dict()
    assert torch.equal(loaded["34.bias"], sd["features.34.bias"])


def test_missing_file_message(tmp_path):
    missing = tmp_path / "nope.pth"
    with pytest.raises(FileNotFoundError, match="nope.pth") as info:
        load_vgg19_state_dict(missing)
    assert VGG19_FILENAME in str(info.value) and "weight-free" in str(info.value)


def test_wrong_files_are_rejected(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not weights")
    with pytest.raises(ValueError, match="could not be read"):
        load_vgg19_state_dict(text)
    torch.save({"features.0.weight": torch.zeros(64, 1, 3, 3)}, tmp_path / "shape.pth")
    with pytest.raises(ValueError, match=r"features\.0\.weight.*shape"):
        load_vgg19_state_dict(tmp_path / "shape.pth")
    sd = {k: v for k, v in _synthetic_state_dict().items() if k.startswith("features.0.")}
    torch.save(sd, tmp_path / "missing.pth")
    with pytest.raises(ValueError, match=r"missing 30 keys.*features\.2\.weight"):
        load_vgg19_state_dict(tmp_path / "missing.pth")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="not a state dict"):
        load_vgg19_state_dict(tmp_path / "list.pth")
    with pytest.raises(ValueError, match="only used with style model 'vgg19'"):
        make_style_model("weight-free", weights=tmp_path / "list.pth")
    with pytest.raises(ValueError, match="accepted: vgg19, vgg19-random, weight-free"):
        make_style_model("vgg16")


def test_random_init_is_seeded_kaiming():
    a, b = vgg19("random", seed=0), vgg19("random", seed=0)
    assert a.name == "vgg19-random"
    assert torch.equal(a.features[10].weight, b.features[10].weight)
    c = make_style_model("vgg19-random", seed=1)
    assert not torch.equal(a.features[10].weight, c.features[10].weight)
    w = a.features[21].weight  # 512 x 512 x 3 x 3, fan-out 512 * 9
    assert abs(w.std().item() - np.sqrt(2.0 / (512 * 9))) < 0.01 * np.sqrt(2.0 / (512 * 9))
    assert torch.count_nonzero(a.features[21].bias) == 0


def test_weight_free_model():
    m = MultiScaleTextureModel(levels=4, channels=8, seed=5)
    m2 = MultiScaleTextureModel(levels=4, channels=8, seed=5)
    x = torch.rand(2, 1, 32, 40, generator=torch.Generator().manual_seed(0))
    f = m(x, m.layer_names)
    assert [tuple(f[n].shape) for n in m.layer_names] == [(2, 8, 32, 40), (2, 8, 16, 20), (2, 8, 8, 10), (2, 8, 4, 5)]
    assert all(torch.equal(f[n], m2(x, [n])[n]) for n in m.layer_names)
    # filters are zero-mean and unit-norm: a constant image gives ReLU(bias) everywhere
    const = m(torch.full((1, 1, 16, 16), 0.5), ["scale1"])["scale1"]
    np.testing.assert_allclose(const[0, :, 5, 5].numpy(), torch.relu(m.biases[0]).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="too small"):
        m(torch.rand(1, 1, 8, 8), ["scale4"])
    with pytest.raises(ValueError, match="relu1_1"):
        m(x, ["relu1_1"])
