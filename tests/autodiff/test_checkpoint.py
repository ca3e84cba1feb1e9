"""ad.checkpoint: same derivatives in every mode and order, fewer saved intermediates, and
no silently dropped derivative of a closed-over Tensor."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 4))
WS = [RNG.standard_normal((4, 4)) * 0.5 for _ in range(3)]


def layers(h, *ws, scale=1.0):
    for w in ws:
        h = ad.tanh(h @ w) * scale
    return h


def loss(block, ws):
    return ad.sum(block(X, *ws, scale=0.9) ** 2)


def test_gradients_hessians_and_tangents_equal_the_plain_block():
    ckpt = ad.checkpoint(layers)
    for plain_g, ckpt_g in zip(
        ad.grad(lambda ws: loss(layers, ws))(WS),
        ad.grad(lambda ws: loss(ckpt, ws))(WS),
        strict=False,
    ):
        np.testing.assert_array_equal(plain_g, ckpt_g)
    h_plain = ad.hessian(lambda w: loss(layers, [w] + WS[1:]))(WS[0])
    h_ckpt = ad.hessian(lambda w: loss(ckpt, [w] + WS[1:]))(WS[0])
    np.testing.assert_allclose(h_ckpt, h_plain, rtol=1e-12, atol=1e-12)
    t_plain = ad.jvp(lambda w: loss(layers, [w] + WS[1:]), (WS[0],), (WS[1],))[1]
    t_ckpt = ad.jvp(lambda w: loss(ckpt, [w] + WS[1:]), (WS[0],), (WS[1],))[1]
    np.testing.assert_allclose(t_ckpt, t_plain, rtol=1e-12)
    check_grads(ad.checkpoint(lambda h, w: ad.sin(h @ w)), (X, WS[0]), order=2)


def test_backward_on_tensors_and_fewer_nodes_kept():
    ckpt = ad.checkpoint(layers)
    params = [ad.tensor(w, requires_grad=True) for w in WS]
    out_plain = loss(layers, params)
    out_ckpt = loss(ckpt, params)
    # the checkpointed graph keeps one node for the whole block
    assert len(ad.graph.nodes(out_ckpt)) < len(ad.graph.nodes(out_plain)) - 5
    assert any(t.op == "checkpoint(layers)" for t in ad.graph.nodes(out_ckpt))
    out_plain.backward()
    plain = [p.grad for p in params]
    for p in params:
        p.zero_grad()
    out_ckpt.backward()
    for a, p in zip(plain, params, strict=False):
        np.testing.assert_array_equal(p.grad, a)


def test_a_closed_over_tensor_needing_a_derivative_is_an_error():
    w = ad.tensor(WS[0], requires_grad=True)
    block = ad.checkpoint(lambda h: ad.tanh(h @ w))
    with pytest.raises(
        TypeError,
        match=r"checkpoint\(<lambda>\): fun computed its result from a "
        r"Tensor that needs a derivative and is not an argument",
    ):
        block(ad.tensor(X, requires_grad=True))
    constant = ad.tensor(WS[0])  # a closed-over constant is fine
    out = ad.checkpoint(lambda h: ad.tanh(h @ constant))(ad.tensor(X, requires_grad=True))
    assert out.requires_grad


def test_one_array_out():
    with pytest.raises(TypeError, match="fun must return one array, got tuple"):
        ad.checkpoint(lambda h: (h, h))(ad.tensor(X, requires_grad=True))
