"""Dual activations by Monte Carlo against their closed forms (doc 004, problems 5-10).

For each activation phi we estimate  dual(xi) = E[phi(u) phi(v)],
(u, v) ~ N(0, [[1, xi], [xi, 1]]),
on a grid of xi in [-1, 1] by sampling u = z1, v = xi z1 + sqrt(1 - xi^2) z2 with z1, z2 i.i.d.
standard normal, the same (z1, z2) for every xi ("common random numbers": the estimate is then a
smooth function of xi, so finite differences across the grid are precise).  Each estimate comes with
its standard error; the closed forms of problems 5-7 and 9 (and the arc-cosine and arcsine kernels
of ReLU and erf) must lie within a Bonferroni-corrected number of standard errors.  Then:

* problem 8.1, the dual of a*phi is a^2 times the dual of phi: estimated from independent samples;
* problem 8.2, the dual is non-decreasing and convex on [0, 1]: first and second differences of the
  common-random-number estimate are not significantly negative there (also for tanh and for an
  activation that is itself neither monotone nor convex), while on [-1, 0] they can be;
* problem 10, u = w.x and v = w.x' with w ~ N(0, I_d) have mean 0 and covariance x.x' (sampled).

erf has no numpy implementation (and scipy is not a dependency): we use Abramowitz & Stegun 7.1.26,
whose absolute error is below 1.5e-7, four orders of magnitude below the Monte Carlo error; the
bound is checked against math.erf on a dense grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from experiments import common
from experiments._nngp_common import (
    dual_cos,
    dual_erf,
    dual_exp,
    dual_identity,
    dual_relu,
    dual_sin,
)

DESCRIPTION = (
    "Monte Carlo dual activations E[phi(u)phi(v)] of x, exp, sin, cos, ReLU, erf "
    "against their closed forms; problem 8 properties; cov(w.x, w.x') = x.x'"
)
SOURCE = "004_0b6aebc5a09fb10d.txt"
DATA = "none"
NAME = "dual_activations"

FAMILY_ALPHA = 1e-4  # family-wise false-alarm rate of each group of Monte Carlo assertions
ROUNDING = 1e-12  # floor of a standard error, relative: float64 sums of 1e6 terms


def erf(x: np.ndarray) -> np.ndarray:
    """Error function, elementwise, any shape (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


@dataclass(frozen=True)
class Activation:
    key: str
    label: str  # phi, for plots and tables
    phi: Callable[[np.ndarray], np.ndarray]
    dual: Callable[[np.ndarray], np.ndarray] | None  # closed form, None where none is known
    dual_label: str = ""


ACTIVATIONS = [
    Activation("identity", "x", lambda x: x, dual_identity, "xi"),
    Activation(
        "exp_0.5",
        "exp(-C^2 + Cx), C = 1/2",
        lambda x: np.exp(-0.25 + 0.5 * x),
        lambda xi: dual_exp(xi, 0.5),
        "exp(-C^2 + C^2 xi)",
    ),
    Activation(
        "exp_1",
        "exp(-C^2 + Cx), C = 1",
        lambda x: np.exp(-1.0 + x),
        lambda xi: dual_exp(xi, 1.0),
        "exp(-C^2 + C^2 xi)",
    ),
    Activation("sin", "sin x", np.sin, dual_sin, "e^-1 sinh xi"),
    Activation("cos", "cos x", np.cos, dual_cos, "e^-1 cosh xi"),
    Activation(
        "relu",
        "max(0, x)",
        lambda x: np.maximum(x, 0.0),
        dual_relu,
        "(sqrt(1-xi^2) + (pi - arccos xi) xi) / (2 pi)",
    ),
    Activation("erf", "erf x", erf, dual_erf, "(2/pi) arcsin(2 xi / 3)"),
]
# for problem 8.2 only: no closed form needed; the last one is neither monotone nor convex itself
EXTRA_ACTIVATIONS = [
    Activation("tanh", "tanh x", np.tanh, None),
    Activation("cos3x_minus_x", "cos 3x - x", lambda x: np.cos(3.0 * x) - x, None),
]


def z_threshold(m: int, alpha: float = FAMILY_ALPHA) -> float:
    """The z with P(|Z| > z) = alpha / m for Z standard normal (Bonferroni over m tests)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if math.erfc(mid / math.sqrt(2.0)) * m > alpha else (lo, mid)
    return hi


def mc_dual(
    phi: Callable[[np.ndarray], np.ndarray], grid: np.ndarray, z1: np.ndarray, z2: np.ndarray
) -> dict[str, np.ndarray]:
    """Monte Carlo dual of phi on an increasing, evenly spaced grid (G,) from samples z1, z2 (N,).

    Returns mean and se (G,) of phi(u) phi(v), and the first differences d1 (G-1,)
    [dual(xi_{i+1}) - dual(xi_i)] and second differences d2 (G-2,) [centred at xi_{i+1}], each with
    its standard error: with the same samples at every xi, the differences are averages of
    per-sample differences, whose spread gives their errors.
    """
    n = z1.size
    phi_u = phi(z1)
    out: dict[str, list] = {k: [] for k in ("mean", "se", "d1", "d1_se", "d2", "d2_se")}

    def add(key: str, se_key: str, values: np.ndarray) -> None:
        out[key].append(values.mean())
        # rounding floor: some products are constant (exp at xi = -1, ReLU at xi = -1)
        out[se_key].append(
            math.hypot(values.std(ddof=1) / math.sqrt(n), ROUNDING * max(1.0, abs(out[key][-1])))
        )

    prev: list[np.ndarray] = []
    for xi in grid:
        cur = phi_u * phi(xi * z1 + math.sqrt(max(0.0, 1.0 - xi * xi)) * z2)
        add("mean", "se", cur)
        if prev:
            add("d1", "d1_se", cur - prev[-1])
        if len(prev) == 2:
            add("d2", "d2_se", cur - 2.0 * prev[-1] + prev[-2])
        prev = (prev + [cur])[-2:]
    return {k: np.asarray(v) for k, v in out.items()}


def covariance_by_sampling(x: np.ndarray, x2: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """u = w.x, v = w.x' for the rows of w (M, d); x, x2 (d,).  Returns the sample means (2,), the
    sample covariance (2, 2) of (u, v) and the standard errors of both (the covariance is taken
    about the sample means: that the true means are 0 is part of the claim, not assumed)."""
    u, v = w @ x, w @ x2
    m = u.size
    uc, vc = u - u.mean(), v - v.mean()
    prods = [uc * uc, uc * vc, vc * vc]
    cov = np.array([[prods[0].mean(), prods[1].mean()], [prods[1].mean(), prods[2].mean()]])
    cov_se = np.array([[prods[0].std(), prods[1].std()], [prods[1].std(), prods[2].std()]])
    return {
        "mean": np.array([u.mean(), v.mean()]),
        "mean_se": np.array([u.std(), v.std()]) / math.sqrt(m),
        "cov": cov,
        "cov_se": cov_se / math.sqrt(m),
    }


def main(argv: list[str] | None = None) -> common.Report:
    args, report, rng = common.start(NAME, DESCRIPTION, SOURCE, argv)
    n_samples = 100_000 if args.quick else 1_000_000
    n_grid = 21 if args.quick else 41
    grid = np.linspace(-1.0, 1.0, n_grid)
    h = grid[1] - grid[0]
    report.number("n_samples", n_samples)
    report.number("grid", grid)

    # --- the erf approximation ---------------------------------------------------------------
    xs = np.linspace(-6.0, 6.0, 24001)
    erf_err = float(np.max(np.abs(erf(xs) - np.array([math.erf(v) for v in xs]))))
    report.number("erf_max_abs_error", erf_err)
    report.check(
        erf_err < 1.5e-7,
        "the vectorised erf (A&S 7.1.26) is within 1.5e-7 of math.erf",
        f"max abs error {erf_err:.2e} on 24001 points of [-6, 6]; the Monte Carlo "
        "standard errors below are >= 1e-4",
    )

    # --- problems 5-7, 9: Monte Carlo against the closed forms ------------------------------
    z1, z2 = rng.standard_normal(n_samples), rng.standard_normal(n_samples)
    results = {}
    for act in common.progress(ACTIVATIONS + EXTRA_ACTIVATIONS, desc="dual activations"):
        results[act.key] = mc_dual(act.phi, grid, z1, z2)
    zc = z_threshold(len(ACTIVATIONS) * n_grid)
    report.number("z_threshold_closed_forms", zc)
    rows, worst = [], {}
    for act in ACTIVATIONS:
        r = results[act.key]
        exact = act.dual(grid)
        z = (r["mean"] - exact) / r["se"]
        worst[act.key] = float(np.max(np.abs(z)))
        report.number(f"mc_{act.key}", {"mean": r["mean"], "se": r["se"], "closed_form": exact})
        for xi in (-1.0, -0.5, 0.0, 0.5, 1.0):
            i = int(np.argmin(np.abs(grid - xi)))
            rows.append(
                [
                    act.label,
                    f"{grid[i]:+.1f}",
                    f"{r['mean'][i]:.5f} ± {1.96 * r['se'][i]:.5f}",
                    f"{exact[i]:.5f}",
                    f"{z[i]:+.2f}",
                ]
            )
    report.table(
        "Dual activations: Monte Carlo estimate (95% interval) vs closed form",
        ["phi", "xi", "Monte Carlo", "closed form (doc 004)", "z"],
        rows,
        note=f"{n_samples} samples per xi; z = (estimate - closed form) / standard error. "
        "The document gives closed forms, not numbers.",
    )
    for act in ACTIVATIONS:
        report.check(
            worst[act.key] <= zc,
            f"dual of {act.label} = {act.dual_label} within the Monte Carlo error",
            f"max abs(z) = {worst[act.key]:.2f} over {n_grid} xi in [-1, 1]; "
            f"bound {zc:.2f} = Bonferroni over {len(ACTIVATIONS) * n_grid} tests at "
            f"family-wise {FAMILY_ALPHA:g}",
        )
    report.number("max_abs_z_closed_forms", worst, headline=True)

    # --- problem 8.1: dual of a*phi = a^2 dual of phi, from independent samples --------------
    scales = (-2.0, 0.5, 3.0)
    y1, y2 = rng.standard_normal(n_samples), rng.standard_normal(n_samples)
    zs = z_threshold(len(ACTIVATIONS) * len(scales) * n_grid)
    scaled, worst_scale = {}, 0.0
    for act in ACTIVATIONS:
        for a in scales:
            r = mc_dual(lambda x, f=act.phi, a=a: a * f(x), grid, y1, y2)
            base = results[act.key]
            z = (r["mean"] - a * a * base["mean"]) / np.hypot(r["se"], a * a * base["se"])
            worst_scale = max(worst_scale, float(np.max(np.abs(z))))
            scaled[(act.key, a)] = r
    report.number("max_abs_z_scaling", worst_scale)
    report.check(
        worst_scale <= zs,
        "problem 8.1: the dual of a*phi is a^2 times the dual of phi",
        f"a in {scales}, all activations, independent samples: max abs(z) = "
        f"{worst_scale:.2f} <= {zs:.2f} (Bonferroni over "
        f"{len(ACTIVATIONS) * len(scales) * n_grid} tests)",
    )

    # --- problem 8.2: non-decreasing and convex on [0, 1] ------------------------------------
    mids1 = 0.5 * (grid[1:] + grid[:-1])  # where the first differences sit
    mids2 = grid[1:-1]  # where the second differences sit
    on_pos1, on_pos2 = mids1 >= 0.0, mids2 >= 0.0
    all_acts = ACTIVATIONS + EXTRA_ACTIVATIONS
    zp = z_threshold(len(all_acts) * (on_pos1.sum() + on_pos2.sum()))
    shape_rows, min_z_pos, min_z_neg = [], {}, {}
    for act in all_acts:
        r = results[act.key]
        z1d, z2d = r["d1"] / r["d1_se"], r["d2"] / r["d2_se"]
        min_z_pos[act.key] = (float(z1d[on_pos1].min()), float(z2d[on_pos2].min()))
        min_z_neg[act.key] = (float(z1d[~on_pos1].min()), float(z2d[~on_pos2].min()))
        shape_rows.append(
            [
                act.label,
                f"{min_z_pos[act.key][0]:+.1f}",
                f"{min_z_pos[act.key][1]:+.1f}",
                f"{min_z_neg[act.key][0]:+.1f}",
                f"{min_z_neg[act.key][1]:+.1f}",
            ]
        )
    report.table(
        "Problem 8.2: smallest z-score of the first / second differences of the dual",
        [
            "phi",
            "min z of d1 on [0,1]",
            "min z of d2 on [0,1]",
            "min z of d1 on [-1,0]",
            "min z of d2 on [-1,0]",
        ],
        shape_rows,
        note=f"z = difference / its standard error (common random numbers, step {h:.2f}); "
        f"a value below -{zp:.2f} would be a significant decrease (d1) or concavity "
        "(d2). tanh and cos 3x - x have no closed form here.",
    )
    worst_pos = min(min(v) for v in min_z_pos.values())
    report.number("min_z_differences_on_0_1", worst_pos)
    report.check(
        worst_pos >= -zp,
        "problem 8.2: every dual is non-decreasing and convex on [0, 1]",
        f"{len(all_acts)} activations (tanh and cos 3x - x included): smallest z of a "
        f"first or second difference on [0, 1] = {worst_pos:+.2f} >= -{zp:.2f}",
    )
    report.check(
        min_z_neg["sin"][1] < -zp and min_z_neg["cos"][0] < -zp,
        "the check has power: on [-1, 0] the sin dual is detectably concave and the cos "
        "dual detectably decreasing",
        f"min z of d2 (sin) = {min_z_neg['sin'][1]:.1f}, of d1 (cos) = "
        f"{min_z_neg['cos'][0]:.1f}, both < -{zp:.2f}",
    )

    # --- problem 10: cov(w.x, w.x') = x.x' -----------------------------------------------------
    d, n_pairs = 10, 12
    n_w = 100_000 if args.quick else 1_000_000
    w = rng.standard_normal((n_w, d))
    cov_rows, pts, worst_cov = [], [], 0.0
    zcv = z_threshold(n_pairs * 5)  # two means and three covariance entries per pair
    for p in range(n_pairs):
        x = rng.standard_normal(d) * rng.uniform(0.3, 1.5)
        x2 = 0.6 * x * rng.uniform(-1.5, 1.5) + rng.standard_normal(d) * rng.uniform(0.3, 1.5)
        s = covariance_by_sampling(x, x2, w)
        exact = np.array([[x @ x, x @ x2], [x @ x2, x2 @ x2]])
        zm = np.abs(s["mean"] / s["mean_se"])
        zv = np.abs(s["cov"] - exact) / s["cov_se"]
        worst_cov = max(worst_cov, float(zm.max()), float(zv[np.triu_indices(2)].max()))
        pts.append((x @ x2, s["cov"][0, 1], s["cov_se"][0, 1]))
        if p < 6:
            cov_rows.append(
                [
                    p,
                    f"{s['mean'][0]:+.4f}, {s['mean'][1]:+.4f}",
                    f"{x @ x2:.4f}",
                    f"{s['cov'][0, 1]:.4f} ± {1.96 * s['cov_se'][0, 1]:.4f}",
                    f"{x @ x:.3f} / {s['cov'][0, 0]:.3f}",
                ]
            )
    report.table(
        "Problem 10: u = w.x, v = w.x' with w ~ N(0, I_10), sampled",
        ["pair", "sample mean (u, v)", "x.x'", "sample cov(u, v) (95%)", "x.x / sample var(u)"],
        cov_rows,
        note=f"{n_w} samples of w; first 6 of {n_pairs} random pairs shown.",
    )
    report.number("problem10_pairs", pts)
    report.number("max_abs_z_problem10", worst_cov)
    report.check(
        worst_cov <= zcv,
        "problem 10: E[(u, v)] = (0, 0) and Cov(u, v) = x.x' (variances x.x and x'.x')",
        f"{n_pairs} random pairs, {n_w} samples: max abs(z) = {worst_cov:.2f} <= "
        f"{zcv:.2f} (Bonferroni over {n_pairs * 5})",
    )

    _plots(report, grid, results, scaled, scales, pts, h)
    report.text(
        "**Reading.** Every closed form sits inside the Monte Carlo error bars on the whole of "
        "[-1, 1]. The dual of ReLU is the first-order arc-cosine kernel; doubling it (the dual of "
        "sqrt(2) ReLU, by problem 8.1) gives the normalised ReLU NNGP kernel used in "
        "`nngp_regression`, and likewise sinh(xi)/sinh(1) and arcsin(2xi/3)/arcsin(2/3) are the "
        "sine and erf duals divided by their value at xi = 1. Problem 9's cos dual e^-1 cosh(xi) "
        "is the derivative of the sin dual (the dual commutes with differentiation and "
        "cos = sin'), and the Monte Carlo estimate confirms it. All duals, including those of "
        "tanh and of cos 3x - x (which is neither monotone nor convex), are non-decreasing and "
        "convex on [0, 1]; on [-1, 0] they need not be: the sin dual is concave there and the cos "
        "dual decreasing. Problem 10's identity is what makes the NNGP kernel a dual activation: "
        "for unit x and x', (w.x, w.x') has exactly the covariance [[1, xi], [xi, 1]], xi = x.x'."
    )
    report.write()
    return report


def _plots(
    report: common.Report,
    grid: np.ndarray,
    results: dict,
    scaled: dict,
    scales: tuple,
    pts: list,
    h: float,
) -> None:
    fig, axes = common.new_figure(ncols=4, nrows=2, size=(4.0, 3.2))
    fine = np.linspace(-1.0, 1.0, 401)
    for ax, act in zip(axes.flat, ACTIVATIONS, strict=False):
        r = results[act.key]
        ax.plot(fine, act.dual(fine), "k-", lw=1.2, label=f"closed form: {act.dual_label}")
        ax.errorbar(
            grid,
            r["mean"],
            yerr=1.96 * r["se"],
            fmt="o",
            ms=3,
            color="tab:red",
            capsize=2,
            label="Monte Carlo, 95% interval",
        )
        ax.set_title(f"phi(x) = {act.label}", fontsize=9)
        ax.set_xlabel("xi")
        ax.set_ylabel("E[phi(u) phi(v)]")
        ax.legend(fontsize=6, loc="best")
    ax = axes.flat[len(ACTIVATIONS)]
    for act in ACTIVATIONS:
        r = results[act.key]
        ax.plot(grid, (r["mean"] - act.dual(grid)) / r["se"], "o-", ms=2, lw=0.8, label=act.label)
    zc = z_threshold(len(ACTIVATIONS) * grid.size)
    ax.axhline(zc, color="k", ls="--", lw=0.8, label=f"±{zc:.2f} (Bonferroni)")
    ax.axhline(-zc, color="k", ls="--", lw=0.8)
    ax.set_ylim(-1.2 * zc, 2.0 * zc)
    ax.set_title("(estimate - closed form) / standard error", fontsize=9)
    ax.set_xlabel("xi")
    ax.set_ylabel("z")
    ax.legend(fontsize=5, ncol=2, loc="upper center")
    fig.suptitle("Dual activations: Monte Carlo vs closed forms (doc 004, problems 5-7, 9)")
    fig.tight_layout()
    report.figure(
        fig,
        "dual_activations.png",
        "Monte Carlo dual activations with 95% intervals against the closed forms; the "
        "last panel shows the standardised residuals.",
    )

    fig, axes = common.new_figure(ncols=3, nrows=1, size=(4.6, 3.6))
    ax = axes[0, 0]
    for a in scales:
        r = scaled[("relu", a)]
        ax.plot(grid, r["mean"] / (a * a), "o", ms=4, label=f"dual of {a:g}·ReLU / {a * a:g}")
    ax.plot(fine, dual_relu(fine), "k-", lw=1, label="dual of ReLU (closed form)")
    ax.set_title("Problem 8.1: dual of a·phi = a² dual of phi", fontsize=9)
    ax.set_xlabel("xi")
    ax.set_ylabel("E[a phi(u) a phi(v)] / a²")
    ax.legend(fontsize=7)
    mids1 = 0.5 * (grid[1:] + grid[:-1])
    for ax, key, div, title, ylabel, x in (
        (axes[0, 1], "d1", h, "first differences ~ dual'", "dual'(xi) / max |dual'|", mids1),
        (
            axes[0, 2],
            "d2",
            h * h,
            "second differences ~ dual''",
            "dual''(xi) / max |dual''| (x omitted: 0)",
            grid[1:-1],
        ),
    ):
        for i, act in enumerate(ACTIVATIONS + EXTRA_ACTIVATIONS):
            if key == "d2" and act.key == "identity":
                continue  # dual'' = 0: scaled to its maximum it would be pure noise
            deriv = results[act.key][key] / div
            # each curve scaled to its own maximum: only the sign matters, the sizes differ 100-fold
            ax.plot(
                x, deriv / np.max(np.abs(deriv)), "o-", ms=2, lw=0.8, color=f"C{i}", label=act.label
            )
        ax.axvspan(0.0, 1.0, color="tab:green", alpha=0.08, label="[0, 1]: must be >= 0")
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_title(f"Problem 8.2: {title}", fontsize=9)
        ax.set_xlabel("xi")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=5, ncol=2)
    fig.suptitle("Properties of dual activations (Monte Carlo, common random numbers)")
    fig.tight_layout()
    report.figure(
        fig,
        "dual_properties.png",
        "Problem 8: scaling by a² (left) and the estimated first and second derivatives "
        "of the duals, non-negative on [0, 1] (shaded).",
    )

    fig, ax = common.new_panel(size=(5.0, 4.2))
    exact, est, se = (np.array(c) for c in zip(*pts, strict=False))
    lim = np.array([min(exact.min(), est.min()), max(exact.max(), est.max())])
    ax.plot(lim, lim, "k-", lw=1, label="cov = x.x'")
    ax.errorbar(
        exact,
        est,
        yerr=1.96 * se,
        fmt="o",
        color="tab:blue",
        capsize=2,
        label="sampled cov(w.x, w.x'), 95% bars (within markers)",
    )
    ax.set_title("Problem 10: cov(w.x, w.x') = x.x' for w ~ N(0, I)")
    ax.set_xlabel("x.x'")
    ax.set_ylabel("sample covariance of (w.x, w.x')")
    ax.legend()
    report.figure(
        fig,
        "covariance.png",
        "Sampled covariance of (w.x, w.x') against x.x' for random pairs of vectors.",
    )


if __name__ == "__main__":
    main()
