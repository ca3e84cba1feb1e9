"""Engine behaviour: worked examples with known answers, the Tensor API, dtype rules,
errors, graph freeing, mutation detection, no_grad, accumulation, custom primitives."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import autodiff as ad


# ------------------------------------------------------------- worked examples
def test_nine_weight_relu_network_of_doc_003():
    # 003_3e2271feff96ec1f.txt Part 1: weights w1..w9, input (0, 3): y = 4.
    w = ad.tensor([1.0, -2.0, 0.0, 2.0, 1.0, 0.0, -1.0, 1.0, 1.0], requires_grad=True)
    x1, x2 = 0.0, 3.0
    h1 = ad.relu(w[0] * x1 + w[1] * x2 + w[2])
    h2 = ad.relu(w[3] * x1 + w[4] * x2 + w[5])
    y = ad.relu(w[6] * h1 + w[7] * h2 + w[8])
    assert y.item() == 4.0
    y.backward()
    np.testing.assert_array_equal(w.grad, [0, 0, 0, 0, 3, 1, 0, 3, 1])


def _trace(w1, w2, lib):
    """The evaluation trace of 002_34d55ca37461e66e.txt section 5, (z1, ..., z5), with the
    sin and exp of lib (autodiff or numpy); the function is z4 * z5."""
    z1 = w1 / w2
    z2 = lib.sin(2 * np.pi * z1)
    z3 = lib.exp(2 * w2)
    z4 = 3 * z1 - z3
    z5 = z2 + z4
    return z1, z2, z3, z4, z5


def _trace_f(w1, w2):
    *_, z4, z5 = _trace(w1, w2, ad)
    return z4 * z5


def _trace_gradient_by_hand(w1, w2):
    z1, _, _, z4, z5 = _trace(w1, w2, np)
    d4 = z5 + z4  # z6 = z4 * z5 and z5 = z2 + z4
    d2 = z4
    d1 = d2 * 2 * np.pi * np.cos(2 * np.pi * z1) + 3 * d4
    d3 = -d4
    return np.array([d1 / w2, d1 * (-w1 / w2**2) + d3 * 2 * np.exp(2 * w2)])


@pytest.mark.parametrize("w", [(0.3, 0.7), (-1.2, 0.4), (2.0, -0.5)])
def test_trace_function_gradient_matches_hand_derivation(w):
    g = ad.grad(_trace_f, argnums=(0, 1))(*w)
    np.testing.assert_allclose(np.array(g), _trace_gradient_by_hand(*w), rtol=1e-12)
    w1 = ad.tensor(w[0], requires_grad=True)
    w2 = ad.tensor(w[1], requires_grad=True)
    _trace_f(w1, w2).backward()
    np.testing.assert_allclose([w1.grad, w2.grad], _trace_gradient_by_hand(*w), rtol=1e-12)


def test_softmax_cross_entropy_gradient_is_p_minus_onehot():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    onehot = np.eye(4)[labels]
    g = ad.grad(lambda z: -ad.sum(ad.log_softmax(z) * onehot))(logits)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(g, p - onehot, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- Tensor API
def test_tensor_attributes_and_repr():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float64
    assert x.T.shape == (3, 2)
    assert isinstance(x.numpy(), np.ndarray)
    assert x[1, 2].item() == 5.0
    assert "requires_grad=True" in repr(x)
    y = (x * 2).sum()
    assert "op=sum" in repr(y)
    d = y.detach()
    assert not d.requires_grad and d.is_leaf


def test_operators_with_scalars_and_arrays_on_either_side():
    x = ad.tensor([1.0, 2.0, 4.0], requires_grad=True)
    a = np.array([2.0, 3.0, 5.0])
    y = (2 + x) * 3 - a / x + x**2 + 2**x - (1 - x) + (a @ x) + (-x).sum() + abs(x - 3)
    y = ad.sum(y)
    y.backward()
    xs = np.array([1.0, 2.0, 4.0])
    # the scalars a @ x and (-x).sum() are broadcast over 3 elements before the final sum
    expected = 3 + a / xs**2 + 2 * xs + np.log(2) * 2**xs + 1 + 3 * a - 3 + np.sign(xs - 3)
    np.testing.assert_allclose(x.grad, expected)


def test_comparisons_are_boolean_and_not_recorded():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == bool and not m.requires_grad
    np.testing.assert_array_equal(m.data, [False, True])


def test_repeated_indices_accumulate_and_masks_work():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x[np.array([0, 0, 2, 0])] * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1])
    x.zero_grad()
    (x[x.data > 1.5] ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 4, 6])


def test_broadcasting_gradients_are_summed_to_operand_shapes():
    a = ad.tensor(np.ones((3, 1)), requires_grad=True)
    b = ad.tensor(np.ones(4), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad, np.full(4, 3.0))


def test_every_gradient_is_a_writeable_array_of_its_own():
    # add passes its cotangent through unchanged and reshape passes a view of it: the
    # gradients handed out must still not share memory (nor the seed's).
    x = ad.tensor(np.ones(3), requires_grad=True)
    y = ad.tensor(np.ones((3, 1)), requires_grad=True)
    z = x + y.reshape(3)
    seed = np.arange(3.0)
    z.backward(seed)
    (x + 0).sum().backward()
    grads = [x.grad, y.grad]
    ax, ay = ad.grad(lambda a, b: ((a + b.reshape(3)) * seed).sum(), argnums=(0, 1))(
        np.ones(3), np.ones((3, 1))
    )
    grads += [ax, ay]
    for i, g in enumerate(grads):
        assert g.flags.writeable
        assert not np.shares_memory(g, seed)
        for other in grads[i + 1 :]:
            assert not np.shares_memory(g, other)
    np.testing.assert_array_equal(x.grad, seed + 1)
    np.testing.assert_array_equal(y.grad, seed[:, None])
    np.testing.assert_array_equal(ax, seed)


# --------------------------------------------------------------------- dtypes
def test_float32_in_float32_out_with_python_scalars():
    x = ad.tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    y = ad.sum(ad.exp(x * 2.0 + 1) / 3.0 - x**2 + ad.sigmoid(x) * 0.5)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32
    g = ad.grad(lambda v: ad.sum(ad.tanh(v * 0.1)))(np.ones(3, np.float32))
    assert g.dtype == np.float32


def test_integer_and_boolean_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        ad.tensor([1, 2, 3], requires_grad=True)
    t = ad.tensor([True, False])
    with pytest.raises(TypeError, match="dtype bool"):
        t.requires_grad = True
    with pytest.raises(TypeError, match="floating point"):
        ad.grad(lambda v: ad.sum(v * 1.0))(np.array([1, 2]))


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "fn, pattern",
    [
        (
            lambda: ad.tensor(np.ones((3, 4))) @ ad.tensor(np.ones((5, 6))),
            r"matmul.*\(3, 4\).*\(5, 6\)",
        ),
        (lambda: ad.tensor(np.ones((2, 3))) + np.ones(4), r"add.*\(2,3\).*\(4,\)"),
        (lambda: ad.reshape(ad.tensor(np.ones((2, 3))), (4,)), r"reshape.*\(2, 3\).*\(4,\)"),
        (lambda: ad.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))), r"conv2d.*3 channels.*4"),
        (lambda: ad.sum(ad.tensor(np.ones(3)), axis=2), r"sum: axis 2 is out of bounds"),
        (lambda: ad.max(ad.tensor(np.ones((0,)))), r"max: cannot reduce an empty array"),
    ],
)
def test_errors_name_the_op_and_the_shapes(fn, pattern):
    with pytest.raises(ValueError, match=pattern):
        fn()


def test_backward_of_non_scalar_needs_a_gradient():
    x = ad.tensor(np.ones(3), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar output.*\(3,\)"):
        y.backward()
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [2, 4, 6])
    with pytest.raises(ValueError, match="gradient has shape"):
        (x * 2).backward(np.ones(2))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ad.tensor(1.0).backward()


# ---------------------------------------------------------- graph lifetime
def test_second_backward_through_freed_graph_raises():
    x = ad.tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_and_gradients_accumulate():
    x = ad.tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == pytest.approx(2 * 12.0)
    x.zero_grad()
    assert x.grad is None


def test_create_graph_makes_grad_differentiable():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, ad.Tensor)
    np.testing.assert_allclose(g.data, [3.0, 12.0])
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 12.0])


def test_retain_grad_stores_gradient_of_intermediate():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h**2).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)


# ------------------------------------------------------- mutation detection
def test_mutating_a_saved_array_raises_instead_of_a_wrong_gradient():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        x.data[...] = 0
    h = x * 2
    z = (h * h).sum()
    with pytest.raises(ValueError, match="read-only"):
        h.data[0] = 5
    y.backward()
    z.backward()
    np.testing.assert_allclose(x.grad, 2 * np.array([1.0, 2.0]) + 8 * np.array([1.0, 2.0]))


def test_saved_leaf_is_writable_again_after_backward_or_when_the_graph_dies():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.data[...] = 0  # graph freed: updating parameters in place is allowed again
    y2 = (x * x).sum()
    del y2
    gc.collect()
    x.data[...] = 1


def test_locks_held_by_a_collected_reference_cycle_are_given_back():
    # create_graph makes x.grad a graph that saves x and w: x -> x.grad -> ... -> x is a
    # reference cycle that only the cyclic garbage collector frees.
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    x = ad.tensor([3.0, 4.0], requires_grad=True)
    (w * x**3).sum().backward(create_graph=True)
    with pytest.raises(ValueError, match="read-only"):
        w.data[...] = 0
    del x
    w.grad = None
    gc.collect()
    w.data[...] = 0


# ------------------------------------------------------------ no_grad etc.
def test_no_grad_records_nothing():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.no_grad():
        y = x * 2
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    x.data[...] = 3  # nothing was saved, so nothing is locked


def test_no_rule_runs_for_branches_that_need_no_gradient():
    calls = []

    @ad.primitive
    def scaled(x, s):
        return x * s

    def vjp_s(g, ans, x, s):
        calls.append("s")
        return g * x

    scaled.defvjp(lambda g, ans, x, s: g * s, vjp_s)
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    s = ad.tensor([3.0, 4.0])  # does not require grad
    scaled(x, s).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    assert calls == []


def test_grad_on_parameter_dicts_and_argnums_tuples():
    params = {"w": np.array([1.0, 2.0]), "b": np.array(0.5)}

    def loss(p, x):
        return ad.sum((x @ p["w"] + p["b"]) ** 2)

    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    g = ad.grad(loss)(params, x)
    assert set(g) == {"w", "b"}
    r = x @ params["w"] + params["b"]
    np.testing.assert_allclose(g["w"], 2 * x.T @ r)
    np.testing.assert_allclose(g["b"], 2 * r.sum())
    gp, gx = ad.grad(loss, argnums=(0, 1))(params, x)
    assert gx.shape == x.shape
    value, g2 = ad.value_and_grad(loss)(params, x)
    assert value == pytest.approx(np.sum(r**2))
    (value, aux), g3 = ad.value_and_grad(lambda p, x: (loss(p, x), p["w"] * 2), has_aux=True)(
        params, x
    )
    assert isinstance(aux, np.ndarray) and isinstance(value, np.ndarray)


def test_vjp_returns_one_gradient_per_primal():
    out, vjp_fn = ad.vjp(lambda a, b: a * b, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    ga, gb = vjp_fn(np.array([1.0, 10.0]))
    np.testing.assert_allclose(ga, [3.0, 40.0])
    np.testing.assert_allclose(gb, [1.0, 20.0])
    ga2, _ = vjp_fn(np.array([1.0, 1.0]))  # callable more than once
    np.testing.assert_allclose(ga2, [3.0, 4.0])
    with pytest.raises(ValueError, match="cotangent of shape"):
        vjp_fn(np.ones(3))


def test_grad_of_non_scalar_function_is_an_error():
    with pytest.raises(TypeError, match="scalar"):
        ad.grad(lambda x: x * 2)(np.ones(3))


# --------------------------------------------------------------- stability
@pytest.mark.parametrize(
    "fn",
    [
        ad.sigmoid,
        ad.softplus,
        lambda v: ad.logsumexp(v),
        lambda v: ad.log_softmax(v),
        lambda v: ad.softmax(v),
    ],
)
def test_stable_ops_are_finite_at_magnitude_1e4(fn):
    x = np.array([-1e4, 0.0, 1e4, 1e4 - 1])
    for dtype in (np.float64, np.float32):
        out, vjp_fn = ad.vjp(fn, x.astype(dtype))
        assert np.all(np.isfinite(out))
        (g,) = vjp_fn(np.ones_like(out))
        assert np.all(np.isfinite(g)) and g.dtype == dtype


# -------------------------------------------------------- custom primitives
@ad.primitive
def log1pexp(x):
    """log(1 + exp(x)), stable."""
    return np.logaddexp(0.0, x)


log1pexp.defvjp(lambda g, ans, x: g * ad.sigmoid(x))
log1pexp.defjvp(lambda t, ans, x: t * ad.sigmoid(x))


def test_user_defined_primitive_works_with_every_transform():
    x = np.array([-2.0, 0.5, 3.0])
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(ad.grad(lambda v: ad.sum(log1pexp(v)))(x), s)
    np.testing.assert_allclose(ad.jvp(log1pexp, (x,), (np.ones(3),))[1], s)
    second = ad.grad(ad.grad(lambda v: log1pexp(v)))(0.5)
    assert second == pytest.approx(s[1] * (1 - s[1]))
    np.testing.assert_allclose(ad.jacobian(log1pexp, mode="fwd")(x), np.diag(s))
    np.testing.assert_allclose(ad.jacobian(log1pexp, mode="rev")(x), np.diag(s))
    np.testing.assert_allclose(ad.hessian(lambda v: ad.sum(log1pexp(v)))(x), np.diag(s * (1 - s)))
    t = ad.tensor(x, requires_grad=True)
    log1pexp(t).sum().backward()
    np.testing.assert_allclose(t.grad, s)


residuals_seen = []


@ad.primitive(residual=True)
def logistic(x):
    s = 1 / (1 + np.exp(-x))
    return s, s * (1 - s)  # the derivative, computed once in the forward


def _logistic_vjp(g, ans, x, residual=None):
    residuals_seen.append(residual is not None)
    if residual is not None:  # a plain backward pass
        return g * residual
    return g * ans * (1 - ans)  # rules on Tensors: a differentiable formula


logistic.defvjp(_logistic_vjp)
logistic.defjvp(lambda t, ans, x, residual=None: t * ans * (1 - ans))


def test_user_defined_primitive_with_a_residual():
    x = np.array([-2.0, 0.5, 3.0])
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(logistic(x), s)  # plain call: the result alone
    residuals_seen.clear()
    np.testing.assert_allclose(ad.grad(lambda v: ad.sum(logistic(v)))(x), s * (1 - s))
    t = ad.tensor(x, requires_grad=True)
    logistic(t).sum().backward()
    np.testing.assert_allclose(t.grad, s * (1 - s))
    assert residuals_seen == [True, True]
    # Higher order: the rules run on Tensors without the residual, so it is still right.
    np.testing.assert_allclose(
        ad.hessian(lambda v: ad.sum(logistic(v)))(x), np.diag(s * (1 - s) * (1 - 2 * s))
    )
    assert ad.grad(ad.grad(lambda v: logistic(v)))(0.5) == pytest.approx(
        s[1] * (1 - s[1]) * (1 - 2 * s[1])
    )
    np.testing.assert_allclose(ad.jvp(logistic, (x,), (np.ones(3),))[1], s * (1 - s))


def test_a_rule_returning_none_contributes_nothing():
    # scale(x, s) = 3 x whatever s is: s's rules say "identically zero" with None.
    calls = []

    @ad.primitive
    def scale(x, s):
        return 3.0 * x

    scale.defvjp(lambda g, ans, x, s: 3.0 * g, lambda g, ans, x, s: calls.append("vjp"))
    scale.defjvp(lambda t, ans, x, s: 3.0 * t, lambda t, ans, x, s: calls.append("jvp"))
    x, s = np.array([1.0, 2.0]), np.array([5.0, 7.0])
    gx, gs = ad.grad(lambda a, b: ad.sum(scale(a, b)), argnums=(0, 1))(x, s)
    np.testing.assert_array_equal(gx, [3.0, 3.0])
    np.testing.assert_array_equal(gs, [0.0, 0.0])
    assert ad.jvp(lambda b: scale(x, b), (s,), (np.ones(2),))[1].tolist() == [0.0, 0.0]
    out, f_jvp = ad.linearize(scale, x, s)
    np.testing.assert_array_equal(f_jvp(np.ones(2), np.ones(2)), [3.0, 3.0])
    assert calls == ["vjp", "jvp", "jvp"]


def test_joint_vjp_rule_is_called_once_per_node_and_composes():
    calls = []

    @ad.primitive
    def ratio(x, y):
        return x / y

    def ratio_vjp(needs, g, ans, x, y):
        calls.append(tuple(needs))
        gx = g / y  # shared by both cotangents
        return gx, (-gx * ans if 1 in needs else None)

    ratio.defvjp_joint(ratio_vjp)
    ratio.defjvp(lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * ans / y)
    x, y = np.array([1.0, 2.0]), np.array([4.0, 5.0])
    gx, gy = ad.grad(lambda a, b: ad.sum(ratio(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, 1 / y)
    np.testing.assert_allclose(gy, -x / y**2)
    assert calls == [(0, 1)]
    np.testing.assert_allclose(ad.grad(lambda b: ad.sum(ratio(x, b)))(y), -x / y**2)
    assert calls[-1] == (1,)
    # second order runs the joint rule on Tensors: d2/dy2 (x / y) = 2 x / y^3
    np.testing.assert_allclose(ad.hessian(lambda b: ad.sum(ratio(x, b)))(y), np.diag(2 * x / y**3))
    np.testing.assert_allclose(ad.grad(ad.grad(lambda b: ratio(1.5, b)))(2.0), 2 * 1.5 / 8)


def test_missing_rules_give_clear_errors():
    only_vjp = ad.primitive(lambda x: x * 2.0)
    only_vjp.defvjp(lambda g, ans, x: g * 2.0)
    assert ad.grad(lambda v: ad.sum(only_vjp(v)))(np.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(NotImplementedError, match="no JVP rule.*forward mode"):
        ad.jvp(only_vjp, (np.ones(2),), (np.ones(2),))
    only_jvp = ad.primitive(lambda x: x * 2.0)
    only_jvp.defjvp(lambda t, ans, x: t * 2.0)
    only_jvp.defvjp(None)
    with pytest.raises(NotImplementedError, match="no VJP rule.*reverse mode"):
        ad.grad(lambda v: ad.sum(only_jvp(v)))(np.ones(2))
