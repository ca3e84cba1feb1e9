"""Parity with two-layer ReLU networks: exact representation, failure of gradient descent
to learn it, and why (doc 000, question 3 "Promises and Pitfalls of Neural Networks").

Setting: x uniform on {0,1}^d, a mask v in {0,1}^d, label y = (-1)^(v.x).  The network is
f(x) = sum_i alpha_i relu(W_i.x + b_i) + beta with k hidden units; parameters are dicts
{"W": (k, d), "b": (k,), "alpha": (k,), "beta": ()}, optionally with a leading batch axis
S (one independent network per seed or per mask): W (S, k, d), b / alpha (S, k), beta (S,).

(a) capacity: the document's hand-set weights reproduce (-1)^(v.x) on all 2^d inputs.
(b) learning: SGD on the hinge loss with fresh batches for d = 5, 10, 30.
(c) uninformative gradients: the exact population-risk gradient for every mask, its
    spread around the mask-independent vector a, and the 2^-d law of the document.
(d) deeper sigmoid networks: per-layer gradient magnitudes and training.

Every derivative is computed by the engine (ad.value_and_grad / ad.grad).  The cells of (b),
(c) and (d) (an input dimension, a network kind) are independent tasks, each with its own
random stream: `--jobs N` runs them in local processes, `--cluster ADDRESS` on Dask
(experiments.parallel), with the numbers of the default run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
from experiments.common import Report, new_figure, parser
from experiments.parallel import Executor, add_parallel_args, cell_rng, stop_on_failures
from optim import functional as fopt

NAME = "parity"
DESCRIPTION = (
    "Parity with ReLU networks: exact hand-set representation, SGD failing for "
    "large d, population gradients nearly independent of the mask (2^-d), deep "
    "sigmoid nets"
)
SOURCE = "000_1157cdecf8ac0012.txt"
DATA = "none"

# one settings dict per part: (a) capacity, (b) learning, (c) gradients, (d) deep networks
FULL = dict(
    capacity=dict(dims=(2, 4, 6, 8, 10, 12, 14, 16), all_masks_up_to=8, random_masks=8),
    learning=dict(dims=(5, 10, 30), iters=50_000, seeds=5, batch=100, lr=0.05, learned_acc=1.0),
    gradients=dict(dims=tuple(range(2, 13)), width=64, output_scale=10.0),
    deep=dict(d=5, depths=(1, 2, 4, 8), iters=20_000, seeds=4, batch=100, lr=0.2),
)
QUICK = dict(
    capacity=dict(FULL["capacity"], dims=(2, 4, 6, 8, 10, 12), all_masks_up_to=6, random_masks=3),
    learning=dict(FULL["learning"], iters=2_000, seeds=2, learned_acc=0.9),
    gradients=dict(FULL["gradients"], dims=tuple(range(2, 11))),
    deep=dict(FULL["deep"], depths=(1, 8), iters=2_500, seeds=2),
)
TRAIN_DTYPE = np.float32  # SGD runs (b), (d); float64 where exactness matters: (a), (c)
BLOCK = 25  # rows per block of a training batch (see parity_sampler)


# ----------------------------------------------------------------------------- basics
def _array(x) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, ad.Tensor) else x)


def all_inputs(d: int) -> np.ndarray:
    """All 2^d points of {0,1}^d, (2^d, d) float64, row i = binary digits of i."""
    codes = np.arange(2**d)
    return ((codes[:, None] >> np.arange(d - 1, -1, -1)) & 1).astype(np.float64)


def parity_labels(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(-1)^(v.x) for x (..., n, d) and v (..., d) (leading axes broadcast): (..., n)."""
    s = np.einsum("...nd,...d->...n", x, v).round().astype(np.int64)
    return (1 - 2 * (s % 2)).astype(x.dtype)


def two_layer(params: dict, x):
    """f(x) = sum_i alpha_i relu(W_i.x + b_i) + beta.

    x (n, d) -> (n,) for one network; with S networks (W (S, k, d)) x (..., S, n, d) or a
    shared x (n, d) -> (..., S, n)."""
    h = ad.relu(x @ ad.swapaxes(params["W"], -1, -2) + params["b"][..., None, :])
    return ad.sum(h * params["alpha"][..., None, :], axis=-1) + params["beta"][..., None]


def hinge(f, y):
    """max(0, 1 - y f), elementwise."""
    return ad.relu(1 - y * f)


