"""`ad.jit`: trace a function once, replay its numpy work without the engine.

    step = ad.jit(ad.value_and_grad(loss))        # same signature and results as before
    value, grads = step(params, x, y)             # 1st call: traced, 2nd: checked, then fast

The first call for a signature (the pytree structure, the shapes and dtypes of the array
leaves, the values of the other leaves and of `static_argnums`) runs the function
eagerly while recording, per thread, every piece of numpy work the engine does on values
derived from the arguments: each primitive's forward, each derivative rule of a backward
pass or of forward mode (called again as a whole at replay, so what a rule decides from
the values is decided again), the sums and accumulations between them, and gradients
written into `.grad` by `Tensor.backward()`.  The recording becomes straight-line Python
source (one line per call, values in local variables) compiled once; later calls run it
on the new arrays: no Tensors, no tape, no dispatch.

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
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
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

    # ----------------------------------------------------------------- registers
    def register(self, value: Any) -> str:
        """A new register holding `value` (an array produced by the recorded program)."""
        n = len(self.keep)
        self.keep.append(value)
        self.register_of[id(value)] = n
        return f"r{n}"

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
        name = f"c{len(self.names)}"
        self.names[name] = value
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
    def call(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """fn(*args, **kwargs), computed now and recorded as one line of the program."""
        self.paused += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            self.paused -= 1
        self.emit(fn, args, kwargs, out)
        return out

    def emit(self, fn: Callable, args: tuple, kwargs: dict, out: Any) -> None:
        """Record `out = fn(*args, **kwargs)` (already computed)."""
        parts = [self.ref(a) for a in args] + [f"{k}={self.ref(v)}" for k, v in kwargs.items()]
        call = f"{self.constant(fn)}({', '.join(parts)})"
        if out.__class__ is tuple:
            whole = self.register(out)
            self.lines.append(f"{whole} = {call}")
            self.unpack(whole, out)
        elif isinstance(out, _ARRAYS):
            if self.traced(out):  # the same array object again (an identity)
                self.lines.append(f"{call}")
                return
            self.lines.append(f"{self.register(out)} = {call}")
        elif isinstance(out, Tensor):
            # a rule given Tensors (tangents that are Tensors) returns one; at replay it gets
            # arrays and returns arrays: the program holds the values either way
            if self.traced(out._data):
                self.lines.append(f"{call}")
                return
            self.lines.append(f"{self.register(out._data)} = {self.constant(_values)}({call})")
        else:
            self.lines.append(call)

    def unpack(self, name: str, values: tuple) -> None:
        """Registers for the arrays inside a tuple result (nested tuples too)."""
        for i, element in enumerate(values):
            if element.__class__ is tuple:
                inner = self.register(element)
                self.lines.append(f"{inner} = {name}[{i}]")
                self.unpack(inner, element)
            elif isinstance(element, _ARRAYS) and not self.traced(element):
                self.lines.append(f"{self.register(element)} = {name}[{i}]")
            elif isinstance(element, Tensor) and not self.traced(element._data):
                self.lines.append(
                    f"{self.register(element._data)} = {self.constant(_values)}({name}[{i}])"
                )

    def primitive(self, prim: Any, args: tuple, raw: tuple, kwargs: dict, out: Any) -> Any:
        """Record a primitive's forward (Primitive.__call__ with a Tensor operand) and
        return its output as the engine will use it: an ndarray never aliasing an
        operand's array (and the residual, for a primitive that has one)."""
        for a in args:  # leaf Tensors among the operands are inputs of the program
            if isinstance(a, Tensor):
                self.tensor_ref(a)
        self.emit(prim.fun, raw, kwargs, out)
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
        self.paused += 1
        try:
            _accumulate_grad(tensor, g.copy() if copy else g, False)
        finally:
            self.paused -= 1
        fn = self.constant(_accumulate_grad)
        self.lines.append(f"{fn}({name}, {self.ref(g)}{'.copy()' if copy else ''}, False)")
        if isinstance(tensor.grad, _ARRAYS) and not self.traced(tensor.grad):
            self.lines.append(f"{self.register(tensor.grad)} = {name}.grad")

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
        body = [f"    {line}" for line in unpack]
        body += [f"    {reg} = {name}._data" for reg, name in trace.bound]
        body += [f"    {line}" for line in _live(trace.lines, [result])]
        body.append(f"    return {result}")
        self.source = f"def replay({header}):\n" + "\n".join(body) + "\n"
        namespace = dict(trace.names)
        exec(compile(self.source, "<ad.jit replay>", "exec"), namespace)
        self.run = namespace["replay"]
        self.checked = False
        self.n_calls = len(trace.lines)


def _live(lines: list, outputs: list) -> list:
    """The lines the outputs need (dead code dropped): a line `rN = ...` is kept if a kept
    line or an output reads rN; a line that assigns nothing has effects and is kept."""
    needed = set(_REGISTER.findall(" ".join(outputs)))
    kept = []
    for line in reversed(lines):
        target, sep, rest = line.partition(" = ")
        if sep and _REGISTER.fullmatch(target) and target not in needed:
            continue
        needed.update(_REGISTER.findall(rest if sep else line))
        kept.append(line)
    return kept[::-1]


