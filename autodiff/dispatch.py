"""The one way to define a differentiable operation, `Primitive` (public as `ad.primitive`),
and how applying one to Tensors records it on the tape and pushes forward-mode tangents.

A primitive is a numpy forward function plus a table of derivative rules, one per
positional operand:

    @ad.primitive
    def log1pexp(x):
        return np.logaddexp(0.0, x)

    log1pexp.defvjp(lambda g, ans, x: g * ad.sigmoid(x))   # cotangent for x
    log1pexp.defjvp(lambda t, ans, x: t * ad.sigmoid(x))   # output tangent from x's tangent

Rules receive the output cotangent `g` (or the input tangent `t`), the forward result
`ans`, the operands and the keyword (static) parameters.  Write them with
`autodiff` operations and ndarray-style methods: during a plain backward pass they are
called with raw ndarrays (fast), during higher-order differentiation with Tensors, so
the same rule yields derivatives of every order.  A VJP rule may return a cotangent of
the broadcast output shape (the engine sums it back to the operand's shape) and a JVP
rule a tangent of the operand's shape (the engine broadcasts it to the output's).  A rule
may return None for a contribution that is identically zero: no work is done for it.
When the operands' cotangents share work (x / y: both need g / y), one joint rule can
give them all: `defvjp_joint(rule)`, rule(needs, g, ans, *args, **kw) -> one cotangent
per operand.

A forward may also hand its VJP rules something it computed anyway (what JAX calls
residuals), so that the backward pass does not compute it again: declare the primitive
with `@ad.primitive(residual=True)` and return `(out, residual)`.  When the call is
recorded, the rules of a plain backward pass receive it as the keyword argument
`residual`; whenever rules run on Tensors (higher-order derivatives) or push tangents
(forward mode), `residual` is None, because it is a plain array that carries no
derivative.  Rules must therefore also work without it.

Calling a primitive: positional arguments are operands (Tensors, ndarrays, Python
scalars); keyword arguments are static parameters (axis, shapes, indices, ...).  If no
operand is a Tensor the call is plain numpy and returns a plain result.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from .tape import lock_leaves, next_seq, state
from .tensor import Tensor, make_tensor as _wrap

_new = object.__new__

_ndarray = np.ndarray


def _node(data: np.ndarray, prim: "Primitive", args: tuple, raw: tuple, kwargs: dict,
          needs: tuple, leaves: list | None = None) -> Tensor:
    """A new tensor holding `data` that is a node of the tape: it remembers how it was
    computed.  `leaves` are the leaf Tensors among `args` when the caller knows them."""
    t = _new(Tensor)  # make_tensor's fields plus the node's, set once: the hottest path
    t._data = data
    t.grad = None
    t._requires_grad = True
    t._prim = prim
    t._args = args
    t._raw = raw
    t._kwargs = kwargs
    t._needs = needs
    t._tangents = None
    t._watch = None
    t._seq = next_seq()
    if leaves is None:
        for a in args:
            if isinstance(a, Tensor) and a._prim is None:
                if leaves is None:
                    leaves = [a]
                else:
                    leaves.append(a)
    if leaves:
        lock_leaves(t, leaves)
    return t


class Primitive:
    """A differentiable operation defined by a numpy forward and per-operand rules."""

    def __init__(self, fun: Callable[..., Any], name: str | None = None,
                 residual: bool = False):
        self.fun = fun
        self.residual = residual
        # `plain` computes the result alone (no operand is a Tensor: nothing to record).
        self.plain = (lambda *args, **kwargs: fun(*args, **kwargs)[0]) if residual else fun
        self.name = (name or getattr(fun, "__name__", "primitive")).lstrip("_")
        self.vjps: tuple = ()
        self.jvps: tuple = ()
        self.__doc__ = getattr(fun, "__doc__", None)
        self.__name__ = self.name
        self.__wrapped__ = fun

    def defvjp(self, *rules: Callable | None) -> "Primitive":
        """Set the vector-Jacobian rules, one per operand: rule(g, ans, *args, **kw).

        Pass None for an operand that is not differentiable (reverse mode then raises
        a clear error if that operand requires grad)."""
        self.vjps = rules
        return self

    def defjvp(self, *rules: Callable | None) -> "Primitive":
        """Set the Jacobian-vector rules, one per operand: rule(t, ans, *args, **kw)."""
        self.jvps = rules
        return self

    def defvjp_argnum(self, rule: Callable) -> "Primitive":
        """One VJP rule for any number of operands: rule(i, g, ans, *args, **kw)."""
        self.vjps = _EveryOperand(rule)
        return self

    def defvjp_joint(self, rule: Callable) -> "Primitive":
        """One VJP rule for all operands at once, for operations whose cotangents share
        work: rule(needs, g, ans, *args, **kw) returns one cotangent (or None) per operand,
        where `needs` lists the operand indices that need one."""
        self.vjps = _AllOperands(rule)
        return self

    def defjvp_argnum(self, rule: Callable) -> "Primitive":
        """One JVP rule for any number of operands: rule(i, t, ans, *args, **kw)."""
        self.jvps = _EveryOperand(rule)
        return self

    def __repr__(self) -> str:
        return f"<autodiff primitive {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Unwrap operands; specialised for one and two operands (the common cases).
        n = len(args)
        if n == 1:
            a = args[0]
            if not isinstance(a, Tensor):
                return self.plain(a, **kwargs)
            if a._tangents is not None:
                return _apply_jvp(self, args, kwargs)
            a_data = a._data
            raw = (a_data,)
            needs = (0,) if a._requires_grad else ()
        elif n == 2:
            a, b = args
            a_is_t = isinstance(a, Tensor)
            b_is_t = isinstance(b, Tensor)
            if a_is_t:
                if a._tangents is not None:
                    return _apply_jvp(self, args, kwargs)
                a_data = a._data
                if b_is_t:
                    if b._tangents is not None:
                        return _apply_jvp(self, args, kwargs)
                    raw = (a_data, b._data)
                    if a._requires_grad:
                        needs = (0, 1) if b._requires_grad else (0,)
                    else:
                        needs = (1,) if b._requires_grad else ()
                else:
                    raw = (a_data, b)
                    needs = (0,) if a._requires_grad else ()
            elif b_is_t:
                if b._tangents is not None:
                    return _apply_jvp(self, args, kwargs)
                a_data = b._data
                raw = (a, a_data)
                needs = (1,) if b._requires_grad else ()
            else:
                return self.plain(a, b, **kwargs)
        else:
            raw_list = []
            need_list = []
            leaves = []
            any_tensor = False
            i = 0
            for a in args:
                if isinstance(a, Tensor):
                    if a._tangents is not None:
                        return _apply_jvp(self, args, kwargs)
                    any_tensor = True
                    raw_list.append(a._data)
                    if a._requires_grad:
                        need_list.append(i)
                    if a._prim is None:
                        leaves.append(a)
                else:
                    raw_list.append(a)
                i += 1
            if not any_tensor:
                return self.plain(*args, **kwargs)
            raw = tuple(raw_list)
            needs = tuple(need_list)
            a_data = None

        try:
            out = self.fun(*raw, **kwargs)
        except (ValueError, TypeError, IndexError) as e:
            raise _named_error(self, e, raw) from None
        if self.residual:
            out, residual = out
            kwargs = {**kwargs, "residual": residual}
        if out.__class__ is not _ndarray:
            out = np.asarray(out)
        elif out is a_data:
            out = out.view()  # never let an output alias an operand's array object
        if needs and state.grad_enabled:
            return _node(out, self, args, raw, kwargs, needs, leaves if n > 2 else None)
        return _wrap(out)


def missing_rule(prim: Primitive, i: int, kind: str) -> NotImplementedError:
    """The error for operand `i` of `prim` having no rule of `kind` ("VJP" or "JVP")."""
    if kind == "VJP":
        unavailable, define = "reverse mode (grad, vjp, backward)", "defvjp"
    else:
        unavailable = "forward mode (jvp, jacobian(mode='fwd'), hessian, hvp)"
        define = "defjvp"
    return NotImplementedError(f"{prim.name}: no {kind} rule is defined for argument {i}, so "
                               f"{unavailable} is unavailable for it; define one with {define}")


def _named_error(prim: Primitive, error: Exception, raw: tuple) -> Exception:
    """The same error, with the op's name and the operands' shapes and dtypes in front."""
    message = str(error)
    if message.startswith(prim.name + ":"):
        return error
    operands = ", ".join(f"{np.shape(a)} {np.result_type(a)}" if not isinstance(a, (list, tuple))
                         else type(a).__name__ for a in raw)
    return type(error)(f"{prim.name}: {message} (operands: {operands})")


class _EveryOperand:
    """A rule table for variadic primitives: entry i is `rule` with i bound first."""

    def __init__(self, rule: Callable):
        self.rule = rule

    def __getitem__(self, i: int) -> Callable:
        return functools.partial(self.rule, i)

    def __len__(self) -> int:
        return 1 << 30


class _AllOperands(_EveryOperand):
    """A rule table whose entries come from one joint rule (see Primitive.defvjp_joint);
    the backward pass calls the joint rule once per node."""

    def __getitem__(self, i: int) -> Callable:
        return lambda g, ans, *args, **kw: self.rule((i,), g, ans, *args, **kw)[i]


def primitive(fun: Callable[..., Any] | None = None, *, residual: bool = False) -> Any:
    """Decorator: turn a numpy function into a differentiable primitive.

    Attach its rules with `.defvjp(...)` (reverse mode) and `.defjvp(...)` (forward
    mode).  `@primitive(residual=True)`: the function returns (result, residual) and
    the VJP rules of a plain backward pass get `residual=` (see the module docstring)."""
    if fun is None:
        return lambda f: Primitive(f, residual=residual)
    return Primitive(fun, residual=residual)


# ----------------------------------------------------------------- forward mode

# level -> whether tangent computations at that level must be recorded on the tape (only
# when a reverse-mode transform encloses the jvp); set by transforms.jvp.
level_records: dict = {}


def strip(a: Tensor, level: int) -> Tensor:
    """`a` without its forward-mode tangent at `level` (tangents of other levels kept).

    The result is a new tensor sharing `a`'s array; if `a` is on the tape the result
    is recorded as an identity of it, so reverse mode still reaches `a`."""
    tangents = a._tangents
    if tangents is None or level not in tangents:
        return a
    if a._requires_grad and state.grad_enabled:
        v = _node(a._data.view(), identity, (a,), (a._data,), {}, (0,))
    else:
        v = _wrap(a._data.view())
    rest = {k: t for k, t in tangents.items() if k != level}
    v._tangents = rest or None
    return v


def _apply_jvp(prim: Primitive, args: tuple, kwargs: dict) -> Tensor:
    """Apply `prim` to operands that carry forward-mode tangents.

    Tangents are organised by level (one level per active `jvp`, inner transforms get
    higher levels).  The highest level present is peeled off: the primal result is
    computed on the operands without it (recursively handling lower levels and the
    tape), then the JVP rules give the tangent at this level.  Because the rules run
    on the peeled operands, tangents of tangents (nested forward mode) come out right.
    """
    level = 0          # the highest level present (levels count from 1)
    single = True      # every tangent present is at that one level
    grad_args = False  # some operand requires grad
    for a in args:
        if isinstance(a, Tensor):
            if a._requires_grad:
                grad_args = True
            tangents = a._tangents
            if tangents is not None:
                top = max(tangents)
                if len(tangents) != 1 or (level and top != level):
                    single = False
                if top > level:
                    level = top
    records = level_records.get(level, True)
    if single and not (records and grad_args):
        # Only this level, and nothing records the tangent computation: the primal is a
        # plain call on the operands with their tangents set aside (so the tape records
        # the operands themselves), and the rules run on arrays.
        held = []
        for a in args:
            if isinstance(a, Tensor) and a._tangents is not None:  # once per tensor
                held.append((a, a._tangents))
                a._tangents = None
        try:
            out = prim(*args, **kwargs)
        finally:
            for a, tangents in held:
                a._tangents = tangents
        # (rules on arrays record nothing, whatever no_grad says)
        tangent = _tangent_at(prim, level, args, out._data, out._raw if out._prim is not None
                              else tuple(a._data if isinstance(a, Tensor) else a for a in args),
                              kwargs)
    else:
        stripped = tuple(strip(a, level) if isinstance(a, Tensor) else a for a in args)
        out = prim(*stripped, **kwargs)
        if out._prim is not None:
            # The tape must see the operands *with* their tangents, so that a backward pass
            # run inside this jvp (forward-over-reverse) differentiates the tangents too.
            out._args = args
        # The rules run on Tensors only if their results must carry derivatives: tangents
        # of other levels, or a tape that records the tangent computation.
        if any(isinstance(a, Tensor) and (a._tangents is not None or
                                          (records and a._requires_grad)) for a in stripped):
            ans, rule_args = out, stripped
        else:
            ans = out._data
            rule_args = tuple(a._data if isinstance(a, Tensor) else a for a in stripped)
        previous = state.grad_enabled
        if not records:
            state.grad_enabled = False
        try:
            tangent = _tangent_at(prim, level, args, ans, rule_args, kwargs)
        finally:
            state.grad_enabled = previous
    if tangent is not None:
        if tangent.shape != out._data.shape:
            tangent = broadcast_to(tangent, shape=out._data.shape)
        if out._tangents is None:
            out._tangents = {level: tangent}
        else:
            out._tangents[level] = tangent
    return out


def _tangent_at(prim: Primitive, level: int, args: tuple, ans: Any, rule_args: tuple,
                kwargs: dict) -> Any:
    """Sum of the JVP rules' contributions of every operand with a tangent at `level`."""
    jvps = prim.jvps
    tangent = None
    i = -1
    for a in args:
        i += 1
        if a.__class__ is not Tensor and not isinstance(a, Tensor):
            continue
        tangents = a._tangents
        t = tangents.get(level) if tangents is not None else None
        if t is not None:
            rule = jvps[i] if i < len(jvps) else None
            if rule is None:
                raise missing_rule(prim, i, "JVP")
            ti = rule(t, ans, *rule_args, **kwargs)
            if ti is not None:  # None: identically zero
                tangent = ti if tangent is None else tangent + ti
    return tangent


# Two primitives the mechanism itself needs: the identity (for `strip` and for
# functional transforms) and broadcasting (for tangents of broadcasting operands).

@primitive
def identity(x):
    """y = x (a new array object sharing x's memory)."""
    return np.asarray(x).view()


identity.defvjp(lambda g, ans, x: g)
identity.defjvp(lambda t, ans, x: t)


@primitive
def broadcast_to(x, *, shape):
    """numpy.broadcast_to: x of a shape broadcastable to `shape` -> array of `shape`."""
    x = np.asarray(x)
    if x.shape == shape:
        return x
    try:
        if x.size == 1 and len(shape) and math.prod(shape) <= 4096:
            return np.full(shape, x.reshape(()))  # much cheaper than a view for small arrays
        return np.broadcast_to(x, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast an operand of shape {np.shape(x)} "
                         f"to shape {tuple(shape)}") from None


broadcast_to.defvjp(lambda g, ans, x, shape: g)  # the engine sums g back to x's shape
broadcast_to.defjvp(lambda t, ans, x, shape: broadcast_to(t, shape=shape))
