"""Learning-rate schedules that drive an optimizer's `lr` (PyTorch's `lr_scheduler` API).

A scheduler sets each parameter group's lr to a closed-form function of its step
counter t = `last_epoch` and the group's base rate (its lr when the scheduler was
created).  Construction applies t = 0; every `step()` advances t by one and applies it.
Call `step()` once per epoch, or once per batch for per-iteration schedules
(WarmupDecayLR, OneCycleLR).  ReduceLROnPlateau is the exception: it reacts to a
metric, `step(metric)`, instead of following a formula.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autodiff import Tensor

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
                    raise ValueError(
                        f"{type(self).__name__}: step {self.last_epoch} gives "
                        f"parameter group {i} the learning rate {lr}; expected a "
                        f"finite non-negative rate"
                    )
        except Exception:
            self.last_epoch -= 1
            raise
        self._last_lr = lrs
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=False):
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
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected the entries "
                f"{sorted(own)}, got {got}"
            )
        self.__dict__.update(state_dict)


class ConstantLR(LRScheduler):
    """lr = base * factor for t < total_iters, then base.  The defaults keep lr constant
    (the "constant" scheme of 000_1157cdecf8ac0012.txt, question 4(e))."""

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0, total_iters: int = 0, last_epoch: int = -1
    ):
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
        return base_lr * self.gamma**t


class StepLR(LRScheduler):
    """lr = base * gamma^(t // step_size): multiplied by gamma every step_size steps."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        self.step_size = _check_count("StepLR", "step_size", step_size, 1)
        self.gamma = _check_number("StepLR", "gamma", gamma, "positive")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2 for t <= T_max, then
    eta_min."""

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):
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
                                                cosine: min_lr + (base - min_lr) * (1 + cos(pi
                                                p)) / 2
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        total_steps: int,
        decay: str = "linear",
        min_lr: float = 0.0,
        start_factor: float = 0.0,
        last_epoch: int = -1,
    ):
        self.warmup_steps = _check_count("WarmupDecayLR", "warmup_steps", warmup_steps)
        self.total_steps = _check_count("WarmupDecayLR", "total_steps", total_steps, 1)
        if not warmup_steps < total_steps:
            raise ValueError(
                f"WarmupDecayLR: need 0 <= warmup_steps < total_steps, got "
                f"{warmup_steps} and {total_steps}"
            )
        if decay not in ("linear", "cosine"):
            raise ValueError(f"WarmupDecayLR: decay must be 'linear' or 'cosine', got {decay!r}")
        self.decay = decay
        self.min_lr = _check_number("WarmupDecayLR", "min_lr", min_lr)
        self.start_factor = _check_number("WarmupDecayLR", "start_factor", start_factor, "[0, 1]")
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
    batch (after the optimizer): stepping more than total_steps times is an error.  This is the
    "special" scheme of
    000_1157cdecf8ac0012.txt, question 4(e).  max_lr may be one value per group."""

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        last_epoch: int = -1,
    ):
        _check_optimizer("OneCycleLR", optimizer)
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if len(max_lrs) != len(groups):
            raise ValueError(
                f"OneCycleLR: {len(max_lrs)} max_lr values for {len(groups)} parameter groups"
            )
        max_lrs = [_check_number("OneCycleLR", "max_lr", v, "positive") for v in max_lrs]
        self.total_steps = _check_count("OneCycleLR", "total_steps", total_steps, 2)
        pct_start = _check_number("OneCycleLR", "pct_start", pct_start, "(0, 1)")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self.peak_step = pct_start * total_steps - 1
        self.anneal_strategy = anneal_strategy
        self.div_factor = _check_number("OneCycleLR", "div_factor", div_factor, "positive")
        self.final_div_factor = _check_number(
            "OneCycleLR", "final_div_factor", final_div_factor, "positive"
        )
        for group, peak in zip(groups, max_lrs, strict=False):
            group["initial_lr"] = peak / self.div_factor
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))
        return start + (end - start) * pct

    def lr_at(self, base_lr: float, t: int) -> float:
        if t > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {t} times, more than total_steps = {self.total_steps}"
            )
        peak = base_lr * self.div_factor
        final = base_lr / self.final_div_factor
        if t <= self.peak_step:
            return self._anneal(base_lr, peak, t / self.peak_step if self.peak_step > 0 else 1.0)
        end = self.total_steps - 1
        return self._anneal(peak, final, min(1.0, (t - self.peak_step) / (end - self.peak_step)))


class LambdaLR(LRScheduler):
    """lr = base * lr_lambda(t) for any function of the step counter."""

    def __init__(
        self, optimizer: Optimizer, lr_lambda: Callable[[int], float], last_epoch: int = -1
    ):
        if not callable(lr_lambda):
            raise TypeError("LambdaLR: lr_lambda must be callable")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * float(self.lr_lambda(t))


