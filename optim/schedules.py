"""Learning-rate schedules that drive an optimizer's `lr` (PyTorch's `lr_scheduler` API).

A scheduler sets each parameter group's lr to a closed-form function of its step
counter t = `last_epoch` and the group's base rate (its lr when the scheduler was
created).  Construction applies t = 0; every `step()` advances t by one and applies it.
Call `step()` once per epoch, or once per batch for per-iteration schedules
(WarmupDecayLR, OneCycleLR).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

from .optimizer import Optimizer, _check_count, _check_number


def _check_optimizer(name: str, optimizer: object) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an optim.Optimizer, got {type(optimizer).__name__}")


class LRScheduler:
    """Base class: subclasses define `lr_at(base_lr, t)`."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(type(self).__name__, optimizer)
        _check_count(type(self).__name__, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def lr_at(self, base_lr: float, t: int) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The learning rates for the current step counter."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self) -> None:
        """Advance the step counter and set every group's lr; a rate that is negative or
        not finite is an error (and changes nothing)."""
        self.last_epoch += 1
        try:
            lrs = self.get_lr()
            for i, lr in enumerate(lrs):
                if not (math.isfinite(lr) and lr >= 0):
                    raise ValueError(f"{type(self).__name__}: step {self.last_epoch} gives "
                                     f"parameter group {i} the learning rate {lr}; expected a "
                                     f"finite non-negative rate")
        except Exception:
            self.last_epoch -= 1
            raise
        self._last_lr = lrs
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last `step()` (one per parameter group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict` returned (from a scheduler of the same class)."""
        own = self.state_dict()
        if not isinstance(state_dict, dict) or set(state_dict) != set(own):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected the entries "
                             f"{sorted(own)}, got {got}")
        self.__dict__.update(state_dict)


class ConstantLR(LRScheduler):
    """lr = base * factor for t < total_iters, then base.  The defaults keep lr constant
    (the "constant" scheme of 000_1157cdecf8ac0012.txt, question 4(e))."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0, total_iters: int = 0,
                 last_epoch: int = -1):
        self.factor = _check_number("ConstantLR", "factor", factor, "positive")
        self.total_iters = _check_count("ConstantLR", "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * self.factor if t < self.total_iters else base_lr


class ExponentialLR(LRScheduler):
    """lr = base * gamma^t: the previous rate multiplied by `gamma` each step (the
    "annealed" scheme of 000_1157cdecf8ac0012.txt, question 4(e))."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = _check_number("ExponentialLR", "gamma", gamma, "positive")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma ** t


class StepLR(LRScheduler):
    """lr = base * gamma^(t // step_size): multiplied by gamma every step_size steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.step_size = _check_count("StepLR", "step_size", step_size, 1)
        self.gamma = _check_number("StepLR", "gamma", gamma, "positive")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2 for t <= T_max, then
    eta_min."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        self.T_max = _check_count("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = _check_number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        progress = min(t, self.T_max) / self.T_max
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * progress)) / 2


class WarmupDecayLR(LRScheduler):
    """Linear warm-up from base * start_factor to base over `warmup_steps`, then decay to
    `min_lr` at `total_steps` ("linear" or "cosine"), constant afterwards:

        t < W:  base * (start_factor + (1 - start_factor) * t / W)
        t >= W: p = min(1, (t - W) / (T - W));  linear: min_lr + (base - min_lr) * (1 - p)
                                                cosine: min_lr + (base - min_lr) * (1 + cos(pi p)) / 2
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int,
                 decay: str = "linear", min_lr: float = 0.0, start_factor: float = 0.0,
                 last_epoch: int = -1):
        self.warmup_steps = _check_count("WarmupDecayLR", "warmup_steps", warmup_steps)
        self.total_steps = _check_count("WarmupDecayLR", "total_steps", total_steps, 1)
        if not warmup_steps < total_steps:
            raise ValueError(f"WarmupDecayLR: need 0 <= warmup_steps < total_steps, got "
                             f"{warmup_steps} and {total_steps}")
        if decay not in ("linear", "cosine"):
            raise ValueError(f"WarmupDecayLR: decay must be 'linear' or 'cosine', got {decay!r}")
        self.decay = decay
        self.min_lr = _check_number("WarmupDecayLR", "min_lr", min_lr)
        self.start_factor = _check_number("WarmupDecayLR", "start_factor", start_factor,
                                          "[0, 1]")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        w = self.warmup_steps
        if t < w:
            return base_lr * (self.start_factor + (1 - self.start_factor) * t / w)
        p = min(1.0, (t - w) / (self.total_steps - w))
        shape = 1 - p if self.decay == "linear" else (1 + math.cos(math.pi * p)) / 2
        return self.min_lr + (base_lr - self.min_lr) * shape


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith & Topin), with PyTorch's formulas: over the first
    pct_start * total_steps steps the rate rises from max_lr / div_factor to max_lr, then
    falls to max_lr / (div_factor * final_div_factor) at step total_steps - 1, along
    half-cosines (anneal_strategy="cos") or straight lines ("linear").  Step it once per
    batch (after the optimizer): stepping more than total_steps times is an error.  This is the "special" scheme of
    000_1157cdecf8ac0012.txt, question 4(e).  max_lr may be one value per group."""

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float], total_steps: int,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 last_epoch: int = -1):
        _check_optimizer("OneCycleLR", optimizer)
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if len(max_lrs) != len(groups):
            raise ValueError(f"OneCycleLR: {len(max_lrs)} max_lr values for {len(groups)} "
                             f"parameter groups")
        max_lrs = [_check_number("OneCycleLR", "max_lr", v, "positive") for v in max_lrs]
        self.total_steps = _check_count("OneCycleLR", "total_steps", total_steps, 2)
        pct_start = _check_number("OneCycleLR", "pct_start", pct_start, "(0, 1)")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.peak_step = pct_start * total_steps - 1
        self.anneal_strategy = anneal_strategy
        self.div_factor = _check_number("OneCycleLR", "div_factor", div_factor, "positive")
        self.final_div_factor = _check_number("OneCycleLR", "final_div_factor", final_div_factor,
                                              "positive")
        for group, peak in zip(groups, max_lrs):
            group["initial_lr"] = peak / self.div_factor
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))
        return start + (end - start) * pct

    def lr_at(self, base_lr: float, t: int) -> float:
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, more than total_steps = "
                             f"{self.total_steps}")
        peak = base_lr * self.div_factor
        final = base_lr / self.final_div_factor
        if t <= self.peak_step:
            return self._anneal(base_lr, peak, t / self.peak_step if self.peak_step > 0 else 1.0)
        end = self.total_steps - 1
        return self._anneal(peak, final, min(1.0, (t - self.peak_step) / (end - self.peak_step)))


class LambdaLR(LRScheduler):
    """lr = base * lr_lambda(t) for any function of the step counter."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float],
                 last_epoch: int = -1):
        if not callable(lr_lambda):
            raise TypeError("LambdaLR: lr_lambda must be callable")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * float(self.lr_lambda(t))
