"""Images: match an image to a reference image (or to target distributions) channel by channel.

Colour spaces
-------------
``"rgb"``
    each channel is redistributed on its own.
``"lab"``
    CIELAB (sRGB primaries, D65 white): lightness and the two colour-opponent axes are matched
    separately, which changes colour less where only brightness differs.
``"pca"``
    the pixels of each image are decorrelated by their own principal axes; the k-th component of the
    image is matched to the k-th component of the reference and the result is rebuilt with the
    reference's axes and mean (axes are ordered by variance and signed so their sum is positive).

The output has the dtype and shape of the input.  Integer images are rounded and clipped to their
dtype's range; float images are clipped to ``[0, 1]`` when they lie in it.  An alpha channel is kept.
Integer pixels are tied values; ``ties="spread"`` (default, seeded) spreads them within their jump of
the CDF, so the result follows the reference histogram closely instead of merging levels.

In ``"rgb"`` space integer images are matched in their own pixel units and take the counting path of
:class:`~redistributor.transformer.Redistributor`: the channel distributions come from
:func:`numpy.bincount` (no sort of the pixels) and the map is evaluated once per distinct level into a
lookup table; with ``ties="spread"`` each pixel still gets its own seeded position within the jump
of its level.  The result equals the general (sort-based) path exactly, except for 8-bit images with
``ties="spread"``: there the seeded position is drawn as one of 256 cells of the jump and the rounded
output read from a table over (level, cell), refined exactly in the few cells where the output steps
(:func:`_spread_8bit`); every pixel gets the same distribution of outputs as in the general path, from a
different random stream.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from redistributor._atomic import atomic_path
from redistributor._validation import check_choice
from redistributor.distributions import as_distribution
from redistributor.transformer import Redistributor

__all__ = ["match_image", "read_image", "write_image", "rgb_to_lab", "lab_to_rgb", "COLOR_SPACES", "IMAGE_SUFFIXES"]

COLOR_SPACES = ("rgb", "lab", "pca")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")

_M = np.array([[0.4124564, 0.3575761, 0.1804375],
               [0.2126729, 0.7151522, 0.0721750],
               [0.0193339, 0.1191920, 0.9503041]])
_M_INV = np.linalg.inv(_M)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_D = 6.0 / 29.0


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    lin = c / 12.92
    high = c > 0.04045
    lin[high] = ((c[high] + 0.055) / 1.055) ** 2.4
    return lin


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in ``[0, 1]`` (last axis = 3 channels) to CIELAB, D65 white."""
    return _linear_to_lab(_srgb_to_linear(np.asarray(rgb, dtype=np.float64)))


def _linear_to_lab(lin: np.ndarray) -> np.ndarray:
    xyz = lin @ _M.T / _WHITE
    f = np.where(xyz > _D**3, np.cbrt(xyz), xyz / (3 * _D**2) + 4.0 / 29.0)
    L = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) to sRGB in ``[0, 1]`` (not clipped)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    xyz = np.where(f > _D, f**3, 3 * _D**2 * (f - 4.0 / 29.0)) * _WHITE
    lin = xyz @ _M_INV.T
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.abs(lin) ** (1 / 2.4) * np.sign(lin) - 0.055)


_ROWS = 1 << 18


