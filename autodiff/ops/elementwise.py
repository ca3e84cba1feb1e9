"""Elementwise primitives: each forward with its VJP and JVP rule beside it.

Unary ops whose derivative is a pointwise factor f'(x) are declared with
`_pointwise(forward, derivative)`, where `derivative(ans, x)` returns f'(x); the VJP
multiplies the cotangent by it and the JVP the tangent.  Binary ops broadcast like
numpy; the engine sums cotangents back to each operand's shape.

Under vmap, elementwise primitives run on the whole batch: unary ones as they are,
binary ones after aligning the operands' axes (`batch_rules.elementwise`).

Subgradients at kinks: relu'(0) = 0, abs'(0) = sign(0) = 0, leaky_relu'(0) = slope,
maximum/minimum split the gradient equally between tied operands, clip passes the
gradient where a_min <= x <= a_max (inclusive).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..dispatch import Primitive, primitive, replayed
from ..tensor import Tensor
from .batch_rules import elementwise, unary


def _pointwise(fun: Callable, derivative: Callable, name: str | None = None) -> Primitive:
    """A unary elementwise primitive with VJP g * f'(x) and JVP t * f'(x)."""
    prim = Primitive(fun, name)
    prim.defvjp(lambda g, ans, x, **kw: g * derivative(ans, x, **kw))
    prim.defjvp(lambda t, ans, x, **kw: t * derivative(ans, x, **kw))
    prim.defbatch(unary(prim))
    return prim


def _zero_cotangent(g, ans, x, **kw):
    return g * 0


def _stable_sigmoid(x):
    # 1 / (1 + exp(-x)) written with tanh: no overflow for any x, dtype preserved.
    return 0.5 * np.tanh(0.5 * x) + 0.5


def _partner(fun: Callable, sign: float) -> Primitive:
    """fun(x) for fun = cos or sin, given the other one's value p = sin(x) or cos(x) as a
    second operand: d fun(x)/dx = sign * p, so differentiating sin or cos again uses the
    value of the op it came from instead of computing sin or cos once more.  The result
    does not depend on p (its rules are identically zero), but higher derivatives still
    flow through p's own history."""
    prim = Primitive(lambda x, p: fun(x), f"{fun.__name__}_given_partner")
    prim.defvjp(lambda g, ans, x, p: g * p if sign > 0 else -g * p, lambda g, ans, x, p: None)
    prim.defjvp(lambda t, ans, x, p: t * p if sign > 0 else -t * p, lambda t, ans, x, p: None)
    prim.defbatch(elementwise(prim))
    return prim


_cos_given_sin = _partner(np.cos, -1.0)  # cos(x) from (x, sin(x))
_sin_given_cos = _partner(np.sin, 1.0)  # sin(x) from (x, cos(x))

# ------------------------------------------------------------------ unary ops
copy = Primitive(np.copy, "copy")  # a new array: Tensor.clone()
copy.defvjp(lambda g, ans, x: g)
copy.defjvp(lambda t, ans, x: t)
copy.defbatch(unary(copy))

negative = Primitive(np.negative)
negative.defvjp(lambda g, ans, x: -g)
negative.defjvp(lambda t, ans, x: -t)
negative.defbatch(unary(negative))

exp = _pointwise(np.exp, lambda ans, x: ans)
log = _pointwise(np.log, lambda ans, x: 1 / x)
log1p = _pointwise(np.log1p, lambda ans, x: 1 / (x + 1))
expm1 = _pointwise(np.expm1, lambda ans, x: ans + 1)
sqrt = _pointwise(np.sqrt, lambda ans, x: 0.5 / ans)
square = _pointwise(np.square, lambda ans, x: 2 * x)
sin = _pointwise(np.sin, lambda ans, x: _cos_given_sin(x, ans))
cos = _pointwise(np.cos, lambda ans, x: -_sin_given_cos(x, ans))
tan = _pointwise(np.tan, lambda ans, x: 1 + ans * ans)
tanh = _pointwise(np.tanh, lambda ans, x: 1 - ans * ans)
sigmoid = _pointwise(_stable_sigmoid, lambda ans, x: ans * (1 - ans), "sigmoid")
softplus = _pointwise(lambda x: np.logaddexp(0, x), lambda ans, x: sigmoid(x), "softplus")

_erf_elements = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact


