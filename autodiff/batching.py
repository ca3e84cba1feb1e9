"""vmap: a function of one example, applied to a whole batch at once.

    per_example_grads = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)

`vmap(fun, in_axes, out_axes)` calls `fun` once, with `Batched` values (batched.py) in
place of the batched arguments: each looks like one example, and every primitive applied
to one runs its batching rule (`Primitive.defbatch`) on the whole batch, which is held
along axis 0.  Nothing is looped over in Python, except for a user primitive defined
without a batching rule: it is called once per example and the results are stacked
(correct, but slow; give it a rule with `defbatch`).

Composition.  A vmap gets a level (inner vmaps higher ones) and its batch size is kept
per thread in `state.batch_sizes` while it runs.  Batched values nest (the value of an
inner vmap's Batched is the outer one's), and their innermost value, the *core*, is a
plain ndarray or a Tensor holding every level's batch axis in front, outer levels first.
Transforms called inside vmap (grad, vjp, jvp, ...) work on cores: their inputs are first
batched at every active level (an unbatched parameter becomes one copy per example, so
that each example gets its own gradient), the tape then records the batched program, and
its derivatives are the per-example derivatives (the examples never mix).  Transforms
around vmap see only ordinary primitive calls on Tensors, recorded as usual.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import ops
from .batched import Batched
from .dispatch import Primitive, replayed
from .interop import FUNCTIONS, UFUNCS
from .ops.batch_rules import loop, ndim
from .ops.shape_ops import moveaxis, repeat_example
from .state import state
from .tensor import Tensor
from .tree import flatten, unflatten

_next_level = itertools.count(1).__next__


# ------------------------------------------------------------- primitives on Batched
def apply_batch(prim: Primitive, args: tuple, kwargs: dict) -> Any:
    """Apply `prim` to operands (or keyword parameters) of which some are Batched: the
    highest level present is unwrapped and the primitive's batching rule runs on the
    whole batch (recursively handling lower levels and Tensors)."""
    level = 0
    for a in args:
        if a.__class__ is Batched and a.level > level:
            level = a.level
    if prim.batch_params:
        level = max(level, _param_level(prim.batch_params, kwargs))
    if level not in state.batch_sizes:
        raise RuntimeError(
            f"{prim.name}: got a batched value of a vmap that has already "
            f"returned (or runs in another thread); return values computed "
            f"inside vmap from the vmapped function instead of storing them"
        )
    rule = prim.batch_rule
    if rule is None:  # a user primitive without a rule: one call per example (slow)
        rule = loop(prim)
    values = []
    axes: list[int | None] = []
    for a in args:
        if a.__class__ is Batched and a.level == level:
            values.append(a.value)
            axes.append(0)
        else:
            values.append(a)
            axes.append(None)
    if kwargs:
        kwargs = _unwrapped_params(prim, kwargs, level)
    with levels_hidden(level):  # the rule works on the batch, which is explicit there
        out, out_axis = rule(tuple(values), tuple(axes), **kwargs)
    if out_axis is None:
        return out
    if out_axis != 0:
        out = moveaxis(out, out_axis, 0)
    return Batched(out, level)


@contextmanager
def levels_hidden(lowest: int) -> Iterator[None]:
    """Within: vmap levels >= `lowest` are not active.  Code that works on a batch with its
    batch axes explicit (batching rules, and derivative rules run on cores) must not
    batch again what it computes, for instance in a transform a rule calls."""
    sizes = state.batch_sizes
    hidden = {lv: n for lv, n in sizes.items() if lv >= lowest}
    if not hidden:
        yield
        return
    for lv in hidden:
        del sizes[lv]
    try:
        yield
    finally:
        sizes.update(hidden)


def _param_level(names: tuple, kwargs: dict) -> int:
    level = 0
    for name in names:
        v = kwargs.get(name)
        for e in v if v.__class__ is tuple else (v,):
            if e.__class__ is Batched and e.level > level:
                level = e.level
    return level


def _unwrapped_params(prim: Primitive, kwargs: dict, level: int) -> dict:
    """kwargs with the Batched parameters of `level` replaced by their batch (axis 0);
    for a primitive that declared batchable parameters, `param_axes` says which."""
    out = dict(kwargs)
    param_axes: dict = {name: None for name in prim.batch_params}
    for name, v in kwargs.items():
        items = v if v.__class__ is tuple else (v,)
        if not any(e.__class__ is Batched for e in items):
            continue
        if name not in prim.batch_params:
            raise NotImplementedError(
                f"{prim.name}: its parameter {name!r} cannot differ per "
                f"example under vmap; pass it unbatched (in_axes=None)"
            )
        where = tuple(0 if e.__class__ is Batched and e.level == level else None for e in items)
        items = tuple(e.value if w is not None else e for e, w in zip(items, where, strict=False))
        if v.__class__ is tuple:
            out[name] = items
            param_axes[name] = where if any(w is not None for w in where) else None
        else:
            out[name] = items[0]
            param_axes[name] = where[0]
    if prim.batch_params:
        out["param_axes"] = param_axes
    return out


Primitive._batch = apply_batch


# ------------------------------------------------------- what else Batched supports
def _compare(ufunc: np.ufunc) -> Callable:
    """A comparison of one example's values (not differentiable): a Batched boolean."""

    def compare(self: Any, other: Any) -> Any:
        return _compared(ufunc, self, other)

    return compare


