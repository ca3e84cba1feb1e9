"""Stationary points and symmetries of small networks, measured with our engine
(`002_34d55ca37461e66e.txt` section 2.2, `003_3e2271feff96ec1f.txt` parts 1 and 2).

1. The nine-weight ReLU network of 003 part 1: output y = 4 and its gradient at x = (0, 3).
2. A ReLU MLP with softmax output started at all-zero parameters: only the last layer's
   bias gets a gradient, and training moves only that bias (to the log class
   frequencies); without biases w = 0 is stationary.
3. tanh with all-zero weights is stationary (a saddle: the Hessian has eigenvalues
   +-2 ‖mean(y x)‖); a sigmoid network with all-zero weights is not.
4. A sigmoid network whose hidden units start identical keeps them identical under
   gradient descent and stalls at a symmetric point; a tiny perturbation escapes it.
5. Sign flips of tanh networks: flipping every weight multiplies the output by
   (-1)^(L+1) for L hidden layers; flipping one unit's weights leaves it unchanged.
6. Linear regression at w = 0 is not stationary (the gradient is -2 X^T y / n).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
import datasets
from experiments.common import Report, new_figure, start
from optim import functional as fopt

NAME = "stationary_points"
DESCRIPTION = (
    "Stationary points and symmetries: the nine-weight ReLU net (y = 4), zero "
    "initialisation, tanh/sigmoid at zero weights, identical hidden units, sign flips, "
    "linear regression at w = 0"
)
SOURCE = "002_34d55ca37461e66e.txt, 003_3e2271feff96ec1f.txt"
DATA = "none"

# 003 part 1: weights 1-3 feed the first hidden neuron (gains for x1, x2, bias), 4-6 the
# second, 7-9 the output (gains for the two hidden neurons, bias).
NINE_WEIGHTS = np.array([1.0, -2.0, 0.0, 2.0, 1.0, 0.0, -1.0, 1.0, 1.0])
NINE_INPUT = np.array([0.0, 3.0])


# ------------------------------------------------------------------------- networks
def nine_weight_net(w: Any, x: np.ndarray) -> Any:
    """The network of 003 part 1: w (9,), x (2,) -> scalar y."""
    h1 = ad.relu(w[0] * x[0] + w[1] * x[1] + w[2])
    h2 = ad.relu(w[3] * x[0] + w[4] * x[1] + w[5])
    return w[6] * h1 + w[7] * h2 + w[8]


def nine_weight_gradient_by_hand(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The document's closed form [0, 3 w7 H(z1), w7 H(z1), 0, 3 w8 H(z2), w8 H(z2),
    ReLU(z1), ReLU(z2), 1] (written for x1 = 0, x2 = 3; H the Heaviside step, H(0) = 0)."""
    z1 = w[0] * x[0] + w[1] * x[1] + w[2]
    z2 = w[3] * x[0] + w[4] * x[1] + w[5]
    h1, h2 = float(z1 > 0), float(z2 > 0)
    return (
        np.array(
            [
                0.0,
                3 * w[6] * h1,
                w[6] * h1,
                0.0,
                3 * w[7] * h2,
                w[7] * h2,
                max(z1, 0.0),
                max(z2, 0.0),
                1.0,
            ]
        )
        + 0.0
    )  # + 0.0 turns -0.0 into 0.0


def mlp(params: dict[str, Any], x: Any, act: Callable[[Any], Any]) -> Any:
    """x (n, d) -> (n, k): hidden layers act(h @ W_l + b_l), linear output layer.
    params holds W1..WL ((d_{l-1}, d_l)) and optionally b1..bL ((d_l,))."""
    n_layers = sum(k.startswith("W") for k in params)
    h = x
    for layer in range(1, n_layers + 1):
        h = h @ params[f"W{layer}"]
        if f"b{layer}" in params:
            h = h + params[f"b{layer}"]
        if layer < n_layers:
            h = act(h)
    return h


def init_mlp(
    sizes: list[int], rng: np.random.Generator | None, biases: bool
) -> dict[str, np.ndarray]:
    """Parameters for `mlp` with layer sizes [d, d_1, ..., k]: Gaussian N(0, 1/fan_in)
    weights and zero biases, or everything zero when rng is None."""
    params = {}
    for layer, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False), start=1):
        params[f"W{layer}"] = (
            np.zeros((a, b)) if rng is None else rng.standard_normal((a, b)) / np.sqrt(a)
        )
        if biases:
            params[f"b{layer}"] = np.zeros(b)
    return params


