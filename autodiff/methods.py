"""Tensor's operators and numpy-style methods, attached to the type defined in tensor.py.

They are built on the primitive set (ops/) and the backward pass (backward.py), which
are themselves built on Tensor: attaching them here keeps the imports one-way
(tensor <- dispatch <- ops <- methods).  `x + y` is `ops.add(x, y)`, `x.sum()` is
`ops.sum(x)`, `x.backward()` runs `backward.backward_pass`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from . import ops
from .backward import backward_pass
from .batched import Batched
from .dispatch import replayed
from .tensor import Tensor, _values, make_tensor

# numpy's `axis`: one axis, several, or None for all of them
Axis = int | tuple[int, ...] | None


@replayed  # a traced gradient= cast to the output's dtype: recorded by ad.jit
def _seed(gradient: Any, dtype: Any) -> np.ndarray:
    return np.asarray(gradient, dtype=dtype)


def _reduction(op: Callable, doc: str, ddof: bool = False) -> Callable[..., Tensor]:
    """A method x.name(axis=None, [ddof=0,] keepdims=False, *, dim=None, keepdim=None) that
    calls op(x, axis, [ddof,] keepdims): numpy's names, PyTorch's as aliases."""
    if ddof:

        def method(
            self: Any,
            axis: Axis = None,
            ddof: int = 0,
            keepdims: bool = False,
            *,
            dim: Axis = None,
            keepdim: bool | None = None,
        ) -> Tensor:
            keep = keepdims if keepdim is None else keepdim
            return op(self, axis if dim is None else dim, ddof, keep)
    else:

        def method(  # type: ignore[misc]
            self: Any,
            axis: Axis = None,
            keepdims: bool = False,
            *,
            dim: Axis = None,
            keepdim: bool | None = None,
        ) -> Tensor:
            return op(self, axis if dim is None else dim, keepdims if keepdim is None else keepdim)

    method.__doc__ = doc
    return method


def _arg_extreme(fn: Callable) -> Callable[..., Tensor]:
    """argmax / argmin: indices, recorded by ad.jit as a replayed computation."""

    def indices(x: Any, axis: Any, keepdims: bool) -> Tensor:
        return make_tensor(replayed(_indices)(fn, x._data, axis, keepdims=keepdims))

    return indices


class _Methods:
    """The methods to attach (a class body only for readability; never instantiated)."""

    if TYPE_CHECKING:  # what the methods use of Tensor (tensor.py defines them)
        _data: np.ndarray
        _requires_grad: bool

        @property
        def shape(self) -> tuple: ...

        @property
        def dtype(self) -> np.dtype: ...

    @property
    def T(self) -> Tensor:
        return ops.transpose(self)

    def astype(self, dtype: Any) -> Tensor:
        return ops.astype(self, dtype=np.dtype(dtype))

    def to(self, target: Any) -> Tensor:
        """x.to(np.float64) casts (differentiably); x.to("cpu") is x (the only device)."""
        if isinstance(target, str):
            if target == "cpu":
                return cast("Tensor", self)
            raise ValueError(
                f"to: unknown device {target!r}; autodiff runs on the CPU only (no GPU backend yet)"
            )
        return ops.astype(self, dtype=np.dtype(target))

    def float(self) -> Tensor:
        """A float32 copy (PyTorch's .float())."""
        return ops.astype(self, dtype=np.dtype(np.float32))

    def double(self) -> Tensor:
        """A float64 copy (PyTorch's .double())."""
        return ops.astype(self, dtype=np.dtype(np.float64))

    def clone(self) -> Tensor:
        """A copy of the values in new memory that stays on the tape (PyTorch's clone)."""
        return ops.copy(self)

    # ------------------------------------------------- numpy-style methods
    # numpy names (axis, keepdims) with PyTorch's dim / keepdim accepted as aliases.
    sum = _reduction(ops.sum, "The sum over `axis` (all axes if None).")
    mean = _reduction(ops.mean, "The mean over `axis` (all axes if None).")
    var = _reduction(ops.var, "The variance over `axis` (numpy's ddof).", ddof=True)
    std = _reduction(ops.std, "The standard deviation over `axis` (numpy's ddof).", ddof=True)
    max = _reduction(ops.max, "The maximum values (numpy's semantics: no indices; see argmax).")
    min = _reduction(ops.min, "The minimum values (numpy's semantics: no indices; see argmin).")
    argmax = _reduction(
        _arg_extreme(np.argmax), "Indices of the maxima (int64, not differentiable)."
    )
    argmin = _reduction(
        _arg_extreme(np.argmin), "Indices of the minima (int64, not differentiable)."
    )

    def cumsum(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        return ops.cumsum(self, axis if dim is None else dim)

    def clip(self, a_min: Any = None, a_max: Any = None) -> Tensor:
        return ops.clip(self, a_min, a_max)

    def dot(self, other: Any) -> Tensor:
        return ops.dot(self, other)

    def flatten(self) -> Tensor:
        return ops.flatten(self)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return ops.swapaxes(self, axis1, axis2)

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        return ops.squeeze(self, axis if dim is None else dim)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return ops.softmax(self, axis if dim is None else dim)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return ops.log_softmax(self, axis if dim is None else dim)

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for reshape (a reshape may copy here; values are never shared
        with a tensor that could be written in place)."""
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def reshape(self, *shape: Any) -> Tensor:
        """x.reshape(2, 3) or x.reshape((2, 3)), like numpy."""
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        """x.transpose() reverses the axes; x.transpose(1, 0, 2) or x.transpose((1, 0, 2))."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return ops.transpose(self, axes or None)

    # PyTorch-style elementwise methods.
    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    # -------------------------------------------------------------- backward
    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        A scalar (size-1) tensor is seeded with 1; otherwise `gradient` (same shape as
        self) is required.  The graph is freed afterwards unless `retain_graph`.  With
        `create_graph=True` the gradients are Tensors recorded on the tape, so they can
        be differentiated again (`retain_graph` then defaults to True)."""
        if not self._requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad (none of the "
                "tensors it was computed from has requires_grad=True)"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward: a gradient can only be created implicitly for a "
                    f"scalar output, but this tensor has shape {self.shape}; pass "
                    f"gradient= with that shape"
                )
            seed: Any = _ones(self._data.shape, self._data.dtype)
        else:
            seed = (
                gradient
                if isinstance(gradient, Tensor) and create_graph
                else _seed(gradient.data if isinstance(gradient, Tensor) else gradient, self.dtype)
            )
            if seed.shape != self.shape:
                raise ValueError(
                    f"backward: gradient has shape {seed.shape} but the tensor has "
                    f"shape {self.shape}"
                )
        if retain_graph is None:
            retain_graph = create_graph
        backward_pass([self], [seed], create_graph=create_graph, retain_graph=retain_graph)

    # ------------------------------------------------------------ operators
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.multiply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.multiply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.negative(self)

    def __pos__(self) -> Tensor:
        return cast("Tensor", self)

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index=_index_data(index))

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}" formats a one-element tensor's value; an empty spec prints it."""
        if self._data.size == 1:
            return format(self._data.item(), spec)
        if not spec:
            return str(self)
        raise TypeError(
            f"format: the format spec {spec!r} needs a one-element tensor, this "
            f"one has shape {self._data.shape}"
        )

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self._data)):
            yield self[i]


def _indices(fn: Any, values: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.asarray(fn(values, axis, keepdims=keepdims))


@functools.lru_cache(maxsize=32)
def _ones(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A read-only array of ones: the implicit seed of backward(), made once per shape."""
    seed = np.ones(shape, dtype)
    seed.setflags(write=False)
    return seed


def _index_data(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_values(i) for i in index)
    return _values(index)


# Methods that need a tensor's values or its tape (not one example of a batch).
_TENSOR_ONLY = ("argmax", "argmin", "backward", "__format__", "__iter__")

for _name, _value in vars(_Methods).items():
    if _name not in (
        "__module__",
        "__qualname__",
        "__doc__",
        "__dict__",
        "__weakref__",
        "__firstlineno__",
        "__static_attributes__",
    ):
        setattr(Tensor, _name, _value)
        if _name not in _TENSOR_ONLY:  # the same meaning for one example under vmap
            setattr(Batched, _name, _value)