def _compared(ufunc: np.ufunc, a: Any, b: Any) -> Any:
    level = max(x.level for x in (a, b) if x.__class__ is Batched)
    values = []
    for x in (a, b):
        if x.__class__ is Batched and x.level == level:
            values.append((x.value._data if isinstance(x.value, Tensor) else x.value, True))
        else:
            values.append((x._data if isinstance(x, Tensor) else x, False))
    total = max(ndim(v) - batched for v, batched in values)
    (va, a_batched), (vb, b_batched) = [
        (ops.shape_ops.pad_example_axes(v, total) if batched else v, batched)
        for v, batched in values
    ]
    if va.__class__ is Batched or vb.__class__ is Batched:
        return Batched(_compared(ufunc, va, vb), level)
    trace = state.trace  # while ad.jit traces, the comparison is a line of the program
    if trace is not None and not trace.paused:
        return Batched(trace.call(ufunc, va, vb), level)
    return Batched(ufunc(va, vb), level)


@replayed  # indices decided by the values: ad.jit computes them again at every replay
def _extreme_indices(fun: Callable, data: Any, axis: int, keepdims: bool) -> Any:
    return fun(data, axis, keepdims=keepdims)


def _arg_extreme(fun: Callable) -> Callable:
    def arg(self: Batched, axis: Any = None, keepdims: bool = False) -> Batched:
        value = self.value
        if axis is None:
            value = ops.reshape(value, (value.shape[0], -1))
            axis = 0
        else:
            axis = int(axis) % max(self.ndim, 1)
        if value.__class__ is Batched:
            return Batched(getattr(value, fun.__name__)(axis + 1, keepdims), self.level)
        data = value._data if isinstance(value, Tensor) else value
        return Batched(_extreme_indices(fun, data, axis + 1, keepdims), self.level)

    return arg


