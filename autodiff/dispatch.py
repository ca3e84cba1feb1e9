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

Under `vmap` a primitive needs a batching rule too (`defbatch`): rule(args, axes, **kw)
gets the operands, each batched one holding the whole batch along axis 0 (axes[i] = 0)
and the others as they are (axes[i] = None), and returns (result, axis of the result's
batch), the axis None for a result that is the same for every example.  Rules are written
with autodiff operations, so they work on arrays and Tensors alike (batching.py).

Calling a primitive: positional arguments are operands (Tensors, ndarrays, Python
scalars); keyword arguments are static parameters (axis, shapes, indices, ...).  If no
operand is a Tensor the call is plain numpy and returns a plain result.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .batched import Batched
from .guard import lock
from .state import state, tracing
from .tape import next_seq
from .tensor import Tensor
from .tensor import make_tensor as _wrap

_new = object.__new__

_ndarray = np.ndarray


def _node(
    data: np.ndarray,
    prim: Primitive,
    args: tuple,
    raw: tuple,
    kwargs: dict,
    needs: tuple,
    saved: list | None,
) -> Tensor:
    """A new tensor holding `data` that is a node of the tape: it remembers how it was
    computed.  `saved` are the arrays the mutation guard must lock while the node lives
    (see saved_arrays; None: find them here)."""
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
    if saved is None:
        saved = saved_arrays(args, kwargs)
    if saved and state.guard:
        lock(t, saved, prim.name)
    return t


def saved_arrays(args: tuple, params: dict) -> list:
    """The arrays a node saves that the user may hold: those of leaf operands, operands
    that are plain ndarrays, and ndarray parameters (labels, indices), also inside
    tuples.  Arrays of computed operands are the engine's own (see guard.py)."""
    arrays = []
    for a in args:
        if a.__class__ is _ndarray:
            arrays.append(a)
        elif isinstance(a, Tensor):
            if a._prim is None:
                arrays.append(a._data)
    if params:
        _saved_params(params, arrays)
    return arrays


def _saved_params(params: dict, arrays: list) -> None:
    """Append the ndarrays among `params` (and inside tuple parameters) to `arrays`."""
    for v in params.values():
        if v.__class__ is _ndarray:
            arrays.append(v)
        elif v.__class__ is tuple:
            for e in v:
                if e.__class__ is _ndarray:
                    arrays.append(e)


