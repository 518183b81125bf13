"""Style models: the feature extractors whose statistics neural style transfer matches.

Three models share one interface (:class:`StyleModel`):

- :func:`vgg19` with ImageNet weights read from a local file (the torchvision file
  ``vgg19-dcbb9e9d.pth``), as in the FakET paper. The network is built here with exactly the
  module layout and state-dict keys of torchvision's ``vgg19().features``, so that file loads
  unchanged; torchvision itself is not needed. Nothing is ever downloaded.
- :func:`vgg19` with ``weights="random"``: the same network randomly initialised (the
  paper's ablation).
- :class:`MultiScaleTextureModel`: a weight-free model, random zero-mean filters applied
  to a Gaussian pyramid of the image followed by a ReLU (random multi-scale filters in the
  spirit of Ustyuzhaninov et al., ICLR 2017); its Gram matrices are multi-scale texture
  statistics that need no training and no file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "VGG19_CFG",
    "VGG19_FILENAME",
    "VGG19_LAYERS",
    "MultiScaleTextureModel",
    "StyleModel",
    "STYLE_MODELS",
    "VGG19Features",
    "default_vgg19_weights_path",
    "load_vgg19_state_dict",
    "make_style_model",
    "normalised_weights",
    "vgg19",
]

#: Layer configuration "E" of Simonyan & Zisserman (2015), as in torchvision ("M" = max pool).
VGG19_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
    512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)  # fmt: skip

#: File name of torchvision's ImageNet VGG19 weights (in ``torch.hub.get_dir()/checkpoints``).
VGG19_FILENAME = "vgg19-dcbb9e9d.pth"


def _vgg19_layer_names() -> dict[str, int]:
    names: dict[str, int] = {}
    index, block, conv = 0, 1, 1
    for v in VGG19_CFG:
        if v == "M":
            names[f"pool{block}"] = index
            index += 1
            block, conv = block + 1, 1
        else:
            names[f"conv{block}_{conv}"] = index
            names[f"relu{block}_{conv}"] = index + 1
            index += 2
            conv += 1
    return names


#: Layer name (``relu2_2``, ``conv1_1``, ``pool3``, ...) -> index in ``vgg19().features``.
VGG19_LAYERS: dict[str, int] = _vgg19_layer_names()

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class StyleModel(nn.Module):
    """Base class of the style models.

    A style model maps a batch of grey-value images ``(batch, 1, height, width)`` with values
    in about [0, 1] to named feature maps ``(batch, channels, h, w)``.

    Attributes
    ----------
    name : str
        Short name (``"vgg19"``, ``"vgg19-random"``, ``"weight-free"``).
    layer_names : tuple of str
        All layer names :meth:`forward` can return, shallow to deep.
    default_content_layers : tuple of str
        Content layers used when the caller names none.
    default_style_layers : tuple of str
        Style layers used when the caller names none.
    default_style_weights : tuple of float
        Relative weights of the default style layers (not normalised).
    """

    name: str = "style-model"
    layer_names: tuple[str, ...] = ()
    default_content_layers: tuple[str, ...] = ()
    default_style_layers: tuple[str, ...] = ()
    default_style_weights: tuple[float, ...] = ()

    def check_layers(self, layers: Iterable[str], argument: str = "layers") -> list[str]:
        """Return `layers` as a list after checking every name is a layer of this model."""
        out = list(layers)
        for layer in out:
            if layer not in self.layer_names:
                raise ValueError(
                    f"{argument}: {layer!r} is not a layer of the {self.name} style model; "
                    f"accepted: {', '.join(self.layer_names)}"
                )
        return out

    def forward(self, images: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError


class VGG19Features(StyleModel):
    """VGG19 convolutional part with torchvision's ``vgg19().features`` layout.

    The parameters are ``features.0.weight``, ``features.0.bias``, ..., ``features.34.bias``:
    a state dict of torchvision's ``vgg19()`` (or of its ``features`` module) loads with
    :meth:`load_vgg19_weights`. Grey-value input is repeated to three channels and normalised
    with the ImageNet mean and standard deviation before the first convolution.

    Parameters
    ----------
    pooling : {"max", "average"}
        Pooling layers (torchvision uses max pooling; average pooling is Gatys et al.'s variant).
    """

    default_content_layers = ("relu2_2",)
    default_style_layers = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    default_style_weights = (256.0, 64.0, 16.0, 4.0, 1.0)

    def __init__(self, pooling: str = "max") -> None:
        super().__init__()
        if pooling not in ("max", "average"):
            raise ValueError(f"pooling: {pooling!r} is not accepted; accepted: 'max', 'average'")
        layers: list[nn.Module] = []
        in_channels = 3
        for v in VGG19_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
            else:
                conv = nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1, device="meta")
                layers += [conv, nn.ReLU(inplace=False)]
                in_channels = int(v)
        # built on the meta device (no costly default initialisation), then zero-filled:
        # the weights come from a file or from the seeded random initialisation of vgg19()
        self.features = nn.Sequential(*layers).to_empty(device="cpu")
        with torch.no_grad():
            for p in self.features.parameters():
                p.zero_()
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.name = "vgg19"
        self.layer_names = tuple(VGG19_LAYERS)
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """Return the feature maps of the named `layers` for `images` ``(batch, 1 or 3, h, w)``."""
        wanted = self.check_layers(layers)
        if not wanted:
            return {}
        indices = {VGG19_LAYERS[name]: name for name in wanted}
        last = max(indices)
        x = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
        x = (x - self.mean) / self.std
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in indices:
                out[indices[i]] = x
            if i == last:
                break
        return out

    def load_vgg19_weights(self, state_dict: Mapping[str, torch.Tensor], *, source: str = "state_dict") -> None:
        """Copy a torchvision VGG19 state dict (full or ``features`` only) into this model.

        Raises
        ------
        ValueError
            If keys are missing, unexpected or have the wrong shape (naming `source`).
        """
        features = _features_state_dict(state_dict, source)
        self.features.load_state_dict(features, strict=True)


def _features_state_dict(state_dict: Mapping[str, object], source: str) -> dict[str, torch.Tensor]:
    """Extract ``features.N.*`` (or bare ``N.*``) tensors; check keys and shapes exactly."""
    if not isinstance(state_dict, Mapping):
        raise ValueError(
            f"weights: {source} holds a {type(state_dict).__name__}, not a state dict; accepted: "
            f"torchvision's {VGG19_FILENAME} (a dict of tensors with keys features.0.weight, ...)"
        )
    expected: dict[str, tuple[int, ...]] = {}
    in_channels, index = 3, 0
    for v in VGG19_CFG:
        if v == "M":
            index += 1
            continue
        expected[f"{index}.weight"] = (int(v), in_channels, 3, 3)
        expected[f"{index}.bias"] = (int(v),)
        in_channels, index = int(v), index + 2
    has_prefix = any(str(k).startswith("features.") for k in state_dict)
    found: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    for key, value in state_dict.items():
        key = str(key)
        if has_prefix:
            if key.startswith("classifier."):
                continue  # the fully connected part of vgg19() is not used
            if not key.startswith("features."):
                unexpected.append(key)
                continue
            short = key[len("features."):]
        else:
            short = key
        if short not in expected:
            unexpected.append(key)
            continue
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"weights: {source}: entry {key!r} is a {type(value).__name__}, not a tensor")
        if tuple(value.shape) != expected[short]:
            raise ValueError(
                f"weights: {source}: {key!r} has shape {tuple(value.shape)}, a VGG19 needs {expected[short]} "
                "(is this a VGG19 weights file? VGG16 and others are not accepted)"
            )
        if not torch.isfinite(value).all():
            raise ValueError(f"weights: {source}: {key!r} holds non-finite values")
        found[short] = value.detach().to(torch.float32)
    missing = [k for k in expected if k not in found]
    prefix = "features." if has_prefix else ""
    if unexpected or missing:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys (first: {prefix}{missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (first: {unexpected[0]})")
        raise ValueError(
            f"weights: {source} is not a VGG19 state dict: {'; '.join(parts)}; accepted: torchvision's "
            f"{VGG19_FILENAME} (keys features.N.weight/bias, classifier ignored) or its features part"
        )
    return found


def default_vgg19_weights_path() -> Path:
    """Where torchvision keeps its VGG19 weights: ``torch.hub.get_dir()/checkpoints/vgg19-dcbb9e9d.pth``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILENAME


def load_vgg19_state_dict(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """Read VGG19 weights from a local file; never downloads.

    Parameters
    ----------
    path : str or Path, optional
        The weights file. Default: :func:`default_vgg19_weights_path` (torch's hub cache).

    Returns
    -------
    dict
        The ``features`` part of the state dict, keys ``"0.weight"``, ``"0.bias"``, ...

    Raises
    ------
    FileNotFoundError
        If the file does not exist; the message says where to put it.
    ValueError
        If the file is not a readable VGG19 state dict.
    """
    default = default_vgg19_weights_path()
    file = Path(path) if path is not None else default
    if not file.is_file():
        raise FileNotFoundError(
            f"weights: VGG19 weights file {str(file)!r} not found; faket never downloads: copy torchvision's "
            f"{VGG19_FILENAME} (https://download.pytorch.org/models/{VGG19_FILENAME}, fetched on a machine with "
            f"internet) to {str(default)!r} or pass its path, or use the weight-free style model "
            "(style_model='weight-free') or random weights ('vgg19-random')"
        )
    try:
        obj = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise ValueError(
            f"weights: {str(file)!r} could not be read as a PyTorch state dict ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); accepted: torchvision's {VGG19_FILENAME}"
        ) from None
    return _features_state_dict(obj, repr(str(file)))


def vgg19(weights: str | Path | None = None, *, seed: int = 0, pooling: str = "max") -> VGG19Features:
    """Build the VGG19 style model.

    Parameters
    ----------
    weights : str or Path or None
        ``None``: torchvision's ImageNet weights from torch's hub cache (an error saying where
        to put the file if it is not there); a path: that file; ``"random"``: random
        initialisation as torchvision does it (Kaiming normal, fan-out; zero biases).
    seed : int
        Seed of the random initialisation (``weights="random"``).
    pooling : {"max", "average"}
        Pooling layers.

    Returns
    -------
    VGG19Features
        In evaluation mode, parameters frozen.
    """
    model = VGG19Features(pooling=pooling)
    if isinstance(weights, str) and weights == "random":
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for m in model.features:
                if isinstance(m, nn.Conv2d):
                    fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
                    m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_out))
                    m.bias.zero_()
        model.name = "vgg19-random"
    else:
        model.load_vgg19_weights(load_vgg19_state_dict(weights), source=str(weights or default_vgg19_weights_path()))
    return model