def cross_entropy(params: dict[str, Any], x: np.ndarray, onehot: np.ndarray) -> Any:
    """Mean softmax cross-entropy of a ReLU MLP: x (n, d), onehot (n, k)."""
    return -ad.sum(onehot * ad.log_softmax(mlp(params, x, ad.relu), axis=1)) / x.shape[0]


def square_loss(
    params: dict[str, Any], x: np.ndarray, y: np.ndarray, act: Callable[[Any], Any]
) -> Any:
    """Mean square loss of an MLP with hidden activation act: x (n, d), y (n, k)."""
    return ad.sum((mlp(params, x, act) - y) ** 2) / x.shape[0]


def hessian_eigenvalues(loss: Callable[[dict], Any], params: dict[str, np.ndarray]) -> np.ndarray:
    """Eigenvalues (ascending) of the Hessian of loss(params) with respect to all
    parameters, flattened into one vector (forward-over-reverse `ad.hessian`)."""
    leaves, treedef = ad.tree_flatten(params)
    bounds = np.cumsum([0] + [leaf.size for leaf in leaves])

    def flat_loss(theta: Any) -> Any:
        parts = [
            ad.reshape(theta[a:b], leaf.shape)
            for a, b, leaf in zip(bounds[:-1], bounds[1:], leaves, strict=False)
        ]
        return loss(ad.tree_unflatten(treedef, parts))

    theta = np.concatenate([leaf.ravel() for leaf in leaves])
    return np.linalg.eigvalsh(ad.hessian(flat_loss)(theta))


def _norms(tree: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(np.linalg.norm(v)) for k, v in tree.items()}


# --------------------------------------------------------------------------- 1. y = 4
def _nine_weights(report: Report) -> None:
    y, g = ad.value_and_grad(nine_weight_net)(NINE_WEIGHTS, NINE_INPUT)
    doc_g = nine_weight_gradient_by_hand(NINE_WEIGHTS, NINE_INPUT)
    formulas = [
        "0",
        "3 w7 H(z1)",
        "w7 H(z1)",
        "0",
        "3 w8 H(z2)",
        "w8 H(z2)",
        "ReLU(z1)",
        "ReLU(z2)",
        "1",
    ]
    rows = [[f"w{i + 1}", formulas[i], doc_g[i], g[i]] for i in range(9)]
    report.table(
        "003 part 1: gradient of the nine-weight ReLU network at x = (0, 3)",
        ["weight", "document's formula", "document (evaluated)", "ours (reverse mode)"],
        rows,
        note=f"Output: document y = 4, ours y = {float(y):g}. z1 = -6 (first neuron off), z2 = 3.",
    )
    report.number("nine_weight_y", float(y), headline=True)
    report.number("nine_weight_gradient", g, headline=True)
    report.check(
        float(y) == 4.0,
        "the nine-weight network outputs y = 4 at x = (0, 3)",
        f"y = {float(y)!r} (exact: small integers)",
    )
    report.check(
        np.array_equal(g, doc_g) and np.array_equal(g, [0, 0, 0, 0, 3, 1, 0, 3, 1]),
        "its gradient is [0, 0, 0, 0, 3, 1, 0, 3, 1], the document's formula",
        f"ours {g.tolist()} (exact equality)",
    )
    relu_out = ad.value_and_grad(lambda w, x: ad.relu(nine_weight_net(w, x)))
    y_r, g_r = relu_out(NINE_WEIGHTS, NINE_INPUT)
    report.check(
        float(y_r) == 4.0 and np.array_equal(g_r, g),
        "with a ReLU on the output neuron too (as the figure is described) nothing changes",
        "y = 4 > 0, where ReLU is the identity with slope 1",
    )


