"""vmap: every primitive's batching rule against a Python loop over the examples (in_axes
0, 1, -1 and None mixes, batches of 1 and 3), composition with the other transforms,
per-example gradients, and the errors a user can run into."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
from autodiff.ops import conv as C
from autodiff.ops import shape_ops as SH
from autodiff.testing import strategies as S
from tests.autodiff.helpers import with_another_thread_inside
from tests.autodiff.test_primitives import CASES, _engine_primitives

rng = np.random.default_rng(0)


def _leaves(tree):
    return [np.asarray(x.data if isinstance(x, ad.Tensor) else x) for x in ad.tree_flatten(tree)[0]]


def _assert_same(got, want):
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=False):
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, equal_nan=True)


def _loop(f, examples):
    """f applied to each example's arguments, the results stacked along a new axis 0."""
    outs = [f(*args) for args in examples]
    flat = [_leaves(o) for o in outs]
    treedef = ad.tree_flatten(outs[0])[1]
    return ad.tree_unflatten(
        treedef, [np.stack([f_[i] for f_ in flat]) for i in range(len(flat[0]))]
    )


@st.composite
def batched_case(draw, name):
    """(f, per-example argument lists, batched arguments, in_axes) for CASES[name]."""
    f, args = draw(CASES[name][0])
    size = draw(st.sampled_from([1, 3]))
    axes = []
    for a in args:
        nd = np.ndim(a) + 1  # the batched argument's number of axes
        choices = [None, 0] + ([1, -1] if nd >= 2 else [-1])
        axes.append(draw(st.sampled_from(choices)))
    if all(ax is None for ax in axes):
        axes[draw(st.integers(0, len(args) - 1))] = 0
    # examples: the drawn arguments scaled a little (keeps them in the case's domain)
    examples = [
        [a * (1 + 0.05 * k) if ax is not None else a for a, ax in zip(args, axes, strict=False)]
        for k in range(size)
    ]
    batched = [
        np.stack([ex[i] for ex in examples], axis=ax) if ax is not None else a
        for i, (a, ax) in enumerate(zip(args, axes, strict=False))
    ]
    return f, examples, batched, tuple(axes)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_vmap_equals_a_loop_over_examples(name, data):
    f, examples, batched, axes = data.draw(batched_case(name))
    _assert_same(ad.vmap(f, in_axes=axes)(*batched), _loop(f, examples))


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
@settings(max_examples=10)
def test_per_example_gradients_equal_a_loop(name, data):
    f, examples, batched, axes = data.draw(batched_case(name))

    def total(*args):
        return ad.sum(ad.stack([ad.sum(leaf) for leaf in ad.tree_flatten(f(*args))[0]]))

    argnums = tuple(range(len(batched)))
    want = _loop(ad.grad(total, argnums), examples)
    _assert_same(ad.vmap(ad.grad(total, argnums), in_axes=axes)(*batched), want)


def test_every_primitive_has_a_batching_rule():
    prims = _engine_primitives()
    missing = sorted(p.name for p in prims if p.batch_rule is None)
    assert not missing, f"primitives without a batching rule: {missing}"


# ----------------------------------------------- primitives only rules call (direct)
def test_fold_and_block_spread_batch_like_a_loop():
    geometry = dict(kernel=(2, 2), stride=(1, 1), padding=(1, 0), dilation=(1, 1))
    x_shape = (2, 3, 4, 5)
    cols = C._unfold(rng.normal(size=x_shape), **geometry).shape
    batch = rng.normal(size=(3,) + cols)
    fold = lambda c: C._fold(c, x_shape=x_shape, **geometry)  # noqa: E731
    _assert_same(ad.vmap(fold)(batch), _loop(fold, [[c] for c in batch]))

    g = rng.normal(size=(3, 2, 3, 2, 2))
    weights = rng.normal(size=(4, 2, 3, 2, 2))

    def spread(g, w):
        return C._block_spread(g, w, kernel=(2, 2), x_shape=(2, 3, 4, 5), order=(0, 1, 2, 3))

    _assert_same(
        ad.vmap(spread, in_axes=(0, None))(g, weights), _loop(spread, [[gi, weights] for gi in g])
    )
    ws = rng.normal(size=(3, 4, 2, 3, 2, 2))
    _assert_same(ad.vmap(spread)(g, ws), _loop(spread, list(zip(g, ws, strict=False))))
    gather = lambda x, w: C._block_gather(x, w, kernel=(2, 2))  # noqa: E731
    xs = rng.normal(size=(3, 2, 3, 4, 5))
    _assert_same(
        ad.vmap(gather, in_axes=(None, 0))(xs[0], ws), _loop(gather, [[xs[0], w] for w in ws])
    )


