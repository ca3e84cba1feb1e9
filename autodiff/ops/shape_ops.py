"""Shape and indexing primitives: linear maps whose derivative rules are their transposes.

Each primitive's VJP is another primitive of this module (reshape <-> reshape,
transpose <-> inverse transpose, getitem <-> index_add, pad <-> getitem, ...), so
derivatives of every order come for free.  Composite helpers (swapaxes, squeeze,
stack, split, take, ...) are ordinary functions of these primitives.
"""
from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from ..dispatch import broadcast_to as _broadcast_to, primitive
from ..tensor import Tensor


def _shape(x: Any) -> tuple:
    return x._data.shape if isinstance(x, Tensor) else np.shape(x)


def broadcast_to(x: Any, shape: Any) -> Any:
    """numpy.broadcast_to; the cotangent is summed back to x's shape."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _broadcast_to(x, shape=shape)


# ----------------------------------------------------------------------- reshape
@primitive
def _reshape(x, *, shape):
    try:
        return np.asarray(x).reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape an operand of shape {np.shape(x)} "
                         f"({np.size(x)} elements) into shape {tuple(shape)}") from None


_reshape.defvjp(lambda g, ans, x, shape: _reshape(g, shape=x.shape))
_reshape.defjvp(lambda t, ans, x, shape: _reshape(t, shape=ans.shape))


def reshape(x: Any, shape: Any) -> Any:
    """numpy.reshape (one dimension may be -1)."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if _shape(x) == shape:
        return x
    return _reshape(x, shape=shape)


def flatten(x: Any) -> Any:
    return _reshape(x, shape=(-1,))


# --------------------------------------------------------------------- transpose
@primitive
def _transpose(x, *, axes):
    return np.asarray(x).transpose(axes)


_transpose.defvjp(lambda g, ans, x, axes: _transpose(g, axes=tuple(np.argsort(axes))))
_transpose.defjvp(lambda t, ans, x, axes: _transpose(t, axes=axes))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    """numpy.transpose: reverse the axes, or permute them by `axes`."""
    ndim = len(_shape(x))
    if axes is None:
        axes = tuple(range(ndim))[::-1]
    axes = tuple(int(a) % ndim if ndim else int(a) for a in axes)
    if sorted(axes) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {ndim} axes "
                         f"of an operand of shape {_shape(x)}")
    return _transpose(x, axes=axes)


def swapaxes(x: Any, axis1: int, axis2: int) -> Any:
    ndim = len(_shape(x))
    axes = list(range(ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _transpose(x, axes=tuple(axes))


def expand_dims(x: Any, axis: int | Sequence[int]) -> Any:
    return _reshape(x, shape=np.expand_dims(np.empty(_shape(x), bool), axis).shape)


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Any:
    try:
        shape = np.squeeze(np.empty(_shape(x), bool), axis).shape
    except ValueError:
        raise ValueError(f"squeeze: cannot squeeze axis {axis} of an operand of shape "
                         f"{_shape(x)}: its size is not 1") from None
    return _reshape(x, shape=shape)


# ---------------------------------------------------------------------- indexing
def _has_integer_array(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype != bool
                        for i in items)


@primitive
def getitem(x, *, index):
    """x[index] for basic slices, integer arrays and boolean masks (numpy semantics)."""
    try:
        return x[index]
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} is invalid for an operand of shape "
                         f"{np.shape(x)}: {e}") from None


@primitive
def index_add(g, *, index, shape):
    """zeros(shape) with `g` added at `index` (repeated integer indices accumulate).

    The transpose of getitem: its VJP is getitem and getitem's VJP is index_add."""
    out = np.zeros(shape, dtype=np.result_type(g))
    if _has_integer_array(index):
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


getitem.defvjp(lambda g, ans, x, index: index_add(g, index=index, shape=x.shape))
getitem.defjvp(lambda t, ans, x, index: getitem(t, index=index))
index_add.defvjp(lambda g, ans, v, index, shape: getitem(g, index=index))
index_add.defjvp(lambda t, ans, v, index, shape: index_add(t, index=index, shape=shape))


def take(x: Any, indices: Any, axis: int | None = None) -> Any:
    """numpy.take: elements (axis=None, flattened) or slices along `axis` at `indices`."""
    indices = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if axis is None:
        return getitem(flatten(x), index=indices)
    ndim = len(_shape(x))
    axis = axis % ndim
    return getitem(x, index=(slice(None),) * axis + (indices,))


