"""The reverse-mode (backward) pass over the tape.

An output is always created after its inputs, so visiting nodes by decreasing sequence
number is a valid reverse topological order: the pass is one sweep driven by a heap of
sequence numbers, accumulating cotangents in a dict keyed by sequence number.
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np

from .dispatch import _AllOperands, missing_rule, rule_result
from .ops.reductions import sum_to_shape
from .state import state
from .tape import FREED, free
from .tensor import Tensor, make_tensor


def backward_pass(
    roots: list, seeds: list, *, create_graph: bool, retain_graph: bool, capture: dict | None = None
) -> None:
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

    trace = state.trace
    if trace is not None and not create_graph and not trace.paused:  # ad.jit is recording
        return trace.backward_pass(roots, seeds, retain_graph, capture)
    oldest = min(capture) if capture else -1
    pending: dict = {}  # seq -> [node, its cotangent so far]
    given: set = set()  # ids of the arrays handed out in capture
    for root, seed in zip(roots, seeds, strict=False):
        if create_graph and not isinstance(seed, Tensor):
            seed = make_tensor(seed)
        if root._seq in pending:
            pending[root._seq][1] = pending[root._seq][1] + seed
        else:
            pending[root._seq] = [root, seed]
    heap = [-seq for seq in pending]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        seq = -pop(heap)
        node, g = pending.pop(seq)
        prim = node._prim
        if capture is not None:
            if seq in capture:
                capture[seq] = _owned(g, given) if not create_graph else g
                continue
        elif prim is None or node._retain:  # a root leaf or a retain_grad() tensor
            _accumulate_grad(node, g if create_graph else g.copy(), create_graph)
        if prim is None:
            continue
        if prim is FREED:
            raise RuntimeError(
                "backward: trying to backpropagate through a graph that has already been "
                "freed by an earlier backward pass; call backward(retain_graph=True) the first "
                "time if you need to backpropagate twice"
            )
        args = node._args
        kwargs = node._kwargs
        if create_graph:
            ans, rule_args = node, args
            if prim.residual:  # plain arrays carry no derivative: not for rules on Tensors
                kwargs = {k: v for k, v in kwargs.items() if k != "residual"}
        else:
            ans, rule_args = node._data, node._raw
        vjps = prim.vjps
        joint = vjps.rule if vjps.__class__ is _AllOperands else None
        cotangents = None  # what the joint rule returned
        for i in node._needs:
            parent = args[i]
            pseq = parent._seq
            if pseq < oldest:
                continue
            if capture is not None and parent._prim is None and pseq not in capture:
                continue  # a leaf nobody asked about
            if joint is not None:  # one call gives every operand's cotangent
                if cotangents is None:
                    cotangents = joint(node._needs, g, ans, *rule_args, **kwargs)
                    if len(cotangents) < len(args):
                        raise ValueError(
                            f"{prim.name}: the joint VJP rule returned "
                            f"{len(cotangents)} cotangents for {len(args)} "
                            f"operands"
                        )
                gi = cotangents[i]
            else:
                try:
                    rule = vjps[i]
                except IndexError:  # fewer rules than operands
                    rule = None
                if rule is None:
                    raise missing_rule(prim, i, "VJP")
                gi = rule(g, ans, *rule_args, **kwargs)
            if gi is None:  # the rule's way of saying "identically zero"
                continue
            if gi.__class__ is not np.ndarray or create_graph:
                gi = rule_result(prim, i, "VJP", gi, create_graph)
            if gi.shape != parent._data.shape:
                gi = _summed(prim, i, gi, parent._data.shape, node._data.shape)
            if parent._prim is None and capture is None:
                # A leaf has nothing upstream: accumulate now instead of queueing it.
                # A cotangent passed through unchanged (add) is also someone else's.
                _accumulate_grad(
                    parent, gi.copy() if gi is g and not create_graph else gi, create_graph
                )
                continue
            entry = pending.get(pseq)
            if entry is not None:
                entry[1] = entry[1] + gi
            else:
                pending[pseq] = [parent, gi]
                push(heap, -pseq)
        if not retain_graph:
            if node._watch is None:  # free() inlined for the common case: no leaf locks
                node._args = node._raw = node._kwargs = None
                node._prim = FREED
            else:
                free(node)


def _summed(prim: Any, i: int, gi: Any, shape: tuple, out_shape: tuple) -> Any:
    """Operand i's cotangent summed back to the operand's `shape` (the reverse of
    broadcasting).  A rule may return extra leading axes only where the output has axes
    the operand was broadcast along, and size-1 operand axes only where it broadcast:
    any other shape means a wrong rule."""
    got = gi.shape
    lead = len(got) - len(shape)
    extra = len(out_shape) - len(shape)  # output axes the operand was broadcast along
    if not (
        0 <= lead <= extra
        and got[:lead] == out_shape[extra - lead : extra]
        and all(s == g or s == 1 for s, g in zip(shape, got[lead:], strict=False))
    ):
        raise ValueError(
            f"{prim.name}: the VJP rule for argument {i} returned a cotangent "
            f"of shape {got}, which does not sum back to the argument's shape "
            f"{shape} (the output's shape is {out_shape})"
        )
    return sum_to_shape(gi, shape)


def _owned(g: np.ndarray, given: set) -> np.ndarray:
    """`g`, or a copy of it if the user could otherwise see one array in two places.

    Rules may pass a cotangent through unchanged (add, identity) or as a view
    (reshape), and saved or broadcast arrays are read-only: a gradient handed to the
    user must be a writeable array of its own."""
    if id(g) in given or not g.flags.writeable or g.base is not None:
        return g.copy()
    given.add(id(g))
    return g


def _accumulate_grad(tensor: Tensor, g: Any, create_graph: bool) -> None:
    current = tensor.grad
    if not create_graph:
        if g.__class__ is not np.ndarray:
            g = g._data if isinstance(g, Tensor) else np.asarray(g)
        data = tensor._data
        if g.dtype is not data.dtype and g.dtype != data.dtype:
            g = g.astype(data.dtype)
        if g.shape != data.shape:
            raise RuntimeError(
                f"backward: the gradient has shape {g.shape} but the tensor has "
                f"shape {data.shape} (was .data replaced with the mutation guard "
                f"off?)"
            )
        if current is None:
            if not g.flags.writeable or g.base is not None:  # saved, broadcast or a view
                g = g.copy()
            tensor.grad = g
            return
        if isinstance(current, Tensor):
            current = current._data
    if current is None:
        tensor.grad = g
        return
    if current.shape != tensor._data.shape:
        raise RuntimeError(
            f"backward: .grad has shape {current.shape} but the tensor now has "
            f"shape {tensor._data.shape} (was .data replaced?); call zero_grad() "
            f"before the next backward pass"
        )
    tensor.grad = current + g
