"""Loss functions and their Module wrappers.

Every loss takes `reduction`: "mean" (default), "sum" or "none" (the per-element or
per-sample losses).  Targets that are not Tensors requiring grad are converted to the
input's dtype, so float32 stays float32.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor

from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        return ad.mean(loss)
    if reduction == "sum":
        return ad.sum(loss)
    return loss


def _dtype(x: Any) -> np.dtype:
    return x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.result_type(x)


def _as_input(x: Any, op: str) -> Any:
    if not isinstance(x, Tensor):
        x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    return x


def _as_target(target: Any, input: Any, op: str) -> Any:
    """A target of the input's shape and dtype (a Tensor that requires grad is kept)."""
    if isinstance(target, Tensor) and target.requires_grad:
        t = target
    else:
        t = np.asarray(target.data if isinstance(target, Tensor) else target, dtype=input.dtype)
    if t.shape != input.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {t.shape} differ "
                         f"(they must be equal; reshape one of them)")
    return t


def _class_targets(input: Any, target: Any, op: str) -> np.ndarray:
    """Validate (N, C) scores and (N,) integer labels in [0, C); return the labels."""
    if input.ndim != 2:
        raise ValueError(f"{op}: expected input of shape (N, C) (a batch of class scores), got "
                         f"shape {input.shape}")
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{op}: target must hold integer class indices, got dtype "
                        f"{labels.dtype}")
    n, c = input.shape
    if labels.shape != (n,):
        raise ValueError(f"{op}: target must have shape ({n},) to match input {input.shape}, "
                         f"got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        bad = labels[(labels < 0) | (labels >= c)]
        raise ValueError(f"{op}: class indices must lie in [0, {c}) for input {input.shape}, "
                         f"found {bad[:5].tolist()}")
    return labels


def _picked_nll(log_probs: Any, labels: np.ndarray, reduction: str) -> Any:
    picked = ad.getitem(log_probs, index=(np.arange(labels.shape[0]), labels))
    return _reduce(-picked, reduction)


# ------------------------------------------------------------------- losses
def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """(input - target)^2, averaged over all elements ("mean"), summed, or per element."""
    _check_reduction(reduction, "mse_loss")
    input = _as_input(input, "mse_loss")
    diff = input - _as_target(target, input, "mse_loss")
    return _reduce(diff * diff, reduction)


def half_mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """The 1/(2n) convention: 0.5 * mse_loss, i.e. (1/(2n)) sum_i (y_i - yhat_i)^2 with
    "mean" (its gradient is (yhat - y)/n).  Used in 000_1157cdecf8ac0012.txt."""
    _check_reduction(reduction, "half_mse_loss")
    return mse_loss(input, target, reduction) * 0.5


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Negative log-likelihood: input (N, C) log-probabilities, target (N,) integer labels ->
    -input[i, target[i]] per sample."""
    _check_reduction(reduction, "nll_loss")
    input = _as_input(input, "nll_loss")
    return _picked_nll(input, _class_targets(input, target, "nll_loss"), reduction)


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Softmax cross-entropy from logits: input (N, C) unnormalised scores, target (N,)
    integer labels.  Equal to nll_loss(log_softmax(input)), computed by the fused primitive
    ad.softmax_cross_entropy (one tape node), stable for any magnitude."""
    _check_reduction(reduction, "cross_entropy")
    input = _as_input(input, "cross_entropy")
    return ad.softmax_cross_entropy(input, _class_targets(input, target, "cross_entropy"),
                                    reduction)


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Any:
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] for logits x and targets y in [0, 1]
    of the same shape, computed stably as softplus(x) - x*y."""
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    input = _as_input(input, op)
    y = _as_target(target, input, op)
    y_data = y.data if isinstance(y, Tensor) else y
    if y_data.size and (y_data.min() < 0 or y_data.max() > 1):
        raise ValueError(f"{op}: targets must lie in [0, 1], got values in "
                         f"[{y_data.min()}, {y_data.max()}]")
    return _reduce(ad.softplus(input) - input * y, reduction)


def hinge_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """max(0, 1 - y f) for scores f and labels y in {-1, +1} of the same shape."""
    _check_reduction(reduction, "hinge_loss")
    input = _as_input(input, "hinge_loss")
    y = _as_target(target, input, "hinge_loss")
    y_data = y.data if isinstance(y, Tensor) else y
    if not np.all((y_data == 1) | (y_data == -1)):
        raise ValueError(f"hinge_loss: labels must be -1 or +1, got values "
                         f"{np.unique(y_data)[:5].tolist()}")
    return _reduce(ad.relu(1 - input * y), reduction)


# -------------------------------------------------------------- modules
class _Loss(Module):
    _fn: Any = None

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        _check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Any:
        return type(self)._fn(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Module form of `mse_loss`."""
    _fn = staticmethod(mse_loss)


class HalfMSELoss(_Loss):
    """Module form of `half_mse_loss` (the 1/(2n) convention)."""
    _fn = staticmethod(half_mse_loss)


class CrossEntropyLoss(_Loss):
    """Module form of `cross_entropy` (logits (N, C), integer labels (N,))."""
    _fn = staticmethod(cross_entropy)


class NLLLoss(_Loss):
    """Module form of `nll_loss`."""
    _fn = staticmethod(nll_loss)


class BCEWithLogitsLoss(_Loss):
    """Module form of `binary_cross_entropy_with_logits`."""
    _fn = staticmethod(binary_cross_entropy_with_logits)


class HingeLoss(_Loss):
    """Module form of `hinge_loss` (labels in {-1, +1})."""
    _fn = staticmethod(hinge_loss)
