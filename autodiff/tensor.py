"""`Tensor`: a numpy array that remembers how it was computed.

A Tensor wraps an ndarray (`.data`).  Operations on Tensors are primitives (see
`dispatch.py`); when an operand requires grad the result is recorded on the tape
(the result tensor itself is the graph node, see `tape.py`) and `backward()` walks the
tape in reverse (`backward.py`).  Forward-mode tangents live in `_tangents`, keyed by
the level of the `jvp` transform that attached them (`forward.py`).

This module holds the type and its attributes only; the operators and numpy-style
methods, which are built on the primitive set, are attached by `methods.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .guard import saved_by
from .state import state
from .tape import FREED, next_seq

if TYPE_CHECKING:
    from .dispatch import Primitive
    from .methods import _Methods as _TensorMethods  # attached by methods.py at import
else:
    _TensorMethods = object

_new = object.__new__


class Tensor(_TensorMethods):
    """An n-dimensional array with reverse- and forward-mode derivative tracking.

    `Tensor(data, requires_grad=False, dtype=None)` copies `data`, like `torch.tensor`
    (so no other view of the array can change it behind the tape's back); use
    `ad.from_numpy` to share an ndarray's memory instead.  Only real floating-point
    tensors can require gradients.
    """

    __slots__ = (
        "_data",
        "grad",
        "_requires_grad",
        "_prim",
        "_args",
        "_raw",
        "_kwargs",
        "_needs",
        "_seq",
        "_tangents",
        "_watch",
        "__weakref__",
        "__dict__",
    )
    _data: np.ndarray
    grad: np.ndarray | None
    _requires_grad: bool
    _prim: Primitive | None  # the primitive that computed it (None for a leaf)
    _args: tuple  # the operands (Tensors or constants) as the primitive got them
    _raw: tuple  # their arrays
    _kwargs: dict
    _needs: tuple[int, ...]  # the operands that require grad
    _seq: int
    _tangents: dict | None
    _watch: Any

    # Rarely set, so kept out of the hot constructor: the instance __dict__ is only
    # created when it is assigned.
    _retain = False  # retain_grad() was called

    # numpy functions on Tensors: see interop.py, which installs __array_ufunc__ and
    # __array_function__ (dispatch to the engine, or refuse to drop a derivative).

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        if isinstance(data, Tensor):
            data = data._data
        trace = state.trace
        if trace is not None and not trace.paused and trace.uses((data,), {}):
            self._data = trace.call_as_is(_copied, data, dtype)  # a copy of a traced value
        else:
            self._data = np.array(data, dtype=dtype)
        self.grad = None
        self._requires_grad = False
        self._prim = None
        self._tangents = None
        self._watch = None  # for a node: the locks it holds (guard.lock)
        self._seq = next_seq()
        if requires_grad:
            self.requires_grad = True

    # ------------------------------------------------------------ attributes
    @property
    def data(self) -> np.ndarray:
        """The values (an ndarray, not a copy).

        While the tape may still need them they are read-only, so that writing to them
        between forward and backward raises instead of corrupting the gradient (a
        leaf's array while a live node saves it, see guard.py; a computed tensor's
        array from the moment it is handed out while its node is live)."""
        values = self._data
        prim = self._prim
        if prim is not None and prim is not FREED and values.flags.writeable:
            values.setflags(write=False)
        return values

    @data.setter
    def data(self, values: Any) -> None:
        """Replace the array (shared, not copied).

        A graph that saved the old array keeps differentiating with it, so while one
        does the new array must have the same shape and dtype (else the gradient would
        not fit the tensor); a computed tensor's array cannot be replaced while its node
        is live (its own derivative rules use it)."""
        old = self._data
        if values is old:  # `t.data -= d` assigns the same array back
            return
        if isinstance(values, Tensor):
            values = values._data
        new = values if values.__class__ is np.ndarray else np.asarray(values)
        prim = self._prim
        if prim is not None and prim is not FREED:
            raise RuntimeError(
                f"Tensor.data: cannot replace the values of a tensor computed "
                f"by {prim.name} while its graph is alive (the backward pass "
                f"uses them); use .detach() to get a separate tensor"
            )
        if self._requires_grad and new.dtype.kind != "f":
            raise TypeError(
                f"Tensor.data: a tensor that requires grad needs real "
                f"floating-point data, got dtype {new.dtype}"
            )
        if new.shape != old.shape or new.dtype != old.dtype:
            saver = saved_by(old)
            if saver is not None:
                raise RuntimeError(
                    f"Tensor.data: cannot replace this {old.shape} {old.dtype} "
                    f"array by a {new.shape} {new.dtype} one while the tape "
                    f"saves it for the backward pass of {saver}; call backward() "
                    f"on that graph first (or build it under ad.no_grad())"
                )
        self._data = new

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not np.issubdtype(self._data.dtype, np.floating):
            raise TypeError(
                f"requires_grad: only real floating-point tensors can require "
                f"gradients; this tensor has dtype {self._data.dtype}"
            )
        if not value and self._prim is not None:
            raise RuntimeError(
                "requires_grad: cannot turn off gradient tracking of a tensor "
                "computed by a recorded operation; use .detach()"
            )
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
    def is_leaf(self) -> bool:
        return self._prim is None

    @property
    def op(self) -> str | None:
        """The name of the primitive that computed this tensor; None for a leaf."""
        return None if self._prim is None else self._prim.name

    @property
    def inputs(self) -> tuple:
        """The operand Tensors this tensor was computed from (() for a leaf or a node
        freed by a backward pass).  See `autodiff.graph` for walking the whole graph."""
        args = self._args if self._prim is not None else None
        if args is None:
            return ()
        return tuple(a for a in args if isinstance(a, Tensor))

    def numpy(self) -> np.ndarray:
        """The underlying array (no copy; read-only while the tape needs it, see .data)."""
        return self.data

    def item(self) -> Any:
        _concrete(self, "take .item() of")
        return self._data.item()

    def tolist(self) -> Any:
        _concrete(self, "take .tolist() of")
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing this one's array, cut off from the tape (the array is
        read-only while the tape needs it, see .data)."""
        return make_tensor(self.data)

    def retain_grad(self) -> None:
        """Also store `.grad` for this non-leaf tensor during backward."""
        self._retain = True

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, value: bool = True) -> Tensor:
        self.requires_grad = value
        return self

    # Comparisons are not differentiable: they return boolean tensors.
    def __lt__(self, other: Any) -> Tensor:
        return _compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return _compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.not_equal, self, other)

    __hash__ = object.__hash__

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        _concrete(self, "convert to a Python bool (if/while on)")
        return bool(self._data)

    def __float__(self) -> float:
        _concrete(self, "convert to a Python float")
        return float(self._data)

    def __int__(self) -> int:
        _concrete(self, "convert to a Python int")
        return int(self._data)

    def __array__(self, dtype=None, copy=None):
        # np.asarray(tensor) gives the values (for plotting, printing, ...), never a tape.
        if copy or (dtype is not None and np.dtype(dtype) != self._data.dtype):
            return self._data.astype(self._data.dtype if dtype is None else dtype)
        return self.data

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


