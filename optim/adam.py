"""Adam (Kingma & Ba, 2015) with PyTorch's defaults and L2 weight decay."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from autodiff import Tensor

from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0).

    At step t = 1, 2, ... with g = grad + weight_decay * p:

        m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
        p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def _check_hyperparameters(self, group: dict) -> None:
        for key in ("lr", "eps", "weight_decay"):
            if not group[key] >= 0:
                raise ValueError(f"Adam: {key} must be non-negative, got {group[key]}")
        betas = tuple(group["betas"])
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {group['betas']}")

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        beta1, beta2 = (float(b) for b in group["betas"])
        if group["weight_decay"]:
            grad = grad + float(group["weight_decay"]) * p.data
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        np.multiply(m, beta1, out=m)
        np.add(m, grad * (1.0 - beta1), out=m)
        np.multiply(v, beta2, out=v)
        np.add(v, grad * grad * (1.0 - beta2), out=v)
        step_size = float(group["lr"]) / (1.0 - beta1 ** t)
        denom = np.sqrt(v) * (1.0 / math.sqrt(1.0 - beta2 ** t))
        np.add(denom, float(group["eps"]), out=denom)
        self._apply(p, m / denom * -step_size)
