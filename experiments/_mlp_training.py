"""Training and evaluation loops shared by the MLP experiments on image data.

- `batches` yields the index arrays of shuffled mini-batches, so two implementations fed
  from the same seed see the same examples in the same order.
- `train_examples` runs a step function over a number of examples ("effective epochs"),
  calling a callback every `eval_every` examples touched.
- `predict` / `evaluate` compute model outputs and metrics in large batches, without
  recording a graph.
- `Curve` collects the measurements along training (x-axis in effective epochs).
- `sgd_step` turns an `nn.Module`, a loss and an optimizer into such a step function.
- Metrics on numpy outputs: `class_error`, `sign_error`, `log_loss`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autodiff as ad
import optim
from experiments.common import progress

Metric = Callable[[np.ndarray, np.ndarray], float]


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, ad.Tensor) else x)


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
) -> Callable[[np.ndarray, np.ndarray], None]:
    """A step function for `train_examples`: loss_fn(model(xb), yb), backward, update
    (and scheduler.step() after each update when a per-step scheduler is given)."""
    compiled = optim.compile_step(lambda xb, yb: loss_fn(model(xb), yb), optimizer)

    def step(xb: np.ndarray, yb: np.ndarray) -> None:
        compiled(xb, yb)  # forward and backward as one ad.jit program, then the update
        if scheduler is not None:
            scheduler.step()

    return step


def train_epoch(
    model: Callable, loss_fn: Callable[[Any, np.ndarray], Any], optimizer: Any, loader: Any
) -> float:
    """One pass over `loader`'s (x, y) batches: loss, backward, update; returns the mean of
    the batch losses."""
    step = optim.compile_step(lambda xb, yb: loss_fn(model(xb), yb), optimizer)
    total = 0.0
    for xb, yb in loader:
        total += float(step(xb, yb).data)  # forward and backward compiled by ad.jit
    return total / len(loader)


# ---------------------------------------------------------------------- evaluation
def predict(model: Callable, x: np.ndarray, batch_size: int = 10_000) -> np.ndarray:
    """model(x) for x (n, ...) computed `batch_size` rows at a time without a graph:
    (n, ...) numpy."""
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        with ad.no_grad():
            out = [_array(model(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    finally:
        if was_training:
            model.train()
    return np.concatenate(out)


def evaluate(
    model: Callable,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    metrics: dict[str, Metric],
    batch_size: int = 10_000,
) -> dict[str, float]:
    """Every metric on every split: {"<split>_<metric>": value}. A metric takes the model's
    outputs (n, ...) and the targets of the split."""
    result = {}
    for split, (x, y) in splits.items():
        out = predict(model, x, batch_size)
        for name, metric in metrics.items():
            result[f"{split}_{name}"] = float(metric(out, y))
    return result


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