# ------------------------------------------------------------------ 2. zero initialisation
def _zero_init(report: Report, rng: np.random.Generator, quick: bool) -> dict[str, Any]:
    n, d, k = 300, 4, 3
    x = rng.standard_normal((n, d))
    labels = rng.choice(k, size=n, p=[0.5, 0.3, 0.2])  # unbalanced: at b = 0 the bias is pulled
    onehot = np.eye(k)[labels]
    freq = onehot.mean(axis=0)
    sizes = [d, 8, 8, k]
    vg = ad.value_and_grad(cross_entropy)

    params = init_mlp(sizes, None, biases=True)
    loss0, g0 = vg(params, x, onehot)
    others_zero = all(np.all(v == 0.0) for key, v in g0.items() if key != "b3")
    report.check(
        others_zero and np.linalg.norm(g0["b3"]) > 0.1,
        "ReLU MLP + softmax at all-zero parameters: only the last layer's bias has a "
        "non-zero gradient",
        f"‖grad b3‖ = {np.linalg.norm(g0['b3']):.4f}, every other gradient entry exactly 0",
    )
    report.check(
        np.allclose(g0["b3"], 1.0 / k - freq, rtol=0, atol=1e-12),
        "that gradient is softmax(0) - class frequencies = 1/3 - p_c",
        f"ours {np.round(g0['b3'], 6).tolist()}, "
        f"1/3 - p = {np.round(1 / k - freq, 6).tolist()}"
        " (to 1e-12: a mean of 300 terms)",
    )
    report.check(
        np.linalg.norm(g0["b3"]) > 0,
        "with biases, w = 0 is not a stationary point",
        "the last bias is pulled towards the log class frequencies",
    )

    steps, lr = (100, 1.0) if quick else (400, 1.0)
    history: dict[str, list[float]] = {key: [] for key in params}
    values: dict[str, list[float]] = {key: [] for key in params}
    moved = False

    def after_update(p: dict[str, np.ndarray]) -> None:
        nonlocal moved
        for key, v in _norms(p).items():
            values[key].append(v)
        moved = moved or any(np.any(v != 0.0) for key, v in p.items() if key != "b3")

    def record(t: int, p: dict, loss: Any, grads: dict) -> None:
        if t > 0:  # p is the result of update t - 1
            after_update(p)
        for key, v in _norms(grads).items():
            history[key].append(v)

    params, losses = fopt.sgd(
        lambda p: vg(p, x, onehot), params, lr, steps, callback=record, desc="zero-init training"
    )
    after_update(params)
    losses = [float(loss) for loss in losses]
    probs = np.exp(params["b3"] - np.log(np.sum(np.exp(params["b3"]))))
    entropy = float(-np.sum(freq * np.log(freq)))
    report.check(
        not moved and all(max(history[key]) == 0.0 for key in params if key != "b3"),
        f"gradient descent ({steps} steps, lr {lr:g}) changes only the last bias",
        "every other parameter and gradient stays exactly 0 at every step",
    )
    report.check(
        np.max(np.abs(probs - freq)) < 1e-3 and abs(losses[-1] - entropy) < 1e-4,
        "the last bias converges to the log class frequencies (softmax(b3) = p), the "
        "loss to the label entropy",
        f"max abs(softmax(b3) - p) = {np.max(np.abs(probs - freq)):.1e} < 1e-3, loss "
        f"{losses[-1]:.6f} vs entropy {entropy:.6f} (< 1e-4 apart)",
    )
    report.number("zero_init_final_softmax_b3", probs)
    report.number("zero_init_class_frequencies", freq)
    report.number("zero_init_final_loss", losses[-1], headline=True)
    report.number("zero_init_label_entropy", entropy)

    params_nb = init_mlp(sizes, None, biases=False)
    loss_nb, g_nb = vg(params_nb, x, onehot)
    report.check(
        all(np.all(v == 0.0) for v in g_nb.values()),
        "without biases, w = 0 is a stationary point of the ReLU + softmax network",
        f"every gradient entry exactly 0 (loss stays log 3 = {float(loss_nb):.6f})",
    )
    report.table(
        "Zero initialisation of a ReLU MLP (4-8-8-3) with softmax cross-entropy",
        ["parameter", "‖grad‖ at 0 (biases)", "‖grad‖ at 0 (no biases)", "‖param‖ after training"],
        [
            [
                key,
                float(np.linalg.norm(g0[key])),
                float(np.linalg.norm(g_nb[key])) if key in g_nb else "(none)",
                values[key][-1],
            ]
            for key in g0
        ],
        note=f"Class frequencies {np.round(freq, 3).tolist()}; after training "
        f"softmax(b3) = {np.round(probs, 4).tolist()}.",
    )
    return {"history": history, "values": values, "losses": losses, "entropy": entropy}


