"""Autoencoders trained on a single sample or two images (`004_0b6aebc5a09fb10d.txt`
problems 3 and 4): what initialisation does to a linear autoencoder, and how training
images become attractors of a nonlinear one.

Linear autoencoder f(x) = ABx, A (d, k), B (k, d), loss 1/2 ‖z - ABz‖^2 (problem 3):

(a) A = B = 0 stays at zero: dL/dA = -(z - ABz)(Bz)^T and dL/dB = -A^T (z - ABz) z^T
    both vanish when A = B = 0, so gradient descent never moves;
(b) A = 0, B ~ N(0, 1/k): 1000 steps for each step size in {1e-4, 1e-3, 1e-2, 1e-1}; A
    becomes non-zero (its first gradient -z (Bz)^T is not zero); eta = 1e-1 diverges, far
    beyond eta ‖Bz‖^2 < 2, the stability limit of the A-subproblem;
(c) trained on one image, f(x) = c(x) z for every input: by the update rule of problem 1,
    A_{t+1} = A_t + eta (z - A_t B_t z)(B_t z)^T, every column of A stays in span(z).

Nonlinear autoencoder f(x) = A tanh(Bx), A (3072, 1024), B (1024, 3072), PyTorch's default
initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)), float32, trained by gradient descent on
one and then two images to a mean squared error below 1e-5 (problem 4; we continue to 1e-8 so
that the fixed point sits well inside the 1e-3 perturbations of part (e)).  A training image z
is an attractor when it is a fixed point and the Jacobian J = A diag(tanh'(Bz)) B has spectral
radius below 1 (its non-zero eigenvalues are those of the (k, k) matrix diag(tanh'(Bz)) B A).
The document leaves phi open; we use tanh because with a positively homogeneous phi (ReLU,
leaky ReLU) and no biases every multiple c z of a fixed point is a fixed point too, so the
Jacobian has eigenvalue exactly 1 along z and no image can be a strict attractor.

Images come from the CIFAR-10 test split (scaled to [0, 1]); which ones count as training
images is just which ones we train on.  `--images synthetic` uses smooth random images instead
(no data needed).  `--quick` averages 2x2 pixel blocks (3x16x16 images) and uses 256 hidden
units, keeping the ratio d/k = 3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
import datasets
from experiments._linear_common import cosine, gradient_descent, relative_error
from experiments.common import Report, new_figure, new_panel, parser, start

NAME = "autoencoders"
DESCRIPTION = (
    "Linear autoencoder f = ABx (zero init, step sizes, outputs = constant x training "
    "image) and nonlinear A tanh(Bx) on CIFAR-10 images: training images become "
    "attractors"
)
SOURCE = "004_0b6aebc5a09fb10d.txt"
DATA = "cifar10"

ETAS = (1e-4, 1e-3, 1e-2, 1e-1)
LINEAR_WIDTH = 10  # k of the linear autoencoder ("any k > 1")
MSE_TARGET = 1e-5  # the document's "near zero training error"
MSE_STOP = 1e-8  # where we stop (fixed point well inside the 1e-3 perturbations)
CONVERGED = 1e-2  # an iterate "reaches" a training image within 1% of its norm


# ------------------------------------------------------------------------- images
def smooth_images(n: int, rng: np.random.Generator, side: int = 32) -> np.ndarray:
    """n smooth random colour images (n, 3, side, side) in [0, 1]: random 4x4 and 8x8 grids,
    bilinearly upsampled and added (a stand-in for CIFAR-10 when no data is available)."""

    def upsample(grid: np.ndarray) -> np.ndarray:
        m = grid.shape[-1]
        grid_x = np.linspace(0, m - 1, side)
        interp = np.stack([np.interp(grid_x, np.arange(m), e) for e in np.eye(m)], axis=1)
        return interp @ grid @ interp.T

    coarse = upsample(rng.uniform(0.1, 0.9, (n, 3, 4, 4)))
    fine = upsample(rng.uniform(-0.15, 0.15, (n, 3, 8, 8)))
    return np.clip(coarse + fine, 0.0, 1.0)


def load_images(
    kind: str, mirror: str | None, rng: np.random.Generator, count: int, quick: bool
) -> tuple[np.ndarray, list[str]]:
    """`count` distinct images (count, 3, s, s) float64 in [0, 1] (s = 32, or 16 with --quick)
    and a description of each.  kind "cifar10" reads the CIFAR-10 test split (raising the
    datasets package's error when the files cannot be found), "synthetic" draws smooth images."""
    if kind == "cifar10":
        x, y = datasets.cifar10(split="test", mirror=mirror)
        idx = rng.choice(len(x), count, replace=False)
        images = x[idx].astype(np.float64) / 255.0
        names = [f"test #{i} ({datasets.CLASS_NAMES['cifar10'][y[i]]})" for i in idx]
    else:
        images = smooth_images(count, rng)
        names = [f"synthetic #{i}" for i in range(count)]
    if quick:
        images = images.reshape(count, 3, 16, 2, 16, 2).mean(axis=(3, 5))
    return images, names


def to_rgb(v: np.ndarray) -> np.ndarray:
    """A flat image (3 s^2,) -> (s, s, 3) clipped to [0, 1] for imshow."""
    s = int(round(np.sqrt(v.size / 3)))
    return np.clip(np.asarray(v, dtype=np.float64).reshape(3, s, s).transpose(1, 2, 0), 0.0, 1.0)


def image_grid(
    report: Report,
    rows: list[list[tuple[np.ndarray, str] | None]],
    filename: str,
    title: str,
    caption: str,
) -> None:
    """A grid of flat images, one list of (image, label) per row; None leaves a panel empty."""
    ncols = max(len(r) for r in rows)
    fig, axes = new_figure(ncols, len(rows), size=(2.2, 2.6))
    for i, row in enumerate(rows):
        for j in range(ncols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(row) and row[j] is not None:
                img, label = row[j]
                ax.imshow(to_rgb(img), interpolation="nearest")
                ax.set_title(label, fontsize=8)
            else:
                ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.96), h_pad=2.0)
    report.figure(fig, filename, caption)


