"""RMSprop (Hinton's lecture 6e; centered form from Graves, 2013) with PyTorch's update."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from autodiff import Tensor

from .optimizer import Optimizer, _hyperparameters


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False), as torch.optim.RMSprop.

    At each step, with g = grad + weight_decay * p:

        v = alpha * v + (1 - alpha) * g^2                   (square_avg, starts at 0)
        centered: g_avg = alpha * g_avg + (1 - alpha) * g   (grad_avg, starts at 0)
                  denom = sqrt(v - g_avg^2) + eps
        otherwise denom = sqrt(v) + eps
        momentum > 0: b = momentum * b + g / denom;  p -= lr * b   (momentum_buffer, from 0)
        otherwise:    p -= lr * g / denom

    lr and weight_decay must be finite and >= 0, eps finite and > 0, alpha in [0, 1],
    momentum in [0, 1), centered a bool.  State per parameter: step, square_avg (and
    momentum_buffer with momentum > 0, grad_avg when centered), as PyTorch names them.
    """

    _hyperparameter_kinds = {
        "lr": "non-negative",
        "weight_decay": "non-negative",
        "eps": "positive",
        "alpha": "[0, 1]",
        "momentum": "[0, 1)",
        "centered": "flag",
    }

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(params, _hyperparameters(locals()))

    def _state_layout_for(self, group: dict) -> dict[str, str]:
        layout = {"step": "count", "square_avg": "array"}
        if group["momentum"] > 0:
            layout["momentum_buffer"] = "array"
        if group["centered"]:
            layout["grad_avg"] = "array"
        return layout

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        alpha, momentum = float(group["alpha"]), float(group["momentum"])
        if group["weight_decay"]:
            grad = grad + float(group["weight_decay"]) * p.data
        if "step" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
        # entries that depend on momentum / centered: created at 0 when switched on (as on
        # a fresh parameter), dropped when switched off, so the state matches the layout
        for key, wanted in (("momentum_buffer", momentum > 0), ("grad_avg", group["centered"])):
            if wanted and key not in state:
                state[key] = np.zeros_like(p.data)
            elif not wanted:
                state.pop(key, None)
        state["step"] += 1
        v = state["square_avg"]
        np.multiply(v, alpha, out=v)
        np.add(v, grad * grad * (1.0 - alpha), out=v)
        if group["centered"]:
            g_avg = state["grad_avg"]
            np.multiply(g_avg, alpha, out=g_avg)
            np.add(g_avg, grad * (1.0 - alpha), out=g_avg)
            denom = v - g_avg * g_avg
            np.sqrt(denom, out=denom)
        else:
            denom = np.sqrt(v)
        np.add(denom, float(group["eps"]), out=denom)
        lr = float(group["lr"])
        if momentum > 0:
            buf = state["momentum_buffer"]
            np.multiply(buf, momentum, out=buf)
            np.add(buf, grad / denom, out=buf)
            self._apply(p, buf * -lr)
        else:
            self._apply(p, grad / denom * -lr)