def _plot_zero_init(report: Report, run: dict[str, Any]) -> None:
    fig, axes = new_figure(ncols=2, size=(6.0, 4.2))
    for key, norms in run["history"].items():
        axes[0][0].plot(norms, label=key, lw=2.5 if key == "b3" else 1.2)
        axes[0][1].plot(run["values"][key], label=key, lw=2.5 if key == "b3" else 1.2)
    axes[0][0].set_yscale("symlog", linthresh=1e-6)
    axes[0][0].set_title("Gradient norm per parameter (zero init)")
    axes[0][0].set_ylabel("‖dL/dparam‖ (symlog; 0 is exactly 0)")
    axes[0][1].set_title("Parameter norm during training")
    axes[0][1].set_ylabel("‖param‖")
    for ax in axes[0]:
        ax.set_xlabel("gradient-descent step")
        ax.legend(fontsize=8, ncol=2)
    report.figure(
        fig,
        "zero_init.png",
        "ReLU MLP with softmax output started at zero: only the "
        "last bias b3 ever has a gradient or moves (the other curves lie on 0)",
    )


# ---------------------------------------------------------------- 3. zero weights, tanh
def _zero_weights_tanh(report: Report, rng: np.random.Generator) -> None:
    n, d, h = 200, 3, 4
    x = rng.standard_normal((n, d))
    y = (np.tanh(x @ np.array([1.0, -0.5, 0.25])) + 0.5)[:, None]  # correlated with x, mean != 0
    rows = []
    for hidden in (1, 2, 3):
        params = init_mlp([d] + [h] * hidden + [1], None, biases=False)
        grads = ad.grad(square_loss)(params, x, y, ad.tanh)
        largest = max(float(np.abs(g).max()) for g in grads.values())
        rows.append([f"tanh, {hidden} hidden, no biases", largest, "yes"])
        report.check(
            all(np.all(g == 0.0) for g in grads.values()),
            f"tanh MLP with {hidden} hidden layer(s), all weights 0: stationary",
            "every gradient entry exactly 0 (tanh(0) = 0 kills the forward signal, "
            "the zero output weights kill the backward one)",
        )
    params = init_mlp([d, h, 1], None, biases=True)
    grads = ad.grad(square_loss)(params, x, y, ad.tanh)
    expected = -2.0 * y.mean()
    others = max(float(np.abs(g).max()) for key, g in grads.items() if key != "b2")
    rows.append(["tanh, 1 hidden, zero biases too", float(np.abs(grads["b2"]).max()), "no"])
    report.check(
        others == 0.0 and abs(float(grads["b2"][0]) - expected) < 1e-12,
        "with (zero) biases, only the output bias has a gradient: -2 mean(y)",
        f"d/db2 = {float(grads['b2'][0]):.6f} vs -2 mean(y) = {expected:.6f}; others 0",
    )
    params = init_mlp([d, h, 1], None, biases=False)
    grads = ad.grad(square_loss)(params, x, y, ad.sigmoid)
    g_out = float(np.abs(grads["W2"]).max())
    rows.append(["sigmoid, 1 hidden, no biases", g_out, "no"])
    report.check(
        g_out > 0.1 and np.allclose(grads["W2"], -y.mean(), rtol=1e-12, atol=0),
        "sigmoid MLP with all weights 0 is not stationary (sigmoid(0) = 1/2)",
        f"d/dW2 = -2 mean(y) / 2 = {-y.mean():.6f} for every hidden unit",
    )

    # The tanh point is a saddle: the Hessian at 0 is [[0, B], [B^T, 0]] with B coupling
    # W1[:, j] and W2[j] through -2 mean(y x), so its eigenvalues are 0 and +-2 ‖mean(y x)‖.
    eig = hessian_eigenvalues(
        lambda p: square_loss(p, x, y, ad.tanh), init_mlp([d, h, 1], None, biases=False)
    )
    predicted = 2.0 * np.linalg.norm((y * x).mean(axis=0))
    report.number("tanh_zero_hessian_eigenvalues", eig)
    report.number("tanh_zero_hessian_min_eigenvalue", float(eig[0]), headline=True)
    report.check(
        abs(eig[0] + predicted) < 1e-10 and abs(eig[-1] - predicted) < 1e-10,
        "the tanh zero point is a saddle, not a minimum: the Hessian has eigenvalues "
        "+-2 ‖mean(y x)‖",
        f"lambda_min = {eig[0]:.10f}, lambda_max = {eig[-1]:.10f}, predicted "
        f"+-{predicted:.10f} (to 1e-10)",
    )
    report.table(
        "All-zero weights: stationary or not (square loss, 1 output)",
        ["network", "max abs(gradient entry) at 0", "stationary"],
        rows,
        note=f"Hessian of the 1-hidden-layer tanh loss at 0: eigenvalues from "
        f"{eig[0]:.4f} to {eig[-1]:.4f}; +-2‖mean(y x)‖ = +-{predicted:.4f}.",
    )


