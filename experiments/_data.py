"""Real image data for the experiments: where it comes from, and what to say about it.

The loaders of :mod:`datasets` find files in ``root=``, the cache, or
``$AUTODIFF_DATA_MIRROR`` (e.g. ``../shared/data``). Two offline situations need
more than a loader call, and every experiment handles them the same way here:

- Kuzushiji-MNIST's training images may be unobtainable; the KMNIST experiments
  take ``--dataset fashion_mnist`` (same format and size) as a stand-in, with
  ``--data-root`` pointing at a local copy (e.g. the Debian package's folder).
- CIFAR-10's official training batches may be missing while a file of exact
  training records is at hand (``cifar10/train_exact_subset.bin`` in the mirror);
  :func:`cifar10_splits` then trains on that subset and says so.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np

import datasets
from datasets.errors import DataNotFoundError

CIFAR_SUBSET = "train_exact_subset.bin"
CIFAR_SUBSET_INDEX = "train_exact_subset.index.txt"


def add_data_arguments(
    p: argparse.ArgumentParser, choices: tuple[str, ...] | None = None, default: str | None = None
) -> None:
    """``--data-root`` (and ``--dataset`` when there is a choice of datasets)."""
    if choices:
        p.add_argument(
            "--dataset",
            choices=choices,
            default=default or choices[0],
            help="which dataset to use (default: %(default)s)",
        )
    p.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder holding the publisher's files (default: cache, then "
        "$AUTODIFF_DATA_MIRROR, then download)",
    )


def load_28x28(
    key: str, root: Path | None = None, flat: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST-format dataset ``key`` (mnist, fashion_mnist, kmnist) as
    ((x_train, y_train), (x_test, y_test)): images float32 in [0, 1], (n, 784) when
    ``flat`` else (n, 1, 28, 28); labels (n,) int64."""
    (x, y), (xt, yt) = datasets.load(key, root=root, progress=False)
    shape = (-1, 784) if flat else (-1, 1, 28, 28)
    return ((datasets.normalize(x).reshape(shape), y), (datasets.normalize(xt).reshape(shape), yt))


def fixed_subset(
    x: np.ndarray, y: np.ndarray, n: int | None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples of (x, y) drawn at random without replacement, in their stored order:
    the same ones for every run (a generator of its own, ``seed``, not the run's seed), so
    that the quick runs of all seeds see the same data. All of them when ``n`` is None or
    at least ``len(y)``."""
    if n is None or n >= len(y):
        return x, y
    index = np.sort(np.random.default_rng(seed).permutation(len(y))[:n])
    return x[index], y[index]


def describe_source(key: str, root: Path | None) -> str:
    """Where ``key`` was loaded from, for results.md."""
    title = datasets.DATASETS[key].title
    if root is not None:
        return f"{title} from {root}"
    mirror = os.environ.get("AUTODIFF_DATA_MIRROR")
    return f"{title} (cache or mirror {mirror})" if mirror else f"{title} (cache or download)"


def _subset_files(root: Path | None) -> tuple[Path, Path] | None:
    for base in [root, os.environ.get("AUTODIFF_DATA_MIRROR")]:
        if not base or str(base).startswith(("http://", "https://")):
            continue
        for folder in (Path(base) / "cifar10", Path(base)):
            if (folder / CIFAR_SUBSET).is_file():
                index = folder / CIFAR_SUBSET_INDEX
                return folder / CIFAR_SUBSET, index
    return None


def cifar10_splits(
    root: Path | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], str]:
    """CIFAR-10 ``(x_train, y_train), (x_test, y_test), note``: images (n, 3, 32, 32) uint8.

    The official training batches when they can be loaded; otherwise the exact
    training subset next to the test batch (the note then says how many of the
    50,000 training images it holds). The test split is always the official one.
    """
    x_test, y_test = datasets.cifar10("test", root=root, progress=False)
    try:
        x, y = datasets.cifar10("train", root=root, progress=False)
        return (x, y), (x_test, y_test), f"official CIFAR-10 training batches ({len(y):,} images)"
    except DataNotFoundError:
        found = _subset_files(root)
        if found is None:
            raise
    path, index = found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the subset has no published checksum; we say so below
        x, y, _ = datasets.cifar10_from_records(path, index if index.is_file() else None)
    note = (
        f"exact subset of the CIFAR-10 training images ({len(y):,} of 50,000, from {path}); "
        "the official training batches were not available"
    )
    return (x, y), (x_test, y_test), note
