"""A one-hidden-layer network with quadratic activation is a linear model in disguise
(`001_3660cf4441769652.txt` question 3, `002_34d55ca37461e66e.txt` 2.3.1(b)).

The network y_hat = v^T (W x)^2 with W (K, D), v (K,) satisfies
y_hat = c_Theta^T phi(x), where phi(x) = (x_1^2, ..., x_D^2, 2 x_1 x_2, ..., 2 x_{D-1} x_D)
has D(D+1)/2 entries and c_Theta = vech(W^T diag(v) W) (diagonal first, then the pairs i < j
in the same order as phi).  So the convex least-squares problem in phi(x) is the
"alternative model" of 002 2.3.1(b): it contains every function the network computes.

The experiment fits a noisy quadratic target with N > D(D+1)/2 samples and compares
gradient descent on Theta = (W, v) with the closed-form least-squares solution c_hat:

* K >= D: an exact parametrisation exists (eigendecomposition of C_hat), and gradient
  descent from random starts reaches the optimum (always for K = 2D; for K = D some starts
  stall in a spurious minimum whose signs of v cannot produce the inertia of C_hat);
* K < D: C = W^T diag(v) W has rank <= K, so no network reaches the optimum.  A certificate:
  loss(c) = L_LS + 1/2 ‖Phi (c - c_hat)‖^2 >= L_LS + 1/4 sigma_min(Phi)^2 sum of the D - K
  smallest squared eigenvalues of C_hat (Eckart-Young, and ‖vech(E)‖^2 >= ‖E‖_F^2 / 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from experiments._linear_common import gradient_descent, relative_error, until_roundoff
from experiments.common import Report, new_figure, start

NAME = "quadratic_activation"
DESCRIPTION = (
    "Quadratic-activation network v^T (Wx)^2 versus closed-form least squares on "
    "phi(x) (squares and pairwise products): K >= D reaches the optimum, K < D cannot"
)
SOURCE = "001_3660cf4441769652.txt, 002_34d55ca37461e66e.txt"
DATA = "none"

NOISE = 0.1  # standard deviation of the label noise
REACH_TOL = 1e-8  # relative loss gap that counts as "reached the optimum"


# ------------------------------------------------------------------------- the model
def pairs(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i < j, in the order used by phi and vech."""
    return np.triu_indices(d, 1)


def features(x: np.ndarray) -> np.ndarray:
    """phi(x): x (N, D) -> (N, D(D+1)/2) = [x_i^2 ..., 2 x_i x_j (i < j) ...]."""
    i, j = pairs(x.shape[1])
    return np.concatenate([x**2, 2.0 * x[:, i] * x[:, j]], axis=1)


def vech(c: np.ndarray) -> np.ndarray:
    """Half-vectorisation of a symmetric (D, D) matrix in phi's order: diagonal, then C_ij
    for i < j."""
    i, j = pairs(c.shape[0])
    return np.concatenate([np.diag(c), c[i, j]])


def unvech(c: np.ndarray, d: int) -> np.ndarray:
    """Inverse of vech: (D(D+1)/2,) -> symmetric (D, D)."""
    i, j = pairs(d)
    m = np.diag(c[:d])
    m[i, j] = m[j, i] = c[d:]
    return m


def network(params: dict[str, Any], x: np.ndarray) -> Any:
    """y_hat = v^T (W x)^2 for each row of x (N, D): W (K, D), v (K,) -> (N,)."""
    return (x @ params["W"].T) ** 2 @ params["v"]


def loss(params: dict[str, Any], x: np.ndarray, y: np.ndarray) -> Any:
    """1/2 sum_n (y_hat_n - y_n)^2 (the document's squared loss)."""
    r = network(params, x) - y
    return 0.5 * ad.sum(r * r)


def c_theta(params: dict[str, np.ndarray]) -> np.ndarray:
    """c_Theta = vech(W^T diag(v) W)."""
    return vech(params["W"].T @ (params["v"][:, None] * params["W"]))


def a_theta(w: np.ndarray) -> np.ndarray:
    """A_Theta (K, D(D+1)/2): row k is (w_k1^2, ..., w_kD^2, w_k1 w_k2, ..., w_k(D-1) w_kD),
    so that h = (W x)^2 = A_Theta phi(x) (document 001, eq. 2)."""
    i, j = pairs(w.shape[1])
    return np.concatenate([w**2, w[:, i] * w[:, j]], axis=1)