# ------------------------------------------------------------------------- linear autoencoder
def linear_loss(params: dict[str, Any], z: np.ndarray) -> Any:
    """1/2 ‖z - A B z‖^2 for z (d,), A (d, k), B (k, d)."""
    r = z - params["A"] @ (params["B"] @ z)
    return 0.5 * ad.sum(r * r)


def linear_zero_init(report: Report, z: np.ndarray) -> None:
    d, k = z.size, LINEAR_WIDTH
    zero = {"A": np.zeros((d, k)), "B": np.zeros((k, d))}
    g = ad.grad(linear_loss)(zero, z)
    p, losses = gradient_descent(linear_loss, zero, 1e-2, 10, z)
    report.check(
        all(np.all(v == 0) for v in g.values())
        and all(np.all(v == 0) for v in p.values())
        and np.all(losses == losses[0])
        and abs(losses[0] - 0.5 * float(z @ z)) < 1e-12 * losses[0],
        "(a) A = B = 0: after 10 gradient steps every weight is still exactly 0, because "
        "dL/dA = -(z - ABz)(Bz)^T and dL/dB = -A^T (z - ABz) z^T both vanish at A = B = "
        "0",
        f"z ~ N(0, I_{d}), k = {k}, eta 1e-2: engine gradient at zero exactly 0, weights "
        f"after 10 steps exactly 0, loss stays 1/2 ‖z‖^2 = {losses[0]:.4g}",
    )


