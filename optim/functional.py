"""Functional optimisers: gradient descent, momentum and Adam as loops over parameter pytrees.

    import autodiff as ad
    from optim import functional as fopt

    params = {"w": np.zeros(3), "b": np.zeros(())}
    params, losses = fopt.sgd(ad.value_and_grad(loss), params, lr=0.1, steps=100)

The parameters are any nest of tuples, lists and dicts of numpy arrays (what `ad.grad`
takes); `value_and_grad(params)` returns (value, gradients of the same structure), as
`ad.value_and_grad(f)` does for f(params) (close over other arguments, or draw a fresh
batch inside it for stochastic gradients).  Each loop returns the final parameters (new
arrays: the caller's are not modified) and the list of values, one per evaluated iterate.

At every iterate t the loop evaluates value_and_grad, then calls
`callback(t, params, value, grads)`; if that returns True the loop stops there, before the
update.  `evaluate_final=True` also evaluates the final iterate (the values then hold
steps + 1 entries; that gradient is unused), as needed to report the loss reached.

The updates are the arithmetic of `optim.SGD` and `optim.Adam` on each leaf, so a
functional run and an `nn` model trained by those classes on the same problem agree bit for
bit.  A leaf keeps its dtype (a float32 parameter trains in float32).  This is autograd's
`examples/optimizers.py` idea (sgd, adam over nested parameters) with PyTorch's rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad

from .progress import progress

__all__ = ["minimize", "sgd", "adam"]

Params = Any  # a pytree of numpy arrays
ValueAndGrad = Callable[[Params], tuple[Any, Params]]
Callback = Callable[[int, Params, Any, Params], Any]
# update(leaves, grads, state, t) -> new leaves; t = 1, 2, ... (the update's number)
Update = Callable[[list, list, dict, int], list]


def minimize(
    value_and_grad: ValueAndGrad,
    params: Params,
    update: Update,
    steps: int,
    *,
    callback: Callback | None = None,
    evaluate_final: bool = False,
    desc: str | None = None,
) -> tuple[Params, list]:
    """The loop shared by `sgd` and `adam`: `steps` updates of the flattened parameters by
    `update(leaves, grad_leaves, state, t)` (state: a dict the rule keeps between calls).
    Returns (final params, values); see the module docstring for the callback."""
    leaves, treedef = ad.tree_flatten(params)
    leaves = [np.array(leaf, copy=True) for leaf in leaves]
    state: dict = {}
    values: list = []
    evaluations = steps + 1 if evaluate_final else steps
    for t in progress(range(evaluations), total=evaluations, desc=desc):
        current = ad.tree_unflatten(treedef, leaves)
        value, grads = value_and_grad(current)
        values.append(value)
        if callback is not None and callback(t, current, value, grads):
            break
        if t == steps:  # the final iterate, evaluated only
            break
        grad_leaves, grad_def = ad.tree_flatten(grads)
        if len(grad_leaves) != len(leaves):
            raise ValueError(
                f"minimize: value_and_grad returned {len(grad_leaves)} gradients for "
                f"{len(leaves)} parameters"
            )
        leaves = update(leaves, [np.asarray(g) for g in grad_leaves], state, t + 1)
    return ad.tree_unflatten(treedef, leaves), values


def _keep_dtype(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    return new if new.dtype == old.dtype else new.astype(old.dtype)


def sgd(
    value_and_grad: ValueAndGrad,
    params: Params,
    lr: float,
    steps: int,
    *,
    momentum: float = 0.0,
    callback: Callback | None = None,
    evaluate_final: bool = False,
    desc: str | None = None,
) -> tuple[Params, list]:
    """Gradient descent, p <- p - lr * g, or with momentum (optim.SGD's velocity form,
    PyTorch's SGD for a constant rate): v <- momentum * v - lr * g, p <- p + v, v = -lr * g
    on the first step.  Returns (final params, values)."""
    if momentum < 0 or momentum >= 1:
        raise ValueError(f"sgd: momentum must be in [0, 1), got {momentum!r}")

    def update(leaves: list, grads: list, state: dict, t: int) -> list:
        steps_ = [g * -np.asarray(lr, dtype=p.dtype) for p, g in zip(leaves, grads, strict=True)]
        if momentum:
            if "velocity" in state:
                for v, s in zip(state["velocity"], steps_, strict=True):
                    np.multiply(v, momentum, out=v)
                    np.add(v, s, out=v)
            else:
                state["velocity"] = [s.copy() for s in steps_]
            steps_ = state["velocity"]
        return [_keep_dtype(p + s, p) for p, s in zip(leaves, steps_, strict=True)]

    return minimize(
        value_and_grad,
        params,
        update,
        steps,
        callback=callback,
        evaluate_final=evaluate_final,
        desc=desc,
    )


def adam(
    value_and_grad: ValueAndGrad,
    params: Params,
    lr: float = 1e-3,
    steps: int = 100,
    *,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    callback: Callback | None = None,
    evaluate_final: bool = False,
    desc: str | None = None,
) -> tuple[Params, list]:
    """Adam (optim.Adam's and PyTorch's arithmetic): m <- b1 m + (1 - b1) g,
    v <- b2 v + (1 - b2) g^2, p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    Returns (final params, values)."""
    beta1, beta2 = (float(b) for b in betas)

    def update(leaves: list, grads: list, state: dict, t: int) -> list:
        if "m" not in state:
            state["m"] = [np.zeros_like(p) for p in leaves]
            state["v"] = [np.zeros_like(p) for p in leaves]
        step_size = lr / (1.0 - beta1**t)
        scale = 1.0 / math.sqrt(1.0 - beta2**t)
        out = []
        for p, g, m, v in zip(leaves, grads, state["m"], state["v"], strict=True):
            np.multiply(m, beta1, out=m)
            np.add(m, g * (1.0 - beta1), out=m)
            np.multiply(v, beta2, out=v)
            np.add(v, g * g * (1.0 - beta2), out=v)
            denom = np.sqrt(v) * scale
            np.add(denom, float(eps), out=denom)
            out.append(_keep_dtype(p + m / denom * -step_size, p))
        return out

    return minimize(
        value_and_grad,
        params,
        update,
        steps,
        callback=callback,
        evaluate_final=evaluate_final,
        desc=desc,
    )
