"""`Batched`: what a function under `vmap` sees in place of a batch of arrays.

A Batched value stands for one example of a batch: its `shape`, `ndim` and `size` are an
example's, while `value` holds the whole batch (an ndarray, a Tensor, or the Batched value
of an enclosing vmap) with the batch along axis 0.  `level` says which vmap it belongs to
(inner vmaps get higher levels).  Primitives applied to Batched operands run the
primitive's batching rule on the whole batch at once (batching.py); the operators and
methods of Tensor are attached to Batched too (methods.py), so `x @ w + b`, `x.sum(1)`
and `x.T` mean inside vmap what they mean for one example.

Whatever would need one example's values in Python (`bool(x)`, `float(x)`, `x.item()`,
`np.asarray(x)`) raises: the values differ between examples.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .methods import _Methods as _BatchedMethods  # attached by methods.py
else:
    _BatchedMethods = object


def _refused(what: str) -> Any:
    """A method that raises: a batched value has no single value to `what`."""

    def method(self: Batched, *args: Any, **kwargs: Any) -> Any:
        raise self._no_values(what)

    return method


class Batched(_BatchedMethods):
    """One example of a batch under `vmap` (see the module docstring)."""

    __slots__ = ("value", "level")

    if TYPE_CHECKING:  # attached by batching.py

        def detach(self) -> Batched: ...

    def __init__(self, value: Any, level: int):
        self.value = value
        self.level = level

    @property
    def shape(self) -> tuple:
        return self.value.shape[1:]

    @property
    def ndim(self) -> int:
        return self.value.ndim - 1

    @property
    def size(self) -> int:
        return math.prod(self.value.shape[1:])

    @property
    def dtype(self) -> Any:
        return self.value.dtype

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d value inside vmap")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def _no_values(self, what: str) -> TypeError:
        return TypeError(
            f"vmap: cannot {what} a batched value (shape {self.shape} per "
            f"example): its values differ from one example to the next.  "
            f"Use ad.where for value-dependent choices, autodiff operations "
            f"instead of numpy functions, or pass the value unbatched "
            f"(in_axes=None)"
        )

    # what would need the values themselves
    __bool__ = _refused("convert to a Python bool (if/while on)")
    __float__ = _refused("convert to a Python float")
    __int__ = _refused("convert to a Python int")
    __index__ = _refused("use as a Python index")
    item = _refused("take .item() of")
    tolist = _refused("take .tolist() of")
    __array__ = _refused("hand numpy (np.asarray, a numpy function) the values of")
    numpy = _refused("take .numpy() of")

    def backward(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "vmap: backward() inside vmap is not supported; use ad.grad or "
            "ad.vjp inside the vmapped function (per-example gradients)"
        )

    def __repr__(self) -> str:
        return (
            f"Batched(shape={self.shape} per example, batch of {self.value.shape[0]}, "
            f"dtype={self.dtype}, vmap level {self.level})"
        )

    __hash__ = object.__hash__
