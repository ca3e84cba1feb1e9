"""Loss functions and their Module wrappers.

Every loss takes `reduction`: "mean" (default), "sum" or "none" (the per-element or
per-sample losses).  Targets are converted to the input's dtype (Tensors with ad.astype,
so derivatives with respect to them survive), so float32 stays float32.
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


def _as_input(x: Any, op: str) -> Any:
    if not isinstance(x, Tensor):
        x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    return x


def _as_target(target: Any, input: Any, op: str) -> Any:
    """A target of the input's shape and dtype.  A Tensor stays a Tensor (cast with
    ad.astype if needed), so derivatives with respect to the target flow in reverse and
    forward mode alike."""
    if isinstance(target, Tensor):
        t = target if target.dtype == input.dtype else ad.astype(target, input.dtype)
    else:
        t = np.asarray(target.data if isinstance(target, Tensor) else target, dtype=input.dtype)
    if t.shape != input.shape:
        raise ValueError(
            f"{op}: input shape {input.shape} and target shape {t.shape} differ "
            f"(they must be equal; reshape one of them)"
        )
    return t


def _class_targets(input: Any, target: Any, op: str) -> np.ndarray:
    """Validate (N, C) scores and (N,) integer labels in [0, C); return the labels."""
    if input.ndim != 2:
        raise ValueError(
            f"{op}: expected input of shape (N, C) (a batch of class scores), got "
            f"shape {input.shape}"
        )
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {labels.dtype}")
    n, c = input.shape
    if labels.shape != (n,):
        raise ValueError(
            f"{op}: target must have shape ({n},) to match input {input.shape}, got {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        bad = labels[(labels < 0) | (labels >= c)]
        raise ValueError(
            f"{op}: class indices must lie in [0, {c}) for input {input.shape}, "
            f"found {bad[:5].tolist()}"
        )
    return labels


def _numbers(value: Any, dtype: Any, op: str, name: str) -> np.ndarray:
    """A weight-like argument as a constant array of `dtype` (a copy)."""
    if isinstance(value, str):
        raise TypeError(
            f"{op}: {name} must be an array of numbers, got the string {value!r} "
            f"(pass reduction= by keyword)"
        )
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise TypeError(f"{op}: {name} must hold real numbers, got dtype {array.dtype}")
    return array.astype(dtype)


def _class_weight(weight: Any, input: Any, op: str) -> np.ndarray | None:
    """weight (C,) as a constant of the input's dtype, or None."""
    if weight is None:
        return None
    w = _numbers(weight, input.dtype, op, "weight")
    if w.shape != input.shape[1:]:
        raise ValueError(
            f"{op}: weight must have shape ({input.shape[1]},), one weight per "
            f"class of input {input.shape}, got {w.shape}"
        )
    return w


def _broadcastable(value: Any, input: Any, op: str, name: str) -> np.ndarray:
    """`value` as a constant of the input's dtype that broadcasts to the input's shape."""
    array = _numbers(value, input.dtype, op, name)
    try:
        ok = np.broadcast_shapes(array.shape, input.shape) == input.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op}: {name} of shape {array.shape} does not broadcast to the "
            f"input's shape {input.shape}"
        )
    return array


