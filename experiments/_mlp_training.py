"""Training and evaluation loops shared by the MLP experiments on image data.

- `batches` yields the index arrays of shuffled mini-batches, so two implementations fed
  from the same seed see the same examples in the same order.
- `train_examples` runs a step function over a number of examples ("effective epochs"),
  calling a callback every `eval_every` examples touched.
- `Curve` collects the measurements along training (x-axis in effective epochs).
- `sgd_step` turns an `nn.Module`, a loss and an optimizer into such a step function.
- `train_epoch`, `predict` and `evaluate` are `nn.training`'s (the first returns the
  unweighted mean of the batch losses).
- Metrics on numpy outputs: `class_error`, `sign_error`, `log_loss`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import nn
from experiments.common import progress
from nn.training import evaluate, make_step, predict

__all__ = [
    "Curve",
    "batches",
    "class_error",
    "evaluate",
    "first_below",
    "log_loss",
    "predict",
    "sgd_step",
    "sign_error",
    "train_epoch",
    "train_examples",
]


# ------------------------------------------------------------------------- batches
def batches(n: int, batch_size: int, total: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Index arrays of mini-batches drawn from range(n) until `total` examples are used.

    Every pass over the data is a fresh permutation cut into consecutive batches (the last
    one of a pass may be shorter); the very last batch is cut so that exactly `total`
    examples are touched."""
    used = 0
    while used < total:
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size][: total - used]
            used += len(idx)
            yield idx
            if used >= total:
                return


def train_examples(
    step: Callable[[np.ndarray, np.ndarray], Any],
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    total: int,
    rng: np.random.Generator,
    eval_every: int | None = None,
    on_eval: Callable[[int], None] | None = None,
    desc: str | None = None,
) -> int:
    """Call step(x[idx], y[idx]) on shuffled mini-batches until `total` examples are touched.

    on_eval(touched) is called at the start (touched = 0) and whenever the number of
    examples touched reaches a multiple of `eval_every` (a batch that crosses one counts
    there), and at the end if the last call was earlier. Returns the number of steps."""
    every = eval_every or total
    next_eval = every
    steps = touched = last = 0
    if on_eval is not None:
        on_eval(0)
    n_batches = -(-total // batch_size)
    for idx in progress(batches(len(x), batch_size, total, rng), total=n_batches, desc=desc):
        step(x[idx], y[idx])
        steps += 1
        touched += len(idx)
        if on_eval is not None and touched >= next_eval:
            on_eval(touched)
            next_eval = (touched // every + 1) * every
            last = touched
    if on_eval is not None and steps and last != touched:
        on_eval(touched)
    return steps


def sgd_step(
    model: Callable,
    loss_fn: Callable[[Any, np.ndarray], Any],
    optimizer: Any,
    scheduler: Any = None,
) -> Callable[[np.ndarray, np.ndarray], Any]:
    """A step function for `train_examples`: loss_fn(model(xb), yb), backward, update
    (compiled by ad.jit), and scheduler.step() after each update when a per-step scheduler
    is given (`nn.training.make_step`)."""
    return make_step(model, loss_fn, optimizer, scheduler, compiled=True)


def train_epoch(
    model: Callable, loss_fn: Callable[[Any, np.ndarray], Any], optimizer: Any, loader: Any
) -> float:
    """One pass over `loader`'s (x, y) batches, compiled steps; returns the unweighted mean
    of the batch losses."""
    return nn.training.train_epoch(model, loss_fn, optimizer, loader, compiled=True).mean_batch_loss


# ------------------------------------------------------------- metrics on numpy outputs
def class_error(scores: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose largest score is not at the label: scores (n, C), labels (n,)."""
    return float(np.mean(np.argmax(scores, axis=1) != labels))


def sign_error(output: np.ndarray, target: np.ndarray) -> float:
    """Fraction of sign(output) != sign(target) (a zero output counts as an error):
    output and target (n,) or (n, 1), target in {-1, +1}."""
    return float(np.mean(np.sign(output.reshape(-1)) != np.sign(target.reshape(-1))))


def log_loss(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean softmax cross-entropy of logits (n, C) against integer labels (n,)."""
    s = scores.astype(np.float64)
    s = s - s.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(s).sum(axis=1))
    return float(np.mean(log_z - s[np.arange(len(labels)), labels]))


# --------------------------------------------------------------------------- curves
@dataclass
class Curve:
    """Measurements along training: the x-axis (effective epochs, or any unit) and one
    list of values per measured quantity."""

    x: list[float] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, at: float, measured: dict[str, float]) -> None:
        self.x.append(float(at))
        for key, value in measured.items():
            self.values.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> np.ndarray:
        return np.asarray(self.values[key])

    @property
    def at(self) -> np.ndarray:
        return np.asarray(self.x)

    def as_dict(self) -> dict[str, list[float]]:
        return {"x": list(self.x), **{k: list(v) for k, v in self.values.items()}}


def first_below(values: np.ndarray, level: float) -> int:
    """Index of the first value below `level` (0 when there is none, so a plot starting
    there shows everything)."""
    below = np.flatnonzero(np.asarray(values) < level)
    return int(below[0]) if below.size else 0
