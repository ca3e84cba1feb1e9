"""The tape's bookkeeping: sequence numbers and freeing a node after backward.

Every recorded operation stores itself on its output tensor (micrograd style: the
tensor *is* the graph node).  A node knows its primitive, its operands and a sequence
number taken from one process-wide counter, so an output is always numbered after its
inputs (backward.py and graph.py rely on this).
"""

from __future__ import annotations

import itertools
from typing import Any

from .guard import unlock

next_seq = itertools.count().__next__  # thread-safe: one C call


class Freed:
    """Stands in for the primitive of a node whose graph was freed by a backward pass."""

    name = "<freed>"


FREED = Freed()


def free(node: Any) -> None:
    """Drop a node's saved operands after backward; a second backward through it raises."""
    if node._watch is not None:
        unlock(node)
    node._args = None
    node._raw = None
    node._kwargs = None
    node._prim = FREED
