"""Stochastic gradient descent with momentum (optionally dampened or Nesterov), L2 weight
decay and Keras-style time-based learning-rate decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from autodiff import Tensor

from .optimizer import Optimizer, _hyperparameters


class SGD(Optimizer):
    """SGD(params, lr, momentum=0, dampening=0, nesterov=False, weight_decay=0, decay=0).

    At step t (t = 0, 1, ... = `iterations`), with g = grad + weight_decay * p:

        lr_t = lr / (1 + decay * t)                 (decay = 0: constant)
        v    = momentum * v - lr_t * (1 - dampening) * g   (the "velocity"; on a
               parameter's first step v = -lr_t * g: no dampening, as PyTorch)
        p   += v                                    (nesterov: p += momentum * v - lr_t * g)

    With a constant learning rate this is exactly PyTorch's SGD (whose buffer is -v / lr:
    buf = g at the first step, then buf = momentum * buf + (1 - dampening) * g); when the
    rate changes (decay or a scheduler) the velocity keeps the rates it was built with,
    as in Keras.  At a point with zero gradient the step is momentum times the previous
    step.  lr, weight_decay and decay must be finite and >= 0, momentum in [0, 1),
    dampening in [0, 1]; nesterov needs momentum > 0 and dampening = 0 (as PyTorch).
    """

    _hyperparameter_kinds = {
        "lr": "non-negative",
        "weight_decay": "non-negative",
        "decay": "non-negative",
        "momentum": "[0, 1)",
        "dampening": "[0, 1]",
        "nesterov": "flag",
    }
    _state_layout = {"velocity": "array"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        decay: float = 0.0,
        dampening: float = 0.0,
    ):
        super().__init__(params, _hyperparameters(locals()))

    def _check_hyperparameters(self, group: dict) -> None:
        super()._check_hyperparameters(group)
        if group["nesterov"]:
            if group["momentum"] <= 0:
                raise ValueError("SGD: nesterov=True requires momentum > 0")
            if group["dampening"] != 0:
                raise ValueError(
                    f"SGD: nesterov=True requires dampening = 0, got {group['dampening']!r}"
                )

    def current_lr(self, group: dict | None = None) -> float:
        """The learning rate the next step uses (after time-based decay)."""
        group = self.param_groups[0] if group is None else group
        return float(group["lr"]) / (1.0 + float(group["decay"]) * self.iterations)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        lr = self.current_lr(group)
        momentum = float(group["momentum"])
        if group["weight_decay"]:
            grad = grad + float(group["weight_decay"]) * p.data
        if momentum == 0:
            self._apply(p, grad * -lr)
            return
        step = grad * -lr
        v = state.get("velocity")
        if v is None:  # PyTorch: buf = g (undampened) at the first step
            v = state["velocity"] = step.copy()
        else:
            np.multiply(v, momentum, out=v)
            dampening = float(group["dampening"])
            np.add(v, step if dampening == 0 else step * (1.0 - dampening), out=v)
        if group["nesterov"]:
            np.add(step, v * momentum, out=step)
            self._apply(p, step)
        else:
            self._apply(p, v)