# ------------------------------------------------------------ concatenate, pad, flip
@primitive
def _concatenate(*xs, axis):
    return np.concatenate(xs, axis=axis)


def _piece(i, xs, axis):
    """The index of operand i's block in a concatenation along `axis`."""
    start = builtins.sum(_shape(x)[axis] for x in xs[:i])
    ndim = len(_shape(xs[i]))
    return (slice(None),) * axis + (slice(start, start + _shape(xs[i])[axis]),) + (
        slice(None),) * (ndim - axis - 1)


def _pad_widths(i, xs, axis):
    before = builtins.sum(_shape(x)[axis] for x in xs[:i])
    after = builtins.sum(_shape(x)[axis] for x in xs[i + 1:])
    ndim = len(_shape(xs[i]))
    return tuple((before, after) if d == axis else (0, 0) for d in range(ndim))


_concatenate.defvjp_argnum(lambda i, g, ans, *xs, axis: getitem(g, index=_piece(i, xs, axis)))
_concatenate.defjvp_argnum(lambda i, t, ans, *xs, axis: pad(t, _pad_widths(i, xs, axis)))


def concatenate(xs: Sequence[Any], axis: int = 0) -> Any:
    """numpy.concatenate of a sequence of operands along an existing `axis`."""
    xs = tuple(xs)
    if not xs:
        raise ValueError("concatenate: need at least one operand")
    shapes = [_shape(x) for x in xs]
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional operands cannot be concatenated")
    axis = axis % ndim
    for s in shapes:
        if len(s) != ndim or builtins.any(a != b for d, (a, b) in enumerate(zip(s, shapes[0]))
                                          if d != axis):
            raise ValueError(f"concatenate: operand shapes {shapes} must agree except along "
                             f"axis {axis}")
    return _concatenate(*xs, axis=axis)


def stack(xs: Sequence[Any], axis: int = 0) -> Any:
    """numpy.stack: join operands of equal shape along a new `axis`."""
    xs = tuple(xs)
    if not xs:
        raise ValueError("stack: need at least one operand")
    shapes = {_shape(x) for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack: all operands must have the same shape, got {sorted(shapes)}")
    ndim = len(shapes.pop()) + 1
    axis = axis % ndim
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """numpy.split: a list of sub-arrays along `axis` (equal sections or at indices)."""
    shape = _shape(x)
    axis = axis % len(shape)
    n = shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(f"split: an axis of size {n} cannot be split into "
                             f"{indices_or_sections} equal sections")
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step)) if step else [0] * (indices_or_sections + 1)
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    lead = (slice(None),) * axis
    return [getitem(x, index=lead + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:])]


@primitive
def _pad(x, *, pad_width, constant_values):
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


def _unpad_index(shape, pad_width):
    return tuple(slice(before, before + s) for s, (before, _) in zip(shape, pad_width))


_pad.defvjp(lambda g, ans, x, pad_width, constant_values:
            getitem(g, index=_unpad_index(x.shape, pad_width)))
_pad.defjvp(lambda t, ans, x, pad_width, constant_values:
            _pad(t, pad_width=pad_width, constant_values=0))


def pad(x: Any, pad_width: Any, constant_values: float = 0) -> Any:
    """numpy.pad in 'constant' mode; pad_width as numpy accepts it (int, pair, or per axis)."""
    ndim = len(_shape(x))
    if ndim == 0:
        return x
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    if (widths < 0).any():
        raise ValueError(f"pad: negative pad width {pad_width!r}")
    widths = tuple((int(a), int(b)) for a, b in widths)
    return _pad(x, pad_width=widths, constant_values=constant_values)


@primitive
def _flip(x, *, axis):
    return np.flip(x, axis)


_flip.defvjp(lambda g, ans, x, axis: _flip(g, axis=axis))
_flip.defjvp(lambda t, ans, x, axis: _flip(t, axis=axis))


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Any:
    """numpy.flip: reverse the order of elements along `axis` (None: all axes)."""
    if axis is not None:
        ndim = len(_shape(x))
        axis = tuple(a % ndim for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis))
    return _flip(x, axis=axis)


__all__ = ["reshape", "flatten", "transpose", "swapaxes", "expand_dims", "squeeze",
           "getitem", "index_add", "take", "concatenate", "stack", "split", "pad", "flip",
           "broadcast_to"]