def torch_default_init(rng: np.random.Generator, fan_in: int, shape: tuple) -> np.ndarray:
    """PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), for weights and biases."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape)


def init_two_layer(
    rng: np.random.Generator, d: int, k: int, batch: tuple = (), dtype=np.float64
) -> dict:
    """Random parameters of the two-layer network (leading axes `batch`)."""
    p = {
        "W": torch_default_init(rng, d, batch + (k, d)),
        "b": torch_default_init(rng, d, batch + (k,)),
        "alpha": torch_default_init(rng, k, batch + (k,)),
        "beta": torch_default_init(rng, k, batch),
    }
    return {key: np.asarray(val, dtype=dtype) for key, val in p.items()}


# ------------------------------------------------------------------------ (a) capacity
def construction(v: np.ndarray, k: int, literal: bool = False) -> dict:
    """The document's weights for mask v (..., d), d even: parameters with batch axes of v.

    For i = 0..d/2 the unit triple (3i+1, 3i+2, 3i+3) gets biases -(2i - 1/2), -2i,
    -(2i + 1/2) and output weights 4, -8, 4: on s = v.x it is a tent of height 2 at s = 2i,
    so f(s) = 1 for even s and -1 for odd s once beta = -1.  The document sets W_i = v only
    for the first 3d/2 units (`literal`); the last triple (i = d/2, the tent at s = d) then
    sees W = 0, so the input with v.x = d (only v = x = all ones) is missed.  Otherwise
    all 3(d/2 + 1) units the loop defines get W_i = v."""
    v = np.asarray(v, dtype=np.float64)
    d = v.shape[-1]
    if d % 2 or k < 3 * (d // 2 + 1):
        raise ValueError(f"construction needs even d and k >= 3(d/2 + 1), got d={d}, k={k}")
    batch = v.shape[:-1]
    b, alpha = np.zeros(k), np.zeros(k)
    for i in range(d // 2 + 1):
        b[3 * i : 3 * i + 3] = [-(2 * i - 0.5), -2 * i, -(2 * i + 0.5)]
        alpha[3 * i : 3 * i + 3] = [4.0, -8.0, 4.0]
    n_w = 3 * d // 2 if literal else 3 * (d // 2 + 1)
    W = np.zeros(batch + (k, d))
    W[..., :n_w, :] = v[..., None, :]
    return {
        "W": W,
        "b": np.broadcast_to(b, batch + (k,)).copy(),
        "alpha": np.broadcast_to(alpha, batch + (k,)).copy(),
        "beta": np.full(batch, -1.0),
    }


def masks_for(d: int, all_up_to: int, n_random: int, rng: np.random.Generator) -> np.ndarray:
    """Every mask for d <= all_up_to, else n_random random ones plus all-zeros and all-ones:
    (m, d) int."""
    if d <= all_up_to:
        return all_inputs(d).astype(np.int64)
    extra = rng.integers(0, 2, (n_random, d))
    return np.concatenate([np.zeros((1, d), np.int64), np.ones((1, d), np.int64), extra])


def capacity(report: Report, cfg: dict, rng: np.random.Generator) -> None:
    rows, literal_ok, fixed_ok = [], True, True
    for d in cfg["dims"]:
        k = 10 * d
        x = all_inputs(d)
        masks = masks_for(d, cfg["all_masks_up_to"], cfg["random_masks"], rng)
        # a few masks at a time keeps the (masks, 2^d, k) hidden layer small
        chunk = max(1, 2**22 // (x.shape[0] * k))
        wrong_fixed, wrong_literal = 0, 0
        for start in range(0, len(masks), chunk):
            v = masks[start : start + chunk]
            y = parity_labels(x[None], v)  # (m, 2^d)
            f_fixed = two_layer(construction(v, k), x)
            f_literal = two_layer(construction(v, k, literal=True), x)
            wrong_fixed += int(np.sum(f_fixed != y))
            miss = f_literal != y
            wrong_literal += int(miss.sum())
            # the literal weights should fail exactly where v.x = d
            literal_ok &= bool(np.array_equal(miss, (x @ v.T).T == d))
        fixed_ok &= wrong_fixed == 0
        rows.append(
            [
                d,
                k,
                len(masks),
                "all" if d <= cfg["all_masks_up_to"] else "random + 0 + 1",
                2**d,
                wrong_fixed,
                wrong_literal,
            ]
        )
        report.number(f"a_wrong_fixed_d{d}", wrong_fixed)
        report.number(f"a_wrong_literal_d{d}", wrong_literal)
    report.table(
        "(a) Hand-set weights against (-1)^(v.x) on all 2^d inputs (k = 10d)",
        [
            "d",
            "k",
            "masks",
            "which masks",
            "inputs",
            "wrong (all 3d/2+3 units get W=v)",
            "wrong (literal: only 3d/2 units)",
        ],
        rows,
        note="Agreement is exact equality in float64 (the network's outputs are sums of "
        "halves and integers). The document's loop defines 3(d/2+1) units but sets "
        "W_i = v only for the first 3d/2; the tent at v.x = d is then lost, which "
        "matters only for v = x = all ones.",
    )
    dims = cfg["dims"]
    report.check(
        fixed_ok,
        "(a) the construction represents (-1)^(v.x) exactly (k = 10d, every "
        f"even d in {dims[0]}..{dims[-1]}, masks as listed, all 2^d inputs)",
        "exact float64 equality f(x) == y on every input, every mask tested",
    )
    report.check(
        literal_ok,
        "(a) with W_i = v only on the first 3d/2 units (the document's "
        "literal text) the network is wrong exactly on inputs with v.x = d",
        "set of mismatches equals {(v, x): v.x = d} for every d and mask tested "
        "(only v = x = all ones)",
    )


# ----------------------------------------------------------------------- (b) learning
def sgd(
    loss: Callable,
    params: dict,
    sample: Callable,
    iters: int,
    lr: float,
    desc: str,
    watch: Callable | None = None,
) -> tuple[dict, dict, list]:
    """Plain gradient descent with a fresh batch per step.

    loss(params, x, y) -> (scalar, {name: per-network value (S,)}); sample() -> (x, y).
    Returns the final params, {name: per-step values (iters, S)} (measured on each step's
    batch before its update) and watch(grads) for every step."""
    vg = ad.value_and_grad(loss, has_aux=True)
    history: dict[str, np.ndarray] = {}
    watched = []

    def record(t: int, params: dict, value: Any, g: dict) -> None:
        for key, val in value[1].items():
            val = _array(val)
            history.setdefault(key, np.empty((iters,) + val.shape))[t] = val
        if watch is not None:
            watched.append(watch(g))

    params, _ = fopt.sgd(lambda p: vg(p, *sample()), params, lr, iters, callback=record, desc=desc)
    return params, history, watched


def parity_sampler(
    rng: np.random.Generator, v: np.ndarray, batch: int, dtype=TRAIN_DTYPE
) -> Callable:
    """Fresh batches for S networks with masks v (S, d).

    A batch is laid out in blocks of BLOCK rows: x (batch / BLOCK, S, BLOCK, d), y
    (batch / BLOCK, S, BLOCK); the models broadcast over the leading block axis.  This keeps
    every matrix product under OpenBLAS's multithreading threshold (m n k <= 262144); on
    a busy 2-core machine its threaded path made the d = 30 steps over ten times slower."""
    S, d = v.shape
    if batch % BLOCK:
        raise ValueError(f"batch size {batch} must be a multiple of {BLOCK}")

    def sample():
        x = rng.integers(0, 2, (batch // BLOCK, S, BLOCK, d)).astype(dtype)
        return x, parity_labels(x, v)

    return sample


def _per_net(values: np.ndarray) -> tuple:
    """Axes to average over for values (..., S, n): all but the network axis S."""
    return tuple(range(values.ndim - 2)) + (-1,)


def mean_hinge(model: Callable) -> Callable:
    """Loss for S independent networks on x (..., S, n, d): (sum over S of the mean hinge,
    {"loss": per-network means (S,), "acc": per-network batch accuracy (S,)}).  The
    networks share no parameters, so the gradient of the sum is each one's own."""

    def loss(params, x, y):
        f = model(params, x)
        h = hinge(f, y)
        per_net = ad.mean(h, axis=_per_net(h))
        correct = np.sign(_array(f)) == y
        return ad.sum(per_net), {"loss": per_net, "acc": correct.mean(axis=_per_net(correct))}

    return loss


