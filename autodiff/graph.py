"""A public, read-only view of the recorded graph.

Every tensor computed by a recorded operation is a node: `t.op` names its primitive
(None for a leaf) and `t.inputs` are the operand Tensors it was computed from.  This
module walks those links:

    y = ad.sum(ad.sin(x) * x)
    [t.op for t in ad.graph.nodes(y)]        # [None, 'sin', 'multiply', 'sum']
    print(ad.graph.to_dot(y, names={x: "x", y: "y"}))   # Graphviz text
    print(ad.graph.to_text(y, names={x: "x", y: "y"}))  # the tape, one line per node

The view never changes the graph.  After a backward pass without `retain_graph` a node's
operands are freed: its `op` is then "<freed>" and it has no inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .tensor import Tensor


def operands(t: Tensor) -> tuple:
    """All positional operands `t`'s operation was called with, in order: Tensors and the
    constants (Python scalars, ndarrays) between them.  () for a leaf or a freed node."""
    if not isinstance(t, Tensor):
        raise TypeError(f"graph.operands: expected a Tensor, got {type(t).__name__}")
    args = t._args if t._prim is not None else None
    return tuple(args) if args is not None else ()


def nodes(*outputs: Tensor) -> list[Tensor]:
    """Every tensor the outputs were computed from (leaves and the outputs included), in
    topological order: each tensor comes after all of its inputs."""
    seen: dict[int, Tensor] = {}
    stack = []
    for out in outputs:
        if not isinstance(out, Tensor):
            raise TypeError(f"graph.nodes: expected Tensors, got {type(out).__name__}")
        stack.append(out)
    while stack:
        t = stack.pop()
        if t._seq in seen:
            continue
        seen[t._seq] = t
        stack.extend(t.inputs)
    # A tensor is always created after its operands: creation order is topological.
    return [seen[s] for s in sorted(seen)]


def _constant(a: Any) -> str:
    values = np.asarray(a)
    if values.size == 1:
        return f"{values.item():.6g}" if values.dtype.kind in "fiu" else str(values.item())
    return f"array{values.shape}"


def labels(order: list[Tensor], names: Mapping[Tensor, str] | None = None) -> list[str]:
    """A label for every tensor of `order` (a list from `nodes`): its name in `names`, else
    t1, t2, ... in order (as `to_dot` and `to_text` label them)."""
    given = {id(t): n for t, n in (names or {}).items()}
    out, k = [], 0
    for t in order:
        if id(t) in given:
            out.append(given[id(t)])
        else:
            k += 1
            out.append(f"t{k}")
    return out


def to_text(*outputs: Tensor, names: Mapping[Tensor, str] | None = None) -> str:
    """The graph of `outputs` as a tape listing: one line per tensor in topological order
    (column "#": its position in `nodes`), with its label, operation and operands (labels,
    or the constants' values), value and adjoint (`.grad`) when it has one element (else
    its shape).  A backward pass visits the lines bottom-up."""
    order = nodes(*outputs)
    label_of = {id(t): lab for t, lab in zip(order, labels(order, names), strict=True)}

    def operand(a: Any) -> str:
        return label_of[id(a)] if isinstance(a, Tensor) else _constant(a)

    def number(x: Any) -> str:
        return f"{np.asarray(x).item():.10g}" if x is not None and np.size(x) == 1 else "-"

    lines = [f"{'#':>4}  {'node':<4}  {'operation':<28}  {'value':>14}  {'adjoint':>18}"]
    for i, t in enumerate(order):
        op = "input" if t.op is None else f"{t.op}({', '.join(map(operand, operands(t)))})"
        value = f"{t.item():.8g}" if t.size == 1 else f"shape {t.shape}"
        lines.append(f"{i:>4}  {label_of[id(t)]:<4}  {op:<28}  {value:>14}  {number(t.grad):>18}")
    return "\n".join(lines)


def to_dot(*outputs: Tensor, names: Mapping[Tensor, str] | None = None, values: bool = True) -> str:
    """The graph of `outputs` as Graphviz DOT text (render: `dot -Tpng g.dot -o g.png`).

    One box per tensor, labelled "name = op (constants)", with its value when it has
    one element and its `.grad` when set; arrows run from operands to results.  `names`
    maps tensors to labels (others get t1, t2, ...)."""
    order = nodes(*outputs)
    label = {id(t): lab for t, lab in zip(order, labels(order, names), strict=True)}
    lines = ["digraph autodiff {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    index = {id(t): i for i, t in enumerate(order)}
    for t in order:
        op = "input" if t.op is None else t.op
        consts = [_constant(a) for a in operands(t) if not isinstance(a, Tensor)]
        text = f"{label[id(t)]} = {op}" + (f" (const {', '.join(consts)})" if consts else "")
        if values and t.size == 1:
            text += f"\\nvalue {t.item():.6g}"
            if t.grad is not None and np.size(t.grad) == 1:
                text += f"\\nadjoint {float(np.asarray(t.grad).reshape(())):.6g}"
        elif values:
            text += f"\\nshape {t.shape} {t.dtype}"
        lines.append(f'  n{index[id(t)]} [label="{text}"];')
    for t in order:
        for a in t.inputs:
            lines.append(f"  n{index[id(a)]} -> n{index[id(t)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"
