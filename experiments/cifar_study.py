"""CIFAR-10 study (doc 000, question 4): how hard the problem looks in 2-D (PCA and CCA
embeddings), a linear-regression classifier, ResNet-18 with batch normalisation and data
augmentation, and three learning-rate schemes (constant, annealed, one-cycle) compared over
one epoch, then a longer run with the best of them.

Data: as in the document, every training image is used for training and the official test
batch (10,000 images) is the validation set: the document's "50,000 training images and
10,000 validation images" are CIFAR-10's two official splits.  The training images are the
official batches, or the exact subset of them (38,646) that
`experiments._data.cifar10_splits` falls back to.  Images are (n, 3, 32, 32) uint8; the
linear methods see them as (n, 3072) vectors in [0, 1], the network as per-channel
standardised float32.

Seeds: the learning-rate schemes are compared over several seeds (default 3 in full runs:
--seed, --seed + 1, --seed + 2; or --seeds LIST): each seed draws its own training subset,
initial weights and batch order, shared by the three schemes, and the table gives mean ± sd
and whether the differences between schemes exceed the spread.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import autodiff as ad
import datasets
import nn
import optim
from experiments import _seeds
from experiments._data import add_data_arguments, cifar10_splits
from experiments._resnet import layer_summary, resnet18
from experiments.common import Report, new_figure, new_panel, parser
from experiments.parallel import Executor, add_parallel_args, stop_on_failures

NAME = "cifar_study"
DESCRIPTION = (
    "CIFAR-10: PCA/CCA embeddings, linear regression as a classifier, ResNet-18 "
    "with batch norm and augmentation, constant/annealed/one-cycle learning rates"
)
SOURCE = "000_1157cdecf8ac0012.txt"
DATA = "cifar10"

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SCHEMES = ("constant", "annealed", "one-cycle")
RESNET18_PARAMETERS = 11_173_962  # the CIFAR ResNet-18 (widths 64/128/256/512, 10 classes)

# Sized for a shared 2-core machine; the document trains on 50,000 images for hours.
# Measured with OPENBLAS_NUM_THREADS=1 while two other training processes shared the two
# cores: ResNet-18 (width 64, batch 32) trains at about 80 ms per image and scores 512
# validation images in about 15 s, so the scheme comparison, 3 seeds x 3 schemes x one
# epoch of 2,048 images (64 steps) plus 512 validation images each, fits about 30 minutes.
# Each setting: (full run, --quick run).
SIZES = dict(
    embed_plot_n=(3000, 200),
    subset_train=(2048, 96),
    subset_val=(512, 32),
    width=(64, 4),
    batch_size=(32, 16),
    scheme_seeds=(3, 2),
    long_train=(1536, 64),
    long_val=(500, 32),
    long_epochs=(3, 2),
    test_n=(1000, 64),
)
FULL = {key: full for key, (full, _) in SIZES.items()}
QUICK = {key: quick for key, (_, quick) in SIZES.items()}


# ------------------------------------------------------------------ linear methods
def _flat(x: np.ndarray) -> np.ndarray:
    """uint8 images (n, 3, 32, 32) -> float64 vectors (n, 3072) in [0, 1]."""
    return x.reshape(len(x), -1).astype(np.float64) / 255.0


def centred_statistics(
    x: np.ndarray, y_onehot: np.ndarray, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean mu (d,), eigenvalues lam (r,) and eigenvectors V (d, r) of the centred scatter
    matrix Xc^T Xc (only those above 1e-10 of the largest), and Xc^T Yc (d, k).

    x: uint8 images (n, ...); y_onehot (n, k).  With n >= d the d x d scatter matrix is
    accumulated in chunks; otherwise the n x n Gram matrix Xc Xc^T is decomposed (the
    eigenvectors are then mapped back: V = Xc^T U / sqrt(lam))."""
    n = len(x)
    d = int(np.prod(x.shape[1:]))
    yc = y_onehot - y_onehot.mean(axis=0)
    if n >= d:
        mu = np.zeros(d)
        for s in range(0, n, chunk):
            mu += _flat(x[s : s + chunk]).sum(axis=0)
        mu /= n
        scatter = np.zeros((d, d))
        xty = np.zeros((d, y_onehot.shape[1]))
        for s in range(0, n, chunk):
            xc = _flat(x[s : s + chunk]) - mu
            scatter += xc.T @ xc
            xty += xc.T @ yc[s : s + chunk]
        lam, vecs = np.linalg.eigh(scatter)
    else:
        xc = _flat(x)
        mu = xc.mean(axis=0)
        xc -= mu
        xty = xc.T @ yc
        lam, u = np.linalg.eigh(xc @ xc.T)
        keep = lam > lam[-1] * 1e-10
        lam, u = lam[keep], u[:, keep]
        vecs = xc.T @ u / np.sqrt(lam)
    order = np.argsort(lam)[::-1]
    lam, vecs = lam[order], vecs[:, order]
    keep = lam > lam[0] * 1e-10
    return mu, lam[keep], vecs[:, keep], xty


