"""Array helpers for loaded datasets and batch augmentations.

Helpers take and return numpy arrays; ``x`` has examples along axis 0 and
``y`` holds one label per example. Augmentations are callables
``f(x_batch, rng) -> x_batch`` on image batches ``(n, ..., H, W)`` (e.g.
CIFAR-10's ``(n, 3, 32, 32)``), vectorised over the batch, for
:class:`datasets.DataLoader`'s ``augment=`` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]

DEFAULT_VAL_SIZE = 10_000
DEFAULT_SPLIT_SEED = 0


def _check_aligned(operation: str, x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(
            f"{operation}: x has {len(x)} examples (shape {np.shape(x)}) but y has {len(y)} "
            f"(shape {np.shape(y)}); expected one label per example"
        )


def normalize(x: np.ndarray, scale: float = 255.0) -> np.ndarray:
    """Pixels to float32 in [0, 1]: ``x / scale`` (``scale=255`` for uint8 images). Shape
    unchanged."""
    return np.asarray(x, dtype=np.float32) / np.float32(scale)


def flatten(x: np.ndarray) -> np.ndarray:
    """``(n, d1, d2, ...) -> (n, d1 * d2 * ...)`` (a view when possible)."""
    x = np.asarray(x)
    if x.ndim < 1:
        raise ValueError(
            f"flatten: expected an array with examples along axis 0, got shape {x.shape}"
        )
    return x.reshape(len(x), -1)


def train_val_split(
    x: np.ndarray,
    y: np.ndarray,
    val_size: int | float = DEFAULT_VAL_SIZE,
    seed: int | None = DEFAULT_SPLIT_SEED,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Hold out a random validation split: ``((x_train, y_train), (x_val, y_val))``.

    val_size: number of validation examples (int) or fraction in (0, 1).
        Default 10000, i.e. MNIST's 60000 training images become 50000 + 10000.
    seed: the split is a function of (n, val_size, seed) only; default 0.
    Both parts keep the original order of their examples.
    """
    _check_aligned("train_val_split", x, y)
    n = len(x)
    n_val = int(round(val_size * n)) if isinstance(val_size, float) else int(val_size)
    if (isinstance(val_size, float) and not 0.0 < val_size < 1.0) or not 0 < n_val < n:
        raise ValueError(
            f"train_val_split: val_size={val_size!r} gives {n_val} validation examples out of {n}; "
            f"expected between 1 and {n - 1}"
        )
    is_val = np.zeros(n, dtype=bool)
    is_val[np.random.default_rng(seed).permutation(n)[:n_val]] = True
    return (x[~is_val], y[~is_val]), (x[is_val], y[is_val])


def select_classes(
    x: np.ndarray, y: np.ndarray, classes: Sequence[int], new_labels: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the examples whose label is in ``classes`` and relabel them.

    new_labels: label given to each of ``classes`` (default ``0..k-1`` in the
        order of ``classes``). MNIST 3 vs 9 with labels +1/-1:
        ``select_classes(x, y, (3, 9), new_labels=(1, -1))``.
    Returns ``(x_kept, y_kept)`` with ``y_kept`` int64, in the original order.
    """
    _check_aligned("select_classes", x, y)
    classes = list(classes)
    new_labels = list(range(len(classes))) if new_labels is None else list(new_labels)
    if len(new_labels) != len(classes) or len(set(classes)) != len(classes):
        raise ValueError(
            f"select_classes: classes {classes} must be distinct and match new_labels {new_labels} "
            "one to one"
        )
    y = np.asarray(y)
    keep = np.isin(y, classes)
    y_kept = y[keep]
    relabelled = np.empty(len(y_kept), dtype=np.int64)
    for old, new in zip(classes, new_labels, strict=False):
        relabelled[y_kept == old] = new
    return x[keep], relabelled


def one_hot(y: np.ndarray, num_classes: int | None = None, dtype: type = np.float32) -> np.ndarray:
    """Labels ``(n,)`` in ``0..num_classes-1`` -> ``(n, num_classes)`` one-hot rows of ``dtype``."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"one_hot: expected a 1-d integer label array, got shape {y.shape} dtype {y.dtype}"
        )
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"one_hot: labels range {y.min()}..{y.max()}, expected 0..{num_classes - 1}"
        )
    out = np.zeros((len(y), num_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def subset(
    x: np.ndarray, y: np.ndarray, n: int, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Take ``n`` examples: the first ``n`` if ``seed`` is None, else ``n`` drawn without
    replacement
    (kept in their original order)."""
    _check_aligned("subset", x, y)
    if not 0 <= n <= len(x):
        raise ValueError(f"subset: n={n} but there are only {len(x)} examples")
    if seed is None:
        return x[:n], y[:n]
    index = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
    return x[index], y[index]


# ----------------------------------------------------------------------------- augmentations


def random_crop(padding: int = 4) -> Augment:
    """Zero-pad the last two axes by ``padding`` and take a random crop of the original size
    per image."""
    if padding < 0:
        raise ValueError(f"random_crop: padding must be >= 0, got {padding}")

    def crop(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if x.ndim < 3:
            raise ValueError(f"random_crop: expected images (n, ..., H, W), got shape {x.shape}")
        if padding == 0:
            return x
        n, height, width = x.shape[0], x.shape[-2], x.shape[-1]
        flat = x.reshape(n, -1, height, width)
        padded = np.pad(flat, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (height, width), axis=(2, 3))
        top = rng.integers(0, 2 * padding + 1, size=n)
        left = rng.integers(0, 2 * padding + 1, size=n)
        # windows: (n, c, 2p+1, 2p+1, H, W); picking one offset pair per image gives (n, c, H, W)
        return windows[np.arange(n), :, top, left].reshape(x.shape)

    return crop


def random_flip(p: float = 0.5) -> Augment:
    """Mirror each image left-right (last axis) with probability ``p``."""

    def flip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mask = rng.random(len(x)) < p
        out = x.copy()
        out[mask] = x[mask][..., ::-1]
        return out

    return flip


def compose(*augments: Augment) -> Augment:
    """Apply ``augments`` in order with the same generator."""

    def composed(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for augment in augments:
            x = augment(x, rng)
        return x

    return composed
