"""Minimum-norm least squares for the inconsistent system 3x + 4y = 2, 3x + 4y = 3
(`003_3e2271feff96ec1f.txt` part 3, problems 3.1-3.10).

A = [[3, 4], [3, 4]] has rank one, so Ax = b (b = (2, 3)) has no solution and its
least-squares solutions form a line.  The experiment

1. recomputes the document's exact answers in rational arithmetic: the pseudo-inverse
   A+ = A^T / ‖A‖_F^2 (valid for rank one), the four Penrose conditions, and the
   minimum-norm solution x* = A+ b;
2. recomputes them in floating point from the SVD (rank, row and null space, U, Sigma, V);
3. checks the solution set x* + k n (n spans the null space): every member has the
   least residual and a zero gradient (engine), and x* is the shortest member;
4. runs gradient descent on ‖Ax - b‖^2 with the engine's gradients: from zero it lands
   on x* exactly (the gradient 2 A^T (Ax - b) lies in the row space, so the iterates never
   leave it); from a non-zero start x0 it lands on x* + (n . x0) n instead;
5. checks problem 3.10 (unit vectors minimising ‖Ax‖): only +-n minimise; two of the
   four vectors the document lists do not.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

import autodiff as ad
from experiments._linear_common import gradient_descent
from experiments.common import Report, new_figure, start

NAME = "min_norm_least_squares"
DESCRIPTION = (
    "Minimum-norm least squares for A = [[3, 4], [3, 4]], b = (2, 3): exact "
    "pseudo-inverse, solution set, and gradient descent from zero landing on it"
)
SOURCE = "003_3e2271feff96ec1f.txt"
DATA = "none"

A = np.array([[3.0, 4.0], [3.0, 4.0]])
B = np.array([2.0, 3.0])
# The document's answers (problems 3.2-3.10).
DOC_RANK = 1
DOC_ROW = np.array([3 / 5, 4 / 5])
DOC_NULL = np.array([-4 / 5, 3 / 5])
DOC_V = np.array([[3 / 5, -4 / 5], [4 / 5, 3 / 5]])
DOC_U = np.array([[1.0, -1.0], [1.0, 1.0]]) / np.sqrt(2.0)
DOC_SIGMA = np.diag([5.0 * np.sqrt(2.0), 0.0])
DOC_PINV = [[Fraction(3, 50), Fraction(3, 50)], [Fraction(4, 50), Fraction(4, 50)]]
DOC_XSTAR = [Fraction(3, 10), Fraction(4, 10)]
DOC_UNIT_MINIMISERS = np.array([[-4 / 5, 3 / 5], [4 / 5, -3 / 5], [4 / 5, 3 / 5], [-4 / 5, -3 / 5]])

FLOAT_TOL = 1e-12  # float64 results of O(1) size: a few hundred ulps of slack


def residual_loss(x, a: np.ndarray = A, b: np.ndarray = B):
    """‖A x - b‖^2 for x (2,); works on arrays and Tensors."""
    r = a @ x - b
    return ad.sum(r * r)


# --------------------------------------------------------------------- exact answers
def _matmul_exact(m: list[list[Fraction]], n: list[list[Fraction]]) -> list[list[Fraction]]:
    return [
        [sum(m[i][k] * n[k][j] for k in range(len(n))) for j in range(len(n[0]))]
        for i in range(len(m))
    ]


def _transpose(m: list[list[Fraction]]) -> list[list[Fraction]]:
    return [list(row) for row in zip(*m, strict=False)]


def exact_answers(report: Report) -> None:
    a = [[Fraction(int(v)) for v in row] for row in A]
    b = [[Fraction(int(v))] for v in B]
    frob2 = sum(v * v for row in a for v in row)
    pinv = [[v / frob2 for v in row] for row in _transpose(a)]  # rank one: A+ = A^T / ‖A‖_F^2
    xstar = [row[0] for row in _matmul_exact(pinv, b)]
    penrose = {
        "A A+ A = A": _matmul_exact(_matmul_exact(a, pinv), a) == a,
        "A+ A A+ = A+": _matmul_exact(_matmul_exact(pinv, a), pinv) == pinv,
        "A A+ symmetric": _matmul_exact(a, pinv) == _transpose(_matmul_exact(a, pinv)),
        "A+ A symmetric": _matmul_exact(pinv, a) == _transpose(_matmul_exact(pinv, a)),
    }
    report.number("pinv_exact", [[str(v) for v in row] for row in pinv])
    report.number("xstar_exact", [str(v) for v in xstar], headline=True)
    report.check(
        all(penrose.values()),
        "A^T/50 satisfies the four Penrose conditions, so it is the pseudo-inverse",
        "exact rational arithmetic: " + ", ".join(penrose),
    )
    report.check(
        pinv == DOC_PINV,
        "pseudo-inverse A+ = [[3/50, 3/50], [4/50, 4/50]] (3.7)",
        f"exact: {[[str(v) for v in row] for row in pinv]}",
    )
    report.check(
        xstar == DOC_XSTAR,
        "minimum-norm solution x* = A+ b = (3/10, 4/10) (3.8)",
        f"exact: ({xstar[0]}, {xstar[1]})",
    )


# --------------------------------------------------------------------- SVD in floats
def svd_answers(report: Report) -> dict:
    u, s, vt = np.linalg.svd(A)
    rank = int(np.sum(s > s[0] * 1e-12))
    v = vt.T
    signs_v = np.sign(np.sum(v * DOC_V, axis=0))  # singular vectors are defined up to sign
    signs_u = np.sign(np.sum(u * DOC_U, axis=0))
    v_err = float(np.abs(v * signs_v - DOC_V).max())
    u_err = float(np.abs(u * signs_u - DOC_U).max())
    sigma = np.diag(s)
    s_plus = np.diag([1.0 / x if x > s[0] * 1e-12 else 0.0 for x in s])
    pinv = v @ s_plus @ u.T
    doc_pinv = np.array(DOC_PINV, dtype=float)
    report.number("singular_values", s, headline=True)
    report.check(rank == DOC_RANK, "rank(A) = 1 (3.2)", f"singular values {s[0]:.15g}, {s[1]:.3g}")
    report.check(
        np.abs(sigma - DOC_SIGMA).max() < FLOAT_TOL,
        "Sigma = diag(5 sqrt 2, 0) (3.6)",
        f"max error {np.abs(sigma - DOC_SIGMA).max():.1e}",
    )
    report.check(
        v_err < FLOAT_TOL and u_err < FLOAT_TOL,
        "V = [[3/5, -4/5], [4/5, 3/5]] and U = [[1, -1], [1, 1]] / sqrt 2, up to the "
        "sign of each singular vector (3.5, 3.6)",
        f"max errors V {v_err:.1e}, U {u_err:.1e}",
    )
    report.check(
        abs(abs(v[:, 0] @ DOC_ROW) - 1) < FLOAT_TOL
        and abs(abs(v[:, 1] @ DOC_NULL) - 1) < FLOAT_TOL
        and np.abs(A @ DOC_NULL).max() < 1e-15,
        "r = (3/5, 4/5) spans the row space and n = (-4/5, 3/5) the null space (3.3, 3.4)",
        "abs(v1 . r) = abs(v2 . n) = 1 to 1e-12 and ‖A n‖ < 1e-15",
    )
    report.check(
        np.abs(pinv - doc_pinv).max() < FLOAT_TOL
        and np.abs(np.linalg.pinv(A) - doc_pinv).max() < FLOAT_TOL,
        "V Sigma+ U^T (and numpy's pinv) give the same pseudo-inverse in floating point",
        f"max error {np.abs(pinv - doc_pinv).max():.1e} (tolerance 1e-12)",
    )
    report.table(
        "SVD and pseudo-inverse: document versus ours (floating point)",
        ["quantity", "document", "ours"],
        [
            ["rank(A)", DOC_RANK, rank],
            ["sigma_1", "5 sqrt 2 = 7.0711", s[0]],
            ["sigma_2", 0, s[1]],
            [
                "V (columns, sign-aligned)",
                "[[3/5, -4/5], [4/5, 3/5]]",
                np.array2string(v * signs_v, precision=6).replace("\n", ""),
            ],
            [
                "A+",
                "[[3/50, 3/50], [4/50, 4/50]]",
                np.array2string(pinv, precision=6).replace("\n", ""),
            ],
            ["x* = A+ b", "(3/10, 4/10)", np.array2string(pinv @ B, precision=15)],
        ],
    )
    return {"pinv": pinv, "xstar": pinv @ B}


# --------------------------------------------------------------------- solution set
def solution_set(report: Report, xstar: np.ndarray) -> None:
    ks = np.linspace(-3.0, 3.0, 13)
    members = xstar + ks[:, None] * DOC_NULL
    losses = np.array([float(residual_loss(x)) for x in members])
    grads = np.array([ad.grad(residual_loss)(x) for x in members])
    norms2 = np.sum(members**2, axis=1)
    report.number("least_squares_residual", float(residual_loss(xstar)), headline=True)
    report.check(
        np.abs(losses - 0.5).max() < FLOAT_TOL and np.abs(grads).max() < FLOAT_TOL,
        "every x* + k n is a least-squares solution (3.9): residual ‖Ax - b‖^2 = 1/2 and "
        "zero gradient (engine)",
        "13 values of k in [-3, 3]: max abs(loss - 1/2) "
        f"{np.abs(losses - 0.5).max():.1e}, max abs(gradient) {np.abs(grads).max():.1e}",
    )
    report.check(
        np.abs(norms2 - (0.25 + ks**2)).max() < FLOAT_TOL and abs(xstar @ DOC_NULL) < FLOAT_TOL,
        "‖x* + k n‖^2 = 1/4 + k^2, so x* (k = 0, orthogonal to the null space) is the "
        "shortest solution",
        f"max error {np.abs(norms2 - (0.25 + ks**2)).max():.1e}",
    )


# --------------------------------------------------------------------- gradient descent
def gd_runs(report: Report, rng: np.random.Generator, xstar: np.ndarray, quick: bool) -> dict:
    lr, steps = 2e-3, 300  # Hessian 2 A^T A has eigenvalues 100 and 0: contraction 1 - 100 lr = 0.8

    def loss(p):
        return residual_loss(p["x"])

    starts = [np.zeros(2)] + [rng.normal(0.0, 1.5, 2) for _ in range(3 if quick else 10)]
    runs = []
    for x0 in starts:
        path: list[np.ndarray] = []
        p, losses = gradient_descent(
            loss, {"x": x0}, lr, steps, callback=lambda q, path=path: path.append(q["x"].copy())
        )
        limit = xstar + (DOC_NULL @ x0) * DOC_NULL  # projection of x0 onto the solution line
        runs.append(
            {"x0": x0, "final": p["x"], "limit": limit, "losses": losses, "path": np.array(path)}
        )
    zero = runs[0]
    off_row = float(np.abs(zero["path"] @ DOC_NULL).max())
    report.number("gd_from_zero_final", zero["final"], headline=True)
    report.check(
        np.abs(zero["final"] - xstar).max() < FLOAT_TOL,
        "gradient descent from x = 0 on ‖Ax - b‖^2 converges to the minimum-norm "
        "solution (3/10, 4/10)",
        f"{steps} steps, lr {lr}: final {zero['final']}, error "
        f"{np.abs(zero['final'] - xstar).max():.1e} (tolerance 1e-12)",
    )
    report.check(
        off_row < 1e-15,
        "the iterates from zero never leave the row space (the gradient 2 A^T (Ax - b) "
        "is a multiple of r)",
        f"max abs(n . x_t) over the path {off_row:.1e}",
    )
    errors = [float(np.abs(r["final"] - r["limit"]).max()) for r in runs[1:]]
    offsets = [float(abs(DOC_NULL @ r["x0"])) for r in runs[1:]]
    report.check(
        max(errors) < FLOAT_TOL and min(offsets) > 1e-3,
        "from a non-zero start x0, gradient descent converges to another member of the "
        "solution set, x* + (n . x0) n (the null-space component of x0 never changes)",
        f"{len(errors)} random starts: max error {max(errors):.1e}; their distances abs(n "
        f". x0) from x* range {min(offsets):.2f} to {max(offsets):.2f}",
    )
    report.table(
        "Gradient descent on ‖Ax - b‖^2 (lr 0.002, 300 steps)",
        ["start x0", "final x", "predicted limit x* + (n . x0) n", "‖final - x*‖"],
        [
            [
                np.array2string(r["x0"], precision=3),
                np.array2string(r["final"], precision=6),
                np.array2string(r["limit"], precision=6),
                float(np.linalg.norm(r["final"] - xstar)),
            ]
            for r in runs
        ],
    )
    return {"runs": runs, "lr": lr}


def plot_gd(report: Report, xstar: np.ndarray, gd: dict) -> None:
    fig, axes = new_figure(2, 1, size=(5.5, 4.8))
    ax = axes[0, 0]
    ks = np.linspace(-3.5, 3.5, 2)
    line = xstar + ks[:, None] * DOC_NULL
    ax.plot(line[:, 0], line[:, 1], "k-", lw=1.5, label="solution set x* + k n")
    for i, r in enumerate(gd["runs"]):
        path = r["path"]
        ax.plot(
            path[:, 0],
            path[:, 1],
            "-",
            color="C0" if i == 0 else "C1",
            lw=1,
            label="GD from 0" if i == 0 else ("GD from x0 != 0" if i == 1 else None),
        )
        ax.plot(*r["x0"], "o", color="C0" if i == 0 else "C1", ms=4)
    ax.plot(*xstar, "r*", ms=12, label="x* = (0.3, 0.4)")
    ax.set_aspect("equal")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("GD paths are perpendicular to the solution set")
    ax.legend(fontsize=8, loc="lower left")
    ax = axes[0, 1]
    for i, r in reversed(list(enumerate(gd["runs"]))):
        dist = np.maximum(np.linalg.norm(r["path"] - r["limit"], axis=1), 1e-17)
        ax.semilogy(
            dist,
            color="C0" if i == 0 else "C1",
            lw=2 if i == 0 else 1,
            label="from 0 (limit x*)"
            if i == 0
            else ("from x0 != 0 (limit x* + (n . x0) n)" if i == 1 else None),
        )
    ax.set_xlim(0, 120)
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("distance to the predicted limit")
    ax.set_title(f"Linear convergence, factor 0.8 a step (lr {gd['lr']})")
    ax.legend(fontsize=8)
    report.figure(
        fig,
        "gd_paths.png",
        "Gradient descent on ‖Ax - b‖^2: from zero it lands on the "
        "minimum-norm solution, from other starts on the foot of the perpendicular.",
    )


# --------------------------------------------------------------------- problem 3.10
def unit_minimisers(report: Report, rng: np.random.Generator, quick: bool) -> None:
    """Minimise ‖A u(t)‖^2 over the unit circle u(t) = (cos t, sin t) by gradient descent
    on the angle, from random angles; every run must end at +n or -n."""

    def loss(p):
        return ad.sum((A @ ad.stack([ad.cos(p["t"]), ad.sin(p["t"])])) ** 2)

    ends = []
    for t0 in rng.uniform(0.0, 2.0 * np.pi, 4 if quick else 12):
        # ‖A u(t)‖^2 = 100 cos^2(t - t_r): curvature 200 at the minima, lr 0.004 contracts by 0.2
        p, _ = gradient_descent(loss, {"t": np.array(t0)}, 4e-3, 400)
        ends.append([np.cos(p["t"]), np.sin(p["t"])])
    ends = np.array(ends)
    dist = np.minimum(
        np.linalg.norm(ends - DOC_NULL, axis=1), np.linalg.norm(ends + DOC_NULL, axis=1)
    )
    listed = np.linalg.norm(DOC_UNIT_MINIMISERS @ A.T, axis=1)
    report.number("doc_unit_vectors_norm_Ax", listed)
    report.check(
        dist.max() < 1e-10 and np.linalg.norm(A @ DOC_NULL) < 1e-15,
        "the unit vectors minimising ‖Ax‖ are +-n = +-(-4/5, 3/5), where ‖Ax‖ = 0 (3.10)",
        f"gradient descent on the angle from {len(ends)} random angles: every run ends "
        f"within {dist.max():.1e} of +n or -n",
    )
    expected = [0, 0, 24 * np.sqrt(2) / 5, 24 * np.sqrt(2) / 5]
    report.check(
        np.allclose(listed, expected, atol=FLOAT_TOL),
        "of the four vectors the document lists for 3.10, (4/5, 3/5) and (-4/5, -3/5) "
        "are not minimisers: ‖Ax‖ = 24 sqrt 2 / 5 for them (the document's list is wrong "
        "there)",
        f"‖Ax‖ for the listed vectors: {np.round(listed, 6).tolist()}",
    )
    report.table(
        "Problem 3.10: unit vectors minimising ‖Ax‖",
        ["vector listed by the document", "‖Ax‖", "minimiser?"],
        [
            [np.array2string(v, precision=2), float(val), "yes" if val < FLOAT_TOL else "no"]
            for v, val in zip(DOC_UNIT_MINIMISERS, listed, strict=False)
        ],
    )


def main(argv: list[str] | None = None) -> Report:
    args, report, rng = start(NAME, DESCRIPTION, SOURCE, argv)
    report.text(
        "The system 3x + 4y = 2, 3x + 4y = 3 has no solution; its least-squares solutions "
        "form the line x* + k n. Exact answers are recomputed with fractions, the SVD in "
        "floating point, and gradient descent uses the engine's gradients."
    )
    exact_answers(report)
    found = svd_answers(report)
    solution_set(report, found["xstar"])
    gd = gd_runs(report, rng, found["xstar"], args.quick)
    plot_gd(report, found["xstar"], gd)
    unit_minimisers(report, rng, args.quick)
    report.write()
    return report


if __name__ == "__main__":
    main()
