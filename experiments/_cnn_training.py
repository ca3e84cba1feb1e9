"""Mini-batch training and evaluation of image classifiers, shared by the CNN experiments
(`experiments.cifar_cnn`, `experiments.mnist_cnn`).

Images are (n, C, H, W) arrays, uint8 (scaled to float32 in [0, 1] one batch at a time, so
a data set is held once, as bytes) or float32 already in [0, 1]; labels are (n,) ints.
Models map a float32 batch (b, C, H, W) to class scores (logits) (b, classes); the loss is
softmax cross-entropy, as Keras' softmax output with categorical cross-entropy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import autodiff as ad
import datasets
import nn
import nn.functional as F
import optim
from experiments.common import progress


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


def _loss_and_scores(model: nn.Module, xb: np.ndarray, yb: np.ndarray) -> tuple:
    scores = model(xb)
    return F.cross_entropy(scores, yb), scores


def train_epoch(
    model: nn.Module,
    optimizer,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    order: np.ndarray | None = None,
    desc: str = "train",
    after_step: Callable[[int], None] | None = None,
) -> EpochStats:
    """One epoch of mini-batch training over (x, y) in `order` (None: the stored order,
    as Keras' fit(shuffle=False)).  `after_step(i)` is called after batch i (0-based),
    e.g. to record curves; its time is not counted in `seconds`."""
    model.train()
    n = len(y)
    starts = range(0, n, batch_size)
    step = optim.compile_step(lambda xb, yb: _loss_and_scores(model, xb, yb), optimizer)
    loss_sum, correct, excluded, excluded_cpu = 0.0, 0, 0.0, 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    for i, start in enumerate(progress(starts, total=len(starts), desc=desc)):
        index = (
            slice(start, start + batch_size) if order is None else order[start : start + batch_size]
        )
        xb, yb = as_float_images(x[index]), y[index]
        loss, scores = step(xb, yb)
        loss_sum += float(loss.data) * len(yb)
        correct += int(np.sum(scores.data.argmax(axis=1) == yb))
        if after_step is not None:
            t1, c1 = time.perf_counter(), time.process_time()
            after_step(i)
            excluded += time.perf_counter() - t1
            excluded_cpu += time.process_time() - c1
    return EpochStats(
        loss_sum / n,
        correct / n,
        time.perf_counter() - t0 - excluded,
        time.process_time() - c0 - excluded_cpu,
    )


def evaluate(
    model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 500
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the model in eval mode (dropout off), without
    recording gradients."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    with ad.no_grad():
        for start in range(0, len(y), batch_size):
            xb, yb = as_float_images(x[start : start + batch_size]), y[start : start + batch_size]
            scores = model(xb)
            loss_sum += float(F.cross_entropy(scores, yb, reduction="sum").data)
            correct += int(np.sum(scores.data.argmax(axis=1) == yb))
    model.train(was_training)
    return loss_sum / len(y), correct / len(y)
