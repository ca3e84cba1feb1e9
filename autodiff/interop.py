"""numpy functions applied to Tensors: they dispatch to the engine or keep their word.

`np.exp(t)`, `np.sum(t, axis=0)`, `ndarray + t`, `np.concatenate([t, a])`, ... run the
engine's primitive of the same meaning, so the result is a Tensor on the tape (numpy's
`__array_ufunc__` and `__array_function__` protocols).  Keyword arguments the engine's
function does not take (`out=`, `dtype=`, `where=`) are an error naming that function.
Every other numpy function computes on the values (`np.shape(t)`, `np.isfinite(t)`,
`np.argsort(t)`); if an argument requires grad (while recording) or carries a tangent
and the result holds floating-point numbers, that would silently drop the derivative,
so it raises and names what to do instead.  Installed on Tensor by this module.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops
from .dispatch import replayed
from .state import state
from .tensor import Tensor

UFUNCS: dict = {
    np.add: ops.add,
    np.subtract: ops.subtract,
    np.multiply: ops.multiply,
    np.true_divide: ops.divide,
    np.power: ops.power,
    np.matmul: ops.matmul,
    np.negative: ops.negative,
    np.exp: ops.exp,
    np.log: ops.log,
    np.log1p: ops.log1p,
    np.expm1: ops.expm1,
    np.sqrt: ops.sqrt,
    np.square: ops.square,
    np.sin: ops.sin,
    np.cos: ops.cos,
    np.tan: ops.tan,
    np.tanh: ops.tanh,
    np.absolute: ops.abs,
    np.sign: ops.sign,
    np.maximum: ops.maximum,
    np.minimum: ops.minimum,
}

FUNCTIONS: dict = {
    np.sum: ops.sum,
    np.mean: ops.mean,
    np.var: ops.var,
    np.std: ops.std,
    np.max: ops.max,
    np.min: ops.min,
    np.amax: ops.max,
    np.amin: ops.min,
    np.cumsum: ops.cumsum,
    np.reshape: ops.reshape,
    np.transpose: ops.transpose,
    np.swapaxes: ops.swapaxes,
    np.squeeze: ops.squeeze,
    np.expand_dims: ops.expand_dims,
    np.ravel: ops.flatten,
    np.concatenate: ops.concatenate,
    np.stack: ops.stack,
    np.split: ops.split,
    np.broadcast_to: ops.broadcast_to,
    np.flip: ops.flip,
    np.take: ops.take,
    np.pad: ops.pad,
    np.where: ops.where,
    np.clip: ops.clip,
    np.dot: ops.dot,
    np.outer: ops.outer,
    np.einsum: ops.einsum,
}


def _engine_name(fn: Callable) -> str:
    return getattr(fn, "__name__", repr(fn)).lstrip("_")


def _values(tree: Any) -> Any:
    """Tensors (also inside lists, tuples and dicts) replaced by their arrays."""
    if isinstance(tree, Tensor):
        return tree.data  # read-only while the tape needs it, so `out=` cannot corrupt it
    if isinstance(tree, (list, tuple)):
        return type(tree)(_values(v) for v in tree)
    if isinstance(tree, dict):
        return {k: _values(v) for k, v in tree.items()}
    return tree


def _traced(tree: Any) -> bool:
    if isinstance(tree, Tensor):
        return (tree._requires_grad and state.grad_enabled) or tree._tangents is not None
    if isinstance(tree, (list, tuple)):
        return any(_traced(v) for v in tree)
    if isinstance(tree, dict):
        return any(_traced(v) for v in tree.values())
    return False


def _has_float(result: Any) -> bool:
    if isinstance(result, (list, tuple)):
        return any(_has_float(r) for r in result)
    return (
        np.asarray(result).dtype.kind in "fc"
        if isinstance(result, (np.ndarray, np.generic, float))
        else False
    )


@replayed  # numpy the engine does not cover (np.argmax(t)): made again at every ad.jit replay
def _on_arrays(fn: Callable, args: Any, kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _on_values(name: str, fn: Callable, args: tuple, kwargs: dict, engine: Any) -> Any:
    """fn on the values of args; refused where it would drop a derivative."""
    traced = _traced(args) or _traced(kwargs)
    hint = (
        f"use ad.{_engine_name(engine)} (without numpy-only keywords such as out=)"
        if engine
        else "compose it from ad. operations or define it with ad.primitive"
    )
    if traced and "out" in kwargs:
        raise TypeError(f"{name}: out= cannot hold a result that needs a derivative; {hint}")
    result = _on_arrays(fn, _values(args), _values(kwargs))
    if traced and _has_float(result):
        raise TypeError(
            f"{name}: applied to a Tensor that requires grad it would silently "
            f"drop the derivative; {hint}, or apply it to t.detach() or t.numpy() "
            f"for the values alone"
        )
    return result


def _array_ufunc(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    engine = UFUNCS.get(ufunc)
    if engine is not None and method == "__call__" and not kwargs:
        return engine(*inputs)
    name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    return _on_values(name, getattr(ufunc, method), inputs, kwargs, engine)


_signatures: dict = {}


def _array_function(self: Tensor, func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
    engine = FUNCTIONS.get(func)
    if engine is None:
        return _on_values(f"np.{func.__name__}", func, args, kwargs, None)
    signature = _signatures.get(engine)
    if signature is None:
        signature = _signatures[engine] = inspect.signature(engine)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(
            f"np.{func.__name__} on a Tensor runs ad.{_engine_name(engine)}"
            f"{signature}, which cannot take these arguments: {e}"
        ) from None
    return engine(*args, **kwargs)


Tensor.__array_ufunc__ = _array_ufunc  # type: ignore[attr-defined]
Tensor.__array_function__ = _array_function  # type: ignore[attr-defined]