@ad.replayed  # labels may be traced by ad.jit: the weights they pick are picked per call
def _picked(weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return weights[labels]


@ad.replayed
def _total(weights: np.ndarray) -> Any:
    return np.sum(weights)


def _weighted_reduce(per: Any, weights: np.ndarray | None, reduction: str) -> Any:
    """Reduce per-sample losses; a weighted "mean" divides by the total weight."""
    if reduction == "mean" and weights is not None:
        return ad.sum(per) / _total(weights)
    return _reduce(per, reduction)


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


def nll_loss(input: Any, target: Any, weight: Any = None, *, reduction: str = "mean") -> Any:
    """Negative log-likelihood: input (N, C) log-probabilities, target (N,) integer labels ->
    -weight[y_i] * input[i, y_i] per sample (weight (C,) per-class weights, default ones).

    "mean" divides the sum by the total weight of the targets, sum_i weight[y_i] (PyTorch's
    weighted mean; the plain mean without weights)."""
    op = "nll_loss"
    _check_reduction(reduction, op)
    input = _as_input(input, op)
    labels = _class_targets(input, target, op)
    w = _class_weight(weight, input, op)
    picked = -ad.getitem(input, index=(np.arange(labels.shape[0]), labels))
    if w is None:
        return _reduce(picked, reduction)
    w_picked = _picked(w, labels)
    return _weighted_reduce(picked * w_picked, w_picked, reduction)


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    *,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Any:
    """Softmax cross-entropy from logits: input (N, C) unnormalised scores, target (N,)
    integer labels; stable for logits of any magnitude.

    With log-probabilities p = log_softmax(input), class weights w (C,) (constants, default
    ones) and label smoothing e in [0, 1] (the target distribution (1 - e) onehot + e / C),
    the per-sample loss is, as in PyTorch,
        l_i = (1 - e) * w[y_i] * (-p[i, y_i]) + (e / C) * sum_c w[c] * (-p[i, c])
    and "mean" is sum_i l_i / sum_i w[y_i] (the plain mean without weights).  Without
    weights or smoothing it is the fused primitive ad.softmax_cross_entropy (one tape
    node)."""
    op = "cross_entropy"
    _check_reduction(reduction, op)
    input = _as_input(input, op)
    labels = _class_targets(input, target, op)
    w = _class_weight(weight, input, op)
    if (
        not isinstance(label_smoothing, (int, float, np.integer, np.floating))
        or not 0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(
            f"{op}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}"
        )
    eps = float(label_smoothing)
    if w is None and eps == 0.0:
        return ad.softmax_cross_entropy(input, labels, reduction)
    w_picked = None if w is None else _picked(w, labels)
    if eps == 0.0:
        per = ad.softmax_cross_entropy(input, labels, "none") * w_picked
    else:
        log_p = ad.log_softmax(input, axis=1)
        picked = -ad.getitem(log_p, index=(np.arange(labels.shape[0]), labels))
        smooth = -ad.sum(log_p if w is None else log_p * w, axis=1)
        if w is not None:
            picked = picked * w_picked
        per = picked * (1.0 - eps) + smooth * (eps / input.shape[1])
    return _weighted_reduce(per, w_picked, reduction)


def binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None
) -> Any:
    """-w [pw * y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] for logits x and targets y in
    [0, 1] of the same shape, computed stably (softplus(x) - x*y without pos_weight).

    weight (w) broadcasts to the input's shape and rescales each element; pos_weight (pw),
    typically (C,) for input (N, C), weighs the positive term of each class.  "mean" is the
    plain mean over elements (as in PyTorch, weights do not change the divisor)."""
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    input = _as_input(input, op)
    y = _as_target(target, input, op)
    y_data = y.data if isinstance(y, Tensor) else y
    if y_data.size and (y_data.min() < 0 or y_data.max() > 1):
        raise ValueError(
            f"{op}: targets must lie in [0, 1], got values in [{y_data.min()}, {y_data.max()}]"
        )
    if pos_weight is None:
        loss = ad.softplus(input) - input * y
    else:
        pw = _broadcastable(pos_weight, input, op, "pos_weight")
        # (1 - y) x + (1 + (pw - 1) y) softplus(-x), which is PyTorch's stable form
        loss = (1.0 - y) * input + (1.0 + (pw - 1.0) * y) * ad.softplus(-input)
    if weight is not None:
        loss = loss * _broadcastable(weight, input, op, "weight")
    return _reduce(loss, reduction)


def _check_delta(delta: Any, op: str) -> float:
    if (
        isinstance(delta, bool)
        or not isinstance(delta, (int, float, np.integer, np.floating))
        or not 0.0 < delta < np.inf
    ):
        raise ValueError(f"{op}: delta must be a positive finite number, got {delta!r}")
    return float(delta)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:
    """With d = input - target (same shapes): 0.5 d^2 where |d| < delta, and
    delta (|d| - 0.5 delta) elsewhere (quadratic near 0, linear beyond delta; continuous
    with a continuous first derivative), per element, then reduced."""
    op = "huber_loss"
    _check_reduction(reduction, op)
    delta = _check_delta(delta, op)
    input = _as_input(input, op)
    d = input - _as_target(target, input, op)
    a = ad.abs(d)
    inside = a < delta  # a comparison of the engine: ad.jit records it
    return _reduce(ad.where(inside, 0.5 * (d * d), delta * (a - 0.5 * delta)), reduction)


def hinge_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """max(0, 1 - y f) for scores f and labels y in {-1, +1} of the same shape."""
    _check_reduction(reduction, "hinge_loss")
    input = _as_input(input, "hinge_loss")
    y = _as_target(target, input, "hinge_loss")
    y_data = y.data if isinstance(y, Tensor) else y
    if not np.all((y_data == 1) | (y_data == -1)):
        raise ValueError(
            f"hinge_loss: labels must be -1 or +1, got values {np.unique(y_data)[:5].tolist()}"
        )
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


def _weight_buffer(value: Any, op: str, name: str) -> np.ndarray | None:
    """A loss module's weight argument as a buffer array (floating point), or None."""
    if value is None:
        return None
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    return _numbers(
        value, array.dtype if np.issubdtype(array.dtype, np.floating) else np.float64, op, name
    )


class _WeightedLoss(_Loss):
    """A loss with optional weights, kept as the buffer `weight` (saved by state_dict and
    cast by to(), as in PyTorch)."""

    def __init__(self, weight: Any = None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _weight_buffer(weight, type(self).__name__, "weight"))

    def forward(self, input: Any, target: Any) -> Any:
        return type(self)._fn(input, target, self.weight, reduction=self.reduction)


class MSELoss(_Loss):
    """Module form of `mse_loss`."""

    _fn = staticmethod(mse_loss)


class HalfMSELoss(_Loss):
    """Module form of `half_mse_loss` (the 1/(2n) convention)."""

    _fn = staticmethod(half_mse_loss)


class CrossEntropyLoss(_WeightedLoss):
    """Module form of `cross_entropy` (logits (N, C), integer labels (N,)):
    `CrossEntropyLoss(weight=None, reduction="mean", label_smoothing=0.0)`."""

    _fn = staticmethod(cross_entropy)

    def __init__(
        self, weight: Any = None, *, reduction: str = "mean", label_smoothing: float = 0.0
    ):
        super().__init__(weight, reduction=reduction)
        if (
            not isinstance(label_smoothing, (int, float, np.integer, np.floating))
            or not 0.0 <= label_smoothing <= 1.0
        ):
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be a number in [0, 1], "
                f"got {label_smoothing!r}"
            )
        self.label_smoothing = float(label_smoothing)

    def forward(self, input: Any, target: Any) -> Any:
        return cross_entropy(
            input,
            target,
            self.weight,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", label_smoothing={self.label_smoothing}" if self.label_smoothing else "")