# ------------------------------------------------------------------ composition
def _mlp(params, x):
    w1, b1, w2 = params["w1"], params["b1"], params["w2"]
    return ad.sum(ad.tanh(x @ w1 + b1) @ w2)


PARAMS = {"w1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5), "w2": rng.normal(size=5)}
XS = rng.normal(size=(6, 4))


def test_vmap_of_grad_gives_per_example_gradients_of_shared_parameters():
    got = ad.vmap(ad.grad(_mlp), in_axes=(None, 0))(PARAMS, XS)
    for k in PARAMS:
        want = np.stack([ad.grad(_mlp)(PARAMS, x)[k] for x in XS])
        np.testing.assert_allclose(got[k], want, rtol=1e-12, atol=1e-14)


def test_grad_of_a_function_that_uses_vmap():
    def loss(p):
        return ad.sum(ad.vmap(_mlp, in_axes=(None, 0))(p, XS) ** 2)

    def loop_loss(p):
        return ad.sum(ad.stack([_mlp(p, x) for x in XS]) ** 2)

    got, want = ad.grad(loss)(PARAMS), ad.grad(loop_loss)(PARAMS)
    for k in PARAMS:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12)


def test_tensor_backward_through_vmap():
    w = ad.tensor(PARAMS["w1"], requires_grad=True)
    out = ad.vmap(lambda x: ad.sum(ad.sin(x @ w)))(XS)
    ad.sum(out).backward()
    np.testing.assert_allclose(
        w.grad, ad.grad(lambda w: ad.sum(ad.sin(XS @ w)))(PARAMS["w1"]), rtol=1e-12
    )


