"""Gradient clipping by global norm."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from autodiff import Tensor


def clip_grad_norm_(
    parameters: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients by min(1, max_norm / total_norm), where total_norm is the
    `norm_type`-norm of all gradients together (as one vector; inf for the max-norm).
    Returns total_norm before clipping (max_norm=inf: nothing is clipped, the norm is only
    measured).  Gradients are replaced, never modified in place."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"clip_grad_norm_: parameters must be Tensors, got {type(p).__name__}")
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(
            f"clip_grad_norm_: max_norm must be a non-negative number, got {max_norm!r}"
        )
    if not max_norm >= 0:
        raise ValueError(
            f"clip_grad_norm_: max_norm must be a non-negative number (inf: no "
            f"clipping), got {max_norm!r}"
        )
    try:
        norm = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError(
            f"clip_grad_norm_: norm_type must be a positive number or inf, got {norm_type!r}"
        ) from None
    if not norm > 0:
        raise ValueError(
            f"clip_grad_norm_: norm_type must be a positive number or inf, got {norm_type!r}"
        )
    norm_type = norm
    grads = [p for p in params if p.grad is not None]
    if not grads:
        return 0.0
    arrays = [
        np.asarray(p.grad.data if isinstance(p.grad, Tensor) else p.grad, np.float64) for p in grads
    ]
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in arrays)
    else:
        total = float(sum(np.sum(np.abs(g) ** norm_type) for g in arrays)) ** (1.0 / norm_type)
    if not math.isfinite(total) and error_if_nonfinite:
        raise RuntimeError(
            f"clip_grad_norm_: the total {norm_type}-norm of the gradients is {total}"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in grads:
            p.grad = p.grad * coef  # a Python float keeps the gradient's dtype
    return total
