"""Hypothesis strategies for derivative tests: arrays in a function's domain, broadcastable
shapes, axes, index expressions, and random expression graphs over the primitive set."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from ._optional import missing_hypothesis

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ModuleNotFoundError as e:
    raise missing_hypothesis(__name__, e) from None


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 4
) -> st.SearchStrategy[tuple]:
    """Array shapes, including size-0 and size-1 axes by default."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def floats(
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid: Sequence[float] = (),
    margin: float = 1e-2,
    width: Literal[16, 32, 64] = 64,
) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value], at least `margin` away from each point in
    `avoid` (kinks and poles, where finite differences are meaningless)."""
    base = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)
    if avoid:
        base = base.filter(lambda v: all(abs(v - a) > margin for a in avoid))
    return base


def arrays(
    shape: Any = None,
    dtype: Any = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid: Sequence[float] = (),
    margin: float = 1e-2,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 0,
    max_side: int = 4,
) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of `shape` (a shape, a strategy for shapes, or None for any small shape)
    with values in the function's domain."""
    if shape is None:
        shape = shapes(min_dims, max_dims, min_side, max_side)
    width: Literal[32, 64] = 32 if np.dtype(dtype) == np.float32 else 64
    return hnp.arrays(dtype, shape, elements=floats(min_value, max_value, avoid, margin, width))


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 3
) -> st.SearchStrategy[tuple]:
    """Tuples of `num_shapes` mutually broadcastable shapes (with size-1 and size-0 axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda b: tuple(b.input_shapes))


def axes(ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> st.SearchStrategy:
    """A valid numpy `axis` argument for an array with `ndim` dimensions (negatives too)."""
    options: list[st.SearchStrategy] = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            options.append(
                st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim).map(
                    tuple
                )
            )
    return st.one_of(options) if options else st.none()


def axis_and_keepdims(ndim: int) -> st.SearchStrategy[tuple]:
    return st.tuples(axes(ndim), st.booleans())


@st.composite
def index_expressions(draw: Callable, shape: tuple) -> Any:
    """An index for an array of `shape`: basic slices/integers, an integer array with
    repeats along one axis, or a boolean mask."""
    kind = draw(st.sampled_from(["basic", "integer", "mask"]))
    if kind == "basic" or not shape:
        return draw(hnp.basic_indices(shape, allow_newaxis=False, allow_ellipsis=False))
    if kind == "mask":
        return draw(hnp.arrays(bool, shape))
    axis = draw(st.integers(0, len(shape) - 1))
    if shape[axis] == 0:
        return (slice(None),) * axis + (np.zeros(0, np.intp),)
    idx = draw(
        hnp.arrays(np.intp, st.integers(0, 5), elements=st.integers(-shape[axis], shape[axis] - 1))
    )
    return (slice(None),) * axis + (idx,)


# ------------------------------------------------------------- expression graphs
def _unary_ops(ad):
    return {
        "sin": ad.sin,
        "cos": ad.cos,
        "tanh": ad.tanh,
        "sigmoid": ad.sigmoid,
        "softplus": ad.softplus,
        "exp_small": lambda x: ad.exp(0.3 * x),
        "square": ad.square,
        "negative": ad.negative,
        "log1p_sq": lambda x: ad.log1p(x * x),
        "sqrt_pos": lambda x: ad.sqrt(x * x + 1.0),
        "expm1": lambda x: ad.expm1(0.3 * x),
        "cumsum0": lambda x: ad.cumsum(x, axis=0) if x.ndim else x,
        "flip": ad.flip,
        "softmax": lambda x: ad.softmax(x) if x.ndim else x,
        "log_softmax": lambda x: ad.log_softmax(x) if x.ndim else x,
        "transpose": ad.transpose,
    }


def _binary_ops(ad):
    return {
        "add": ad.add,
        "subtract": ad.subtract,
        "multiply": ad.multiply,
        "divide_safe": lambda x, y: x / (y * y + 1.0),
        "power_pos": lambda x, y: ad.power(x * x + 1.0, 0.5 * ad.tanh(y)),
        "maximum_soft": lambda x, y: ad.maximum(x, y + 10.0),
        "where": lambda x, y: ad.where(np.ones(np.broadcast_shapes(x.shape, y.shape), bool), x, y),
    }


@st.composite
def expressions(
    draw: Callable, max_ops: int = 6, max_inputs: int = 3, max_side: int = 3
) -> tuple[Callable, list[np.ndarray], list[str]]:
    """A random expression graph over the primitive set, with inputs in its domain.

    Returns (f, args, description).  f maps the input arrays to an array.  The graph
    mixes smooth unary ops, broadcasting binary ops, reductions (with axis / keepdims),
    matmul, reshape, concatenation and indexing; every operand is a previous node, so
    values are reused (fan-out) as in real programs."""
    import autodiff as ad

    n_inputs = draw(st.integers(1, max_inputs))
    in_shapes = draw(
        broadcastable_shapes(n_inputs, min_dims=0, max_dims=3, min_side=1, max_side=max_side)
    )
    args = [draw(arrays(s, min_value=-2.0, max_value=2.0)) for s in in_shapes]
    unary, binary = _unary_ops(ad), _binary_ops(ad)
    program: list[tuple] = []  # (kind, name, operand positions, extra)
    shapes_now = list(in_shapes)
    for _ in range(draw(st.integers(1, max_ops))):
        kind = draw(
            st.sampled_from(
                ["unary", "binary", "binary", "reduce", "matmul", "reshape", "concat", "index"]
            )
        )
        i = draw(st.integers(0, len(shapes_now) - 1))
        s = shapes_now[i]
        if kind == "unary":
            name = draw(st.sampled_from(sorted(unary)))
            program.append(("unary", name, (i,), None))
            new = tuple(reversed(s)) if name == "transpose" else s
        elif kind == "binary":
            j = draw(st.integers(0, len(shapes_now) - 1))
            try:
                new = np.broadcast_shapes(s, shapes_now[j])
            except ValueError:
                continue
            program.append(("binary", draw(st.sampled_from(sorted(binary))), (i, j), None))
        elif kind == "reduce":
            axis, keepdims = draw(axis_and_keepdims(len(s)))
            # mean and logsumexp of an empty slice are nan / -inf: not differentiable
            names = ["sum", "mean", "logsumexp"] if 0 not in s else ["sum"]
            name = draw(st.sampled_from(names))
            program.append(("reduce", name, (i,), (axis, keepdims)))
            new = np.sum(np.zeros(s), axis=axis, keepdims=keepdims).shape
        elif kind == "matmul":
            if len(s) < 1:
                continue
            k = draw(st.integers(1, max_side))
            w = draw(arrays((s[-1], k), min_value=-1.0, max_value=1.0))
            program.append(("matmul", "matmul", (i,), w))
            new = s[:-1] + (k,)
        elif kind == "reshape":
            program.append(("reshape", "reshape", (i,), None))
            new = (int(np.prod(s)),)
        elif kind == "concat":
            if len(s) < 1:
                continue
            program.append(("concat", "concatenate", (i,), None))
            new = (2 * s[0],) + s[1:]
        else:
            if len(s) < 1:
                continue
            index = draw(index_expressions(s))
            program.append(("index", "getitem", (i,), index))
            new = np.zeros(s)[index].shape
        shapes_now.append(tuple(new))

    def f(*xs):
        values = list(xs)
        for kind, name, ops, extra in program:
            a = values[ops[0]]
            if kind == "unary":
                values.append(unary[name](a))
            elif kind == "binary":
                values.append(binary[name](a, values[ops[1]]))
            elif kind == "reduce":
                axis, keepdims = extra
                values.append(getattr(ad, name)(a, axis=axis, keepdims=keepdims))
            elif kind == "matmul":
                values.append(ad.matmul(a, extra))
            elif kind == "reshape":
                values.append(ad.reshape(a, (-1,)))
            elif kind == "concat":
                values.append(ad.concatenate([a, ad.tanh(a)], axis=0))
            else:
                values.append(a[extra])
        # Combine every node into the output so that each one is exercised.
        return ad.sum(ad.stack([ad.sum(v) for v in values[len(xs) :]] or [ad.sum(values[0])]))

    description = [f"{name}{ops}" for _, name, ops, _ in program]
    return f, args, description
