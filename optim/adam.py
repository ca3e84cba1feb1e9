"""Adam (Kingma & Ba, 2015) with PyTorch's defaults and L2 weight decay."""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

from autodiff import Tensor

from .optimizer import Optimizer, _check_number


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0).

    At step t = 1, 2, ... with g = grad + weight_decay * p:

        m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
        p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    lr and weight_decay must be finite and >= 0, eps finite and > 0, betas in [0, 1).
    """

    _state_layout = {"step": "count", "exp_avg": "array", "exp_avg_sq": "array"}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas) if np.iterable(betas) else betas,
                                      eps=eps, weight_decay=weight_decay))

    def _check_hyperparameters(self, group: dict) -> None:
        for key in ("lr", "weight_decay"):
            _check_number("Adam", key, group[key])
        _check_number("Adam", "eps", group["eps"], "positive")
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2 and all(
                isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1
                for b in betas)):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas!r}")

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
