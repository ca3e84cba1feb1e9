"""Shape and indexing primitives: linear maps whose derivative rules are their transposes.

Each primitive's VJP is another primitive of this module (reshape <-> reshape,
transpose <-> inverse transpose, getitem <-> index_add, pad <-> getitem, ...), so
derivatives of every order come for free.  Composite helpers (swapaxes, squeeze,
stack, split, take, moveaxis, ...) are ordinary functions of these primitives.  Their
batching rules (vmap) shift the axes they name past the batch axis.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..batched import Batched
from ..dispatch import broadcast_to as _broadcast_to
from ..dispatch import primitive, replayed
from ..tensor import Tensor


def _shape(x: Any) -> tuple:
    return x._data.shape if isinstance(x, Tensor) else np.shape(x)


def broadcast_to(x: Any, shape: Any) -> Any:
    """numpy.broadcast_to; the cotangent is summed back to x's shape."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _broadcast_to(x, shape=shape)


# Helpers of the batching rules (vmap): a batched operand holds its batch along axis 0.
def pad_example_axes(x: Any, total: int) -> Any:
    """Batched x (B, *s) with size-1 axes inserted after the batch axis so that one
    example has `total` axes: the layout numpy broadcasting needs against unbatched
    operands."""
    shape = _shape(x)
    missing = total - (len(shape) - 1)
    if missing <= 0:
        return x
    return _reshape(x, shape=shape[:1] + (1,) * missing + shape[1:])


def repeat_example(x: Any, size: int) -> Any:
    """Unbatched x as a batch of `size` copies along a new axis 0 (a broadcast)."""
    shape = _shape(x)
    return _broadcast_to(_reshape(x, shape=(1,) + shape), shape=(size,) + shape)


_broadcast_to.defbatch(
    lambda args, axes, shape: (
        _broadcast_to(
            pad_example_axes(args[0], len(shape)), shape=_shape(args[0])[:1] + tuple(shape)
        ),
        0,
    )
)


# ----------------------------------------------------------------------- reshape
@primitive
def _reshape(x, *, shape):
    try:
        return np.asarray(x).reshape(shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape an operand of shape {np.shape(x)} "
            f"({np.size(x)} elements) into shape {tuple(shape)}"
        ) from None


_reshape.defvjp(lambda g, ans, x, shape: _reshape(g, shape=x.shape))
_reshape.defjvp(lambda t, ans, x, shape: _reshape(t, shape=ans.shape))
_reshape.defbatch(
    lambda args, axes, shape: (_reshape(args[0], shape=_shape(args[0])[:1] + tuple(shape)), 0)
)


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
_transpose.defbatch(
    lambda args, batched, axes: (  # (its parameter is called axes)
        _transpose(args[0], axes=(0,) + tuple(a + 1 for a in axes)),
        0,
    )
)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    """numpy.transpose: reverse the axes, or permute them by `axes`."""
    ndim = len(_shape(x))
    if axes is None:
        axes = tuple(range(ndim))[::-1]
    axes = tuple(int(a) % ndim if ndim else int(a) for a in axes)
    if sorted(axes) != list(range(ndim)):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {ndim} axes "
            f"of an operand of shape {_shape(x)}"
        )
    return _transpose(x, axes=axes)