def _erf(x):
    x = np.asarray(x)
    return np.asarray(_erf_elements(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
erf = _pointwise(_erf, lambda ans, x: _TWO_OVER_SQRT_PI * exp(-(x * x)), "erf")

relu = Primitive(lambda x: np.maximum(x, 0), "relu")
relu.defvjp(lambda g, ans, x: g * (x > 0))
relu.defjvp(lambda t, ans, x: t * (x > 0))
relu.defbatch(unary(relu))

sign = Primitive(np.sign)
sign.defvjp(_zero_cotangent)
sign.defjvp(_zero_cotangent)
sign.defbatch(unary(sign))
abs = _pointwise(np.abs, lambda ans, x: sign(x), "abs")


_SLOPE = 0.01  # leaky_relu's default negative slope


@primitive
def leaky_relu(x, *, negative_slope=_SLOPE):
    """x if x > 0 else negative_slope * x."""
    return np.where(x > 0, x, x * negative_slope)


# (the rules see only the keywords the call gave: the forward's default is theirs too)
leaky_relu.defvjp(lambda g, ans, x, negative_slope=_SLOPE: where(x > 0, g, g * negative_slope))
leaky_relu.defjvp(lambda t, ans, x, negative_slope=_SLOPE: where(x > 0, t, t * negative_slope))
leaky_relu.defbatch(unary(leaky_relu))


# ----------------------------------------------------------------- binary ops
add = Primitive(np.add)
add.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: g)
add.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: t)
add.defbatch(elementwise(add))

subtract = Primitive(np.subtract)
subtract.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: -g)
subtract.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: -t)
subtract.defbatch(elementwise(subtract))

multiply = Primitive(np.multiply)
multiply.defvjp(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
multiply.defjvp(lambda t, ans, x, y: t * y, lambda t, ans, x, y: x * t)
multiply.defbatch(elementwise(multiply))


def _divide_vjp(needs, g, ans, x, y):
    gx = g / y
    return gx, (-gx * ans if 1 in needs else None)  # d(x/y)/dy = -(x/y) / y


divide = Primitive(np.divide)
divide.defvjp_joint(_divide_vjp)
divide.defjvp(lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * ans / y)
divide.defbatch(elementwise(divide))


def _log_where_positive(x):
    # log(x) where x > 0, else 0: d(x**y)/dy is taken as 0 where log(x) is undefined.
    positive = x > 0
    return where(positive, log(where(positive, x, 1)), 0)


power = Primitive(np.power)
power.defvjp(
    lambda g, ans, x, y: g * y * x ** (y - 1), lambda g, ans, x, y: g * ans * _log_where_positive(x)
)
power.defjvp(
    lambda t, ans, x, y: t * y * x ** (y - 1), lambda t, ans, x, y: t * ans * _log_where_positive(x)
)
power.defbatch(elementwise(power))


def _share(g, wins, ties):
    # all of g where the operand wins, half of it on ties, nothing where it loses.
    return where(wins, g, where(ties, g * 0.5, 0))


maximum = Primitive(np.maximum)
maximum.defvjp(
    lambda g, ans, x, y: _share(g, x > y, x == y), lambda g, ans, x, y: _share(g, y > x, x == y)
)
maximum.defjvp(
    lambda t, ans, x, y: _share(t, x > y, x == y), lambda t, ans, x, y: _share(t, y > x, x == y)
)
maximum.defbatch(elementwise(maximum))

minimum = Primitive(np.minimum)
minimum.defvjp(
    lambda g, ans, x, y: _share(g, x < y, x == y), lambda g, ans, x, y: _share(g, y < x, x == y)
)
minimum.defjvp(
    lambda t, ans, x, y: _share(t, x < y, x == y), lambda t, ans, x, y: _share(t, y < x, x == y)
)
minimum.defbatch(elementwise(minimum))


# --------------------------------------------------------- selection / clipping
@primitive
def where(condition, x, y):
    """numpy.where(condition, x, y); `condition` is not differentiable."""
    return np.where(condition, x, y)


where.defvjp(None, lambda g, ans, c, x, y: where(c, g, 0), lambda g, ans, c, x, y: where(c, 0, g))
where.defjvp(None, lambda t, ans, c, x, y: where(c, t, 0), lambda t, ans, c, x, y: where(c, 0, t))
where.defbatch(elementwise(where))


@primitive
def _clip(x, *, a_min, a_max):
    return np.clip(x, a_min, a_max)


@replayed
def _inside(x, a_min, a_max):
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    inside = np.ones(data.shape, bool)
    if a_min is not None:
        inside &= data >= a_min
    if a_max is not None:
        inside &= data <= a_max
    return inside


_clip.defvjp(lambda g, ans, x, a_min, a_max: where(_inside(x, a_min, a_max), g, 0))
_clip.defjvp(lambda t, ans, x, a_min, a_max: where(_inside(x, a_min, a_max), t, 0))
_clip.defbatch(unary(_clip))


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """numpy.clip; the bounds are constants.  Gradient 1 where a_min <= x <= a_max."""
    if a_min is None and a_max is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    return _clip(x, a_min=a_min, a_max=a_max)


@primitive
def astype(x, *, dtype):
    """Cast to `dtype`; the cotangent is cast back to the operand's dtype."""
    return np.asarray(x).astype(dtype, copy=False)


astype.defvjp(lambda g, ans, x, dtype: astype(g, dtype=np.result_type(x)))
astype.defjvp(lambda t, ans, x, dtype: astype(t, dtype=dtype))
astype.defbatch(unary(astype))
