"""`ad.jit`: trace a function once, replay its numpy work without the engine.

    step = ad.jit(ad.value_and_grad(loss))        # same signature and results as before
    value, grads = step(params, x, y)             # 1st call: traced, 2nd: checked, then fast

The first call for a signature (the pytree structure, the shapes, dtypes and strides of
the array leaves, the values of the other leaves and of `static_argnums`) runs the
function eagerly while recording, per thread, every piece of numpy work the engine does on
values derived from the arguments: each primitive's forward, each derivative rule of a
backward pass or of forward mode, the sums and accumulations between them, and gradients
written into `.grad` by `Tensor.backward()`.  A rule (or forward) that makes only
elementwise ufunc calls is recorded as those calls (`Trace.inline`), so rules must be
pure functions of their arguments (`ad.replayed` declares one that is not); any other is
called again as a whole at replay, so what it decides from the values is decided again.  The
recording becomes straight-line Python source (one line per call, values in local
variables), optimized without changing a bit of any result (`_optimized`: dead code
dropped, repeated ufunc calls made once, ufunc calls writing into operands that die there)
and compiled once; later calls run it on the new arrays: no Tensors, no tape, no dispatch.

Leaf Tensors the function reads without receiving them as arguments (a model's
parameters) are inputs too: each replay reads their current arrays.  Other values the
function closes over are constants of the recording, and so is Python state it reads
while tracing (a module's train/eval mode, flags): compile one function per mode, or pass
such values as static arguments.

What cannot be recorded raises while tracing: converting a traced value to a Python
bool, int or float (`if loss > 0`, `float(t)`, `t.item()`), or handing numpy its values
(`t.data`, `t.numpy()`, `np.asarray(t)`).  Make such values static (`static_argnums`) or
use `ad.where`.  Numpy code that works on arrays the engine handed out (an optimizer's
update of `.data` from `.grad`) is not recorded, nor are random numbers drawn inside the
function, unless drawn through `ad.replayed(fn)` (nn's dropout does): such a call is
recorded and made again at every replay, drawing new numbers from the same Generator in
the order the function itself would.  The second call of every signature replays *and*
runs the function eagerly (with the Generators it draws from reset in between), compares
the results, and raises if they differ; compile an optimizer step with
`optim.compile_step`.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from types import FunctionType
from typing import Any

import numpy as np

from .backward import _accumulate_grad, _AllOperands, _summed
from .dispatch import missing_rule, rule_result
from .forward import checked_tangent
from .state import jit_off, state, tracing
from .tape import FREED, free
from .tensor import Tensor, make_tensor
from .tree import flatten, unflatten

_ARRAYS = (np.ndarray, np.generic)
_REGISTER = re.compile(r"\br\d+\b")
_CONSTANT = re.compile(r"\bc\d+\b")
_OFTEN = 3  # reads of a constant that make it a default argument


class _Line:
    """One line of the program: `target = text`, or `text` alone (a call for its effect).
    An elementwise ufunc call keeps its parts (`ufunc`, its constant `name`, the operand
    expressions `args`, and `out`, a dead register it may write into) for the
    optimizations in `_optimized`."""

    __slots__ = ("target", "text", "ufunc", "name", "args", "out", "replayed")

    def __init__(
        self,
        target: str | None,
        text: str | None,
        ufunc: np.ufunc | None = None,
        name: str = "",
        args: list | None = None,
    ):
        self.target, self.text, self.ufunc, self.name = target, text, ufunc, name
        self.args: list = args or []
        self.out: str | None = None
        self.replayed = False  # an ad.replayed call: made at every replay, needed or not

    def reads(self) -> list:
        """The registers the line reads."""
        if self.ufunc is not None:
            return [a for a in self.args if _REGISTER.fullmatch(a)]
        return _REGISTER.findall(self.text or "")

    def source(self) -> str:
        if self.ufunc is not None:
            call = f"{self.name}({', '.join(self.args + ([self.out] if self.out else []))})"
        else:
            call = self.text or ""
        return f"{self.target} = {call}" if self.target else call


class _NotInlined(BaseException):
    """Raised inside `Trace.inline` by whatever a `_Symbolic` array cannot record (not an
    Exception, so that a rule's own `except Exception` cannot take it for its own)."""


_NOT_INLINED = object()


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise _NotInlined


class _Symbolic(np.lib.mixins.NDArrayOperatorsMixin):
    """An array of the recording handed to a derivative rule (or a forward) that
    `Trace.inline` runs again: elementwise ufunc calls on it (operators included) are
    computed and recorded as lines; its shape and dtype can be read (they are fixed per
    signature); everything else raises `_NotInlined`: reading its values (`bool`,
    `float`, `np.asarray`), methods, indexing, numpy functions, ufunc methods, writing
    into it (`out=`, `+=`), and `**` (numpy computes `x ** 2` and `x ** 0.5` with other
    functions than `np.power`)."""

    __slots__ = ("value", "register", "trace", "allowed")

    def __init__(self, value: Any, register: str, trace: Trace, allowed: set):
        self.value, self.register, self.trace, self.allowed = value, register, trace, allowed

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs or not _elementwise(ufunc):
            raise _NotInlined
        errors = np.geterr()
        if (
            errors != self.trace.errors
            or _RAISING & set(errors.values())
            or tuple(warnings.filters) != self.trace.warning_filters
        ):
            # the rule sets how floating-point errors or warnings are handled (it may act
            # on them, on values, or silence them): the replay would not
            raise _NotInlined
        values = tuple(x.value if x.__class__ is _Symbolic else x for x in inputs)
        try:  # an inf or nan made here is a decision on values waiting to happen: refuse
            with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
                out = ufunc(*values)
        except FloatingPointError:
            raise _NotInlined from None
        register = self.trace.ufunc_line(ufunc, inputs, out, self.allowed)
        return _Symbolic(out, register, self.trace, self.allowed)

    __array_function__ = __array__ = __bool__ = __len__ = __iter__ = _refuse
    __getitem__ = __setitem__ = __pow__ = __rpow__ = __ipow__ = _refuse


_RAISING = {"raise", "call"}


def _elementwise(ufunc: np.ufunc) -> bool:
    return ufunc.signature is None and ufunc.nout == 1


def _operands(args: tuple) -> bool:
    """Whether every operand is an array or a Python number (a ufunc line's operands)."""
    for a in args:
        cls = a.__class__
        if not (cls is float or cls is int or cls is bool or isinstance(a, _ARRAYS)):
            return False
    return True


def _replays(fn: Callable) -> bool:
    """Whether fn was declared with `ad.replayed` (to be called again at every replay)."""
    return getattr(fn, "replayed", False) is True


def _arrays_only(out: Any) -> bool:
    if out.__class__ is tuple:
        return all(_arrays_only(o) for o in out)
    return out is None or isinstance(out, _ARRAYS)


def _unwrapped(result: Any) -> Any:
    """An inlined call's result as arrays; only `_Symbolic` arrays (and None, and tuples
    of them) may come back: any other array was not computed by recorded lines.  Not a
    numpy scalar either: several calls may return the same one (np.True_), and the engine
    goes on to find a result's register by the object's id."""
    if result.__class__ is _Symbolic:
        if result.value.__class__ is not np.ndarray:
            raise _NotInlined
        return result.value
    if result.__class__ is tuple:
        return tuple(_unwrapped(r) for r in result)
    if result is None:
        return None
    raise _NotInlined


def _identical(got: Any, want: Any, arguments: set) -> bool:
    """Whether an inlined call's result is bit for bit the call's own, and an argument
    exactly where the call's own result is that argument."""
    if got.__class__ is tuple:
        return (
            want.__class__ is tuple
            and len(got) == len(want)
            and all(_identical(g, w, arguments) for g, w in zip(got, want, strict=False))
        )
    if got is None or want is None or got is want:
        return got is want
    if id(got) in arguments or id(want) in arguments or got.__class__ is not want.__class__:
        return False
    return (
        got.dtype == want.dtype
        and got.shape == want.shape
        and (got.__class__ is not np.ndarray or got.strides == want.strides)
        and got.tobytes() == want.tobytes()
    )


class Trace:
    """The recording of one traced call: registers r0, r1, ... hold arrays; `lines` is the
    straight-line program computing them; `names` its constants and functions."""

    def __init__(self) -> None:
        self.register_of: dict = {}  # id(array) -> register number
        self.keep: list = []  # every registered array, so ids stay unique
        self.lines: list = []
        self.names: dict = {}  # global name -> object, for the compiled program
        self.bound: list = []  # (register, leaf Tensor) read at the start of a replay
        self.arg_tensors: dict = {}  # id(Tensor) -> index of the argument leaf it is
        self.paused = 0  # > 0 inside a recorded call: nothing inside records
        self.inputs: set = set()  # registers holding arguments or closed-over leaves
        self.constant_of: dict = {}  # id(object) -> its name, so each object has one
        self.scalar_of: dict = {}  # (value, dtype) -> name of the 0-d array holding it
        self.shadowed: list = []  # (id, register) pairs that a newer register replaced
        self.errors: Any = {}  # np.geterr() where `inline` was called
        self.warning_filters: tuple = ()  # warnings.filters there
        self.inlining = 0  # > 0 while `inline` runs a function on symbolic arrays
        self.grad_of: dict = {}  # id(a leaf's .grad array) -> (its program name, the leaf)

    # ----------------------------------------------------------------- registers
    def register(self, value: Any) -> str:
        """A new register holding `value` (an array produced by the recorded program).  A
        numpy scalar object may come back from several calls (np.True_ does): its id
        then names the newest register, and `shadowed` keeps the older one for a rollback."""
        n = len(self.keep)
        self.keep.append(value)
        older = self.register_of.get(id(value))
        if older is not None:
            self.shadowed.append((id(value), older))
        self.register_of[id(value)] = n
        return f"r{n}"

    def refuse(self) -> None:
        """Inside `inline`: the function does what a recording cannot inline."""
        raise _NotInlined

    def traced(self, array: Any) -> bool:
        return id(array) in self.register_of

    def uses(self, args: tuple, kwargs: dict) -> bool:
        """Whether an array the recording computed is among args or kwargs (or in tuples)."""
        for v in (*args, *kwargs.values()):
            if v.__class__ is tuple:
                if self.uses(v, {}):
                    return True
            elif id(v) in self.register_of:
                return True
        return False

    def constant(self, value: Any) -> str:
        name = self.constant_of.get(id(value))
        if name is None:
            name = self.constant_of[id(value)] = f"c{len(self.names)}"
            self.names[name] = value
        return name

    def scalar(self, value: Any, dtype: np.dtype) -> str:
        """A Python number as a 0-d array of `dtype`: numpy converts Python numbers to the
        array operand's dtype anyway (NEP 50), but converting one per call costs more
        than the rest of a small ufunc call."""
        key = (repr(value), dtype)  # repr: -0.0 and 0.0 are two constants
        name = self.scalar_of.get(key)
        if name is None:
            with np.errstate(over="ignore"):
                array = np.array(value, dtype)
            if np.isfinite(value) and not np.isfinite(array):  # numpy warns per call
                return self.ref(value)
            name = self.scalar_of[key] = f"c{len(self.names)}"
            self.names[name] = array
        return name

    def ref(self, value: Any) -> str:
        """The program's expression for `value`: a register, a tuple of expressions, or a
        constant (a leaf Tensor met for the first time becomes an input read per replay)."""
        if isinstance(value, Tensor):
            return self.tensor_ref(value)
        if isinstance(value, _ARRAYS):
            n = self.register_of.get(id(value))
            return f"r{n}" if n is not None else self.constant(value)
        if value.__class__ is tuple:
            return "(" + "".join(self.ref(v) + ", " for v in value) + ")"
        if (
            value is None
            or isinstance(value, (bool, int, str))
            or (isinstance(value, float) and np.isfinite(value))
        ):
            return repr(value)
        return self.constant(value)

    def tensor_ref(self, t: Tensor) -> str:
        n = self.register_of.get(id(t._data))
        if n is not None:
            return f"r{n}"
        if t._prim is None:  # a leaf the function closes over: an input of every replay
            name = self.constant(t)
            reg = self.register(t._data)
            self.inputs.add(reg)
            self.bound.append((reg, name))
            return reg
        if t._requires_grad and t._prim is not FREED:
            raise TypeError(
                "jit: the function uses a Tensor computed outside it that is "
                "still on a tape (its derivative would have to flow out of the "
                "compiled function); pass it as an argument or detach() it"
            )
        return self.constant(t._data)

    # ------------------------------------------------------------------ recording
    def line(self, target: str | None, text: str) -> None:
        self.lines.append(_Line(target, text))

    def call(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """fn(*args, **kwargs), computed now and recorded: a derivative rule or a
        primitive's forward as the numpy calls it makes, when it makes only elementwise
        ufunc calls (see `inline`), else as one call of fn.  Returns the values the
        engine goes on with."""
        return self.emit(fn, args, kwargs, self.unrecorded(fn, args, kwargs))

    def call_as_is(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """fn(*args, **kwargs), computed now and recorded as one call, made again at every
        replay (`ad.replayed`: random draws, decisions on values)."""
        out = self.unrecorded(fn, args, kwargs)
        first = len(self.lines)
        out = self.emit(fn, args, kwargs, out, inline=False)
        self.lines[first].replayed = True
        return out

    def unrecorded(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        """fn(*args, **kwargs), with nothing inside it recorded."""
        self.paused += 1
        try:
            return fn(*args, **kwargs)
        finally:
            self.paused -= 1

    def emit(self, fn: Callable, args: tuple, kwargs: dict, out: Any, inline: bool = True) -> Any:
        """Record `out = fn(*args, **kwargs)` (already computed); returns the values the
        engine goes on with: `out`, or the same values as computed by inlined code."""
        if (
            inline
            and fn.__class__ is np.ufunc
            and not kwargs
            and _elementwise(fn)
            and _operands(args)
        ):
            self.ufunc_line(fn, args, out, None)
            return out
        if inline and fn.__class__ is FunctionType and _arrays_only(out) and not _replays(fn):
            values = self.inline(fn, args, kwargs, out)
            if values is not _NOT_INLINED:
                return values
        parts = [self.ref(a) for a in args] + [f"{k}={self.ref(v)}" for k, v in kwargs.items()]
        call = f"{self.constant(fn)}({', '.join(parts)})"
        if out.__class__ is tuple:
            whole = self.register(out)
            self.line(whole, call)
            self.unpack(whole, out)
        elif isinstance(out, _ARRAYS):
            if out.__class__ is np.ndarray and self.traced(out):  # an identity
                self.line(None, call)
            else:
                self.line(self.register(out), call)
        elif isinstance(out, Tensor):
            # a rule given Tensors (tangents that are Tensors) returns one; at replay it gets
            # arrays and returns arrays: the program holds the values either way
            if self.traced(out._data):
                self.line(None, call)
            else:
                self.line(self.register(out._data), f"{self.constant(_values)}({call})")
        else:
            self.line(None, call)
        return out

    def ufunc_line(self, ufunc: np.ufunc, inputs: tuple, out: Any, allowed: set | None) -> str:
        """Record `out = ufunc(*inputs)` (an elementwise ufunc, one output) as a line the
        program's optimizations understand; returns its register.  Inside `inline`
        (`allowed` not None) the inputs may be `_Symbolic` (their registers are read), and
        any other array operand must be a register or one of fn's own arguments: an array
        made inside fn may come from state that changes (a random draw), not a constant.
        Python numbers become 0-d arrays of the output's dtype where numpy's loop for them
        is the one for that dtype alone (NEP 50: they are converted to it anyway)."""
        char = out.dtype.char
        same = out.dtype.kind in "fc" and f"{char * ufunc.nin}->{char}" in ufunc.types
        if same:
            arrays = [v.value if v.__class__ is _Symbolic else v for v in inputs]
            arrays = [v for v in arrays if isinstance(v, _ARRAYS)]
            same = bool(arrays) and all(v.dtype == out.dtype for v in arrays)
        args = []
        for v in inputs:
            cls = v.__class__
            if cls is _Symbolic:
                args.append(v.register)
            elif cls is float or cls is int or cls is complex:
                args.append(self.scalar(v, out.dtype) if same else self.ref(v))
            elif isinstance(v, _ARRAYS):
                if allowed is not None and id(v) not in allowed and not self.traced(v):
                    raise _NotInlined
                args.append(self.ref(v))
            elif cls is bool:
                args.append(repr(v))
            else:
                raise _NotInlined
        register = self.register(out)
        self.lines.append(_Line(register, None, ufunc, self.constant(ufunc), args))
        return register

    def inline(self, fn: Callable, args: tuple, kwargs: dict, expected: Any) -> Any:
        """Run fn again on its registers wrapped as `_Symbolic` arrays, which record each
        elementwise ufunc call as a line of the program (so a replay makes the calls
        directly: no Python frame for fn, an identity costs nothing, and the optimizations
        see through it).  Accepted only if fn did nothing else with them (anything else
        raises inside) and returned exactly `expected`: the same values bit for bit, and
        the same arrays where it returned an argument.  Otherwise the lines are taken back
        and `_NOT_INLINED` returned.  So a derivative rule may run twice while tracing."""
        n_lines, n_registers, n_shadowed = len(self.lines), len(self.keep), len(self.shadowed)
        given = [*args, *kwargs.values()]
        if any(isinstance(v, Tensor) for v in given):
            return _NOT_INLINED
        allowed = {id(v) for v in given if isinstance(v, _ARRAYS)}

        def wrap(v: Any) -> Any:
            n = self.register_of.get(id(v))
            return v if n is None else _Symbolic(v, f"r{n}", self, allowed)

        self.errors = np.geterr()  # how the caller handles floating-point errors
        self.warning_filters = tuple(warnings.filters)  # and warnings
        self.paused += 1
        self.inlining += 1
        try:
            got = _unwrapped(
                fn(*[wrap(a) for a in args], **{k: wrap(v) for k, v in kwargs.items()})
            )
            if _identical(got, expected, allowed):
                return got
        except (Exception, _NotInlined):  # what a symbolic array refuses: call fn whole
            pass
        finally:
            self.paused -= 1
            self.inlining -= 1
        for value in self.keep[n_registers:]:
            self.register_of.pop(id(value), None)
        for key, register in reversed(self.shadowed[n_shadowed:]):
            self.register_of[key] = register
        del self.keep[n_registers:], self.shadowed[n_shadowed:]
        del self.lines[n_lines:]
        return _NOT_INLINED

    def unpack(self, name: str, values: tuple) -> None:
        """Registers for the arrays inside a tuple result (nested tuples too)."""
        for i, element in enumerate(values):
            if element.__class__ is tuple:
                inner = self.register(element)
                self.line(inner, f"{name}[{i}]")
                self.unpack(inner, element)
            elif isinstance(element, _ARRAYS) and not self.traced(element):
                self.line(self.register(element), f"{name}[{i}]")
            elif isinstance(element, Tensor) and not self.traced(element._data):
                self.line(self.register(element._data), f"{self.constant(_values)}({name}[{i}])")

    def primitive(self, prim: Any, args: tuple, raw: tuple, kwargs: dict, out: Any) -> Any:
        """Record a primitive's forward (Primitive.__call__ with a Tensor operand) and
        return its output as the engine will use it: an ndarray never aliasing an
        operand's array (and the residual, for a primitive that has one)."""
        for a in args:  # leaf Tensors among the operands are inputs of the program
            if isinstance(a, Tensor):
                self.tensor_ref(a)
        index = kwargs.get("index")
        for item in index if index.__class__ is tuple else (index,):
            if item.__class__ is np.ndarray and item.dtype == bool and self.traced(item):
                raise TypeError(
                    f"jit: {prim.name} with a traced boolean mask of shape {item.shape}: "
                    f"the result's shape would depend on the values, which a replay cannot "
                    f"follow; use ad.where(mask, x, 0) (and divide by ad.sum(mask) for a "
                    f"mean)"
                )
        out = self.emit(prim.fun, raw, kwargs, out)
        if prim.residual:
            value, residual = out
        else:
            value, residual = out, None
        if value.__class__ is not np.ndarray:
            value = self.call(np.asarray, value)
        elif any(value is r for r in raw):
            value = self.call(np.ndarray.view, value)
        return (value, residual) if prim.residual else value

    # ------------------------------------------------------------- reverse mode
    def backward_pass(
        self, roots: list, seeds: list, retain_graph: bool, capture: dict | None
    ) -> None:
        """The first-order backward pass of backward.backward_pass, run now and recorded:
        the same order, rules, sums and accumulations, decided from the tape's structure."""
        oldest = min(capture) if capture else -1
        pending: dict = {}
        given: set = set()
        for root, seed in zip(roots, seeds, strict=False):
            self.tensor_ref(root)
            if root._seq in pending:
                pending[root._seq][1] = self.call(np.add, pending[root._seq][1], seed)
            else:
                pending[root._seq] = [root, seed]
        visited = []
        while pending:
            seq = max(pending)
            node, g = pending.pop(seq)
            prim = node._prim
            if capture is not None:
                if seq in capture:
                    capture[seq] = self.owned(g, given)
                    continue
            elif prim is None:  # a root that is a leaf
                self.accumulate_grad(node, g, copy=True)
                continue
            elif node._retain:
                raise NotImplementedError(
                    "jit: retain_grad() inside a compiled function is not supported"
                )
            if prim is None:
                continue
            if prim is FREED:
                raise RuntimeError(
                    "backward: trying to backpropagate through a graph that has "
                    "already been freed by an earlier backward pass"
                )
            visited.append(node)
            args, kwargs = node._args, node._kwargs
            vjps = prim.vjps
            joint = vjps.rule if vjps.__class__ is _AllOperands else None
            cotangents = None
            for i in node._needs:
                parent = args[i]
                pseq = parent._seq
                if pseq < oldest:
                    continue
                if capture is not None and parent._prim is None and pseq not in capture:
                    continue
                if joint is not None:
                    if cotangents is None:
                        cotangents = self.call(
                            joint, node._needs, g, node._data, *node._raw, **kwargs
                        )
                    gi = cotangents[i]
                else:
                    rule = vjps[i] if i < len(vjps) else None
                    if rule is None:
                        raise missing_rule(prim, i, "VJP")
                    gi = self.call(rule, g, node._data, *node._raw, **kwargs)
                if gi is None:
                    continue
                if gi.__class__ is not np.ndarray:
                    gi = self.call(rule_result, prim, i, "VJP", gi, False)
                if gi.shape != parent._data.shape:
                    gi = self.call(_summed, prim, i, gi, parent._data.shape, node._data.shape)
                if parent._prim is None and capture is None:  # as backward_pass: at once
                    self.accumulate_grad(parent, gi, copy=gi is g)
                    continue
                entry = pending.get(pseq)
                if entry is not None:
                    entry[1] = self.call(np.add, entry[1], gi)
                else:
                    pending[pseq] = [parent, gi]
        if not retain_graph:
            for node in visited:
                free(node)

    def owned(self, g: Any, given: set) -> Any:
        """backward._owned, decided now (numpy's flags and aliasing repeat at replay)."""
        if id(g) in given or not g.flags.writeable or g.base is not None:
            return self.call(np.copy, g)
        given.add(id(g))
        return g

    def accumulate_grad(self, tensor: Tensor, g: Any, copy: bool) -> None:
        """Tensor.backward's `.grad += g` for a leaf, recorded (the replay applies it to
        the same Tensor, or to the Tensor passed in the same argument position)."""
        name = self.grad_owner(tensor)
        self.unrecorded(_accumulate_grad, (tensor, g.copy() if copy else g, False), {})
        given = f"{self.ref(g)}{'.copy()' if copy else ''}"
        data = tensor._data
        if (  # what _accumulate_grad checks holds at every replay: the fast path
            g.__class__ is np.ndarray
            and g.dtype == data.dtype
            and g.shape == data.shape
            and (copy or (g.flags.writeable and g.base is None))
        ):
            self.line(None, f"{self.constant(_grad_into)}({name}, {given})")
        else:
            self.line(None, f"{self.constant(_accumulate_grad)}({name}, {given}, False)")
        if isinstance(tensor.grad, _ARRAYS):
            if not self.traced(tensor.grad):
                self.line(self.register(tensor.grad), f"{name}.grad")
            self.grad_of[id(tensor.grad)] = (name, tensor)

    def grad_owner(self, tensor: Tensor) -> str:
        index = self.arg_tensors.get(id(tensor))
        if index is not None:
            return f"t{index}"
        self.tensor_ref(tensor)
        return self.constant(tensor)

    # -------------------------------------------------------------- forward mode
    def tangent_at(
        self,
        prim: Any,
        level: int,
        args: tuple,
        ans: Any,
        rule_args: tuple,
        kwargs: dict,
        out_shape: tuple,
    ) -> Any:
        """forward._tangent_at with rules on arrays, recorded rule by rule."""
        tangent = None
        for i, a in enumerate(args):
            if not isinstance(a, Tensor):
                continue
            tangents = a._tangents
            t = tangents.get(level) if tangents is not None else None
            if t is None:
                continue
            rule = prim.jvps[i] if i < len(prim.jvps) else None
            if rule is None:
                raise missing_rule(prim, i, "JVP")
            ti = self.call(rule, t, ans, *rule_args, **kwargs)
            if ti is None:
                continue
            if ti.__class__ is not np.ndarray:
                ti = self.call(rule_result, prim, i, "JVP", ti, False)
            if ti.shape != out_shape:
                ti = self.call(checked_tangent, prim, i, ti, a._data.shape, out_shape)
            tangent = ti if tangent is None else self.call(np.add, tangent, ti)
        return tangent


class Compiled:
    """A traced function's program, callable on new arguments of the same signature."""

    def __init__(self, trace: Trace, n_leaves: int, unpack: list, result: str):
        """`unpack`: the lines that turn the leaves l0, l1, ... into the arrays a0, a1, ...
        (and the argument Tensors t0, ...); `result`: the expression building the output."""
        header = ", ".join(f"l{k}" for k in range(n_leaves))
        lines, result = _optimized(trace.lines, result, trace.keep)
        body = [f"    {line}" for line in unpack]
        body += [f"    {reg} = {name}._data" for reg, name in trace.bound]
        if trace.bound:  # closed-over leaves are not in the cache key: check them here
            layout = "".join(
                f"{r}.shape, {r}.dtype, {r}.strides, {name}._requires_grad, "
                for r, name in trace.bound
            )
            traced = tuple(
                x
                for r, name in trace.bound
                for x in (*_layout(trace.keep[int(r[1:])]), trace.names[name]._requires_grad)
            )
            body.append(f"    if ({layout}) != {trace.constant(traced)}:")
            body.append(f"        raise {trace.constant(_StaleProgram)}")
        body += [f"    {line.source()}" for line in lines]
        body.append(f"    return {result}")
        # constants read often become default arguments: local variables, cheaper to read
        uses = Counter(_CONSTANT.findall("\n".join(body)))
        often = [f"{name}={name}" for name, n in uses.items() if n >= _OFTEN]
        header = ", ".join([header, *often] if header else often)
        self.source = f"def replay({header}):\n" + "\n".join(body) + "\n"
        namespace = dict(trace.names)
        exec(compile(self.source, "<ad.jit replay>", "exec"), namespace)
        self.run = namespace["replay"]
        self.checked = False


def _optimized(lines: list, result: str, values: list) -> tuple[list, str]:
    """The program's lines, smaller and cheaper, and the result expression renamed to match:
    dead code dropped, elementwise ufunc calls computed twice computed once, and ufunc
    calls writing into an operand that dies there (`values`: each register's array at
    trace time, for shapes, dtypes and strides).  Only registers that are *private* take
    part in the last two: made by an elementwise ufunc call and read only by such calls,
    so no other line, view or result can see that two of them became one array, or that
    one was overwritten."""
    lines = _live(lines, result)
    shared = set(_REGISTER.findall(result))
    for line in lines:
        if line.ufunc is None:
            shared.update(line.reads())
    private = {line.target for line in lines if line.ufunc is not None} - shared
    lines, renamed = _common_calls_once(lines, private)
    if renamed:
        result = _REGISTER.sub(lambda m: renamed.get(m.group(), m.group()), result)
        lines = _live(lines, result)
    _write_into_dead_operands(lines, private, values)
    return lines, result


class _StaleProgram(Exception):
    """A closed-over leaf's array no longer has the shape, dtype or strides it was traced
    with (its `.data` was replaced), or the leaf was frozen or unfrozen (`requires_grad`):
    the program would compute for the old ones."""


def _layout(array: np.ndarray) -> tuple:
    return (array.shape, array.dtype, array.strides)


def _live(lines: list, result: str) -> list:
    """The lines the result needs (dead code dropped): a line with a target is kept if a
    kept line or the result reads it; a line that assigns nothing has effects and is kept."""
    needed = set(_REGISTER.findall(result))
    kept = []
    for line in reversed(lines):
        if line.target is not None and line.target not in needed and not line.replayed:
            continue
        needed.update(line.reads())
        kept.append(line)
    return kept[::-1]


def _common_calls_once(lines: list, private: set) -> tuple[list, dict]:
    """Common subexpressions: a private elementwise ufunc call with the same ufunc and
    operands as an earlier private one is dropped and its register renamed to the earlier
    one.  A line of any other kind may change arrays in place, so none is matched across it."""
    renamed: dict = {}
    seen: dict = {}
    kept = []
    for line in lines:
        if line.ufunc is None:
            seen.clear()
            kept.append(line)
            continue
        if renamed:
            line.args = [renamed.get(a, a) for a in line.args]
        if line.target in private:
            # operands in the same order only: complex x * y and y * x differ in the last
            # bit, and so do the signs of nan + -nan and -nan + nan
            key = (line.name, tuple(line.args))
            earlier = seen.get(key)
            if earlier is not None:
                renamed[line.target] = earlier
                continue
            seen[key] = line.target
        kept.append(line)
    return kept, renamed


def _write_into_dead_operands(lines: list, private: set, values: list) -> None:
    """A private operand that the ufunc call reads last, of the result's shape, dtype and
    strides, becomes the call's `out` (numpy elides temporaries so only for large arrays;
    here it costs nothing at replay, and also saves the allocation for small ones)."""
    last = {}
    for i, line in enumerate(lines):
        for r in line.reads():
            last[r] = i
    for i, line in enumerate(lines):
        if line.ufunc is None:
            continue
        made = values[int(line.target[1:])]
        if made.__class__ is not np.ndarray or made.ndim == 0:
            continue
        for a in line.args:
            if a in private and last[a] == i:
                v = values[int(a[1:])]
                if (
                    v.__class__ is np.ndarray
                    and v.shape == made.shape
                    and v.dtype == made.dtype
                    and v.strides == made.strides
                ):
                    line.out = a
                    break


def _grad_into(tensor: Tensor, g: np.ndarray) -> None:
    """_accumulate_grad for a gradient whose class, dtype, shape and ownership the trace
    checked (they are the same at every replay): assigned when `.grad` is None."""
    if tensor.grad is None:
        tensor.grad = g
    else:
        _accumulate_grad(tensor, g, False)


def _values(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _fresh_copy(x: Any) -> Any:
    return np.array(x, copy=True)


def jit(fun: Callable, static_argnums: int | Sequence[int] = (), max_cache: int = 32) -> Callable:
    """Compile `fun` (arrays, Tensors and pytrees of them in and out): see the module
    docstring.  `static_argnums`: positions of arguments that are not arrays (sizes,
    flags, Python callables); their values are part of the signature, so each new
    value traces again.  Python numbers and other non-array leaves are static too (numpy
    scalars are 0-d arrays).  The compiled function has `.cache_info()`,
    `.cache_clear()` and `.sources()` (the Python source of each cached replay); at most
    `max_cache` signatures are kept (least recently used dropped)."""
    statics = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    cache: OrderedDict = OrderedDict()
    counts = {"traces": 0, "replays": 0}

    @functools.wraps(fun)
    def compiled(*args: Any, **kwargs: Any) -> Any:
        if (tracing[0] and state.trace is not None) or (jit_off[0] and state.jit_disabled):
            return fun(*args, **kwargs)  # inside another traced function, or disable_jit()
        key = _flat_signature(args, statics) if not kwargs else None
        if key is not None:  # positional arrays, Tensors and scalars: the common, fast case
            leaves = [a for i, a in enumerate(args) if i not in statics] if statics else args
            tree = None
        else:  # pytrees: the key describes the structure and every leaf, in flatten's order
            leaves = []
            if statics:
                dynamic = [a for i, a in enumerate(args) if i not in statics]
                key = (
                    _tree_key((dynamic, kwargs), leaves),
                    tuple((i, _static_key(args[i])) for i in statics if i < len(args)),
                )
            else:
                key = (_tree_key((list(args), kwargs), leaves), ())
            tree = None
        program = cache.get(key)
        if program is None:
            if tree is None:
                leaves, tree = flatten(
                    ([a for i, a in enumerate(args) if i not in statics], kwargs)
                )
            out, program = _trace(fun, args, kwargs, statics, leaves, tree)
            cache[key] = program
            if len(cache) > max_cache:
                cache.popitem(last=False)
            counts["traces"] += 1
            return out
        if len(cache) > 1:
            try:
                cache.move_to_end(key)
            except KeyError:  # another thread dropped it meanwhile: the program still runs
                pass
        counts["replays"] += 1
        try:
            if not program.checked:
                return _checked_replay(fun, args, kwargs, program, leaves)
            return program.run(*leaves)
        except _StaleProgram:  # a closed-over leaf changed its dtype or layout: trace anew
            cache.pop(key, None)
            return compiled(*args, **kwargs)

    def cache_info() -> dict:
        """How many signatures are cached, and how many calls traced or replayed."""
        return {"signatures": len(cache), "max_cache": max_cache, **counts}

    def sources() -> list:
        """The Python source of each cached signature's replay, least recently used first."""
        return [program.source for program in list(cache.values())]

    compiled.cache_info = cache_info  # type: ignore[attr-defined]
    compiled.sources = sources  # type: ignore[attr-defined]
    compiled.cache_clear = cache.clear  # type: ignore[attr-defined]
    return compiled


def _flat_signature(args: tuple, statics: tuple) -> tuple | None:
    """The cache key of positional arguments that are arrays, Tensors or scalars (None if
    one is a container: then the general pytree key is used)."""
    key: list = ["flat"]
    if not statics:  # the common case first: every argument an ndarray
        for a in args:
            if a.__class__ is not np.ndarray:
                break
            key.append((a.shape, a.dtype, a.strides))
        else:
            return tuple(key)
        del key[1:]
    for i, a in enumerate(args):
        cls = a.__class__
        if cls is np.ndarray:
            key.append((a.shape, a.dtype, a.strides))
        elif cls is Tensor or isinstance(a, Tensor):  # nn.Parameter too
            data = a._data
            key.append((data.shape, data.dtype, data.strides, a._requires_grad, True))
        elif isinstance(a, np.generic):  # numpy scalars: 0-d arrays
            key.append(((), a.dtype, ()))
        elif isinstance(a, (tuple, list, dict)) and i not in statics:
            return None  # a pytree: the general key
        else:
            key.append(("static", _static_key(a)))
    return tuple(key)


def _tree_key(node: Any, leaves: list) -> Any:
    """The cache key of the pytree `node` (its structure and each leaf's shape, dtype and
    strides, or a static leaf's value); appends the leaves to `leaves` in tree.flatten's
    order."""
    cls = node.__class__
    if cls is np.ndarray:
        leaves.append(node)
        return (node.shape, node.dtype, node.strides)
    if cls is list or cls is tuple:  # exact classes first: the common case, and cheap
        return (cls, tuple([_tree_key(child, leaves) for child in node]))
    if cls is dict:
        return (dict, tuple([(k, _tree_key(v, leaves)) for k, v in node.items()]))
    if cls is Tensor or isinstance(node, Tensor):  # nn.Parameter too
        leaves.append(node)
        data = node._data
        return (data.shape, data.dtype, data.strides, node._requires_grad, True)
    if isinstance(node, (tuple, list)):
        return (cls, tuple([_tree_key(child, leaves) for child in node]))
    if isinstance(node, dict):
        return (dict, tuple([(k, _tree_key(v, leaves)) for k, v in node.items()]))
    leaves.append(node)
    if isinstance(node, np.generic):  # numpy scalars: 0-d arrays
        return ((), node.dtype, ())
    return ("static", _static_key(node))


def _static_key(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"jit: a static argument must be hashable (it is part of the cache "
            f"key), got {type(value).__name__}; pass arrays as arrays"
        ) from None
    return (type(value), value)


def _trace(
    fun: Callable, args: tuple, kwargs: dict, statics: tuple, leaves: Sequence, tree: Any
) -> tuple[Any, Compiled]:
    trace = Trace()
    traced_leaves = []
    unpack = []  # the replay's first lines: leaf l{k} -> array a{n} (and Tensor t{m})
    n_inputs = n_tensors = 0
    for k, leaf in enumerate(leaves):
        if isinstance(leaf, Tensor):
            register = trace.register(leaf._data)
            trace.inputs.add(register)
            trace.line(register, f"a{n_inputs}")
            trace.arg_tensors[id(leaf)] = n_tensors
            unpack += [f"a{n_inputs} = l{k}._data", f"t{n_tensors} = l{k}"]
            n_inputs += 1
            n_tensors += 1
            traced_leaves.append(leaf)
        elif isinstance(leaf, _ARRAYS):
            leaf = np.asarray(leaf)
            t = make_tensor(leaf)  # every operation on it takes the Tensor path (recorded)
            register = trace.register(leaf)
            trace.inputs.add(register)
            trace.line(register, f"a{n_inputs}")
            # a 0-d argument may come as a numpy scalar (same signature)
            unpack.append(
                f"a{n_inputs} = {trace.constant(np.asarray)}(l{k})"
                if leaf.ndim == 0
                else f"a{n_inputs} = l{k}"
            )
            n_inputs += 1
            traced_leaves.append(t)
        else:
            traced_leaves.append(leaf)
    dynamic, new_kwargs = unflatten(tree, traced_leaves)
    it = iter(dynamic)
    call_args = [args[i] if i in statics else next(it) for i in range(len(args))]
    state.trace = trace
    tracing[0] += 1
    try:
        out = fun(*call_args, **new_kwargs)
    finally:
        tracing[0] -= 1
        state.trace = None
    flat_out, out_tree = flatten(out)
    # Array arguments were Tensors while tracing; given arrays only (no Tensor argument, no
    # closed-over Tensor), the function itself returns arrays, and so does the replay.
    plain = not n_tensors and not trace.bound
    if plain:
        flat_out = [o._data if isinstance(o, Tensor) else o for o in flat_out]
        out = unflatten(out_tree, flat_out)
    exprs = []
    tensor_of = trace.constant(make_tensor)
    for o in flat_out:
        value = o._data if isinstance(o, Tensor) else o
        owner = trace.grad_of.get(id(value))
        if owner is not None and owner[1].grad is value:  # a leaf's .grad: read it at the end
            expr = f"{owner[0]}.grad"  # (what backward accumulated into it, the same object)
        elif isinstance(value, _ARRAYS):
            expr = trace.ref(value)
            # outputs that are inputs or constants are copied, as eager results are fresh
            fresh = expr.startswith("r") and expr not in trace.inputs
            expr = expr if fresh else f"{trace.constant(_fresh_copy)}({expr})"
        else:
            expr = trace.constant(value)
        exprs.append(f"{tensor_of}({expr})" if isinstance(o, Tensor) else expr)
    result = _building(out_tree, iter(exprs), trace)
    return out, Compiled(trace, len(leaves), unpack, result)


def _building(node: Any, exprs: Iterator, trace: Trace) -> str:
    """The Python expression that builds the output structure `node` (tree.flatten's
    description) from the leaves' expressions."""
    if node is None:
        return next(exprs)
    kind, children = node
    if kind is dict:
        items = [f"{trace.constant(key)}: {_building(c, exprs, trace)}" for key, c in children]
        return "{" + ", ".join(items) + "}"
    parts = ", ".join(_building(child, exprs, trace) for child in children)
    if kind is list:
        return f"[{parts}]"
    if kind is tuple:
        return f"({parts},)" if parts else "()"
    return f"{trace.constant(kind)}({parts})"  # a namedtuple


def _snapshot(tensors: list) -> list:
    return [
        (t, t._data, t._data.copy(), None if t.grad is None else np.array(t.grad)) for t in tensors
    ]


def _checked_replay(
    fun: Callable, args: tuple, kwargs: dict, program: Compiled, leaves: Sequence
) -> Any:
    """The first replay of a signature, checked against running `fun` eagerly on the same
    arguments: the results, and every gradient and parameter the two touch, must agree."""
    constants = list(program.run.__globals__.values())
    watched = [t for t in leaves if isinstance(t, Tensor)]
    watched += [t for t in constants if isinstance(t, Tensor)]
    generators = [g for g in constants if isinstance(g, np.random.Generator)]
    # arrays that replayed calls may update in place (BatchNorm's running statistics)
    buffers = [a for a in constants if a.__class__ is np.ndarray and a.flags.writeable]
    before = _snapshot(watched)
    kept = [a.copy() for a in buffers]
    draws = [g.bit_generator.state for g in generators]
    replayed = program.run(*leaves)
    replayed_state = _snapshot(watched)
    replayed_buffers = [a.copy() for a in buffers]
    for t, data, values, grad in before:  # back to the state before the replay
        t._data = data
        if data.flags.writeable:
            data[...] = values
        t.grad = grad
    for a, values in zip(buffers, kept, strict=True):
        a[...] = values
    for g, drawn in zip(generators, draws, strict=False):  # the eager call draws the same numbers
        g.bit_generator.state = drawn
    expected = fun(*args, **kwargs)
    problems = _differences(flatten(replayed)[0], flatten(expected)[0], "result")
    for (_, _, values, grad), (_, data, _, eager_grad) in zip(
        replayed_state, _snapshot(watched), strict=False
    ):
        problems += _differences([values], [data], "a parameter's values")
        problems += _differences([grad], [eager_grad], "a .grad")
    problems += _differences(replayed_buffers, buffers, "an array updated in place")
    if problems:
        raise RuntimeError(
            "jit: the compiled function and the function itself disagree on the second call "
            f"({problems[0]}), so the function does something ad.jit does not record: numpy "
            "code on values the engine handed out (an optimizer's update: compile it with "
            "optim.compile_step, which runs the optimizer outside), random numbers drawn "
            "inside the function (draw them through ad.replayed, as nn's dropout does, or "
            "pass them as arguments), or Python state that changes between calls.  The "
            "function's own results were kept."
        )
    program.checked = True
    return expected


def _differences(got: list, want: list, what: str) -> list:
    problems = []
    if len(got) != len(want):
        return [f"{what}: {len(got)} values against {len(want)}"]
    for a, b in zip(got, want, strict=False):
        if a is None or b is None:
            if (a is None) != (b is None):
                problems.append(f"{what}: one is None")
            continue
        a = np.asarray(a._data if isinstance(a, Tensor) else a)
        b = np.asarray(b._data if isinstance(b, Tensor) else b)
        if a.shape != b.shape or a.dtype != b.dtype:
            problems.append(f"{what}: {a.shape} {a.dtype} against {b.shape} {b.dtype}")
        elif a.dtype.kind in "fc" and not np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True):
            problems.append(f"{what}: largest difference {np.nanmax(np.abs(a - b)):.3g}")
        elif a.dtype.kind not in "fc" and not np.array_equal(a, b):
            problems.append(f"{what}: values differ")
    return problems
