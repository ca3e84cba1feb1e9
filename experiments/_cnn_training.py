"""Mini-batch training and evaluation of image classifiers, shared by the CNN experiments
(`experiments.cifar_cnn`, `experiments.mnist_cnn`).

Images are (n, C, H, W) arrays, uint8 (scaled to float32 in [0, 1] one batch at a time, so
a data set is held once, as bytes) or float32 already in [0, 1]; labels are (n,) ints.
Models map a float32 batch (b, C, H, W) to class scores (logits) (b, classes); the loss is
softmax cross-entropy, as Keras' softmax output with categorical cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

import autodiff as ad
import datasets
import nn
import nn.functional as F
import optim


def as_float_images(x: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1]; float arrays are returned as float32 unchanged."""
    return datasets.normalize(x) if x.dtype == np.uint8 else np.asarray(x, np.float32)


def keras_init_(model: nn.Module, rng: np.random.Generator) -> None:
    """Keras' default initialisation for every Conv2d and Linear layer: Glorot-uniform
    weights (fans of a (out, in, kh, kw) kernel: in*kh*kw and out*kh*kw) and zero biases."""
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight, rng=rng)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


@dataclass
class EpochStats:
    """One pass over the training data: mean loss and accuracy of the training-mode
    (dropout on) outputs over the epoch's batches, as Keras reports them, wall-clock
    seconds and CPU seconds (this process, all its threads: time.process_time)."""

    loss: float
    accuracy: float
    seconds: float
    cpu_seconds: float = float("nan")


class Batches:
    """One epoch's (x, y) batches of `batch_size` in `order` (None: the stored order), with
    len() (the number of batches), as a loader for `nn.training.train_epoch`."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, order: np.ndarray | None):
        self.x, self.y, self.batch_size, self.order = x, y, batch_size, order

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, len(self.y), self.batch_size):
            stop = start + self.batch_size
            index = slice(start, stop) if self.order is None else self.order[start:stop]
            yield self.x[index], self.y[index]


def train_epoch(
    model: nn.Module,
    optimizer: optim.Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    order: np.ndarray | None = None,
    desc: str = "train",
    after_step: Callable[[int], None] | None = None,
) -> EpochStats:
    """One epoch of mini-batch training over (x, y) in `order` (None: the stored order,
    as Keras' fit(shuffle=False)), compiled steps (`nn.training.train_epoch`).
    `after_step(i)` is called after batch i (0-based), e.g. to record curves; its time is
    not counted in `seconds`."""
    stats = nn.training.train_epoch(
        model,
        F.cross_entropy,
        optimizer,
        Batches(x, y, batch_size, order),
        compiled=True,
        metrics={"accuracy": nn.metrics.accuracy},
        transform=as_float_images,
        on_step=None if after_step is None else lambda i, loss: after_step(i),
        desc=desc,
    )
    return EpochStats(stats.loss, stats.metrics["accuracy"], stats.seconds, stats.cpu_seconds)


def summed_cross_entropy(scores: np.ndarray, labels: np.ndarray, batch_size: int) -> float:
    """Mean softmax cross-entropy of scores (n, classes) against labels (n,), summed
    `batch_size` rows at a time (as evaluated batch by batch)."""
    total = 0.0
    for start in range(0, len(labels), batch_size):
        part = slice(start, start + batch_size)
        total += float(F.cross_entropy(ad.tensor(scores[part]), labels[part], reduction="sum").data)
    return total / len(labels)


def evaluate(
    model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 500
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the model in eval mode (dropout off), without
    recording gradients."""
    scores = nn.training.predict(model, x, batch_size, transform=as_float_images)
    return summed_cross_entropy(scores, y, batch_size), nn.metrics.accuracy(scores, y)