def swapaxes(x: Any, axis1: int, axis2: int) -> Any:
    ndim = len(_shape(x))
    axes = list(range(ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _transpose(x, axes=tuple(axes))


def moveaxis(x: Any, source: int, destination: int) -> Any:
    """numpy.moveaxis for one axis."""
    ndim = len(_shape(x))
    source, destination = source % ndim, destination % ndim
    if source == destination:
        return x
    order = [a for a in range(ndim) if a != source]
    order.insert(destination, source)
    return _transpose(x, axes=tuple(order))


def expand_dims(x: Any, axis: int | Sequence[int]) -> Any:
    return _reshape(x, shape=np.expand_dims(np.empty(_shape(x), bool), axis).shape)


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Any:
    try:
        shape = np.squeeze(np.empty(_shape(x), bool), axis).shape
    except ValueError:
        raise ValueError(
            f"squeeze: cannot squeeze axis {axis} of an operand of shape "
            f"{_shape(x)}: its size is not 1"
        ) from None
    return _reshape(x, shape=shape)


# ---------------------------------------------------------------------- indexing
def _has_integer_array(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return builtins.any(
        isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype != bool for i in items
    )


@primitive
def getitem(x, *, index):
    """x[index] for basic slices, integer arrays and boolean masks (numpy semantics)."""
    try:
        return x[index]
    except IndexError as e:
        raise IndexError(
            f"getitem: index {index!r} is invalid for an operand of shape {np.shape(x)}: {e}"
        ) from None


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


def _is_array_index(item: Any) -> bool:
    return isinstance(item, (list, np.ndarray, Batched))


def _batch_axis_after(items: tuple) -> int:
    """Where x[(slice(None),) + items] puts the batch axis: 0, unless numpy moves the
    advanced-index axes to the front (advanced indices not next to each other)."""
    if not builtins.any(_is_array_index(i) for i in items):
        return 0
    advanced = [
        k
        for k, i in enumerate(items)
        if _is_array_index(i) or isinstance(i, (int, np.integer, bool, np.bool_))
    ]
    if advanced == list(range(advanced[0], advanced[-1] + 1)):
        return 0
    shapes = []
    for i in items:
        if isinstance(i, (int, np.integer, bool, np.bool_)):
            shapes.append(())
        elif _is_array_index(i):
            a = np.asarray(i)
            shapes.append((int(a.sum()),) if a.dtype == bool else a.shape)
    return len(np.broadcast_shapes(*shapes))


_reshaped = replayed(np.reshape)  # a per-example index is traced by ad.jit: record it


def _batched_gather(x: Any, x_batched: bool, items: tuple, batched: tuple) -> Any:
    """x[items] per example where some index arrays are batched (their batch along axis
    0): one advanced index over the whole batch, with the batch's own arange in front
    when x is batched too."""
    if builtins.any(not isinstance(i, (np.ndarray, list, int, np.integer, Batched)) for i in items):
        raise NotImplementedError(
            "getitem: inside vmap, an index with batched (per-example) arrays may hold only "
            "integer arrays and integers (no slices, Ellipsis, None or masks); write "
            "x[idx] or x[rows, cols], or use take"
        )
    size = next(_shape(i)[0] for i, b in zip(items, batched, strict=False) if b)
    shapes = [_shape(i)[1:] if b else np.shape(i) for i, b in zip(items, batched, strict=False)]
    example = np.broadcast_shapes(*shapes)
    full = []
    for i, b, s in zip(items, batched, shapes, strict=False):
        if b:
            if np.result_type(i).kind not in "iu":
                raise IndexError(
                    f"getitem: a batched index must hold integers, got dtype {np.result_type(i)}"
                )
            i = _reshaped(i, (size,) + (1,) * (len(example) - len(s)) + tuple(s))
        full.append(i)
    if x_batched:
        full.insert(0, np.arange(size).reshape((size,) + (1,) * len(example)))
    return getitem(x, index=tuple(full))


def _getitem_batch(args: tuple, axes: tuple, *, index: Any, param_axes: dict) -> tuple:
    (x,) = args
    items = index if isinstance(index, tuple) else (index,)
    where = param_axes["index"]  # None, or 0 / a tuple of 0 or None: per-example indices
    if where is None:
        return getitem(x, index=(slice(None),) + items), _batch_axis_after(items)
    batched = tuple(w is not None for w in (where if isinstance(where, tuple) else (where,)))
    items = tuple(i._data if isinstance(i, Tensor) else i for i in items)
    return _batched_gather(x, axes[0] is not None, items, batched), 0


def _index_add_batch(args: tuple, axes: tuple, *, index: Any, shape: tuple) -> tuple:
    (g,) = args
    size = _shape(g)[0]
    items = index if isinstance(index, tuple) else (index,)
    g = moveaxis(g, 0, _batch_axis_after(items))  # the layout of out[(slice(None),) + items]
    return index_add(g, index=(slice(None),) + items, shape=(size,) + tuple(shape)), 0


getitem.defbatch(_getitem_batch, params=("index",))
index_add.defbatch(_index_add_batch)


def take(x: Any, indices: Any, axis: int | None = None) -> Any:
    """numpy.take: elements (axis=None, flattened) or slices along `axis` at `indices`."""
    if not isinstance(indices, Batched):  # per-example indices stay batched (vmap)
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
    return (
        (slice(None),) * axis
        + (slice(start, start + _shape(xs[i])[axis]),)
        + (slice(None),) * (ndim - axis - 1)
    )


def _pad_widths(i, xs, axis):
    before = builtins.sum(_shape(x)[axis] for x in xs[:i])
    after = builtins.sum(_shape(x)[axis] for x in xs[i + 1 :])
    ndim = len(_shape(xs[i]))
    return tuple((before, after) if d == axis else (0, 0) for d in range(ndim))


_concatenate.defvjp_argnum(lambda i, g, ans, *xs, axis: getitem(g, index=_piece(i, xs, axis)))
_concatenate.defjvp_argnum(lambda i, t, ans, *xs, axis: pad(t, _pad_widths(i, xs, axis)))


def _concatenate_batch(args: tuple, axes: tuple, *, axis: int) -> tuple:
    size = next(_shape(a)[0] for a, ax in zip(args, axes, strict=False) if ax is not None)
    return _concatenate(
        *(
            a if ax is not None else repeat_example(a, size)
            for a, ax in zip(args, axes, strict=False)
        ),
        axis=axis + 1,
    ), 0


_concatenate.defbatch(_concatenate_batch)


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
        if len(s) != ndim or builtins.any(
            a != b for d, (a, b) in enumerate(zip(s, shapes[0], strict=False)) if d != axis
        ):
            raise ValueError(
                f"concatenate: operand shapes {shapes} must agree except along axis {axis}"
            )
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
            raise ValueError(
                f"split: an axis of size {n} cannot be split into "
                f"{indices_or_sections} equal sections"
            )
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step)) if step else [0] * (indices_or_sections + 1)
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    lead = (slice(None),) * axis
    return [
        getitem(x, index=lead + (slice(a, b),))
        for a, b in zip(bounds[:-1], bounds[1:], strict=False)
    ]


@primitive
def _pad(x, *, pad_width, constant_values):
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


def _unpad_index(shape, pad_width):
    return tuple(
        slice(before, before + s) for s, (before, _) in zip(shape, pad_width, strict=False)
    )


_pad.defvjp(
    lambda g, ans, x, pad_width, constant_values: getitem(g, index=_unpad_index(x.shape, pad_width))
)
_pad.defjvp(
    lambda t, ans, x, pad_width, constant_values: _pad(t, pad_width=pad_width, constant_values=0)
)
_pad.defbatch(
    lambda args, axes, pad_width, constant_values: (
        _pad(args[0], pad_width=((0, 0),) + tuple(pad_width), constant_values=constant_values),
        0,
    )
)


def pad(x: Any, pad_width: Any, constant_values: float = 0) -> Any:
    """numpy.pad in 'constant' mode; pad_width as numpy accepts it (int, pair, or per axis)."""
    ndim = len(_shape(x))
    if ndim == 0:
        return x
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    if (widths < 0).any():
        raise ValueError(f"pad: negative pad width {pad_width!r}")
    pairs = tuple((int(a), int(b)) for a, b in widths)
    return _pad(x, pad_width=pairs, constant_values=constant_values)


@primitive
def _flip(x, *, axis):
    return np.flip(x, axis)


_flip.defvjp(lambda g, ans, x, axis: _flip(g, axis=axis))
_flip.defjvp(lambda t, ans, x, axis: _flip(t, axis=axis))
_flip.defbatch(
    lambda args, axes, axis: (
        _flip(
            args[0],
            axis=tuple(range(1, len(_shape(args[0]))))
            if axis is None
            else tuple(a + 1 for a in axis),
        ),
        0,
    )
)


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Any:
    """numpy.flip: reverse the order of elements along `axis` (None: all axes)."""
    if axis is not None:
        ndim = len(_shape(x))
        axis = tuple(a % ndim for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis))
    return _flip(x, axis=axis)


__all__ = [
    "reshape",
    "flatten",
    "transpose",
    "swapaxes",
    "expand_dims",
    "squeeze",
    "getitem",
    "index_add",
    "take",
    "concatenate",
    "stack",
    "split",
    "pad",
    "flip",
    "broadcast_to",
    "moveaxis",
]
