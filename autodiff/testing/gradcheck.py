"""check_grads: derivatives of any order, in both modes, against float64 central differences.

For f taking arrays (args) and returning an array or a tuple/list/dict of arrays:

* order 1, mode "rev": for a random output cotangent v and each argument i with a random
  direction u_i, <vjp_i(v), u_i> must equal <v, (f(x_i + eps u_i) - f(x_i - eps u_i)) / 2eps>;
  the gradient must also have the argument's shape and dtype.
* order 1, mode "fwd": jvp along u_i must equal that central difference elementwise.
* both modes: <v, J u> from jvp equals <J^T v, u> from vjp (a consistency check that needs
  no finite differences, so it is tight).
* order k > 1: the same checks applied to the derivative functions x -> vjp(f, x)(v)
  and x -> jvp(f, x, u), recursively (reverse-over-reverse, forward-over-reverse, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from ..transforms import jvp, vjp
from ..tree import flatten, unflatten

DEFAULT_EPS = 1e-6
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-6


def _leaves(tree: Any) -> list[np.ndarray]:
    return [
        np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
        for x in flatten(tree)[0]
    ]


def _inner(a: Any, b: Any) -> float:
    return float(sum(np.sum(x * y) for x, y in zip(_leaves(a), _leaves(b), strict=False)))


def _random_like(tree: Any, rng: np.random.Generator) -> Any:
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [rng.standard_normal(np.shape(_leaves(x)[0])) for x in leaves])


def _fail(
    what: str, arg: int, mode: str, order: int, numeric: Any, analytic: Any, extra: str = ""
) -> None:
    numeric = np.asarray(numeric, dtype=np.float64)
    analytic = np.asarray(analytic, dtype=np.float64)
    if numeric.shape == analytic.shape and numeric.size > 1:
        diff = np.abs(numeric - analytic)
        worst = np.unravel_index(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)), diff.shape)
        where = (
            f"; worst element {tuple(int(i) for i in worst)}: numerical "
            f"{numeric[worst]!r}, analytical {analytic[worst]!r}"
        )
    else:
        where = ""
    raise AssertionError(
        f"check_grads: {what} for argument {arg}, mode {mode!r}, order {order}{extra}\n"
        f"  numerical:  {np.array2string(numeric, precision=8, threshold=20)}\n"
        f"  analytical: {np.array2string(analytic, precision=8, threshold=20)}{where}"
    )


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    return bool(
        np.allclose(
            np.asarray(a, dtype=np.float64),
            np.asarray(b, dtype=np.float64),
            rtol=rtol,
            atol=atol,
            equal_nan=False,
        )
    )


def _check_first_order(
    f: Callable,
    args: list,
    modes: Sequence[str],
    order: int,
    rtol: float,
    atol: float,
    eps: float,
    rng: np.random.Generator,
) -> tuple[Any, list]:
    out = f(*args)
    v = _random_like(out, rng)
    us = [rng.standard_normal(np.shape(a)) for a in args]
    grads: Any = vjp(f, *args)[1](v) if "rev" in modes else None
    total_fwd = 0.0
    for i, (a, u) in enumerate(zip(args, us, strict=False)):
        plus = list(args)
        minus = list(args)
        plus[i] = a + eps * u
        minus[i] = a - eps * u
        numeric = [
            (p - m) / (2 * eps) for p, m in zip(_leaves(f(*plus)), _leaves(f(*minus)), strict=False)
        ]
        if "rev" in modes:
            g = _leaves(grads[i])[0]
            if g.shape != np.shape(a):
                _fail(
                    f"gradient has shape {g.shape}, expected {np.shape(a)}",
                    i,
                    "rev",
                    order,
                    np.zeros(0),
                    np.zeros(0),
                )
            analytic = float(np.sum(g * u))
            expected = float(sum(np.sum(n * w) for n, w in zip(numeric, _leaves(v), strict=False)))
            if not _close(expected, analytic, rtol, atol * max(1.0, np.sqrt(np.size(a)))):
                _fail(
                    "vector-Jacobian product <J^T v, u> differs from finite differences",
                    i,
                    "rev",
                    order,
                    expected,
                    analytic,
                )
        if "fwd" in modes:
            tangents = [np.zeros_like(x) for x in args]
            tangents[i] = u
            tangent_out = _leaves(jvp(f, tuple(args), tuple(tangents))[1])
            for k, (n, t) in enumerate(zip(numeric, tangent_out, strict=False)):
                if n.shape != t.shape or not _close(n, t, rtol, atol):
                    _fail(
                        "Jacobian-vector product J u differs from finite differences",
                        i,
                        "fwd",
                        order,
                        n,
                        t,
                        f" (output leaf {k})" if len(numeric) > 1 else "",
                    )
            total_fwd += _inner(v, tangent_out)
    if "rev" in modes and "fwd" in modes:
        total_rev = 0.0
        for g, u in zip(grads, us, strict=False):
            total_rev += float(np.sum(_leaves(g)[0] * u))
        scale = max(1.0, abs(total_rev), abs(total_fwd))
        if abs(total_rev - total_fwd) > 1e-10 * scale + 1e-12 * len(args):
            _fail(
                "forward and reverse mode disagree: <v, J u> (jvp) != <J^T v, u> (vjp)",
                -1,
                "fwd+rev",
                order,
                total_fwd,
                total_rev,
            )
    return v, us


def check_grads(
    f: Callable,
    args: Sequence[Any],
    modes: Sequence[str] = ("fwd", "rev"),
    order: int = 2,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    eps: float = DEFAULT_EPS,
    seed: int = 0,
) -> None:
    """Check the derivatives of `f` at `args` up to `order` in the given modes.

    `args` are converted to float64 arrays.  Raises AssertionError naming the argument,
    mode and order that failed, with the numerical and analytical values (and the worst
    element for array comparisons).  Tolerances apply to the central differences; the
    forward/reverse consistency check uses a relative tolerance of 1e-10."""
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {mode!r}; use 'fwd' and/or 'rev'")
    args = [np.asarray(a.data if isinstance(a, Tensor) else a, dtype=np.float64) for a in args]
    rng = np.random.default_rng(seed)
    _check(f, args, tuple(modes), order, 1, rtol, atol, eps, rng)


def _check(f, args, modes, order, level, rtol, atol, eps, rng):
    v, us = _check_first_order(f, args, modes, level, rtol, atol, eps, rng)
    if level >= order:
        return
    if "rev" in modes:

        def f_rev(*xs):
            return vjp(f, *xs)[1](v)

        _check(f_rev, args, modes, order, level + 1, rtol, atol, eps, rng)
    if "fwd" in modes:

        def f_fwd(*xs):
            return jvp(f, tuple(xs), tuple(us))[1]

        _check(f_fwd, args, modes, order, level + 1, rtol, atol, eps, rng)
