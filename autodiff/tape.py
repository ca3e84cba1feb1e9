"""The tape's bookkeeping: recording switches, sequence numbers, graph freeing and locks.

Every recorded operation stores itself on its output tensor (micrograd style: the
tensor *is* the graph node).  A node knows its primitive, its arguments and a
sequence number taken from a global counter, so an output is always numbered after
its inputs (backward.py relies on this).

Leaf arrays saved by a live node are made read-only here (and results of recorded
operations by `Tensor.data`), so that mutating them between the forward and the backward
pass raises instead of producing a wrong gradient.
"""
from __future__ import annotations

import itertools
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from .tensor import Tensor


class _State:
    """Process-wide switches read on every operation (plain class attributes: fastest lookup)."""

    grad_enabled = True      # False inside `no_grad()`
    transform_depth = 0      # > 0 while a functional transform (grad, jvp, ...) is running
    reverse_depth = 0        # how many of those are reverse-mode (grad, vjp, linearize)


state = _State
next_seq = itertools.count().__next__


@contextmanager
def no_grad() -> Iterator[None]:
    """Context manager: operations inside record nothing on the tape."""
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Context manager: turn recording back on (for example inside `no_grad`)."""
    previous = state.grad_enabled
    state.grad_enabled = True
    try:
        yield
    finally:
        state.grad_enabled = previous


def is_grad_enabled() -> bool:
    return state.grad_enabled


# --------------------------------------------------------------------------- locks
# A leaf's array is read-only while at least one live node saves it.  Each leaf that
# was ever saved has a lock cell, [count, array to make writeable again or None]: a
# node that saves the leaf holds one count, returned when the node is freed by a
# backward pass or garbage collected without one (weakref callback).


class _Locks(weakref.ref):
    """A weak reference to a node that holds the lock cells of the leaves it saved: if
    the node dies without a backward pass, the callback gives the locks back."""

    __slots__ = ("cells",)


# id -> _Locks of every live node holding locks.  Keeping the references here (not only
# on their nodes) makes the callbacks run also when nodes die in a reference cycle (the
# cyclic collector skips callbacks of weakrefs that are garbage themselves).  The cells
# refer to arrays, never to Tensors, so this never keeps a graph alive.
_lock_holders: dict = {}


def lock_leaves(node: "Tensor", leaves: list) -> None:
    """Record that `node` saves the leaf tensors `leaves`; make their arrays read-only."""
    cells = []
    for leaf in leaves:
        cell = leaf._lock
        if cell is None:
            cell = leaf._lock = [0, None]
        if cell[0] == 0:
            data = leaf._data
            if data.flags.writeable:
                data.setflags(write=False)
                cell[1] = data
        cell[0] += 1
        cells.append(cell)
    locks = _Locks(node, _node_collected)
    locks.cells = cells
    _lock_holders[id(locks)] = locks
    node._watch = locks


def _release(cells: list) -> None:
    for cell in cells:
        cell[0] -= 1
        if cell[0] == 0 and cell[1] is not None:
            try:
                cell[1].setflags(write=True)
            except ValueError:  # a view whose base is still locked by another leaf
                pass
            cell[1] = None


def _node_collected(locks: _Locks) -> None:
    if _lock_holders.pop(id(locks), None) is not None:
        _release(locks.cells)


def free(node: "Tensor") -> None:
    """Drop a node's saved arguments after backward; a second backward through it raises."""
    locks = node._watch
    if locks is not None:
        node._watch = None
        del _lock_holders[id(locks)]
        _release(locks.cells)
    node._args = None
    node._raw = None
    node._kwargs = None
    node._prim = FREED


class _Freed:
    """Stands in for the primitive of a node whose graph was freed by a backward pass."""

    name = "<freed>"


FREED = _Freed()
