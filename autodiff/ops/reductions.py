"""Reductions and normalisations along axes (numpy `axis` / `keepdims` semantics).

`max`/`min` split the gradient equally among tied maxima (a valid subgradient, as in
JAX).  logsumexp, softmax and log_softmax subtract the maximum first, so they stay
finite for inputs of any magnitude.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dispatch import broadcast_to, primitive, replayed
from ..tensor import Tensor
from .batch_rules import along_axis
from .elementwise import exp, sqrt
from .shape_ops import flip, reshape
from .util import count, normalize_axis, reduced_shape


def _ndim(x: Any) -> int:
    return x.ndim if isinstance(x, (np.ndarray, Tensor)) else np.ndim(x)


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


# ------------------------------------------------------------------------- sum
def sum_to_shape(g: Any, shape: tuple) -> Any:
    """Sum a broadcast cotangent back to an operand's `shape` (reverse of broadcasting)."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:
        return broadcast_to(g, shape=shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1
    )
    if g.__class__ is np.ndarray:  # the plain backward pass: numpy directly
        return np.add.reduce(g, axis=axes, keepdims=True).reshape(shape) if axes else g
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
    if lead:
        g = reshape(g, shape)
    return g


def expand_reduced(g: Any, shape: tuple, axis: tuple | None, keepdims: bool) -> Any:
    """Broadcast the cotangent of a reduction over `axis` back to the input `shape`."""
    if not keepdims:
        g = reshape(g, reduced_shape(shape, axis))
    return broadcast_to(g, shape=shape)  # a primitive, so this works on Tensors too


@primitive
def _sum(x, *, axis, keepdims):
    return np.add.reduce(np.asarray(x), axis=axis, keepdims=keepdims)