def _array_ufunc(self: Batched, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    fn = UFUNCS.get(ufunc)
    if method != "__call__" or fn is None or kwargs:
        raise TypeError(
            f"vmap: numpy's {ufunc.__name__} ({method}) cannot run on a batched "
            f"value; use the autodiff operation of the same name"
        )
    return fn(*inputs)


def _array_function(self: Batched, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    if func is np.shape:
        return args[0].shape
    if func is np.ndim:
        return args[0].ndim
    if func is np.size and len(args) == 1 and not kwargs:
        return args[0].size
    if func is np.result_type:
        return np.result_type(*(a.dtype if a.__class__ is Batched else a for a in args))
    fn = FUNCTIONS.get(func)
    if fn is None:
        raise TypeError(
            f"vmap: numpy.{func.__name__} cannot run on a batched value (its "
            f"values differ per example); use autodiff operations inside vmap"
        )
    return fn(*args, **kwargs)


def _detach(self: Batched) -> Batched:
    """The same examples without derivatives (stop_gradient of the batch)."""
    value = self.value
    return Batched(value.detach() if isinstance(value, (Tensor, Batched)) else value, self.level)


for _name, _method in {
    "__lt__": _compare(np.less),
    "__le__": _compare(np.less_equal),
    "__gt__": _compare(np.greater),
    "__ge__": _compare(np.greater_equal),
    "__eq__": _compare(np.equal),
    "__ne__": _compare(np.not_equal),
    "argmax": _arg_extreme(np.argmax),
    "argmin": _arg_extreme(np.argmin),
    "__array_ufunc__": _array_ufunc,
    "__array_function__": _array_function,
    "detach": _detach,
}.items():
    setattr(Batched, _name, _method)


# ------------------------------------------------------------------------ vmap
def vmap(fun: Callable, in_axes: Any = 0, out_axes: Any = 0) -> Callable:
    """Vectorise `fun`, a function of one example, over a batch axis of its arguments.

    in_axes: an int (the batch axis of every argument), None (not batched: the same for
    every example), or a tuple with one entry per positional argument, each an int, None,
    or a pytree of them matching that argument (as in JAX).  out_axes: where the batch
    axis goes in each output (likewise an int, None or a pytree prefix of the outputs).
    All batched arguments must have the same batch size; keyword arguments are passed
    unbatched.  Outputs that do not depend on the batch are repeated along the batch axis
    (unless their out_axes is None)."""

    @functools.wraps(fun)
    def batched_fun(*args: Any, **kwargs: Any) -> Any:
        flat, tree = flatten(args)
        axes = _prefix_axes(in_axes, args, "in_axes", top=True)
        size = None
        for leaf, ax in zip(flat, axes, strict=False):
            if ax is None:
                continue
            shape = np.shape(leaf)
            if not -len(shape) <= ax < len(shape):
                raise ValueError(
                    f"vmap: in_axes {ax} for an argument of shape {shape} (it "
                    f"has {len(shape)} axes)"
                )
            if size is None:
                size = shape[ax]
            elif shape[ax] != size:
                sizes = sorted(
                    {np.shape(v)[a] for v, a in zip(flat, axes, strict=False) if a is not None}
                )
                raise ValueError(
                    f"vmap: the batched arguments disagree on the batch size: "
                    f"{sizes} (argument shapes "
                    f"{[np.shape(v) for v, a in zip(flat, axes, strict=False) if a is not None]}"
                    f", in_axes {[a for a in axes if a is not None]})"
                )
        if size is None:
            raise ValueError(
                "vmap: in_axes is None for every argument, so there is no batch "
                "axis to map over; give at least one argument a batch axis"
            )
        level = _next_level()
        state.batch_sizes[level] = size
        try:
            wrapped = [
                leaf
                if ax is None
                else Batched(
                    moveaxis(leaf, ax, 0) if ax % np.ndim(leaf) else _as_array(leaf), level
                )
                for leaf, ax in zip(flat, axes, strict=False)
            ]
            out = fun(*unflatten(tree, wrapped), **kwargs)  # keyword arguments: unbatched
        finally:
            del state.batch_sizes[level]
        flat_out, out_tree = flatten(out)
        where = _prefix_axes(out_axes, out, "out_axes", top=False)
        results = []
        for o, ax in zip(flat_out, where, strict=False):
            if o.__class__ is Batched and o.level == level:
                if ax is None:
                    raise ValueError(
                        f"vmap: out_axes is None for an output that differs "
                        f"between examples (shape {o.shape} per example)"
                    )
                results.append(moveaxis(o.value, 0, ax) if ax % (o.ndim + 1) else o.value)
            elif ax is None or o is None:
                results.append(o)
            else:  # the same for every example
                results.append(moveaxis(repeat_example(o, size), 0, ax))
        return unflatten(out_tree, results)

    return batched_fun


def _as_array(x: Any) -> Any:
    return x if isinstance(x, (np.ndarray, Tensor, Batched)) else np.asarray(x)


def _prefix_axes(spec: Any, tree: Any, name: str, top: bool) -> list:
    """One axis (int or None) per leaf of `tree`, from `spec`: an int or None for a whole
    subtree, or a container of the same kind as the subtree (for the arguments, a tuple
    with one entry per argument)."""
    if spec is None or isinstance(spec, (int, np.integer)):
        return [None if spec is None else int(spec)] * len(flatten(tree)[0])
    if isinstance(spec, dict):
        if not isinstance(tree, dict) or set(spec) != set(tree):
            raise ValueError(
                f"vmap: {name} {spec!r} does not match the structure of {_describe(tree)}"
            )
        return [a for key in tree for a in _prefix_axes(spec[key], tree[key], name, False)]
    if isinstance(spec, (tuple, list)):
        if not isinstance(tree, (tuple, list)) or len(spec) != len(tree):
            what = f"{len(tree)} arguments" if top else _describe(tree)
            raise ValueError(
                f"vmap: {name} {spec!r} has {len(spec)} entries but the function got {what}"
                if top
                else f"vmap: {name} {spec!r} does not match the structure of {what}"
            )
        return [
            a for s, t in zip(spec, tree, strict=False) for a in _prefix_axes(s, t, name, False)
        ]
    raise TypeError(
        f"vmap: {name} entries must be ints, None, or tuples/lists/dicts of them, "
        f"got {type(spec).__name__}"
    )


def _describe(tree: Any) -> str:
    if isinstance(tree, (tuple, list, dict)):
        return f"a {type(tree).__name__} of {len(tree)} entries"
    return f"an array of shape {np.shape(tree)}"


# --------------------------------------------- helpers for transforms inside vmap
def levels_of(x: Any) -> list:
    """The vmap levels x is batched at, outermost wrapper (highest level) first."""
    levels = []
    while x.__class__ is Batched:
        levels.append(x.level)
        x = x.value
    return levels


def core(x: Any) -> Any:
    """The array or Tensor inside every Batched wrapper of x (all batch axes in front)."""
    while x.__class__ is Batched:
        x = x.value
    return x


def rewrap(value: Any, levels: list) -> Any:
    """The inverse of core: `value` wrapped at `levels` (highest first, as levels_of)."""
    for level in reversed(levels):
        value = Batched(value, level)
    return value


def batched_at(x: Any, levels: list) -> Any:
    """x batched at each of `levels` (vmap levels active now, x's own among them): copies
    of x along the levels it lacks, as broadcasts of its core."""
    have = levels_of(x)
    if len(have) == len(levels):
        return x
    extra = [lv for lv in have if lv not in levels]
    if extra:
        raise ValueError(
            f"vmap: internal: a value batched at levels {have} cannot be batched at {levels} only"
        )
    c = core(x)
    c = c if isinstance(c, (np.ndarray, Tensor)) else np.asarray(c)
    position = 0
    for level in sorted(levels):  # the core's batch axes are in increasing level order
        if level not in have:
            shape = c.shape
            c = ops.broadcast_to(
                ops.reshape(c, shape[:position] + (1,) + shape[position:]),
                shape[:position] + (state.batch_sizes[level],) + shape[position:],
            )
        position += 1
    return rewrap(c, sorted(levels, reverse=True))


def batched_everywhere(x: Any) -> Any:
    """x batched at every active vmap level."""
    return batched_at(x, list(state.batch_sizes))