def accuracy(model: Callable, params: dict, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fraction of sign(f) == y per network (ties count as errors), x (..., S, n, d): (S,)."""
    with ad.no_grad():
        f = _array(model(params, x))
    correct = np.sign(f) == y
    return correct.mean(axis=_per_net(correct))


def test_set(
    rng: np.random.Generator, v: np.ndarray, n: int = 10_000, dtype=TRAIN_DTYPE
) -> tuple[np.ndarray, np.ndarray, str]:
    """All 2^d inputs when d <= 14, else n fresh ones: x (S, N, d), y (S, N), description."""
    S, d = v.shape
    if d <= 14:
        x = np.broadcast_to(all_inputs(d).astype(dtype), (S, 2**d, d))
        what = f"all {2**d}"
    else:
        x = rng.integers(0, 2, (S, n, d)).astype(dtype)
        what = f"{n} fresh"
    return x, parity_labels(x, v), what


def smooth(curve: np.ndarray, window: int) -> np.ndarray:
    """Running mean over `window` steps along axis 0 (valid part)."""
    window = max(1, min(window, len(curve)))
    c = np.cumsum(np.concatenate([np.zeros((1,) + curve.shape[1:]), curve]), axis=0)
    return (c[window:] - c[:-window]) / window


def draw_curves(ax, curves: dict, window: int, title: str) -> None:
    """Mean over networks of the running-mean loss (T, S) per label, min-max band across
    networks, log-scaled iteration axis."""
    for label, curve in curves.items():
        sm = smooth(curve, window)
        steps = np.arange(len(sm)) + window
        (line,) = ax.plot(steps, sm.mean(axis=1), label=label, lw=1.4)
        ax.fill_between(
            steps, sm.min(axis=1), sm.max(axis=1), color=line.get_color(), alpha=0.2, lw=0
        )
    ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"hinge loss (running mean over {window} batches)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)


def learning_cell(d: int, cfg: dict, rng: np.random.Generator) -> dict:
    """(b) for one input dimension d: S networks (k = 10d), each with its own mask and
    initialisation, trained by SGD; their loss curves (T, S), the mean training accuracy of
    the last 1000 steps (S,), the final test accuracy (S,), the masks (S, d)."""
    S, T, B, lr = cfg["seeds"], cfg["iters"], cfg["batch"], cfg["lr"]
    v = rng.integers(0, 2, (S, d))
    params = init_two_layer(rng, d, 10 * d, (S,), TRAIN_DTYPE)
    sample = parity_sampler(rng, v, B)
    params, history, _ = sgd(mean_hinge(two_layer), params, sample, T, lr, desc=f"(b) d={d}")
    xt, yt, what = test_set(rng, v)
    return {
        "v": v,
        "curve": history["loss"],
        "train_acc": history["acc"][-min(1000, T) :].mean(axis=0),
        "test_acc": accuracy(two_layer, params, xt, yt),
        "test_inputs": what,
    }


def learning(report: Report, cfg: dict, cells: dict) -> None:
    """Report (b) from {d: learning_cell(d, ...)}."""
    S, T, B, lr = cfg["seeds"], cfg["iters"], cfg["batch"], cfg["lr"]
    curves, rows, acc = {}, [], {}
    for d in cfg["dims"]:
        cell = cells[d]
        v, curve, train_acc, test_acc = (
            cell["v"],
            cell["curve"],
            cell["train_acc"],
            cell["test_acc"],
        )
        final_loss = curve[-min(1000, T) :].mean(axis=0)
        curves[f"d = {d}"] = curve
        acc[d] = test_acc
        report.number(f"b_test_acc_d{d}", test_acc, headline=True)
        report.number(f"b_train_acc_d{d}", train_acc)
        report.number(f"b_final_loss_d{d}", final_loss)
        report.number(f"b_mask_weight_d{d}", v.sum(axis=1))
        rows.append(
            [
                d,
                10 * d,
                " ".join(str(w) for w in v.sum(axis=1)),
                f"{final_loss.mean():.3f} ± {final_loss.std():.3f}",
                f"{train_acc.mean():.3f} ± {train_acc.std():.3f}",
                f"{test_acc.mean():.3f} ± {test_acc.std():.3f} "
                f"[{test_acc.min():.3f}, {test_acc.max():.3f}]",
                cell["test_inputs"],
            ]
        )
    fig, axes = new_figure(size=(7.0, 4.2))
    draw_curves(
        axes[0, 0], curves, max(10, T // 500), f"(b) SGD on the hinge loss, k = 10d, {S} seeds"
    )
    report.figure(
        fig,
        "b_loss_curves.png",
        f"(b) Training loss for d = {', '.join(map(str, cfg['dims']))}: mean "
        f"over {S} seeds (own mask and init each), band = min..max over seeds.",
    )
    report.table(
        f"(b) SGD on parity, {T} iterations (mean ± std over {S} seeds)",
        [
            "d",
            "k",
            "|v| per seed",
            "train loss (last 1000 steps)",
            "train acc (last 1000 steps)",
            "test acc [min, max]",
            "test inputs",
        ],
        rows,
        note=f"Batch size {B} fresh examples per step, learning rate {lr}, plain "
        "gradient descent on the mean hinge loss, PyTorch's default nn.Linear "
        "initialisation U(±1/sqrt(fan_in)) for all weights and biases, float32. "
        "Train loss and accuracy: averages over the batches of the last 1000 "
        "steps, each measured before that step's update (every batch is fresh, "
        "so they estimate the same quantities as on test data). Test accuracy: "
        "the final network. The document gives no reference numbers.",
    )
    small, large = min(cfg["dims"]), max(cfg["dims"])
    thr = cfg["learned_acc"]
    report.check(
        bool(np.all(acc[small] >= thr)),
        f"(b) d = {small} is learned: accuracy >= {thr} on all 2^{small} inputs for every seed",
        f"accuracies {np.round(acc[small], 4).tolist()}",
    )
    n_test = 10_000 if large > 14 else 2**large
    band = 4 * 0.5 / np.sqrt(n_test)
    # "In some cases not learning" (the document): most runs stay at chance. Not every run:
    # a full run (seed 2) had one run of five reach 0.87 test accuracy on d = 30.
    at_chance = np.abs(acc[large] - 0.5) <= band
    report.check(
        bool(at_chance.sum() > at_chance.size / 2),
        f"(b) d = {large} is not learned: test accuracy at chance for most runs (more than half)",
        f"{int(at_chance.sum())} of {at_chance.size} runs within |acc - 0.5| <= {band:.3f} "
        f"(4 binomial standard deviations on {n_test} inputs); accuracies "
        f"{np.round(acc[large], 4).tolist()}",
    )


# ------------------------------------------------------------ (c) population gradients
def per_example_gradients(params: dict, x: np.ndarray) -> np.ndarray:
    """grad_p f_p(x_n) for every row of x, flattened in the order W, b, alpha, beta:
    (n, P), P = dk + 2k + 1: the gradient of one example's output, vmapped over the rows."""
    n = x.shape[0]
    output = ad.grad(lambda p, xi: ad.sum(two_layer(p, xi[None])))
    g = ad.vmap(output, in_axes=(None, 0))(params, x)
    return np.concatenate([g[key].reshape(n, -1) for key in ("W", "b", "alpha", "beta")], 1)


def flatten_params(p: dict) -> np.ndarray:
    return np.concatenate([np.ravel(p[key]) for key in ("W", "b", "alpha", "beta")])


def population_risk(params: dict, x: np.ndarray, y: np.ndarray):
    """R(p) = mean over all inputs of the hinge loss (x all 2^d inputs)."""
    return ad.mean(hinge(two_layer(params, x), y))


def spread_stats(params: dict, d: int, rng: np.random.Generator) -> dict:
    """The population-risk gradient for every mask v in {0,1}^d at parameters p.

    Returns E_v |grad R(p) - a|^2, |a|^2, E_x|g|^2 / 2^d (equal to the former by Parseval),
    the document's bound P c_p^2 / 2^d, and a cross-check against the engine's direct
    gradient of R for three masks."""
    x = all_inputs(d)
    masks = x.astype(np.int64)
    n = x.shape[0]
    f = _array(two_layer(params, x))  # (n,)
    G = per_example_gradients(params, x)  # (n, P)
    below = (f < 1).astype(float)  # 1_1(f): the hinge is active for y = +1
    above = (f > -1).astype(float)  # 1_1(-f): active for y = -1
    a = -((below - above) / 2) @ G / n
    Y = parity_labels(x[None], masks)  # (m, n)
    # d/dp hinge(f, y) = -y 1[y f < 1] grad f, and 1[y f < 1] is `below` or `above`
    grads = (-Y * np.where(Y > 0, below, above)) @ G / n  # (m, P)
    spread = np.sum((grads - a) ** 2, axis=1)
    g_doc = -((below + above) / 2)[:, None] * G  # grad R = a + E_x[(-1)^(v.x) g_doc(x)]
    c_p = np.abs(G).max()
    check = [0, len(masks) - 1, int(rng.integers(len(masks)))]
    direct = np.stack([flatten_params(ad.grad(population_risk)(params, x, Y[m])) for m in check])
    return {
        "d": d,
        "P": G.shape[1],
        "spread_mean": spread.mean(),
        "parseval": np.mean(np.sum(g_doc**2, axis=1)) / n,
        "a_sq": float(a @ a),
        "bound": G.shape[1] * c_p**2 / n,
        "outside": float(np.mean(np.abs(f) >= 1)),
        "direct_rel_err": np.abs(direct - grads[check]).max() / np.abs(direct).max(),
    }


def gradient_cell(d: int, cfg: dict, rng: np.random.Generator) -> tuple[dict, dict]:
    """(c) for one input dimension d: spread_stats at a random p of width grad_width and at
    the same p with the output layer scaled by grad_output_scale."""
    k, scale = cfg["width"], cfg["output_scale"]
    params = init_two_layer(rng, d, k)
    scaled = dict(params, alpha=scale * params["alpha"], beta=scale * params["beta"])
    return spread_stats(params, d, rng), spread_stats(scaled, d, rng)


def gradient_information(report: Report, cfg: dict, cells: dict) -> None:
    """Report (c) from {d: gradient_cell(d, ...)}."""
    k, scale = cfg["width"], cfg["output_scale"]
    dims = np.array(cfg["dims"])
    series: dict[str, list] = {
        "default": [cells[int(d)][0] for d in dims],
        "scaled": [cells[int(d)][1] for d in dims],
    }

    fits = {}
    for name, res in series.items():
        spread = np.array([r["spread_mean"] for r in res])
        tight = np.array([r["parseval"] for r in res]) * 2.0**dims
        fits[name] = (*np.polyfit(dims, np.log2(spread), 1), np.polyfit(dims, np.log2(tight), 1)[0])
        for key in ("spread_mean", "parseval", "bound", "a_sq", "outside", "direct_rel_err"):
            report.number(f"c_{name}_{key}", [r[key] for r in res])
        report.number(f"c_{name}_slope_log2", fits[name][0], headline=name == "default")
        report.number(f"c_{name}_slope_log2_Cp", fits[name][2])
    report.number("c_dims", dims)

    rows = [
        [
            r0["d"],
            r0["P"],
            r0["spread_mean"],
            r0["parseval"],
            r0["bound"],
            r1["a_sq"],
            r1["spread_mean"],
            r1["spread_mean"] / r1["a_sq"],
            r1["outside"],
            f"{max(r0['direct_rel_err'], r1['direct_rel_err']):.0e}",
        ]
        for r0, r1 in zip(series["default"], series["scaled"], strict=False)
    ]
    report.table(
        f"(c) Population-risk gradient over all 2^d masks v at a fixed random p (k = {k})",
        [
            "d",
            "P",
            "E_v |∇R - a|²",
            "E_x|g|²/2^d",
            "P c_p²/2^d",
            f"×{scale:g}: |a|²",
            f"×{scale:g}: E_v |∇R - a|²",
            f"×{scale:g}: ratio",
            f"×{scale:g}: share |f| >= 1",
            "engine check",
        ],
        rows,
        note="Left columns: p drawn from the default initialisation of (b) (k fixed so "
        "the architecture changes with d only through the input layer). There "
        "|f| < 1 on every input, so 1_1(f) = 1_1(-f) = 1 and a = 0: the whole "
        "gradient is the mask-dependent part. Columns '×10': the same p with "
        "output weights and bias times 10, so that |f| >= 1 on part of the inputs "
        "and a ≠ 0; 'ratio' is E_v|∇R - a|²/|a|², how much of the gradient "
        "depends on v. ∇R for every mask is (coefficients) @ (per-example "
        "gradients ∇_p f(x) of all 2^d inputs, one engine pass); 'engine check' "
        "is the largest relative difference to ad.grad of R computed directly for "
        "three masks. g(x) = -(1_1(f) + 1_1(-f))/2 ∇_p f(x) is the document's "
        "remainder; over all 2^d masks Parseval gives E_v|∇R - a|² = E_x|g|²/2^d "
        "exactly, and |g|² <= P c_p² (c_p = max |∂f/∂p_j|) gives the document's "
        "bound.",
    )
    slope, _, slope_c = fits["default"]
    report.text(
        f"(c) Fitted slope of log2 E_v|∇R - a|² against d (d = {dims[0]}..{dims[-1]}): "
        f"**{slope:.3f}** at the default initialisation, {fits['scaled'][0]:.3f} with "
        f"the output layer ×{scale:g}. The document's bound predicts -1 for a constant "
        f"C_p; the tight constant E_x|g|² itself changes with d (fitted log2-slopes "
        f"{slope_c:.3f} and {fits['scaled'][2]:.3f}), which accounts for the difference."
    )

    fig, axes = new_figure(ncols=2, size=(6.0, 4.4))
    for ax, name, title in zip(
        axes[0],
        ("default", "scaled"),
        ("default initialisation (a = 0)", f"output layer ×{scale:g} (a ≠ 0)"),
        strict=False,
    ):
        res = series[name]
        s, c, _ = fits[name]
        ax.semilogy(
            dims,
            [r["spread_mean"] for r in res],
            "o-",
            label=r"$E_v|\nabla R(p) - a|^2$ (measured)",
        )
        ax.semilogy(
            dims, [r["parseval"] for r in res], "x--", label=r"$E_x|g(x)|^2 / 2^d$ (tight $C_p$)"
        )
        ax.semilogy(
            dims, [r["bound"] for r in res], "s:", label=r"$P\,c_p^2 / 2^d$ (document's $C_p$)"
        )
        if name == "scaled":
            ax.semilogy(dims, [r["a_sq"] for r in res], "^-", label=r"$|a|^2$ (same for every v)")
        ax.semilogy(
            dims, 2.0 ** (c + s * dims), "k-", lw=0.8, label=f"fit: slope {s:.2f} (log2 per unit d)"
        )
        ax.set_xlabel("input dimension d")
        ax.set_ylabel("squared norm")
        ax.set_title(f"(c) p at {title}", fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    report.figure(
        fig,
        "c_gradient_spread.png",
        "(c) How much the population-risk gradient depends on the mask v: mean over "
        "all masks of |∇R(p) - a|², next to the document's C_p/2^d, at two random p.",
    )

    res_all = series["default"] + series["scaled"]
    err = max(r["direct_rel_err"] for r in res_all)
    report.check(
        err < 1e-10,
        "(c) the batched per-mask gradients equal the engine's direct gradient of R",
        f"max relative difference {err:.1e} (round-off: < 1e-10)",
    )
    rel = max(abs(r["spread_mean"] - r["parseval"]) / r["parseval"] for r in res_all)
    report.check(
        rel < 1e-9,
        "(c) E_v|∇R - a|² = E_x|g|²/2^d over all masks (the document's "
        "fact (2) holds with equality: Parseval)",
        f"max relative difference {rel:.1e} (round-off: < 1e-9)",
    )
    report.check(
        all(r["spread_mean"] <= r["bound"] for r in res_all),
        "(c) E_v|∇R - a|² <= C_p / 2^d with the document's C_p = P c_p²",
        "every d, both parameter points",
    )
    report.check(
        abs(slope + 1) <= 0.15,
        "(c) the mask-dependent part of the gradient decays "
        "like 2^-d: fitted log2-slope of E_v|∇R - a|² against d is -1 ± 0.15 "
        "(default initialisation)",
        f"slope {slope:.3f}; the tolerance covers the drift of the tight C_p "
        f"(its fitted log2-slope is {slope_c:.3f}) plus 0.05 for fit noise",
    )
    report.check(
        fits["scaled"][0] <= -0.5,
        "(c) with a ≠ 0 (output layer ×10) the "
        "mask-dependent part still decays exponentially, at least like 2^(-d/2)",
        f"slope {fits['scaled'][0]:.3f} <= -0.5; C_p drifts faster here "
        f"(log2-slope {fits['scaled'][2]:.3f}) because ∂f/∂W scales with the output "
        "weights and |x|",
    )


# ------------------------------------------------------------- (d) deep sigmoid networks
def mlp(params: dict, x, depth: int, act: Callable):
    """Fully connected net with `depth` hidden layers; params "W0".."W{depth}" (S, out, in),
    "b0".. (S, out); x (S, n, d) -> (S, n)."""
    h = x
    for layer in range(depth + 1):
        h = h @ ad.swapaxes(params[f"W{layer}"], -1, -2) + params[f"b{layer}"][..., None, :]
        if layer < depth:
            h = act(h)
    return h[..., 0]


def init_mlp(rng: np.random.Generator, sizes: list, S: int, dtype=TRAIN_DTYPE) -> dict:
    p = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        p[f"W{layer}"] = torch_default_init(rng, fan_in, (S, fan_out, fan_in)).astype(dtype)
        p[f"b{layer}"] = torch_default_init(rng, fan_in, (S, fan_out)).astype(dtype)
    return p


def layer_gradient_norms(model: Callable, params: dict, x: np.ndarray, depth: int) -> np.ndarray:
    """Root mean square over the inputs x (S, n, d) of |df(x)/dW_l|_F, per layer and network:
    (depth + 1, S).  Every loss gradient is a label-weighted sum of these per-example
    gradients (for the hinge loss, -y df/dW_l wherever y f < 1)."""
    output = ad.grad(lambda p, xi: ad.sum(model(p, xi)))  # xi (S, 1, d): one input per net
    g = ad.vmap(output, in_axes=(None, 1))(params, x[:, :, None, :])  # over the n inputs
    n, S = x.shape[1], x.shape[0]
    total = np.stack(
        [np.sum(g[f"W{i}"].reshape(n, S, -1) ** 2, axis=(0, 2)) for i in range(depth + 1)]
    )
    return np.sqrt(total / n)


def deep_tasks(cfg: dict) -> dict:
    """(d)'s two fixed masks (a random one is trivial with probability 1/32 at d = 5): the
    parity of the first two bits and the full parity."""
    d = cfg["d"]
    return {"2-bit": np.arange(d) < 2, f"{d}-bit": np.ones(d, bool)}


def deep_runs(cfg: dict) -> list[tuple[str, int, bool]]:
    """(d)'s networks: (activation, hidden layers, trained?); the deep ReLU net is only
    measured at initialisation."""
    Lmax = max(cfg["depths"])
    return (
        [("relu", 1, True)]
        + [("sigmoid", L, True) for L in cfg["depths"]]
        + [("relu", Lmax, False)]
    )


def deep_cell(run: tuple[str, int, bool], cfg: dict, rng: np.random.Generator) -> dict:
    """(d) for one network kind `run` (activation, hidden layers, trained?): 2S networks,
    0..S-1 on the first task of deep_tasks, S..2S-1 on the second.  Returns the per-layer
    gradient norms at initialisation (L + 1, 2S) and, when trained, the loss curves (T, 2S),
    the accuracies on all 2^d inputs (2S,) and, for the deepest sigmoid network, the batch
    gradient norm of every weight matrix at every step (T, L + 1, 2S)."""
    d, S, T, B = cfg["d"], cfg["seeds"], cfg["iters"], cfg["batch"]
    act_name, L, train = run
    v = np.repeat(np.array(list(deep_tasks(cfg).values()), np.int64), S, axis=0)  # (2S, d)
    xt, yt, _ = test_set(rng, v)  # all 2^d inputs

    def model(p, x):
        return mlp(p, x, L, getattr(ad, act_name))

    params = init_mlp(rng, [d] + [10 * d] * L + [1], 2 * S)
    # per-example gradients (all 2^d inputs) per layer at initialisation
    out: dict[str, Any] = {"at_init": layer_gradient_norms(model, params, xt, L)}
    if not train:
        return out
    watched = act_name == "sigmoid" and L == max(cfg["depths"])

    def watch(g):
        return [np.linalg.norm(g[f"W{i}"].reshape(2 * S, -1), axis=1) for i in range(L + 1)]

    params, history, norms = sgd(
        mean_hinge(model),
        params,
        parity_sampler(rng, v, B),
        T,
        cfg["lr"],
        desc=f"(d) {act_name}, {L} hidden",
        watch=watch if watched else None,
    )
    out.update(curve=history["loss"], acc=accuracy(model, params, xt, yt))
    if watched:
        out["norms"] = np.array(norms)
    return out


def deep_sigmoid(report: Report, cfg: dict, cells: dict) -> None:
    """Report (d) from {run: deep_cell(run, ...)} for the runs of deep_runs(cfg)."""
    d, S, T, B = cfg["d"], cfg["seeds"], cfg["iters"], cfg["batch"]
    lr, width, Lmax = cfg["lr"], 10 * d, max(cfg["depths"])
    tasks = deep_tasks(cfg)
    curves: dict[str, dict] = {task: {} for task in tasks}
    rows, at_init, acc = [], {}, {}
    for run in deep_runs(cfg):
        act_name, L, train = run
        cell = cells[run]
        label = f"{act_name}, {L} hidden"
        at_init[label] = cell["at_init"]
        ratio = at_init[label][0] / at_init[label][L - 1]
        report.number(f"d_grad_norms_init_{act_name}_L{L}", at_init[label].mean(axis=1))
        grads = (
            [f"{np.median(ratio):.2e}", f"{np.median(ratio) ** (1 / (L - 1)):.3f}"]
            if L > 1
            else ["-", "-"]
        )
        if not train:
            rows.append([act_name, L] + ["(not trained)", "", "", ""] + grads)
            continue
        curve, acc_all = cell["curve"], cell["acc"]
        final = curve[-min(1000, T) :].mean(axis=0)
        row = [act_name, L]
        for i, task in enumerate(tasks):
            part = slice(i * S, (i + 1) * S)
            curves[task][label] = curve[:, part]
            acc[task, label] = acc_all[part]
            row += [
                f"{final[part].mean():.3f} ± {final[part].std():.3f}",
                f"{acc_all[part].mean():.3f} [{acc_all[part].min():.3f}, "
                f"{acc_all[part].max():.3f}]",
            ]
            report.number(f"d_acc_{task}_{act_name}_L{L}", acc_all[part])
        rows.append(row + grads)
    watched = cells["sigmoid", Lmax, True]["norms"]  # (T, L+1, 2S)
    names = list(tasks)
    report.table(
        f"(d) Deeper sigmoid networks on parities of d = {d} bits (width {width}, "
        f"{T} iterations, {S} seeds per task)",
        [
            "activation",
            "hidden layers",
            f"{names[0]}: final loss",
            f"{names[0]}: accuracy [min, max]",
            f"{names[1]}: final loss",
            f"{names[1]}: accuracy [min, max]",
            "|∂f/∂W_1| / |∂f/∂W_L| at init (median)",
            "per-layer factor",
        ],
        rows,
        note=f"SGD as in (b) (batch {B}, PyTorch default initialisation, float32) "
        f"but with learning rate {lr}, 4 times that of (b), because the "
        "sigmoid's slope is at most 1/4. Tasks: y = (-1)^(x1 + x2) (2-bit) and the "
        f"parity of all {d} bits; accuracy on all 2^d inputs, final loss = mean "
        "over the last 1000 steps. Gradient ratio: root mean square over all "
        "2^d inputs of the per-example gradient |∂f(x)/∂W_l|_F, first over last "
        "hidden layer, at initialisation; per-layer factor = ratio^(1/(L-1)).",
    )

    deepest = f"sigmoid, {Lmax} hidden"
    fig, axes = new_figure(ncols=2, size=(6.0, 4.4))
    ax = axes[0, 0]
    for label, norms in at_init.items():
        style = "--" if label.startswith("relu") else "-"
        ax.semilogy(np.arange(1, len(norms) + 1), norms.mean(axis=1), "o" + style, label=label)
    ax.set_xlabel("layer l (1 = first hidden, last = output weights)")
    ax.set_ylabel(r"RMS over x of $\|\partial f(x) / \partial W_l\|_F$ at init")
    ax.set_title("(d) Gradient size per layer at init", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    window = max(10, T // 500)
    for layer in range(Lmax + 1):
        sm = smooth(watched[:, layer, :].mean(axis=1, keepdims=True), window)[:, 0]
        ax.semilogy(np.arange(len(sm)) + window, sm, label=f"W{layer + 1}")
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"batch $\|\partial R / \partial W_l\|_F$ (running mean)")
    ax.set_title(f"(d) During training: {deepest} layers", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    report.figure(
        fig,
        "d_gradient_per_layer.png",
        "(d) Left: size of the per-example gradient of the output per weight matrix "
        "at initialisation (root mean square over all 2^d inputs, mean over "
        "networks). Right: the batch gradients per layer during training of the "
        "deepest sigmoid network (mean over networks).",
    )
    fig, axes = new_figure(ncols=2, size=(6.0, 4.4))
    for ax, task in zip(axes[0], tasks, strict=False):
        draw_curves(ax, curves[task], window, f"(d) {task} parity, d = {d}")
    fig.tight_layout()
    report.figure(
        fig,
        "d_loss_curves.png",
        "(d) Training loss of the one-hidden-layer ReLU network of (b) and of sigmoid "
        "networks of increasing depth on two parities; mean over seeds, band = "
        "min..max.",
    )

    ratio = at_init[deepest][0] / at_init[deepest][Lmax - 1]
    report.check(
        bool(np.all(ratio < 1e-3)),
        f"(d) in the {Lmax}-hidden-layer sigmoid network the first layer's gradient is "
        "over 1000 times smaller than the last hidden layer's at initialisation "
        "(per-example gradient of f, RMS over all inputs)",
        f"ratios {np.array2string(ratio, precision=2)}; sigmoid' <= 1/4 and the "
        "default init has spectral norm about 2/sqrt(3) = 1.15, so each layer "
        f"scales the backpropagated signal by about 0.29 or less: 0.29^{Lmax - 1} = "
        f"{0.29 ** (Lmax - 1):.1e}",
    )
    shallow, relu = "sigmoid, 1 hidden", "relu, 1 hidden"
    learned, chance = 0.85, 0.75
    report.check(
        bool(
            np.all(acc[names[0], shallow] >= learned) and np.all(acc[names[0], deepest] <= chance)
        ),
        f"(d) depth alone: on the {names[0]} parity the one-hidden-layer sigmoid "
        f"network learns, the {Lmax}-hidden-layer one stays at chance (same SGD, "
        "learning rate and budget)",
        f"accuracies {np.round(acc[names[0], shallow], 3).tolist()} >= {learned} "
        f"(28 of 32 inputs) and {np.round(acc[names[0], deepest], 3).tolist()} <= "
        f"{chance} (24 of 32)",
    )
    report.check(
        bool(np.all(acc[names[1], relu] >= learned) and np.all(acc[names[1], deepest] <= chance)),
        f"(d) on the {names[1]} parity the {Lmax}-hidden-layer sigmoid network stays "
        "at chance while the one-hidden-layer ReLU network of (b) learns",
        f"ReLU accuracies {np.round(acc[names[1], relu], 3).tolist()} >= {learned}; "
        f"deep sigmoid {np.round(acc[names[1], deepest], 3).tolist()} <= {chance}",
    )


# ----------------------------------------------------------------------------- main
def run_cell(part: str, cell: Any, cfg: dict, seed: int) -> Any:
    """One task of the grid: part "b", "c" or "d" for its cell (an input dimension or a
    network kind of deep_runs) with that part's settings `cfg` and the random stream of
    that cell alone."""
    fn = {"b": learning_cell, "c": gradient_cell, "d": deep_cell}[part]
    return fn(cell, cfg, cell_rng(seed, "parity", part, cell))


def main(argv: list[str] | None = None) -> Report:
    p = parser(NAME, DESCRIPTION)
    add_parallel_args(p, what="the cells of (b), (c) and (d)")
    args: argparse.Namespace = p.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    report = Report(NAME, args, SOURCE, DESCRIPTION)
    report.number("config", cfg)
    capacity(report, cfg["capacity"], cell_rng(args.seed, "parity", "a"))
    # the longest cells first: SGD on the largest d, the deep networks
    settings = {"b": cfg["learning"], "c": cfg["gradients"], "d": cfg["deep"]}
    cells = [("b", d) for d in sorted(settings["b"]["dims"], reverse=True)]
    cells += [("d", run) for run in deep_runs(settings["d"])]
    cells += [("c", d) for d in settings["c"]["dims"]]
    tasks = {(part, cell): (part, cell, settings[part], args.seed) for part, cell in cells}
    with Executor.from_args(args) as ex:
        results = ex.run(run_cell, tasks, desc="cells")
    stop_on_failures(report, results)
    done = {part: {} for part in "bcd"}
    for (part, cell), result in results.items():
        done[part][cell] = result.value
    learning(report, settings["b"], done["b"])
    gradient_information(report, settings["c"], done["c"])
    deep_sigmoid(report, settings["d"], done["d"])
    report.write()
    return report


if __name__ == "__main__":
    main()
