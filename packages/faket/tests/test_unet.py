"""The small 3-D U-Net: learns to segment balls, across a change of modality, deterministically."""

import numpy as np
import torch

from faket.evaluate import Detection, f1_score
from faket.unet import (
    UNet3D,
    particles_from_labels,
    predict_segmentation,
    segmentation_scores,
    train_unet,
)


def _volume(seed, noise, blur=0.0, shape=(16, 32, 32)):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, dtype=np.int64)
    g = np.indices(shape)
    centres = []
    while len(centres) < 5:
        c = [int(rng.integers(4, s - 4)) for s in shape]
        if all(np.sum((np.array(c) - np.array(o)) ** 2) > 121 for o in centres):
            centres.append(c)
    for c in centres:
        mask[((g - np.array(c)[:, None, None, None]) ** 2).sum(0) <= 9] = 1
    vol = mask.astype(float)
    if blur:
        vol = gaussian_filter(vol, blur)
    return vol + rng.normal(0, noise, shape), mask, centres


def test_unet_shapes_and_dice_by_hand():
    net = UNet3D(3, base=2, depth=2)
    assert net(torch.zeros(1, 1, 8, 8, 8)).shape == (1, 3, 8, 8, 8)
    p = np.array([[[0, 1, 1, 2]]])
    t = np.array([[[0, 1, 0, 0]]])
    s = segmentation_scores(p, t)
    assert s["dice"] == {1: 2 * 1 / 3, 2: 0.0}
    lab = np.zeros((5, 5, 5), dtype=int)
    lab[1, 1, 1:3] = 2
    lab[4, 4, 4] = 1
    dets = particles_from_labels(lab, ["a", "b"])
    assert sorted((d.cls, d.x, d.y, d.z) for d in dets) == [("a", 4, 4, 4), ("b", 1.5, 1, 1)]


def test_unet_learns_across_modalities_and_is_seeded():
    train = [_volume(s, noise=0.3) for s in (0, 1)]
    test_vol, test_mask, centres = _volume(7, noise=0.4, blur=0.7)  # another "modality": blurrier, noisier
    kw = dict(steps=25, patch=16, batch_size=2, base=4, depth=2, seed=0, device="cpu")
    trained = train_unet([v for v, _, _ in train], [m for _, m, _ in train], **kw)
    pred = predict_segmentation(trained, test_vol, device="cpu")
    dice = segmentation_scores(pred, test_mask)["mean_dice"]
    assert dice > 0.6, dice
    found = particles_from_labels(pred, ["ball"], min_size=4)
    truth = [Detection("ball", c[2], c[1], c[0]) for c in centres]
    assert f1_score(found, truth, tolerance=2.0)["f1"] >= 0.8
    again = train_unet([v for v, _, _ in train], [m for _, m, _ in train], **{**kw, "steps": 3})
    again2 = train_unet([v for v, _, _ in train], [m for _, m, _ in train], **{**kw, "steps": 3})
    for a, b in zip(again.model.parameters(), again2.model.parameters()):
        assert torch.equal(a, b)
