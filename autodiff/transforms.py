"""Functional transforms in the style of JAX: grad, value_and_grad, vjp, jvp, linearize,
jacobian, hessian, hvp.  They compose freely (grad(grad(f)), jvp(grad(f)), ...).

Arguments may be ndarrays, Python floats, Tensors, or tuples/lists/dicts of them; results
come back in the same structure.  At the top level results are plain ndarrays; inside
another transform they are Tensors that carry that transform's derivatives.

Reverse mode (grad, vjp) records f on the tape and runs the backward pass, collecting
gradients only for the arguments asked for.  Inside another transform the backward
pass runs its rules on Tensors (create_graph), which is what makes derivatives of
derivatives work.  Forward mode (jvp) attaches tangents to the inputs at a fresh
level and pushes them through one forward evaluation of f (see forward.py).

Inside `vmap` the transforms work on the batch (batching.py): their inputs are batched at
every active vmap level first, so they differentiate each example separately.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backward import backward_pass
from .batched import Batched
from .batching import batched_at, batched_everywhere, core, levels_hidden, levels_of, rewrap, vmap
from .dispatch import identity, rule_for, rule_result
from .forward import checked_tangent, strip
from .ops import moveaxis, reshape
from .state import enable_grad, no_grad, state
from .tensor import Tensor, make_tensor
from .tree import flatten, tree_map, unflatten

_next_level = itertools.count(1).__next__


# --------------------------------------------------------------------- helpers
def _is_traced(x: Any) -> bool:
    if x.__class__ is Batched:
        x = core(x)
    return isinstance(x, Tensor) and (x._requires_grad or x._tangents is not None)


def _lower(x: Any) -> Any:
    """Tensors that carry no derivative information become plain ndarrays."""
    if x.__class__ is Batched:
        return rewrap(_lower(core(x)), levels_of(x))
    if isinstance(x, Tensor) and not x._requires_grad and x._tangents is None:
        return x._data
    return x


def _detached(x: Any) -> Any:
    if x.__class__ is Batched:
        return rewrap(_detached(core(x)), levels_of(x))
    return x._data if isinstance(x, Tensor) else x


def _detach_all(tree: Any) -> Any:
    """Plain ndarrays for every Tensor in `tree`: used when a transform is not nested, so
    whatever its results were computed from is internal to it."""
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [_detached(x) for x in leaves])


def _float_array(x: Any, op: str) -> np.ndarray:
    x = core(x)
    data = np.asarray(x._data if isinstance(x, Tensor) else x)
    if not np.issubdtype(data.dtype, np.floating):
        raise TypeError(
            f"{op}: differentiated arguments must be real floating point, got dtype "
            f"{data.dtype} (convert with .astype(np.float64) or pass floats)"
        )
    return data


def _astype(x: np.ndarray, dtype: Any) -> np.ndarray:
    """x.astype(dtype, copy=False), recorded when ad.jit traces."""
    if x.dtype == dtype:
        return x
    trace = state.trace
    if trace is not None and not trace.paused:
        return trace.call(np.ndarray.astype, x, dtype)
    return x.astype(dtype)


def _fresh_input(x: Any, op: str) -> Any:
    """A new tensor requiring grad that stands for argument x (linked to x if x is traced);
    for a batched x (vmap), the same around x's core."""
    if x.__class__ is Batched:
        return rewrap(_fresh_input(core(x), op), levels_of(x))
    data = _float_array(x, op)
    if _is_traced(x):
        v = identity(x)
    else:
        v = make_tensor(data)
    v._requires_grad = True
    return v


