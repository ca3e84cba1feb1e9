"""`Optimizer`: parameter groups, per-parameter state, zero_grad and state_dict.

Updates follow two rules of the engine: a parameter's array is updated in place only
while it is writeable (arrays saved by a live graph are read-only; then the parameter
gets a new array), and gradient arrays are never modified (they may be shared).

As in PyTorch, a step updates exactly the parameters that have a gradient (`.grad` not
None): frozen parameters (requires_grad=False) may be passed, and are left alone since
backward never gives them a gradient.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autodiff import Tensor

_RANGES = {
    "non-negative": (lambda v: v >= 0, "non-negative and finite"),
    "positive": (lambda v: v > 0, "positive and finite"),
    "[0, 1)": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "[0, 1]": (lambda v: 0 <= v <= 1, "a number in [0, 1]"),
    "(0, 1)": (lambda v: 0 < v < 1, "a number in (0, 1)"),
}


def _check_number(op: str, name: str, value: Any, kind: str = "non-negative") -> float:
    """value as a float: TypeError unless it is a real number, ValueError if it is NaN,
    infinite or outside `kind` (a key of _RANGES)."""
    accept, expected = _RANGES[kind]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be {expected}, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and accept(v)):
        raise ValueError(f"{op}: {name} must be {expected}, got {value!r}")
    return v


def _check_count(op: str, name: str, value: Any, minimum: int = 0) -> int:
    """value as an int >= minimum, or TypeError / ValueError naming op, name and value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _hyperparameters(constructor_locals: dict[str, Any]) -> dict[str, Any]:
    """A subclass constructor's hyper-parameters, from `locals()` taken before anything
    else: every argument except self and params, in the signature's order (`__class__`,
    the cell a method that calls super() has, is left out too)."""
    return {
        name: value
        for name, value in constructor_locals.items()
        if name not in ("self", "params", "__class__")
    }


