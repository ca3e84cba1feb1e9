"""The tape's bookkeeping: recording switches, sequence numbers, graph freeing and locks.

Every recorded operation stores itself on its output tensor (micrograd style: the
tensor *is* the graph node).  A node knows its primitive, its arguments and a
sequence number taken from a global counter, so an output is always numbered after
its inputs (backward.py relies on this).

Arrays saved by a live node are made read-only, so that mutating them between the
forward and the backward pass raises instead of producing a wrong gradient.
"""
from __future__ import annotations

import itertools
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

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

_leaf_watchers: dict = {}          # token -> weakref to the saving node (kept alive here)
_next_token = itertools.count().__next__


def _release_leaf_lock(leaf: "Tensor") -> None:
    leaf._saves -= 1
    if leaf._saves == 0 and leaf._unlock:
        leaf._unlock = False
        try:
            leaf.data.setflags(write=True)
        except ValueError:  # the array was replaced by a read-only one meanwhile
            pass


def lock_leaf(node: "Tensor", leaf: "Tensor") -> None:
    """Record that `node` saves the leaf tensor `leaf`; make its array read-only."""
    if leaf._saves == 0:
        data = leaf.data
        if data.flags.writeable:
            data.setflags(write=False)
            leaf._unlock = True
    leaf._saves += 1
    token = _next_token()

    def on_node_collected(ref, token=token, leaf=leaf):
        if _leaf_watchers.pop(token, None) is not None:
            _release_leaf_lock(leaf)

    _leaf_watchers[token] = weakref.ref(node, on_node_collected)
    if node._watch is None:
        node._watch = [(token, leaf)]
    else:
        node._watch.append((token, leaf))


def _free(node: "Tensor") -> None:
    """Drop a node's saved arguments after backward; a second backward through it raises."""
    watch = node._watch
    if watch is not None:
        for token, leaf in watch:
            if _leaf_watchers.pop(token, None) is not None:
                _release_leaf_lock(leaf)
        node._watch = None
    node._args = None
    node._raw = None
    node._kwargs = None
    node._prim = FREED


class _Freed:
    """Stands in for the primitive of a node whose graph was freed by a backward pass."""

    name = "<freed>"


FREED = _Freed()
