"""Gradient descent on L-smooth non-convex functions reaches near-stationary points at the
rate of `002_34d55ca37461e66e.txt` section 7, with gradients from our engine.

For F with an L-Lipschitz gradient, one step w+ = w - eta grad F(w) satisfies
    F(w+) <= F(w) - eta ‖grad F(w)‖^2 + (1/2) eta^2 L ‖grad F(w)‖^2,
so with eta = 1/L every step decreases F by at least ‖grad F(w)‖^2 / (2L), and some
k <= 2L (F(w_0) - F*) / eps has ‖grad F(w_k)‖^2 <= eps.  We check both, step by step,
on three non-convex test functions whose L is computed exactly or bounded, and check
that L really bounds the Hessian (computed by the engine) wherever we sample it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff as ad
from experiments.common import Report, new_figure, progress, start
from optim import functional as fopt

NAME = "gd_convergence"
DESCRIPTION = (
    "Gradient descent with eta = 1/L on L-smooth non-convex functions: per-step "
    "decrease >= ‖grad‖^2/2L and a near-stationary point within 2L(F0 - F*)/eps steps"
)
SOURCE = "002_34d55ca37461e66e.txt"
DATA = "none"

COS_WEIGHT = 3.0  # a in the double-well function sum_i w_i^2/2 + a cos(w_i)


@dataclass
class Problem:
    """A test function with its smoothness constant and a lower bound on its minimum."""

    name: str
    f: Callable[[Any], Any]  # w (d,) -> scalar, written with autodiff ops
    L: float  # sup ‖Hessian‖ (exact or an upper bound)
    L_how: str
    f_low: float  # F* itself, or a lower bound on it
    f_low_how: str
    w0: np.ndarray
    sample: Callable[[np.random.Generator], np.ndarray]  # random points to test L at


def egg_crate(w: Any) -> Any:
    """F(w) = sin(w1) cos(w2): Hessian eigenvalues -sin(w1 + w2), -sin(w1 - w2); minima
    -1, maxima 1, saddles such as (0, pi/2)."""
    return ad.sin(w[0]) * ad.cos(w[1])


def double_wells(w: Any) -> Any:
    """F(w) = sum_i w_i^2 / 2 + a cos(w_i): Hessian diag(1 - a cos(w_i)), in [1 - a, 1 + a]."""
    return ad.sum(w**2 / 2.0 + COS_WEIGHT * ad.cos(w))


def double_well_minimum() -> float:
    """min_t t^2/2 + a cos t, by Newton's method on t - a sin t = 0 from t = 2.5."""
    t = 2.5
    for _ in range(50):
        t -= (t - COS_WEIGHT * np.sin(t)) / (1.0 - COS_WEIGHT * np.cos(t))
    return float(t * t / 2.0 + COS_WEIGHT * np.cos(t))


def cauchy_regression(x: np.ndarray, y: np.ndarray) -> Callable[[Any], Any]:
    """F(w) = mean_i log(1 + (x_i . w - y_i)^2): a robust, non-convex regression loss.
    The second derivative of log(1 + r^2) lies in [-1/4, 2], so L <= 2 lambda_max(X^T X / n)."""

    def f(w: Any) -> Any:
        return ad.mean(ad.log1p((x @ w - y) ** 2))

    return f