def _copied(data: Any, dtype: Any) -> np.ndarray:
    return np.array(data, dtype=dtype)


def _values(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _compare(ufunc: Any, a: Tensor, b: Any) -> Tensor:
    """A comparison's boolean tensor (recorded when ad.jit traces)."""
    trace = state.trace
    if trace is not None and not trace.paused:
        return make_tensor(trace.call(_compared, ufunc, a._data, _values(b)))
    return make_tensor(ufunc(a._data, _values(b)))


def _compared(ufunc: Any, a: Any, b: Any) -> np.ndarray:
    return np.asarray(ufunc(a, b))


def _concrete(t: Tensor, what: str) -> None:
    """Raise if `t`'s values are traced by ad.jit: they differ between calls, so Python
    cannot branch on them or keep them."""
    trace = state.trace
    if trace is not None and not trace.paused and trace.traced(t._data):
        raise TypeError(
            f"jit: cannot {what} a traced value (shape {t._data.shape}): the "
            f"compiled function replays the same operations for every call, so "
            f"Python cannot decide anything from the values.  Make the argument "
            f"static (ad.jit(f, static_argnums=...)), choose with ad.where, or "
            f"return the value and decide outside the compiled function"
        )


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
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A Tensor sharing `array`'s memory (no copy), like `torch.from_numpy`.

    While the tape saves it, `array` (and the array it is a view of) is read-only; other
    views of the same memory taken before cannot be locked by numpy, so writing through
    them before the backward pass changes the gradient.  Use `ad.tensor` for a copy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    t = make_tensor(array)
    if requires_grad:
        t.requires_grad = True
    return t