def _argnums_tuple(argnums: int | Sequence[int], nargs: int, op: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(
                f"{op}: argnums {argnums} refers to argument {i} but the function "
                f"was called with {nargs} positional arguments"
            )
    return tuple(i % nargs for i in nums)


def _reverse(f: Callable, args: tuple, kwargs: dict, argnums: tuple, op: str):
    """Run f with fresh inputs for the differentiated arguments.

    Returns (output, inputs per argnum as (leaves, treedef), nesting) where nesting is
    None at the top level, "tangents" when only forward-mode transforms enclose this one
    (the backward pass must carry their tangents but record nothing) and "record" when
    an enclosing reverse transform or tensors requiring grad will differentiate it."""
    new_args = list(args)
    inputs = []
    tangents = state.transform_depth > 1
    record = state.reverse_depth > 1
    for i in argnums:
        leaves, treedef = flatten(args[i])
        if state.batch_sizes:  # inside vmap: one copy per example, one gradient per example
            leaves = [batched_everywhere(leaf) for leaf in leaves]
        tangents = tangents or any(_is_traced(leaf) for leaf in leaves)
        record = record or any(
            isinstance(core(leaf), Tensor) and core(leaf)._requires_grad for leaf in leaves
        )
        fresh = [_fresh_input(leaf, op) for leaf in leaves]
        inputs.append((fresh, treedef))
        new_args[i] = unflatten(treedef, fresh)
    out = f(*new_args, **kwargs)
    return out, inputs, "record" if record else "tangents" if tangents else None


def _gradients(roots: list, seeds: list, inputs: list, nesting: str | None, retain: bool) -> list:
    """Gradients of sum_k <roots[k], seeds[k]> with respect to each input tree (roots and
    seeds are cores: see batching.py; so are the gradients, wrapped like their inputs)."""
    flat = [core(t) for fresh, _ in inputs for t in fresh]
    capture = {t._seq: None for t in flat}
    live = [
        (r, s)
        for r, s in zip(roots, seeds, strict=False)
        if isinstance(r, Tensor) and r._requires_grad
    ]
    nested = nesting is not None
    if live:
        with enable_grad() if nesting == "record" else no_grad(), levels_hidden(0):
            backward_pass(
                [r for r, _ in live],
                [s for _, s in live],
                create_graph=nested,
                retain_graph=retain or nesting == "record",
                capture=capture,
            )
    results = []
    for fresh, treedef in inputs:
        grads = []
        for wrapped in fresh:
            t = core(wrapped)
            g = capture[t._seq]
            if g is None:
                g = np.zeros_like(t._data)
            elif not nested:
                g = g._data if isinstance(g, Tensor) else g
                if g.dtype != t._data.dtype:
                    g = _astype(g, t._data.dtype)
            grads.append(rewrap(_lower(g), levels_of(wrapped)))
        results.append(unflatten(treedef, grads))
    return results


class _Transform:
    """Marks the dynamic extent of a transform (nesting depth) and turns recording on."""

    def __init__(self, reverse: bool):
        self.reverse = reverse

    def __enter__(self):
        state.transform_depth += 1
        state.reverse_depth += self.reverse
        self._grad = enable_grad()
        self._grad.__enter__()
        return self

    def __exit__(self, *exc):
        self._grad.__exit__(*exc)
        state.reverse_depth -= self.reverse
        state.transform_depth -= 1
        return False


# ------------------------------------------------------------------ reverse mode
def value_and_grad(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable:
    """Return a function computing (f(*args), grad of f with respect to args[argnums]).

    f must return a scalar (size-1 array).  With has_aux, f returns (value, aux) and the
    result is ((value, aux), grad).  A tuple `argnums` gives a tuple of gradients."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "grad")
        with _Transform(reverse=True):
            out, inputs, nesting = _reverse(f, args, kwargs, nums, "grad")
            aux = None
            if has_aux:
                if not (isinstance(out, (tuple, list)) and len(out) == 2):
                    raise TypeError("grad: with has_aux=True, f must return a pair (value, aux)")
                out, aux = out
            root = core(out)
            value = root._data if isinstance(root, Tensor) else np.asarray(root)
            shape = out.shape if out.__class__ is Batched else value.shape
            if math.prod(shape) != 1:
                raise TypeError(
                    f"grad: f must return a scalar (size-1) output, got shape "
                    f"{shape}; use vjp or jacobian for non-scalar outputs"
                )
            if not np.issubdtype(value.dtype, np.inexact):
                raise TypeError(f"grad: f must return a floating-point value, got {value.dtype}")
            grads = _gradients([root], [np.ones_like(value)], inputs, nesting, retain=False)
        grads = grads[0] if isinstance(argnums, int) else tuple(grads)
        value = _lower(out)
        if not nesting:
            value, grads, aux = _detach_all(value), _detach_all(grads), _detach_all(aux)
        return ((value, aux) if has_aux else value), grads

    return wrapper


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """Return a function computing the gradient of scalar-valued f with respect to
    args[argnums] (same structure and shape as that argument)."""
    vg = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        (value, aux), grads = (
            vg(*args, **kwargs) if has_aux else ((None, None), vg(*args, **kwargs)[1])
        )
        return (grads, aux) if has_aux else grads

    return wrapper


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """(f(*primals), vjp_fn): vjp_fn(cotangent) returns a tuple with one gradient per primal,
    the cotangent having f's output structure and shapes.  vjp_fn can be called many times."""
    with _Transform(reverse=True):
        out, inputs, nesting = _reverse(f, primals, {}, tuple(range(len(primals))), "vjp")
    aux = None
    if has_aux:
        out, aux = out
    flat_out, out_tree = flatten(out)
    shapes = [np.shape(o._data if isinstance(o, Tensor) else o) for o in flat_out]
    active = list(state.batch_sizes)  # the vmap levels the inputs were batched at

    def vjp_fn(cotangent: Any) -> tuple:
        flat_ct, ct_tree = flatten(cotangent)
        if len(flat_ct) != len(flat_out):
            raise ValueError(
                f"vjp: the cotangent has {len(flat_ct)} leaves but f's output has {len(flat_out)}"
            )
        roots, seeds = [], []
        for ct, shape, o in zip(flat_ct, shapes, flat_out, strict=False):
            ct_shape = np.shape(ct)
            if ct_shape != shape:
                raise ValueError(
                    f"vjp: cotangent of shape {ct_shape} for an output of shape {shape}"
                )
            ct_levels, o_levels = levels_of(ct), levels_of(o)
            if any(lv not in active for lv in ct_levels):
                raise ValueError(
                    "vjp: the cotangent is batched by a vmap that vjp was not "
                    "called inside; call vjp inside the vmapped function, e.g. "
                    "vmap(lambda ct: vjp(f, x)[1](ct))"
                )
            if any(lv not in o_levels for lv in ct_levels):
                continue  # this output is the same for every example: it does not depend
                # on the (batched) inputs, so its contribution is zero
            ct = core(batched_at(ct, o_levels))
            root = core(o)
            seed: Any
            if isinstance(ct, Tensor):
                seed = ct
            else:
                seed = np.asarray(ct)
                if isinstance(root, Tensor):
                    seed = _astype(seed, root._data.dtype)
            roots.append(root)
            seeds.append(seed)
        deep = nesting
        if deep != "record" and any(_is_traced(s) for s in seeds):
            deep = (
                "record"
                if any(s._requires_grad for s in seeds if isinstance(s, Tensor))
                else "tangents"
            )
        with _Transform(reverse=True):
            grads = tuple(_gradients(roots, seeds, inputs, deep, retain=True))
        return grads if deep else _detach_all(grads)

    out = unflatten(out_tree, [_lower(o) for o in flat_out])
    if not nesting:
        out = _detach_all(out)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


# ------------------------------------------------------------------ forward mode
def _dual(primal: Any, tangent: Any, level: int, op: str) -> Tensor:
    """A tensor with primal value `primal` carrying `tangent` at forward level `level`
    (inside vmap: around the cores of both, batched at every active level)."""
    if state.batch_sizes:
        primal, tangent = batched_everywhere(primal), batched_everywhere(tangent)
        return rewrap(_dual_tensor(core(primal), core(tangent), level, op), levels_of(primal))
    return _dual_tensor(primal, tangent, level, op)


def _dual_tensor(primal: Any, tangent: Any, level: int, op: str) -> Tensor:
    data = _float_array(primal, op)
    t_data = tangent._data if isinstance(tangent, Tensor) else np.asarray(tangent)
    if t_data.shape != data.shape:
        raise ValueError(
            f"{op}: tangent of shape {t_data.shape} for a primal of shape {data.shape}"
        )
    if not isinstance(tangent, Tensor):
        tangent = _astype(t_data, data.dtype)
    v = identity(primal) if _is_traced(primal) else make_tensor(data)
    tangents = dict(v._tangents) if v._tangents else {}
    tangents[level] = tangent
    v._tangents = tangents
    return v


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(*primals), J(primals) @ tangents) in one forward pass (dual numbers).

    `primals` and `tangents` are tuples (or lists) of the same structure and shapes."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument of f)")
    flat_p, tree_p = flatten(tuple(primals))
    flat_t, tree_t = flatten(tuple(tangents))
    if tree_p != tree_t:
        raise ValueError("jvp: primals and tangents must have the same structure")
    level = _next_level()
    nested = state.transform_depth > 0 or any(_is_traced(x) for x in flat_p + flat_t)
    # Tangent computations need recording only if reverse mode will differentiate them.
    state.level_records[level] = state.reverse_depth > 0 or any(
        isinstance(x, Tensor) and x._requires_grad for x in flat_p + flat_t
    )
    with _Transform(reverse=False):
        duals = [_dual(p, t, level, "jvp") for p, t in zip(flat_p, flat_t, strict=False)]
        try:
            out = f(*unflatten(tree_p, duals))
        finally:
            state.level_records.pop(level, None)
        flat_out, out_tree = flatten(out)
        primal_out, tangent_out = [], []
        for o in flat_out:
            c, levels = core(o), levels_of(o)
            if isinstance(c, Tensor):
                t = c._tangents.get(level) if c._tangents else None
                primal_out.append(rewrap(_lower(strip(c, level)), levels))
                tangent_out.append(
                    rewrap(_lower(t) if t is not None else np.zeros_like(c._data), levels)
                )
            else:
                primal_out.append(o)
                tangent_out.append(rewrap(np.zeros_like(np.asarray(c, dtype=float)), levels))
    if not nested:
        primal_out, tangent_out = _detach_all(primal_out), _detach_all(tangent_out)
    return unflatten(out_tree, primal_out), unflatten(out_tree, tangent_out)


