"""The mutation guard: an array the tape saves cannot be written until nothing needs it.

A node of the tape saves its operands' arrays for its derivative rules.  If one of them
changed between the forward and the backward pass, the gradient would silently be
wrong, so while a live node saves an array the guard keeps it read-only:

* operands that are leaves (tensors not computed by a recorded operation) and operands
  that are plain ndarrays (constants, labels, index arrays given as parameters) are
  locked when the node is recorded, together with the array they are a view of (their
  `base`), and unlocked when the last node saving them is freed by a backward pass or
  garbage collected;
* the array of a tensor computed by a recorded operation is internal until it is handed
  out (`.data`, `.numpy()`, `np.asarray`, `detach()`); it is handed out read-only while
  its node is live (see Tensor.data), and stays so.

Each locked array has one cell, [count, array, name of the first operation that saved
it, whether to make it writeable again], shared by every node that saves it, so two
tensors over one array cannot unlock each other's graph.  Views of an array that were
taken before it was locked keep their own write flag: numpy cannot lock those.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

_ndarray = np.ndarray

# id(array) -> its cell, for every array saved by a live node.  A cell refers to its
# array, so the id stays valid while the entry exists.
_cells: dict = {}

# A re-entrant lock: the collector may run a node's weakref callback (which releases)
# in the middle of locking, in the same thread.
_mutex = threading.RLock()


class Locks(weakref.ref):
    """A weak reference to a node holding the cells of the arrays it saved: if the node
    dies without a backward pass, the callback gives the locks back."""

    __slots__ = ("cells",)
    cells: list


# id -> Locks of every live node holding locks.  Keeping the references here (not only on
# their nodes) makes the callbacks run also when nodes die in a reference cycle (the
# cyclic collector skips callbacks of weakrefs that are garbage themselves).  Cells refer
# to arrays, never to Tensors, so this never keeps a graph alive.
_holders: dict = {}


def lock(node: Any, arrays: list, name: str) -> None:
    """Record that `node` (made by the operation `name`) saves `arrays`; make them and
    their bases read-only until `node` is freed or collected."""
    cells: list = []
    get = _cells.get
    _mutex.acquire()
    try:
        for array in arrays:
            while True:  # the array, then its base (numpy collapses chains of views)
                cell = get(id(array))
                if cell is None:
                    writeable = array.flags.writeable
                    if writeable:
                        array.setflags(write=False)
                    cell = _cells[id(array)] = [1, array, name, writeable]
                else:
                    cell[0] += 1
                cells.append(cell)
                array = array.base
                if array is None or array.__class__ is not _ndarray:
                    break
    finally:
        _mutex.release()
    locks = Locks(node, _collected)
    locks.cells = cells
    _holders[id(locks)] = locks
    node._watch = locks


def _release(cells: list) -> None:
    _mutex.acquire()
    try:
        for cell in reversed(cells):  # bases (locked after their views) first
            cell[0] -= 1
            if cell[0] == 0:
                array = cell[1]
                del _cells[id(array)]
                cell[1] = None
                if cell[3]:
                    try:
                        array.setflags(write=True)
                    except ValueError:  # a view whose base another node still locks
                        pass
    finally:
        _mutex.release()


def _collected(locks: Locks) -> None:
    if _holders.pop(id(locks), None) is not None:
        _release(locks.cells)


def unlock(node: Any) -> None:
    """Give back the locks `node` holds (called when a backward pass frees it)."""
    locks = node._watch
    if locks is not None:
        node._watch = None
        if _holders.pop(id(locks), None) is not None:
            _release(locks.cells)


def saved_by(array: Any) -> str | None:
    """The name of an operation whose live node saves `array` (None if none does)."""
    cell = _cells.get(id(array))
    return cell[2] if cell is not None and cell[1] is array else None
