"""NNGP kernel regression and the infinite-width limit of random-features ReLU networks
(doc 004, problems 11-12).

Data (``datasets.nngp_regression``, as the document specifies): X (n = 100, d = 200) and X_test
(5000, 200) with i.i.d. standard normal entries, every row scaled to unit norm, targets
y = (1/d) sum_i sin(x_i) of the normalised rows.  On the unit sphere a dual activation is a kernel,
k(x, x') = dual(x.x').

1. Kernel regression that interpolates the training set (alpha = K^-1 y by ``np.linalg.solve``,
   prediction K(X_test, X) alpha) with the normalised NNGP kernels of one-hidden-layer ReLU, sine
   and erf networks and with the Laplace kernel exp(-||x - x'|| / 200): test MSE table.
2. The network f(x) = sqrt(2/k) A relu(B x), B (k, d) i.i.d. N(0, 1) and fixed, only A (1, k)
   trained on the squared loss by plain gradient descent with our engine, from A = 0, until a
   certified distance to the minimiser is reached; A is compared with the least-squares solution
   (for k > n the minimum-norm one, which gradient descent from zero converges to).  Test MSE
   against k = 1, 2, ..., 1024 (several feature draws), with the ReLU NNGP test MSE as the k -> inf
   line: the network's empirical kernel (2/k) relu(XB^T) relu(XB^T)^T converges to the NNGP kernel.
   Each width is a task with its own random features (`--jobs N` / `--cluster ADDRESS`,
   experiments.parallel), so any executor gives the numbers of the default run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

import autodiff as ad
import datasets
from experiments import common, parallel
from experiments._nngp_common import dual_erf, dual_relu, dual_sin, normalised

DESCRIPTION = (
    "Kernel regression with ReLU/sine/erf NNGP and Laplace kernels; random-features "
    "ReLU networks (last layer trained by gradient descent) approaching the NNGP limit"
)
SOURCE = "004_0b6aebc5a09fb10d.txt"
DATA = "none (synthetic: datasets.nngp_regression)"
NAME = "nngp_regression"

DOC_WIDTHS = [2**i for i in range(11)]  # 1, 2, ..., 1024 as in problem 12
EXTRA_WIDTHS = [2048, 4096]  # full run only, beyond the document's list
LAPLACE_L = 1.0 / 200.0
GD_TOL = 1e-7  # stop when the certified relative distance to the minimiser is below this
GD_MAX_ITER = 400_000


def laplace_profile(xi: np.ndarray) -> np.ndarray:
    """The Laplace kernel of two unit vectors as a function of xi = x.x' (any shape), using
    ||x - x'|| = sqrt(2 - 2 xi)."""
    return np.exp(-LAPLACE_L * np.sqrt(np.maximum(2.0 - 2.0 * np.asarray(xi), 0.0)))


def laplace_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """exp(-L ||a_i - b_j||) for rows a (p, d), b (q, d) -> (p, q), any norms."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.exp(-LAPLACE_L * np.sqrt(np.maximum(sq, 0.0)))


def dot_product_kernel(dual: Callable[[np.ndarray], np.ndarray]):
    """The kernel (a (p, d), b (q, d)) -> dual(a b^T) (p, q), for rows on the unit sphere."""
    return lambda a, b: dual(a @ b.T)


# name -> (kernel on rows, the same kernel on the unit sphere as a function of xi, formula)
KERNELS = {
    "ReLU NNGP": (
        dot_product_kernel(normalised(dual_relu)),
        normalised(dual_relu),
        "(xi (pi - arccos xi) + sqrt(1 - xi^2)) / pi",
    ),
    "sine NNGP": (
        dot_product_kernel(normalised(dual_sin)),
        normalised(dual_sin),
        "sinh(xi) / sinh(1)",
    ),
    "erf NNGP": (
        dot_product_kernel(normalised(dual_erf)),
        normalised(dual_erf),
        "arcsin(2 xi / 3) / arcsin(2/3)",
    ),
    "Laplace": (laplace_kernel, laplace_profile, "exp(-‖x - x'‖ / 200)"),
    "linear (extra)": (dot_product_kernel(lambda xi: xi), lambda xi: np.asarray(xi), "xi = x.x'"),
}


def kernel_regression(
    kernel, x: np.ndarray, y: np.ndarray, x_test: np.ndarray
) -> tuple[np.ndarray, float]:
    """Interpolating kernel regression: x (n, d), y (n,), x_test (m, d) -> predictions (m,) and
    the largest training residual |K alpha - y|."""
    k_train = kernel(x, x)
    alpha = np.linalg.solve(k_train, y)
    return kernel(x_test, x) @ alpha, float(np.max(np.abs(k_train @ alpha - y)))


def relu_features(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sqrt(2/k) relu(x b^T): x (m, d), b (k, d) -> (m, k)."""
    return math.sqrt(2.0 / b.shape[0]) * np.maximum(x @ b.T, 0.0)