class ReduceLROnPlateau(LRScheduler):
    """Multiply every group's lr by `factor` when a metric has stopped improving, as
    torch.optim.lr_scheduler.ReduceLROnPlateau.  Call `step(metric)` once per epoch, with
    the validation loss say (mode="min") or accuracy (mode="max").

    A metric a improves on the best so far when (threshold_mode="rel")
    a < best * (1 - threshold) in min mode, a > best * (1 + threshold) in max mode, or
    (threshold_mode="abs") a < best - threshold, a > best + threshold.  Each step:

        improved: best = a, num_bad_epochs = 0;  otherwise num_bad_epochs += 1
        in cooldown (cooldown_counter > 0): cooldown_counter -= 1, num_bad_epochs = 0
        num_bad_epochs > patience: every group's lr = max(lr * factor, min_lr) (unless that
        changes it by eps or less), cooldown_counter = cooldown, num_bad_epochs = 0

    so with patience p the rate drops at the (p + 1)-th step in a row without
    improvement, and after a drop `cooldown` steps pass before bad steps count again.
    factor must be in [0, 1), patience and cooldown ints >= 0, threshold and eps finite
    and >= 0 (threshold < 1 for min mode with "rel"), min_lr >= 0 (one value, or one per
    parameter group).  A metric that is NaN or not a number is an error (a diverged run
    should not pass as an unimproved epoch); +-inf are accepted.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ):
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        self.factor = _check_number(name, "factor", factor, "[0, 1)")
        self.patience = _check_count(name, "patience", patience)
        self.threshold = _check_number(name, "threshold", threshold)
        if mode == "min" and threshold_mode == "rel" and self.threshold >= 1:
            raise ValueError(
                f"{name}: threshold must be below 1 with mode='min' and "
                f"threshold_mode='rel' (a < best * (1 - threshold)), got "
                f"{threshold!r}"
            )
        self.cooldown = _check_count(name, "cooldown", cooldown)
        self.eps = _check_number(name, "eps", eps)
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(
                    f"{name}: {len(min_lr)} min_lr values for {len(groups)} parameter groups"
                )
            self.min_lrs = [_check_number(name, "min_lr", v) for v in min_lr]
        else:
            self.min_lrs = [_check_number(name, "min_lr", min_lr)] * len(groups)
        self.optimizer = optimizer
        self.mode = mode
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best = self.mode_worse
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [float(g["lr"]) for g in groups]

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric a improves on best (by the threshold rule above)."""
        if self.mode == "min":
            bound = (
                best * (1.0 - self.threshold)
                if self.threshold_mode == "rel"
                else best - self.threshold
            )
            return a < bound
        bound = (
            best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        )
        return a > bound

    def get_lr(self) -> list[float]:
        """The learning rates in force (this scheduler has no closed form)."""
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Record one epoch's metric (a real number, or a one-element array or Tensor)
        and reduce the learning rates if it has not improved for more than `patience`
        epochs."""
        current = _metric_value(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown are ignored
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=False):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict` returned (from a ReduceLROnPlateau over as many
        parameter groups); every entry is validated first, on error nothing changes."""
        where = "ReduceLROnPlateau.load_state_dict"
        own = self.state_dict()
        if not isinstance(state_dict, dict) or set(state_dict) != set(own):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{where}: expected the entries {sorted(own)}, got {got}")
        s = state_dict
        try:
            if s["mode"] not in ("min", "max"):
                raise ValueError(f"mode must be 'min' or 'max', got {s['mode']!r}")
            if s["threshold_mode"] not in ("rel", "abs"):
                raise ValueError(
                    f"threshold_mode must be 'rel' or 'abs', got {s['threshold_mode']!r}"
                )
            _check_number(where, "factor", s["factor"], "[0, 1)")
            _check_number(where, "threshold", s["threshold"])
            _check_number(where, "eps", s["eps"])
            for key in ("patience", "cooldown", "num_bad_epochs", "cooldown_counter", "last_epoch"):
                _check_count(where, key, s[key])
            n = len(self.optimizer.param_groups)
            for key in ("min_lrs", "_last_lr"):
                if not isinstance(s[key], (list, tuple)) or len(s[key]) != n:
                    raise ValueError(
                        f"{key} must be a list of {n} rates (one per parameter "
                        f"group), got {s[key]!r}"
                    )
                for v in s[key]:
                    _check_number(where, key, v)
            worse = math.inf if s["mode"] == "min" else -math.inf
            if s["mode_worse"] != worse:
                raise ValueError(
                    f"mode_worse must be {worse} for mode {s['mode']!r}, got {s['mode_worse']!r}"
                )
            if (
                isinstance(s["best"], bool)
                or not isinstance(s["best"], numbers.Real)
                or math.isnan(s["best"])
            ):
                raise ValueError(f"best must be a number (+-inf allowed), got {s['best']!r}")
        except (TypeError, ValueError) as e:
            message = str(e)
            raise type(e)(message if message.startswith(where) else f"{where}: {message}") from None
        self.__dict__.update(
            {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in s.items()}
        )


def _metric_value(metrics: Any) -> float:
    """ReduceLROnPlateau.step's metric as a float: a real number, or a one-element
    array or Tensor; NaN is refused."""
    value = metrics.data if isinstance(metrics, Tensor) else metrics
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "fiu":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"ReduceLROnPlateau.step: the metric must be a real number (or a "
            f"one-element array or Tensor), got {metrics!r}"
        )
    value = float(value)
    if math.isnan(value):
        raise ValueError(
            "ReduceLROnPlateau.step: the metric is nan (a diverged run?); expected a number"
        )
    return value
