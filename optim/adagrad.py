"""Adagrad (Duchi, Hazan & Singer, 2011) with PyTorch's update and learning-rate decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from autodiff import Tensor

from .optimizer import Optimizer, _hyperparameters


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10), as torch.optim.Adagrad.

    At step t = 1, 2, ... (counted per parameter), with g = grad + weight_decay * p:

        clr  = lr / (1 + (t - 1) * lr_decay)
        s   += g^2                              (sum, starts at initial_accumulator_value)
        p   -= clr * g / (sqrt(s) + eps)

    lr, lr_decay, weight_decay and initial_accumulator_value must be finite and >= 0,
    eps finite and > 0.  State per parameter: step and sum, as PyTorch names them
    (created at the parameter's first step; PyTorch creates them with the optimizer,
    which gives the same updates).
    """

    _hyperparameter_kinds = {
        "lr": "non-negative",
        "lr_decay": "non-negative",
        "weight_decay": "non-negative",
        "initial_accumulator_value": "non-negative",
        "eps": "positive",
    }
    _state_layout = {"step": "count", "sum": "array"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        super().__init__(params, _hyperparameters(locals()))

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        if group["weight_decay"]:
            grad = grad + float(group["weight_decay"]) * p.data
        if "step" not in state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, float(group["initial_accumulator_value"]))
        state["step"] += 1
        clr = float(group["lr"]) / (1.0 + (state["step"] - 1) * float(group["lr_decay"]))
        s = state["sum"]
        np.add(s, grad * grad, out=s)
        std = np.sqrt(s)
        np.add(std, float(group["eps"]), out=std)
        self._apply(p, grad / std * -clr)
