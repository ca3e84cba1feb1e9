"""Tensor constructors with numpy's and PyTorch's names: zeros, ones, full, empty, arange,
linspace, eye, the *_like forms, rand and randn.

Floating results default to float32 (as in PyTorch; pass dtype=np.float64 for gradient
checks).  Shapes are given as numpy does (`zeros((2, 3))`) or as PyTorch does
(`zeros(2, 3)`).  Random constructors draw from the `rng` they are given (a
numpy Generator or an int seed), never from numpy's global state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, make_tensor

DEFAULT_FLOAT = np.float32


def _shape(shape: tuple, op: str) -> tuple:
    """(2, 3), ((2, 3),) or ([2, 3],) -> (2, 3), checked."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"{op}: the shape must be non-negative ints, got {shape}")
    return tuple(int(s) for s in shape)


def _tensor(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = make_tensor(data)
    if requires_grad:
        t.requires_grad = True  # checks the dtype
    return t


def zeros(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: zeros(2, 3) or zeros((2, 3))."""
    return _tensor(np.zeros(_shape(shape, "zeros"), dtype), requires_grad)


def ones(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ones(2, 3) or ones((2, 3))."""
    return _tensor(np.ones(_shape(shape, "ones"), dtype), requires_grad)


def empty(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are whatever the memory held (fast; fill it before use)."""
    return _tensor(np.empty(_shape(shape, "empty"), dtype), requires_grad)


def full(shape: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` filled with `fill_value` (float32 for a float, else its type)."""
    shape = _shape((shape,) if isinstance(shape, (int, np.integer)) else (shape,), "full")
    if dtype is None:
        dtype = DEFAULT_FLOAT if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    return _tensor(np.full(shape, fill_value, dtype), requires_grad)


def arange(
    start: Any, stop: Any = None, step: Any = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Evenly spaced values in [start, stop): int64 when every bound is an int, else
    float32 (unless `dtype` says otherwise)."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        ints = all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool)
            for v in (start, stop, step)
        )
        dtype = np.int64 if ints else DEFAULT_FLOAT
    return _tensor(np.arange(start, stop, step, dtype=dtype), requires_grad)


def linspace(
    start: float,
    stop: float,
    num: int = 50,
    dtype: Any = DEFAULT_FLOAT,
    requires_grad: bool = False,
    *,
    steps: int | None = None,
) -> Tensor:
    """`num` (PyTorch: `steps`) evenly spaced values from start to stop, both included."""
    num = steps if steps is not None else num
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"linspace: the number of values must be a non-negative int, got {num!r}")
    return _tensor(np.linspace(start, stop, num, dtype=dtype), requires_grad)


def eye(
    n: int, m: int | None = None, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False
) -> Tensor:
    """The n x m (default n x n) identity matrix."""
    _shape((n,) if m is None else (n, m), "eye")
    return _tensor(np.eye(n, m, dtype=dtype), requires_grad)


def _like(x: Any, dtype: Any) -> tuple:
    values = x._data if isinstance(x, Tensor) else np.asarray(x)
    return values.shape, values.dtype if dtype is None else dtype


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of x's shape and dtype (or `dtype`)."""
    return _tensor(np.zeros(*_like(x, dtype)), requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of x's shape and dtype (or `dtype`)."""
    return _tensor(np.ones(*_like(x, dtype)), requires_grad)


def full_like(x: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """`fill_value` in x's shape and dtype (or `dtype`)."""
    shape, dtype = _like(x, dtype)
    return _tensor(np.full(shape, fill_value, dtype), requires_grad)


def _generator(rng: Any, op: str) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"{op}: rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}"
    )


def rand(
    *shape: Any, rng: Any = None, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False
) -> Tensor:
    """Uniform values in [0, 1) drawn from `rng` (a Generator or a seed; None: fresh entropy)."""
    values = _generator(rng, "rand").random(_shape(shape, "rand"), dtype=np.float64)
    return _tensor(values.astype(dtype, copy=False), requires_grad)


def randn(
    *shape: Any, rng: Any = None, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False
) -> Tensor:
    """Standard normal values drawn from `rng` (a Generator or a seed; None: fresh entropy)."""
    values = _generator(rng, "randn").standard_normal(_shape(shape, "randn"))
    return _tensor(values.astype(dtype, copy=False), requires_grad)


__all__ = [
    "zeros",
    "ones",
    "empty",
    "full",
    "arange",
    "linspace",
    "eye",
    "zeros_like",
    "ones_like",
    "full_like",
    "rand",
    "randn",
]
