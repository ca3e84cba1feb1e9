"""`ad.checkpoint(fun)`: keep a block's output, not its intermediates, for the backward pass.

The block becomes one primitive (defined with the same `Primitive` API as every other):
its forward runs `fun` on the operands' arrays, so nothing inside is recorded, and its
derivative rules run `fun` again under `vjp` / `jvp` when the backward pass (or a forward
mode transform) needs them.  Memory for the block's intermediates is traded for one
more evaluation of `fun`; derivatives are the same, at every order.

    block = ad.checkpoint(lambda h, w, b: ad.tanh(ad.linear(h, w, b)))
    h = block(h, w, b)        # every Tensor it needs must be an argument
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .batching import vmap
from .dispatch import Primitive
from .tensor import Tensor
from .transforms import jvp, vjp


def checkpoint(fun: Callable[..., Any]) -> Callable[..., Any]:
    """`fun` (positional array arguments -> one array) as a checkpointed block.

    Keyword arguments are static parameters.  A Tensor that needs a derivative must be
    passed as an argument: one that `fun` closes over would be invisible to the block's
    rules, so it raises instead of dropping that derivative."""
    name = f"checkpoint({getattr(fun, '__name__', 'fun')})"

    def forward(*arrays: Any, **params: Any) -> np.ndarray:
        out = fun(*arrays, **params)
        if isinstance(out, Tensor):
            if out.requires_grad or out._tangents is not None:
                raise TypeError(
                    f"{name}: fun computed its result from a Tensor that needs a "
                    f"derivative and is not an argument (a closed-over parameter?); "
                    f"pass it as an argument of the checkpointed function"
                )
            out = out._data
        if isinstance(out, (tuple, list, dict)):
            raise TypeError(f"{name}: fun must return one array, got {type(out).__name__}")
        return np.asarray(out)

    def cotangents(needs: tuple, g: Any, ans: Any, *args: Any, **params: Any) -> tuple:
        _, pullback = vjp(lambda *xs: fun(*xs, **params), *args)
        return pullback(g)  # one recomputation gives every operand's cotangent

    def tangent(i: int, t: Any, ans: Any, *args: Any, **params: Any) -> Any:
        def along_i(x: Any) -> Any:
            return fun(*args[:i], x, *args[i + 1 :], **params)

        return jvp(along_i, (args[i],), (t,))[1]

    def batched(args: tuple, axes: tuple, **params: Any) -> tuple:
        # under vmap, the block is the checkpointed vmap of fun
        return checkpoint(vmap(lambda *xs: fun(*xs, **params), in_axes=axes))(*args), 0

    prim = Primitive(forward, name)
    prim.defvjp_joint(cotangents)
    prim.defjvp_argnum(tangent)
    prim.defbatch(batched)
    return functools.wraps(fun)(lambda *args, **params: prim(*args, **params))