def linearize(f: Callable, *primals: Any) -> tuple[Any, Callable]:
    """(f(*primals), f_jvp) where f_jvp(*tangents) = J(primals) @ tangents.

    f is evaluated once and recorded; each call of f_jvp pushes tangents forward through
    the recorded operations with their JVP rules, reusing the saved primal values (no
    re-evaluation of f).  Inside another transform f_jvp re-runs jvp instead."""
    if (
        state.transform_depth > 0
        or state.batch_sizes
        or state.trace is not None
        or any(_is_traced(p) for p in flatten(primals)[0])
    ):
        out = jvp(f, primals, tuple(tree_zeros(p) for p in primals))[0]
        return out, lambda *tangents: jvp(f, primals, tangents)[1]
    with _Transform(reverse=True):
        out, inputs, _ = _reverse(f, primals, {}, tuple(range(len(primals))), "linearize")
    flat_in = [t for fresh, _ in inputs for t in fresh]
    flat_out, out_tree = flatten(out)
    nodes = _recorded_between(flat_in, flat_out)

    def f_jvp(*tangents: Any) -> Any:
        flat_t, _ = flatten(tuple(tangents))
        if len(flat_t) != len(flat_in):
            raise ValueError(f"linearize: expected {len(flat_in)} tangents, got {len(flat_t)}")
        tang = {}
        for x, t in zip(flat_in, flat_t, strict=False):
            t = np.asarray(t, dtype=x._data.dtype)
            if t.shape != x._data.shape:
                raise ValueError(
                    f"linearize: tangent of shape {t.shape} for a primal of shape {x._data.shape}"
                )
            tang[x._seq] = t
        for node in nodes:
            total = None
            for i in node._needs:
                t = tang.get(node._args[i]._seq)
                if t is None:
                    continue
                prim = node._prim
                ti = rule_for(prim, i, "JVP")(t, node._data, *node._raw, **node._kwargs)
                if ti is not None:  # None: identically zero
                    ti = checked_tangent(
                        prim,
                        i,
                        rule_result(prim, i, "JVP", ti, False),
                        node._raw[i].shape,
                        node._data.shape,
                    )
                    total = ti if total is None else total + ti
            if total is not None:
                tang[node._seq] = total
        result = []
        for o in flat_out:
            if isinstance(o, Tensor) and o._seq in tang:
                result.append(np.asarray(tang[o._seq]))
            else:
                result.append(np.zeros_like(np.asarray(o._data if isinstance(o, Tensor) else o)))
        return unflatten(out_tree, result)

    return unflatten(out_tree, [o._data if isinstance(o, Tensor) else o for o in flat_out]), f_jvp


