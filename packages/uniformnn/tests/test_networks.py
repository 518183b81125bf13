"""Networks, the saved-network file format, targets and boxes."""

import pytest
import torch
from torch import nn

from uniformnn import (
    Box,
    ReLUNetwork,
    as_relu_network,
    load_network,
    make_target,
    random_relu_network,
    save_network,
    teacher_network,
)


def test_teacher_architecture_and_coefficient_bound():
    net = teacher_network(3, seed=1)
    assert net.widths == [3, 32, 32, 32, 32, 1]
    for w, b in net.affine_layers():
        assert float(w.abs().max()) <= 0.5 and float(b.abs().max()) <= 0.5
    assert net.input_box == Box.cube(3)
    # reproducible from the seed, different across seeds
    assert torch.equal(net.layers[0].weight, teacher_network(3, seed=1).layers[0].weight)
    assert not torch.equal(net.layers[0].weight, teacher_network(3, seed=2).layers[0].weight)


@pytest.mark.parametrize("dist", ["uniform", "rademacher", "truncated_normal"])
def test_bounded_coefficient_samplers(dist):
    net = random_relu_network([2, 64, 1], coef=0.3, distribution=dist, seed=0)
    w = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    assert float(w.abs().max()) <= 0.3
    if dist == "rademacher":
        assert torch.allclose(w.abs(), torch.full_like(w, 0.3))
    if dist == "uniform":  # the sample spreads over the interval
        assert float(w.abs().max()) > 0.25 and abs(float(w.mean())) < 0.05


def test_forward_matches_manual_computation():
    net = random_relu_network([2, 5, 4, 1], seed=3)
    x = torch.rand(7, 2, dtype=torch.float64)
    (w1, b1), (w2, b2), (w3, b3) = net.affine_layers()
    manual = torch.relu(torch.relu(x @ w1.T + b1) @ w2.T + b2) @ w3.T + b3
    assert torch.allclose(net(x), manual, atol=1e-14)


def test_save_load_roundtrip(tmp_path):
    net = teacher_network(2, (8, 8), seed=4)
    path = save_network(net, tmp_path / "sub" / "t.pt", metadata={"note": "x"})
    back = load_network(path)
    assert back.widths == net.widths and back.input_box == net.input_box
    x = torch.rand(10, 2, dtype=torch.float64) - 0.5
    assert torch.equal(back(x), net(x))
    assert back.metadata == {"note": "x"}
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "uniformnn.relu_network" and raw["format_version"] == 1
    assert [tuple(w.shape) for w in raw["weights"]] == [(8, 2), (8, 8), (1, 8)]
    assert not list(tmp_path.glob("sub/.*tmp*"))  # nothing half-written left behind


def test_sequential_conversion_and_non_relu_layers():
    seq = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    net = as_relu_network(seq)
    x = torch.rand(5, 2)
    assert torch.allclose(net(x), seq(x))
    with pytest.raises(ValueError, match="layer 1 is Tanh"):
        as_relu_network(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)))
    with pytest.raises(TypeError, match="expected a ReLUNetwork"):
        as_relu_network(lambda x: x)


def test_load_rejects_files_that_are_not_networks(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file at all")
    with pytest.raises(ValueError, match="cannot be read as a torch file"):
        load_network(junk)
    other = tmp_path / "dict.pt"
    torch.save({"weights": [torch.zeros(2, 2)]}, other)
    with pytest.raises(ValueError, match="is not a uniformnn network"):
        load_network(other)
    bad_version = tmp_path / "v9.pt"
    torch.save({"format": "uniformnn.relu_network", "format_version": 9}, bad_version)
    with pytest.raises(ValueError, match="format_version 9"):
        load_network(bad_version)
    broken = tmp_path / "broken.pt"
    torch.save({"format": "uniformnn.relu_network", "format_version": 1, "widths": [2, 3, 1],
                "weights": [torch.zeros(3, 2), torch.zeros(1, 4)],
                "biases": [torch.zeros(3), torch.zeros(1)]}, broken)
    with pytest.raises(ValueError, match="inconsistent"):
        load_network(broken)
    with pytest.raises(FileNotFoundError):
        load_network(tmp_path / "missing.pt")


def test_box_validation():
    with pytest.raises(ValueError, match="lower 1.0 > upper 0.0"):
        Box((1.0,), (0.0,))
    with pytest.raises(ValueError, match="must match"):
        Box((0.0, 0.0), (1.0,))
    with pytest.raises(ValueError, match="finite"):
        Box((0.0,), (float("inf"),))
    assert Box.cube(2).volume == pytest.approx(1.0)


def test_network_validation():
    with pytest.raises(ValueError, match="weights\\[1\\]: has 3 columns"):
        ReLUNetwork([torch.zeros(2, 1), torch.zeros(1, 3)], [torch.zeros(2), torch.zeros(1)])
    with pytest.raises(ValueError, match="widths"):
        random_relu_network([2])


def test_targets():
    osc = make_target("oscillatory", 1)
    x = torch.tensor([[0.1], [-0.3]], dtype=torch.float64)
    expected = torch.log(torch.sin(50 * x) + 2) + torch.sin(5 * x)
    assert torch.allclose(osc(x), expected[:, 0])
    # the Lipschitz constant really bounds the derivative
    xs = torch.linspace(-0.5, 0.5, 200001, dtype=torch.float64)[:, None]
    slopes = (osc(xs)[1:] - osc(xs)[:-1]).abs() / (xs[1, 0] - xs[0, 0])
    assert float(slopes.max()) <= osc.lipschitz
    with pytest.raises(ValueError, match="unknown options"):
        make_target("oscillatory", 1, coef=2)
    with pytest.raises(ValueError, match="target kind"):
        make_target("spline", 1)
    with pytest.raises(ValueError, match=r"expected \(n, 1\)"):
        osc(torch.zeros(3, 2, dtype=torch.float64))


def test_pickled_module_is_refused_with_advice(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)), path)
    with pytest.raises(ValueError, match="pickled module is not accepted"):
        load_network(path)