def linear_step_sizes(report: Report, rng: np.random.Generator, z: np.ndarray) -> dict:
    d, k = z.size, LINEAR_WIDTH
    start = {"A": np.zeros((d, k)), "B": rng.normal(0.0, np.sqrt(1.0 / k), (k, d))}
    stiffness = float(np.sum((start["B"] @ z) ** 2))  # curvature of the A-subproblem at the start
    results, rows = {}, []
    for eta in ETAS:
        p, losses = gradient_descent(linear_loss, start, eta, 1000, z, desc=f"linear AE eta={eta}")
        diverged = not np.isfinite(losses[-1])
        a_norm = float(np.linalg.norm(p["A"])) if not diverged else float("nan")
        results[eta] = {
            "losses": losses,
            "diverged": diverged,
            "A_norm": a_norm,
            "final_loss": float(losses[-1]),
        }
        status = f"diverged (step {len(losses) - 1})" if diverged else losses[-1]
        rows.append([eta, eta * stiffness, status, a_norm if not diverged else "-"])
    ok = [e for e in ETAS if not results[e]["diverged"]]
    best = min(ok, key=lambda e: results[e]["final_loss"])
    report.number("linear_ae_final_loss", {str(e): results[e]["final_loss"] for e in ETAS})
    report.number(
        "linear_ae_best", {"eta": best, "loss": results[best]["final_loss"]}, headline=True
    )
    report.table(
        f"(b) Linear autoencoder, A = 0, B ~ N(0, 1/k), k = {k}, 1000 steps (d = {d})",
        ["eta", "eta ‖B_0 z‖^2", "final training loss 1/2 ‖z - ABz‖^2", "‖A‖_F after training"],
        rows,
        note=f"Smallest training error: {results[best]['final_loss']:.3g} with eta "
        f"= {best} (the document gives no number). Step sizes reaching float64 "
        "roundoff (loss < 1e-20): "
        f"{[e for e in ok if results[e]['final_loss'] < 1e-20]}; among those, "
        "which one is 'best' is decided by rounding.",
    )
    report.check(
        len(ok) >= 1 and all(results[e]["A_norm"] > 0 for e in ok),
        "(b) with A = 0 and B ~ N(0, 1/k), A is non-zero after training (its first "
        "gradient -z (Bz)^T is already non-zero)",
        ", ".join(f"eta {e}: ‖A‖_F = {results[e]['A_norm']:.3g}" for e in ok),
    )
    stable = [e for e in ETAS if e * stiffness < 1]
    unstable = [e for e in ETAS if e * stiffness > 4]
    report.check(
        len(unstable) >= 1
        and all(results[e]["diverged"] for e in unstable)
        and not any(results[e]["diverged"] for e in stable),
        "(b) the largest step size diverges: runs with eta ‖B_0 z‖^2 > 4 blow up and "
        "runs with eta ‖B_0 z‖^2 < 1 converge (gradient descent on the A-subproblem, a "
        "quadratic with curvature ‖Bz‖^2, is stable only for eta ‖Bz‖^2 < 2; in between "
        "it depends on how B moves)",
        f"‖B_0 z‖^2 = {stiffness:.4g}; diverged: "
        f"{[e for e in ETAS if results[e]['diverged']]}; predicted to diverge {unstable}, "
        f"to converge {stable}",
    )
    report.check(
        results[best]["final_loss"] < 1e-20,
        "(b) with a stable step size the single sample is fitted to float64 roundoff",
        f"best eta {best}: final loss {results[best]['final_loss']:.2e} (threshold 1e-20)",
    )
    return {"results": results, "stiffness": stiffness}