def _recorded_between(inputs: list, outputs: list) -> list:
    """Recorded nodes on a path from `inputs` to `outputs`, in evaluation order."""
    oldest = min((t._seq for t in inputs), default=0)
    seen: dict = {}
    stack = [o for o in outputs if isinstance(o, Tensor) and o._prim is not None]
    while stack:
        node = stack.pop()
        if node._seq in seen or node._seq < oldest or node._prim is None:
            continue
        seen[node._seq] = node
        stack.extend(node._args[i] for i in node._needs)
    return [seen[s] for s in sorted(seen)]


def tree_zeros(tree: Any) -> Any:
    leaves, treedef = flatten(tree)
    return unflatten(
        treedef, [np.zeros(np.shape(leaf), dtype=_float_dtype(leaf)) for leaf in leaves]
    )


def _float_dtype(x: Any) -> np.dtype:
    """x's dtype if it is floating point, else float64."""
    dtype = np.result_type(core(x)._data if isinstance(core(x), Tensor) else core(x))
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


# ----------------------------------------------------------- jacobians, hessians
def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "rev") -> Callable:
    """Return a function computing the Jacobian of f with respect to args[argnums]:
    shape f(x).shape + x.shape.  mode="rev": the VJPs of all output elements at once
    (vmap over a basis of cotangents; cheap for few outputs), mode="fwd": the JVPs of
    all input elements at once (vmap over a basis of tangents; cheap for few inputs).

    Pytrees as in JAX: for an output that is a tuple/list/dict, the result has the
    output's structure, and each of its leaves has the structure of args[argnums] (a
    tuple of those for a tuple `argnums`), holding arrays of shape out.shape + x.shape."""
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', got {mode!r}")

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "jacobian")

        def partial(*xs):
            full = list(args)
            for i, x in zip(nums, xs, strict=False):
                full[i] = x
            return f(*full, **kwargs)

        xs = tuple(args[i] for i in nums)
        flat_in, in_tree = flatten(xs)
        for x in flat_in:
            _float_array(x, "jacobian")
        blocks, out_tree = (_jac_rev if mode == "rev" else _jac_fwd)(partial, xs, flat_in, in_tree)
        per_output = []
        for row in blocks:  # one per output leaf: its Jacobian blocks in the inputs' structure
            by_arg = unflatten(in_tree, row)
            per_output.append(by_arg[0] if isinstance(argnums, int) else by_arg)
        return unflatten(out_tree, per_output)

    return wrapper


