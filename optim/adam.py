"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019) with PyTorch's defaults
and update rules, including the AMSGrad variant (Reddi et al., 2018)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from autodiff import Tensor

from .optimizer import Optimizer, _check_flag, _hyperparameters


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False).

    At step t = 1, 2, ... (counted per parameter) with g = grad + weight_decay * p:

        m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
        amsgrad: v_max = max(v_max, v) and v_max replaces v below (v_max starts at 0)
        p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    as torch.optim.Adam.  lr and weight_decay must be finite and >= 0, eps finite and
    > 0, betas in [0, 1), amsgrad a bool.  State per parameter: step, exp_avg, exp_avg_sq
    (and max_exp_avg_sq with amsgrad), as PyTorch names them.
    """

    _decoupled = False  # AdamW: weight decay applied to p, not added to the gradient
    _hyperparameter_kinds = {
        "lr": "non-negative",
        "weight_decay": "non-negative",
        "eps": "positive",
    }

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ):
        defaults = _hyperparameters(locals())
        defaults["betas"] = tuple(betas) if np.iterable(betas) else betas
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        super()._check_hyperparameters(group)
        name = type(self).__name__
        betas = group["betas"]
        if not (
            isinstance(betas, (tuple, list))
            and len(betas) == 2
            and all(
                isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1
                for b in betas
            )
        ):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas!r}")
        _check_flag(name, "amsgrad", group["amsgrad"])

    def _state_layout_for(self, group: dict) -> dict[str, str]:
        layout = {"step": "count", "exp_avg": "array", "exp_avg_sq": "array"}
        if group["amsgrad"]:
            layout["max_exp_avg_sq"] = "array"
        return layout

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        beta1, beta2 = (float(b) for b in group["betas"])
        lr, weight_decay = float(group["lr"]), float(group["weight_decay"])
        if weight_decay and not self._decoupled:
            grad = grad + weight_decay * p.data
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
        if group["amsgrad"]:
            # switched on after some steps: v_max starts at 0, as on a fresh parameter
            v_max = state.setdefault("max_exp_avg_sq", np.zeros_like(p.data))
            np.maximum(v_max, v, out=v_max)
            v = v_max
        else:
            state.pop("max_exp_avg_sq", None)  # switched off: keep the state's layout
        step_size = lr / (1.0 - beta1**t)
        denom = np.sqrt(v) * (1.0 / math.sqrt(1.0 - beta2**t))
        np.add(denom, float(group["eps"]), out=denom)
        delta = m / denom * -step_size
        if weight_decay and self._decoupled:
            self._apply(p, delta, scale=1.0 - lr * weight_decay)
        else:
            self._apply(p, delta)


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
    amsgrad=False): Adam with decoupled weight decay, as torch.optim.AdamW.

    Each step first shrinks the parameter, p *= 1 - lr * weight_decay, then takes the
    Adam step on the plain gradient (weight decay is not added to g, so it does not
    enter the moments).  Same hyper-parameter rules and state as Adam.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
    ):
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
        )
