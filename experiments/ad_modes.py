"""Forward versus reverse mode on the worked example f(w1, w2) of `002_34d55ca37461e66e.txt`
(sections 5 and 2.1), measured with our engine.

1. The evaluation trace z1..z6 of f: the forward-mode tangent trace (the 12 steps z_t, dz_t)
   from `ad.jvp`, the reverse-mode adjoints dz6/dz_t from a backward pass over the tape,
   both checked against the hand derivation at a sample point; the tape itself is listed
   and drawn (`ad.graph.to_text`, `ad.graph.to_dot`, and a PNG by `experiments._tape`).
2. The cost of a gradient: for f: R^d -> R built from the same trace, time(reverse
   gradient) / time(f) stays bounded while time(d JVPs) / time(f) grows like d; for
   g: R -> R^m it is the other way round.
3. The complexity table of section 2.1, timed on tanh MLPs of growing widths and batch
   sizes: forward and backward both scale like m * sum_l d_l d_{l+1}; the gradient of the
   top layer alone costs about one forward pass.

Timings: `autodiff.testing.timing` (interleaved medians of CPU time, BLAS on one thread),
which the benchmarks use too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autodiff as ad
from autodiff.testing.timing import interleaved_medians, median_seconds, single_thread_blas
from experiments._tape import draw_graph
from experiments.common import Report, new_figure, progress, start

NAME = "ad_modes"
DESCRIPTION = (
    "Forward vs reverse mode AD: the traces of f(w1, w2), the tape drawn, the cost of "
    "gradients and Jacobians as d grows, and the MLP complexity table, timed"
)
SOURCE = "002_34d55ca37461e66e.txt"
DATA = "none"

TWO_PI = 2.0 * np.pi
SAMPLE = (0.5, 1.5)  # (w1, w2): a point where no term of the trace vanishes
Z_NAMES = ("z1", "z2", "z3", "z4", "z5", "z6")
# The document's bound: the gradient by reverse mode costs at most this many times f, in
# arithmetic operations.  Checked on an operation count (`operation_counts`); the measured
# wall-clock ratio also carries the engine's per-operation Python overhead (3-8 for a
# backward pass at small d), so it is reported as a measurement beside the bound.
DOC_BOUND = 5.0


# --------------------------------------------------------------------------- the trace
def trace(w1: Any, w2: Any) -> dict[str, Any]:
    """The evaluation trace of section 5, elementwise: w1, w2 scalars, arrays of one
    shape, or Tensors.  Returns {"z1": ..., ..., "z6": ...} (each of that shape), where
    z6 = f(w1, w2) = (sin(2 pi w1/w2) + 3 w1/w2 - exp(2 w2)) (3 w1/w2 - exp(2 w2))."""
    z1 = w1 / w2
    z2 = ad.sin(TWO_PI * z1)
    z3 = ad.exp(2.0 * w2)
    z4 = 3.0 * z1 - z3
    z5 = z2 + z4
    z6 = z4 * z5
    return {"z1": z1, "z2": z2, "z3": z3, "z4": z4, "z5": z5, "z6": z6}


def hand_forward_trace(
    w1: float, w2: float, dw1: float, dw2: float
) -> list[tuple[str, str, float]]:
    """The forward mode written out by hand: 12 steps (name, rule, value), each z_t
    followed by its tangent dz_t = sum_tau (dz_t/dz_tau) dz_tau along (dw1, dw2)."""
    z1 = w1 / w2
    dz1 = (dw1 - z1 * dw2) / w2
    z2 = np.sin(TWO_PI * z1)
    dz2 = TWO_PI * np.cos(TWO_PI * z1) * dz1
    z3 = np.exp(2.0 * w2)
    dz3 = 2.0 * z3 * dw2
    z4 = 3.0 * z1 - z3
    dz4 = 3.0 * dz1 - dz3
    z5 = z2 + z4
    dz5 = dz2 + dz4
    z6 = z4 * z5
    dz6 = dz4 * z5 + z4 * dz5
    return [
        ("z1", "w1 / w2", z1),
        ("dz1", "(dw1 - z1 dw2) / w2", dz1),
        ("z2", "sin(2 pi z1)", z2),
        ("dz2", "2 pi cos(2 pi z1) dz1", dz2),
        ("z3", "exp(2 w2)", z3),
        ("dz3", "2 z3 dw2", dz3),
        ("z4", "3 z1 - z3", z4),
        ("dz4", "3 dz1 - dz3", dz4),
        ("z5", "z2 + z4", z5),
        ("dz5", "dz2 + dz4", dz5),
        ("z6", "z4 z5", z6),
        ("dz6", "dz4 z5 + z4 dz5", dz6),
    ]


def hand_reverse_trace(w1: float, w2: float) -> list[tuple[str, str, float]]:
    """The reverse mode written out by hand: (name, rule, value) of the adjoints
    zbar_t = dz6/dz_t, from z6 down to the inputs, each a function of the stored z's and
    of the adjoints already computed."""
    z = {k: v for k, _, v in hand_forward_trace(w1, w2, 0.0, 0.0) if not k.startswith("d")}
    b6 = 1.0
    b5 = b6 * z["z4"]
    b4 = b6 * z["z5"] + b5
    b3 = -b4
    b2 = b5
    b1 = 3.0 * b4 + TWO_PI * np.cos(TWO_PI * z["z1"]) * b2
    bw2 = -b1 * z["z1"] / w2 + 2.0 * z["z3"] * b3
    bw1 = b1 / w2
    return [
        ("z6bar", "1", b6),
        ("z5bar", "z6bar z4", b5),
        ("z4bar", "z6bar z5 + z5bar", b4),
        ("z3bar", "-z4bar", b3),
        ("z2bar", "z5bar", b2),
        ("z1bar", "3 z4bar + 2 pi cos(2 pi z1) z2bar", b1),
        ("w2bar", "-z1bar z1 / w2 + 2 z3 z3bar", bw2),
        ("w1bar", "z1bar / w2", bw1),
    ]


def engine_forward_trace(w1: float, w2: float, dw1: float, dw2: float) -> dict[str, float]:
    """z_t and dz_t of every step as the engine's forward mode (`ad.jvp`, one pass with
    dual numbers) computes them: {"z1": ..., "dz1": ..., ...}."""
    values, tangents = ad.jvp(
        lambda a, b: tuple(trace(a, b).values()),
        (np.float64(w1), np.float64(w2)),
        (np.float64(dw1), np.float64(dw2)),
    )
    out = {}
    for name, v, t in zip(Z_NAMES, values, tangents, strict=False):
        out[name], out["d" + name] = float(v), float(t)
    return out


def record_trace(w1: float, w2: float) -> tuple[list[ad.Tensor], dict[str, ad.Tensor]]:
    """Run the trace on tensors that require grad, then a backward pass that keeps the
    graph and the adjoint (.grad) of every node.  Returns the recorded graph's tensors in
    topological order (leaves included, `ad.graph.nodes`) and the named ones
    {"w1": ..., "w2": ..., "z1": ..., ..., "z6": ...}."""
    x1 = ad.tensor(np.float64(w1), requires_grad=True)
    x2 = ad.tensor(np.float64(w2), requires_grad=True)
    zs = trace(x1, x2)
    nodes = ad.graph.nodes(zs["z6"])
    for node in nodes:
        if not node.is_leaf:
            node.retain_grad()
    zs["z6"].backward(retain_graph=True)
    return nodes, {"w1": x1, "w2": x2, **zs}


def _trace_section(report: Report) -> None:
    w1, w2 = SAMPLE
    directions = {"w1": (1.0, 0.0), "w2": (0.0, 1.0)}
    hand = {k: hand_forward_trace(w1, w2, *v) for k, v in directions.items()}
    engine = {k: engine_forward_trace(w1, w2, *v) for k, v in directions.items()}
    rows, worst_fwd = [], 0.0
    for step, (name, rule, value) in enumerate(hand["w1"], start=1):
        value2 = hand["w2"][step - 1][2]
        e1, e2 = engine["w1"][name], engine["w2"][name]
        worst_fwd = max(worst_fwd, _max_rel(e1, value), _max_rel(e2, value2))
        rows.append([step, name, rule, value, e1, value2, e2])
    report.table(
        "Forward mode: the 12-step tangent trace (dw = e1 gives df/dw1, the document's "
        "case; dw = e2 needs a second pass for df/dw2)",
        [
            "step",
            "quantity",
            "rule (by hand)",
            "hand, dw=e1",
            "engine jvp, dw=e1",
            "hand, dw=e2",
            "engine jvp, dw=e2",
        ],
        rows,
        note=f"At (w1, w2) = {SAMPLE}. Engine values come from one `ad.jvp` call per "
        "direction on the trace function returning z1..z6.",
    )
    print("Forward-mode tangent trace (direction e1):")
    for step, (name, rule, _) in enumerate(hand["w1"], start=1):
        print(f"  {step:>2}. {name:<4} = {rule:<26} = {engine['w1'][name]:.12g}")
    report.check(
        worst_fwd <= 1e-12,
        "the engine's forward-mode trace (z_t and dz_t, 12 steps, "
        "both directions) equals the hand derivation",
        f"max difference relative to max(abs(value), 1): {worst_fwd:.2e} <= 1e-12 "
        "(a few float64 roundings)",
    )

    nodes, by_name = record_trace(w1, w2)
    rows, worst_rev = [], 0.0
    for name, rule, value in hand_reverse_trace(w1, w2):
        node = by_name[name.replace("bar", "")]
        got = float(node.grad)
        worst_rev = max(worst_rev, _max_rel(got, value))
        rows.append([name, rule, value, got])
    report.table(
        "Reverse mode: the adjoint trace zbar_t = dz6/dz_t",
        ["adjoint", "rule (by hand)", "hand", "engine backward (.grad)"],
        rows,
        note="Engine values are the `.grad` of each node after one backward pass "
        "(retain_grad on the intermediate nodes).",
    )
    report.check(
        worst_rev <= 1e-12,
        "the engine's reverse-mode adjoints of z6..z1, w2, w1 equal the hand derivation",
        f"max difference relative to max(abs(value), 1): {worst_rev:.2e} <= 1e-12",
    )
    grad_fwd = (engine["w1"]["dz6"], engine["w2"]["dz6"])
    grad_rev = (float(by_name["w1"].grad), float(by_name["w2"].grad))
    report.number("sample_point", list(SAMPLE))
    report.number("f_at_sample", float(by_name["z6"].data), headline=True)
    report.number("grad_at_sample_reverse", list(grad_rev), headline=True)
    report.number("grad_at_sample_forward", list(grad_fwd))
    report.number("trace_max_rel_error", max(worst_fwd, worst_rev))

    names = {t: name for name, t in by_name.items()}
    tape = ad.graph.to_text(by_name["z6"], names=names)
    print("The tape (topological order; the backward pass visits it bottom-up):")
    print(tape)
    report.text(
        "### The tape as recorded by the engine\n\nOne line per node (topological "
        "order, # = position; the backward pass visits them bottom-up). The engine "
        "records 9 operations for the 6 trace steps: the constant products 2 pi z1, "
        f"2 w2 and 3 z1 are nodes of their own (t1, t2, t3).\n\n```\n{tape}\n```"
    )
    n_ops = sum(not n.is_leaf for n in nodes)
    on_tape = {id(n) for n in nodes}
    report.number("tape_operations", n_ops)
    report.check(
        n_ops == 9 and all(id(t) in on_tape for t in by_name.values()),
        "the tape holds the two inputs, z1..z6 and the three constant products",
        f"{n_ops} recorded operations",
    )
    dot = ad.graph.to_dot(by_name["z6"], names=names)
    (report.out / "graph.dot").write_text(dot)
    title = (
        f"The tape recorded for f(w1, w2) at (w1, w2) = {SAMPLE}: value and "
        f"adjoint dz6/dnode of each node"
    )
    report.figure(
        draw_graph(by_name["z6"], names, title),
        "graph.png",
        "The computation graph of f as recorded on the tape (also written as "
        "Graphviz DOT to graph.dot)",
    )


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise difference relative to max(|b|, 1) (absolute near 0)."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))


# ------------------------------------------------------------------------------ timing
# CPU time of this process, not wall time (the default clock of interleaved_medians and
# median_seconds): on a shared machine the time spent waiting for a core is not work done
# by the engine (with BLAS on one thread they coincide on an idle machine).  BLAS runs on
# one thread (single_thread_blas): the cost model of section 2.1 counts multiply-adds; on
# a shared 2-core machine a multi-threaded BLAS makes the time of a product depend on the
# other workers' load more than on its size.


def slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# ------------------------------------------------------------------- forward vs reverse
def sum_trace(w: Any) -> Any:
    """f: R^d -> R, f(w) = sum_i z6(w_i, w_{i+1 mod d}): the trace, vectorised. w: (d,)."""
    nxt = ad.concatenate([w[1:], w[:1]])
    return ad.sum(trace(w, nxt)["z6"])


def forward_gradient(f: Callable, w: np.ndarray) -> np.ndarray:
    """The gradient of scalar f at w (shape (d,)) by forward mode: d JVPs along e_1..e_d."""
    grad = np.empty_like(w)
    e = np.zeros_like(w)
    for i in range(w.size):
        e[i] = 1.0
        grad[i] = ad.jvp(f, (w,), (e,))[1]
        e[i] = 0.0
    return grad


def reverse_jacobian(g: Callable, s: np.ndarray, m: int) -> np.ndarray:
    """The Jacobian (m,) of g: R -> R^m at s by reverse mode: one recorded evaluation,
    then m VJPs with the unit cotangents e_1..e_m."""
    _, vjp_fn = ad.vjp(g, s)
    jac = np.empty(m)
    e = np.zeros(m)
    for i in range(m):
        e[i] = 1.0
        jac[i] = vjp_fn(e)[0]
        e[i] = 0.0
    return jac


def _elementwise_cost(node: Any) -> int:
    """Arithmetic operations of one recorded primitive: the size of its output or of its
    largest operand, whichever is larger (one operation per element; a sum of n numbers
    counts n)."""
    return max([int(np.size(node.data))] + [int(np.size(t.data)) for t in node.inputs])


def operation_counts(f: Callable, w: np.ndarray) -> dict[str, int]:
    """Arithmetic operations of f(w) and of its gradient by reverse mode, counted on the
    engine's own tape: the backward pass runs with create_graph=True, so each vector-
    Jacobian rule records the primitives it computes with, and every recorded primitive
    counts its elements (`_elementwise_cost`).  Returns the primitive count and the
    operation count of the forward evaluation ('f') and of the backward pass."""
    x = ad.tensor(np.array(w, dtype=np.float64), requires_grad=True)
    y = f(x)
    forward = [n for n in ad.graph.nodes(y) if not n.is_leaf]
    seen = {id(n) for n in ad.graph.nodes(y)}
    y.backward(create_graph=True)
    backward = [n for n in ad.graph.nodes(x.grad) if id(n) not in seen and not n.is_leaf]
    return {
        "f_primitives": len(forward),
        "backward_primitives": len(backward),
        "f_ops": sum(_elementwise_cost(n) for n in forward),
        "backward_ops": sum(_elementwise_cost(n) for n in backward),
    }


def _cost_section(report: Report, rng: np.random.Generator, quick: bool) -> None:
    sizes = [1, 10, 100, 1000] if quick else [1, 3, 10, 30, 100, 300, 1000, 3000, 10000]
    cheap_budget, dear_budget = (0.08, 0.3) if quick else (0.5, 3.0)
    grad_f = ad.grad(sum_trace)
    rows_in, rows_out, worst = [], [], 0.0
    for d in progress(sizes, desc="R^d -> R"):
        w = rng.uniform(0.5, 1.5, size=d)
        t_f, t_rev = interleaved_medians(
            [lambda w=w: sum_trace(w), lambda w=w: grad_f(w)], cheap_budget
        )
        t_fwd, g_fwd = median_seconds(lambda w=w: forward_gradient(sum_trace, w), dear_budget)
        worst = max(worst, _max_rel(g_fwd, grad_f(w)))
        rows_in.append([d, t_f * 1e6, t_rev / t_f, t_fwd / t_f])
    for m in progress(sizes, desc="R -> R^m"):
        u, v = rng.uniform(0.5, 1.5, size=m), rng.uniform(0.5, 1.5, size=m)
        s = np.float64(1.0)

        def g(x, u=u, v=v):
            return trace(x * u, v)["z6"]

        t_g, t_fwd = interleaved_medians(
            [lambda g=g, s=s: g(s), lambda g=g, s=s: ad.jvp(g, (s,), (np.float64(1.0),))],
            cheap_budget,
        )
        t_rev, j_rev = median_seconds(lambda g=g, s=s, m=m: reverse_jacobian(g, s, m), dear_budget)
        j_fwd = ad.jvp(g, (s,), (np.float64(1.0),))[1]
        worst = max(worst, _max_rel(j_rev, j_fwd))
        rows_out.append([m, t_g * 1e6, t_fwd / t_g, t_rev / t_g])

    report.table(
        "Cost of the gradient of f: R^d -> R (sum of the trace over d coordinates)",
        ["d", "time f (us)", "reverse grad / f", "forward grad (d JVPs) / f"],
        rows_in,
        note="Document: reverse mode within a factor 5 of f (counting arithmetic); "
        "forward mode O(d T). Medians of repeated, interleaved CPU-time "
        "measurements.",
    )
    report.table(
        "Cost of the Jacobian of g: R -> R^m (the trace at (s u_i, v_i), i <= m)",
        ["m", "time g (us)", "forward (1 JVP) / g", "reverse (m VJPs) / g"],
        rows_out,
    )
    big = np.array(sizes) >= 10
    d_arr = np.array(sizes)[big]
    rev_ratio = np.array([r[2] for r in rows_in])
    fwd_ratio = np.array([r[3] for r in rows_in])
    jf_ratio = np.array([r[2] for r in rows_out])
    jr_ratio = np.array([r[3] for r in rows_out])
    fits = {
        "reverse_grad": slope(d_arr, rev_ratio[big]),
        "forward_grad": slope(d_arr, fwd_ratio[big]),
        "forward_jac": slope(d_arr, jf_ratio[big]),
        "reverse_jac": slope(d_arr, jr_ratio[big]),
    }
    report.number("cost_sizes", sizes)
    report.number("cost_reverse_grad_ratio", rev_ratio, headline=True)
    report.number("cost_forward_grad_ratio", fwd_ratio)
    report.number("cost_forward_jac_ratio", jf_ratio)
    report.number("cost_reverse_jac_ratio", jr_ratio)
    report.number("cost_loglog_slopes", fits, headline=True)
    report.check(
        worst <= 1e-10,
        "forward and reverse mode give the same gradient / Jacobian at every size",
        f"max relative difference {worst:.1e} <= 1e-10",
    )
    n = np.array(sizes, dtype=float)
    per_pass = {
        "reverse_grad": rev_ratio,
        "forward_grad": fwd_ratio / n,
        "forward_jac": jf_ratio,
        "reverse_jac": jr_ratio / n,
    }
    report.number("cost_time_per_pass_over_f", per_pass)
    counts = [operation_counts(sum_trace, rng.uniform(0.5, 1.5, size=d)) for d in sizes]
    op_ratio = np.array([(c["f_ops"] + c["backward_ops"]) / c["f_ops"] for c in counts])
    report.number("cost_operation_counts", dict(zip(map(str, sizes), counts, strict=False)))
    report.number("cost_reverse_grad_op_ratio", op_ratio, headline=True)
    report.table(
        "Reverse mode in arithmetic operations (the document's measure)",
        [
            "d",
            "primitives of f",
            "primitives of the backward pass",
            "operations of f",
            "operations of the backward pass",
            "gradient (f + backward) / f",
            "document's bound",
        ],
        [
            [
                d,
                c["f_primitives"],
                c["backward_primitives"],
                c["f_ops"],
                c["backward_ops"],
                r,
                DOC_BOUND,
            ]
            for d, c, r in zip(sizes, counts, op_ratio, strict=False)
        ],
        note="Counted on the engine's tape: the backward pass runs with "
        "create_graph=True, so every vector-Jacobian rule records its primitives; "
        "each primitive counts one operation per element of its output or of its "
        "largest operand. sin, cos and exp count as one operation each, as in "
        "the document's count.",
    )
    report.check(
        op_ratio.max() <= DOC_BOUND and np.ptp(op_ratio) <= 1e-12 * op_ratio.max(),
        f"reverse mode: the gradient costs at most {DOC_BOUND:g} times f in arithmetic "
        "operations, the same factor for every d (the document's bound)",
        f"(operations of f + backward) / operations of f = {op_ratio.max():.3f} at "
        f"every d in {sizes[0]}..{sizes[-1]}",
    )
    report.text(
        f"**Wall-clock, a measurement (no claim).** time(gradient) / time(f) by reverse "
        f"mode is {rev_ratio[0]:.2f} at d = 1 and {rev_ratio[-1]:.2f} at d = "
        f"{sizes[-1]} (largest {rev_ratio.max():.2f}). It exceeds the document's "
        f"{DOC_BOUND:g} where the engine's per-operation Python overhead outweighs the "
        f"arithmetic (small d): the bound is one on operations, which the table above "
        f"checks ({op_ratio.max():.2f})."
    )
    report.check(
        fits["reverse_grad"] < 0.25,
        "reverse mode: the wall-clock ratio does not grow with d",
        f"log-log slope over d >= 10: {fits['reverse_grad']:.3f} < 0.25",
    )
    report.check(
        1.0 <= per_pass["forward_grad"].min() and 0.6 <= fits["forward_grad"] <= 1.25,
        "forward mode: time(d JVPs) / time(f) grows linearly in d (at least d: every "
        "JVP evaluates f on the way)",
        f"ratio / d in [{per_pass['forward_grad'].min():.2f}, "
        f"{per_pass['forward_grad'].max():.2f}]; log-log slope over d >= 10: "
        f"{fits['forward_grad']:.3f} in [0.6, 1.25] (below 1 because a JVP's Python "
        "overhead relative to f shrinks as numpy work takes over)",
    )
    report.check(
        fits["forward_jac"] < 0.25,
        "R -> R^m: forward mode (one JVP) costs a multiple of g that does not grow with m",
        f"log-log slope over m >= 10: {fits['forward_jac']:.3f} < 0.25 (ratio "
        f"{jf_ratio.min():.2f}..{jf_ratio.max():.2f}, a measurement)",
    )
    report.check(
        0.25 <= per_pass["reverse_jac"].min() and 0.6 <= fits["reverse_jac"] <= 1.25,
        "R -> R^m: reverse mode (m VJPs) grows linearly in m (at least m/4 times g)",
        f"ratio / m in [{per_pass['reverse_jac'].min():.2f}, "
        f"{per_pass['reverse_jac'].max():.2f}] (a VJP reuses the recorded values, so one "
        "can cost less than g); log-log slope over m >= 10: "
        f"{fits['reverse_jac']:.3f} in [0.6, 1.25]",
    )

    fig, axes = new_figure(ncols=2, size=(6.0, 4.3))
    ax = axes[0][0]
    ax.loglog(sizes, rev_ratio, "o-", label="reverse mode: 1 backward pass")
    ax.loglog(sizes, fwd_ratio, "s-", label="forward mode: d JVPs")
    ax.loglog(sizes, [5.0] * len(sizes), "k:", label="document's bound 5")
    ax.loglog(sizes, op_ratio, "^--", label="reverse mode, operation count")
    ax.set_xlabel("input dimension d")
    ax.set_ylabel("time(gradient) / time(f)")
    ax.set_title("f: R^d -> R, gradient")
    ax.legend(fontsize=8)
    ax = axes[0][1]
    ax.loglog(sizes, jf_ratio, "s-", label="forward mode: 1 JVP")
    ax.loglog(sizes, jr_ratio, "o-", label="reverse mode: m VJPs")
    ax.set_xlabel("output dimension m")
    ax.set_ylabel("time(Jacobian) / time(g)")
    ax.set_title("g: R -> R^m, Jacobian")
    ax.legend(fontsize=8)
    report.figure(
        fig,
        "cost_modes.png",
        "Relative cost of derivatives by forward and reverse "
        "mode as the number of inputs d (left) or outputs m (right) grows",
    )


# --------------------------------------------------------------------- MLP complexity
def mlp_loss(weights: Sequence[Any], x: Any, y: Any) -> Any:
    """Square loss of a tanh MLP without biases on a mini-batch: x (m, d), y (m, k),
    weights[l] (d_l, d_{l+1}); the output layer is linear."""
    h = x
    for w in weights[:-1]:
        h = ad.tanh(h @ w)
    return ad.sum((h @ weights[-1] - y) ** 2) / x.shape[0]


def mlp_flops(dims: Sequence[int], m: int) -> float:
    """Multiply-adds x 2 of the forward pass: 2 m sum_l d_l d_{l+1}."""
    return 2.0 * m * sum(a * b for a, b in zip(dims[:-1], dims[1:], strict=False))


def _time_mlp(dims: Sequence[int], m: int, rng: np.random.Generator, budget: float) -> list[float]:
    weights = [
        rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(dims[:-1], dims[1:], strict=False)
    ]
    x = rng.standard_normal((m, dims[0]))
    y = rng.standard_normal((m, dims[-1]))
    full = ad.grad(mlp_loss)
    # Only the top layer is an argument of the differentiated function, so the lower
    # layers are computed on plain arrays and never recorded.
    top = ad.grad(lambda w_top: mlp_loss(list(weights[:-1]) + [w_top], x, y))
    return interleaved_medians(
        [lambda: mlp_loss(weights, x, y), lambda: full(weights, x, y), lambda: top(weights[-1])],
        budget,
        min_repeats=5,
        max_repeats=50,
    )


def _complexity_section(report: Report, rng: np.random.Generator, quick: bool) -> None:
    d_in, k, hidden = 784, 10, 2  # MNIST-sized input and output, two hidden layers
    if quick:
        widths, m_fixed, batches, n_fixed, budget = [128, 256, 512], 128, [64, 256, 1024], 256, 0.3
    else:
        widths, m_fixed = [128, 256, 512, 1024, 2048], 256
        batches, n_fixed, budget = [64, 128, 256, 512, 1024, 2048, 4096], 512, 1.5
    configs = [("width", n, m_fixed) for n in widths] + [("batch", n_fixed, m) for m in batches]
    rows, table = [], []
    with single_thread_blas() as single:
        for sweep, n, m in progress(configs, desc="MLP timings"):
            dims = [d_in] + [n] * hidden + [k]
            t_f, t_g, t_top = _time_mlp(dims, m, rng, budget)
            rows.append((sweep, n, m, mlp_flops(dims, m), t_f, t_g, t_top))
            table.append(
                [
                    sweep,
                    n,
                    m,
                    mlp_flops(dims, m) / 1e6,
                    t_f * 1e3,
                    t_g * 1e3,
                    t_top * 1e3,
                    t_g / t_f,
                    t_top / t_g,
                ]
            )
    report.number("blas_single_thread", single)
    report.table(
        "MLP timings (tanh, d = 784, two hidden layers of width n, k = 10, square loss)",
        [
            "sweep",
            "width n",
            "batch m",
            "forward Mflop",
            "forward (ms)",
            "full gradient (ms)",
            "top-layer gradient (ms)",
            "full / forward",
            "top / full",
        ],
        table,
        note="Medians of interleaved repeats (CPU time)"
        + (", BLAS on one thread." if single else "."),
    )
    flops = np.array([r[3] for r in rows])
    times = {
        name: np.array([r[i] for r in rows])
        for i, name in ((4, "forward"), (5, "full_gradient"), (6, "top_gradient"))
    }
    w_idx = np.array([r[0] == "width" for r in rows])
    b_idx = ~w_idx
    n_arr = np.array([r[1] for r in rows])
    m_arr = np.array([r[2] for r in rows])
    predicted_width = slope(n_arr[w_idx], flops[w_idx])
    fit_rows, fits = [], {}
    for name, t in times.items():
        fits[name] = {
            "vs_flops": slope(flops, t),
            "width": slope(n_arr[w_idx], t[w_idx]),
            "batch": slope(m_arr[b_idx], t[b_idx]),
        }
    doc = {
        "forward": "O(m sum d_l d_{l+1}) (+ m sum d_l C_h)",
        "full_gradient": "same order as the forward pass",
        "top_gradient": "a forward pass + O(m d_L k): cheaper, not a lower order",
    }
    for name, f in fits.items():
        fit_rows.append(
            [
                name.replace("_", " "),
                doc[name],
                f["vs_flops"],
                f["width"],
                predicted_width,
                f["batch"],
                1.0,
            ]
        )
    report.table(
        "Complexity of section 2.1: fitted exponents (log-log slopes)",
        [
            "quantity",
            "document",
            "exponent vs m sum d_l d_{l+1}",
            "exponent in width",
            "predicted in width",
            "exponent in batch",
            "predicted in batch",
        ],
        fit_rows,
        note="Predicted width exponent: the slope of the flop count itself over the "
        "widths used (between 1 and 2: the input layer d x n is linear in n).",
    )
    report.number("mlp_exponents", fits, headline=True)
    report.number("mlp_predicted_width_exponent", predicted_width)
    for name, f in fits.items():
        report.check(
            0.75 <= f["vs_flops"] <= 1.25,
            f"{name.replace('_', ' ')}: time grows like m sum_l d_l d_(l+1)",
            f"exponent vs the flop count {f['vs_flops']:.3f} in [0.75, 1.25]; width "
            f"{f['width']:.2f} (predicted {predicted_width:.2f}), batch {f['batch']:.2f} "
            "(predicted 1)",
        )
    ratio = times["full_gradient"] / times["forward"]
    top_ratio = times["top_gradient"] / times["full_gradient"]
    report.number("mlp_full_over_forward", ratio)
    report.number("mlp_top_over_full", top_ratio)
    report.check(
        1.0 <= ratio.min() and ratio.max() <= 8.0,
        "backward is of the same order as the forward pass",
        f"time(full gradient) / time(forward) in [{ratio.min():.2f}, {ratio.max():.2f}] "
        "within [1, 8] at every size",
    )
    report.check(
        top_ratio.max() < 0.75,
        "the gradient of the top layer alone is cheaper than the full gradient",
        f"time(top) / time(full) <= {top_ratio.max():.2f} < 0.75 at every size",
    )

    from matplotlib.ticker import NullFormatter

    fig, axes = new_figure(ncols=2, size=(6.0, 4.3))
    for ax, idx, var, label in (
        (axes[0][0], w_idx, n_arr, f"hidden width n (batch m = {m_fixed})"),
        (axes[0][1], b_idx, m_arr, f"batch size m (width n = {n_fixed})"),
    ):
        for name, marker in (("forward", "o-"), ("full_gradient", "s-"), ("top_gradient", "^-")):
            fitted = slope(var[idx], times[name][idx])
            ax.loglog(
                var[idx],
                times[name][idx] * 1e3,
                marker,
                label=f"{name.replace('_', ' ')} (slope {fitted:.2f})",
            )
        scale = times["forward"][idx][-1] / flops[idx][-1]
        ax.loglog(var[idx], flops[idx] * scale * 1e3, "k:", label="m sum d_l d_(l+1), scaled")
        ax.set_xticks(var[idx], [str(v) for v in var[idx]])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label)
        ax.set_ylabel("time (ms)")
        ax.legend(fontsize=8)
    axes[0][0].set_title("MLP cost against width")
    axes[0][1].set_title("MLP cost against batch size")
    report.figure(
        fig,
        "mlp_complexity.png",
        "Timed forward pass, full gradient and top-layer "
        "gradient of a tanh MLP, with the operation count of section 2.1",
    )


# ------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> Report:
    args, report, rng = start(NAME, DESCRIPTION, SOURCE, argv)
    _trace_section(report)
    _cost_section(report, rng, args.quick)
    _complexity_section(report, rng, args.quick)
    report.write()
    return report


if __name__ == "__main__":
    main()