def _check_flag(op: str, name: str, value: Any) -> bool:
    """value as a bool, or TypeError naming op, name and value (no truthiness: 0, 1 and
    "yes" are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {value!r}")
    return bool(value)


class Optimizer:
    """Base class: `params` is an iterable of floating-point leaf Tensors or of dicts
    {"params": [...], <hyper-parameter overrides>} (parameter groups, as in PyTorch).
    Tensors with requires_grad=False are accepted (a frozen layer's parameters): `step`
    skips every parameter whose `.grad` is None.

    Subclasses set `_hyperparameter_kinds`, how each hyper-parameter is checked: name ->
    a key of `_RANGES` (a real number in that range) or "flag" (True or False); the base
    `_check_hyperparameters` checks them in that order and subclasses add the rules that
    tie several together.

    Subclasses set `_state_layout`, the per-parameter state `load_state_dict` accepts:
    name -> "array" (shaped like the parameter) or "count" (an int >= 0); a parameter's
    state is then empty or holds exactly these names (None: not checked).  When the
    names depend on the hyper-parameters (Adam's amsgrad, RMSprop's momentum) they
    override `_state_layout_for(group)` instead."""

    _hyperparameter_kinds: dict[str, str] = {}
    _state_layout: dict[str, str] | None = None

    def __init__(self, params: Iterable[Any], defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or "
                f"of parameter-group dicts, got a single Tensor of shape "
                f"{params.shape} (wrap it in a list)"
            )
        self.defaults = dict(defaults)
        self.state: dict = {}  # Tensor -> dict of arrays
        self.param_groups: list[dict] = []
        self.iterations = 0  # completed step() calls
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
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"{name}: a parameter of shape {p.shape} has dtype {p.dtype}; "
                    f"only real floating-point tensors can be optimised"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: can only optimise leaf tensors (a parameter of shape "
                    f"{p.shape} was computed by an operation)"
                )
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter of shape {p.shape} appears more than once")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(
                f"{name}: unknown hyper-parameter(s) {sorted(unknown)} in a "
                f"parameter group; known: {sorted(self.defaults)}"
            )
        full = {**self.defaults, **group, "params": params}
        self._check_hyperparameters(full)
        self.param_groups.append(full)

    def _check_hyperparameters(self, group: dict) -> None:
        """Raise TypeError / ValueError for a hyper-parameter of `group` that breaks its
        rule in `_hyperparameter_kinds` (subclasses add rules between hyper-parameters)."""
        name = type(self).__name__
        for key, kind in self._hyperparameter_kinds.items():
            if kind == "flag":
                _check_flag(name, key, group[key])
            else:
                _check_number(name, key, group[key], kind)

    def _state_layout_for(self, group: dict) -> dict[str, str] | None:
        """The per-parameter state names (and kinds) a parameter of `group` has once
        stepped; by default the class's `_state_layout`."""
        return self._state_layout

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient.  set_to_none=True (the default, as in
        PyTorch): `.grad = None`, so the next step skips parameters that get no new
        gradient.  set_to_none=False: every existing gradient becomes zeros of its shape
        and dtype (a parameter without one keeps None).  The zeros are a new array: the
        old gradient array may be read-only or shared with another parameter or with the
        caller, so it is never written to."""
        _check_flag(f"{type(self).__name__}.zero_grad", "set_to_none", set_to_none)
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                    continue
                old = p.grad.data if isinstance(p.grad, Tensor) else np.asarray(p.grad)
                zeros = np.zeros(old.shape, old.dtype)
                p.grad = Tensor(zeros) if isinstance(p.grad, Tensor) else zeros

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
                    raise ValueError(
                        f"{type(self).__name__}.step: gradient shape {grad.shape} "
                        f"does not match parameter shape {p.shape}"
                    )
                if grad.dtype != p.dtype:  # state and parameter keep the parameter's dtype
                    grad = grad.astype(p.dtype)
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
    def _apply(p: Tensor, delta: np.ndarray, scale: float | None = None) -> None:
        """p += delta (p = p * scale + delta when scale is given), in place when the array
        is writeable, otherwise into a new array."""
        if p.data.flags.writeable:
            if scale is not None:
                np.multiply(p.data, scale, out=p.data)
            np.add(p.data, delta, out=p.data)
        else:
            p.data = (p.data if scale is None else p.data * scale) + delta

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
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups, "iterations": self.iterations}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict` returned (for an optimizer over parameters of the same
        shapes, in the same groups).  Everything is validated first (structure, parameter
        indices, per-parameter state, hyper-parameters): on error nothing changes."""
        where = f"{type(self).__name__}.load_state_dict"
        if (
            not isinstance(state_dict, dict)
            or not isinstance(state_dict.get("state"), dict)
            or not isinstance(state_dict.get("param_groups"), (list, tuple))
        ):
            raise ValueError(
                f"{where}: expected a dict with 'state' (a dict) and "
                f"'param_groups' (a list), as returned by state_dict()"
            )
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{where}: the state has {len(groups)} parameter groups, this "
                f"optimizer {len(self.param_groups)}"
            )
        by_index, group_of, new_groups = {}, {}, []
        for i, (saved, own) in enumerate(zip(groups, self.param_groups, strict=False)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(
                    f"{where}: parameter group {i} must be a dict with a 'params' "
                    f"list of parameter indices, got {saved!r}"
                )
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(
                    f"{where}: group {i} has {len(saved['params'])} parameters in "
                    f"the state, {len(own['params'])} here"
                )
            for idx, p in zip(saved["params"], own["params"], strict=False):
                if idx in by_index:
                    raise ValueError(
                        f"{where}: parameter index {idx!r} appears more than once in param_groups"
                    )
                by_index[idx] = p
                group_of[idx] = i
            new_groups.append(self._loaded_group(saved, own, f"{where}: parameter group {i}"))
        new_state = {}
        for idx, s in state_dict["state"].items():
            if idx not in by_index:
                raise ValueError(
                    f"{where}: state for unknown parameter {idx!r} (param_groups "
                    f"list {len(by_index)} parameters)"
                )
            layout = self._state_layout_for(new_groups[group_of[idx]])
            new_state[by_index[idx]] = self._loaded_state(s, by_index[idx], idx, where, layout)
        iterations = _check_count(where, "iterations", state_dict.get("iterations", 0))
        for own, group in zip(self.param_groups, new_groups, strict=False):
            own.update(group)
        self.state = new_state
        self.iterations = iterations

    def _loaded_group(self, saved: dict, own: dict, where: str) -> dict:
        """own updated with the saved hyper-parameters (copies), validated."""
        group = {
            **own,
            **{k: copy.deepcopy(v) for k, v in saved.items() if k != "params"},
            "params": own["params"],
        }
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(
                f"{where}: unknown hyper-parameter(s) {sorted(unknown)}; known: "
                f"{sorted(self.defaults)}"
            )
        try:
            self._check_hyperparameters(group)
            if "initial_lr" in group:
                _check_number(type(self).__name__, "initial_lr", group["initial_lr"])
        except (TypeError, ValueError) as e:
            raise type(e)(f"{where}: {e}") from None
        return group

    def _loaded_state(
        self, s: Any, p: Tensor, idx: Any, where: str, layout: dict[str, str] | None
    ) -> dict:
        """A copy of parameter idx's saved state, arrays cast to the parameter's dtype,
        after checking it against `layout` (its group's `_state_layout_for`), the
        parameter's shape and dtypes."""
        if not isinstance(s, dict):
            raise ValueError(
                f"{where}: the state of parameter {idx} must be a dict, got {type(s).__name__}"
            )
        if layout is not None and s and set(s) != set(layout):
            raise ValueError(
                f"{where}: the state of parameter {idx} has entries {sorted(s)}; "
                f"expected all of {sorted(layout)} or none (missing "
                f"{sorted(set(layout) - set(s))}, unexpected "
                f"{sorted(set(s) - set(layout))})"
            )
        out = {}
        for key, value in s.items():
            what = f"state '{key}' of parameter {idx}"
            kind = None if layout is None else layout[key]
            if kind == "count":
                out[key] = _check_count(where, what, value)
            elif kind == "array" or isinstance(value, np.ndarray):
                if not isinstance(value, np.ndarray):
                    raise ValueError(
                        f"{where}: {what} must be an array of shape {p.shape}, "
                        f"got {type(value).__name__}"
                    )
                if value.shape != p.shape:
                    raise ValueError(
                        f"{where}: {what} has shape {value.shape}, the parameter {p.shape}"
                    )
                if value.dtype.kind not in "fiu":
                    raise ValueError(
                        f"{where}: {what} has dtype {value.dtype}; expected real "
                        f"numbers (cast to the parameter's {p.dtype})"
                    )
                out[key] = value.astype(p.dtype, copy=True)
            else:
                out[key] = copy.deepcopy(value)
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(
                f"  group {i}: {len(group['params'])} params, "
                + ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            )
        return "\n".join(lines + [")"])