# --------------------------------------------------------------- 4. identical sigmoid units
def _identical_units(report: Report, rng: np.random.Generator, quick: bool) -> dict[str, Any]:
    n, d, h = 200, 2, 4
    x = rng.standard_normal((n, d))
    # Target: two sigmoid units looking along different axes, which one unit cannot fit.
    y = 2.0 / (1.0 + np.exp(-4.0 * x[:, :1])) + 2.0 / (1.0 + np.exp(-4.0 * x[:, 1:]))
    y = y - y.mean()
    row, bias, out = rng.standard_normal((d, 1)), rng.standard_normal(), rng.standard_normal()
    params = {
        "W1": np.repeat(row, h, axis=1),
        "b1": np.full(h, bias),
        "W2": np.full((h, 1), out / h),
        "b2": np.zeros(1),
    }
    vg = ad.value_and_grad(square_loss)
    steps, lr = (3000, 0.3) if quick else (6000, 0.3)

    def spread(p: dict[str, np.ndarray]) -> float:
        """Max difference between hidden units: columns of W1, entries of b1 and W2."""
        return float(max(np.ptp(p["W1"], axis=1).max(), np.ptp(p["b1"]), np.ptp(p["W2"])))

    def grad_norm(p: dict[str, np.ndarray]) -> float:
        return float(np.sqrt(sum(np.sum(g**2) for g in vg(p, x, y, ad.sigmoid)[1].values())))

    def train(p: dict[str, np.ndarray], desc: str) -> tuple[dict, list, list]:
        spreads: list[float] = []
        p, losses = fopt.sgd(
            lambda q: vg(q, x, y, ad.sigmoid),
            p,
            lr,
            steps,
            callback=lambda t, q, loss, grads: spreads.append(spread(q)),
            desc=desc,
        )
        return p, [float(loss) for loss in losses], spreads

    sym, sym_losses, sym_spreads = train(params, "identical units")
    g_start, g_end = grad_norm(params), grad_norm(sym)
    eig = hessian_eigenvalues(lambda p: square_loss(p, x, y, ad.sigmoid), sym)
    kick = 1e-4
    perturbed = {key: v + kick * rng.standard_normal(v.shape) for key, v in sym.items()}
    brk, brk_losses, brk_spreads = train(perturbed, "after a 1e-4 kick")
    report.check(
        max(sym_spreads) <= 1e-12,
        "sigmoid network with identical hidden units: they stay identical throughout "
        "gradient descent",
        f"max difference between units over {steps} steps: {max(sym_spreads):.1e} "
        "(<= 1e-12: rounding only; exactly 0 when BLAS treats the columns alike)",
    )
    report.check(
        g_end < 1e-3 * g_start,
        "gradient descent from there stalls at a (nearly) stationary point with identical units",
        f"‖grad‖ {g_start:.2e} -> {g_end:.2e} (< 1e-3 x the start)",
    )
    report.check(
        eig[0] < -0.01 and eig[-1] > 0.01,
        "that point is a saddle (the document's answer): the Hessian has negative and "
        "positive eigenvalues",
        f"lambda_min = {eig[0]:.4f} < -0.01, lambda_max = {eig[-1]:.4f} > 0.01, with "
        f"‖grad‖ = {g_end:.1e}",
    )
    report.check(
        brk_losses[-1] < 0.1 * sym_losses[-1] and brk_spreads[-1] > 100 * kick,
        "perturbing it by 1e-4 lets gradient descent escape: the units separate and the "
        "loss falls far below the symmetric plateau",
        f"loss {sym_losses[-1]:.5f} -> {brk_losses[-1]:.2e} (< 1/10), unit spread "
        f"{kick:g} -> {brk_spreads[-1]:.3f} (> 100x)",
    )
    report.number("identical_units_max_spread", max(sym_spreads), headline=True)
    report.number("identical_units_plateau_loss", sym_losses[-1])
    report.number("identical_units_hessian_min_max", [float(eig[0]), float(eig[-1])])
    report.number("identical_units_loss_after_kick", brk_losses[-1])
    report.table(
        "Identical sigmoid hidden units (2-4-1 network with biases; target 2 sig(4 x1) "
        "+ 2 sig(4 x2), centred)",
        [
            "run",
            "steps (lr 0.3)",
            "final loss",
            "max unit difference at the end",
            "‖grad‖ at the end",
        ],
        [
            ["identical start", steps, sym_losses[-1], sym_spreads[-1], g_end],
            ["then perturbed by 1e-4", steps, brk_losses[-1], brk_spreads[-1], grad_norm(brk)],
        ],
        note=f"Hessian at the symmetric end point: eigenvalues from {eig[0]:.4f} to {eig[-1]:.4f}.",
    )
    return {
        "sym_losses": sym_losses,
        "sym_spreads": sym_spreads,
        "brk_losses": brk_losses,
        "brk_spreads": brk_spreads,
        "kick": kick,
    }