def stop_gradient(x: Any) -> Any:
    """x's value with no derivative in any mode, at any order (JAX's stop_gradient):
    Tensors come back detached (sharing their values, read-only while the tape needs
    them); other values, and pytrees of them, pass through."""
    return tree_map(lambda v: v.detach() if isinstance(v, (Tensor, Batched)) else v, x)


def jacfwd(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """JAX's name for jacobian(f, argnums, mode="fwd")."""
    return jacobian(f, argnums, mode="fwd")


def jacrev(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """JAX's name for jacobian(f, argnums, mode="rev")."""
    return jacobian(f, argnums, mode="rev")


def _basis(shape: tuple, dtype: Any) -> np.ndarray:
    """The size(shape) unit arrays of `shape`, stacked: shape (size,) + shape."""
    n = math.prod(shape)
    return np.eye(n, dtype=dtype).reshape((n,) + tuple(shape))


def _output_shapes(f: Callable, xs: tuple) -> tuple[list, Any]:
    """f's output leaves' shapes and dtypes, and its structure, from one evaluation."""
    with no_grad():
        flat_out, out_tree = flatten(f(*_detach_all(xs)))
    return [(np.shape(o), _float_dtype(o)) for o in flat_out], out_tree


def _jac_rev(f: Callable, xs: tuple, flat_in: list, in_tree: Any) -> tuple[list, Any]:
    """Blocks [output leaf][input leaf]: for each output leaf, the VJPs of all its
    elements in one vmap."""
    outs, out_tree = _output_shapes(f, xs)
    in_shapes = [np.shape(x) for x in flat_in]
    zeros = [np.zeros(shape, dtype) for shape, dtype in outs]
    blocks = []
    for m, (shape, dtype) in enumerate(outs):

        def pull(ct, m=m):
            cts = list(zeros)
            cts[m] = ct
            return vjp(f, *xs)[1](unflatten(out_tree, cts))

        if math.prod(shape) == 0 or not flat_in:
            rows = [np.zeros(shape + s) for s in in_shapes]
        else:
            grads, _ = flatten(vmap(pull)(_basis(shape, dtype)))
            rows = [reshape(g, shape + s) for g, s in zip(grads, in_shapes, strict=False)]
        blocks.append(rows)
    return blocks, out_tree


def _jac_fwd(f: Callable, xs: tuple, flat_in: list, in_tree: Any) -> tuple[list, Any]:
    """Blocks [output leaf][input leaf]: for each input leaf, the JVPs of all its elements
    in one vmap."""
    outs, out_tree = _output_shapes(f, xs)
    in_specs = [(np.shape(x), _float_dtype(x)) for x in flat_in]
    zeros = [np.zeros(shape, dtype) for shape, dtype in in_specs]
    columns = []  # [input leaf][output leaf]
    for j, (shape, dtype) in enumerate(in_specs):

        def push(t, j=j):
            tangents = list(zeros)
            tangents[j] = t
            return jvp(f, xs, unflatten(in_tree, tangents))[1]

        if math.prod(shape) == 0:
            columns.append([np.zeros(o_shape + shape) for o_shape, _ in outs])
            continue
        cols, _ = flatten(vmap(push)(_basis(shape, dtype)))
        columns.append(
            [
                reshape(moveaxis(c, 0, -1), o_shape + shape)
                for c, (o_shape, _) in zip(cols, outs, strict=False)
            ]
        )
    blocks = [[columns[j][m] for j in range(len(in_specs))] for m in range(len(outs))]
    return blocks, out_tree


def hessian(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Return a function computing the Hessian of scalar f (forward-over-reverse):
    shape x.shape + x.shape; for pytree arguments a nested structure (as in JAX)."""
    return jacobian(grad(f, argnums), argnums, mode="fwd")


def hvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """Hessian-vector product H(primals) @ tangents of scalar f, without forming H
    (forward-over-reverse: jvp of grad).  One array for a single primal, else a tuple."""
    primals, tangents = tuple(primals), tuple(tangents)
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(f, argnums=argnums), primals, tangents)[1]