def linear_on_image(
    report: Report, rng: np.random.Generator, z: np.ndarray, tests: np.ndarray
) -> dict:
    d, k = z.size, LINEAR_WIDTH
    start = {"A": np.zeros((d, k)), "B": rng.normal(0.0, np.sqrt(1.0 / k), (k, d))}
    stiffness = float(np.sum((start["B"] @ z) ** 2))
    eta = max(e for e in ETAS if e * stiffness < 0.5)  # the largest one well inside stability
    p, losses = gradient_descent(linear_loss, start, eta, 1000, z, desc="linear AE on an image")
    outputs = (p["A"] @ (p["B"] @ tests.T)).T
    cosines = np.array([cosine(o, z) for o in outputs])
    scales = outputs @ z / (z @ z)
    in_span = np.outer(z, z @ p["A"]) / (z @ z)
    off_span = float(np.linalg.norm(p["A"] - in_span) / np.linalg.norm(p["A"]))
    report.number(
        "linear_ae_image",
        {"eta": eta, "final_loss": losses[-1], "cosines": cosines, "scales": scales},
        headline=False,
    )
    report.check(
        off_span < 1e-12,
        "(c) trained on one image with A_0 = 0, every column of A lies in span(z) "
        "(induction on the update rule of problem 1)",
        f"‖(I - z z^T / ‖z‖^2) A‖ / ‖A‖ = {off_span:.1e} after 1000 steps (eta {eta}, "
        f"final loss {losses[-1]:.2e})",
    )
    report.check(
        np.abs(np.abs(cosines) - 1).max() < 1e-9,
        "(c) so the output for any test input is a constant times the training image",
        f"{len(tests)} test images: abs cosine(f(x), z) within "
        f"{np.abs(np.abs(cosines) - 1).max():.1e} of 1 (tolerance 1e-9); constants c(x) "
        f"from {scales.min():.3f} to {scales.max():.3f}",
    )
    return {"outputs": outputs, "cosines": cosines, "scales": scales}


# ------------------------------------------------------------------------- nonlinear autoencoder
def nonlinear_loss(params: dict[str, Any], z: np.ndarray) -> Any:
    """1/2 ‖Z - A tanh(B Z)‖_F^2 for Z (d, n) (one column per training image)."""
    r = z - params["A"] @ ad.tanh(params["B"] @ z)
    return 0.5 * ad.sum(r * r)


def default_init(rng: np.random.Generator, d: int, k: int) -> dict[str, np.ndarray]:
    """PyTorch's default Linear initialisation, without biases: U(+-1/sqrt(fan_in)), float32."""
    return {
        "A": rng.uniform(-1.0, 1.0, (d, k)).astype(np.float32) / np.float32(np.sqrt(k)),
        "B": rng.uniform(-1.0, 1.0, (k, d)).astype(np.float32) / np.float32(np.sqrt(d)),
    }


def train_nonlinear(
    rng: np.random.Generator, z: np.ndarray, k: int, max_steps: int, label: str
) -> dict:
    """Gradient descent on (A, B) until the MSE drops below MSE_STOP; z (n, d) float32."""
    zc = np.ascontiguousarray(z.T)  # (d, n)
    # step size 0.2 / max ‖z_i‖^2: the largest NTK eigenvalue at the start is about 2 ‖z‖^2
    lr = 0.2 / float(np.max(np.sum(z.astype(np.float64) ** 2, axis=1)))
    size = zc.size
    p, losses = gradient_descent(
        nonlinear_loss,
        default_init(rng, z.shape[1], k),
        lr,
        max_steps,
        zc,
        stop=lambda v: 2.0 * v / size < MSE_STOP,
        desc=label,
    )
    mse = 2.0 * losses / size
    below = np.flatnonzero(mse < MSE_TARGET)
    return {
        "A": p["A"],
        "B": p["B"],
        "mse": mse,
        "lr": lr,
        "steps_to_target": int(below[0]) if below.size else None,
    }


class Autoencoder:
    """The trained map f(x) = A tanh(Bx) and its Jacobian, in float32 numpy."""

    def __init__(self, a: np.ndarray, b: np.ndarray):
        self.a, self.b = a, b
        self.ba = (b @ a).astype(np.float64)  # (k, k)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.a @ np.tanh(self.b @ x.astype(np.float32))

    def iterate(self, x: np.ndarray, r: int) -> np.ndarray:
        for _ in range(r):
            x = self(x)
        return x

    def spectral_radius(self, x: np.ndarray) -> float:
        """rho of J(x) = A diag(tanh'(Bx)) B: its non-zero eigenvalues are those of
        diag(tanh'(Bx)) B A (k x k)."""
        slope = 1.0 - np.tanh(self.b @ x.astype(np.float32)).astype(np.float64) ** 2
        return float(np.abs(np.linalg.eigvals(slope[:, None] * self.ba)).max())

    def jacobian_check(self, x: np.ndarray, rng: np.random.Generator) -> float:
        """Relative difference between the engine's forward-mode J(x) u and the closed form."""
        u = rng.standard_normal(x.size).astype(np.float32)
        _, ju = ad.jvp(lambda v: self.a @ ad.tanh(self.b @ v), (x.astype(np.float32),), (u,))
        slope = 1.0 - np.tanh(self.b @ x.astype(np.float32)) ** 2
        return relative_error(ju, self.a @ (slope * (self.b @ u)))