def _plot_identical(report: Report, run: dict[str, Any]) -> None:
    fig, axes = new_figure(ncols=2, size=(6.0, 4.2))
    steps = len(run["sym_losses"])
    t_sym, t_brk = np.arange(steps), steps + np.arange(len(run["brk_losses"]))
    ax = axes[0][0]
    ax.plot(t_sym, run["sym_losses"], label="identical units")
    ax.plot(t_brk, run["brk_losses"], label=f"after a {run['kick']:g} perturbation")
    ax.set_yscale("log")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("mean square loss")
    ax.set_title("Loss: plateau at the symmetric point")
    ax.legend(fontsize=8)
    ax = axes[0][1]
    ax.plot(t_sym, run["sym_spreads"], label="identical units")
    ax.plot(t_brk, run["brk_spreads"], label=f"after a {run['kick']:g} perturbation")
    ax.set_yscale("symlog", linthresh=1e-16)
    ax.set_yticks([0.0, 1e-16, 1e-12, 1e-8, 1e-4, 1.0])
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("max difference between hidden units (symlog)")
    ax.set_title("Hidden units stay identical until perturbed")
    ax.legend(fontsize=8)
    report.figure(
        fig,
        "identical_units.png",
        "Sigmoid network with identical hidden units: "
        "gradient descent keeps them identical; a tiny perturbation breaks the symmetry",
    )


# --------------------------------------------------------------------------- 5. sign flips
def _sign_flips(report: Report, rng: np.random.Generator) -> dict[int, tuple]:
    x = rng.standard_normal((50, 3))
    rows, pairs = [], {}
    for hidden in (1, 2, 3, 4):
        params = init_mlp([3] + [5] * hidden + [2], rng, biases=False)
        out = mlp(params, x, ad.tanh)
        flipped = mlp({k: -v for k, v in params.items()}, x, ad.tanh)
        sign = (-1) ** (hidden + 1)
        err = float(np.abs(flipped - sign * out).max())
        rows.append(
            [hidden, sign, float(np.abs(flipped - out).max()), float(np.abs(flipped + out).max())]
        )
        pairs[hidden] = (out.ravel(), flipped.ravel())
        report.check(
            err <= 1e-12,
            f"tanh, {hidden} hidden layer(s): flipping every weight "
            f"multiplies the output by (-1)^(L+1) = {sign:+d}",
            f"max abs(f(-W) - ({sign:+d}) f(W)) = {err:.1e} <= 1e-12 (tanh is odd)",
        )
    report.table(
        "Sign flip of all weights of a tanh MLP without biases (3-5-...-5-2)",
        ["hidden layers L", "(-1)^(L+1)", "max abs(f(-W) - f(W))", "max abs(f(-W) + f(W))"],
        rows,
        note="So f(-W) = -f(W) only for an even number of hidden layers; with one hidden "
        "layer the output does not change.",
    )
    params = init_mlp([3, 5, 5, 2], rng, biases=True)
    params = {
        k: v + (0.3 * rng.standard_normal(v.shape) if k.startswith("b") else 0.0)
        for k, v in params.items()
    }
    flipped = dict(params)
    flipped["W1"] = params["W1"].copy()
    flipped["W1"][:, 2] *= -1  # unit 2 of layer 1: incoming weights and bias...
    flipped["b1"] = params["b1"].copy()
    flipped["b1"][2] *= -1
    flipped["W2"] = params["W2"].copy()
    flipped["W2"][2, :] *= -1  # ...and its outgoing weights
    err = float(np.abs(mlp(flipped, x, ad.tanh) - mlp(params, x, ad.tanh)).max())
    report.check(
        err <= 1e-12,
        "flipping the incoming weights, bias and outgoing weights of one "
        "tanh unit leaves the network unchanged (biases included)",
        f"max difference {err:.1e} <= 1e-12",
    )
    report.number("sign_flip_rows", rows)
    return pairs


