"""Batching rules shared by many primitives (see `Primitive.defbatch`).

A rule gets the operands, each batched one with its batch along axis 0, and which are
batched (`axes[i]` is 0 or None); it returns the result and its batch axis.  The rules
here cover the common kinds: elementwise operations with numpy broadcasting, operations
along an `axis` parameter, and operations that take a leading batch axis of their own
(the conv and pooling helpers: (N, C, H, W) becomes (B*N, C, H, W)).  Everything is
written with primitives, so a rule works on ndarrays, Tensors and nested vmaps alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..dispatch import Primitive
from .shape_ops import _reshape, getitem, pad_example_axes, stack


def ndim(x: Any) -> int:
    """Number of axes of an operand: an ndarray, Tensor, Batched value or Python scalar."""
    return x.ndim if hasattr(x, "ndim") else np.ndim(x)


def batch_size(args: tuple, axes: tuple) -> int:
    """The batch size: the length of axis 0 of the first batched operand."""
    for a, ax in zip(args, axes, strict=False):
        if ax is not None:
            return a.shape[0]
    raise ValueError("batching rule called without a batched operand")


def elementwise(prim: Primitive) -> Callable:
    """The rule of an elementwise primitive that broadcasts its operands like numpy."""

    def rule(args: tuple, axes: tuple, **kw: Any) -> tuple:
        total = max(ndim(a) - (ax is not None) for a, ax in zip(args, axes, strict=False))
        aligned = tuple(
            pad_example_axes(a, total) if ax is not None else a
            for a, ax in zip(args, axes, strict=False)
        )
        return prim(*aligned, **kw), 0

    return rule


def unary(prim: Primitive) -> Callable:
    """The rule of a one-operand primitive that works on each element (or on any leading
    axes) independently: call it on the whole batch."""
    return lambda args, axes, **kw: (prim(args[0], **kw), 0)


def shifted_axis(axis: Any, example_ndim: int) -> Any:
    """An `axis` parameter of one example (None, int or tuple of non-negative ints) as the
    same axes of the batch: None (all) becomes every axis but the batch axis."""
    if axis is None:
        return tuple(range(1, example_ndim + 1))
    if isinstance(axis, tuple):
        return tuple(a + 1 for a in axis)
    return axis + 1


def along_axis(prim: Primitive) -> Callable:
    """The rule of a one-operand primitive with an `axis` parameter (reductions, softmax,
    cumsum, flip)."""

    def rule(args: tuple, axes: tuple, *, axis: Any, **kw: Any) -> tuple:
        (x,) = args
        return prim(x, axis=shifted_axis(axis, ndim(x) - 1), **kw), 0

    return rule


def merged_batch(prim: Primitive) -> Callable:
    """The rule of a one-operand primitive whose operand and result both start with a
    batch axis of their own, N (im2col, pooling): the vmap batch B and N are merged
    into one axis of B*N for the call and split again after it."""

    def rule(args: tuple, axes: tuple, **kw: Any) -> tuple:
        (x,) = args
        shape = x.shape
        out = prim(_reshape(x, shape=(shape[0] * shape[1],) + shape[2:]), **kw)
        return _reshape(out, shape=shape[:2] + out.shape[1:]), 0

    return rule


def loop(prim: Primitive) -> Callable:
    """A rule for any primitive: call it once per example and stack the results (slow;
    a fallback for user primitives, `prim.defbatch(loop(prim))`)."""

    def rule(args: tuple, axes: tuple, **kw: Any) -> tuple:
        size = batch_size(args, axes)
        if size == 0:
            raise ValueError(
                f"{prim.name}: the per-example loop rule cannot batch a batch of "
                f"size 0 (the result's shape is unknown)"
            )
        outs = [
            prim(
                *(
                    getitem(a, index=i) if ax is not None else a
                    for a, ax in zip(args, axes, strict=False)
                ),
                **kw,
            )
            for i in range(size)
        ]
        return stack(outs), 0

    return rule
