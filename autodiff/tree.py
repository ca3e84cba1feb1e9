"""Nested containers of arrays ("pytrees"): tuples, lists and dicts, flattened to a list of
leaves and rebuilt.  Lets `grad` and friends take parameter dictionaries."""
from __future__ import annotations

from typing import Any, Callable


def flatten(tree: Any) -> tuple[list, Any]:
    """Leaves of `tree` in a fixed order, and a description to rebuild it with `unflatten`."""
    leaves: list = []

    def walk(node: Any) -> Any:
        if isinstance(node, (tuple, list)):
            return (type(node), [walk(child) for child in node])
        if isinstance(node, dict):
            return (dict, [(key, walk(value)) for key, value in node.items()])
        leaves.append(node)
        return None

    return leaves, walk(tree)


def unflatten(treedef: Any, leaves: list) -> Any:
    """Inverse of `flatten`."""
    it = iter(leaves)

    def build(node: Any) -> Any:
        if node is None:
            return next(it)
        kind, children = node
        if kind is dict:
            return {key: build(child) for key, child in children}
        built = [build(child) for child in children]
        return built if kind is list else kind(built) if kind is tuple else kind(*built)

    return build(treedef)


def tree_map(fun: Callable, tree: Any) -> Any:
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [fun(leaf) for leaf in leaves])
