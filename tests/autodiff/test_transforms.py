"""Forward mode, higher-order derivatives and nested transforms: closed forms and
consistency between modes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from autodiff.testing import strategies as S
from tests.autodiff.test_engine import _trace_f, _trace_gradient_by_hand


def test_hessian_of_quadratic_form_is_a_plus_a_transpose():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 4))
    H = ad.hessian(lambda x: x @ A @ x)(rng.standard_normal(4))
    np.testing.assert_allclose(H, A + A.T, rtol=1e-12, atol=1e-12)


def test_hessian_of_logsumexp_is_diag_p_minus_ppT():
    x = np.array([0.3, -1.0, 2.0, 0.5])
    p = np.exp(x - np.log(np.exp(x).sum()))
    H = ad.hessian(ad.logsumexp)(x)
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), atol=1e-14)
    np.testing.assert_allclose(H, H.T, atol=0)


def test_third_and_fourth_derivatives_of_sin():
    x = 0.7
    assert ad.grad(ad.grad(ad.grad(ad.sin)))(x) == pytest.approx(-np.cos(x), rel=1e-14)
    d4 = ad.grad(ad.grad(ad.grad(ad.grad(ad.sin))))(x)
    assert d4 == pytest.approx(np.sin(x), rel=1e-14)
    # forward-over-forward-over-forward
    d = lambda f: lambda v: ad.jvp(f, (v,), (1.0,))[1]  # noqa: E731
    assert d(d(d(ad.sin)))(x) == pytest.approx(-np.cos(x), rel=1e-14)
    # mixed: forward over reverse over forward
    assert d(ad.grad(d(ad.sin)))(x) == pytest.approx(-np.cos(x), rel=1e-14)


def test_trace_function_forward_mode_matches_reverse_and_hand_derivation():
    w = (0.3, 0.7)
    _, df_dw1 = ad.jvp(_trace_f, w, (1.0, 0.0))
    grad = ad.grad(_trace_f, argnums=(0, 1))(*w)
    hand = _trace_gradient_by_hand(*w)
    assert df_dw1 == pytest.approx(hand[0], rel=1e-12)
    assert grad[0] == pytest.approx(df_dw1, rel=1e-12)
    assert grad[1] == pytest.approx(hand[1], rel=1e-12)


def _random_composition(data):
    """A random vector function R^n -> R^m built from several primitives."""
    n = data.draw(st.integers(1, 4))
    m = data.draw(st.integers(1, 4))
    A = data.draw(S.arrays((m, n), min_value=-1, max_value=1))
    b = data.draw(S.arrays((m,), min_value=-1, max_value=1))
    x = data.draw(S.arrays((n,), min_value=-1, max_value=1))

    def f(v):
        h = ad.tanh(A @ v + b)
        return ad.softmax(h) * ad.sum(ad.sin(v)) + ad.exp(0.5 * h) * ad.logsumexp(v)

    return f, x


@given(data=st.data())
def test_jacobian_forward_equals_reverse_on_random_compositions(data):
    f, x = _random_composition(data)
    J_fwd = ad.jacobian(f, mode="fwd")(x)
    J_rev = ad.jacobian(f, mode="rev")(x)
    assert J_fwd.shape == J_rev.shape == (np.shape(f(x))[0], x.shape[0])
    np.testing.assert_allclose(J_fwd, J_rev, rtol=1e-10, atol=1e-12)


@given(data=st.data())
def test_hvp_equals_hessian_times_vector_and_hessians_are_symmetric(data):
    f, x = _random_composition(data)
    scalar = lambda v: ad.sum(f(v) ** 2)  # noqa: E731
    v = data.draw(S.arrays(x.shape))
    H = ad.hessian(scalar)(x)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.hvp(scalar, (x,), (v,)), H @ v, rtol=1e-9, atol=1e-12)
    # reverse-over-reverse gives the same Hessian
    H_rr = ad.jacobian(ad.grad(scalar), mode="rev")(x)
    np.testing.assert_allclose(H_rr, H, rtol=1e-9, atol=1e-12)


def test_linearize_reuses_the_point_and_matches_jvp():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5)
    f = lambda v: ad.tanh(v) * ad.exp(ad.cumsum(v))  # noqa: E731
    out, f_jvp = ad.linearize(f, x)
    np.testing.assert_allclose(out, np.asarray(f(x)))
    for _ in range(3):
        t = rng.standard_normal(5)
        np.testing.assert_allclose(f_jvp(t), ad.jvp(f, (x,), (t,))[1], rtol=1e-12)


def test_no_perturbation_confusion():
    # d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x: the inner derivative must not see outer x
    assert ad.grad(lambda x: x * ad.grad(lambda y: x * y)(3.0))(2.0) == pytest.approx(4.0)
    jvp_inner = lambda x: ad.jvp(lambda y: x * y, (3.0,), (1.0,))[1]  # noqa: E731
    assert ad.jvp(lambda x: x * jvp_inner(x), (2.0,), (1.0,))[1] == pytest.approx(4.0)


def test_jvp_on_parameter_trees_and_zero_tangent_outputs():
    params = {"a": np.array([1.0, 2.0]), "b": np.array(3.0)}
    tangents = {"a": np.array([1.0, 0.0]), "b": np.array(1.0)}
    out, t = ad.jvp(lambda p: (ad.sum(p["a"] * p["b"]), np.ones(2)), (params,), (tangents,))
    assert out[0] == pytest.approx(9.0)
    assert t[0] == pytest.approx(1.0 * 3.0 + 3.0)
    np.testing.assert_array_equal(t[1], np.zeros(2))
    with pytest.raises(ValueError, match="tangent of shape"):
        ad.jvp(ad.sin, (np.ones(2),), (np.ones(3),))


def test_backward_with_create_graph_inside_pytorch_style_code_gives_hessian_rows():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ad.sum(x**3)
    y.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g[1].backward()
    np.testing.assert_allclose(x.grad, [0.0, 12.0, 0.0])


def test_jacobian_of_size_zero_input():
    J = ad.jacobian(lambda v: ad.sum(v) * np.ones(2), mode="fwd")(np.zeros(0))
    assert J.shape == (2, 0)
