"""Network architectures and the solution wrapper."""

import pytest
import torch

from pdenet.networks import MLP, MultilevelNet, SolutionNet, build_network


def test_mlp_shapes_and_batch_norm():
    net = MLP(5, 2, [16, 16], "tanh", batch_norm=True)
    out = net(torch.randn(8, 5))
    assert out.shape == (8, 2)
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in net.modules()) == 2


def test_multilevel_structure_and_output():
    torch.manual_seed(0)
    net = MultilevelNet(4, levels=3, factor=2)
    # level l has 2**l hidden layers of width factor * in_dim with batch normalisation
    assert [len(level.norms) for level in net.levels] == [1, 2, 4]
    assert net.levels[2].inp.out_features == 8
    assert all(isinstance(n, torch.nn.BatchNorm1d) for n in net.levels[1].norms)
    z = torch.randn(32, 4)
    out = net(z)
    assert out.shape == (32, 1)


def test_multilevel_output_is_sum_of_level_readouts():
    torch.manual_seed(1)
    net = MultilevelNet(3, levels=2, width=6, batch_norm=False)
    z = torch.randn(5, 3)
    l0, l1 = net.levels
    r1 = l1.maps[1](l1.act(l1.maps[0](l1.act(l1.inp(z)))))
    r0 = l0.maps[0](l0.act(l0.inp(z)))
    assert torch.allclose(net(z), r0 + r1, atol=1e-6)


def test_multilevel_one_level_is_shallow_net():
    torch.manual_seed(0)
    net = MultilevelNet(3, levels=1, width=7, batch_norm=False)
    net.eval()
    z = torch.randn(10, 3)
    lvl = net.levels[0]
    assert torch.allclose(net(z), lvl.maps[0](lvl.act(lvl.inp(z))))


def test_solution_net_normalises_inputs_and_differentiates():
    body = torch.nn.Linear(3, 1)
    with torch.no_grad():
        body.weight.copy_(torch.tensor([[1.0, 2.0, 3.0]]))
        body.bias.zero_()
    net = SolutionNet(body, [0.0, -2.0, 10.0], [1.0, 2.0, 20.0])
    t = torch.tensor([1.0])
    x = torch.tensor([[2.0]])
    p = torch.tensor([[10.0]])
    # normalised inputs: (1, 1, -1) -> 1 + 2 - 3 = 0
    assert torch.allclose(net(t, x, p), torch.zeros(1))
    x.requires_grad_(True)
    g = torch.autograd.grad(net(t, x, p).sum(), x)[0]
    assert torch.allclose(g, torch.tensor([[2.0 / 2.0]]))


def test_build_network_errors():
    with pytest.raises(ValueError, match="network kind must be 'mlp' or 'multilevel', got 'cnn'"):
        build_network("cnn", 3)
    with pytest.raises(ValueError, match="activation must be one of"):
        build_network("mlp", 3, activation="swish2")
    with pytest.raises(ValueError, match="levels must be a positive integer"):
        build_network("multilevel", 3, levels=0)
