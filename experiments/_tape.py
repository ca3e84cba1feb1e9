"""A matplotlib drawing of a recorded graph (the tape), on the engine's public graph view
`autodiff.graph`; the text forms are the engine's own (`ad.graph.to_text`, `to_dot`).
Used by `experiments.ad_modes`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import autodiff as ad
from experiments.common import new_figure

COLOURS = {"input": "#cfe2ff", "op": "#f3f3f3", "output": "#ffe0b3"}


def _constants(node: ad.Tensor) -> list[str]:
    """The constant (non-Tensor) operands of a node's operation, formatted."""
    return [
        f"{float(np.asarray(a)):.6g}"
        for a in ad.graph.operands(node)
        if not isinstance(a, ad.Tensor)
    ]


def layout(nodes: list[ad.Tensor]) -> dict[int, tuple[float, float]]:
    """Positions (column, row) of the nodes (topological order, as `ad.graph.nodes` gives
    them) by index: columns by depth (longest path from the inputs), each column centred."""
    index = {id(node): i for i, node in enumerate(nodes)}
    depth: list[int] = []
    for node in nodes:  # parents come first
        ps = [index[id(a)] for a in node.inputs]
        depth.append(1 + max(depth[p] for p in ps) if ps else 0)
    columns: dict[int, list[int]] = {}
    for i, d in enumerate(depth):
        columns.setdefault(d, []).append(i)
    return {
        i: (d, (len(members) - 1) / 2.0 - row)
        for d, members in columns.items()
        for row, i in enumerate(members)
    }


def draw_graph(output: ad.Tensor, names: Mapping[ad.Tensor, str], title: str) -> Any:
    """A figure of the graph of the scalar `output` after a backward pass that kept it: one
    box per node (label, operation and constants, value, adjoint .grad), arrows from
    operands to results.  `names` labels tensors (others are t1, t2, ... as in to_dot)."""
    from matplotlib.patches import Patch

    nodes = ad.graph.nodes(output)
    labels = ad.graph.labels(nodes, names)
    index = {id(node): i for i, node in enumerate(nodes)}
    pos = layout(nodes)
    fig, axes = new_figure(size=(13.0, 5.0))
    ax = axes[0][0]
    boxes = []
    for i, node in enumerate(nodes):
        kind = "input" if node.is_leaf else "output" if node is output else "op"
        consts = _constants(node)
        text = (
            f"{labels[i]} = {node.op or 'input'}"
            + (f" ({', '.join(consts)})" if consts else "")
            + f"\nvalue {float(node.data):.4g}\nadjoint {float(node.grad):.4g}"
        )
        bbox = dict(boxstyle="round,pad=0.4", fc=COLOURS[kind], ec="#444444")
        boxes.append(ax.text(*pos[i], text, ha="center", va="center", fontsize=8, bbox=bbox))
    fig.canvas.draw()  # lay the boxes out, so that arrows can be clipped at their edges
    for i, node in enumerate(nodes):
        for p in (index[id(a)] for a in node.inputs):
            arrow = dict(
                arrowstyle="->",
                color="#555555",
                shrinkA=3,
                shrinkB=3,
                patchA=boxes[p].get_bbox_patch(),
                patchB=boxes[i].get_bbox_patch(),
            )
            ax.annotate("", xy=pos[i], xytext=pos[p], arrowprops=arrow)
    columns = sorted({x for x, _ in pos.values()})
    ax.set_xlim(-0.6, max(columns) + 0.6)
    ax.set_ylim(-1.8, 1.8)
    ax.set_yticks([])
    ax.set_xticks(columns)
    ax.set_xlabel("depth in the graph (longest path from the inputs)")
    ax.set_title(title)
    ax.legend(
        handles=[
            Patch(fc=COLOURS["input"], ec="#444444", label="input (leaf)"),
            Patch(fc=COLOURS["op"], ec="#444444", label="recorded operation"),
            Patch(fc=COLOURS["output"], ec="#444444", label=f"output {names.get(output, '')}"),
        ],
        loc="lower right",
        fontsize=8,
    )
    return fig
