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
"""
from __future__ import annotations

import functools
import itertools
from typing import Any, Callable, Sequence

import numpy as np

from .backward import backward_pass
from .dispatch import identity, rule_for, rule_result
from .forward import checked_tangent, strip
from .ops import reshape, stack
from .state import enable_grad, no_grad, state
from .tensor import Tensor, make_tensor
from .tree import flatten, tree_map, unflatten

_next_level = itertools.count(1).__next__


# --------------------------------------------------------------------- helpers
def _is_traced(x: Any) -> bool:
    return isinstance(x, Tensor) and (x._requires_grad or x._tangents is not None)


def _lower(x: Any) -> Any:
    """Tensors that carry no derivative information become plain ndarrays."""
    if isinstance(x, Tensor) and not x._requires_grad and x._tangents is None:
        return x._data
    return x


def _detach_all(tree: Any) -> Any:
    """Plain ndarrays for every Tensor in `tree`: used when a transform is not nested, so
    whatever its results were computed from is internal to it."""
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [x._data if isinstance(x, Tensor) else x for x in leaves])


def _float_array(x: Any, op: str) -> np.ndarray:
    data = np.asarray(x._data if isinstance(x, Tensor) else x)
    if not np.issubdtype(data.dtype, np.floating):
        raise TypeError(f"{op}: differentiated arguments must be real floating point, got dtype "
                        f"{data.dtype} (convert with .astype(np.float64) or pass floats)")
    return data


def _fresh_input(x: Any, op: str) -> Tensor:
    """A new tensor requiring grad that stands for argument x (linked to x if x is traced)."""
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
            raise ValueError(f"{op}: argnums {argnums} refers to argument {i} but the function "
                             f"was called with {nargs} positional arguments")
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
        tangents = tangents or any(_is_traced(leaf) for leaf in leaves)
        record = record or any(isinstance(leaf, Tensor) and leaf._requires_grad
                               for leaf in leaves)
        fresh = [_fresh_input(leaf, op) for leaf in leaves]
        inputs.append((fresh, treedef))
        new_args[i] = unflatten(treedef, fresh)
    out = f(*new_args, **kwargs)
    return out, inputs, "record" if record else "tangents" if tangents else None


def _gradients(roots: list, seeds: list, inputs: list, nesting: str | None,
               retain: bool) -> list:
    """Gradients of sum_k <roots[k], seeds[k]> with respect to each input tree."""
    flat = [t for fresh, _ in inputs for t in fresh]
    capture = {t._seq: None for t in flat}
    live = [(r, s) for r, s in zip(roots, seeds) if isinstance(r, Tensor) and r._requires_grad]
    nested = nesting is not None
    if live:
        with (enable_grad() if nesting == "record" else no_grad()):
            backward_pass([r for r, _ in live], [s for _, s in live], create_graph=nested,
                          retain_graph=retain or nesting == "record", capture=capture)
    results = []
    for fresh, treedef in inputs:
        grads = []
        for t in fresh:
            g = capture[t._seq]
            if g is None:
                g = np.zeros_like(t._data)
            elif not nested:
                g = g._data if isinstance(g, Tensor) else g
                if g.dtype != t._data.dtype:
                    g = g.astype(t._data.dtype)
            grads.append(_lower(g))
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
def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0,
                   has_aux: bool = False) -> Callable:
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
            value = out._data if isinstance(out, Tensor) else np.asarray(out)
            if value.size != 1:
                raise TypeError(f"grad: f must return a scalar (size-1) output, got shape "
                                f"{value.shape}; use vjp or jacobian for non-scalar outputs")
            if not np.issubdtype(value.dtype, np.inexact):
                raise TypeError(f"grad: f must return a floating-point value, got {value.dtype}")
            grads = _gradients([out], [np.ones_like(value)], inputs, nesting, retain=False)
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
        (value, aux), grads = vg(*args, **kwargs) if has_aux else (
            (None, None), vg(*args, **kwargs)[1])
        return (grads, aux) if has_aux else grads

    return wrapper


def vjp(f: Callable, *primals: Any, has_aux: bool = False):
    """(f(*primals), vjp_fn): vjp_fn(cotangent) returns a tuple with one gradient per primal,
    the cotangent having f's output structure and shapes.  vjp_fn can be called many times."""
    with _Transform(reverse=True):
        out, inputs, nesting = _reverse(f, primals, {}, tuple(range(len(primals))), "vjp")
    aux = None
    if has_aux:
        out, aux = out
    flat_out, out_tree = flatten(out)
    shapes = [np.shape(o._data if isinstance(o, Tensor) else o) for o in flat_out]

    def vjp_fn(cotangent: Any) -> tuple:
        flat_ct, ct_tree = flatten(cotangent)
        if len(flat_ct) != len(flat_out):
            raise ValueError(f"vjp: the cotangent has {len(flat_ct)} leaves but f's output has "
                             f"{len(flat_out)}")
        seeds = []
        for ct, shape, o in zip(flat_ct, shapes, flat_out):
            seed = ct if isinstance(ct, Tensor) else np.asarray(ct)
            if seed.shape != shape:
                raise ValueError(f"vjp: cotangent of shape {seed.shape} for an output of "
                                 f"shape {shape}")
            if isinstance(o, Tensor) and not isinstance(ct, Tensor):
                seed = seed.astype(o._data.dtype, copy=False)
            seeds.append(seed)
        deep = nesting
        if deep != "record" and any(_is_traced(s) for s in seeds):
            deep = "record" if any(s._requires_grad for s in seeds
                                   if isinstance(s, Tensor)) else "tangents"
        with _Transform(reverse=True):
            grads = tuple(_gradients(flat_out, seeds, inputs, deep, retain=True))
        return grads if deep else _detach_all(grads)

    out = unflatten(out_tree, [_lower(o) for o in flat_out])
    if not nesting:
        out = _detach_all(out)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