def train_last_layer(
    features: np.ndarray, y: np.ndarray, tol: float = GD_TOL, max_iter: int = GD_MAX_ITER
) -> dict:
    """Gradient descent with our engine on  sum_s (1/n) ||features[s] A[s] - y||^2  over A (S, k),
    from A = 0, for S independent feature draws features (S, n, k) at once (the loss is a sum of
    independent terms, so each A[s] follows its own gradient descent).

    Each draw gets the constant step 2 / (lam_max + lam_min), the best constant step for a
    quadratic, with lam the extreme non-zero Hessian eigenvalues (2/n) s^2 of its features.  The
    iterates stay in the row space of the features, where ||A - A*|| <= ||grad|| / lam_min; we stop
    once that bound is below tol ||A|| for every draw.  Returns A (S, k), the iteration count, the
    loss history (iteration, loss (S,)) at roughly log-spaced iterations, the certified bound and
    the condition numbers lam_max / lam_min (S,).
    """
    n_draws, n, k = features.shape
    # squared singular values of the features = eigenvalues of the smaller Gram matrix
    gram = (
        features @ features.transpose(0, 2, 1) if k >= n else features.transpose(0, 2, 1) @ features
    )
    ev = np.linalg.eigvalsh(gram)  # (S, min(n, k)), ascending
    lam_max = 2.0 * ev[:, -1] / n
    lam_min = np.array([2.0 * e[e > 1e-12 * e[-1]][0] / n for e in ev])
    step = (2.0 / (lam_max + lam_min))[:, None]

    targets = np.broadcast_to(y[None, :, None], (n_draws, n, 1))

    def loss(a):  # a (S, k, 1): one column per draw
        return ad.sum(ad.square(ad.matmul(features, a) - targets)) / n

    def per_draw_loss(a: np.ndarray) -> np.ndarray:
        return ((features @ a - targets) ** 2).mean(axis=(1, 2))

    loss_and_grad = ad.value_and_grad(loss)
    a = np.zeros((n_draws, k, 1))
    history, record_at = [], 0
    for it in range(max_iter + 1):
        _, g = loss_and_grad(a)
        if it == record_at:
            history.append((it, per_draw_loss(a)))
            record_at = max(it + 1, int(record_at * 1.2))
        if it % 10 == 0 and it > 0:  # the check costs about as much as a step
            bound = np.linalg.norm(g[:, :, 0], axis=1) / lam_min
            if np.all(bound <= tol * np.linalg.norm(a[:, :, 0], axis=1)):
                break
        a = a - step[:, :, None] * g
    history.append((it, per_draw_loss(a)))
    a = a[:, :, 0]
    relative_bound = np.linalg.norm(g[:, :, 0], axis=1) / lam_min / np.linalg.norm(a, axis=1)
    return {
        "A": a,
        "iterations": it,
        "history": history,
        "relative_bound": float(np.max(relative_bound)),
        "condition": lam_max / lam_min,
    }