class NLLLoss(_WeightedLoss):
    """Module form of `nll_loss` (log-probabilities (N, C), integer labels (N,)):
    `NLLLoss(weight=None, reduction="mean")`."""

    _fn = staticmethod(nll_loss)


class BCEWithLogitsLoss(_WeightedLoss):
    """Module form of `binary_cross_entropy_with_logits`:
    `BCEWithLogitsLoss(weight=None, reduction="mean", pos_weight=None)`; weight and
    pos_weight are buffers."""

    _fn = staticmethod(binary_cross_entropy_with_logits)

    def __init__(self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None):
        super().__init__(weight, reduction=reduction)
        self.register_buffer(
            "pos_weight", _weight_buffer(pos_weight, "BCEWithLogitsLoss", "pos_weight")
        )

    def forward(self, input: Any, target: Any) -> Any:
        return binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class HingeLoss(_Loss):
    """Module form of `hinge_loss` (labels in {-1, +1})."""

    _fn = staticmethod(hinge_loss)


class HuberLoss(_Loss):
    """Module form of `huber_loss`: `HuberLoss(reduction="mean", delta=1.0)`."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = _check_delta(delta, "HuberLoss")

    def forward(self, input: Any, target: Any) -> Any:
        return huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, delta={self.delta}"
