"""Parameter initialisers (PyTorch's `torch.nn.init` names and formulas).

Each `name_(tensor, ..., rng=None)` fills a Parameter/Tensor (its array is replaced, so
it works while the old array is read-only) or a writeable ndarray (filled in place) and
returns it.  Values are drawn in float64 and cast, so one seed gives the same initial
values in float32 and float64.  `rng` is a numpy Generator, an int seed, or None for the
package-wide generator (`nn.manual_seed`).

Fans: a (out, in) weight has fan_in = in, fan_out = out; a convolution weight
(out, in, kh, kw) has fan_in = in*kh*kw and fan_out = out*kh*kw.

Layer defaults (PyTorch's): Linear and Conv2d draw the weight from
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ with a = sqrt(5)) and the bias from
the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autodiff import Tensor

from .rng import RngLike, resolve_rng


def _shape(tensor: Any, op: str) -> tuple:
    if isinstance(tensor, (Tensor, np.ndarray)):
        return tensor.shape
    raise TypeError(f"{op}: expected a Parameter, Tensor or ndarray, got {type(tensor).__name__}")


def _fill(tensor: Any, values: Any, op: str) -> Any:
    if isinstance(tensor, Tensor):
        tensor.data = np.asarray(values, dtype=tensor.dtype).copy()
    else:
        if not tensor.flags.writeable:
            raise ValueError(f"{op}: the ndarray is read-only")
        tensor[...] = values
    return tensor


def calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight with at least 2 dimensions (see the module docstring)."""
    shape = _shape(tensor, "calculate_fan_in_and_fan_out")
    if len(shape) < 2:
        raise ValueError(
            f"calculate_fan_in_and_fan_out: fans are defined for weights with at "
            f"least 2 dimensions, got shape {shape}"
        )
    receptive = int(np.prod(shape[2:], dtype=np.int64))
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation: 1 (linear, sigmoid, conv), 5/3 (tanh),
    sqrt(2) (relu), sqrt(2 / (1 + slope^2)) (leaky_relu, slope `param`, default 0.01)."""
    if nonlinearity in ("linear", "identity", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def zeros_(tensor: Any) -> Any:
    return _fill(tensor, np.zeros(_shape(tensor, "zeros_")), "zeros_")


def ones_(tensor: Any) -> Any:
    return _fill(tensor, np.ones(_shape(tensor, "ones_")), "ones_")


def constant_(tensor: Any, val: float) -> Any:
    return _fill(tensor, np.full(_shape(tensor, "constant_"), float(val)), "constant_")


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, rng: RngLike = None) -> Any:
    """Fill with N(mean, std^2) samples (std is the standard deviation, not the variance)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    shape = _shape(tensor, "normal_")
    return _fill(tensor, resolve_rng(rng, "normal_").normal(mean, std, shape), "normal_")


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, rng: RngLike = None) -> Any:
    """Fill with U(a, b) samples."""
    if b < a:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    shape = _shape(tensor, "uniform_")
    return _fill(tensor, resolve_rng(rng, "uniform_").uniform(a, b, shape), "uniform_")


def xavier_uniform_(tensor: Any, gain: float = 1.0, rng: RngLike = None) -> Any:
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng)


def xavier_normal_(tensor: Any, gain: float = 1.0, rng: RngLike = None) -> Any:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str, op: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _symmetric_uniform_(tensor: Any, bound: float, rng: RngLike) -> Any:
    return uniform_(tensor, -bound, bound, rng)


def _kaiming(name: str, doc: str, fill: Callable[[Any, float, RngLike], Any]) -> Callable:
    """The He initialiser `name`: fill(tensor, std, rng) with std = gain / sqrt(fan), gain
    from `nonlinearity` (with negative slope `a` for leaky_relu), fan by `mode`."""

    def init(
        tensor: Any,
        a: float = 0.0,
        mode: str = "fan_in",
        nonlinearity: str = "leaky_relu",
        rng: RngLike = None,
    ) -> Any:
        return fill(tensor, _kaiming_std(tensor, a, mode, nonlinearity, name), rng)

    init.__name__ = init.__qualname__ = name
    init.__doc__ = doc
    return init


kaiming_uniform_ = _kaiming(
    "kaiming_uniform_",
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain from `nonlinearity` (with
    negative slope `a` for leaky_relu; a = 0 gives ReLU's sqrt(2)).""",
    lambda tensor, std, rng: _symmetric_uniform_(tensor, math.sqrt(3.0) * std, rng),
)
kaiming_normal_ = _kaiming(
    "kaiming_normal_",
    """He normal: N(0, std^2) with std = gain / sqrt(fan).""",
    lambda tensor, std, rng: normal_(tensor, 0.0, std, rng),
)


glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_


def default_init_(weight: Any, bias: Any = None, rng: RngLike = None) -> None:
    """PyTorch's default for Linear and Conv2d: weight and bias ~ U(-1/sqrt(fan_in),
    1/sqrt(fan_in))."""
    rng = resolve_rng(rng, "default_init_")
    kaiming_uniform_(weight, a=math.sqrt(5), rng=rng)
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, rng)
