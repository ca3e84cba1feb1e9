"""Fused neural-network primitives: the affine layer and softmax cross-entropy.

Both could be composed from smaller primitives (matmul, add, log_softmax, indexing,
mean), and give the same derivatives; as single primitives they record one tape node
instead of four, which is most of the cost of a small model's training step, and
their rules use the closed forms (dW = g^T x, dlogits = softmax - onehot).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..batched import Batched
from ..dispatch import primitive, replayed
from ..tensor import Tensor
from .linalg import matmul
from .reductions import mean, softmax
from .reductions import sum as _sum
from .shape_ops import expand_dims, pad_example_axes, repeat_example, reshape, swapaxes


def _shape(x: Any) -> tuple:
    return x.shape if isinstance(x, (np.ndarray, Tensor)) else np.shape(x)


# ----------------------------------------------------------------------- linear
@primitive
def _linear(x, weight, bias):
    """x (..., in) @ weight.T (in, out) + bias (out,) or None -> (..., out)."""
    if x.__class__ is not np.ndarray or weight.__class__ is not np.ndarray:
        x, weight = np.asarray(x), np.asarray(weight)
    xs, ws = x.shape, weight.shape
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        raise ValueError(
            f"linear: input of shape {xs} does not match weight of shape {ws}: "
            f"expected weight (out_features, in_features) and input "
            f"(..., in_features)"
        )
    if (
        bias is not None
        and (bias.shape if bias.__class__ is np.ndarray else np.shape(bias)) != ws[:1]
    ):
        raise ValueError(
            f"linear: bias has shape {np.shape(bias)}, expected ({ws[0]},) for weight {ws}"
        )
    out = np.dot(x, weight.T) if len(xs) == 2 else np.matmul(x, weight.T)
    if bias is not None:
        out += bias
    return out


def _linear_vjp_weight(g, ans, x, weight, bias):
    # the sum over every leading axis of g[..., :, None] * x[..., None, :]
    if x.ndim != 2:
        out_features, in_features = weight.shape
        rows = math.prod(x.shape[:-1])
        g, x = reshape(g, (rows, out_features)), reshape(x, (rows, in_features))
    if g.__class__ is np.ndarray:  # the plain backward pass: BLAS directly
        return np.dot(g.T, x)
    return matmul(g.T, x)


def _linear_vjp_bias(g, ans, x, weight, bias):
    if g.ndim == 1:
        return g
    if g.ndim == 2 and g.__class__ is np.ndarray:
        return np.add.reduce(g, axis=0)
    return g  # the engine sums g back to the bias's shape


def _linear_vjp_input(g, ans, x, weight, bias):
    if g.__class__ is np.ndarray and g.ndim == 2:  # the plain backward pass: BLAS directly
        return np.dot(g, weight)
    return matmul(g, weight)


_linear.defvjp(_linear_vjp_input, _linear_vjp_weight, _linear_vjp_bias)
_linear.defjvp(
    lambda t, ans, x, weight, bias: _linear(t, weight, None),
    lambda t, ans, x, weight, bias: _linear(x, t, None),
    lambda t, ans, x, weight, bias: t,
)  # the engine broadcasts t


def _linear_batch(args, axes):
    x, weight, bias = args
    if axes[1] is None and axes[2] is None:  # shared parameters: one product for the batch
        return _linear(x, weight, bias), 0
    if axes[1] is None:  # only the bias differs per example
        out = _linear(x, weight, None)
        example_ndim = len(_shape(x)) - (axes[0] is not None)
    else:  # per-example weights (B, out, in): a batched matmul, weights on the left
        size = _shape(weight)[0]
        if axes[0] is None:
            x = repeat_example(x, size)
        example_ndim = len(_shape(x)) - 1
        if example_ndim == 1:
            out = reshape(matmul(weight, expand_dims(x, -1)), (size, _shape(weight)[1]))
        else:
            out = swapaxes(
                matmul(pad_example_axes(weight, example_ndim), swapaxes(x, -1, -2)), -1, -2
            )
    if bias is not None:
        out = out + (pad_example_axes(bias, example_ndim) if axes[2] is not None else bias)
    return out, 0


_linear.defbatch(_linear_batch)


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """x @ weight.T + bias (PyTorch's layout): x (..., in), weight (out, in), bias (out,)
    or None -> (..., out)."""
    return _linear(x, weight, bias)  # the forward checks the shapes


# ------------------------------------------------------------ cross-entropy
_REDUCTIONS = ("mean", "sum", "none")


_INT64, _UINT64 = np.dtype(np.int64), np.dtype(np.uint64)


@functools.lru_cache(maxsize=64)
def _rows(n: int) -> np.ndarray:
    """0..n-1, cached: the row index that picks one entry per example."""
    rows = np.arange(n)
    rows.setflags(write=False)
    return rows


@primitive(residual=True)
def _softmax_cross_entropy(logits, *, labels, reduction):
    """Returns the losses and, for the VJP, exp(z) and its row sums (z: shifted logits)."""
    if logits.__class__ is not np.ndarray:
        logits = np.asarray(logits)
    shape = logits.shape
    if len(shape) != 2:
        raise ValueError(f"softmax_cross_entropy: logits must have shape (N, C), got {shape}")
    if labels.dtype.kind not in "iu" or labels.shape != shape[:1]:
        raise ValueError(
            f"softmax_cross_entropy: labels must be ({shape[0]},) integers for "
            f"logits {shape}, got shape {labels.shape} dtype {labels.dtype}"
        )
    n = len(labels)
    if n == 1:  # a scalar check is much cheaper than a reduction
        bad = labels[0] < 0 or labels[0] >= shape[1]
    elif n:  # one reduction: as unsigned numbers, negative labels are huge
        if labels.dtype is _INT64:  # the common case, without building a dtype
            unsigned = labels.view(_UINT64)
        else:
            kind = labels.dtype.str  # byte order kept: ">i4" -> ">u4"
            unsigned = labels if kind[1] == "u" else labels.view(kind.replace("i", "u"))
        bad = np.maximum.reduce(unsigned) >= shape[1]
    if n and bad:
        raise ValueError(
            f"softmax_cross_entropy: labels must lie in [0, {shape[1]}) for "
            f"logits {shape}, got values {labels.min()}..{labels.max()}"
        )
    z = logits - np.maximum.reduce(logits, axis=1, keepdims=True) if n else logits
    picked = z[0, labels[0]] if n == 1 else z[_rows(n), labels]  # batch 1: scalar indexing
    e = np.exp(z)
    sums = np.add.reduce(e, axis=1)
    losses = np.log(sums) - picked
    if reduction == "none":
        out = losses
    elif n == 1:
        out = losses.reshape(())  # the mean and the sum of one loss: an array, not a scalar
    else:
        total = np.add.reduce(losses)
        out = total / n if reduction == "mean" else total  # mean of no examples: nan
    return out, (e, sums)


@functools.lru_cache(maxsize=64)
def _row_starts(n: int, columns: int) -> np.ndarray:
    """0, columns, 2 columns, ...: where each of n rows starts in a flat (n, columns) array."""
    starts = np.arange(n) * columns
    starts.setflags(write=False)
    return starts


def _flat(labels: np.ndarray, columns: int) -> np.ndarray:
    """Each example's label as an index into its flattened (n, columns) logits: one flat
    index costs half as much as a row index and a column index (labels already checked to
    lie in [0, columns), so any integer dtype may be cast)."""
    return np.add(labels, _row_starts(len(labels), columns), dtype=np.intp, casting="unsafe")


def _onehot(labels: np.ndarray, logits: Any) -> np.ndarray:
    out = np.zeros(_shape(logits), dtype=logits.dtype)
    out[_rows(len(labels)), labels] = 1
    return out


def _per_example(g, n, reduction):
    """The cotangent (or tangent) of each example's loss, shaped (n, 1) or a scalar."""
    if reduction == "none":
        return expand_dims(g, 1)
    return g / n if reduction == "mean" and n != 1 else g


def _xent_vjp(g, ans, logits, labels, reduction, residual=None):
    n = len(labels)
    if residual is None:  # rules on Tensors (higher order): the differentiable formula
        d = softmax(logits, axis=1) - _onehot(labels, logits)
        return d * _per_example(g, n, reduction)
    # The plain backward pass: the same formula, in place, from the forward's exp(z).
    e, sums = residual
    d = e / sums if n == 1 else e / sums[:, None]
    if n == 1:  # scalar indexing is ten times cheaper than fancy indexing
        d[0, labels[0]] -= 1
    elif d.flags.c_contiguous:
        d.reshape(-1)[_flat(labels, d.shape[1])] -= 1
    else:
        d[_rows(n), labels] -= 1
    d *= _per_example(g, n, reduction)
    return d


def _xent_jvp(t, ans, logits, labels, reduction, residual=None):
    per = _sum(t * (softmax(logits, axis=1) - _onehot(labels, logits)), axis=1)
    if reduction == "none":
        return per
    return mean(per) if reduction == "mean" else _sum(per)


_softmax_cross_entropy.defvjp(_xent_vjp)
_softmax_cross_entropy.defjvp(_xent_jvp)


@replayed  # per-example labels are traced by ad.jit: record the reshaping
def _row_labels(labels: np.ndarray, rows: tuple) -> np.ndarray:
    return np.broadcast_to(labels, rows).reshape(-1)


def _xent_batch(args, axes, *, labels, reduction, param_axes):
    """The batch's examples' rows become one (B*N, C) problem; its losses are then
    reduced per example."""
    (logits,) = args
    if axes[0] is None:
        logits = repeat_example(logits, _shape(labels)[0])
    shape = _shape(logits)
    if isinstance(labels, Tensor):
        labels = labels._data
    rows = shape[:2] if param_axes["labels"] is not None else (shape[0],) + labels.shape
    losses = _softmax_cross_entropy(
        reshape(logits, (-1, shape[-1])), labels=_row_labels(labels, rows), reduction="none"
    )
    losses = reshape(losses, shape[:2])
    if reduction == "none":
        return losses, 0
    return (mean(losses, axis=1) if reduction == "mean" else _sum(losses, axis=1)), 0


_softmax_cross_entropy.defbatch(_xent_batch, params=("labels",))


def softmax_cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> Any:
    """-log softmax(logits)[i, labels[i]] per example: logits (N, C), labels (N,) integers
    in [0, C) -> (N,) losses, or their mean (default) or sum (a scalar). Stable for any
    finite magnitude; the gradient is (softmax(logits) - onehot(labels)) / N for the mean."""
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"softmax_cross_entropy: reduction must be one of {_REDUCTIONS}, got {reduction!r}"
        )
    if labels.__class__ is not np.ndarray and labels.__class__ is not Batched:
        labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    # the forward checks the shapes and the labels
    return _softmax_cross_entropy(logits, labels=labels, reduction=reduction)
