"""Nested containers of arrays ("pytrees"): tuples, lists and dicts, flattened to a list of
leaves and rebuilt.  Lets `grad` and friends take parameter dictionaries.

Written with module-level recursion, not recursive closures: a closure that refers to
itself is a reference cycle, which would keep the leaves (and the graphs they belong to,
with their locked arrays) alive until the cyclic garbage collector runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def flatten(tree: Any) -> tuple[list, Any]:
    """Leaves of `tree` in a fixed order, and a description to rebuild it with `unflatten`."""
    leaves: list = []
    return leaves, _walk(tree, leaves)


def _walk(node: Any, leaves: list) -> Any:
    if isinstance(node, (tuple, list)):
        return (type(node), [_walk(child, leaves) for child in node])
    if isinstance(node, dict):
        return (dict, [(key, _walk(value, leaves)) for key, value in node.items()])
    leaves.append(node)
    return None


def unflatten(treedef: Any, leaves: list) -> Any:
    """Inverse of `flatten`."""
    return _build(treedef, iter(leaves))


def _build(node: Any, it: Iterator) -> Any:
    if node is None:
        return next(it)
    kind, children = node
    if kind is dict:
        return {key: _build(child, it) for key, child in children}
    built = [_build(child, it) for child in children]
    return built if kind is list else kind(built) if kind is tuple else kind(*built)


def tree_map(fun: Callable, tree: Any) -> Any:
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [fun(leaf) for leaf in leaves])