class MultiScaleTextureModel(StyleModel):
    """Weight-free multi-scale texture statistics: random filters on a Gaussian pyramid.

    Level ``k`` (``scale1`` ... ``scale{levels}``) is the image blurred and subsampled
    ``k - 1`` times by two, filtered with `channels` random zero-mean, unit-norm filters of
    size `kernel_size` and passed through a ReLU. The filters are drawn from `seed`; no file
    or training is involved. Gram matrices of these maps capture the second-order statistics
    of the texture at each scale, which is what style transfer matches.

    Parameters
    ----------
    levels : int
        Number of pyramid levels (5, the number of VGG19 style layers).
    channels : int
        Random filters per level.
    kernel_size : int
        Odd filter size.
    seed : int
        Seed of the filters.
    """

    def __init__(self, levels: int = 5, channels: int = 64, kernel_size: int = 5, seed: int = 0) -> None:
        super().__init__()
        if not (isinstance(levels, int) and 1 <= levels <= 8):
            raise ValueError(f"levels: {levels!r} is not accepted; accepted: an integer 1..8")
        if not (isinstance(channels, int) and channels >= 1):
            raise ValueError(f"channels: {channels!r} is not accepted; accepted: a positive integer")
        if not (isinstance(kernel_size, int) and kernel_size >= 3 and kernel_size % 2 == 1):
            raise ValueError(f"kernel_size: {kernel_size!r} is not accepted; accepted: an odd integer >= 3")
        gen = torch.Generator().manual_seed(int(seed))
        filters = torch.randn(levels, channels, 1, kernel_size, kernel_size, generator=gen)
        filters -= filters.mean(dim=(-1, -2), keepdim=True)
        filters /= filters.flatten(2).norm(dim=-1).view(levels, channels, 1, 1, 1)
        biases = 0.1 * torch.randn(levels, channels, generator=gen)
        self.register_buffer("filters", filters)
        self.register_buffer("biases", biases)
        g = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
        self.register_buffer("blur", (g[:, None] * g[None, :]).view(1, 1, 5, 5))
        self.levels, self.channels, self.kernel_size, self.seed = levels, channels, kernel_size, int(seed)
        self.name = "weight-free"
        self.layer_names = tuple(f"scale{k + 1}" for k in range(levels))
        self.default_content_layers = ("scale1",)
        self.default_style_layers = self.layer_names
        self.default_style_weights = tuple(float(4 ** (levels - 1 - k)) for k in range(levels))
        self.eval()

    def forward(self, images: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """Return the feature maps of the named `layers` for `images` ``(batch, 1, h, w)``."""
        wanted = set(self.check_layers(layers))
        if images.shape[1] != 1:
            images = images.mean(dim=1, keepdim=True)
        x = (images - 0.5) * 4.0
        out: dict[str, torch.Tensor] = {}
        pad = self.kernel_size // 2
        for k, name in enumerate(self.layer_names):
            if k > 0:
                if min(x.shape[-2:]) < 4:
                    break
                x = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), self.blur)[..., ::2, ::2]
            if name in wanted:
                xp = F.pad(x, (pad, pad, pad, pad), mode="replicate")
                out[name] = F.relu(F.conv2d(xp, self.filters[k], bias=self.biases[k]))
            if len(out) == len(wanted):
                break
        missing = wanted - set(out)
        if missing:
            raise ValueError(
                f"images: {tuple(images.shape[-2:])} pixels are too small for layers {sorted(missing)} of the "
                f"weight-free model ({self.levels} levels need at least {4 * 2 ** (self.levels - 2)} pixels a side)"
            )
        return out