def least_squares(features: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The least-squares A for features (n, k) and y (n,), the minimum-norm one when k >= n, from
    the normal equations of the smaller Gram matrix -> (k,).  (Squaring the condition number, at
    most ~1e4 here, costs ~1e-12 of relative accuracy; np.linalg.lstsq gives the same numbers but
    can take a second per call on a busy machine.)"""
    n, k = features.shape
    if k >= n:
        return features.T @ np.linalg.solve(features @ features.T, y)
    return np.linalg.solve(features.T @ features, features.T @ y)


def predict(x_test: np.ndarray, b: np.ndarray, a: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """f(x) = sqrt(2/k) A relu(B x) for the rows of x_test (m, d), in chunks: b (k, d), a (k,) or
    (k, p) for p networks sharing B -> (m,) or (m, p)."""
    return np.concatenate(
        [relu_features(x_test[i : i + chunk], b) @ a for i in range(0, x_test.shape[0], chunk)]
    )


def width_cell(
    k: int,
    seed: int,
    n_draws: int,
    *,
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    k_nngp: np.ndarray,
) -> dict:
    """Problem 12 at width k: n_draws random-features networks (B (k, d) ~ N(0, 1), each draw
    from its own stream, a function of seed, k and the draw), the last layer trained by
    gradient descent and solved by least squares.  Returns the GD iterations, the largest Gram
    condition number, the loss history, max ||A_gd - A_ls|| / ||A_ls||, and per draw (n_draws,)
    the test MSE of A_gd and of A_ls and the RMS distance of the empirical kernel to k_nngp."""
    bs = [
        parallel.cell_rng(seed, "features", k, s).standard_normal((k, x.shape[1]))
        for s in range(n_draws)
    ]
    feats = np.stack([relu_features(x, b) for b in bs])  # (S, n, k)
    fit = train_last_layer(feats, y)
    out = {
        "iterations": fit["iterations"],
        "condition": float(fit["condition"].max()),
        "history": fit["history"],
        "a_err": 0.0,
        "test_mse": np.zeros(n_draws),
        "lstsq_mse": np.zeros(n_draws),
        "kernel_err": np.zeros(n_draws),
    }
    for s, b in enumerate(bs):
        a_ls = least_squares(feats[s], y)
        out["a_err"] = max(out["a_err"], np.linalg.norm(fit["A"][s] - a_ls) / np.linalg.norm(a_ls))
        pred = predict(x_test, b, np.stack([fit["A"][s], a_ls], axis=1))  # (n_test, 2)
        out["test_mse"][s], out["lstsq_mse"][s] = np.mean((pred - y_test[:, None]) ** 2, axis=0)
        out["kernel_err"][s] = np.sqrt(np.mean((feats[s] @ feats[s].T - k_nngp) ** 2))
    return out


def main(argv: list[str] | None = None) -> common.Report:
    p = common.parser(NAME, DESCRIPTION)
    parallel.add_parallel_args(p, what="the widths of problem 12")
    args = p.parse_args(argv)
    report = common.Report(NAME, args, SOURCE, DESCRIPTION)
    n_test = 2000 if args.quick else 5000
    n_draws = 2 if args.quick else 8
    # quick: without k = 128, next to k = n the slowest width to train (condition ~1e4)
    widths = [w for w in DOC_WIDTHS if w != 128] if args.quick else DOC_WIDTHS + EXTRA_WIDTHS
    x, y, x_test, y_test = datasets.nngp_regression(n=100, n_test=n_test, d=200, seed=args.seed)
    n = x.shape[0]
    report.number(
        "config",
        {
            "n": n,
            "d": x.shape[1],
            "n_test": n_test,
            "feature_draws": n_draws,
            "widths": widths,
            "gd_tol": GD_TOL,
        },
    )
    zero_mse = float(np.mean(y_test**2))
    report.number("zero_predictor_test_mse", zero_mse)

    # --- problem 11: kernel regression -------------------------------------------------------
    kernel_mse, rows = {}, []
    slopes = {}
    for name, (kernel, profile, formula) in KERNELS.items():
        pred, residual = kernel_regression(kernel, x, y, x_test)
        mse = float(np.mean((pred - y_test) ** 2))
        kernel_mse[name] = mse
        cond = float(np.linalg.cond(kernel(x, x)))
        slopes[name] = float((profile(1e-6) - profile(-1e-6)) / 2e-6)  # weight of the linear term
        rows.append([name, formula, mse, mse / zero_mse, f"{slopes[name]:.3f}", cond, residual])
        report.check(
            residual <= 1e-8 * np.max(np.abs(y)),
            f"kernel regression with the {name} kernel interpolates the training set",
            f"max abs(K alpha - y) = {residual:.1e} <= 1e-8 max abs(y) (condition number "
            f"{cond:.3g})",
        )
        report.check(
            mse < zero_mse,
            f"the {name} kernel beats predicting 0",
            f"test MSE {mse:.4e} < mean(y_test^2) = {zero_mse:.4e}",
        )
    report.number("kernel_test_mse", kernel_mse, headline=True)
    report.table(
        "Problem 11: test MSE of interpolating kernel regression",
        [
            "kernel",
            "k(x, x'), xi = x.x'",
            "test MSE",
            "/ MSE of predicting 0",
            "dk/dxi at 0",
            "cond K(X, X)",
            "max train residual",
        ],
        rows,
        note=f"n = {n}, n_test = {n_test}, seed {args.seed}. The document reports no "
        f"numbers for this problem. Predicting 0 gives test MSE {zero_mse:.4e}. "
        "The linear kernel is an extra reference, not in the document.",
    )

    # --- problem 12: random-features networks ------------------------------------------------
    k_nngp = KERNELS["ReLU NNGP"][0](x, x)
    report.number("kernel_linear_weight", slopes)
    nngp_mse = kernel_mse["ReLU NNGP"]
    tasks = {k: (k, args.seed, n_draws) for k in sorted(widths, reverse=True)}  # largest first
    data = {"x": x, "y": y, "x_test": x_test, "y_test": y_test, "k_nngp": k_nngp}
    with parallel.Executor.from_args(args) as ex:
        results = ex.run(width_cell, tasks, shared=data, desc="widths")
    parallel.stop_on_failures(report, results)
    cells = [results[k].value for k in widths]
    test_mse = np.stack([c["test_mse"] for c in cells], axis=1)  # (draws, widths)
    lstsq_mse = np.stack([c["lstsq_mse"] for c in cells], axis=1)
    kernel_err = np.stack([c["kernel_err"] for c in cells], axis=1)
    a_err = np.array([c["a_err"] for c in cells])
    iters = [c["iterations"] for c in cells]
    conds = [c["condition"] for c in cells]
    histories = {k: c["history"] for k, c in zip(widths, cells, strict=True)}
    mean_mse = test_mse.mean(0)
    report.number(
        "rf_test_mse", {"widths": widths, "per_draw": test_mse, "mean": mean_mse}, headline=False
    )
    report.number(
        "rf_test_mse_mean_by_width",
        dict(zip(map(str, widths), mean_mse, strict=False)),
        headline=True,
    )
    report.number("gd_iterations", dict(zip(map(str, widths), iters, strict=False)))
    report.number("gd_vs_lstsq_relative_error", dict(zip(map(str, widths), a_err, strict=False)))
    report.number("kernel_rms_error", {"widths": widths, "per_draw": kernel_err})

    mse_gap = float(np.max(np.abs(test_mse - lstsq_mse) / lstsq_mse))
    report.check(
        float(a_err.max()) <= 10 * GD_TOL and mse_gap <= 10 * GD_TOL,
        "gradient descent with the engine reaches the least-squares A (the minimum-norm "
        "one for k > n) at every width",
        f"max ‖A_gd - A_ls‖ / ‖A_ls‖ = {a_err.max():.1e}, max relative test-MSE "
        f"difference {mse_gap:.1e} <= {10 * GD_TOL:g} (GD stops at a certified relative "
        f"distance {GD_TOL:g}; Gram condition numbers up to {max(conds):.0f}); "
        f"{max(iters)} iterations at most",
    )

    big = np.array(widths) >= 16
    slope = float(
        np.polyfit(
            np.log(np.array(widths)[big]),
            np.log(np.sqrt(np.mean(kernel_err[:, big] ** 2, axis=0))),
            1,
        )[0]
    )
    report.number("kernel_error_slope", slope, headline=True)
    report.check(
        -0.6 <= slope <= -0.4,
        "the network's empirical kernel converges to the ReLU NNGP kernel like k^(-1/2)",
        f"log-log slope of the RMS entry error over k >= 16: {slope:.3f} (the mean "
        "squared error is exactly c/k, so -1/2 up to sampling noise; tolerance ±0.1)",
    )

    doc = np.array([w in DOC_WIDTHS for w in widths])
    peak = int(np.array(widths)[doc][np.argmax(mean_mse[doc])])
    report.check(
        peak in (64, 128),
        f"the finite-width test MSE peaks at the interpolation threshold k ~ n = {n}",
        f"largest mean test MSE at k = {peak} "
        f"({mean_mse[widths.index(peak)]:.3e} = "
        f"{mean_mse[widths.index(peak)] / nngp_mse:.2f} x NNGP)",
    )
    gap = mean_mse / nngp_mse - 1.0
    g256, g1024 = gap[widths.index(256)], gap[widths.index(1024)]
    report.check(
        g1024 < 0.5 * g256,
        "past the threshold the test MSE falls toward the NNGP limit",
        f"relative excess over the NNGP test MSE: {g256:.3f} at k = 256, {g1024:.3f} at "
        f"k = 1024 (less than half)",
    )
    report.number(
        "relative_excess_over_nngp", dict(zip(map(str, widths), gap, strict=False)), headline=True
    )

    rows = [
        [
            k,
            f"{mean_mse[j]:.4e} ± {test_mse[:, j].std(ddof=1):.1e}",
            f"{gap[j]:+.3f}",
            f"{kernel_err[:, j].mean():.4f}",
            iters[j],
            f"{conds[j]:.3g}",
            f"{a_err[j]:.1e}",
        ]
        for j, k in enumerate(widths)
    ]
    report.table(
        "Problem 12: random-features ReLU network, last layer trained by gradient descent",
        [
            "k",
            "test MSE (mean ± sd over draws)",
            "vs NNGP (relative)",
            "RMS of K_k - K_NNGP",
            "GD iterations",
            "Gram condition (worst draw)",
            "‖A_gd - A_ls‖ / ‖A_ls‖",
        ],
        rows,
        note=f"{n_draws} draws of B per width; ReLU NNGP test MSE {nngp_mse:.4e}; "
        f"predicting 0: {zero_mse:.4e}."
        + ("" if args.quick else " k = 2048, 4096 extend the document's list."),
    )

    _plots(report, widths, test_mse, nngp_mse, zero_mse, kernel_err, histories, n, slope)
    past = np.array(widths) >= peak
    falls = "decreases monotonically" if np.all(np.diff(mean_mse[past]) < 0) else "decreases"
    nngp_names = [name for name in KERNELS if "NNGP" in name]
    by_mse = sorted(nngp_names, key=kernel_mse.get)
    same_order = by_mse == sorted(nngp_names, key=lambda name: -slopes[name])
    worst = max(KERNELS, key=kernel_mse.get)
    below = int(np.sum(test_mse < nngp_mse))
    reach = "no finite width reaches" if np.all(mean_mse > nngp_mse) else "some width beats"
    kernels_text = (
        "The target is almost linear on the sphere (x_i ~ ±d^-1/2, so sin x_i ~ x_i). The NNGP "
        f"test errors rank {' < '.join(by_mse)}, "
        + ("the" if same_order else "not the")
        + " order of the weight of their linear term, "
        f"dk/dxi at 0: erf {slopes['erf NNGP']:.2f}, sine {slopes['sine NNGP']:.2f}, ReLU "
        f"{slopes['ReLU NNGP']:.2f} (the plain linear kernel, an extra, gets "
        f"{kernel_mse['linear (extra)']:.3e}). The Laplace kernel with L = 1/200 is nearly "
        "constant on the sphere (distances are at most 2, so it ranges over "
        f"[{float(laplace_profile(-1.0)):.3f}, 1]), is badly conditioned and has a tiny linear "
        f"weight; the largest test error of the kernels is the {worst} one's."
    )
    width_text = (
        "For the random-features network the test error starts at that of predicting 0 (k = 1), "
        f"grows as k approaches n, peaks at k = {peak} next to the interpolation threshold "
        f"k = n = {n} (the features matrix is nearly singular there, and the exact fit amplifies "
        f"what the features cannot represent), then {falls} toward the ReLU NNGP line: "
        f"{gap[widths.index(1024)] * 100:.0f}% above it at k = 1024"
        + ("" if args.quick else f", {gap[-1] * 100:.0f}% at k = {widths[-1]}")
        + f". Averaged over draws {reach} the infinite-width kernel ({nngp_mse:.3e}; {below} of "
        f"{test_mse.size} single draws land below it). Gradient descent from A = 0 finds the "
        "minimum-norm least-squares A, which for k > n is kernel regression with the network's "
        "empirical kernel (2/k) relu(XB^T) relu(XB^T)^T; that kernel converges to the NNGP kernel "
        "at the Monte Carlo rate k^-1/2, so NNGP kernel regression is the k -> inf limit of these "
        "trained networks, approached from above."
    )
    report.text(f"**Interpretation.** {kernels_text}\n\n{width_text}")
    report.write()
    return report


def _plots(
    report: common.Report,
    widths: list[int],
    test_mse: np.ndarray,
    nngp_mse: float,
    zero_mse: float,
    kernel_err: np.ndarray,
    histories: dict,
    n: int,
    slope: float,
) -> None:
    w = np.array(widths)
    fig, axes = common.new_figure(size=(7.0, 4.5))
    ax = axes[0, 0]
    for s in range(test_mse.shape[0]):
        ax.plot(
            w,
            test_mse[s],
            "o",
            ms=3,
            color="tab:blue",
            alpha=0.3,
            label="single draw of B" if s == 0 else None,
        )
    mean, sd = test_mse.mean(0), test_mse.std(0, ddof=1)
    ax.fill_between(w, mean - sd, mean + sd, color="tab:blue", alpha=0.2, label="mean ± sd")
    ax.plot(w, mean, "-", color="tab:blue", lw=2, label="random-features network (GD on A)")
    ax.axhline(nngp_mse, color="tab:red", lw=2, label=f"ReLU NNGP, k -> inf ({nngp_mse:.3e})")
    ax.axhline(zero_mse, color="gray", ls=":", label=f"predicting 0 ({zero_mse:.3e})")
    ax.axvline(n, color="k", ls="--", lw=0.8, label=f"k = n = {n}")
    if w.max() > max(DOC_WIDTHS):
        ax.axvspan(
            max(DOC_WIDTHS) * 1.4,
            w.max() * 1.4,
            color="gray",
            alpha=0.1,
            label="beyond the document's widths",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("width k")
    ax.set_ylabel("test MSE")
    ax.set_title("Problem 12: f(x) = sqrt(2/k) A relu(Bx), B fixed, A trained")
    ax.legend(fontsize=8)
    report.figure(
        fig,
        "test_mse_vs_width.png",
        "Test MSE of the random-features ReLU network against its width, with the ReLU "
        "NNGP kernel regression (the infinite-width limit) as a horizontal line.",
    )

    fig, axes = common.new_figure(ncols=2, size=(5.5, 4.2))
    ax = axes[0, 0]
    rms = np.sqrt(np.mean(kernel_err**2, axis=0))
    ax.loglog(w, rms, "o-", label="RMS entry error, over draws")
    ref = rms[-1] * np.sqrt(w[-1] / w)
    ax.loglog(w, ref, "k--", lw=0.8, label="c k^(-1/2)")
    ax.set_xlabel("width k")
    ax.set_ylabel("RMS of (2/k) relu(XB^T) relu(XB^T)^T - K_NNGP")
    ax.set_title(f"Empirical kernel -> NNGP kernel (slope {slope:.2f})", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for k in [k for k in (4, 32, 64, 128, 256, 1024) if k in histories]:
        its = np.array([h[0] for h in histories[k]])
        losses = np.array([h[1][0] for h in histories[k]])
        excess = (losses - losses[-1]) / losses[0]
        keep = (its >= 1) & (excess > 1e-15)  # below 1e-15: float64 rounding
        ax.loglog(its[keep], excess[keep], label=f"k = {k}")
    ax.set_xlabel("gradient-descent iteration")
    ax.set_ylabel("(loss - final loss) / initial loss")
    ax.set_title("Training A with the engine (first draw)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    report.figure(
        fig,
        "kernel_convergence.png",
        "Left: the network's empirical kernel approaches the ReLU NNGP kernel at rate "
        "k^-1/2. Right: gradient-descent training curves of the last layer.",
    )

    fig, axes = common.new_figure(size=(6.0, 4.2))
    ax = axes[0, 0]
    xi = np.linspace(-1.0, 1.0, 401)
    for name, (_, profile, _) in KERNELS.items():
        ax.plot(xi, profile(xi), ":" if name.endswith("(extra)") else "-", label=name)
    ax.set_xlabel("xi = x.x' (unit vectors)")
    ax.set_ylabel("k(x, x')")
    ax.set_title("Problem 11: the kernels on the unit sphere")
    ax.legend(fontsize=8)
    report.figure(
        fig,
        "kernels.png",
        "The normalised NNGP kernels, the Laplace kernel and the "
        "linear kernel as functions of x.x' for unit vectors.",
    )


if __name__ == "__main__":
    main()
