"""Property tests for every primitive: reverse and forward mode against float64 central
differences (rtol 1e-5, atol 1e-6), forward/reverse consistency (1e-10 relative) and
second derivatives, via autodiff.testing.check_grads; float32 preservation; and a
registry test that fails when a primitive of the engine has no property test."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
from autodiff.dispatch import Primitive
from autodiff.ops import conv as C
from autodiff.ops import elementwise as E
from autodiff.ops import linalg as L
from autodiff.ops import neural as NN
from autodiff.ops import reductions as R
from autodiff.ops import shape_ops as SH
from autodiff.testing import check_grads
from autodiff.testing import strategies as S

CASES: dict = {}


def case(name, *covers):
    """Register a strategy producing (f, args) that exercises the primitives `covers`."""

    def register(strategy):
        if not isinstance(strategy, st.SearchStrategy):  # a @st.composite function
            strategy = strategy()
        CASES[name] = (strategy, covers)
        return strategy

    return register


def _unary(name, fn, prim, **domain):
    case(name, prim)(S.arrays(**domain).map(lambda x: (fn, [x])))


# --------------------------------------------------------------- elementwise unary
_unary("exp", ad.exp, E.exp, min_value=-2, max_value=2)
_unary("log", ad.log, E.log, min_value=0.1, max_value=3)
_unary("log1p", ad.log1p, E.log1p, min_value=-0.5, max_value=3)
_unary("expm1", ad.expm1, E.expm1, min_value=-2, max_value=2)
_unary("sqrt", ad.sqrt, E.sqrt, min_value=0.1, max_value=3)
_unary("square", ad.square, E.square)
_unary("sin", ad.sin, E.sin)
_unary("cos", ad.cos, E.cos)
# sin's and cos's derivatives: cos(x) given sin(x), sin(x) given cos(x)
_unary("cos_given_sin", lambda x: E._cos_given_sin(x, ad.sin(x)), E._cos_given_sin)
_unary("sin_given_cos", lambda x: E._sin_given_cos(x, ad.cos(x)), E._sin_given_cos)
_unary("tan", ad.tan, E.tan, min_value=-1.2, max_value=1.2)
_unary("tanh", ad.tanh, E.tanh)
_unary("sigmoid", ad.sigmoid, E.sigmoid, min_value=-5, max_value=5)
_unary("softplus", ad.softplus, E.softplus, min_value=-5, max_value=5)
_unary("erf", ad.erf, E.erf, min_value=-3, max_value=3)
_unary("negative", ad.negative, E.negative)
_unary("copy", ad.copy, E.copy)
_unary("identity", ad.identity, ad.identity)
_unary("abs", ad.abs, E.abs, avoid=(0.0,))
_unary("sign", ad.sign, E.sign, avoid=(0.0,))
_unary("relu", ad.relu, E.relu, avoid=(0.0,))
_unary("leaky_relu", lambda x: ad.leaky_relu(x, negative_slope=0.2), E.leaky_relu, avoid=(0.0,))
_unary("clip", lambda x: ad.clip(x, -1.0, 1.5), E._clip, avoid=(-1.0, 1.5))
_unary("astype", lambda x: ad.astype(x, dtype=x.dtype) * 2.0, E.astype)


# -------------------------------------------------------------- elementwise binary
def _binary(name, fn, prim, x_domain=(-3, 3), y_domain=(-3, 3), distinct=False):
    @st.composite
    def strategy(draw):
        sx, sy = draw(S.broadcastable_shapes(2))
        x = draw(S.arrays(sx, min_value=x_domain[0], max_value=x_domain[1]))
        y = draw(S.arrays(sy, min_value=y_domain[0], max_value=y_domain[1]))
        if distinct:
            assume(np.all(np.abs(np.subtract(x, y)) > 1e-2))
        return fn, [x, y]

    case(name, prim)(strategy())


_binary("add", ad.add, E.add)
_binary("subtract", ad.subtract, E.subtract)
_binary("multiply", ad.multiply, E.multiply)
_binary("divide", ad.divide, E.divide, y_domain=(0.5, 3))
_binary("power", ad.power, E.power, x_domain=(0.5, 2), y_domain=(-2, 2))
_binary("maximum", ad.maximum, E.maximum, distinct=True)
_binary("minimum", ad.minimum, E.minimum, distinct=True)


@case("where", E.where)
@st.composite
def _where(draw):
    sc, sx, sy = draw(S.broadcastable_shapes(3))
    c = draw(hnp.arrays(bool, sc))
    return (lambda x, y: ad.where(c, x, y)), [draw(S.arrays(sx)), draw(S.arrays(sy))]


# -------------------------------------------------------------------- reductions
def _reduction(name, fn, prim, nonempty=False, distinct=False, **domain):
    @st.composite
    def strategy(draw):
        shape = draw(S.shapes(min_side=1 if nonempty else 0))
        if distinct:  # well-separated values: no ties, so max/min are differentiable
            order = draw(st.permutations(range(int(np.prod(shape)))))
            x = np.array(order, dtype=float).reshape(shape) * 0.1 - 1.0
        else:
            x = draw(S.arrays(shape, **domain))
        axis, keepdims = draw(S.axis_and_keepdims(len(shape)))
        return (lambda v: fn(v, axis=axis, keepdims=keepdims)), [x]

    case(name, *prim)(strategy())


_reduction("sum", ad.sum, (R._sum,))
_reduction("mean", ad.mean, (), nonempty=True)
_reduction("max", ad.max, (R._max,), nonempty=True, distinct=True)
_reduction("min", ad.min, (R._min,), nonempty=True, distinct=True)
_reduction("logsumexp", ad.logsumexp, (R._logsumexp,), nonempty=True)


@case("var_std")
@st.composite
def _var_std(draw):
    shape = draw(S.shapes(min_dims=1, min_side=2))
    x = draw(S.arrays(shape))
    axis = draw(S.axes(len(shape)))
    assume(np.all(np.var(x, axis=axis) > 1e-2))
    ddof = draw(st.integers(0, 1))
    return (lambda v: ad.std(v, axis=axis, ddof=ddof) + ad.var(v, axis=axis)), [x]


def _along_axis(name, fn, prim):
    @st.composite
    def strategy(draw):
        shape = draw(S.shapes(min_dims=1))
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        return (lambda v: fn(v, axis=axis)), [draw(S.arrays(shape))]

    case(name, prim)(strategy())


_along_axis("softmax", ad.softmax, R._softmax)
_along_axis("log_softmax", ad.log_softmax, R._log_softmax)
_along_axis("cumsum", ad.cumsum, R._cumsum)
case("cumsum_flat", R._cumsum)(S.arrays().map(lambda x: (ad.cumsum, [x])))


# ------------------------------------------------------------------ shape ops
@case("reshape", SH._reshape)
@st.composite
def _reshape(draw):
    shape = draw(S.shapes())
    target = draw(st.sampled_from([(-1,), tuple(reversed(shape)), shape + (1,)]))
    return (lambda v: ad.reshape(v, target) * 1.0), [draw(S.arrays(shape))]


@case("transpose", SH._transpose)
@st.composite
def _transpose(draw):
    shape = draw(S.shapes())
    axes = draw(st.permutations(range(len(shape))))
    return (lambda v: ad.transpose(v, axes)), [draw(S.arrays(shape))]


@case("swapaxes_squeeze_expand_flatten")
@st.composite
def _misc_shape(draw):
    shape = draw(S.shapes(min_dims=1))
    a, b = draw(st.integers(0, len(shape) - 1)), draw(st.integers(0, len(shape) - 1))

    def f(v):
        w = ad.expand_dims(ad.swapaxes(v, a, b), 0)
        return ad.flatten(ad.squeeze(w, 0))

    return f, [draw(S.arrays(shape))]


@case("broadcast_to", SH._broadcast_to)
@st.composite
def _broadcast(draw):
    sx, sy = draw(S.broadcastable_shapes(2))
    target = np.broadcast_shapes(sx, sy)
    return (lambda v: ad.broadcast_to(v, target)), [draw(S.arrays(sx))]


@case("concatenate_stack_split", SH._concatenate)
@st.composite
def _concat(draw):
    shape = draw(S.shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    sizes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    arrays = [draw(S.arrays(shape[:axis] + (n,) + shape[axis + 1 :])) for n in sizes]

    def f(*xs):
        joined = ad.concatenate(xs, axis=axis)
        pieces = ad.split(joined, np.cumsum(sizes)[:-1], axis=axis)
        return ad.stack([ad.sum(p * p) for p in pieces]) + ad.sum(joined)

    return f, arrays


@case("pad", SH._pad)
@st.composite
def _pad(draw):
    shape = draw(S.shapes())
    widths = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape]
    return (lambda v: ad.pad(v, widths, constant_values=1.5)), [draw(S.arrays(shape))]


@case("flip", SH._flip)
@st.composite
def _flip(draw):
    shape = draw(S.shapes())
    axis = draw(S.axes(len(shape)))
    return (lambda v: ad.flip(v, axis)), [draw(S.arrays(shape))]


@case("getitem_take", SH.getitem)
@st.composite
def _getitem(draw):
    shape = draw(S.shapes(min_dims=1))
    index = draw(S.index_expressions(shape))
    take_idx = (
        draw(hnp.arrays(np.intp, st.integers(0, 4), elements=st.integers(0, max(shape[0] - 1, 0))))
        if shape[0]
        else np.zeros(0, np.intp)
    )
    return (lambda v: (v[index] ** 2, ad.take(v, take_idx, axis=0))), [draw(S.arrays(shape))]


@case("index_add", SH.index_add)
@st.composite
def _index_add(draw):
    shape = draw(S.shapes(min_dims=1))
    index = draw(S.index_expressions(shape))
    g_shape = np.zeros(shape)[index].shape
    return (lambda g: ad.index_add(g, index=index, shape=shape)), [draw(S.arrays(g_shape))]


# ----------------------------------------------------------------------- linalg
@case("matmul", L.matmul)
@st.composite
def _matmul(draw):
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    batch_a, batch_b = draw(S.broadcastable_shapes(2, max_dims=2))
    kind = draw(st.sampled_from(["mm", "mv", "vm", "vv", "batched"]))
    a_shape = {"mm": (n, k), "mv": (n, k), "vm": (k,), "vv": (k,), "batched": batch_a + (n, k)}
    b_shape = {"mm": (k, m), "mv": (k,), "vm": (k, m), "vv": (k,), "batched": batch_b + (k, m)}
    return ad.matmul, [draw(S.arrays(a_shape[kind])), draw(S.arrays(b_shape[kind]))]


@case("dot_outer")
@st.composite
def _dot_outer(draw):
    n, k = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    a, b, c = draw(S.arrays((n, k))), draw(S.arrays((k,))), draw(S.arrays((n,)))
    return (lambda x, y, z: ad.outer(ad.dot(x, y), z) + ad.dot(2.0, z)), [a, b, c]


@case("einsum", L._einsum)
@st.composite
def _einsum(draw):
    spec, shapes = draw(
        st.sampled_from(
            [
                ("ij,jk->ik", [(2, 3), (3, 2)]),
                ("ij->j", [(2, 3)]),
                ("i,i->", [(3,), (3,)]),
                ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]),
                ("ij,kj->ikj", [(2, 3), (1, 3)]),
                ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
                ("ij", [(2, 3)]),
                ("ij,j", [(2, 3), (3,)]),
            ]
        )
    )
    return (lambda *xs: ad.einsum(spec, *xs)), [draw(S.arrays(s)) for s in shapes]


# ------------------------------------------------------------- fused nn ops
@case("linear", NN._linear)
@st.composite
def _linear(draw):
    lead = draw(S.shapes(max_dims=2))  # any leading axes, size 0 and 1 too
    n_in, n_out = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    args = [draw(S.arrays(lead + (n_in,))), draw(S.arrays((n_out, n_in)))]
    if draw(st.booleans()):
        args.append(draw(S.arrays((n_out,))))
    return ad.linear, args


@case("softmax_cross_entropy", NN._softmax_cross_entropy)
@st.composite
def _cross_entropy(draw):
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    n = draw(st.integers(1 if reduction == "mean" else 0, 4))
    c = draw(st.integers(1, 4))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    return (lambda z: ad.softmax_cross_entropy(z, labels, reduction)), [draw(S.arrays((n, c)))]


# ------------------------------------------------------------------- conv / pool
@case("conv2d", C.im2col, C.col2im, C._unfold, C._fold)
@st.composite
def _conv(draw):
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding, dilation = (
        draw(st.integers(1, 2)),
        draw(st.integers(0, 1)),
        draw(st.integers(1, 2)),
    )
    h = draw(st.integers(dilation * (kh - 1) + 1, 5))
    w = draw(st.integers(dilation * (kw - 1) + 1, 5))
    bias = draw(st.booleans())
    args = [draw(S.arrays((n, c, h, w))), draw(S.arrays((o, c, kh, kw)))]
    if bias:
        args.append(draw(S.arrays((o,))))
    return (lambda *a: ad.conv2d(*a, stride=stride, padding=padding, dilation=dilation)), args


@case("im2col_col2im_direct", C.im2col, C.col2im)
@st.composite
def _cols(draw):
    geometry = dict(kernel=(2, 2), stride=(1, 2), padding=(1, 0), dilation=(1, 1))
    x = draw(S.arrays((1, 2, 3, 4)))
    cols_shape = np.asarray(ad.im2col(x, **geometry)).shape
    g = draw(S.arrays(cols_shape))
    return (
        lambda a, b: (ad.im2col(a, **geometry), ad.col2im(b, x_shape=(1, 2, 3, 4), **geometry))
    ), [x, g]


@case("max_pool2d", R._max, C.im2col, C._block_max, C._block_spread, C._block_gather)
@st.composite
def _max_pool(draw):
    n, c, h, w = 1, draw(st.integers(1, 2)), draw(st.integers(2, 5)), draw(st.integers(2, 5))
    k, stride = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    padding = draw(st.integers(0, k // 2))
    values = draw(st.permutations(range(n * c * h * w)))
    x = np.array(values, dtype=float).reshape(n, c, h, w) * 0.1
    return (lambda v: ad.max_pool2d(v, k, stride, padding)), [x]


@case("avg_pool2d", R._sum, C.im2col, C._block_gather, C._block_spread)
@st.composite
def _avg_pool(draw):
    x = draw(
        S.arrays((2, draw(st.integers(1, 2)), draw(st.integers(2, 5)), draw(st.integers(2, 5))))
    )
    k = draw(st.integers(1, 2))
    padding = draw(st.integers(0, k // 2))
    return (lambda v: ad.avg_pool2d(v, k, padding=padding)), [x]


# ======================================================================== tests
@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_derivatives_match_finite_differences(name, data):
    f, args = data.draw(CASES[name][0])
    check_grads(f, args, modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_float32_stays_float32(name, data):
    f, args = data.draw(CASES[name][0])
    xs = [ad.tensor(np.asarray(a, np.float32), requires_grad=True) for a in args]
    out = f(*xs)
    leaves = ad.tree_flatten(out)[0]
    for leaf in leaves:
        assert leaf.dtype == np.float32, (name, leaf.dtype)
    total = ad.sum(ad.stack([ad.sum(leaf) for leaf in leaves]))
    if total.requires_grad:
        total.backward()
    for x in xs:
        assert x.grad is None or (x.grad.dtype == np.float32 and x.grad.shape == x.shape)


def _engine_primitives():
    import autodiff.dispatch
    import autodiff.ops as ops_pkg

    modules = [autodiff.dispatch] + [m for _, m in inspect.getmembers(ops_pkg, inspect.ismodule)]
    found = {}
    for module in modules:
        for _, obj in inspect.getmembers(module):
            if isinstance(obj, Primitive):
                found[id(obj)] = obj
    return list(found.values())


def test_every_primitive_has_a_property_test():
    covered = {id(p) for _, covers in CASES.values() for p in covers}
    prims = _engine_primitives()
    assert len(prims) > 40
    missing = sorted(p.name for p in prims if id(p) not in covered)
    assert not missing, f"primitives without a property test: {missing}"


def test_every_primitive_has_both_rules():
    for p in _engine_primitives():
        assert len(p.vjps) > 0 and len(p.jvps) > 0, p.name


@pytest.mark.parametrize("n", [0, 1, 3])
def test_matrix_vector_rules_on_arrays_equal_the_general_path(n):
    # the plain backward pass of W @ x calls numpy directly: the same products, bit for bit,
    # as the rules applied to Tensors (the general path, used for higher orders)
    rng = np.random.default_rng(n)
    w, x, g = rng.random((n, 4)), rng.random(4), rng.random(n)
    for rule in (L._matmul_vjp_a, L._matmul_vjp_b):
        plain = rule(g, None, w, x)
        general = rule(ad.tensor(g), None, ad.tensor(w), ad.tensor(x))
        assert plain.__class__ is np.ndarray and plain.shape == general.shape
        np.testing.assert_array_equal(plain, general.data)


@pytest.mark.parametrize("batch", [1, 7])
def test_cross_entropy_gradient_is_the_same_for_any_memory_layout(batch):
    rng = np.random.default_rng(batch)
    logits, labels = rng.normal(size=(batch, 5)), rng.integers(0, 5, batch)
    grad = ad.grad(lambda z: ad.softmax_cross_entropy(z, labels))
    c_order = grad(logits)
    expected = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected[np.arange(batch), labels] -= 1
    np.testing.assert_allclose(c_order, expected / batch, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(grad(np.asfortranarray(logits)), c_order)
    np.testing.assert_array_equal(grad(logits.T.copy().T), c_order)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.uint64])
def test_cross_entropy_takes_labels_of_any_integer_dtype_and_checks_their_range(dtype):
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    value, grad = ad.value_and_grad(lambda z: ad.softmax_cross_entropy(z, labels))(logits)
    got = ad.value_and_grad(lambda z: ad.softmax_cross_entropy(z, labels.astype(dtype)))(logits)
    np.testing.assert_array_equal(got[0], value)
    np.testing.assert_array_equal(got[1], grad)
    bad = [np.array([0, 1, 4], dtype)]
    if np.dtype(dtype).kind == "i":
        bad.append(np.array([0, -1, 2], dtype))  # one reduction over the unsigned view
    for labels_out_of_range in bad:
        with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\)"):
            ad.softmax_cross_entropy(logits[:3], labels_out_of_range)


def test_cross_entropy_labels_in_either_byte_order_and_empty_batches():
    logits = np.random.default_rng(0).normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    want = ad.softmax_cross_entropy(logits, labels)
    for swapped in (labels.astype(">i4"), labels.astype(">u8"), labels.astype("<i2")):
        np.testing.assert_array_equal(ad.softmax_cross_entropy(logits, swapped), want)
    with pytest.raises(ValueError, match=r"got values -2\.\.2"):
        ad.softmax_cross_entropy(logits, np.array([0, -2, 1, 2], ">i4"))
    empty = ad.grad(lambda z: ad.softmax_cross_entropy(z, np.zeros(0, int), reduction="sum"))
    assert empty(np.zeros((0, 0))).shape == (0, 0)


def test_leaky_relu_derivatives_with_the_default_slope():
    x = np.array([-2.0, 3.0])
    np.testing.assert_array_equal(ad.grad(lambda v: ad.sum(ad.leaky_relu(v)))(x), [0.01, 1.0])
    _, tangent = ad.jvp(ad.leaky_relu, (x,), (np.ones(2),))
    np.testing.assert_array_equal(tangent, [0.01, 1.0])
