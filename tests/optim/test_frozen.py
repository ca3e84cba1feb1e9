"""Frozen parameters (requires_grad=False) in an optimizer, and zero_grad's two modes."""

import numpy as np
import pytest

import autodiff as ad
import nn
import optim

OPTIMIZERS = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True, weight_decay=0.1),
    lambda ps: optim.Adagrad(ps, weight_decay=0.1),
]
NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


def mlp():
    nn.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def backward(net):
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    (net(ad.tensor(x)) ** 2).sum().backward()


@pytest.mark.parametrize("make", OPTIMIZERS, ids=NAMES)
def test_a_frozen_layer_is_accepted_and_left_alone(make):
    # the issue: SGD(net.parameters()) raised once a layer was frozen
    net = mlp()
    net[0].requires_grad_(False)
    frozen = [p.data.copy() for p in net[0].parameters()]
    trained = [p.data.copy() for p in net[2].parameters()]
    opt = make(net.parameters())  # all four parameters, two frozen
    assert sum(len(g["params"]) for g in opt.param_groups) == 4
    for _ in range(3):
        opt.zero_grad()
        backward(net)
        assert all(p.grad is None for p in net[0].parameters())
        opt.step()
    for p, before in zip(net[0].parameters(), frozen, strict=False):
        np.testing.assert_array_equal(p.data, before)  # not even weight decay moved it
        assert p not in opt.state
    for p, before in zip(net[2].parameters(), trained, strict=False):
        assert not np.allclose(p.data, before)


def test_freezing_mid_run_stops_updates_and_unfreezing_resumes_them():
    net = mlp()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    backward(net)
    opt.step()
    net[0].requires_grad_(False)
    opt.zero_grad()
    backward(net)
    before = net[0].weight.data.copy()
    opt.step()  # momentum alone would have moved it
    np.testing.assert_array_equal(net[0].weight.data, before)
    net[0].requires_grad_(True)
    opt.zero_grad()
    backward(net)
    opt.step()
    assert not np.array_equal(net[0].weight.data, before)


def test_param_groups_may_hold_only_frozen_parameters():
    frozen = nn.Parameter(np.ones(2), requires_grad=False)
    live = nn.Parameter(np.ones(2))
    opt = optim.Adam([{"params": [frozen], "lr": 1.0}, {"params": [live]}], lr=0.1)
    live.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(frozen.data, 1.0)
    np.testing.assert_allclose(live.data, 0.9)


# ------------------------------------------------------------------- zero_grad
def test_zero_grad_sets_to_none_by_default():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = optim.SGD([a, b], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(3)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    a.grad = np.ones(2)
    opt.zero_grad(set_to_none=True)
    assert a.grad is None


def test_zero_grad_to_zeros_allocates_without_touching_shared_or_read_only_gradients():
    a = nn.Parameter(np.ones(3, np.float32))
    b = nn.Parameter(np.ones(3, np.float32))
    c = nn.Parameter(np.ones(2))  # no gradient: stays None, as PyTorch
    shared = np.array([1.0, 2.0, 3.0], np.float32)
    shared.setflags(write=False)
    a.grad = b.grad = shared  # one read-only array for two parameters
    held = shared  # and the caller keeps a reference
    opt = optim.SGD([a, b, c], lr=0.1)
    opt.zero_grad(set_to_none=False)
    for p in (a, b):
        assert isinstance(p.grad, np.ndarray) and p.grad.dtype == np.float32
        np.testing.assert_array_equal(p.grad, 0.0)
        assert p.grad.flags.writeable
    assert a.grad is not b.grad  # still independent arrays
    np.testing.assert_array_equal(held, [1.0, 2.0, 3.0])
    assert c.grad is None


def test_zero_grad_to_zeros_keeps_a_tensor_gradient_a_tensor():
    p = nn.Parameter(np.ones(2))
    p.grad = ad.tensor([3.0, 4.0])
    optim.Adam([p]).zero_grad(set_to_none=False)
    assert isinstance(p.grad, ad.Tensor)
    np.testing.assert_array_equal(p.grad.data, 0.0)


def test_backward_after_zeroing_to_zeros_gives_the_fresh_gradient():
    net = mlp()
    opt = optim.SGD(net.parameters(), lr=0.1)
    backward(net)
    fresh = [p.grad.copy() for p in net.parameters()]
    backward(net)  # accumulated: twice the gradient
    opt.zero_grad(set_to_none=False)
    backward(net)
    for p, g in zip(net.parameters(), fresh, strict=False):
        np.testing.assert_array_equal(p.grad, g)


def test_zeroed_gradients_are_stepped_not_skipped():
    # PyTorch: a zero gradient is a gradient, so momentum and step counters advance
    p = nn.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.5)
    p.grad = np.ones(2)
    opt.step()
    opt.zero_grad(set_to_none=False)
    before = p.data.copy()
    opt.step()
    np.testing.assert_allclose(p.data - before, 0.5 * -0.1)
