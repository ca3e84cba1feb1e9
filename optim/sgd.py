"""Stochastic gradient descent with momentum, Nesterov momentum, L2 weight decay and
Keras-style time-based learning-rate decay."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from autodiff import Tensor

from .optimizer import Optimizer, _check_number


class SGD(Optimizer):
    """SGD(params, lr, momentum=0, nesterov=False, weight_decay=0, decay=0).

    At step t (t = 0, 1, ... = `iterations`), with g = grad + weight_decay * p:

        lr_t = lr / (1 + decay * t)                 (decay = 0: constant)
        v    = momentum * v - lr_t * g              (v starts at 0; the "velocity")
        p   += v                                    (nesterov: p += momentum * v - lr_t * g)

    With a constant learning rate this is exactly PyTorch's SGD (whose buffer is -v / lr);
    when the rate changes (decay or a scheduler) the velocity keeps the rates it was built
    with, as in Keras.  At a point with zero gradient the step is momentum times the
    previous step.  lr, weight_decay and decay must be finite and >= 0, momentum in [0, 1)
    (and > 0 for nesterov).
    """

    _state_layout = {"velocity": "array"}

    def __init__(self, params: Iterable[Any], lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0, decay: float = 0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov,
                                      weight_decay=weight_decay, decay=decay))

    def _check_hyperparameters(self, group: dict) -> None:
        for key in ("lr", "weight_decay", "decay"):
            _check_number("SGD", key, group[key])
        _check_number("SGD", "momentum", group["momentum"], "[0, 1)")
        if not isinstance(group["nesterov"], (bool, np.bool_)):
            raise TypeError(f"SGD: nesterov must be True or False, got {group['nesterov']!r}")
        if group["nesterov"] and group["momentum"] <= 0:
            raise ValueError("SGD: nesterov=True requires momentum > 0")

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
        v = state.get("velocity")
        if v is None:
            v = state["velocity"] = np.zeros_like(p.data)
        np.multiply(v, momentum, out=v)
        step = grad * -lr
        np.add(v, step, out=v)
        if group["nesterov"]:
            np.add(step, v * momentum, out=step)
            self._apply(p, step)
        else:
            self._apply(p, v)