_sum.defvjp(lambda g, ans, x, axis, keepdims: expand_reduced(g, x.shape, axis, keepdims))
_sum.defjvp(lambda t, ans, x, axis, keepdims: _sum(t, axis=axis, keepdims=keepdims))
_sum.defbatch(along_axis(_sum))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Sum over `axis` (None: all).  Shape: x's shape without (or with size-1) reduced axes."""
    return _sum(x, axis=normalize_axis(axis, _ndim(x), "sum"), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Arithmetic mean over `axis`."""
    ax = normalize_axis(axis, _ndim(x), "mean")
    return _sum(x, axis=ax, keepdims=keepdims) / count(np.shape(_raw(x)), ax)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Variance over `axis` with `ddof` delta degrees of freedom (numpy's default 0)."""
    ax = normalize_axis(axis, _ndim(x), "var")
    centred = x - _sum(x, axis=ax, keepdims=True) / count(np.shape(_raw(x)), ax)
    return _sum(centred * centred, axis=ax, keepdims=keepdims) / (
        count(np.shape(_raw(x)), ax) - ddof
    )


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Standard deviation: sqrt(var).  Its gradient is infinite where the variance is 0."""
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


# --------------------------------------------------------------------- max, min
@replayed
def _tie_share(x, ans, axis, keepdims):
    """1/k at each of the k tied extreme entries of every reduced slice, 0 elsewhere."""
    x_raw, ans_raw = _raw(x), _raw(ans)
    if not keepdims:
        ans_raw = np.reshape(ans_raw, reduced_shape(x_raw.shape, axis))
    hit = x_raw == ans_raw
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return share.astype(np.result_type(x_raw), copy=False)


def _weighted_reduction_rules(prim: Any, weights: Any) -> None:
    """The rules of a reduction over `axis` whose derivative with respect to each input
    element is weights(x, ans, axis, keepdims) (broadcast like x): the VJP spreads g back
    over the reduced axes times the weights, the JVP sums the weighted tangent."""
    prim.defvjp(
        lambda g, ans, x, axis, keepdims: (
            expand_reduced(g, x.shape, axis, keepdims) * weights(x, ans, axis, keepdims)
        )
    )
    prim.defjvp(
        lambda t, ans, x, axis, keepdims: _sum(
            t * weights(x, ans, axis, keepdims), axis=axis, keepdims=keepdims
        )
    )
    prim.defbatch(along_axis(prim))


def _extreme(fun, name):
    @primitive
    def reduce(x, *, axis, keepdims):
        if np.size(x) == 0:
            raise ValueError(
                f"{name}: cannot reduce an empty array of shape {np.shape(x)} "
                f"(there is no identity for {name})"
            )
        return fun(np.asarray(x), axis=axis, keepdims=keepdims)

    reduce.name = reduce.__name__ = name
    _weighted_reduction_rules(reduce, _tie_share)
    return reduce


_max = _extreme(np.maximum.reduce, "max")
_min = _extreme(np.minimum.reduce, "min")


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Maximum over `axis`; ties share the gradient equally."""
    return _max(x, axis=normalize_axis(axis, _ndim(x), "max"), keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Minimum over `axis`; ties share the gradient equally."""
    return _min(x, axis=normalize_axis(axis, _ndim(x), "min"), keepdims=keepdims)


# -------------------------------------------------- logsumexp, softmax, log_softmax
def _shifted(x, axis):
    """x - max(x) over axis (keepdims), with infinite maxima replaced by 0."""
    if np.size(x) == 0:
        return x, np.zeros(reduced_shape(np.shape(x), axis), np.result_type(x))
    m = np.maximum.reduce(x, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0)
    return x - m, m


@primitive
def _logsumexp(x, *, axis, keepdims):
    if np.size(x) == 0 and axis is None:
        return np.asarray(-np.inf, dtype=np.result_type(x))
    z, m = _shifted(x, axis)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(z), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _lse_softmax(x, ans, axis, keepdims):
    if not keepdims:
        ans = reshape(ans, reduced_shape(x.shape, axis))
    return exp(x - ans)


_weighted_reduction_rules(_logsumexp, _lse_softmax)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) over `axis`, computed stably."""
    return _logsumexp(x, axis=normalize_axis(axis, _ndim(x), "logsumexp"), keepdims=keepdims)


@primitive
def _softmax(x, *, axis):
    z, _ = _shifted(x, axis)
    e = np.exp(z)
    return e / np.add.reduce(e, axis=axis, keepdims=True)


_softmax.defvjp(lambda g, ans, x, axis: ans * (g - _sum(g * ans, axis=axis, keepdims=True)))
_softmax.defjvp(lambda t, ans, x, axis: ans * (t - _sum(t * ans, axis=axis, keepdims=True)))
_softmax.defbatch(along_axis(_softmax))


@primitive
def _log_softmax(x, *, axis):
    z, _ = _shifted(x, axis)
    with np.errstate(divide="ignore"):  # an empty axis: log(0) meets an empty z
        return z - np.log(np.add.reduce(np.exp(z), axis=axis, keepdims=True))


_log_softmax.defvjp(lambda g, ans, x, axis: g - exp(ans) * _sum(g, axis=axis, keepdims=True))
_log_softmax.defjvp(lambda t, ans, x, axis: t - _sum(exp(ans) * t, axis=axis, keepdims=True))
_log_softmax.defbatch(along_axis(_log_softmax))


def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x) / sum(exp(x)) along `axis` (default last); same shape as x."""
    return _softmax(x, axis=normalize_axis(axis, _ndim(x), "softmax"))


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x - logsumexp(x) along `axis` (default last); same shape as x."""
    return _log_softmax(x, axis=normalize_axis(axis, _ndim(x), "log_softmax"))


# ----------------------------------------------------------------------- cumsum
@primitive
def _cumsum(x, *, axis):
    return np.cumsum(x, axis=axis)


# The transpose of a running sum is a running sum from the other end.
_cumsum.defvjp(lambda g, ans, x, axis: flip(_cumsum(flip(g, axis), axis=axis), axis))
_cumsum.defjvp(lambda t, ans, x, axis: _cumsum(t, axis=axis))
_cumsum.defbatch(along_axis(_cumsum))


def cumsum(x: Any, axis: int | None = None) -> Any:
    """Cumulative sum along `axis`; axis=None works on the flattened array (like numpy)."""
    if axis is None:
        return _cumsum(reshape(x, (-1,)), axis=0)
    axes = normalize_axis(axis, _ndim(x), "cumsum")
    assert axes is not None  # axis is not None here
    return _cumsum(x, axis=axes[0])