def _plot_sign_flips(report: Report, pairs: dict[int, tuple]) -> None:
    fig, axes = new_figure(ncols=2, size=(5.0, 4.2))
    for ax, hiddens in ((axes[0][0], (1, 3)), (axes[0][1], (2, 4))):
        for hidden in hiddens:
            out, flipped = pairs[hidden]
            ax.scatter(out, flipped, s=10, label=f"L = {hidden} hidden layers")
        lim = max(np.abs(np.concatenate([pairs[k][0] for k in hiddens])).max(), 1e-3) * 1.1
        ax.plot([-lim, lim], [-lim, lim], "k:", lw=1, label="f(-W) = f(W)")
        ax.plot([-lim, lim], [lim, -lim], "k--", lw=1, label="f(-W) = -f(W)")
        ax.set_xlabel("f(W)")
        ax.set_ylabel("f(-W)")
        ax.legend(fontsize=8)
    axes[0][0].set_title("Odd L: outputs unchanged")
    axes[0][1].set_title("Even L: outputs negated")
    report.figure(
        fig,
        "sign_flip.png",
        "Output of a tanh MLP with every weight negated, against the original output",
    )


# --------------------------------------------------------------- 6. linear regression at 0
def _linear_regression(report: Report, seed: int) -> None:
    x, y, _ = datasets.linear_regression(n=100, d=10, p=1, noise=0.1, seed=seed)

    def loss(w: Any, targets: np.ndarray) -> Any:
        return ad.sum((x @ w - targets) ** 2) / x.shape[0]

    w0 = np.zeros((10, 1))
    g = ad.grad(loss)(w0, y)
    expected = -2.0 * x.T @ y / x.shape[0]
    report.check(
        np.allclose(g, expected, rtol=1e-12, atol=1e-14) and np.linalg.norm(g) > 0.1,
        "linear regression: w = 0 is not a stationary point (gradient -2 X^T y / n)",
        f"‖grad‖ = {np.linalg.norm(g):.4f}, equal to ‖2 X^T y / n‖ to 1e-12",
    )
    residual = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]  # targets orthogonal to X
    g_orth = ad.grad(loss)(w0, residual)
    report.check(
        np.abs(g_orth).max() < 1e-12,
        "it is stationary exactly when X^T y = 0 (targets orthogonal to every feature)",
        f"with y replaced by its least-squares residual: max abs(grad) {np.abs(g_orth).max():.1e}",
    )
    report.number("linreg_grad_norm_at_zero", float(np.linalg.norm(g)), headline=True)
    report.table(
        "Linear regression (0 hidden layers) at w = 0",
        ["targets", "‖grad L(0)‖", "‖2 X^T y / n‖", "stationary"],
        [
            [
                "y (linear_regression, n = 100, d = 10)",
                float(np.linalg.norm(g)),
                float(np.linalg.norm(expected)),
                "no",
            ],
            [
                "least-squares residual of y",
                float(np.linalg.norm(g_orth)),
                float(np.linalg.norm(2.0 * x.T @ residual / x.shape[0])),
                "yes",
            ],
        ],
    )


# ------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> Report:
    args, report, rng = start(NAME, DESCRIPTION, SOURCE, argv)
    _nine_weights(report)
    zero = _zero_init(report, rng, args.quick)
    _plot_zero_init(report, zero)
    _zero_weights_tanh(report, rng)
    identical = _identical_units(report, rng, args.quick)
    _plot_identical(report, identical)
    _plot_sign_flips(report, _sign_flips(report, rng))
    _linear_regression(report, int(rng.integers(2**31)))
    report.write()
    return report


if __name__ == "__main__":
    main()