def converge(
    f: Autoencoder, x: np.ndarray, targets: np.ndarray, max_iter: int = 300
) -> tuple[int, float, int]:
    """Iterate f from x; returns (index of the nearest target, relative distance to it after
    max_iter iterations, first iteration within CONVERGED of it or -1)."""
    v, first = x, -1
    norms = np.linalg.norm(targets, axis=1)
    for r in range(1, max_iter + 1):
        v = f(v)
        dist = np.linalg.norm(targets - v, axis=1) / norms
        if first < 0 and dist.min() < CONVERGED:
            first = r
    return int(np.argmin(dist)), float(dist.min()), first


def _report_training(report: Report, key: str, run: dict, extra: dict, what: str) -> None:
    """Record a nonlinear autoencoder's training run (steps to the target, final MSE,
    learning rate, then `extra`) as the headline number `key`, and check that it reached
    the target; `what` opens the claim, e.g. "(4a) trained on one image"."""
    report.number(
        key,
        {
            "steps_to_mse_1e-5": run["steps_to_target"],
            "final_mse": run["mse"][-1],
            "lr": run["lr"],
            **extra,
        },
        headline=True,
    )
    report.check(
        run["steps_to_target"] is not None,
        f"{what}, gradient descent reaches training MSE < 1e-5",
        f"MSE < 1e-5 after {run['steps_to_target']} steps (lr {run['lr']:.3g}); continued "
        f"to {run['mse'][-1]:.2e} after {len(run['mse']) - 1} steps",
    )


def nonlinear_one(
    report: Report, rng: np.random.Generator, z: np.ndarray, probes: dict, k: int, max_steps: int
) -> dict:
    run = train_nonlinear(rng, z[None], k, max_steps, "nonlinear AE, 1 image")
    f = Autoencoder(run["A"], run["B"])
    rho, rho0 = f.spectral_radius(z), float(np.abs(np.linalg.eigvals(f.ba)).max())
    jac = f.jacobian_check(z, rng)
    _report_training(
        report,
        "one_image",
        run,
        {"rho_J_at_z": rho, "rho_J_at_0": rho0, "jvp_check": jac},
        "(4a) trained on one image",
    )
    report.check(
        rho < 1 and jac < 1e-4,
        "(4b) the training image is an attractor: a fixed point whose Jacobian has "
        "spectral radius < 1",
        f"rho(J(z)) = {rho:.4f}; J u from ad.jvp matches the closed form to "
        f"{jac:.1e} (float32, tolerance 1e-4)",
    )
    outs = {name: f(v) for name, v in probes.items()}
    report.check(
        np.all(outs["zeros"] == 0),
        "(4b) the all-zeros input is mapped to exactly 0 (tanh(0) = 0 and no biases)",
        f"rho(J(0)) = rho(BA) = {rho0:.3g}: zero is a fixed point as well, "
        + ("an unstable one" if rho0 > 1 else "and an attracting one"),
    )
    moved = {name: converge(f, v, z[None]) for name, v in probes.items() if name != "zeros"}
    closer = {
        name: cosine(outs[name], z) > cosine(v, z) for name, v in probes.items() if name != "zeros"
    }
    report.check(
        all(c for c in closer.values()) and all(m[1] < CONVERGED for m in moved.values()),
        "(4b) every other input is pulled towards the training image: f(x) is closer in "
        "angle to z than x is, and the iterates f^r(x) reach z",
        "; ".join(
            f"{name}: cos(x, z) {cosine(probes[name], z):.3f} -> cos(f(x), z) "
            f"{cosine(outs[name], z):.3f}, within 1% of z after {m[2]} iterations"
            for name, m in moved.items()
        ),
    )
    return {"run": run, "f": f, "outputs": outs, "rho": rho}