class Primitive:
    """A differentiable operation defined by a numpy forward and per-operand rules."""

    # Operands carrying forward-mode tangents are handled by forward.apply_jvp, which
    # forward.py installs here (it imports this module, never the other way round);
    # batched operands (under vmap) by batching.apply_batch, installed the same way.
    _jvp: Callable[..., Tensor]
    _batch: Callable[..., Any]

    def __init__(self, fun: Callable[..., Any], name: str | None = None, residual: bool = False):
        self.fun = fun
        self.residual = residual
        # `plain` computes the result alone (no operand is a Tensor: nothing to record).
        self.plain = (lambda *args, **kwargs: fun(*args, **kwargs)[0]) if residual else fun
        self.name = str(name or getattr(fun, "__name__", "primitive")).lstrip("_")
        self.vjps: Any = ()
        self.jvps: Any = ()
        self.batch_rule: Callable | None = None
        self.batch_params: tuple = ()
        self.__doc__ = getattr(fun, "__doc__", None)
        self.__name__ = self.name
        self.__wrapped__ = fun

    def defvjp(self, *rules: Callable | None) -> Primitive:
        """Set the vector-Jacobian rules, one per operand: rule(g, ans, *args, **kw).

        Pass None for an operand that is not differentiable (reverse mode then raises
        a clear error if that operand requires grad)."""
        self.vjps = rules
        return self

    def defjvp(self, *rules: Callable | None) -> Primitive:
        """Set the Jacobian-vector rules, one per operand: rule(t, ans, *args, **kw)."""
        self.jvps = rules
        return self

    def defvjp_argnum(self, rule: Callable) -> Primitive:
        """One VJP rule for any number of operands: rule(i, g, ans, *args, **kw)."""
        self.vjps = _EveryOperand(rule)
        return self

    def defvjp_joint(self, rule: Callable) -> Primitive:
        """One VJP rule for all operands at once, for operations whose cotangents share
        work: rule(needs, g, ans, *args, **kw) returns one cotangent (or None) per operand,
        where `needs` lists the operand indices that need one."""
        self.vjps = _AllOperands(rule)
        return self

    def defjvp_argnum(self, rule: Callable) -> Primitive:
        """One JVP rule for any number of operands: rule(i, t, ans, *args, **kw)."""
        self.jvps = _EveryOperand(rule)
        return self

    def defbatch(self, rule: Callable, params: tuple = ()) -> Primitive:
        """Set the batching rule (for vmap): rule(args, axes, **kw) -> (out, out_axis).

        args are the operands, a batched one with its batch along axis 0 (axes[i] == 0),
        an unbatched one as given (axes[i] is None); out_axis is the axis of the result
        that runs over the batch, or None if the result is the same for every example.
        `params` names keyword parameters that may be batched too (labels, indices): the
        rule then also gets `param_axes`, {name: 0 or None}."""
        self.batch_rule = rule
        self.batch_params = tuple(params)
        return self

    def __repr__(self) -> str:
        return f"<autodiff primitive {self.name}>"

    def _plain(self, args: tuple, kwargs: dict) -> Any:
        """The call without Tensor operands: plain numpy (recorded while ad.jit traces, if
        an operand is an array the recording computed)."""
        if tracing[0]:
            trace = state.trace
            if trace is not None and not trace.paused and trace.uses(args, kwargs):
                return trace.call(self.plain, *args, **kwargs)
        return self.plain(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs and self.batch_params and _batched_params(self.batch_params, kwargs):
            return self._batch(args, kwargs)  # per-example labels or indices under vmap
        # Unwrap operands; specialised for one and two operands (the common cases).
        raw: tuple
        needs: tuple[int, ...]
        saved: list
        n = len(args)
        if n == 1:
            a = args[0]
            if not isinstance(a, Tensor):
                if a.__class__ is Batched:
                    return self._batch(args, kwargs)
                return self._plain(args, kwargs)
            if a._tangents is not None:
                return self._jvp(args, kwargs)
            a_data = a._data
            raw = (a_data,)
            needs = (0,) if a._requires_grad else ()
        elif n == 2:
            a, b = args
            a_is_t = isinstance(a, Tensor)
            b_is_t = isinstance(b, Tensor)
            if a_is_t:
                if a._tangents is not None:
                    return self._jvp(args, kwargs)
                a_data = a._data
                if b_is_t:
                    if b._tangents is not None:
                        return self._jvp(args, kwargs)
                    raw = (a_data, b._data)
                    if a._requires_grad:
                        needs = (0, 1) if b._requires_grad else (0,)
                    else:
                        needs = (1,) if b._requires_grad else ()
                else:
                    if b.__class__ is Batched:
                        return self._batch(args, kwargs)
                    raw = (a_data, b)
                    needs = (0,) if a._requires_grad else ()
            elif b_is_t:
                if b._tangents is not None:
                    return self._jvp(args, kwargs)
                if a.__class__ is Batched:
                    return self._batch(args, kwargs)
                a_data = b._data
                raw = (a, a_data)
                needs = (1,) if b._requires_grad else ()
            else:
                if a.__class__ is Batched or b.__class__ is Batched:
                    return self._batch(args, kwargs)
                return self._plain(args, kwargs)
        else:
            raw_list = []
            need_list = []
            saved_list = []  # the arrays the guard locks, collected while unwrapping
            any_tensor = False
            i = 0
            for a in args:
                if isinstance(a, Tensor):
                    if a._tangents is not None:
                        return self._jvp(args, kwargs)
                    any_tensor = True
                    raw_list.append(a._data)
                    if a._requires_grad:
                        need_list.append(i)
                    if a._prim is None:
                        saved_list.append(a._data)
                else:
                    if a.__class__ is Batched:
                        return self._batch(args, kwargs)
                    raw_list.append(a)
                    if a.__class__ is _ndarray:
                        saved_list.append(a)
                i += 1
            if not any_tensor:
                return self._plain(args, kwargs)
            raw = tuple(raw_list)
            needs = tuple(need_list)
            a_data = None

        try:
            out = self.fun(*raw, **kwargs)
        except (ValueError, TypeError, IndexError) as e:
            raise _named_error(self, e, raw) from None
        if tracing[0]:  # some thread runs ad.jit: is it this one? (jit.py)
            trace = state.trace
            if trace is not None and not trace.paused:
                out = trace.primitive(self, args, raw, kwargs, out)
        if self.residual:
            out, residual = out
        if out.__class__ is not _ndarray:
            out = np.asarray(out)
        elif out is a_data:
            out = out.view()  # never let an output alias an operand's array object
        if needs and state.grad_enabled:
            # The arrays the guard locks (saved_arrays, inlined for speed).
            if n == 1:
                saved = [a_data] if a._prim is None else []
            elif n == 2:
                saved = []
                if a_is_t:
                    if a._prim is None:
                        saved.append(a_data)
                elif a.__class__ is _ndarray:
                    saved.append(a)
                if b_is_t:
                    if b._prim is None:
                        saved.append(b._data)
                elif b.__class__ is _ndarray:
                    saved.append(b)
            else:
                saved = saved_list
            if kwargs:
                _saved_params(kwargs, saved)  # before the residual joins kwargs
                if self.residual:
                    kwargs = {**kwargs, "residual": residual}
            elif self.residual:
                kwargs = {"residual": residual}
            return _node(out, self, args, raw, kwargs, needs, saved)
        return _wrap(out)


def replayed(fn: Callable) -> Callable:
    """Decorator for numpy code that ad.jit must run again at every replay: helpers of
    derivative rules that compute on the values of their arguments (a mask, counts of
    ties), random draws (a dropout mask from a Generator: each replay draws anew, in the
    order the function itself would), and derivative rules that read Python state that
    changes between calls (ad.jit otherwise records a rule's elementwise numpy calls with
    that state as constants).  While ad.jit traces, each call is recorded as one call,
    made again at every replay; otherwise it is a plain call."""

    @functools.wraps(fn)
    def helper(*args: Any, **kwargs: Any) -> Any:
        trace = state.trace
        if trace is not None:
            if not trace.paused:
                return trace.call_as_is(fn, *args, **kwargs)
            if trace.inlining:  # inside a rule ad.jit tries to inline: call the rule whole
                trace.refuse()
        return fn(*args, **kwargs)

    helper.replayed = True  # type: ignore[attr-defined]  # ad.jit never inlines it
    return helper


def _batched_params(names: tuple, kwargs: dict) -> bool:
    """Whether a keyword parameter among `names` holds a Batched value (or a tuple with
    one): such a call is batched even when no operand is."""
    for name in names:
        v = kwargs.get(name)
        if v.__class__ is Batched or (
            v.__class__ is tuple and any(e.__class__ is Batched for e in v)
        ):
            return True
    return False


def missing_rule(prim: Primitive, i: int, kind: str) -> NotImplementedError:
    """The error for operand `i` of `prim` having no rule of `kind` ("VJP" or "JVP")."""
    if kind == "VJP":
        unavailable, define = "reverse mode (grad, vjp, backward)", "defvjp"
    else:
        unavailable = "forward mode (jvp, jacobian(mode='fwd'), hessian, hvp)"
        define = "defjvp"
    return NotImplementedError(
        f"{prim.name}: no {kind} rule is defined for argument {i}, so "
        f"{unavailable} is unavailable for it; define one with {define}"
    )


def rule_for(prim: Primitive, i: int, kind: str) -> Callable:
    """Operand i's rule of `kind` ("VJP" or "JVP"), or the missing_rule error: also when
    the primitive was given fewer rules than it has operands."""
    rules = prim.vjps if kind == "VJP" else prim.jvps
    rule = rules[i] if i < len(rules) else None
    if rule is None:
        raise missing_rule(prim, i, kind)
    return rule


def rule_result(prim: Primitive, i: int, kind: str, value: Any, on_tensors: bool) -> Any:
    """What operand i's rule returned, as the engine uses it: an ndarray when rules run on
    arrays, a Tensor when they run on Tensors.  A Tensor returned to the array path gives
    its values; an ndarray, Python scalar or list returned to the Tensor path is a
    constant (it carries no derivative).  Anything else is an error naming the rule."""
    if value.__class__ is _ndarray and not on_tensors:
        return value
    if isinstance(value, Tensor):
        return value if on_tensors else value._data
    if isinstance(value, (_ndarray, np.generic, int, float, list, tuple)):
        try:
            array = np.asarray(value)
        except ValueError as e:
            raise TypeError(
                f"{prim.name}: the {kind} rule for argument {i} returned "
                f"{type(value).__name__} that is not an array: {e}"
            ) from None
        if array.dtype.kind not in "fc":
            array = array.astype(float)
        return _wrap(array) if on_tensors else array
    raise TypeError(
        f"{prim.name}: the {kind} rule for argument {i} returned "
        f"{type(value).__name__}; expected an ndarray or a Tensor (or None for "
        f"an identically zero contribution)"
    )


def _named_error(prim: Primitive, error: Exception, raw: tuple) -> Exception:
    """The same error, with the op's name and the operands' shapes and dtypes in front."""
    message = str(error)
    if message.startswith(prim.name + ":"):
        return error
    operands = ", ".join(
        f"{np.shape(a)} {np.result_type(a)}"
        if not isinstance(a, (list, tuple))
        else type(a).__name__
        for a in raw
    )
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


# Two primitives the mechanism itself needs: the identity (for `strip` and for
# functional transforms) and broadcasting (for tangents of broadcasting operands).


@primitive
def identity(x):
    """y = x (a new array object sharing x's memory)."""
    return np.asarray(x).view()


identity.defvjp(lambda g, ans, x: g)
identity.defjvp(lambda t, ans, x: t)
identity.defbatch(lambda args, axes: (identity(args[0]), 0))


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
        raise ValueError(
            f"broadcast_to: cannot broadcast an operand of shape {np.shape(x)} "
            f"to shape {tuple(shape)}"
        ) from None


broadcast_to.defvjp(lambda g, ans, x, shape: g)  # the engine sums g back to x's shape
broadcast_to.defjvp(lambda t, ans, x, shape: broadcast_to(t, shape=shape))