_REGISTER = re.compile(r"\br\d+\b")


def _values(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _fresh_copy(x: Any) -> Any:
    return np.array(x, copy=True)


def jit(fun: Callable, static_argnums: int | Sequence[int] = (), max_cache: int = 32) -> Callable:
    """Compile `fun` (arrays, Tensors and pytrees of them in and out): see the module
    docstring.  `static_argnums`: positions of arguments that are not arrays (sizes,
    flags, Python callables); their values are part of the signature, so each new
    value traces again.  Python numbers and other non-array leaves are static too (numpy
    scalars are 0-d arrays).  The compiled function has `.cache_info()` and
    `.cache_clear()`; at most `max_cache` signatures are kept (least recently used
    dropped)."""
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
        if not program.checked:
            return _checked_replay(fun, args, kwargs, program, leaves)
        return program.run(*leaves)

    def cache_info() -> dict:
        """How many signatures are cached, and how many calls traced or replayed."""
        return {"signatures": len(cache), "max_cache": max_cache, **counts}

    compiled.cache_info = cache_info  # type: ignore[attr-defined]
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
            key.append((a.shape, a.dtype))
        else:
            return tuple(key)
        del key[1:]
    for i, a in enumerate(args):
        cls = a.__class__
        if cls is np.ndarray:
            key.append((a.shape, a.dtype))
        elif cls is Tensor or isinstance(a, Tensor):  # nn.Parameter too
            data = a._data
            key.append((data.shape, data.dtype, a._requires_grad, True))
        elif isinstance(a, np.generic):  # numpy scalars: 0-d arrays
            key.append(((), a.dtype))
        elif isinstance(a, (tuple, list, dict)) and i not in statics:
            return None  # a pytree: the general key
        else:
            key.append(("static", _static_key(a)))
    return tuple(key)


def _tree_key(node: Any, leaves: list) -> Any:
    """The cache key of the pytree `node` (its structure and each leaf's shape and dtype, or
    a static leaf's value); appends the leaves to `leaves` in tree.flatten's order."""
    cls = node.__class__
    if cls is np.ndarray:
        leaves.append(node)
        return (node.shape, node.dtype)
    if cls is list or cls is tuple:  # exact classes first: the common case, and cheap
        return (cls, tuple([_tree_key(child, leaves) for child in node]))
    if cls is dict:
        return (dict, tuple([(k, _tree_key(v, leaves)) for k, v in node.items()]))
    if cls is Tensor or isinstance(node, Tensor):  # nn.Parameter too
        leaves.append(node)
        return (node._data.shape, node._data.dtype, node._requires_grad, True)
    if isinstance(node, (tuple, list)):
        return (cls, tuple([_tree_key(child, leaves) for child in node]))
    if isinstance(node, dict):
        return (dict, tuple([(k, _tree_key(v, leaves)) for k, v in node.items()]))
    leaves.append(node)
    if isinstance(node, np.generic):  # numpy scalars: 0-d arrays
        return ((), node.dtype)
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
            trace.inputs.add(trace.register(leaf._data))
            trace.lines.append(f"r{len(trace.keep) - 1} = a{n_inputs}")
            trace.arg_tensors[id(leaf)] = n_tensors
            unpack += [f"a{n_inputs} = l{k}._data", f"t{n_tensors} = l{k}"]
            n_inputs += 1
            n_tensors += 1
            traced_leaves.append(leaf)
        elif isinstance(leaf, _ARRAYS):
            leaf = np.asarray(leaf)
            t = make_tensor(leaf)  # every operation on it takes the Tensor path (recorded)
            trace.inputs.add(trace.register(leaf))
            trace.lines.append(f"r{len(trace.keep) - 1} = a{n_inputs}")
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
        if isinstance(value, _ARRAYS):
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
    before = _snapshot(watched)
    draws = [g.bit_generator.state for g in generators]
    replayed = program.run(*leaves)
    replayed_state = _snapshot(watched)
    for t, data, values, grad in before:  # back to the state before the replay
        t._data = data
        if data.flags.writeable:
            data[...] = values
        t.grad = grad
    for g, drawn in zip(generators, draws, strict=False):  # the eager call draws the same numbers
        g.bit_generator.state = drawn
    expected = fun(*args, **kwargs)
    problems = _differences(flatten(replayed)[0], flatten(expected)[0], "result")
    for (_, _, values, grad), (_, data, _, eager_grad) in zip(
        replayed_state, _snapshot(watched), strict=False
    ):
        problems += _differences([values], [data], "a parameter's values")
        problems += _differences([grad], [eager_grad], "a .grad")
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
        if a.shape != b.shape:
            problems.append(f"{what}: shapes {a.shape} and {b.shape}")
        elif a.dtype.kind in "fc" and not np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True):
            problems.append(f"{what}: largest difference {np.nanmax(np.abs(a - b)):.3g}")
        elif a.dtype.kind not in "fc" and not np.array_equal(a, b):
            problems.append(f"{what}: values differ")
    return problems