# ------------------------------------------------------------------ forward mode
def _dual(primal: Any, tangent: Any, level: int, op: str) -> Tensor:
    """A tensor with primal value `primal` carrying `tangent` at forward level `level`."""
    data = _float_array(primal, op)
    t_data = tangent._data if isinstance(tangent, Tensor) else np.asarray(tangent)
    if t_data.shape != data.shape:
        raise ValueError(f"{op}: tangent of shape {t_data.shape} for a primal of shape "
                         f"{data.shape}")
    if not isinstance(tangent, Tensor):
        tangent = t_data.astype(data.dtype, copy=False)
    v = identity(primal) if _is_traced(primal) else make_tensor(data)
    tangents = dict(v._tangents) if v._tangents else {}
    tangents[level] = tangent
    v._tangents = tangents
    return v


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]):
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
        isinstance(x, Tensor) and x._requires_grad for x in flat_p + flat_t)
    with _Transform(reverse=False):
        duals = [_dual(p, t, level, "jvp") for p, t in zip(flat_p, flat_t)]
        try:
            out = f(*unflatten(tree_p, duals))
        finally:
            state.level_records.pop(level, None)
        flat_out, out_tree = flatten(out)
        primal_out, tangent_out = [], []
        for o in flat_out:
            if isinstance(o, Tensor):
                t = o._tangents.get(level) if o._tangents else None
                primal_out.append(_lower(strip(o, level)))
                tangent_out.append(_lower(t) if t is not None else np.zeros_like(o._data))
            else:
                primal_out.append(o)
                tangent_out.append(np.zeros_like(np.asarray(o, dtype=float)))
    if not nested:
        primal_out, tangent_out = _detach_all(primal_out), _detach_all(tangent_out)
    return unflatten(out_tree, primal_out), unflatten(out_tree, tangent_out)


def linearize(f: Callable, *primals: Any):
    """(f(*primals), f_jvp) where f_jvp(*tangents) = J(primals) @ tangents.

    f is evaluated once and recorded; each call of f_jvp pushes tangents forward through
    the recorded operations with their JVP rules, reusing the saved primal values (no
    re-evaluation of f).  Inside another transform f_jvp re-runs jvp instead."""
    if state.transform_depth > 0 or any(_is_traced(p) for p in flatten(primals)[0]):
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
        for x, t in zip(flat_in, flat_t):
            t = np.asarray(t, dtype=x._data.dtype)
            if t.shape != x._data.shape:
                raise ValueError(f"linearize: tangent of shape {t.shape} for a primal of shape "
                                 f"{x._data.shape}")
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
                    ti = checked_tangent(prim, i, rule_result(prim, i, "JVP", ti, False),
                                         node._raw[i].shape, node._data.shape)
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
    return unflatten(treedef, [np.zeros_like(np.asarray(
        leaf._data if isinstance(leaf, Tensor) else leaf, dtype=float)) for leaf in leaves])


