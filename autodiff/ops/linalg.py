"""Products: matmul (numpy semantics: 1-D, 2-D and broadcast batches), dot, outer, einsum."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..dispatch import broadcast_to, primitive
from ..tensor import Tensor
from .shape_ops import expand_dims, pad_example_axes, reshape, squeeze, swapaxes


def _ndim(x: Any) -> int:
    return x.ndim if isinstance(x, (np.ndarray, Tensor)) else np.ndim(x)


@primitive
def matmul(a, b):
    """a @ b with numpy semantics: (..., n, k) @ (..., k, m) -> (..., n, m); 1-D operands
    are promoted to a row (a) or column (b) vector and the added axis is removed."""
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if a_ndim == 0 or b_ndim == 0:
        raise ValueError(
            f"matmul: operands must be at least 1-D, got shapes {np.shape(a)} @ {np.shape(b)}"
        )
    if a_ndim == 2 and b_ndim == 2:
        if a.shape[1] != b.shape[0]:
            raise ValueError(
                f"matmul: shapes {a.shape} @ {b.shape} do not match: the inner "
                f"dimensions {a.shape[1]} and {b.shape[0]} differ"
            )
        return np.dot(a, b)  # BLAS gemm also for the transposed operands of the backward pass
    try:
        return np.matmul(a, b)
    except ValueError:
        raise ValueError(
            f"matmul: shapes {np.shape(a)} @ {np.shape(b)} do not match (inner "
            f"dimensions must agree and batch dimensions must broadcast)"
        ) from None


def _mT(x):
    return swapaxes(x, -1, -2)


def _promote(g, a, b):
    """Matrix forms of a matmul with 1-D operands: a -> (1, k), b -> (k, 1), and the
    cotangent g with the axes that numpy removed put back."""
    if _ndim(b) == 1:
        g = expand_dims(g, -1)
        b = reshape(b, (-1, 1))
    if _ndim(a) == 1:
        g = expand_dims(g, -2)
        a = reshape(a, (1, -1))
    return g, a, b


def _plain_matrix_vector(g, a, b) -> bool:
    """A (n, k) @ (k,) product in the plain backward pass (arrays, not Tensors): its rules
    then call numpy directly, the same products as the general path without its dispatch."""
    return (
        g.__class__ is np.ndarray
        and a.__class__ is np.ndarray
        and b.__class__ is np.ndarray
        and a.ndim == 2
        and b.ndim == 1
    )


def _matmul_vjp_a(g, ans, a, b):
    if _ndim(a) == 2 and _ndim(b) == 2:
        return matmul(g, b.T)
    if _plain_matrix_vector(g, a, b):  # the outer product g b^T
        return np.multiply(g[:, None], b[None, :])
    g2, a2, b2 = _promote(g, a, b)
    # a contraction over one element is an outer product: numpy's matmul would take a slow
    # non-BLAS path for it (per-example gradients under vmap hit this case)
    ga = g2 * _mT(b2) if g2.shape[-1] == 1 else matmul(g2, _mT(b2))
    return squeeze(ga, -2) if _ndim(a) == 1 else ga  # batch axes are summed by the engine


def _matmul_vjp_b(g, ans, a, b):
    if _ndim(a) == 2 and _ndim(b) == 2:
        return matmul(a.T, g)
    if _plain_matrix_vector(g, a, b):  # a^T g
        g2 = g[:, None]
        return (a.T * g2 if len(g) == 1 else np.dot(a.T, g2))[:, 0]
    g2, a2, b2 = _promote(g, a, b)
    gb = _mT(a2) * g2 if g2.shape[-2] == 1 else matmul(_mT(a2), g2)  # (see _matmul_vjp_a)
    return squeeze(gb, -1) if _ndim(b) == 1 else gb


matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b)
matmul.defjvp(lambda t, ans, a, b: matmul(t, b), lambda t, ans, a, b: matmul(a, t))


def _matmul_batch(args, axes):
    """Batched operands hold the batch along axis 0; numpy's matmul broadcasts leading
    axes, so a batched matrix operand only needs size-1 axes after the batch axis to line
    up with the other operand; 1-D (vector) examples are made matrices and back."""
    a, b = args
    a_batched, b_batched = axes[0] is not None, axes[1] is not None
    da, db = _ndim(a) - a_batched, _ndim(b) - b_batched
    if a_batched and not b_batched and db == 2 and da >= 2:
        # (B, ..., n, k) @ (k, m): one large product with the batch folded into the rows
        shape = a.shape
        out = matmul(reshape(a, (math.prod(shape[:-1]), shape[-1])), b)
        return reshape(out, shape[:-1] + (b.shape[-1],)), 0
    if not b_batched:  # a batched: a vector example, or matrices, against b
        if da == 1 and db > 2:
            return squeeze(matmul(pad_example_axes(expand_dims(a, -2), db), b), -2), 0
        return matmul(pad_example_axes(a, db) if da >= 2 else a, b), 0
    if not a_batched:  # b batched
        if db == 1:  # a (..., n, k) @ b_e (k,) for every example: a @ b.T, batch last
            return matmul(a, swapaxes(b, -1, -2)) if da >= 2 else matmul(b, a), (
                -1 if da >= 2 else 0
            )
        return matmul(a, pad_example_axes(b, da)), 0
    # both batched
    if da == 1 and db == 1:
        return reshape(matmul(expand_dims(a, 1), expand_dims(b, 2)), (a.shape[0],)), 0
    if da == 1:
        return squeeze(matmul(pad_example_axes(expand_dims(a, -2), db), b), -2), 0
    if db == 1:
        return squeeze(matmul(a, pad_example_axes(expand_dims(b, -1), da)), -1), 0
    return matmul(pad_example_axes(a, db), pad_example_axes(b, da)), 0


matmul.defbatch(_matmul_batch)


def dot(a: Any, b: Any) -> Any:
    """numpy.dot for operands of at most 2 dimensions (scalars multiply)."""
    if _ndim(a) == 0 or _ndim(b) == 0:
        return a * b
    if _ndim(a) > 2 or _ndim(b) > 2:
        raise ValueError(
            "dot: operands with more than 2 dimensions are not supported; use "
            "matmul (batched) or einsum"
        )
    return matmul(a, b)


def outer(a: Any, b: Any) -> Any:
    """numpy.outer: flattened a (m,) and b (n,) -> (m, n)."""
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


# ------------------------------------------------------------------------ einsum
def _parse_einsum(subscripts: str, n_operands: int) -> tuple[list[str], str]:
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ValueError("einsum: ellipsis ('...') is not supported; write the axes out")
    if "->" in spec:
        inputs, output = spec.split("->")
    else:
        inputs = spec
        letters = inputs.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = inputs.split(",")
    if len(ins) != n_operands:
        raise ValueError(
            f"einsum: subscripts {subscripts!r} name {len(ins)} operands but "
            f"{n_operands} were given"
        )
    return ins, output


@primitive
def _einsum(*operands, subscripts):
    """`subscripts` = (input subscripts, output subscript, the full spec string)."""
    return np.einsum(subscripts[2], *operands, optimize=len(operands) > 2)


def _einsum_vjp(i, g, ans, *operands, subscripts):
    ins, out = subscripts[0], subscripts[1]
    target = ins[i]
    if len(set(target)) != len(target):
        raise NotImplementedError(
            f"einsum: the derivative for an operand with a repeated "
            f"index ({target!r}) is not supported"
        )
    others = [op for j, op in enumerate(operands) if j != i]
    other_subs = [s for j, s in enumerate(ins) if j != i]
    available = set(out).union(*other_subs) if other_subs else set(out)
    kept = "".join(c for c in target if c in available)
    spec = ",".join([out] + other_subs) + "->" + kept
    grad = _einsum(g, *others, subscripts=(tuple([out] + other_subs), kept, spec))
    if kept != target:  # indices summed out inside operand i alone: broadcast back
        shape = tuple(operands[i].shape[target.index(c)] if c in kept else 1 for c in target)
        grad = reshape(grad, shape)
        grad = broadcast_to(grad, shape=operands[i].shape)
    return grad


def _einsum_jvp(i, t, ans, *operands, subscripts):
    ins, out, spec = subscripts
    args = list(operands)
    args[i] = t
    return _einsum(*args, subscripts=subscripts)


_einsum.defvjp_argnum(_einsum_vjp)
_einsum.defjvp_argnum(_einsum_jvp)


def _einsum_batch(args, axes, *, subscripts):
    # the batch gets an index letter of its own, in front of each batched operand's
    # subscript and of the output's
    ins, out, spec = subscripts
    letter = next(
        c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in spec
    )
    new_ins = tuple(
        letter + sub if ax is not None else sub for sub, ax in zip(ins, axes, strict=False)
    )
    new_out = letter + out
    new_spec = ",".join(new_ins) + "->" + new_out
    return _einsum(*args, subscripts=(new_ins, new_out, new_spec)), 0


_einsum.defbatch(_einsum_batch)


def einsum(subscripts: str, *operands: Any) -> Any:
    """numpy.einsum with explicit or implicit output (no ellipsis)."""
    ins, out = _parse_einsum(subscripts, len(operands))
    for sub, op in zip(ins, operands, strict=False):
        if len(sub) != _ndim(op):
            raise ValueError(
                f"einsum: subscript {sub!r} has {len(sub)} indices but its operand "
                f"has shape {op.shape if hasattr(op, 'shape') else np.shape(op)}"
            )
    spec = ",".join(ins) + "->" + out
    return _einsum(*operands, subscripts=(tuple(ins), out, spec))