def test_vmap_of_vmap_is_a_double_loop():
    a = rng.normal(size=(3, 4, 2))
    b = rng.normal(size=(4, 2))
    f = lambda x, y: ad.sum(ad.exp(x) * y, axis=-1)  # noqa: E731
    got = ad.vmap(ad.vmap(f, in_axes=(0, 0)), in_axes=(0, None))(a, b)
    want = np.array([[f(a[i, j], b[j]) for j in range(4)] for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    # the inner vmap over a different argument and axis
    got = ad.vmap(lambda x: ad.vmap(lambda y: f(x, y), in_axes=1)(b.T), in_axes=1)(a)
    want = np.array([[f(a[:, i], b[j]) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_vmap_of_jvp_and_of_hessian_and_hvp():
    f = lambda x: ad.sum(ad.sin(x) * x**2)  # noqa: E731
    xs, ts = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    primal, tangent = ad.vmap(lambda x, t: ad.jvp(f, (x,), (t,)))(xs, ts)
    for i in range(5):
        p, t = ad.jvp(f, (xs[i],), (ts[i],))
        np.testing.assert_allclose(primal[i], p, rtol=1e-13)
        np.testing.assert_allclose(tangent[i], t, rtol=1e-13)
    hs = ad.vmap(ad.hessian(f))(xs)
    np.testing.assert_allclose(hs, np.stack([ad.hessian(f)(x) for x in xs]), rtol=1e-12)
    hv = ad.vmap(lambda x, t: ad.hvp(f, (x,), (t,)))(xs, ts)
    np.testing.assert_allclose(
        hv, np.stack([ad.hvp(f, (x,), (t,)) for x, t in zip(xs, ts, strict=False)]), rtol=1e-12
    )


def test_vmap_of_vjp_with_per_example_cotangents():
    f = lambda x: ad.tanh(x) * 3.0  # noqa: E731
    xs, cts = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    got = ad.vmap(lambda x, ct: ad.vjp(f, x)[1](ct)[0])(xs, cts)
    want = np.stack([ad.vjp(f, x)[1](ct)[0] for x, ct in zip(xs, cts, strict=False)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    # a pullback taken outside vmap cannot take a batched cotangent: a clear error
    _, pullback = ad.vjp(f, xs[0])
    with pytest.raises(ValueError, match="vjp inside the vmapped function"):
        ad.vmap(pullback)(cts)


def test_jacobians_are_built_on_vmap_and_match_both_modes():
    w = rng.normal(size=(3, 4))
    f = lambda x, y: (ad.tanh(x @ w) * y, ad.sum(x**2))  # noqa: E731
    x, y = rng.normal(size=3), rng.normal(size=4)
    rev = ad.jacobian(f, argnums=(0, 1))(x, y)
    fwd = ad.jacobian(f, argnums=(0, 1), mode="fwd")(x, y)
    for r, g in zip(ad.tree_flatten(rev)[0], ad.tree_flatten(fwd)[0], strict=False):
        np.testing.assert_allclose(r, g, rtol=1e-13, atol=1e-15)
    d = 1 - np.tanh(x @ w) ** 2
    np.testing.assert_allclose(rev[0][0], (w * d * y).T, rtol=1e-13)
    np.testing.assert_allclose(rev[0][1], np.diag(np.tanh(x @ w)), rtol=1e-13)
    np.testing.assert_allclose(rev[1][0], 2 * x, rtol=1e-13)
    # a jacobian inside vmap: one per example
    xs = rng.normal(size=(5, 3))
    jac = ad.vmap(ad.jacobian(lambda x: ad.tanh(x @ w)))(xs)
    np.testing.assert_allclose(
        jac, np.stack([ad.jacobian(lambda x: ad.tanh(x @ w))(x) for x in xs]), rtol=1e-13
    )


def test_in_axes_and_out_axes_pytrees():
    data = {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=(3,))}
    out = ad.vmap(
        lambda d: {"s": d["a"] * d["b"], "t": ad.sum(d["b"])},
        in_axes=({"a": 1, "b": 0},),
        out_axes={"s": -1, "t": None},
    )
    with pytest.raises(ValueError, match="out_axes is None for an output that differs"):
        out(data)
    res = ad.vmap(
        lambda d: {"s": d["a"] * d["b"], "c": 2.0},
        in_axes=({"a": 1, "b": 0},),
        out_axes={"s": -1, "c": 0},
    )(data)
    np.testing.assert_allclose(res["s"], data["a"] * data["b"])  # batch last: (2, 3)
    np.testing.assert_allclose(res["c"], np.full(3, 2.0))  # unbatched, repeated per example


def test_size_one_batches_and_float32_stay_exact():
    x = rng.normal(size=(1, 3)).astype(np.float32)
    w = rng.normal(size=(3, 2)).astype(np.float32)
    out = ad.vmap(ad.grad(lambda w, x: ad.sum(ad.tanh(x @ w))), in_axes=(None, 0))(w, x)
    assert out.dtype == np.float32 and out.shape == (1, 3, 2)
    np.testing.assert_allclose(out[0], ad.grad(lambda w: ad.sum(ad.tanh(x[0] @ w)))(w), rtol=1e-6)


def test_per_example_labels_and_indices():
    logits = rng.normal(size=(4, 5))
    labels = np.array([0, 3, 1, 4])
    loss = lambda z, y: ad.softmax_cross_entropy(z[None], y[None])  # noqa: E731
    got = ad.vmap(loss)(logits, labels)
    want = np.array([loss(z, np.array(y)) for z, y in zip(logits, labels, strict=False)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    got = ad.vmap(ad.grad(loss))(logits, labels)
    want = np.stack([ad.grad(loss)(z, np.array(y)) for z, y in zip(logits, labels, strict=False)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    # x[idx] with a per-example index, x batched or not
    table = rng.normal(size=(5, 2))
    np.testing.assert_array_equal(ad.vmap(lambda i: ad.tensor(table)[i])(labels), table[labels])
    np.testing.assert_array_equal(
        ad.vmap(lambda z, i: z[i])(logits, labels), logits[np.arange(4), labels]
    )


def test_user_primitive_without_a_rule_is_batched_by_a_loop():
    @ad.primitive
    def cube(x):
        return x**3

    cube.defvjp(lambda g, ans, x: 3 * g * x**2)
    cube.defjvp(lambda t, ans, x: 3 * t * x**2)
    xs = rng.normal(size=(4, 3))
    np.testing.assert_allclose(ad.vmap(cube)(xs), xs**3)
    np.testing.assert_allclose(ad.vmap(ad.grad(lambda x: ad.sum(cube(x))))(xs), 3 * xs**2)
    cube.defbatch(lambda args, axes: (cube(args[0]), 0))
    np.testing.assert_allclose(ad.vmap(cube)(xs), xs**3)


def test_checkpoint_under_vmap():
    block = ad.checkpoint(lambda h, w: ad.tanh(h @ w))
    w = rng.normal(size=(3, 3))
    got = ad.vmap(ad.grad(lambda w, h: ad.sum(block(h, w))), in_axes=(None, 0))(w, XS[:, :3])
    want = np.stack([ad.grad(lambda w, h=h: ad.sum(ad.tanh(h @ w)))(w) for h in XS[:, :3]])
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ------------------------------------------------------------------------- errors
def test_python_control_flow_on_a_batched_value_raises():
    with pytest.raises(TypeError, match="values differ from one example to the next"):
        ad.vmap(lambda x: x if ad.sum(x) > 0 else -x)(XS)
    with pytest.raises(TypeError, match="vmap"):
        ad.vmap(lambda x: np.asarray(x))(XS)
    # ad.where is the batched choice
    got = ad.vmap(lambda x: ad.where(ad.sum(x) > 0, x, -x))(XS)
    np.testing.assert_allclose(got, np.where(XS.sum(1, keepdims=True) > 0, XS, -XS))


def test_mismatched_batch_sizes_and_no_batch_raise():
    with pytest.raises(ValueError, match="disagree on the batch size"):
        ad.vmap(ad.add)(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="no batch axis"):
        ad.vmap(ad.add, in_axes=None)(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="in_axes 2 for an argument of shape"):
        ad.vmap(ad.exp, in_axes=2)(np.ones((3, 2)))
    with pytest.raises(ValueError, match="2 entries but the function got 1"):
        ad.vmap(ad.exp, in_axes=(0, 0))(np.ones(3))


def test_a_leaked_batched_value_raises():
    kept = []
    ad.vmap(lambda x: kept.append(x) or x)(XS)
    with pytest.raises(RuntimeError, match="vmap that has already returned"):
        ad.exp(kept[0])


def test_vmap_levels_are_per_thread():
    # a vmap running in one thread does not batch another thread's transforms
    _, out, g = with_another_thread_inside(
        ad.vmap, XS, lambda: ad.grad(lambda w: ad.sum(w**2))(np.ones(3))
    )
    np.testing.assert_allclose(out, np.sin(XS))
    np.testing.assert_allclose(g, 2 * np.ones(3))  # not a per-example batch


def test_numpy_shape_queries_and_methods_work_on_batched_values():
    def f(x):
        assert x.shape == (4,) and np.shape(x) == (4,) and x.ndim == 1 and len(x) == 4
        return x.reshape(2, 2).T.sum(axis=0) + x.mean() + np.exp(x)[:2] + x.argmax()

    got = ad.vmap(f)(XS)
    want = np.stack(
        [
            f_
            for f_ in (x.reshape(2, 2).T.sum(0) + x.mean() + np.exp(x)[:2] + x.argmax() for x in XS)
        ]
    )
    np.testing.assert_allclose(got, want, rtol=1e-13)


@given(S.arrays(S.shapes(min_dims=1, min_side=1)))
def test_moveaxis_matches_numpy(x):
    for src in range(-x.ndim, x.ndim):
        np.testing.assert_array_equal(SH.moveaxis(x, src, 0), np.moveaxis(x, src, 0))


def test_nn_layers_and_keyword_arguments_under_vmap():
    import nn

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    xs = rng.random((5, 3)).astype(np.float32)
    with ad.no_grad():
        np.testing.assert_allclose(ad.vmap(lambda x: model(x))(xs), model(xs).data, rtol=1e-6)
    conv = nn.Conv2d(2, 3, 3)
    images = rng.random((4, 1, 2, 5, 5)).astype(np.float32)
    with ad.no_grad():
        np.testing.assert_allclose(
            ad.vmap(lambda x: conv(x))(images), np.stack([conv(x).data for x in images]), rtol=1e-5
        )
    scaled = ad.vmap(lambda x, *, scale: x * scale)(xs, scale=3.0)
    np.testing.assert_allclose(scaled, xs * 3.0)
