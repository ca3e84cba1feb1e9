"""Shared plumbing of the Kuzushiji-MNIST experiments (001_3660cf4441769652.txt questions 1
and 2): the train / validation / test splits, the data note for results.md, the per-epoch
example orders, and the accuracy-curve plots.

Splits: the official 60,000 training images are split once into 50,000 for training and
10,000 for validation by `datasets.train_val_split` with its fixed seed 0 (the split does
not depend on `--seed`, so every run and every configuration sees the same validation
set); the official 10,000 test images are the test set. Images are float32 in [0, 1],
flattened to 784 values.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

import datasets
import nn
from experiments._data import add_data_arguments, describe_source, load_28x28

DATASET_CHOICES = ("kmnist", "fashion_mnist")
VAL_SIZE = 10_000  # held out of the official 60,000 training images
SPLIT_SEED = 0  # fixed: the split is part of the protocol, not of the run
QUICK_LIMITS = dict(train=3000, test=1000)  # a --quick run on real data uses at most this


@dataclass
class Splits:
    """Flattened images (n, 784) float32 in [0, 1] and labels (n,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


def add_kmnist_arguments(p: argparse.ArgumentParser) -> None:
    """--dataset kmnist|fashion_mnist and --data-root."""
    add_data_arguments(p, DATASET_CHOICES, default="kmnist")


def load_splits(dataset: str, root, quick: bool) -> Splits:
    """Train / validation / test splits of `dataset` (see the module docstring). A quick
    run keeps at most QUICK_LIMITS images (the first ones of each official split) and
    holds out a sixth of its training images for validation."""
    (x, y), (x_test, y_test) = load_28x28(dataset, root, flat=True)
    if quick:
        x, y = x[: QUICK_LIMITS["train"]], y[: QUICK_LIMITS["train"]]
        x_test, y_test = x_test[: QUICK_LIMITS["test"]], y_test[: QUICK_LIMITS["test"]]
    val_size = VAL_SIZE if len(y) > 2 * VAL_SIZE else 1 / 6
    (x_tr, y_tr), (x_val, y_val) = datasets.train_val_split(
        x, y, val_size=val_size, seed=SPLIT_SEED
    )
    return Splits(
        np.ascontiguousarray(x_tr),
        y_tr.astype(np.int64),
        x_val,
        y_val.astype(np.int64),
        x_test,
        y_test.astype(np.int64),
        describe_source(dataset, root),
    )


def data_note(dataset: str, splits: Splits) -> str:
    """Markdown paragraph: which data was used and how it was split."""
    s = splits.sizes()
    text = (
        f"**Data.** {splits.source}: {s['train']:,} training, {s['validation']:,} "
        f"validation and {s['test']:,} test images (28x28 grey levels scaled to [0, 1], "
        f"flattened to 784 values). The validation images are held out of the official "
        f"training set by a fixed random permutation (`datasets.train_val_split`, seed "
        f"{SPLIT_SEED}, the same for every run and configuration); the test set is the "
        f"official one."
    )
    if dataset != "kmnist":
        text += (
            " **The reference numbers of the source document are for Kuzushiji-MNIST**, "
            "whose training images are not available offline here; this run uses "
            f"{datasets.DATASETS[dataset].title} as a stand-in of the same format and "
            "size, so the differences to the reference measure the change of dataset as "
            "much as our implementation."
        )
    return text


def epoch_orders(
    seed_sequence: np.random.SeedSequence, n: int, epochs: int
) -> Iterator[np.ndarray]:
    """One random permutation of range(n) per epoch, from `seed_sequence` only (so two
    trainings given equal seed sequences visit the examples in the same order)."""
    rng = np.random.default_rng(seed_sequence)
    for _ in range(epochs):
        yield rng.permutation(n)


# The fraction of rows of scores (n, classes) whose argmax is the label (n,).
accuracy_of_scores = nn.metrics.accuracy


def plot_curves(
    ax,
    curves: dict[str, Sequence[float]],
    ylabel: str,
    title: str,
    references: dict[str, float] | None = None,
) -> None:
    """One line per entry of `curves` against the epoch number (1, 2, ...), with optional
    dotted horizontal reference lines."""
    for i, (label, values) in enumerate(curves.items()):
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, color=f"C{i}", label=label)
    for i, (label, value) in enumerate((references or {}).items()):
        ax.axhline(value, ls=":", lw=1, color=f"C{i}", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
