"""`Tensor`: a numpy array that remembers how it was computed.

A Tensor wraps an ndarray (`.data`).  Operations on Tensors are primitives (see
`dispatch.py`); when an operand requires grad the result is recorded on the tape
(the result tensor itself is the graph node), and `backward()` walks the tape in
reverse (see `tape.py`).  Forward-mode tangents live in `_tangents`, keyed by the
level of the `jvp` transform that attached them.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .tape import FREED, next_seq

_new = object.__new__


class Tensor:
    """An n-dimensional array with reverse- and forward-mode derivative tracking.

    `Tensor(data, requires_grad=False, dtype=None)` wraps `data` without copying when
    it already is an ndarray of the requested dtype (use `ad.tensor` for a copy).
    Only floating-point tensors can require gradients.
    """

    __slots__ = ("_data", "grad", "_requires_grad", "_prim", "_args", "_raw", "_kwargs",
                 "_needs", "_seq", "_tangents", "_watch", "__weakref__", "__dict__")

    # Rarely set, so kept out of the hot constructor: the instance __dict__ is only
    # created when one of them is assigned.
    _retain = False   # retain_grad() was called
    _lock = None      # a leaf's lock cell (see tape.lock_leaves)

    # ndarray (op) Tensor must defer to Tensor's reflected operators, and numpy
    # functions applied to a Tensor must fail loudly instead of dropping the tape.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        if isinstance(data, Tensor):
            data = data._data
        self._data = np.asarray(data, dtype=dtype)
        self.grad = None
        self._requires_grad = False
        self._prim = None
        self._tangents = None
        self._watch = None  # for a node: the leaf locks it holds (tape.lock_leaves)
        self._seq = next_seq()
        if requires_grad:
            self.requires_grad = True

    # ------------------------------------------------------------ attributes
    @property
    def data(self) -> np.ndarray:
        """The values (an ndarray, not a copy).

        While a live node of the tape may still need them they are read-only, so that
        mutating them between forward and backward raises instead of corrupting the
        gradient (leaves are locked when an operation saves them, see tape.lock_leaves;
        results of operations when first handed out here)."""
        values = self._data
        prim = self._prim
        if prim is not None and prim is not FREED and values.flags.writeable:
            values.setflags(write=False)
        return values

    @data.setter
    def data(self, values: Any) -> None:
        self._data = values if values.__class__ is np.ndarray else np.asarray(values)

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not np.issubdtype(self._data.dtype, np.inexact):
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients; "
                            f"this tensor has dtype {self._data.dtype}")
        if not value and self._prim is not None:
            raise RuntimeError("requires_grad: cannot turn off gradient tracking of a tensor "
                               "computed by a recorded operation; use .detach()")
        self._requires_grad = bool(value)

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def T(self) -> "Tensor":
        return _ops.transpose(self)

    @property
    def is_leaf(self) -> bool:
        return self._prim is None

    def numpy(self) -> np.ndarray:
        """The underlying array (no copy)."""
        return self._data

    def item(self) -> Any:
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this one's array, cut off from the tape."""
        return Tensor(self._data)

    def retain_grad(self) -> None:
        """Also store `.grad` for this non-leaf tensor during backward."""
        self._retain = True

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, value: bool = True) -> "Tensor":
        self.requires_grad = value
        return self

    def astype(self, dtype: Any) -> "Tensor":
        return _ops.astype(self, dtype=np.dtype(dtype))

    # ------------------------------------------------- numpy-style methods
    def sum(self, axis=None, keepdims=False): return _ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _ops.mean(self, axis, keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return _ops.var(self, axis, ddof, keepdims)
    def std(self, axis=None, ddof=0, keepdims=False): return _ops.std(self, axis, ddof, keepdims)
    def max(self, axis=None, keepdims=False): return _ops.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _ops.min(self, axis, keepdims)
    def cumsum(self, axis=None): return _ops.cumsum(self, axis)
    def clip(self, a_min=None, a_max=None): return _ops.clip(self, a_min, a_max)
    def dot(self, other): return _ops.dot(self, other)
    def flatten(self): return _ops.flatten(self)
    def squeeze(self, axis=None): return _ops.squeeze(self, axis)
    def swapaxes(self, axis1, axis2): return _ops.swapaxes(self, axis1, axis2)

    def reshape(self, *shape):
        """x.reshape(2, 3) or x.reshape((2, 3)), like numpy."""
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        """x.transpose() reverses the axes; x.transpose(1, 0, 2) or x.transpose((1, 0, 2))."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return _ops.transpose(self, axes or None)

    # PyTorch-style elementwise methods.
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def sqrt(self): return _ops.sqrt(self)
    def tanh(self): return _ops.tanh(self)
    def sigmoid(self): return _ops.sigmoid(self)
    def relu(self): return _ops.relu(self)
    def abs(self): return _ops.abs(self)

    # -------------------------------------------------------------- backward
    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        A scalar (size-1) tensor is seeded with 1; otherwise `gradient` (same shape as
        self) is required.  The graph is freed afterwards unless `retain_graph`.  With
        `create_graph=True` the gradients are Tensors recorded on the tape, so they can
        be differentiated again (`retain_graph` then defaults to True)."""
        if not self._requires_grad:
            raise RuntimeError("backward: this tensor does not require grad (none of the "
                               "tensors it was computed from has requires_grad=True)")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"backward: a gradient can only be created implicitly for a "
                                   f"scalar output, but this tensor has shape {self.shape}; pass "
                                   f"gradient= with that shape")
            seed = _ones(self._data.shape, self._data.dtype)
        else:
            seed = gradient if isinstance(gradient, Tensor) and create_graph else np.asarray(
                gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.dtype)
            if seed.shape != self.shape:
                raise ValueError(f"backward: gradient has shape {seed.shape} but the tensor has "
                                 f"shape {self.shape}")
        if retain_graph is None:
            retain_graph = create_graph
        _backward.backward_pass([self], [seed], create_graph=create_graph, retain_graph=retain_graph)

    # ------------------------------------------------------------ operators
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.subtract(self, other)
    def __rsub__(self, other): return _ops.subtract(other, self)
    def __mul__(self, other): return _ops.multiply(self, other)
    def __rmul__(self, other): return _ops.multiply(other, self)
    def __truediv__(self, other): return _ops.divide(self, other)
    def __rtruediv__(self, other): return _ops.divide(other, self)
    def __pow__(self, other): return _ops.power(self, other)
    def __rpow__(self, other): return _ops.power(other, self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __neg__(self): return _ops.negative(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)

    # Comparisons are not differentiable: they return boolean tensors.
    def __lt__(self, other): return Tensor(self._data < _values(other))
    def __le__(self, other): return Tensor(self._data <= _values(other))
    def __gt__(self, other): return Tensor(self._data > _values(other))
    def __ge__(self, other): return Tensor(self._data >= _values(other))
    def __eq__(self, other): return Tensor(self._data == _values(other))  # type: ignore[override]
    def __ne__(self, other): return Tensor(self._data != _values(other))  # type: ignore[override]
    __hash__ = object.__hash__

    def __getitem__(self, index): return _ops.getitem(self, index=_index_data(index))
    def __len__(self) -> int: return len(self._data)
    def __iter__(self):
        for i in range(len(self._data)):
            yield self[i]
    def __bool__(self) -> bool: return bool(self._data)
    def __float__(self) -> float: return float(self._data)
    def __int__(self) -> int: return int(self._data)

    def __array__(self, dtype=None, copy=None):
        # np.asarray(tensor) gives the values (for plotting, printing, ...), never a tape.
        return self._data if dtype is None else self._data.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extras = []
        if self._data.dtype != np.float64 and self._data.size > 0:
            extras.append(f"dtype={self._data.dtype}")
        elif self._data.size == 0:
            extras.append(f"shape={self._data.shape}, dtype={self._data.dtype}")
        if self._prim is not None:
            extras.append(f"op={self._prim.name}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


@functools.lru_cache(maxsize=32)
def _ones(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A read-only array of ones: the implicit seed of backward(), made once per shape."""
    seed = np.ones(shape, dtype)
    seed.setflags(write=False)
    return seed


def _values(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _index_data(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_values(i) for i in index)
    return _values(index)


def make_tensor(data: Any) -> Tensor:
    """A fresh untraced Tensor around an ndarray (no copy): the engine's hot-path constructor."""
    t = _new(Tensor)
    t._data = data if data.__class__ is np.ndarray else np.asarray(data)
    t.grad = None
    t._requires_grad = False
    t._prim = None
    t._tangents = None
    t._watch = None
    t._seq = next_seq()
    return t


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Create a Tensor holding a copy of `data` (like `torch.tensor` / `np.array`)."""
    if isinstance(data, Tensor):
        data = data._data
    return Tensor(np.array(data, dtype=dtype), requires_grad=requires_grad)


from . import ops as _ops  # noqa: E402  (ops are built on Tensor; imported last)
from . import backward as _backward  # noqa: E402
