"""Deep linear networks f(x) = W_L ... W_1 x: capacity, gradients, critical points and the
equivalent linear model, each claim checked with the engine (`000_1157cdecf8ac0012.txt`
question 2, `004_0b6aebc5a09fb10d.txt` problem 1, `002_34d55ca37461e66e.txt` 2.3.1(a)).

Notation as in document 000: inputs x_i in R^d and outputs y_i in R^p are the rows of
X (n, d) and Y (n, p); layer i has W_i (d_i, d_{i-1}) with d_0 = d, d_L = p; the
end-to-end matrix is Wbar = W_L ... W_1 (p, d); the training loss is
R(W_1..W_L) = Q(Wbar) = 1/2 ‖Wbar X^T - Y^T‖_F^2.

1. Capacity: products of random factors have rank min_i d_i; a target of rank <= min_i d_i
   is factorised exactly (SVD, then random invertible mixing between layers); for a target
   of larger rank gradient descent on ‖Wbar - W0‖_F^2 stalls at the Eckart-Young value.
2. Gradients: the closed forms dQ/dWbar = (Wbar X^T - Y^T) X and
   dR/dW_i = Wbar_(L:i+1)^T (dQ/dWbar) Wbar_(i-1:1)^T, and the gradient-descent updates
   of f = ABx (document 004), against the engine's reverse mode.
3. Critical points: the all-zero point (L >= 2) has zero gradient but is not a minimum
   (L = 2: the Hessian from `ad.hessian` has eigenvalues +-sigma_j(Y^T X); L = 3: the
   Hessian vanishes and the third derivative along a direction is negative); gradient
   descent from a small random start reaches the least-squares loss; critical points with
   full-rank square factors are global, rank-deficient ones need not be.
4. The equivalent linear model: the trained deep network and least squares give the same
   predictor.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any

import numpy as np

import autodiff as ad
import datasets
from experiments._linear_common import gradient_descent, relative_error, until_roundoff
from experiments.common import Report, new_figure, new_panel, start

NAME = "linear_networks"
DESCRIPTION = (
    "Deep linear networks: capacity (rank <= min width), closed-form gradients, the "
    "zero saddle and its Hessian, gradient descent to the least-squares optimum"
)
SOURCE = "000_1157cdecf8ac0012.txt, 004_0b6aebc5a09fb10d.txt, 002_34d55ca37461e66e.txt"
DATA = "none"

GRAD_TOL = 1e-10  # closed form vs reverse mode, relative; float64 roundoff is ~1e-15
EXACT_TOL = 1e-10  # "equal to 1e-10" for constructed factorisations (entries of size O(1))


# ------------------------------------------------------------------------- the model
def end_to_end(ws: Sequence[Any]) -> Any:
    """Wbar = W_L ... W_1 for ws = [W_1, ..., W_L], W_i (d_i, d_{i-1}); arrays or Tensors."""
    return reduce(lambda acc, w: w @ acc, ws[1:], ws[0])


def q_loss(wbar: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """Q(Wbar) = 1/2 ‖Wbar X^T - Y^T‖_F^2 for Wbar (p, d), X (n, d), Y (n, p)."""
    e = wbar @ x.T - y.T
    return 0.5 * ad.sum(e * e)


def r_loss(ws: Sequence[Any], x: np.ndarray, y: np.ndarray) -> Any:
    """R(W_1..W_L) = Q(W_L ... W_1): the training loss of the deep linear network."""
    return q_loss(end_to_end(ws), x, y)


def as_list(params: dict[str, Any]) -> list[Any]:
    """{"W1": .., "W2": .., ...} -> [W_1, W_2, ...] (numeric order)."""
    return [params[f"W{i}"] for i in range(1, len(params) + 1)]


def as_dict(ws: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    return {f"W{i}": w for i, w in enumerate(ws, start=1)}


def dq_closed_form(wbar: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dQ/dWbar = (Wbar X^T - Y^T) X, shape (p, d)."""
    return (wbar @ x.T - y.T) @ x