def _chunked(fn, pixels: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """``fn(pixels / scale)`` row block by row block into one float64 array (bounded temporaries)."""
    out = np.empty(pixels.shape, dtype=np.float64)
    for start in range(0, pixels.shape[0], _ROWS):
        block = pixels[start : start + _ROWS].astype(np.float64)
        if scale != 1.0:
            block /= scale
        out[start : start + _ROWS] = fn(block)
    return out


def _identity(block: np.ndarray) -> np.ndarray:
    return block


def _to_lab(pixels: np.ndarray, scale: float) -> np.ndarray:
    """CIELAB of RGB pixels in units of ``scale``; 8- and 16-bit pixels are linearised by a lookup table
    (the sRGB curve evaluated once per level, so the result equals ``rgb_to_lab(pixels / scale)``)."""
    if pixels.dtype.kind == "u" and pixels.dtype.itemsize <= 2:
        lut = _srgb_to_linear(np.arange(2 ** (8 * pixels.dtype.itemsize), dtype=np.float64) / scale)
        out = np.empty(pixels.shape, dtype=np.float64)
        for start in range(0, pixels.shape[0], _ROWS):
            out[start : start + _ROWS] = _linear_to_lab(lut[pixels[start : start + _ROWS]])
        return out
    return _chunked(rgb_to_lab, pixels, scale)


def _scale(image: np.ndarray) -> float:
    if np.issubdtype(image.dtype, np.integer):
        return float(np.iinfo(image.dtype).max)
    return 1.0


def _pca(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = pixels.mean(axis=0)
    cov = np.cov(pixels - mean, rowvar=False)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    vecs = vecs[:, order]
    vecs *= np.where(vecs.sum(axis=0) < 0, -1.0, 1.0)
    return mean, vecs


def _check_image(img: Any, name: str) -> np.ndarray:
    arr = np.asarray(img)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real numeric image array, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"{name} must have shape (H, W) or (H, W, C) with C in 1..4, got {arr.shape}")
    if arr.size < 2:
        raise ValueError(f"{name} is empty or has a single pixel")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or +-inf; accepted are finite pixel values")
    return arr


#: within-tie cells of the 8-bit spreading table: 256 per level, so that (level, cell) is one uint16
_CELLS = 256
_AMBIGUOUS = np.uint16(0xFFFF)
_LUT_ROWS = 1 << 20
#: whether 8-bit images with ``ties="spread"`` take the table path (the tests switch it off to compare)
_SPREAD_TABLE = True


def _spread_8bit(r: Redistributor, x: np.ndarray, factor: float, out: np.ndarray) -> None:
    """Spread the tied pixels of 8-bit channels by a lookup table; write the rounded result into ``out``.

    The general counting path draws, for every pixel on an atom of its channel's CDF (every pixel of an
    image, in practice), a uniform position ``u`` within the jump of its level and evaluates the target
    quantile function there; the output pixel is ``clip(rint(factor Q_T(F_lo + u dF)))``.  Since that
    is a monotone step function of ``u``, it is tabulated instead: ``u`` is drawn as one of 256 equal
    cells of ``[0, 1)`` (a seeded random byte) and the output is read from a 65536-entry table indexed
    by the 16-bit number (level, cell), built from one quantile evaluation per cell edge of each level.
    Cells whose two edges give different outputs (a step of the output inside the cell) are marked;
    for the few pixels that land in one, ``u`` is completed by a uniform draw within the cell and
    evaluated exactly.  Each pixel therefore gets exactly the output distribution of the general path
    (``u`` uniform on ``[0, 1)``), from a different, equally seeded, random stream; levels that are not
    atoms map deterministically, as in the general path.
    """
    info = np.iinfo(x.dtype)
    lo, hi = max(int(info.min), 0), int(info.max)
    edges = np.arange(_CELLS + 1, dtype=np.float64) / _CELLS
    vals = np.arange(int(info.min), int(info.max) + 1, dtype=np.float64)
    rng = np.random.default_rng(r._seed_seq())
    pair = np.empty((min(x.shape[0], _LUT_ROWS), 2), dtype=np.uint8)  # (cell, level) bytes = one uint16

    def rounded(y: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(y * factor) if factor != 1.0 else np.rint(y), lo, hi)

    for j in range(x.shape[1]):
        src, tgt = r.sources_[j], r.targets_[j]
        F, S = src.cdf_sf_ties(vals, "midrank", None)
        table = np.repeat(rounded(tgt._ppf_cdf_sf(F, S)).astype(np.uint16), _CELLS)  # non-atoms: one value
        at, f_lo, df, s_hi, ds = src.atom_jumps(vals)
        jumps = np.zeros((vals.size, 4))
        if at.any():
            f = f_lo[:, None] + edges[None, :] * df[:, None]
            s_ = s_hi[:, None] - (edges[None, :] - 1.0) * ds[:, None]  # S_hi + (1 - u) dS, as the general path
            o = rounded(tgt._ppf_cdf_sf(f.ravel(), s_.ravel())).reshape(f.shape)
            cell = np.where(o[:, :-1] == o[:, 1:], o[:, :-1], float(_AMBIGUOUS)).astype(np.uint16)
            table.reshape(vals.size, _CELLS)[at] = cell
            jumps[at] = np.column_stack([f_lo, df, s_hi, ds])
        col = x[:, j].view(np.uint8)  # int8: level index of value v is (v - min) = byte ^ 0x80
        for start in range(0, col.shape[0], _LUT_ROWS):
            c = col[start : start + _LUT_ROWS]
            kk = pair[: c.shape[0]]
            kk[:, 0] = np.frombuffer(rng.bytes(c.shape[0]), dtype=np.uint8)
            kk[:, 1] = c if info.min == 0 else c ^ np.uint8(0x80)
            k = kk.view("<u2").reshape(-1)  # level * 256 + cell
            v = table[k]
            amb = np.flatnonzero(v == _AMBIGUOUS)
            if amb.size:
                level = k[amb] >> 8
                u = ((k[amb] & 0xFF) + rng.random(amb.size)) / _CELLS
                t = jumps[level]
                v[amb] = rounded(tgt._ppf_cdf_sf(t[:, 0] + u * t[:, 1], t[:, 2] - (u - 1.0) * t[:, 3]))
            out[start : start + _LUT_ROWS, j] = v


def match_image(image: Any, reference: Any, *, color_space: str = "rgb", source: str = "empirical",
                ties: str = "spread", random_state: Any = 0) -> np.ndarray:
    """Redistribute the pixels of ``image`` to follow ``reference``, per channel.

    Parameters
    ----------
    image : array of shape (H, W) or (H, W, C)
        Image to change (uint8, uint16 or float); it is not modified.
    reference : array, str, Distribution or list
        A reference image (any size, same number of channels), or target distribution(s) of the pixel
        values, one for all channels or a list with one per channel (only with ``color_space="rgb"``).
    color_space : {"rgb", "lab", "pca"}
        Space in which channels are matched (see the module documentation).  ``"lab"`` and ``"pca"``
        need three colour channels.
    source : {"empirical", "kde", "sketch"}
        How the channel distributions of ``image`` are learned.
    ties : {"spread", "midrank"}
        Tie handling for integer pixel values.
    random_state : int or None
        Seed of the tie spreading.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``.
    """
    img = _check_image(image, "image")
    check_choice(color_space, "color_space", COLOR_SPACES)
    is_ref_image = isinstance(reference, np.ndarray) or (
        isinstance(reference, list | tuple) and reference and isinstance(reference[0], list | tuple | np.ndarray))
    ref = _check_image(reference, "reference") if is_ref_image else None
    channels = 1 if img.ndim == 2 else img.shape[2]
    has_alpha = channels in (2, 4)
    colour = channels - int(has_alpha)
    if ref is not None:
        rch = 1 if ref.ndim == 2 else ref.shape[2]
        if rch - int(rch in (2, 4)) != colour:
            raise ValueError(f"reference has {rch} channels but image has {channels}; colour channels must agree")
    if color_space != "rgb" and (colour != 3 or ref is None):
        raise ValueError(f"color_space={color_space!r} needs an RGB image and a reference image; use 'rgb' otherwise")
    for arr, name in ((img, "image"), (ref, "reference")):
        if arr is None:
            continue
        pix = arr.reshape(-1, 1 if arr.ndim == 2 else arr.shape[2])
        for c in range(colour):
            lo = pix[:, c].min()  # per column: a reduction over axis 0 of (n, 3) is many times slower
            if lo == pix[:, c].max():
                raise ValueError(f"{name} channel {c} is constant (every pixel equals {lo.item()!r}); its "
                                 "distribution cannot be estimated (accepted: channels with at least two values)")
    scale = _scale(img)
    common = {"source": source, "ties": ties, "random_state": random_state, "tails": "clip"}
    if color_space == "rgb":
        # pixel values as they are (integer images stay integer: the counting path of Redistributor,
        # one map evaluation per distinct level); the result is in the units of the target
        x = img.reshape(-1, channels)[:, :colour]
        if ref is not None:
            y = ref.reshape(-1, ref.shape[2] if ref.ndim == 3 else 1)[:, :colour]
            r = Redistributor(target=y, **common)
            factor = scale / _scale(ref)  # reference levels -> image levels
        else:
            tgt = reference if isinstance(reference, list | tuple) else [reference] * colour
            if len(tgt) != colour:
                raise ValueError(f"reference lists {len(tgt)} distributions but image has {colour} colour channels")
            tgt = [as_distribution(t, "reference") for t in tgt]
            r = Redistributor(target=tgt, **common)  # distributions are given in pixel units
            factor = 1.0
        if (_SPREAD_TABLE and ties == "spread" and source == "empirical" and img.dtype.itemsize == 1
                and img.dtype.kind in "iu"):
            # 8-bit images: a lookup table over (level, within-tie cell) instead of one quantile
            # evaluation per pixel; same distribution of outputs (see _spread_8bit)
            r.fit(x)
            result = np.empty(img.shape, dtype=img.dtype).reshape(-1, channels)
            _spread_8bit(r, x, factor, result[:, :colour])
            if has_alpha:
                result[:, colour] = img.reshape(-1, channels)[:, colour]
            return result.reshape(img.shape)
        out = r.fit_transform(x)
    else:
        convert = _to_lab if color_space == "lab" else (lambda px, sc: _chunked(_identity, px, sc))
        x = convert(img.reshape(-1, channels)[:, :colour], scale)
        y = convert(ref.reshape(-1, ref.shape[2] if ref.ndim == 3 else 1)[:, :colour], _scale(ref))
        if color_space == "lab":
            out = Redistributor(target=y, **common).fit_transform(x)
            del x, y
            out = _chunked(lab_to_rgb, out)
        else:
            mx, vx = _pca(x)
            my, vy = _pca(y)
            out = Redistributor(target=(y - my) @ vy, **common).fit_transform((x - mx) @ vx)
            out = out @ vy.T + my
        factor = scale
    result = np.empty(img.shape, dtype=img.dtype).reshape(-1, channels)
    integer = np.issubdtype(img.dtype, np.integer)
    unit = not integer and img.min() >= 0 and img.max() <= 1
    lo, hi = (max(np.iinfo(img.dtype).min, 0), np.iinfo(img.dtype).max) if integer else (0.0, 1.0)
    for start in range(0, out.shape[0], _ROWS):
        block = out[start : start + _ROWS]
        if factor != 1.0:
            block = block * factor
        if integer:
            block = np.rint(block)
        if integer or unit:
            np.clip(block, lo, hi, out=block)
        result[start : start + _ROWS, :colour] = block
    if has_alpha:
        result[:, colour] = img.reshape(-1, channels)[:, colour]
    return result.reshape(img.shape)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a PNG, JPEG or TIFF file into an array (H, W) or (H, W, C), keeping its dtype."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{str(p)!r} is not a file")
    suffix = p.suffix.lower()
    try:
        if suffix in (".tif", ".tiff"):
            import tifffile

            arr = tifffile.imread(p)
        else:
            from PIL import Image

            with Image.open(p) as im:
                im.load()
                if im.mode in ("P", "CMYK", "YCbCr", "LAB", "HSV"):
                    im = im.convert("RGBA" if "transparency" in im.info else "RGB")
                arr = np.asarray(im)
    except Exception as exc:  # any decoder failure means "not an image we can read"
        raise ValueError(f"{str(p)!r} is not a readable image (accepted: PNG, JPEG, TIFF): {exc}") from None
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    return _check_image(arr, str(p))


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write ``image`` to PNG, JPEG or TIFF (by suffix) through a temporary file renamed into place."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(f"output {str(p)!r} has suffix {suffix!r}; accepted: {', '.join(IMAGE_SUFFIXES)}")
    arr = np.asarray(image)
    if suffix in (".jpg", ".jpeg") and arr.dtype != np.uint8:
        raise ValueError(f"JPEG output needs a uint8 image, got {arr.dtype}; write PNG or TIFF instead")
    if suffix == ".png" and not (arr.dtype == np.uint8 or (arr.dtype == np.uint16 and arr.ndim == 2)):
        raise ValueError(f"PNG output needs a uint8 image (or a one-channel uint16 image), got {arr.dtype} with "
                         f"shape {arr.shape}; write TIFF instead")
    with atomic_path(p, suffix=suffix) as tmp:
        if suffix in (".tif", ".tiff"):
            import tifffile

            tifffile.imwrite(tmp, arr)
        else:
            from PIL import Image

            img = arr[..., 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr
            Image.fromarray(img).save(tmp, format="PNG" if suffix == ".png" else "JPEG", **({"quality": 95} if suffix != ".png" else {}))
    return p
