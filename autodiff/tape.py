"""The tape: gradient-recording state and the reverse-mode (backward) pass.

Every recorded operation stores itself on its output tensor (micrograd style: the
tensor *is* the graph node).  A node knows its primitive, its arguments and a
sequence number taken from a global counter.  Because an output is always created
after its inputs, sorting nodes by decreasing sequence number is a valid reverse
topological order, so the backward pass is a single sweep driven by a heap of
sequence numbers.

Arrays saved by a live node are made read-only, so that mutating them between the
forward and the backward pass raises instead of producing a wrong gradient.
"""
from __future__ import annotations

import heapq
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


# ------------------------------------------------------------------------ backward

def backward_pass(roots: list, seeds: list, *, create_graph: bool, retain_graph: bool,
                  capture: dict | None = None) -> None:
    """Propagate the cotangents `seeds` from the tensors `roots` back through the tape.

    Without `capture` (the `Tensor.backward` path) gradients are accumulated into
    the `.grad` of every leaf that requires grad and of every tensor that called
    `retain_grad()`.  With `capture` (a dict {seq: None} of the tensors the caller
    differentiates with respect to, the functional path), gradients are written
    into `capture` instead, `.grad` is left alone, propagation stops at captured
    tensors and nodes older than the oldest captured tensor are skipped: they
    cannot depend on it.

    With `create_graph` the vector-Jacobian rules run on Tensors, so the gradients
    are themselves recorded (and carry forward-mode tangents): this is how every
    higher-order derivative is obtained.  Otherwise they run on raw ndarrays.
    """
    from .tensor import Tensor, make_tensor  # late imports: these modules import this one
    from .ops.util import sum_to_shape

    oldest = min(capture) if capture else -1
    grads: dict = {}
    nodes: dict = {}
    for root, seed in zip(roots, seeds):
        if create_graph and not isinstance(seed, Tensor):
            seed = make_tensor(seed)
        if root._seq in grads:
            grads[root._seq] = grads[root._seq] + seed
        else:
            grads[root._seq] = seed
            nodes[root._seq] = root
    heap = [-seq for seq in nodes]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        seq = -pop(heap)
        node = nodes.pop(seq)
        g = grads.pop(seq)
        prim = node._prim
        if capture is not None:
            if seq in capture:
                capture[seq] = g
                continue
        elif prim is None or node._retain:
            _accumulate_grad(node, g, create_graph)
        if prim is None:
            continue
        if prim is FREED:
            raise RuntimeError(
                "backward: trying to backpropagate through a graph that has already been "
                "freed by an earlier backward pass; call backward(retain_graph=True) the first "
                "time if you need to backpropagate twice")
        args = node._args
        kwargs = node._kwargs
        if create_graph:
            ans, rule_args = node, args
        else:
            ans, rule_args = node.data, node._raw
        vjps = prim.vjps
        for i in node._needs:
            parent = args[i]
            pseq = parent._seq
            if pseq < oldest:
                continue
            rule = vjps[i]
            if rule is None:
                raise NotImplementedError(
                    f"{prim.name}: no VJP rule is defined for argument {i}, so reverse mode "
                    f"(grad, vjp, backward) is unavailable for it; define one with defvjp")
            gi = rule(g, ans, *rule_args, **kwargs)
            if gi.shape != parent.data.shape:
                gi = sum_to_shape(gi, parent.data.shape)
            if pseq in grads:
                grads[pseq] = grads[pseq] + gi
            else:
                grads[pseq] = gi
                nodes[pseq] = parent
                push(heap, -pseq)
        if not retain_graph:
            _free(node)


def _accumulate_grad(tensor: "Tensor", g: Any, create_graph: bool) -> None:
    from .tensor import Tensor

    if not create_graph:
        if isinstance(g, Tensor):
            g = g.data
        if g.dtype != tensor.data.dtype:
            g = g.astype(tensor.data.dtype)
        if g.shape != tensor.data.shape:
            g = np.broadcast_to(g, tensor.data.shape).copy()
    current = tensor.grad
    if current is None:
        tensor.grad = g
    else:
        if isinstance(current, Tensor) and not create_graph:
            current = current.data
        tensor.grad = current + g
