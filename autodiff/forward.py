"""Forward mode: pushing tangents through primitives (dual numbers), any number of levels.

A tensor's forward-mode tangents live in `_tangents`, {level: tangent}, one level per
active `jvp` (inner transforms get higher levels).  When an operand of a primitive
carries a tangent, `Primitive.__call__` hands the call to `apply_jvp` (installed on
Primitive at the bottom of this module), which computes the primal result and the
tangent of the result from the primitive's JVP rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .batched import Batched
from .dispatch import Primitive, _node, broadcast_to, identity, rule_for, rule_result
from .state import state
from .tensor import Tensor
from .tensor import make_tensor as _wrap


def strip(a: Tensor, level: int) -> Tensor:
    """`a` without its forward-mode tangent at `level` (tangents of other levels kept).

    The result is a new tensor sharing `a`'s array; if `a` is on the tape the result
    is recorded as an identity of it, so reverse mode still reaches `a`."""
    tangents = a._tangents
    if tangents is None or level not in tangents:
        return a
    trace = state.trace
    view = (
        a._data.view() if trace is None or trace.paused else trace.call(np.ndarray.view, a._data)
    )  # (ad.jit records it)
    if a._requires_grad and state.grad_enabled:
        v = _node(view, identity, (a,), (a._data,), {}, (0,), None)
    else:
        v = _wrap(view)
    rest = {k: t for k, t in tangents.items() if k != level}
    v._tangents = rest or None
    return v


def apply_jvp(prim: Primitive, args: tuple, kwargs: dict) -> Tensor:
    """Apply `prim` to operands that carry forward-mode tangents.

    Tangents are organised by level (one level per active `jvp`, inner transforms get
    higher levels).  The highest level present is peeled off: the primal result is
    computed on the operands without it (recursively handling lower levels and the
    tape), then the JVP rules give the tangent at this level.  Because the rules run
    on the peeled operands, tangents of tangents (nested forward mode) come out right.
    """
    for a in args:
        if a.__class__ is Batched:  # vmap first: its rule calls prim on the whole batch
            return prim._batch(args, kwargs)
    level = 0  # the highest level present (levels count from 1)
    single = True  # every tangent present is at that one level
    grad_args = False  # some operand requires grad
    for a in args:
        if isinstance(a, Tensor):
            if a._requires_grad:
                grad_args = True
            tangents = a._tangents
            if tangents is not None:
                top = max(tangents)
                if len(tangents) != 1 or (level and top != level):
                    single = False
                if top > level:
                    level = top
    records = state.level_records.get(level, True)
    if single and not (records and grad_args):
        # Only this level, and nothing records the tangent computation: the primal is a
        # plain call on the operands with their tangents set aside (so the tape records
        # the operands themselves), and the rules run on arrays.
        held = []
        for a in args:
            if isinstance(a, Tensor) and a._tangents is not None:  # once per tensor
                held.append((a, a._tangents))
                a._tangents = None
        try:
            out = prim(*args, **kwargs)
        finally:
            for a, tangents in held:
                a._tangents = tangents
        # (rules on arrays record nothing, whatever no_grad says)
        tangent = _tangent_at(
            prim,
            level,
            args,
            out._data,
            out._raw
            if out._prim is not None
            else tuple(a._data if isinstance(a, Tensor) else a for a in args),
            kwargs,
            out._data.shape,
            True,
        )
    else:
        stripped = tuple(strip(a, level) if isinstance(a, Tensor) else a for a in args)
        out = prim(*stripped, **kwargs)
        if out._prim is not None:
            # The tape must see the operands *with* their tangents, so that a backward pass
            # run inside this jvp (forward-over-reverse) differentiates the tangents too.
            out._args = args
        # The rules run on Tensors only if their results must carry derivatives: tangents
        # of other levels, or a tape that records the tangent computation.
        if any(
            isinstance(a, Tensor) and (a._tangents is not None or (records and a._requires_grad))
            for a in stripped
        ):
            ans, rule_args = out, stripped
        else:
            ans = out._data
            rule_args = tuple(a._data if isinstance(a, Tensor) else a for a in stripped)
        previous = state.grad_enabled
        if not records:
            state.grad_enabled = False
        try:
            tangent = _tangent_at(
                prim,
                level,
                args,
                ans,
                rule_args,
                kwargs,
                out._data.shape,
                not isinstance(ans, Tensor),
            )
        finally:
            state.grad_enabled = previous
    if tangent is not None:
        if out._tangents is None:
            out._tangents = {level: tangent}
        else:
            out._tangents[level] = tangent
    return out


def _tangent_at(
    prim: Primitive,
    level: int,
    args: tuple,
    ans: Any,
    rule_args: tuple,
    kwargs: dict,
    out_shape: tuple,
    on_arrays: bool,
) -> Any:
    """Sum of the JVP rules' contributions of every operand with a tangent at `level`."""
    trace = state.trace
    if on_arrays and trace is not None and not trace.paused:  # ad.jit records the rules
        return trace.tangent_at(prim, level, args, ans, rule_args, kwargs, out_shape)
    on_tensors = isinstance(ans, Tensor)
    tangent = None
    i = -1
    for a in args:
        i += 1
        if a.__class__ is not Tensor and not isinstance(a, Tensor):
            continue
        tangents = a._tangents
        t = tangents.get(level) if tangents is not None else None
        if t is not None:
            ti = rule_for(prim, i, "JVP")(t, ans, *rule_args, **kwargs)
            if ti is None:  # identically zero
                continue
            ti = checked_tangent(
                prim, i, rule_result(prim, i, "JVP", ti, on_tensors), a._data.shape, out_shape
            )
            tangent = ti if tangent is None else tangent + ti
    return tangent


def checked_tangent(prim: Primitive, i: int, ti: Any, shape: tuple, out_shape: tuple) -> Any:
    """Operand i's tangent contribution (often of the operand's `shape`) broadcast to the
    output's shape; a shape that does not broadcast to it means a wrong rule."""
    got = ti.shape
    if got == out_shape:
        return ti
    if not _broadcasts(got, out_shape):
        raise ValueError(
            f"{prim.name}: the JVP rule for argument {i} returned a tangent of "
            f"shape {got}, which does not broadcast to the output's shape "
            f"{out_shape} (the argument's shape is {shape})"
        )
    return broadcast_to(ti, shape=out_shape)


def _broadcasts(shape: tuple, target: tuple) -> bool:
    """Whether numpy broadcasting takes `shape` to `target`."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(shape[::-1], target[::-1], strict=False))


Primitive._jvp = apply_jvp
