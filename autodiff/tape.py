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
# A leaf's array is read-only while at least one live node saves it.  A node that
# saves a leaf holds one count; the count is returned when the node is freed by a
# backward pass, or when the node is garbage collected without one (weakref callback).

# id(weakref to a node) -> (that weakref, the leaves the node locked).  The weakref's
# callback gives the locks back if the node dies without a backward pass.
_lock_holders: dict = {}


def _release(leaves: list) -> None:
    for leaf in leaves:
        leaf._saves -= 1
        if leaf._saves == 0 and leaf._unlock:
            leaf._unlock = False
            try:
                leaf._data.setflags(write=True)
            except ValueError:  # the array was replaced by a read-only one meanwhile
                pass


def _node_collected(ref: weakref.ref) -> None:
    entry = _lock_holders.pop(id(ref), None)
    if entry is not None:
        _release(entry[1])


def lock_leaves(node: "Tensor", leaves: list) -> None:
    """Record that `node` saves the leaf tensors `leaves`; make their arrays read-only."""
    for leaf in leaves:
        if leaf._saves == 0:
            data = leaf._data
            if data.flags.writeable:
                data.setflags(write=False)
                leaf._unlock = True
        leaf._saves += 1
    ref = weakref.ref(node, _node_collected)
    _lock_holders[id(ref)] = (ref, leaves)
    node._watch = ref


def free(node: "Tensor") -> None:
    """Drop a node's saved arguments after backward; a second backward through it raises."""
    ref = node._watch
    if ref is not None:
        entry = _lock_holders.pop(id(ref), None)
        if entry is not None:
            _release(entry[1])
        node._watch = None
    node._args = None
    node._raw = None
    node._kwargs = None
    node._prim = FREED


class _Freed:
    """Stands in for the primitive of a node whose graph was freed by a backward pass."""

    name = "<freed>"


FREED = _Freed()
