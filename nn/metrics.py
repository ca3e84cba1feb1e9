"""Evaluation metrics on plain values (no gradients): accuracy and the sign-based
misclassification error of 000_1157cdecf8ac0012.txt."""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff import Tensor


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def accuracy(output: Any, target: Any) -> float:
    """Fraction of correct predictions.  output: class scores (N, C) (the argmax is the
    prediction) or predicted labels (N,); target: labels (N,)."""
    out, labels = _array(output), _array(target)
    if out.ndim == labels.ndim + 1:
        out = out.argmax(axis=-1)
    if out.shape != labels.shape:
        raise ValueError(
            f"accuracy: predictions of shape {out.shape} (from output "
            f"{_array(output).shape}) do not match targets of shape {labels.shape}"
        )
    if labels.size == 0:
        raise ValueError("accuracy: no samples")
    return float(np.mean(out == labels))


def misclassification_error(output: Any, target: Any) -> float:
    """Mean of 1{sign(y) != sign(yhat)} for real-valued outputs and targets in {-1, +1} of the
    same shape.  An output of exactly 0 counts as an error (no tie-breaking)."""
    out, y = _array(output), _array(target)
    if out.shape != y.shape:
        raise ValueError(
            f"misclassification_error: output shape {out.shape} and target shape {y.shape} differ"
        )
    if y.size == 0:
        raise ValueError("misclassification_error: no samples")
    return float(np.mean(np.sign(out) != np.sign(y)))