def nonlinear_two(
    report: Report, rng: np.random.Generator, z: np.ndarray, probes: dict, k: int, max_steps: int
) -> dict:
    run = train_nonlinear(rng, z, k, max_steps, "nonlinear AE, 2 images")
    f = Autoencoder(run["A"], run["B"])
    rhos = [f.spectral_radius(zi) for zi in z]
    attracting = [i for i, r in enumerate(rhos) if r < 1]
    _report_training(report, "two_images", run, {"rho_J_at_z": rhos}, "(4c) trained on two images")
    report.check(
        len(attracting) >= 1,
        "(4c) the training images are fixed points, and at least one of them is an "
        "attractor (spectral radius of the Jacobian < 1)",
        f"rho(J(z_1)) = {rhos[0]:.4f}, rho(J(z_2)) = {rhos[1]:.4f}",
    )
    outs = {name: f(v) for name, v in probes.items()}
    basis, _ = np.linalg.qr(z.T.astype(np.float64))

    def in_span(v: np.ndarray) -> float:
        return float(np.linalg.norm(basis.T @ v) / np.linalg.norm(v))

    x = probes["test image"]
    report.check(
        in_span(outs["test image"]) > in_span(x),
        "(4c) the output for a test image lies closer to the span of the training images "
        "than the test image does",
        f"cosine of the angle to span(z_1, z_2): input {in_span(x):.3f}, output "
        f"{in_span(outs['test image']):.3f}",
    )
    target, dist, first = converge(f, x, z)
    report.check(
        dist < CONVERGED and target in attracting,
        "(4d) the iterates f^r(x) of the test image converge to an attracting training image",
        f"after 300 iterations within {dist:.1e} (relative) of z_{target + 1}, first "
        f"within 1% at r = {first}",
    )
    eps = rng.standard_normal(z.shape).astype(np.float32)
    perturbed = z + np.float32(1e-3) * eps
    tenth = np.stack([f.iterate(v, 10) for v in perturbed])
    before = np.linalg.norm(perturbed - z, axis=1)
    after = np.linalg.norm(tenth - z, axis=1)
    report.number("perturbation_distances", {"before": before, "after_10": after})
    report.check(
        all(after[i] < before[i] for i in attracting),
        "(4e) perturbed attracting training images z + 1e-3 eps return towards z: "
        "‖f^10(x) - z‖ < ‖x - z‖",
        "; ".join(
            f"z_{i + 1} (rho {rhos[i]:.3f}): {before[i]:.3g} -> {after[i]:.3g}"
            for i in range(len(z))
        ),
    )
    iterates = {r: f.iterate(x, r) for r in (1, 2, 20)}
    return {
        "run": run,
        "f": f,
        "outputs": outs,
        "rhos": rhos,
        "target": target,
        "first": first,
        "perturbed": perturbed,
        "tenth": tenth,
        "first_step": np.stack([f(v) for v in perturbed]),
        "iterates": iterates,
        "before": before,
        "after": after,
    }


# ------------------------------------------------------------------------- plots
def plot_linear(report: Report, steps: dict) -> None:
    fig, ax = new_panel(size=(6.5, 4.2))
    for eta, res in steps["results"].items():
        losses = res["losses"]
        label = f"eta = {eta}" + (" (diverged)" if res["diverged"] else "")
        shown = np.where(np.isfinite(losses) & (losses < 1e12), np.maximum(losses, 1e-33), np.nan)
        ax.semilogy(shown, label=label)
    ax.set_ylim(1e-33, 1e12)
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("training loss 1/2 ‖z - ABz‖^2")
    ax.set_title(f"Linear autoencoder, A = 0, B ~ N(0, 1/k) (‖B_0 z‖^2 = {steps['stiffness']:.0f})")
    ax.legend(fontsize=8)
    report.figure(
        fig,
        "linear_step_sizes.png",
        "Training loss of the linear autoencoder on z ~ "
        "N(0, I) for the four step sizes (the diverging "
        "curve is cut at 1e12).",
    )