def dr_closed_form(ws: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """dR/dW_i = Wbar_(L:i+1)^T (dQ/dWbar) Wbar_(i-1:1)^T, with empty products = identity."""
    g = dq_closed_form(end_to_end(ws), x, y)
    grads = []
    for i in range(len(ws)):
        left = end_to_end(ws[i + 1 :]) if i + 1 < len(ws) else np.eye(ws[-1].shape[0])
        right = end_to_end(ws[:i]) if i > 0 else np.eye(ws[0].shape[1])
        grads.append(left.T @ g @ right.T)
    return grads


def ab_step(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray, eta: float):
    """One gradient-descent step of f = ABx on L = 1/2 ‖y - ABX‖^2 (document 004, problem 1)
    in closed form: A (1, k), B (k, d), X (d, n), y (1, n).  (The document writes
    B in R^{d x n}; for ABx to be defined B must be (k, d).)
        A <- A + eta (y - ABX) X^T B^T,    B <- B + eta A^T (y - ABX) X^T."""
    r = y - a @ b @ x
    return a + eta * r @ x.T @ b.T, b + eta * a.T @ r @ x.T


def init_factors(dims: Sequence[int], rng: np.random.Generator, scale: float) -> list[np.ndarray]:
    """Random factors W_i (d_i, d_{i-1}) with N(0, scale^2 / d_{i-1}) entries."""
    return [
        scale * rng.standard_normal((b, a)) / np.sqrt(a)
        for a, b in zip(dims[:-1], dims[1:], strict=False)
    ]


# ------------------------------------------------------------------------- 1. capacity
def factorise(w0: np.ndarray, dims: Sequence[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Factors W_1..W_L of the given dims (d_0 = d, d_L = p) with W_L ... W_1 = W0, for
    rank(W0) = r <= min(dims): route the r singular directions through the first r
    coordinates of every layer, then mix each hidden layer with a random invertible M_i
    (W_i <- M_i W_i, W_{i+1} <- W_{i+1} M_i^{-1}) so that no factor is special."""
    if len(dims) == 2:
        return [w0.copy()]
    u, s, vt = np.linalg.svd(w0)
    r = int(np.sum(s > s[0] * 1e-12)) if s.size and s[0] > 0 else 0
    if r > min(dims):
        raise ValueError(
            f"rank {r} exceeds the narrowest width {min(dims)}: no factorisation exists"
        )

    def embed(m: int) -> np.ndarray:  # (m, r): the first r coordinates
        return np.eye(m, r)

    ws = [embed(dims[1]) @ np.diag(s[:r]) @ vt[:r]]
    ws += [embed(dims[i]) @ embed(dims[i - 1]).T for i in range(2, len(dims) - 1)]
    ws += [u[:, :r] @ embed(dims[-2]).T]
    for i in range(len(ws) - 1):
        w = dims[i + 1]
        m = rng.standard_normal((w, w)) / np.sqrt(w) + np.eye(w)
        ws[i] = m @ ws[i]
        ws[i + 1] = np.linalg.solve(m.T, ws[i + 1].T).T  # W_{i+1} M^{-1}
    return ws


def capacity(report: Report, rng: np.random.Generator, quick: bool) -> dict:
    chains = 6 if quick else 30
    rank_ok, fact_err, rows = [], [], []
    for c in range(chains):
        depth = int(rng.integers(2, 5))
        dims = [int(v) for v in rng.integers(1, 9, depth + 1)]
        rank = np.linalg.matrix_rank(end_to_end(init_factors(dims, rng, 1.0)))
        rank_ok.append(rank == min(dims))
        r = int(rng.integers(0, min(dims) + 1))
        w0 = rng.standard_normal((dims[-1], r)) @ rng.standard_normal((r, dims[0]))
        err = float(np.abs(end_to_end(factorise(w0, dims, rng)) - w0).max())
        fact_err.append(err)
        if c < 8:
            rows.append([str(dims), min(dims), rank, r, err])
    report.check(
        all(rank_ok),
        "the product of random factors of widths d_0..d_L has rank min_i d_i",
        f"{chains} random chains (depth 2-4, widths 1-8): all ranks equal min_i d_i "
        "(numpy matrix_rank)",
    )
    report.check(
        max(fact_err) < EXACT_TOL,
        "a target W0 with rank(W0) <= min_i d_i is reached exactly: W_L ... W_1 = W0",
        f"{chains} random targets of rank 0..min_i d_i, construction = SVD routing plus "
        f"random invertible mixing: max entry error {max(fact_err):.1e} (tolerance 1e-10)",
    )
    report.table(
        "Capacity on random dimension chains (first rows)",
        [
            "dims d_0..d_L",
            "min d_i",
            "rank of random product",
            "target rank",
            "max ‖W_L...W_1 - W0‖ entry",
        ],
        rows,
    )

    # A target of larger rank cannot be factorised: gradient descent stalls at Eckart-Young.
    dims = [6, 4, 2, 5]  # narrowest width 2
    q_rand, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    v_rand, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    targets = {
        "rank 5 > min d_i = 2": [5.0, 4.0, 2.0, 1.0, 0.5],
        "rank 2 = min d_i": [5.0, 4.0, 0, 0, 0],
    }
    steps = 1500 if quick else 4000
    curves = {}
    for label, sv in targets.items():
        w0 = q_rand @ np.diag(sv) @ v_rand[:5]
        floor = 0.5 * float(np.sum(np.square(sv[min(dims) :])))  # Eckart-Young: drop all but 2

        def loss(p, w0=w0):
            return 0.5 * ad.sum((end_to_end(as_list(p)) - w0) ** 2)

        p, losses = gradient_descent(
            loss, as_dict(init_factors(dims, rng, 0.5)), 0.02, steps, desc=f"factorise {label}"
        )
        curves[label] = (losses, floor)
        report.number(
            f"factorisation_gd_{label.split()[1]}",
            {"final_loss": losses[-1], "eckart_young": floor},
        )
    (high, floor_high), (low, _) = curves["rank 5 > min d_i = 2"], curves["rank 2 = min d_i"]
    report.check(
        high.min() >= floor_high * (1 - 1e-12) and abs(high[-1] - floor_high) < 1e-6 * floor_high,
        "no factorisation exists when rank(W0) > min_i d_i: gradient descent on 1/2 "
        "‖W_L...W_1 - W0‖_F^2 plateaus at the best rank-r approximation error "
        "(Eckart-Young: half the sum of the discarded squared singular values)",
        f"dims {dims}, singular values {targets['rank 5 > min d_i = 2']}: final loss "
        f"{high[-1]:.10g}, Eckart-Young {floor_high:.10g} (relative 1e-6); never below it",
    )
    report.check(
        low[-1] < 1e-12,
        "with rank(W0) <= min_i d_i the same gradient descent drives the loss to zero",
        f"final loss {low[-1]:.1e} (tolerance 1e-12)",
    )
    report.number("eckart_young_floor", floor_high, headline=True)
    return curves


def plot_capacity(report: Report, curves: dict) -> None:
    fig, ax = new_panel(size=(6.5, 4.2))
    for (label, (losses, floor)), color in zip(curves.items(), ("C3", "C0"), strict=False):
        ax.semilogy(until_roundoff(losses, 1e-28), color=color, label=f"target {label}")
        if floor > 0:
            ax.axhline(floor, color=color, ls="--", lw=1, label=f"Eckart-Young floor {floor:g}")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("1/2 ‖W3 W2 W1 - W0‖_F^2")
    ax.set_title("Factorising W0 through widths (6, 4, 2, 5)")
    ax.legend(fontsize=8)
    report.figure(
        fig,
        "capacity.png",
        "Gradient descent on the factorisation loss: a rank-2 "
        "target is reached, a rank-5 target stalls exactly at the "
        "best rank-2 error.",
    )


# ------------------------------------------------------------------------- 2. gradients
def gradients(report: Report, rng: np.random.Generator, quick: bool) -> None:
    errs_q, errs_r, errs_sum, errs_ab = [], [], [], []
    for _ in range(3 if quick else 10):
        n, depth = int(rng.integers(3, 12)), int(rng.integers(1, 5))
        dims = [int(v) for v in rng.integers(1, 7, depth + 1)]
        x, y = rng.standard_normal((n, dims[0])), rng.standard_normal((n, dims[-1]))
        ws = init_factors(dims, rng, 1.0)
        wbar = end_to_end(ws)
        errs_q.append(relative_error(ad.grad(q_loss)(wbar, x, y), dq_closed_form(wbar, x, y)))
        engine = ad.grad(lambda p, x=x, y=y: r_loss(as_list(p), x, y))(as_dict(ws))
        errs_r.append(
            max(
                relative_error(engine[f"W{i + 1}"], g)
                for i, g in enumerate(dr_closed_form(ws, x, y))
            )
        )
        per_sample = float(
            np.sum(ad.vmap(lambda xi, yi, wbar=wbar: 0.5 * ad.sum((wbar @ xi - yi) ** 2))(x, y))
        )  # one loss per sample (vmap), summed
        errs_sum.append(abs(per_sample - float(r_loss(ws, x, y))) / per_sample)
        # f = ABx of document 004: data as columns, X (d, n), y (1, n)
        k, d = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        a, b = rng.standard_normal((1, k)), rng.standard_normal((k, d))
        xc, yc = rng.standard_normal((d, n)), rng.standard_normal((1, n))
        eta = 0.01

        def loss_ab(p, xc=xc, yc=yc):
            return 0.5 * ad.sum((yc - p["A"] @ p["B"] @ xc) ** 2)

        g = ad.grad(loss_ab)({"A": a, "B": b})
        a1, b1 = ab_step(a, b, xc, yc, eta)
        errs_ab.append(
            max(relative_error(a - eta * g["A"], a1), relative_error(b - eta * g["B"], b1))
        )
    report.number(
        "gradient_errors",
        {"dQ/dWbar": max(errs_q), "dR/dW_i": max(errs_r), "f=ABx update": max(errs_ab)},
        headline=True,
    )
    report.check(
        max(errs_sum) < GRAD_TOL,
        "the training loss 1/2 sum_i ‖f(x_i) - y_i‖^2 equals Q(Wbar) = 1/2 ‖Wbar X^T - Y^T‖_F^2",
        f"max relative difference {max(errs_sum):.1e} on {len(errs_sum)} random instances",
    )
    report.check(
        max(errs_q) < GRAD_TOL,
        "dQ/dWbar = (Wbar X^T - Y^T) X equals the engine's gradient",
        f"max relative error {max(errs_q):.1e} (tolerance 1e-10) on {len(errs_q)} random instances",
    )
    report.check(
        max(errs_r) < GRAD_TOL,
        "dR/dW_i = Wbar_(L:i+1)^T (dQ/dWbar) Wbar_(i-1:1)^T equals the engine's gradient "
        "for every layer",
        f"max relative error {max(errs_r):.1e} over depths 1-4 and all layers (tolerance 1e-10)",
    )
    report.check(
        max(errs_ab) < GRAD_TOL,
        "for f = ABx the updates A <- A + eta (y - ABX) X^T B^T and B <- B + eta A^T (y "
        "- ABX) X^T equal a gradient step with the engine's gradients",
        f"max relative error {max(errs_ab):.1e} (tolerance 1e-10); B must be (k, d), not "
        "the document's d x n",
    )


# ------------------------------------------------------------------------- 3. critical points
def flat_loss(dims: Sequence[int], x: np.ndarray, y: np.ndarray):
    """R as a function of one flat parameter vector (for ad.hessian): theta -> R(W_1..W_L)."""
    shapes = [(b, a) for a, b in zip(dims[:-1], dims[1:], strict=False)]
    bounds = np.cumsum([0] + [a * b for a, b in shapes])

    def loss(theta):
        return r_loss(
            [
                ad.reshape(theta[s:e], shape)
                for s, e, shape in zip(bounds[:-1], bounds[1:], shapes, strict=False)
            ],
            x,
            y,
        )

    return loss, int(bounds[-1])


def zero_point(
    report: Report, rng: np.random.Generator, x: np.ndarray, y: np.ndarray, optimum: float
) -> dict:
    m = y.T @ x  # (p, d); -<Wbar, M> is the only cubic-or-lower term
    sig = np.linalg.svd(m, compute_uv=False)
    out = {}
    for dims in ([x.shape[1], 4, y.shape[1]], [x.shape[1], 6, 4, y.shape[1]]):
        zeros = [np.zeros((b, a)) for a, b in zip(dims[:-1], dims[1:], strict=False)]
        g = ad.grad(lambda p: r_loss(as_list(p), x, y))(as_dict(zeros))
        loss0 = float(r_loss(zeros, x, y))
        flat, size = flat_loss(dims, x, y)
        hess = ad.hessian(flat)(np.zeros(size))
        eig = np.linalg.eigvalsh(hess)
        out[len(dims) - 1] = {"eig": eig, "dims": dims, "predicted": None}
        report.check(
            max(float(np.abs(v).max()) for v in g.values()) == 0.0 and loss0 > optimum * 1.5,
            f"L = {len(dims) - 1}: the all-zero point is a critical point (gradient "
            "exactly 0) that is not a global minimum",
            f"dims {dims}: loss at zero 1/2 ‖Y‖^2 = {loss0:.4g} versus least-squares "
            f"optimum {optimum:.4g}",
        )
        if len(dims) == 3:
            d1 = dims[1]
            predicted = np.sort(
                np.concatenate(
                    [np.repeat(sig, d1), -np.repeat(sig, d1), np.zeros(size - 2 * d1 * len(sig))]
                )
            )
            err = float(np.abs(eig - predicted).max())
            out[2]["predicted"] = predicted
            report.number("hessian_at_zero_L2_min_eigenvalue", eig[0], headline=True)
            report.check(
                eig[0] < 0 and err < 1e-9 * sig[0],
                "L = 2: the Hessian at zero (ad.hessian) has negative eigenvalues, "
                "exactly +-sigma_j(Y^T X), each d_1 times (and zeros): zero is a strict "
                "saddle",
                f"{size} x {size} Hessian, {int(np.sum(eig < -1e-9))} negative "
                f"eigenvalues, smallest {eig[0]:.6g} = -sigma_1(Y^T X) = {-sig[0]:.6g}; "
                f"max deviation from the predicted spectrum {err:.1e} (relative tolerance "
                "1e-9)",
            )
        else:
            direction = init_factors(dims, rng, 1.0)
            if np.sum(end_to_end(direction) * m) < 0:
                direction[0] = -direction[0]

            def along(t, direction=direction):
                return r_loss([t * d for d in direction], x, y)

            third = float(ad.grad(ad.grad(ad.grad(along)))(0.0))
            predicted = -6.0 * float(np.sum(end_to_end(direction) * m))
            t = 0.1
            report.number("third_derivative_at_zero_L3", third)
            report.check(
                np.abs(hess).max() == 0.0
                and abs(third - predicted) < 1e-9 * abs(predicted)
                and float(along(t)) < loss0,
                "L = 3: the Hessian at zero vanishes (ad.hessian), yet zero is not a "
                "minimum: the third derivative of t -> R(t D) is -6 <D3 D2 D1, Y^T X> < "
                "0, so the loss decreases along D",
                f"max abs Hessian entry 0; third derivative (ad.grad x3) {third:.6g}, "
                f"closed form {predicted:.6g}; R(0.1 D) = {float(along(t)):.6g} < R(0) = "
                f"{loss0:.6g}",
            )
    return out


def train_to_optimum(
    report: Report,
    rng: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    w_ls: np.ndarray,
    optimum: float,
    quick: bool,
) -> dict:
    steps = 2000 if quick else 4000
    runs = {}
    for dims in ([x.shape[1], 4, y.shape[1]], [x.shape[1], 6, 4, y.shape[1]]):
        start = init_factors(dims, rng, 0.1)  # small random init, near the zero saddle
        # R sums over n samples: lr / n keeps the step scale independent of n
        p, losses = gradient_descent(
            lambda q: r_loss(as_list(q), x, y),
            as_dict(start),
            0.05 / len(x),
            steps,
            desc=f"train L={len(dims) - 1}",
        )
        ws = as_list(p)
        wbar = end_to_end(ws)
        normal = relative_error(wbar @ x.T @ x, y.T @ x)
        runs[len(dims) - 1] = {"losses": losses, "ws": ws, "wbar": wbar, "dims": dims}
        report.number(
            f"gd_L{len(dims) - 1}",
            {"final_loss": losses[-1], "optimum": optimum, "normal_equation_residual": normal},
        )
        report.check(
            abs(losses[-1] - optimum) < 1e-9 * optimum and normal < 1e-6,
            f"L = {len(dims) - 1}, widths {dims}: gradient descent from a small random "
            "start reaches a global minimum: Wbar X^T X - Y^T X = 0 and the loss equals "
            "the least-squares optimum",
            f"{len(losses) - 1} steps: loss {losses[-1]:.12g} vs optimum {optimum:.12g} "
            f"(relative 1e-9); ‖Wbar X^T X - Y^T X‖ / ‖Y^T X‖ = {normal:.1e} (tolerance "
            "1e-6)",
        )
    return runs


def partial_svd_point(
    x: np.ndarray, y: np.ndarray, depth: int, keep: np.ndarray
) -> tuple[list, float]:
    """A critical point of R for square widths d = p = d_i whose end-to-end map keeps only the
    singular directions `keep` (bool mask) of N = Y^T X C^{-T}, C C^T = X^T X (Cholesky):
    W_1 = diag(s * keep) V^T C^{-1}, W_i = diag(keep), W_L = U diag(keep).
    Returns the factors and the predicted excess loss 1/2 sum_{j not kept} s_j^2."""
    c = np.linalg.cholesky(x.T @ x)
    n_mat = np.linalg.solve(c, x.T @ y).T  # Y^T X C^{-T}
    u, s, vt = np.linalg.svd(n_mat)
    mask = keep.astype(float)
    w1 = np.diag(s * mask) @ vt @ np.linalg.inv(c)
    ws = [w1] + [np.diag(mask) for _ in range(depth - 2)] + [u @ np.diag(mask)]
    return ws, 0.5 * float(np.sum(s[~keep] ** 2))


def sufficient_condition(report: Report, rng: np.random.Generator, quick: bool) -> list:
    """Square case d = p = d_i: a critical point with invertible factors is global."""
    d, depth = 4, 3
    # a well-conditioned true map (singular values 3, 2.5, 2, 1.5): a random square map can have
    # a tiny singular value, which deep factorisations learn very slowly
    q1, _ = np.linalg.qr(rng.standard_normal((d, d)))
    q2, _ = np.linalg.qr(rng.standard_normal((d, d)))
    x = rng.standard_normal((40, d))
    y = x @ (q1 @ np.diag([3.0, 2.5, 2.0, 1.5]) @ q2).T + 0.5 * rng.standard_normal((40, d))
    w_ls = np.linalg.lstsq(x, y, rcond=None)[0].T
    optimum = float(q_loss(w_ls, x, y))
    grad_fn = ad.grad(lambda p: r_loss(as_list(p), x, y))
    rows, global_full, nonglobal_deficient = [], [], []
    candidates = []
    for r in range(2 if quick else 4):
        p, _ = gradient_descent(
            lambda q: r_loss(as_list(q), x, y),
            as_dict(init_factors([d] * (depth + 1), rng, 1.0)),
            0.05 / len(x),
            2000 if quick else 4000,
            desc="square GD",
        )
        candidates.append((f"GD from random start {r + 1}", as_list(p), None))
    candidates.append(
        ("all-zero point", [np.zeros((d, d))] * depth, 0.5 * float(np.sum(y**2)) - optimum)
    )
    for kept in ((True, True, False, False), (True, False, False, False)):
        ws, excess = partial_svd_point(x, y, depth, np.array(kept))
        candidates.append((f"SVD critical point keeping {sum(kept)} of {d} directions", ws, excess))
    for label, ws, predicted_excess in candidates:
        g = grad_fn(as_dict(ws))
        gnorm = max(float(np.abs(v).max()) for v in g.values())
        ranks = [int(np.linalg.matrix_rank(w)) for w in ws]
        excess = float(r_loss(ws, x, y)) - optimum
        rows.append([label, str(ranks), gnorm, excess])
        critical = gnorm < 1e-8
        if critical and min(ranks) == d:
            global_full.append(excess < 1e-8 * optimum)
        if critical and min(ranks) < d:
            nonglobal_deficient.append(
                excess > 1e-3 * optimum
                and abs(excess - predicted_excess) < 1e-8 * max(predicted_excess, 1)
            )
    report.table(
        f"Critical points of the square network (d = p = d_i = {d}, L = {depth}); "
        f"least-squares optimum {optimum:.6g}",
        ["point", "ranks of W_1..W_L", "max abs gradient", "loss - optimum"],
        rows,
        note="Sufficient condition (document 000, 2(f)): at a critical point, dR/dW_L = "
        "(dQ/dWbar) (W_{L-1}...W_1)^T = 0; if the factors are invertible this forces "
        "dQ/dWbar = 0, i.e. a minimiser of the convex Q.",
    )
    report.check(
        len(global_full) >= 2 and all(global_full),
        "sufficient condition: a critical point whose (square) factors all have full "
        "rank is a global minimum",
        f"{len(global_full)} critical points with invertible factors found by gradient "
        "descent (max abs gradient < 1e-8): all have loss = optimum (relative 1e-8)",
    )
    report.check(
        len(nonglobal_deficient) == 3 and all(nonglobal_deficient),
        "without full rank the condition fails: critical points with rank-deficient "
        "factors (zero, and SVD points keeping 2 or 1 of 4 directions) are not global; "
        "their excess loss is exactly half the sum of the dropped squared singular "
        "values",
        "3 rank-deficient critical points, gradient < 1e-8, excess loss matches the "
        "prediction to relative 1e-8",
    )
    return rows


def equivalent_model(
    report: Report, rng: np.random.Generator, x: np.ndarray, w_ls: np.ndarray, runs: dict
) -> dict:
    x_test = rng.standard_normal((200, x.shape[1]))
    deep = runs[3]["wbar"]
    pred_deep, pred_ls = x_test @ deep.T, x_test @ w_ls.T
    err = float(np.abs(pred_deep - pred_ls).max() / np.abs(pred_ls).max())
    report.number("equivalent_model_max_prediction_gap", err, headline=True)
    report.check(
        relative_error(deep, w_ls) < 1e-6 and err < 1e-6,
        "the trained deep linear network (L = 3) and least squares are the same linear "
        "predictor (the convex alternative model of 002 2.3.1(a))",
        f"‖Wbar - W_LS‖ / ‖W_LS‖ = {relative_error(deep, w_ls):.1e}; on 200 new inputs "
        f"the largest prediction gap is {err:.1e} of the largest prediction (tolerance "
        "1e-6)",
    )
    return {"deep": pred_deep, "ls": pred_ls}


def plot_critical(report: Report, zero: dict, runs: dict, optimum: float, preds: dict) -> None:
    fig, axes = new_figure(3, 1, size=(4.8, 4.0))
    ax = axes[0, 0]
    eig = zero[2]["eig"]
    ax.plot(np.arange(len(eig)), eig, "o", ms=5, label="eigenvalues (ad.hessian)")
    ax.plot(
        np.arange(len(eig)), zero[2]["predicted"], "kx", ms=4, label="predicted +-sigma_j(Y^T X), 0"
    )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("index (sorted)")
    ax.set_ylabel("Hessian eigenvalue at W = 0")
    ax.set_title("L = 2: zero is a saddle")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for depth, run in runs.items():
        ax.semilogy(
            until_roundoff((run["losses"] - optimum) / optimum, 1e-14),
            label=f"L = {depth}, widths {run['dims']}",
        )
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("(loss - optimum) / optimum")
    ax.set_title("GD from a small random start")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    ax.plot(
        preds["ls"].ravel(), preds["deep"].ravel(), ".", ms=3, label="200 test inputs x 3 outputs"
    )
    lim = np.abs(preds["ls"]).max()
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8, label="y = x")
    ax.set_xlabel("least-squares prediction")
    ax.set_ylabel("deep linear network prediction")
    ax.set_title("The same predictor")
    ax.legend(fontsize=8)
    fig.tight_layout()
    report.figure(
        fig,
        "critical_points.png",
        "Left: Hessian spectrum at the zero point (L = 2). "
        "Middle: excess loss during gradient descent (the plateau is the escape from "
        "the zero saddle). Right: trained L = 3 network versus least squares on new "
        "inputs.",
    )


def main(argv: list[str] | None = None) -> Report:
    args, report, rng = start(NAME, DESCRIPTION, SOURCE, argv)
    curves = capacity(report, rng, args.quick)
    plot_capacity(report, curves)
    gradients(report, rng, args.quick)
    x, y, _ = datasets.linear_regression(n=40, d=5, p=3, noise=0.5, seed=int(rng.integers(2**31)))
    w_ls = np.linalg.lstsq(x, y, rcond=None)[0].T
    optimum = float(q_loss(w_ls, x, y))
    report.number("least_squares_optimum", optimum)
    zero = zero_point(report, rng, x, y, optimum)
    runs = train_to_optimum(report, rng, x, y, w_ls, optimum, args.quick)
    preds = equivalent_model(report, rng, x, w_ls, runs)
    plot_critical(report, zero, runs, optimum, preds)
    sufficient_condition(report, rng, args.quick)
    report.write()
    return report


if __name__ == "__main__":
    main()