STYLE_MODELS = ("vgg19", "vgg19-random", "weight-free")


def make_style_model(
    name: str | StyleModel = "weight-free",
    *,
    weights: str | Path | None = None,
    seed: int = 0,
    pooling: str = "max",
) -> StyleModel:
    """Return a style model by name.

    Parameters
    ----------
    name : {"vgg19", "vgg19-random", "weight-free"} or StyleModel
        ``"vgg19"``: ImageNet weights from `weights` or torch's hub cache; ``"vgg19-random"``:
        random initialisation from `seed`; ``"weight-free"``: :class:`MultiScaleTextureModel`
        with filters from `seed`. A :class:`StyleModel` is returned as it is.
    weights : str or Path, optional
        VGG19 weights file (only with ``"vgg19"``).
    seed : int
        Seed of random weights or filters.
    pooling : {"max", "average"}
        VGG19 pooling.
    """
    if isinstance(name, StyleModel):
        return name
    if name == "vgg19":
        return vgg19(weights, pooling=pooling)
    if weights is not None:
        raise ValueError(f"weights: a weights file is only used with style model 'vgg19', not {name!r}")
    if name == "vgg19-random":
        return vgg19("random", seed=seed, pooling=pooling)
    if name == "weight-free":
        return MultiScaleTextureModel(seed=seed)
    raise ValueError(f"style_model: {name!r} is not accepted; accepted: {', '.join(STYLE_MODELS)}")


def normalised_weights(weights: Sequence[float], argument: str = "style_weights") -> list[float]:
    """Return `weights` divided by their sum (all must be finite and >= 0, the sum > 0)."""
    w = [float(v) for v in weights]
    if not w or any(not math.isfinite(v) or v < 0 for v in w) or sum(w) <= 0:
        raise ValueError(f"{argument}: {list(weights)!r} is not accepted; accepted: finite non-negative weights with a positive sum")
    total = sum(w)
    return [v / total for v in w]