# ----------------------------------------------------------- jacobians, hessians
def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "rev") -> Callable:
    """Return a function computing the Jacobian of f with respect to args[argnums]:
    shape f(x).shape + x.shape.  mode="rev" does one VJP per output element (cheap for
    few outputs), mode="fwd" one JVP per input element (cheap for few inputs).

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
            for i, x in zip(nums, xs):
                full[i] = x
            return f(*full, **kwargs)

        xs = tuple(args[i] for i in nums)
        flat_in, in_tree = flatten(xs)
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
    return tree_map(lambda v: v.detach() if isinstance(v, Tensor) else v, x)


def jacfwd(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """JAX's name for jacobian(f, argnums, mode="fwd")."""
    return jacobian(f, argnums, mode="fwd")


def jacrev(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """JAX's name for jacobian(f, argnums, mode="rev")."""
    return jacobian(f, argnums, mode="rev")


def _stack(pieces: list, axis: int, shape: tuple) -> Any:
    """Stack Jacobian rows (axis=0) or columns (axis=-1) and reshape to the Jacobian shape."""
    if any(isinstance(p, Tensor) for p in pieces):
        return reshape(stack(pieces, axis=axis), shape)
    if not pieces:
        return np.zeros(shape)
    return np.stack([np.asarray(p) for p in pieces], axis=axis).reshape(shape)


def _shape_of(x: Any) -> tuple:
    return np.shape(x._data if isinstance(x, Tensor) else x)


def _unit(shape: tuple, dtype: Any, k: int) -> np.ndarray:
    """The k-th basis array of `shape` (one 1, zeros elsewhere)."""
    e = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype)
    e[k] = 1
    return e.reshape(shape)


def _jac_rev(f: Callable, xs: tuple, flat_in: list, in_tree: Any) -> tuple[list, Any]:
    """Blocks [output leaf][input leaf] by one VJP per output element."""
    out, vjp_fn = vjp(f, *xs)
    flat_out, out_tree = flatten(out)
    out_arrays = [np.asarray(o._data if isinstance(o, Tensor) else o) for o in flat_out]
    in_shapes = [_float_array(x, "jacobian").shape for x in flat_in]
    blocks = []
    for m, o in enumerate(out_arrays):
        rows: list = [[] for _ in flat_in]
        for k in range(o.size):
            cts = [np.zeros_like(a, dtype=a.dtype if a.dtype.kind in "fc" else float)
                   for a in out_arrays]
            cts[m] = _unit(o.shape, cts[m].dtype, k)
            grads, _ = flatten(vjp_fn(unflatten(out_tree, cts)))
            for r, g in zip(rows, grads):
                r.append(g)
        blocks.append([_stack(r, 0, o.shape + s) for r, s in zip(rows, in_shapes)])
    return blocks, out_tree


def _jac_fwd(f: Callable, xs: tuple, flat_in: list, in_tree: Any) -> tuple[list, Any]:
    """Blocks [output leaf][input leaf] by one JVP per input element."""
    arrays = [_float_array(x, "jacobian") for x in flat_in]
    zeros = [np.zeros_like(a) for a in arrays]
    cols: dict = {}  # (output leaf, input leaf) -> tangent columns
    out_shapes = None
    out_tree = None
    for j, a in enumerate(arrays):
        for k in range(a.size):
            tangents = list(zeros)
            tangents[j] = _unit(a.shape, a.dtype, k)
            out, col = jvp(f, xs, unflatten(in_tree, tangents))
            flat_col, out_tree = flatten(col)
            out_shapes = [_shape_of(o) for o in flatten(out)[0]]
            for m, c in enumerate(flat_col):
                cols.setdefault((m, j), []).append(c)
    if out_shapes is None:  # every input is empty: evaluate once to learn the output
        flat_out, out_tree = flatten(f(*xs))
        out_shapes = [_shape_of(o) for o in flat_out]
    blocks = [[_stack(cols.get((m, j), []), -1, shape + a.shape) for j, a in enumerate(arrays)]
              for m, shape in enumerate(out_shapes)]
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
