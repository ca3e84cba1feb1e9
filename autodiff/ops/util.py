"""Shape helpers shared by the derivative rules (they work on ndarrays and Tensors alike)."""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """numpy-style `axis` (None, int or tuple, negatives allowed) -> sorted tuple of non-negative ints."""
    if axis is None:
        return None
    if axis.__class__ is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of bounds for an operand with {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def reduced_shape(shape: tuple, axis: tuple | None) -> tuple:
    """The keepdims=True shape of reducing `shape` over `axis` (None: all axes)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def sum_to_shape(g: Any, shape: tuple) -> Any:
    """Sum a broadcast cotangent back to an operand's `shape` (reverse of broadcasting)."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:
        return broadcast_to(g, shape=shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if g.__class__ is np.ndarray:  # the plain backward pass: numpy directly
        return np.add.reduce(g, axis=axes, keepdims=True).reshape(shape) if axes else g
    if axes:
        g = reductions._sum(g, axis=axes, keepdims=True)
    if lead:
        g = shape_ops.reshape(g, shape)
    return g


def expand_reduced(g: Any, shape: tuple, axis: tuple | None, keepdims: bool) -> Any:
    """Broadcast the cotangent of a reduction over `axis` back to the input `shape`."""
    if not keepdims:
        g = shape_ops.reshape(g, reduced_shape(shape, axis))
    return broadcast_to(g, shape=shape)  # a primitive, so this works on Tensors too


def count(shape: tuple, axis: tuple | None) -> int:
    """Number of elements reduced into each output element."""
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axis], dtype=np.int64))


builtin_sum = builtins.sum

# Bound last: these modules import this one.
from ..dispatch import broadcast_to  # noqa: E402
from . import reductions, shape_ops  # noqa: E402