def plot_nonlinear_training(report: Report, one: dict, two: dict) -> None:
    fig, ax = new_panel(size=(6.5, 4.2))
    ax.semilogy(one["run"]["mse"], label="one image")
    ax.semilogy(two["run"]["mse"], label="two images")
    ax.axhline(MSE_TARGET, color="k", ls="--", lw=1, label="document's target 1e-5")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("training mean squared error")
    ax.set_title("Nonlinear autoencoder A tanh(Bx), full-batch gradient descent")
    ax.legend(fontsize=8)
    report.figure(fig, "nonlinear_training.png", "Training curves of the nonlinear autoencoder.")


# ------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> Report:
    p = parser(NAME, DESCRIPTION)
    p.add_argument(
        "--images",
        choices=("cifar10", "synthetic"),
        default="cifar10",
        help="CIFAR-10 test images (default; needs the data) or smooth synthetic images",
    )
    p.add_argument(
        "--mirror",
        default=None,
        help="local folder (or URL) with the CIFAR-10 files (default: $AUTODIFF_DATA_MIRROR)",
    )
    args, report, rng = start(NAME, DESCRIPTION, SOURCE, argv, p)
    images, names = load_images(args.images, args.mirror, rng, 12, args.quick)
    flat = images.reshape(len(images), -1)
    side = images.shape[-1]
    k = 256 if args.quick else 1024
    max_steps = 4000
    report.number(
        "config",
        {
            "images": args.images,
            "image_side": side,
            "d": flat.shape[1],
            "hidden_k": k,
            "linear_k": LINEAR_WIDTH,
            "image_names": names,
        },
    )

    # ---- problem 3: linear autoencoder on z ~ N(0, I_100)
    z = datasets.linear_autoencoder(n=1, d=100, seed=int(rng.integers(2**31)))[0]
    linear_zero_init(report, z)
    steps = linear_step_sizes(report, rng, z)
    plot_linear(report, steps)
    lin = linear_on_image(report, rng, flat[0], flat[4:12])
    outs, scales, cosines = lin["outputs"][:5], lin["scales"][:5], lin["cosines"][:5]
    inputs = [(flat[0], "training image z")] + [
        (flat[i], f"test input {i - 3}") for i in range(4, 9)
    ]
    image_grid(
        report,
        [
            inputs,
            [None] + [(o, f"f(x), c(x) = {c:.3f}") for o, c in zip(outs, scales, strict=False)],
            [None]
            + [
                (o / c, f"f(x) / c(x), cos {cs:+.6f}")
                for o, c, cs in zip(outs, scales, cosines, strict=False)
            ],
        ],
        "linear_outputs.png",
        "Linear autoencoder trained on one image: f(x) = c(x) z",
        "Top: the training image z and test inputs x. Middle: raw outputs f(x) (clipped to "
        "[0, 1] for display; black where c(x) < 0). Bottom: f(x) / c(x) with c(x) = <f(x), "
        "z> / ‖z‖^2: every output is the training image; titles give cos(f(x), z).",
    )

    # ---- problem 4: nonlinear autoencoder
    f32 = flat.astype(np.float32)
    noise = rng.uniform(0.0, 1.0, f32.shape[1]).astype(np.float32)
    probes = {
        "another image": f32[2],
        "test image": f32[3],
        "uniform noise": noise,
        "zeros": np.zeros(f32.shape[1], np.float32),
    }
    one = nonlinear_one(report, rng, f32[0], probes, k, max_steps)
    two = nonlinear_two(report, rng, f32[:2], probes, k, max_steps)
    plot_nonlinear_training(report, one, two)
    labels = list(probes)
    image_grid(
        report,
        [
            [(f32[0], "training image z")] + [(v, n) for n, v in probes.items()],
            [(one["f"](f32[0]), "f(z)")] + [(one["outputs"][n], f"f({n})") for n in labels],
        ],
        "nonlinear_one_image.png",
        "Trained on one image: inputs (top) and outputs (bottom)",
        "Network trained on one image: its output for a training image, another image, a "
        "test image, uniform noise and zeros.",
    )
    image_grid(
        report,
        [
            [(f32[0], "z_1"), (f32[1], "z_2")] + [(v, n) for n, v in probes.items()],
            [(two["f"](f32[0]), "f(z_1)"), (two["f"](f32[1]), "f(z_2)")]
            + [(two["outputs"][n], f"f({n})") for n in labels],
        ],
        "nonlinear_two_images.png",
        "Trained on two images: inputs (top) and outputs (bottom)",
        "Network trained on two images: outputs for the training images, another image, a "
        "test image, uniform noise and zeros.",
    )
    x = probes["test image"]
    its = two["iterates"]
    image_grid(
        report,
        [
            [
                (x, "test image x"),
                (its[1], "f(x)"),
                (its[2], "f^2(x)"),
                (its[20], "f^20(x)"),
                (f32[two["target"]], f"z_{two['target'] + 1}"),
            ]
        ],
        "iterates.png",
        "Iterating the two-image network on a test image",
        f"f, f^2 and f^20 of a test image; the iterates converge to training image "
        f"z_{two['target'] + 1} (within 1% from r = {two['first']}).",
    )
    image_grid(
        report,
        [
            [
                (two["perturbed"][i], f"x_{i + 1} = z_{i + 1} + 1e-3 eps"),
                (two["first_step"][i], f"f(x_{i + 1})"),
                (two["tenth"][i], f"f^10(x_{i + 1})"),
            ]
            for i in range(2)
        ],
        "perturbations.png",
        "Perturbed training images and their iterates",
        "x_i = z_i + 1e-3 eps (eps ~ N(0, I)), f(x_i) and f^10(x_i) for the two-image network.",
    )
    report.table(
        "Nonlinear autoencoder: attractors",
        [
            "network",
            "steps to MSE < 1e-5",
            "final MSE",
            "rho(J) at the training images",
            "‖x - z‖ -> ‖f^10(x) - z‖ for x = z + 1e-3 eps",
        ],
        [
            [
                "one image",
                one["run"]["steps_to_target"],
                one["run"]["mse"][-1],
                f"{one['rho']:.4f}",
                "-",
            ],
            [
                "two images",
                two["run"]["steps_to_target"],
                two["run"]["mse"][-1],
                ", ".join(f"{r:.4f}" for r in two["rhos"]),
                ", ".join(
                    f"{b:.3g} -> {a:.3g}" for b, a in zip(two["before"], two["after"], strict=False)
                ),
            ],
        ],
    )
    both = all(r < 1 for r in two["rhos"])
    report.text(
        "Interpretation. Training makes every training image a fixed point, f(z_i) = z_i. "
        "Where the Jacobian there is also contracting (spectral radius < 1) the fixed "
        "point is an attractor: applying the network again and again pulls nearby inputs, "
        "and here also unrelated images and noise, onto a stored image, so the network "
        "acts as an associative memory that recalls training images rather than "
        "reconstructing its input. With one image every probe is recalled as that image "
        f"(rho = {one['rho']:.3f}). With two images "
        + (
            "both are attractors"
            if both
            else f"only z_{[i + 1 for i, r in enumerate(two['rhos']) if r < 1][0]} is an "
            "attractor; the other is a fixed point with an unstable direction"
        )
        + f" (rho = {', '.join(f'{r:.3f}' for r in two['rhos'])}), and the test image is "
        f"recalled as z_{two['target'] + 1}. The linear autoencoder shows a degenerate "
        "version: its output is always a multiple of the training image, but not the "
        "image itself."
    )
    report.write()
    return report


if __name__ == "__main__":
    main()