def params_from_c(c: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """A network with c_Theta = c, for K >= D: C = Q diag(lambda) Q^T gives W = Q^T (padded
    with zero rows) and v = lambda (padded with zeros)."""
    d = int((np.sqrt(8 * len(c) + 1) - 1) / 2)
    lam, q = np.linalg.eigh(unvech(c, d))
    w, v = np.zeros((k, d)), np.zeros(k)
    w[:d], v[:d] = q.T, lam
    return {"W": w, "v": v}


def make_data(
    rng: np.random.Generator, d: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x ~ N(0, I_D) (N, D); y = x^T C* x + noise with a full-rank C* of mixed signs."""
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    signs = np.where(np.arange(d) < (d + 1) // 2, 1.0, -1.0)
    c_star = q @ np.diag(signs * rng.uniform(0.5, 1.5, d)) @ q.T
    x = rng.standard_normal((n, d))
    y = np.einsum("ni,ij,nj->n", x, c_star, x) + NOISE * rng.standard_normal(n)
    return x, y, c_star


# ------------------------------------------------------------------------- the experiment
def identities(report: Report, rng: np.random.Generator, d: int) -> None:
    errs_c, errs_a = [], []
    for k in (1, d, 2 * d):
        p = {"W": rng.standard_normal((k, d)), "v": rng.standard_normal(k)}
        x = rng.standard_normal((20, d))
        errs_c.append(relative_error(features(x) @ c_theta(p), network(p, x)))
        errs_a.append(relative_error(features(x) @ a_theta(p["W"]).T, (x @ p["W"].T) ** 2))
    report.check(
        max(errs_a) < 1e-12,
        "h = (Wx)^2 = A_Theta phi(x): the hidden layer is linear in phi(x)",
        f"random W, K in (1, D, 2D): max relative error {max(errs_a):.1e}",
    )
    report.check(
        max(errs_c) < 1e-12,
        "y_hat = v^T (Wx)^2 = c_Theta^T phi(x) with c_Theta = vech(W^T diag(v) W)",
        f"random Theta, K in (1, D, 2D): max relative error {max(errs_c):.1e}",
    )


def lower_bound(phi: np.ndarray, c_hat: np.ndarray, optimum: float, k: int) -> float:
    """Smallest loss any network with K hidden units can reach (a certificate, see module doc)."""
    d = int((np.sqrt(8 * len(c_hat) + 1) - 1) / 2)
    lam = np.linalg.eigvalsh(unvech(c_hat, d))
    tail = np.sort(lam**2)[: max(d - k, 0)]
    sigma_min = np.linalg.svd(phi, compute_uv=False)[-1]
    return optimum + 0.25 * sigma_min**2 * float(np.sum(tail))


def second_order(
    params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[float, float]:
    """(max abs gradient, smallest Hessian eigenvalue / largest) of the loss at params, the
    Hessian taken by ad.hessian over the flat vector (W, v)."""
    k, d = params["W"].shape

    def flat(t):
        return loss({"W": ad.reshape(t[: k * d], (k, d)), "v": t[k * d :]}, x, y)

    theta = np.concatenate([params["W"].ravel(), params["v"]])
    eig = np.linalg.eigvalsh(ad.hessian(flat)(theta))
    return float(np.abs(ad.grad(flat)(theta)).max()), float(eig[0] / eig[-1])


def train(
    rng: np.random.Generator, x: np.ndarray, y: np.ndarray, ks: list[int], restarts: int, steps: int
) -> dict:
    n, d = x.shape
    runs: dict[int, list] = {}
    for k in ks:
        runs[k] = []
        for r in range(restarts):
            start = {
                "W": rng.standard_normal((k, d)) / np.sqrt(d),
                "v": rng.standard_normal(k) / np.sqrt(k),
            }
            # the loss sums over N samples: lr / N keeps the step independent of N
            p, losses = gradient_descent(
                loss, start, 0.02 / n, steps, x, y, desc=f"K={k} run {r + 1}"
            )
            runs[k].append({"params": p, "losses": losses})
    return runs


def main(argv: list[str] | None = None) -> Report:
    args, report, rng = start(NAME, DESCRIPTION, SOURCE, argv)
    d, n = (3, 20) if args.quick else (4, 40)
    ks = [1, d, 2 * d] if args.quick else [1, 2, 3, d, 2 * d]
    restarts, steps = (3 if args.quick else 8), 4000
    report.number(
        "config",
        {
            "D": d,
            "N": n,
            "K": ks,
            "restarts": restarts,
            "steps": steps,
            "lr": "0.02 / N",
            "noise": NOISE,
        },
    )
    report.text(
        f"D = {d} inputs, N = {n} samples (> D(D+1)/2 = {d * (d + 1) // 2}), target y = "
        f"x^T C* x + {NOISE} noise with C* of full rank and mixed signs. Each width K is "
        f"trained by plain gradient descent ({steps} steps, lr 0.02/N) from {restarts} "
        "random starts W ~ N(0, 1/D), v ~ N(0, 1/K)."
    )

    identities(report, rng, d)
    x, y, _ = make_data(rng, d, n)
    phi = features(x)
    c_hat = np.linalg.lstsq(phi, y, rcond=None)[0]
    optimum = float(0.5 * np.sum((phi @ c_hat - y) ** 2))
    c_mat = unvech(c_hat, d)
    lam = np.linalg.eigvalsh(c_mat)
    inertia = (int(np.sum(lam > 0)), int(np.sum(lam < 0)))
    report.number(
        "closed_form", {"c_hat": c_hat, "loss": optimum, "eigenvalues_C_hat": lam}, headline=True
    )

    exact = params_from_c(c_hat, d)
    report.check(
        relative_error(c_theta(exact), c_hat) < 1e-12
        and abs(float(loss(exact, x, y)) - optimum) < 1e-10 * optimum,
        "K >= D: every c is some c_Theta (W = eigenvectors of C, v = eigenvalues), so "
        "the closed-form optimum is a network",
        f"K = D = {d}: relative error of c_Theta "
        f"{relative_error(c_theta(exact), c_hat):.1e}, loss "
        f"{float(loss(exact, x, y)):.10g} = optimum {optimum:.10g}",
    )

    runs = train(rng, x, y, ks, restarts, steps)
    rows, summary = [], {}
    for k, rs in runs.items():
        finals = np.array([r["losses"][-1] for r in rs])
        gaps = (finals - optimum) / optimum
        best = rs[int(np.argmin(finals))]
        c_err = relative_error(c_theta(best["params"]), c_hat)
        bound = lower_bound(phi, c_hat, optimum, k) if k < d else optimum
        wrong_signs = sum(
            int(np.sum(r["params"]["v"] > 0)) < inertia[0]
            or int(np.sum(r["params"]["v"] < 0)) < inertia[1]
            for r, g in zip(rs, gaps, strict=False)
            if g >= REACH_TOL
        )
        summary[k] = {
            "reached": int(np.sum(gaps < REACH_TOL)),
            "best_loss": float(finals.min()),
            "bound": bound,
            "c_error": c_err,
            "finals": finals,
            "failures_with_wrong_signs": wrong_signs,
        }
        rows.append(
            [
                k,
                f"{summary[k]['reached']} / {len(rs)}",
                float(finals.min()),
                optimum,
                bound if k < d else "-",
                c_err,
                f"{wrong_signs} / {len(rs) - summary[k]['reached']}" if k >= d else "-",
            ]
        )
    report.number("runs", summary)
    report.table(
        f"Gradient descent on Theta = (W, v) versus the closed form (least-squares loss "
        f"{optimum:.6g}; C_hat has {inertia[0]} positive and {inertia[1]} negative "
        "eigenvalues)",
        [
            "K",
            "runs reaching the optimum",
            "best final loss",
            "closed-form loss",
            "lower bound for every network (K < D)",
            "‖c_Theta - c_hat‖ / ‖c_hat‖ (best run)",
            "failed runs whose signs of v cannot give C_hat's inertia",
        ],
        rows,
        note="A run 'reaches the optimum' when its final loss is within a relative 1e-8 "
        "of the closed-form loss. C = W^T diag(v) W has at most #(v_k > 0) positive "
        "and #(v_k < 0) negative eigenvalues.",
    )

    big, eq = summary[2 * d], summary[d]  # K = 2D and K = D
    report.check(
        big["reached"] == restarts and big["c_error"] < 1e-6,
        f"K = 2D = {2 * d} >= D: gradient descent reaches the closed-form optimum from "
        "every random start, and the recovered c_Theta equals c_hat",
        f"{big['reached']} / {restarts} runs within relative 1e-8 of the optimum; best "
        f"‖c_Theta - c_hat‖ / ‖c_hat‖ = {big['c_error']:.1e} (tolerance 1e-6)",
    )
    stalled = [
        second_order(r["params"], x, y)
        for r in runs[d]
        if (r["losses"][-1] - optimum) / optimum >= REACH_TOL
    ]
    minima = sum(g < 1e-6 and e > -1e-6 for g, e in stalled)
    report.number(
        "K_equals_D_stalled_runs",
        [{"max_abs_gradient": g, "min_hessian_eig_relative": e} for g, e in stalled],
    )
    report.text(
        f"K = D = {d}: {eq['reached']} of {restarts} runs reach the optimum. Of the "
        f"{len(stalled)} that stall, {minima} sit at spurious local minima by the "
        "second-order test (max abs gradient < 1e-6, smallest Hessian eigenvalue from "
        "ad.hessian above -1e-6 of the largest; the zero eigenvalues come from the "
        f"rescaling w_k -> a w_k, v_k -> v_k / a^2), and {eq['failures_with_wrong_signs']} "
        f"end with signs of v that cannot produce the inertia {inertia} of C_hat. K >= D "
        "guarantees that the optimum is representable, not that gradient descent finds "
        "it; with K = 2D every run did. The convex model in c (002 2.3.1(b)) has no "
        "spurious minima."
    )
    small = [k for k in ks if k < d]
    bounds_ok = all(summary[k]["bound"] > optimum * 1.05 for k in small)
    above = all(summary[k]["finals"].min() >= summary[k]["bound"] * (1 - 1e-9) for k in small)
    report.check(
        bounds_ok and above,
        "K < D: no network reaches the closed-form optimum (C_hat has rank D > K); every "
        "trained network stays above the certified lower bound",
        "; ".join(
            f"K = {k}: bound {summary[k]['bound']:.4g}, best GD loss {summary[k]['best_loss']:.4g}"
            for k in small
        )
        + f"; closed form {optimum:.4g} (bounds at least 5% above it)",
    )

    best_big = min(runs[2 * d], key=lambda r: r["losses"][-1])
    c_rec = c_theta(best_big["params"])
    labels = [f"C{i + 1}{i + 1}" for i in range(d)] + [
        f"C{i + 1}{j + 1}" for i, j in zip(*pairs(d), strict=False)
    ]
    report.table(
        f"Recovered c_Theta = vech(W^T diag(v) W) (K = {2 * d}, best run) versus the "
        "closed-form c_hat",
        ["entry", "c_hat (least squares)", "c_Theta (network)"],
        [[lab, float(a), float(b)] for lab, a, b in zip(labels, c_hat, c_rec, strict=False)],
    )
    report.number("c_theta_best_K2D", c_rec)
    plot(report, runs, summary, optimum, d, c_hat, c_rec, labels)
    report.write()
    return report


def plot(
    report: Report,
    runs: dict,
    summary: dict,
    optimum: float,
    d: int,
    c_hat: np.ndarray,
    c_rec: np.ndarray,
    labels: list[str],
) -> None:
    fig, axes = new_figure(3, 1, size=(5.0, 4.0))
    ax = axes[0, 0]
    for i, (k, s) in enumerate(summary.items()):
        jitter = np.linspace(-0.15, 0.15, len(s["finals"]))
        ax.plot(
            np.full(len(s["finals"]), k) + jitter,
            s["finals"],
            "o",
            color="C0",
            ms=4,
            label="final loss of each run" if i == 0 else None,
        )
        if k < d:
            ax.plot(
                [k - 0.3, k + 0.3],
                [s["bound"]] * 2,
                "r-",
                lw=2,
                label="certified lower bound (K < D)" if k == 1 else None,
            )
    ax.axhline(optimum, color="k", ls="--", lw=1, label=f"closed-form optimum {optimum:.3g}")
    ax.axvline(d - 0.5, color="gray", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("hidden units K")
    ax.set_ylabel("training loss 1/2 sum (y_hat - y)^2")
    ax.set_title(f"Final losses (D = {d})")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for k, rs in runs.items():
        best = min(rs, key=lambda r: r["losses"][-1])
        ax.semilogy(
            until_roundoff((best["losses"] - optimum) / optimum, 1e-13), label=f"K = {k} (best run)"
        )
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("(loss - optimum) / optimum")
    ax.set_title("Training curves")
    ax.legend(fontsize=7)
    ax = axes[0, 2]
    pos = np.arange(len(c_hat))
    ax.bar(pos - 0.2, c_hat, 0.4, label="c_hat (least squares)")
    ax.bar(pos + 0.2, c_rec, 0.4, label=f"c_Theta (K = {2 * d})")
    ax.set_xticks(pos)
    ax.set_xticklabels(labels, rotation=60, fontsize=7)
    ax.set_xlabel("entry of vech(C)")
    ax.set_ylabel("value")
    ax.set_title("Recovered coefficients")
    ax.legend(fontsize=7)
    fig.tight_layout()
    report.figure(
        fig,
        "quadratic_network.png",
        "Left: final training losses per width K with the "
        "closed-form optimum and the lower bounds that no network with K < D can beat. "
        "Middle: best run per K. Right: c_Theta of the trained K = 2D network versus "
        "c_hat.",
    )


if __name__ == "__main__":
    main()
