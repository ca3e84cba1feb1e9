"""Small helpers shared by the linear-network experiments (linear_networks,
quadratic_activation, min_norm_least_squares, autoencoders): a transparent full-batch
gradient-descent loop on a parameter dictionary, two error measures, and a plotting helper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
from experiments.common import progress


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
    """Plain full-batch gradient descent  p <- p - lr * grad_p loss(p, *args).

    params: dict of float arrays (copied; the caller's arrays are not modified); each keeps
    its dtype, so float32 parameters train in float32.  Runs `steps` updates, or fewer when
    `stop(loss)` is true or the loss stops being finite (divergence).  `callback(params)` is
    called at every iterate (the arrays are updated in place afterwards: copy what you keep).
    Returns the final parameters and the loss history, shape (updates done + 1,):
    losses[t] is the loss at the t-th iterate.
    """
    p = {k: np.array(v, copy=True) for k, v in params.items()}
    value_and_grad = ad.value_and_grad(loss)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in progress(range(steps + 1), total=steps + 1, desc=desc):
            value, g = value_and_grad(p, *args)
            losses.append(float(value))
            if callback is not None:
                callback(p)
            if t == steps or not np.isfinite(losses[-1]) or (stop is not None and stop(losses[-1])):
                break
            for k in p:
                p[k] -= np.asarray(lr, dtype=p[k].dtype) * g[k]  # in place, dtype kept
    return p, np.asarray(losses)


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
