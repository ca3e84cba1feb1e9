"""Shape helpers shared by the derivative rules: pure shape arithmetic, no primitives."""

from __future__ import annotations

from typing import Any

import numpy as np


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """numpy-style `axis` (None, int or tuple, negatives allowed) -> sorted tuple of
    non-negative ints."""
    if axis is None:
        return None
    if axis.__class__ is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{op}: axis {a} is out of bounds for an operand with {ndim} dimensions"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def reduced_shape(shape: tuple, axis: tuple | None) -> tuple:
    """The keepdims=True shape of reducing `shape` over `axis` (None: all axes)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def count(shape: tuple, axis: tuple | None) -> int:
    """Number of elements reduced into each output element."""
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axis], dtype=np.int64))