def problems(rng: np.random.Generator) -> list[Problem]:
    n, d = 200, 20
    x = rng.standard_normal((n, d))
    y = x @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    y[rng.random(n) < 0.2] += 10.0 * rng.standard_normal()  # outliers: why one uses Cauchy
    lam = float(np.linalg.eigvalsh(x.T @ x / n)[-1])
    dw = 10
    near_saddle = np.array([0.0, np.pi / 2]) + rng.normal(scale=1e-3, size=2)
    return [
        Problem(
            "egg crate from 1e-3 off its saddle (0, pi/2)",
            egg_crate,
            1.0,
            "exact: max abs(sin(w1 +- w2)) = 1",
            -1.0,
            "exact",
            near_saddle,
            lambda r: r.uniform(-10, 10, 2),
        ),
        Problem(
            "egg crate sin(w1) cos(w2)",
            egg_crate,
            1.0,
            "exact: max abs(sin(w1 +- w2)) = 1",
            -1.0,
            "exact",
            rng.uniform(-3.0, 3.0, 2),
            lambda r: r.uniform(-10, 10, 2),
        ),
        Problem(
            f"double wells (d = {dw})",
            double_wells,
            1.0 + COS_WEIGHT,
            "exact: max abs(1 - 3 cos t) = 4",
            dw * double_well_minimum(),
            "exact (1-D Newton per coordinate)",
            rng.normal(scale=0.3, size=dw),
            lambda r: r.uniform(-10, 10, dw),
        ),
        Problem(
            f"Cauchy regression (n = {n}, d = {d})",
            cauchy_regression(x, y),
            2.0 * lam,
            "bound: 2 lambda_max(X^T X / n)",
            0.0,
            "lower bound F >= 0",
            np.zeros(d),
            lambda r: r.normal(scale=3.0, size=d),
        ),
    ]


