"""`Optimizer`: parameter groups, per-parameter state, zero_grad and state_dict.

Updates follow two rules of the engine: a parameter's array is updated in place only
while it is writeable (arrays saved by a live graph are read-only; then the parameter
gets a new array), and gradient arrays are never modified (they may be shared).
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

import numpy as np

from autodiff import Tensor


class Optimizer:
    """Base class: `params` is an iterable of Tensors (requires_grad=True) or of dicts
    {"params": [...], <hyper-parameter overrides>} (parameter groups, as in PyTorch)."""

    def __init__(self, params: Iterable[Any], defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}       # Tensor -> dict of arrays
        self.param_groups: list[dict] = []
        self.iterations = 0         # completed step() calls
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameters must be Tensors, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{name}: a parameter of shape {p.shape} does not require grad")
            if not p.is_leaf:
                raise ValueError(f"{name}: can only optimise leaf tensors (a parameter of shape "
                                 f"{p.shape} was computed by an operation)")
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter of shape {p.shape} appears more than once")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"{name}: unknown hyper-parameter(s) {sorted(unknown)} in a "
                             f"parameter group; known: {sorted(self.defaults)}")
        full = {**self.defaults, **group, "params": params}
        self._check_hyperparameters(full)
        self.param_groups.append(full)

    def _check_hyperparameters(self, group: dict) -> None:
        """Raise ValueError for invalid hyper-parameters (subclasses)."""

    # ------------------------------------------------------------------ stepping
    def zero_grad(self) -> None:
        """Forget every parameter's gradient (`.grad = None`)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient.  `closure`, if given,
        re-evaluates the model and returns the loss (it is called first)."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data if isinstance(p.grad, Tensor) else p.grad
                if grad.shape != p.shape:
                    raise ValueError(f"{type(self).__name__}.step: gradient shape {grad.shape} "
                                     f"does not match parameter shape {p.shape}")
                if grad.flags.c_contiguous != p.data.flags.c_contiguous:
                    # one reordering copy instead of several passes with mismatched strides
                    grad = np.ascontiguousarray(grad) if p.data.flags.c_contiguous else grad
                state = self.state.setdefault(p, {})
                self._update(p, grad, state, group)
        self.iterations += 1
        return loss

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    @staticmethod
    def _apply(p: Tensor, delta: np.ndarray) -> None:
        """p += delta, in place when the array is writeable, otherwise into a new array."""
        if p.data.flags.writeable:
            np.add(p.data, delta, out=p.data)
        else:
            p.data = p.data + delta

    # --------------------------------------------------------------------- state
    def state_dict(self) -> dict:
        """{"state": {index: {name: array}}, "param_groups": [{..., "params": [index]}],
        "iterations": n}; parameters are referred to by their position (copies)."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items()
                 if id(p) in index}
        return {"state": state, "param_groups": groups, "iterations": self.iterations}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict` returned (for an optimizer over parameters of the same
        shapes, in the same groups).  Validated first: on error nothing changes."""
        name = type(self).__name__
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if groups is None or "state" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups' (from state_dict())")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state has {len(groups)} parameter "
                             f"groups, this optimizer {len(self.param_groups)}")
        params = []
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{name}.load_state_dict: group {i} has {len(saved['params'])} "
                                 f"parameters in the state, {len(own['params'])} here")
            params.extend(zip(saved["params"], own["params"]))
        by_index = dict(params)
        new_state = {}
        for idx, s in state_dict["state"].items():
            if idx not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter {idx}")
            p = by_index[idx]
            for key, value in s.items():
                if isinstance(value, np.ndarray) and value.shape != p.shape:
                    raise ValueError(f"{name}.load_state_dict: state '{key}' of parameter {idx} "
                                     f"has shape {value.shape}, the parameter {p.shape}")
            new_state[p] = {k: (v.astype(p.dtype, copy=True) if isinstance(v, np.ndarray)
                                else copy.deepcopy(v)) for k, v in s.items()}
        for saved, own in zip(groups, self.param_groups):
            own.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
        self.state = new_state
        self.iterations = int(state_dict.get("iterations", 0))

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"  group {i}: {len(group['params'])} params, " + ", ".join(
                f"{k}={v}" for k, v in group.items() if k != "params"))
        return "\n".join(lines + [")"])
