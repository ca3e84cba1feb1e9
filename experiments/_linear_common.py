"""Small helpers shared by the linear-network experiments (linear_networks,
quadratic_activation, min_norm_least_squares, autoencoders): full-batch gradient descent
on a parameter dictionary with a loss history, two error measures, and a plotting helper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
from optim import functional as fopt


def gradient_descent(
    loss: Callable[..., Any],
    params: dict[str, np.ndarray],
    lr: float,
    steps: int,
    *args: Any,
    stop: Callable[[float], bool] | None = None,
    desc: str | None = None,
    callback: Callable[[dict[str, np.ndarray]], None] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Plain full-batch gradient descent  p <- p - lr * grad_p loss(p, *args)
    (`optim.functional.sgd`).

    params: dict of float arrays (the caller's are not modified); each keeps its dtype, so
    float32 parameters train in float32.  Runs `steps` updates, or fewer when `stop(loss)`
    is true or the loss stops being finite (divergence).  `callback(params)` is called at
    every iterate.  Returns the final parameters and the loss history, shape
    (updates done + 1,): losses[t] is the loss at the t-th iterate.
    """
    value_and_grad = ad.value_and_grad(loss)

    def at_iterate(t: int, p: dict, value: Any, grads: dict) -> bool:
        if callback is not None:
            callback(p)
        value = float(value)
        return not np.isfinite(value) or (stop is not None and stop(value))

    with np.errstate(over="ignore", invalid="ignore"):
        p, values = fopt.sgd(
            lambda p: value_and_grad(p, *args),
            params,
            lr,
            steps,
            callback=at_iterate,
            evaluate_final=True,
            desc=desc,
        )
    return p, np.asarray([float(v) for v in values])


def relative_error(a: Any, b: Any) -> float:
    """||a - b|| / max(||b||, tiny) over all entries (Frobenius norm)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), np.finfo(float).tiny))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the angle between a and b, flattened (float64)."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def until_roundoff(values: np.ndarray, floor: float) -> np.ndarray:
    """A curve for plotting, cut after its first value below `floor` (the rest is roundoff)."""
    below = np.flatnonzero(np.asarray(values) < floor)
    return values[: below[0] + 1] if below.size else values