def cca_directions(
    lam: np.ndarray,
    vecs: np.ndarray,
    xty: np.ndarray,
    y_onehot: np.ndarray,
    ridge: float,
    k: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """The first k canonical directions of the images (d, k) against the one-hot labels, and
    their canonical correlations (k,).  Sxx is regularised by ridge * trace(Sxx) / d; the
    label covariance (rank k - 1 after centring) is pseudo-inverted."""
    n, d = len(y_onehot), vecs.shape[0]
    sxx = lam / n
    reg = ridge * sxx.sum() / d
    sxy = vecs.T @ xty / n  # (r, k_classes) in the V basis
    yc = y_onehot - y_onehot.mean(axis=0)
    ly, uy = np.linalg.eigh(yc.T @ yc / n)
    good = ly > ly.max() * 1e-10
    syy_inv_sqrt = (uy[:, good] / np.sqrt(ly[good])) @ uy[:, good].T
    whitened = (sxy / np.sqrt(sxx + reg)[:, None]) @ syy_inv_sqrt
    u, corr, _ = np.linalg.svd(whitened, full_matrices=False)
    directions = vecs @ (u[:, :k] / np.sqrt(sxx + reg)[:, None])
    return directions, corr[:k]


def embed(x: np.ndarray, mu: np.ndarray, directions: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """(x - mu) @ directions for uint8 images x: (n, d') -> (n, k)."""
    return np.concatenate(
        [(_flat(x[s : s + chunk]) - mu) @ directions for s in range(0, len(x), chunk)]
    )


def nearest_centroid_accuracy(
    z_train: np.ndarray, y_train: np.ndarray, z: np.ndarray, y: np.ndarray, classes: int = 10
) -> float:
    """Accuracy of assigning each row of z to the nearest class mean of z_train."""
    centroids = np.stack([z_train[y_train == c].mean(axis=0) for c in range(classes)])
    dist = ((z[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    return float(np.mean(dist.argmin(axis=1) == y))


def fisher_ratio(z: np.ndarray, y: np.ndarray, classes: int = 10) -> float:
    """trace(between-class scatter) / trace(within-class scatter) of an embedding z (n, k)."""
    mean = z.mean(axis=0)
    between = sum(
        np.sum(y == c) * np.sum((z[y == c].mean(axis=0) - mean) ** 2) for c in range(classes)
    )
    within = sum(np.sum((z[y == c] - z[y == c].mean(axis=0)) ** 2) for c in range(classes))
    return float(between / within)


def linear_regression_weights(
    mu: np.ndarray, lam: np.ndarray, vecs: np.ndarray, xty: np.ndarray, y_mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of one-hot labels on images with an intercept: W (d, k), b (k,) with
    W = pinv(Xc^T Xc) Xc^T Yc (the minimum-norm solution when Xc^T Xc is singular)."""
    w = vecs @ ((vecs.T @ xty) / lam[:, None])
    return w, y_mean - mu @ w


def predict_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray, chunk: int = 4096) -> np.ndarray:
    return np.concatenate(
        [np.argmax(_flat(x[s : s + chunk]) @ w + b, axis=1) for s in range(0, len(x), chunk)]
    )


# ---------------------------------------------------------------------- ResNet training
def standardiser(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std (1, 3, 1, 1) of uint8 images scaled to [0, 1]."""
    scaled = x_train.astype(np.float64) / 255.0
    return (
        scaled.mean(axis=(0, 2, 3)).reshape(1, 3, 1, 1).astype(np.float32),
        scaled.std(axis=(0, 2, 3)).reshape(1, 3, 1, 1).astype(np.float32),
    )


def make_scheduler(
    scheme: str, opt: optim.Optimizer, lr: float, total_steps: int, anneal_final: float
) -> optim.schedules.LRScheduler:
    """constant: lr throughout; annealed: multiplied by gamma after every batch, with gamma
    chosen so the rate reaches lr * anneal_final at the end; one-cycle: OneCycleLR peaking
    at lr (PyTorch's defaults: 30% warm-up from lr / 25, then down to lr / 2.5e5)."""
    if scheme == "constant":
        return optim.schedules.ConstantLR(opt)
    if scheme == "annealed":
        return optim.schedules.ExponentialLR(opt, gamma=anneal_final ** (1.0 / total_steps))
    if scheme == "one-cycle":
        return optim.schedules.OneCycleLR(opt, max_lr=lr, total_steps=total_steps)
    raise ValueError(f"unknown learning-rate scheme {scheme!r}; choose from {SCHEMES}")


def _standardise(mean: np.ndarray, std: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """uint8 images (b, 3, 32, 32) -> float32, per-channel standardised."""
    return lambda xb: (xb.astype(np.float32) / 255.0 - mean) / std


def _cross_entropy(batch: int) -> Callable[[np.ndarray, np.ndarray], float]:
    """Mean cross-entropy of logits (n, 10), as the mean of the `batch`-row blocks' means
    weighted by their sizes (the batches evaluated)."""

    def metric(logits: np.ndarray, y: np.ndarray) -> float:
        loss = 0.0
        for s in range(0, len(y), batch):
            part = ad.tensor(logits[s : s + batch])
            loss += float(nn.functional.cross_entropy(part, y[s : s + batch]).data) * len(part)
        return loss / len(y)

    return metric


def evaluate(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    batch: int = 250,
) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of the model in eval mode on uint8 images x."""
    metrics = {"acc": nn.metrics.accuracy, "loss": _cross_entropy(batch)}
    scores = nn.training.evaluate(
        model, {"val": (x, y)}, metrics, batch, transform=_standardise(mean, std)
    )
    return scores["val_acc"], scores["val_loss"]


def train(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    scheme: str,
    cfg: dict,
    epochs: int,
    desc: str,
    seed: int,
) -> dict:
    """SGD (momentum 0.9, weight decay 5e-4) with augmentation (random crop 32 from the image
    zero-padded by 4, random horizontal flip) under a learning-rate scheme stepped per batch.
    cfg: batch_size, lr, anneal_final; seed: the batch order and augmentation draws.
    Returns per-step lr and loss and per-epoch accuracies, losses and seconds."""
    mean, std = standardiser(x)
    loader = datasets.DataLoader(
        (x, y),
        cfg["batch_size"],
        shuffle=True,
        seed=seed,
        augment=datasets.compose(datasets.random_crop(4), datasets.random_flip()),
    )
    opt = optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9, weight_decay=5e-4)
    sched = make_scheduler(scheme, opt, cfg["lr"], epochs * len(loader), cfg["anneal_final"])
    history = nn.training.fit(
        model,
        nn.functional.cross_entropy,
        opt,
        loader,
        epochs,
        scheduler=sched,
        metrics={"acc": nn.metrics.accuracy},
        eval_splits={"val": (x_val, y_val)},
        eval_metrics={"acc": nn.metrics.accuracy, "loss": _cross_entropy(250)},
        eval_batch_size=250,
        transform=_standardise(mean, std),
        desc=desc,
    )
    epoch = history.epoch
    return {
        "lr": history.step["lr"],
        "loss": history.step["loss"],
        "train_acc": epoch["acc"],
        "train_loss": epoch["loss"],
        "val_acc": epoch["val_acc"],
        "val_loss": epoch["val_loss"],
        "epoch_seconds": epoch["seconds"],
        "mean": mean,
        "std": std,
    }


# ---------------------------------------------------------------------------- plots
def plot_embeddings(report: Report, z_pca: np.ndarray, z_cca: np.ndarray, y: np.ndarray) -> None:
    import matplotlib.pyplot as plt

    fig, axes = new_figure(2, 1, size=(6.5, 5.5))
    colours = plt.get_cmap("tab10")
    for ax, z, title in (
        (axes[0, 0], z_pca, "PCA: top two principal components"),
        (axes[0, 1], z_cca, "CCA with one-hot labels: top two directions"),
    ):
        for c, name in enumerate(CLASSES):
            pts = z[y == c]
            ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.5, color=colours(c), label=name)
        ax.set_title(title)
        ax.set_xlabel("component 1")
        ax.set_ylabel("component 2")
    axes[0, 1].legend(markerscale=4, fontsize=8, loc="best")
    fig.suptitle(f"CIFAR-10 training images in 2-D ({len(y)} shown)")
    report.figure(
        fig,
        "embeddings.png",
        "2-D PCA and CCA embeddings of CIFAR-10 training images, coloured by class",
    )


def plot_architecture(report: Report, rows: list, width: int) -> None:
    """A block diagram of the network: one box per stage, with output shape and parameters."""
    from matplotlib.patches import FancyBboxPatch

    stages = [("input image", (3, 32, 32), 0)]
    by_name = {r[0]: r for r in rows}
    stem = sum(by_name[n][3] for n in ("conv1", "bn1"))
    stages.append((f"conv 3x3, {width} + BN + ReLU", by_name["bn1"][2][1:], stem))
    for s in range(1, 5):
        blocks = [by_name[f"layer{s}.{b}"] for b in range(2)]
        c = blocks[-1][2][1]
        label = (
            f"stage {s}: 2 basic blocks\n(conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU)"
            + ("\nfirst block stride 2, 1x1 conv shortcut" if s > 1 else "")
            + f"\nwidth {c}"
        )
        stages.append((label, blocks[-1][2][1:], sum(b[3] for b in blocks)))
    stages.append(("global average pooling", by_name["avgpool"][2][1:], 0))
    stages.append(("linear", by_name["linear"][2][1:], by_name["linear"][3]))
    fig, ax = new_panel(size=(7.5, 10.5))
    n = len(stages)
    for i, (label, shape, params) in enumerate(stages):
        top = n - i
        ax.add_patch(
            FancyBboxPatch(
                (0.05, top - 0.8),
                0.6,
                0.65,
                boxstyle="round,pad=0.02",
                facecolor="#dbe9f6" if params else "#eeeeee",
                edgecolor="#1f4e79",
            )
        )
        ax.text(0.35, top - 0.47, label, ha="center", va="center", fontsize=8)
        ax.text(
            0.7,
            top - 0.47,
            f"out: {' x '.join(map(str, shape))}\nparams: {params:,}",
            ha="left",
            va="center",
            fontsize=8,
        )
        if i < n - 1:
            ax.annotate(
                "",
                xy=(0.35, top - 0.98),
                xytext=(0.35, top - 0.82),
                arrowprops=dict(arrowstyle="->", color="#1f4e79"),
            )
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, n + 0.2)
    ax.axis("off")
    total = sum(s[2] for s in stages)
    ax.set_title(f"ResNet-18 for CIFAR-10 (width {width}): {total:,} parameters")
    report.figure(
        fig,
        "resnet18_diagram.png",
        "ResNet-18 architecture: output dimensions "
        "(channels x height x width) and parameter counts per stage",
    )


def plot_schemes(report: Report, results: dict) -> None:
    fig, axes = new_figure(2, 1, size=(6.0, 4.0))
    for scheme, hist in results.items():
        steps = np.arange(1, len(hist["lr"]) + 1)
        axes[0, 0].plot(steps, hist["lr"], label=scheme)
        axes[0, 1].plot(steps, hist["loss"], label=scheme, alpha=0.8)
    axes[0, 0].set_title("Learning-rate schemes (one epoch)")
    axes[0, 0].set_xlabel("step (mini-batch)")
    axes[0, 0].set_ylabel("learning rate")
    axes[0, 1].set_title("Training loss (augmented mini-batches)")
    axes[0, 1].set_xlabel("step (mini-batch)")
    axes[0, 1].set_ylabel("cross-entropy")
    for ax in axes[0]:
        ax.legend()
    report.figure(
        fig,
        "lr_schemes.png",
        "One epoch of ResNet-18 training under each learning-rate scheme: rate and loss per step",
    )


def plot_long_run(report: Report, hist: dict, scheme: str) -> None:
    fig, axes = new_figure(2, 1, size=(6.0, 4.0))
    epochs = np.arange(1, len(hist["val_acc"]) + 1)
    axes[0, 0].plot(epochs, hist["train_acc"], "o-", label="training (augmented, running)")
    axes[0, 0].plot(epochs, hist["val_acc"], "s-", label="validation")
    axes[0, 0].set_title(f"ResNet-18, {scheme} learning rate: accuracy")
    axes[0, 0].set_xlabel("epoch")
    axes[0, 0].set_xticks(epochs)
    axes[0, 0].set_ylabel("accuracy")
    axes[0, 0].legend()
    steps = np.arange(1, len(hist["loss"]) + 1)
    axes[0, 1].plot(steps, hist["loss"], alpha=0.5, label="mini-batch loss")
    ax2 = axes[0, 1].twinx()
    ax2.plot(steps, hist["lr"], color="C3", label="learning rate")
    ax2.set_ylabel("learning rate")
    axes[0, 1].set_title("Training loss and learning rate")
    axes[0, 1].set_xlabel("step (mini-batch)")
    axes[0, 1].set_ylabel("cross-entropy")
    lines = axes[0, 1].get_lines() + ax2.get_lines()
    axes[0, 1].legend(lines, [ln.get_label() for ln in lines], loc="upper right")
    report.figure(fig, "long_run.png", "Longer ResNet-18 run with the best scheme")


# ----------------------------------------------------------------------------- main
def _scheme_run(
    seed: int,
    scheme: str,
    cfg: dict,
    x_tr: np.ndarray,
    y_tr: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
) -> dict:
    """One epoch of `scheme` for one seed: the seed picks the training and validation
    subsets, the initial weights and the batch order (the same for the three schemes)."""
    srng = np.random.default_rng([seed, 7])
    pick = srng.permutation(len(y_tr))[: cfg["subset_train"]]
    val_pick = srng.permutation(len(y_val))[: cfg["subset_val"]]
    model = resnet18(width=cfg["width"], rng=seed)
    return train(
        model,
        x_tr[pick],
        y_tr[pick],
        x_val[val_pick],
        y_val[val_pick],
        scheme,
        cfg,
        1,
        f"{scheme} seed {seed}",
        seed=seed,
    )


def build_parser() -> argparse.ArgumentParser:
    p = parser(NAME, DESCRIPTION)
    add_data_arguments(p)
    add_parallel_args(p, what="the (seed, scheme) runs")
    _seeds.add_seed_arguments(
        p
    )  # seeds of the scheme comparison (default: scheme_seeds from --seed)
    p.add_argument(
        "--subset-train",
        type=int,
        default=None,
        help=f"training images for the one-epoch scheme comparison (default "
        f"{FULL['subset_train']}; the document's example is 128)",
    )
    p.add_argument(
        "--subset-val",
        type=int,
        default=None,
        help=f"validation images for the scheme comparison (default "
        f"{FULL['subset_val']}; the document's example is 512)",
    )
    p.add_argument(
        "--width",
        type=int,
        default=None,
        help="first-stage width of the ResNet (64 = ResNet-18; quick: 4)",
    )
    p.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default 32)")
    p.add_argument(
        "--lr",
        type=float,
        default=0.025,
        help="learning rate (constant), initial rate (annealed), peak (one-cycle); "
        "default 0.025, the usual 0.1 for batch 128 scaled to batch 32",
    )
    p.add_argument(
        "--anneal-final",
        type=float,
        default=0.1,
        help="annealed scheme: the rate falls to lr * this by the last step",
    )
    p.add_argument(
        "--cca-ridge",
        type=float,
        default=1e-3,
        help="CCA: ridge added to the image covariance, relative to its mean eigenvalue",
    )
    p.add_argument(
        "--long-train",
        type=int,
        default=None,
        help=f"training images for the longer run (default {FULL['long_train']}; 0 skips it)",
    )
    p.add_argument(
        "--long-val",
        type=int,
        default=None,
        help=f"validation images scored after each epoch of the longer run "
        f"(default {FULL['long_val']})",
    )
    p.add_argument(
        "--long-epochs",
        type=int,
        default=None,
        help=f"epochs of the longer run (default {FULL['long_epochs']})",
    )
    p.add_argument(
        "--test-n",
        type=int,
        default=None,
        help=f"official test images scored after the longer run (default "
        f"{FULL['test_n']}: the first ones of the validation set, the "
        f"official test batch)",
    )
    return p


def _settings(args: argparse.Namespace) -> dict:
    """The run's settings: FULL or QUICK with the command line's overrides, and the
    learning rate and its annealing target (written back to args for the report)."""
    base = QUICK if args.quick else FULL
    settings = {}
    for key, default in base.items():
        value = getattr(args, key, None)
        settings[key] = default if value is None else value
        setattr(args, key, settings[key])
    return {**settings, "lr": args.lr, "anneal_final": args.anneal_final}


def main(argv: list[str] | None = None) -> Report:
    args = build_parser().parse_args(argv)
    cfg = _settings(args)
    report = Report(NAME, args, SOURCE, DESCRIPTION)
    rng = np.random.default_rng(args.seed)

    (x_tr, y_tr), (x_val, y_val), note = cifar10_splits(args.data_root)
    y_tr, y_val = y_tr.astype(np.int64), y_val.astype(np.int64)
    if args.seeds or args.n_seeds is not None:
        scheme_seeds = _seeds.seeds_from_args(args)
    else:
        scheme_seeds = list(range(args.seed, args.seed + cfg["scheme_seeds"]))
    report.number("n_train", len(y_tr))
    report.number("n_val", len(y_val))
    report.number("scheme_seeds", scheme_seeds)
    report.text(
        f"**Data.** The document uses CIFAR-10's 50,000 training images for training "
        f"and its 10,000 other images (the official test batch) for validation. Here: "
        f"training images: {note}; all {len(y_tr):,} of them are used for training"
        + (f" ({50_000 - len(y_tr):,} fewer than the document's)" if len(y_tr) < 50_000 else "")
        + f", and the official test batch ({len(y_val):,} images) is the validation "
        f"set, as in the document. No separate test set is scored."
    )

    # ---- (a) PCA and CCA embeddings, (b) linear regression -------------------------
    t0 = time.perf_counter()
    onehot = datasets.one_hot(y_tr, 10, dtype=np.float64)
    mu, lam, vecs, xty = centred_statistics(x_tr, onehot)
    pca_dirs = vecs[:, :2]
    cca_dirs, corr = cca_directions(lam, vecs, xty, onehot, args.cca_ridge)
    z = {
        name: (embed(x_tr, mu, d), embed(x_val, mu, d))
        for name, d in (("pca", pca_dirs), ("cca", cca_dirs))
    }
    rows = []
    for name in ("pca", "cca"):
        zt, zv = z[name]
        ncc_train = report.number(
            f"{name}_2d_nearest_centroid_train_acc", nearest_centroid_accuracy(zt, y_tr, zt, y_tr)
        )
        ncc_val = report.number(
            f"{name}_2d_nearest_centroid_val_acc",
            nearest_centroid_accuracy(zt, y_tr, zv, y_val),
            headline=True,
        )
        fr = report.number(f"{name}_2d_fisher_ratio_val", fisher_ratio(zv, y_val))
        rows.append([name.upper(), ncc_train, ncc_val, fr])
    report.number("pca_explained_variance_ratio_2", float(lam[:2].sum() / lam.sum()))
    report.number("cca_canonical_correlations", corr)
    report.table(
        "(a) How separable are the classes in 2-D?",
        [
            "embedding",
            "nearest-centroid acc. (train)",
            "nearest-centroid acc. (val)",
            "between/within scatter (val)",
        ],
        rows,
        note=f"PCA keeps the two directions of largest pixel variance "
        f"({100 * lam[:2].sum() / lam.sum():.1f}% of it) and never looks at the "
        f"labels; CCA picks the two pixel directions most correlated with the "
        f"one-hot labels (canonical correlations {corr[0]:.3f}, {corr[1]:.3f}; "
        f"ridge {args.cca_ridge:g} x mean eigenvalue). Directions fitted on the "
        f"training split, accuracies of the nearest class mean in 2-D.",
    )
    show = rng.permutation(len(y_tr))[: cfg["embed_plot_n"]]
    plot_embeddings(report, z["pca"][0][show], z["cca"][0][show], y_tr[show])
    cca_acc = report.numbers["cca_2d_nearest_centroid_val_acc"]
    pca_acc = report.numbers["pca_2d_nearest_centroid_val_acc"]
    if len(y_tr) >= vecs.shape[0]:
        report.check(
            cca_acc > pca_acc,
            "the label-aware CCA embedding separates validation classes better than PCA",
            f"nearest-centroid val acc CCA {cca_acc:.3f} vs PCA {pca_acc:.3f}",
        )
    else:  # fewer images than pixels: CCA can correlate perfectly with noise (quick runs)
        report.text(
            f"CCA vs PCA not compared: {len(y_tr)} training images for "
            f"{vecs.shape[0]} pixels, so CCA overfits."
        )
    report.text(
        "PCA is unsupervised: its two axes are the largest-variance pixel patterns "
        "(for natural images, smooth patterns such as overall brightness), which say "
        "little about the class, so all classes pile on top of each other. CCA is "
        "supervised: it looks for pixel combinations that correlate with the class "
        "indicators, so class means spread apart more (vehicles to one side, animals "
        "to the other), yet the clouds still overlap heavily: in 2-D, with linear "
        "maps, the problem looks hard."
    )

    w, b = linear_regression_weights(mu, lam, vecs, xty, onehot.mean(axis=0))
    lin_train = report.number(
        "linear_train_acc", float(np.mean(predict_linear(x_tr, w, b) == y_tr)), headline=True
    )
    lin_val = report.number(
        "linear_val_acc", float(np.mean(predict_linear(x_val, w, b) == y_val)), headline=True
    )
    report.number("linear_seconds", time.perf_counter() - t0)
    report.table(
        "(b) Linear regression onto one-hot labels, as a classifier",
        ["split", "images", "accuracy"],
        [["training", len(y_tr), lin_train], ["validation", len(y_val), lin_val]],
        note="Ordinary least squares with an intercept on the 3,072 raw pixel values "
        "in [0, 1] (minimum-norm solution), predicting the class of the largest "
        "output. The document reports no number for this part.",
    )
    # Linear regression has no seed, and quick and full runs fit it on the same images: on
    # the 38,646 exact training images it scores 0.350 on the official test batch (one
    # standard error on 10,000 images is 0.005), so 0.30 is 10 standard errors below.
    lin_floor = 0.30
    report.check(
        lin_val > lin_floor,
        f"linear regression reaches over {lin_floor:.0%} "
        "accuracy on validation images (chance: 10%)",
        f"validation accuracy {lin_val:.3f}",
    )
    report.write()

    # ---- (c) the network ----------------------------------------------------------------
    full = resnet18(width=64, rng=args.seed)
    summary = layer_summary(full)
    total = report.number("resnet18_parameters", full.num_parameters(), headline=True)
    report.check(
        total == RESNET18_PARAMETERS,
        "ResNet-18 for CIFAR-10 has 11,173,962 parameters (11.2M)",
        f"{total:,}",
    )
    report.check(
        summary[-1][2] == (1, 10),
        "the network maps a 3x32x32 image to 10 logits",
        str(summary[-1][2]),
    )
    print(f"ResNet-18 (width 64), {total:,} parameters")
    for name, kind, shape, count in summary:
        print(f"  {name:<22} {kind:<14} {str(shape[1:]):<16} {count:>10,}")
    report.table(
        "(c) ResNet-18 layer by layer (output shape for one image, parameters)",
        ["layer", "kind", "output shape", "parameters"],
        [[n, k, " x ".join(map(str, s[1:])), f"{c:,}"] for n, k, s, c in summary],
        note="Rows layerS.B are whole basic blocks (their parameters include the "
        "rows above them). Batch-norm layers hold 2 x channels parameters "
        "(scale and shift) plus running means and variances, which are not "
        "parameters.",
    )
    plot_architecture(report, summary, 64)
    del full

    # ---- (d, e) augmentation and learning-rate schemes ----------------------------------
    # The first seed's runs are shown in detail.
    # The (seed, scheme) runs are independent tasks (--jobs / --cluster).
    tasks = {(seed, scheme): (seed, scheme, cfg) for seed in scheme_seeds for scheme in SCHEMES}
    with Executor.from_args(args) as executor:
        done = executor.run(
            _scheme_run,
            tasks,
            shared=dict(x_tr=x_tr, y_tr=y_tr, x_val=x_val, y_val=y_val),
            desc="schemes",
        )
    stop_on_failures(report, done)
    results = {s: [done[seed, s].value for seed in scheme_seeds] for s in SCHEMES}
    first = {s: results[s][0] for s in SCHEMES}
    rows = []
    for scheme in SCHEMES:
        hist = first[scheme]
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds"):
            report.number(f"scheme_{scheme}_{key}", hist[key][0])
            report.number(f"scheme_{scheme}_{key}_by_seed", [h[key][0] for h in results[scheme]])
        report.number(f"scheme_{scheme}_lr", hist["lr"])
        rows.append(
            [
                scheme,
                f"{hist['lr'][0]:.4g} -> {hist['lr'][-1]:.4g}",
                hist["train_loss"][0],
                hist["train_acc"][0],
                hist["val_loss"][0],
                hist["val_acc"][0],
                hist["epoch_seconds"][0],
            ]
        )
    val_stats = {s: _seeds.summarize([h["val_acc"][0] for h in results[s]]) for s in SCHEMES}
    loss_stats = {s: _seeds.summarize([h["val_loss"][0] for h in results[s]]) for s in SCHEMES}
    best = max(SCHEMES, key=lambda s: (val_stats[s].mean, -loss_stats[s].mean))
    report.number("best_scheme", best, headline=True)
    n_sub = cfg["subset_val"] if cfg["subset_val"] <= len(y_val) else len(y_val)
    best_acc = val_stats[best].mean
    best_se = float(np.sqrt(best_acc * (1 - best_acc) / n_sub))
    report.table(
        f"(e) One epoch per learning-rate scheme, seed {scheme_seeds[0]} "
        f"({cfg['subset_train']} training images, {n_sub} validation images, batch "
        f"{args.batch_size}, width {cfg['width']})",
        [
            "scheme",
            "lr first -> last step",
            "train loss",
            "train acc",
            "val loss",
            "val acc",
            "seconds",
        ],
        rows,
        note="SGD with momentum 0.9 and weight decay 5e-4, the same initial weights "
        "and batch order for each scheme; training figures are running averages "
        "over the augmented mini-batches (random 32x32 crop of the image "
        "zero-padded by 4, random horizontal flip). Annealed: the rate is "
        f"multiplied by a constant factor after every batch so that it ends at "
        f"{args.anneal_final:g} x its start. One-cycle: PyTorch's OneCycleLR "
        f"(warm-up over 30% of the steps from lr/25). The document reports no "
        f"numbers for this part. Validation runs in eval mode with the running "
        f"batch-norm statistics (momentum 0.1), which lag far behind after one "
        f"short epoch: hence validation losses well above the training losses.",
    )
    _seeds.seed_table(
        report,
        f"(e) The schemes over {len(scheme_seeds)} seeds (one epoch each)",
        [
            (f"{s}: validation accuracy", [h["val_acc"][0] for h in results[s]], None)
            for s in SCHEMES
        ]
        + [(f"{s}: validation loss", [h["val_loss"][0] for h in results[s]], None) for s in SCHEMES]
        + [
            (f"{s}: training loss", [h["train_loss"][0] for h in results[s]], None) for s in SCHEMES
        ],
        scheme_seeds,
        key="scheme_seed_stats",
        note="Each seed draws its own training and validation subsets, initial weights "
        "and batch order, shared by the three schemes.",
    )
    verdicts = {}
    for other in SCHEMES:
        if other == best:
            continue
        gap = val_stats[best].mean - val_stats[other].mean
        verdicts[other] = dict(
            gap=gap, beyond_spread=_seeds.separated(val_stats[best], val_stats[other])
        )
    report.number("best_scheme_gaps", verdicts)
    # every pair of schemes: does the gap in mean validation accuracy exceed 2 x the larger sd?
    pairs = {}
    for i, a in enumerate(SCHEMES):
        for b in SCHEMES[i + 1 :]:
            spread = max(val_stats[a].sd, val_stats[b].sd)
            pairs[f"{a} vs {b}"] = dict(
                gap=val_stats[a].mean - val_stats[b].mean,
                two_sd=2 * spread,
                beyond_spread=_seeds.separated(val_stats[a], val_stats[b]),
            )
    report.number("scheme_pair_gaps", pairs)
    any_beyond = report.number(
        "schemes_differ_beyond_spread",
        any(v["beyond_spread"] for v in pairs.values()),
        headline=True,
    )
    report.table(
        f"(e) Differences in mean validation accuracy between the schemes "
        f"({len(scheme_seeds)} seeds)",
        ["pair", "difference of means", "2 x larger sd", "exceeds the spread"],
        [
            [
                k,
                f"{v['gap']:+.4f}",
                f"{v['two_sd']:.4f}",
                "n/a (one seed)"
                if len(scheme_seeds) < 2
                else ("yes" if v["beyond_spread"] else "no"),
            ]
            for k, v in pairs.items()
        ],
        note="A difference exceeds the spread when it is larger than twice the larger "
        "of the two schemes' sample standard deviations over seeds.",
    )
    exceed = [o for o, v in verdicts.items() if v["beyond_spread"]]
    report.text(
        f"**Do the schemes differ?** Mean ± sd of the validation accuracy over "
        f"{len(scheme_seeds)} seeds: "
        + "; ".join(f"{s} {_seeds.mean_sd(val_stats[s], 3)}" for s in SCHEMES)
        + f". Best mean: **{best}** (gaps: "
        + ", ".join(f"{o} {v['gap']:+.3f}" for o, v in verdicts.items())
        + "). "
        + (
            "With a single seed the spread is unknown."
            if len(scheme_seeds) < 2
            else (
                (
                    "Differences beyond twice the larger sd: "
                    + ", ".join(k for k, v in pairs.items() if v["beyond_spread"])
                    + (
                        f"; the best scheme's lead exceeds it against {', '.join(exceed)}"
                        if exceed
                        else "; the best scheme's lead over the others does not"
                    )
                )
                if any_beyond
                else "No difference between schemes exceeds twice the larger sd: after one "
                f"epoch on {cfg['subset_train']:,} images the schemes cannot be told apart"
            )
            + f" (one standard error of an accuracy near {best_acc:.2f} on {n_sub} "
            f"images is {best_se:.3f})."
        )
        + ""
    )
    plot_schemes(report, first)
    for s in SCHEMES:
        report.check(
            all(np.all(np.isfinite(h["loss"])) for h in results[s]),
            f"{s} training stays finite for every seed",
            f"last loss {first[s]['loss'][-1]:.3f} (seed {scheme_seeds[0]})",
        )
    report.write()

    # ---- (f) a longer run with the best scheme ------------------------------------------
    if cfg["long_train"] > 0 and cfg["long_epochs"] > 0:
        long_pick = rng.permutation(len(y_tr))[: cfg["long_train"]]
        long_x, long_y = x_tr[long_pick], y_tr[long_pick]
        lv = rng.permutation(len(y_val))[: cfg["long_val"]]
        model = resnet18(width=cfg["width"], rng=args.seed)
        hist = train(
            model,
            long_x,
            long_y,
            x_val[lv],
            y_val[lv],
            best,
            cfg,
            cfg["long_epochs"],
            f"long {best}",
            seed=args.seed,
        )
        test_pick = np.arange(min(cfg["test_n"], len(y_val)))
        test_acc, test_loss = evaluate(
            model, x_val[test_pick], y_val[test_pick], hist["mean"], hist["std"]
        )
        for key in ("train_acc", "train_loss", "val_acc", "val_loss", "epoch_seconds"):
            report.number(f"long_{key}", hist[key])
        report.number("long_final_val_acc", hist["val_acc"][-1], headline=True)
        report.number("long_val_first_n_acc", test_acc, headline=True)
        report.number(
            "long_seconds_per_epoch", float(np.mean(hist["epoch_seconds"])), headline=True
        )
        report.table(
            f"(f) Longer run: {best} scheme, {len(long_y):,} training images, "
            f"{cfg['long_epochs']} epochs, width {cfg['width']}",
            ["epoch", "train loss", "train acc", "val loss", "val acc", "seconds"],
            [
                [
                    e + 1,
                    hist["train_loss"][e],
                    hist["train_acc"][e],
                    hist["val_loss"][e],
                    hist["val_acc"][e],
                    hist["epoch_seconds"][e],
                ]
                for e in range(cfg["long_epochs"])
            ],
            note=f"Validation on {len(lv):,} random images of the validation set (the "
            f"official test batch) after each epoch; the final model scores "
            f"**{test_acc:.4f}** on its first {len(test_pick):,} images. The "
            f"document says several hours of CPU training on all 50,000 images "
            f"reach over 90%; this run uses "
            f"{len(long_y):,} images for {cfg['long_epochs']} epochs at "
            f"{np.mean(hist['epoch_seconds']):.0f} s per epoch (seconds per "
            f"epoch on this machine, shared with other jobs), so it is not "
            f"comparable with that figure.",
        )
        plot_long_run(report, hist, best)
        report.check(
            hist["train_loss"][-1] < hist["train_loss"][0],
            "the longer run's training loss falls from the first epoch to the last",
            f"{hist['train_loss'][0]:.3f} -> {hist['train_loss'][-1]:.3f}",
        )
        if not args.quick:  # the quick run's few steps on generated images learn too little
            report.check(
                hist["val_acc"][-1] > 0.1 + 2 * np.sqrt(0.09 / len(lv)),
                "the longer run generalises: validation accuracy above chance (10%) "
                "by more than two standard errors",
                f"{hist['val_acc'][-1]:.3f} on {len(lv)} images",
            )
    report.write()
    return report


if __name__ == "__main__":
    main()