def gradient_descent(
    f: Callable[[Any], Any], w0: np.ndarray, eta: float, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Plain gradient descent.  Returns F(w_k) (steps + 1,) and ‖grad F(w_k)‖^2
    (steps + 1,) for k = 0..steps."""
    sq_norms: list[float] = []
    _, values = fopt.sgd(
        ad.value_and_grad(f),
        np.array(w0, dtype=float),
        eta,
        steps,
        callback=lambda t, w, value, g: sq_norms.append(float(g @ g)),
        evaluate_final=True,
    )
    return np.array([float(v) for v in values]), np.array(sq_norms)


def first_hit(sq_norms: np.ndarray, eps: float) -> int | None:
    """The first k with ‖grad F(w_k)‖^2 <= eps (None if there is none)."""
    hits = np.flatnonzero(sq_norms <= eps)
    return int(hits[0]) if hits.size else None


def _roundoff(values: np.ndarray) -> np.ndarray:
    # Slack for rounding in F(w_k) - F(w_{k+1}): far above float64 error of these sums
    # (~1e-15 |F|), far below the decreases being checked while F still moves.
    return 1e-12 * np.maximum(1.0, np.abs(values[:-1]))


def _check_problem(
    report: Report, p: Problem, rng: np.random.Generator, steps: int, n_samples: int
) -> dict[str, Any]:
    hess = ad.hessian(p.f)
    norms = [np.abs(np.linalg.eigvalsh(hess(p.sample(rng)))).max() for _ in range(n_samples)]
    values, sq = gradient_descent(p.f, p.w0, 1.0 / p.L, steps)
    report.check(
        max(norms) <= p.L * (1 + 1e-12),
        f"{p.name}: L = {p.L:.4g} bounds the Hessian",
        f"max ‖Hessian‖ over {n_samples} random points: {max(norms):.4f} ({p.L_how})",
    )
    slack = values[:-1] - sq[:-1] / (2 * p.L) - values[1:]
    report.check(
        np.all(slack >= -_roundoff(values)),
        f"{p.name}: with eta = 1/L, F(w_(k+1)) <= F(w_k) - ‖grad F(w_k)‖^2 / 2L at every step",
        f"{steps} steps; smallest slack {slack.min():.2e} (tolerance "
        "1e-12 max(1, abs(F)) for rounding)",
    )
    gap = values[0] - p.f_low
    running_min = np.minimum.accumulate(sq)
    curve = 2 * p.L * gap / (np.arange(steps + 1) + 1)
    rows = []
    # eps from the smallest one whose bound fits in the steps run, up to (not including)
    # ‖grad F(w_0)‖^2, where k = 0 would answer trivially.
    eps_min = 2 * p.L * gap / steps
    for eps in eps_min * np.logspace(0, 6, 13):
        if eps < sq[0]:
            bound = 2 * p.L * gap / eps
            rows.append((eps, bound, first_hit(sq, eps)))
    if rows:
        report.check(
            all(k is not None and k <= bound for _, bound, k in rows),
            f"{p.name}: some k <= 2L (F(w_0) - F*) / eps has ‖grad F(w_k)‖^2 <= eps",
            f"for {len(rows)} eps from {rows[0][0]:.2e} to {rows[-1][0]:.2e}; first k / "
            f"bound at most {max(k / bound for _, bound, k in rows):.3g} (F* "
            f"{p.f_low_how})",
        )
        report.check(
            np.all(running_min <= curve * (1 + 1e-12)),
            f"{p.name}: equivalently min_(j <= k) ‖grad F(w_j)‖^2 <= 2L (F(w_0) - F*) / (k+1)",
            "at every k",
        )
    rises = int(np.sum(sq[1:] > sq[:-1]))
    report.number(f"{p.name}: steps where the gradient norm grows", rises)
    return {
        "problem": p,
        "values": values,
        "sq": sq,
        "slack": slack,
        "rows": rows,
        "rises": rises,
        "curve": curve,
        "running_min": running_min,
        "max_hessian": max(norms),
    }


def _general_eta(report: Report, p: Problem, steps: int) -> list[list[Any]]:
    """The inequality of part 1 for other step sizes: F(w+) <= F - eta g^2 + eta^2 L g^2 / 2."""
    rows = []
    for factor in (0.5, 1.0, 1.5, 1.9):
        eta = factor / p.L
        values, sq = gradient_descent(p.f, p.w0, eta, steps)
        bound = values[:-1] - eta * sq[:-1] + 0.5 * eta**2 * p.L * sq[:-1]
        slack = bound - values[1:]
        rows.append(
            [
                p.name,
                f"{factor:g}/L",
                float(slack.min()),
                float(values[-1] - p.f_low),
                "yes" if np.all(slack >= -_roundoff(values)) else "NO",
            ]
        )
    report.check(
        all(r[-1] == "yes" for r in rows),
        f"{p.name}: F(w+) <= F(w) - eta ‖g‖^2 + (1/2) eta^2 L ‖g‖^2 for eta = "
        "0.5/L, 1/L, 1.5/L, 1.9/L",
        f"{steps} steps each; smallest slack {min(r[2] for r in rows):.2e}",
    )
    return rows


def _draw_grad_norms(ax: Any, r: dict[str, Any]) -> None:
    k1 = np.arange(r["sq"].size) + 1
    ax.loglog(k1, np.maximum(r["sq"], 1e-300), lw=1, label="‖grad F(w_k)‖^2")
    ax.loglog(k1, np.maximum(r["running_min"], 1e-300), lw=1.5, ls=":", label="min over j <= k")
    ax.loglog(k1, r["curve"], "k--", label="bound 2L(F(w0) - F*)/(k+1)")
    ax.set_ylim(1e-20, None)


def _draw_decrease(ax: Any, r: dict[str, Any]) -> None:
    guaranteed = r["sq"][:-1] / (2 * r["problem"].L)
    actual = r["values"][:-1] - r["values"][1:]
    live = guaranteed > 1e-10 * np.maximum(1.0, np.abs(r["values"][:-1]))
    ax.semilogy(
        np.flatnonzero(live),
        actual[live] / guaranteed[live],
        ".",
        ms=3,
        label="actual / guaranteed decrease",
    )
    ax.axhline(1.0, color="k", ls="--", label="guarantee ‖grad‖^2 / 2L")


def _per_problem_figure(
    report: Report,
    results: list[dict[str, Any]],
    draw: Callable[[Any, dict[str, Any]], None],
    labels: tuple[str, str],
    filename: str,
    caption: str,
) -> None:
    """One panel per test function, drawn by draw(ax, result), with the (x, y) axis
    `labels`, titled by the function's name, added to the report."""
    fig, axes = new_figure(ncols=2, nrows=(len(results) + 1) // 2, size=(5.5, 4.2))
    for ax, r in zip(axes.ravel(), results, strict=False):
        draw(ax, r)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.set_title(r["problem"].name, fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    report.figure(fig, filename, caption)


def _plot(report: Report, results: list[dict[str, Any]]) -> None:
    _per_problem_figure(
        report,
        results,
        _draw_grad_norms,
        ("gradient-descent step k + 1 (eta = 1/L)", "squared gradient norm"),
        "grad_norms.png",
        "Squared gradient norm along gradient descent with "
        "eta = 1/L, and the guaranteed bound on its running minimum (values below "
        "1e-20, reached at convergence, are off the scale)",
    )
    _per_problem_figure(
        report,
        results,
        _draw_decrease,
        ("step k", "(F(w_k) - F(w_k+1)) / (‖grad‖^2 / 2L)"),
        "decrease.png",
        "Per-step decrease of F relative to the guaranteed "
        "‖grad F‖^2 / 2L (steps where the guarantee is below rounding level omitted)",
    )


def main(argv: list[str] | None = None) -> Report:
    args, report, rng = start(NAME, DESCRIPTION, SOURCE, argv)
    steps, n_samples = (300, 20) if args.quick else (3000, 200)
    results, eta_rows = [], []
    for p in progress(problems(rng), desc="test functions"):
        results.append(_check_problem(report, p, rng, steps, n_samples))
        eta_rows += _general_eta(report, p, steps)
    egg = results[0]
    report.check(
        egg["sq"].max() > 1e4 * egg["sq"][0],
        "the gradient norm need not decrease at every step (the document's hint): "
        "leaving a saddle it grows, while F still decreases by ‖grad‖^2 / 2L per step",
        f"egg crate from 1e-3 off its saddle: ‖grad‖^2 from {egg['sq'][0]:.1e} at w_0 up "
        f"to {egg['sq'].max():.2f} (> 1e4 x); it grows at {egg['rises']} steps",
    )
    summary = []
    for r in results:
        p = r["problem"]
        tight = max((k / bound for _, bound, k in r["rows"]), default=None)
        summary.append(
            [
                p.name,
                p.L,
                p.L_how,
                r["max_hessian"],
                p.f_low,
                r["values"][0],
                r["values"][-1],
                r["sq"][-1],
                float(r["slack"].min()),
                "n/a: w_0 is already near-stationary" if tight is None else tight,
            ]
        )
        report.number(f"{p.name}: final F", r["values"][-1])
        report.number(f"{p.name}: final ‖grad‖^2", r["sq"][-1])
        if tight is not None:
            report.number(f"{p.name}: max first-hit k / bound", tight, headline=True)
    report.table(
        "Gradient descent with eta = 1/L",
        [
            "function",
            "L",
            "how L is known",
            "max sampled ‖Hessian‖",
            "F* (or bound)",
            "F(w_0)",
            f"F(w_{steps})",
            f"‖grad F(w_{steps})‖^2",
            "min per-step slack",
            "max (first k) / bound",
        ],
        summary,
        note="Document (section 7): decrease >= ‖grad‖^2 / 2L per step, and "
        "a k <= 2L(F(w_0) - F*)/eps with ‖grad‖^2 <= eps. Slack: F(w_k) - ‖grad‖^2/2L "
        "- F(w_(k+1)), never negative.",
    )
    for r in results[1:]:
        report.table(
            f"First k with ‖grad‖^2 <= eps: {r['problem'].name}",
            ["eps", "bound 2L(F(w_0) - F*)/eps", "first k"],
            [[eps, bound, k] for eps, bound, k in r["rows"]],
        )
    report.table(
        "Part 1 of section 7 for other step sizes",
        [
            "function",
            "eta",
            "min slack of F - eta g^2 + eta^2 L g^2/2 - F(w+)",
            "F(w_end) - F*",
            "holds",
        ],
        eta_rows,
    )
    _plot(report, results)
    report.write()
    return report


if __name__ == "__main__":
    main()
