"""Training and evaluation loops for `nn` models: one step, one epoch, several epochs.

    history = nn.training.fit(
        model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), loader, epochs=5,
        metrics={"acc": nn.metrics.accuracy}, eval_splits={"val": (x_val, y_val)},
    )
    history.epoch["val_acc"]                      # one value per epoch
    nn.training.evaluate(model, {"test": (x_test, y_test)}, {"acc": nn.metrics.accuracy})

- `make_step` turns a model, a loss and an optimizer into step(x, y): zero_grad, forward,
  backward, optimizer.step() (and scheduler.step()); `compiled=True` runs the forward and
  backward as one `ad.jit` program (`optim.compile_step`), with the same numbers.
- `train_epoch` runs the steps over a loader's (x, y) batches and returns `EpochStats`.
- `fit` runs epochs, evaluates after each and returns a `History`.
- `predict` / `evaluate` compute outputs and metrics in batches in eval mode, without a
  graph.  A metric is metric(outputs (n, ...) numpy, targets (n, ...)) -> float, such as
  `nn.metrics.accuracy`; it sees a whole split (or a whole epoch) at once.

A loader is any re-iterable of (x, y) batches with len() (`datasets.DataLoader`); `transform`
maps each input batch before the model sees it (uint8 images to float, standardising).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autodiff as ad
import optim
from optim.progress import progress

from .module import Module

__all__ = ["EpochStats", "History", "make_step", "train_epoch", "fit", "predict", "evaluate"]

Metric = Callable[[np.ndarray, np.ndarray], float]
Transform = Callable[[np.ndarray], np.ndarray]


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, ad.Tensor) else x)


# -------------------------------------------------------------------------- one step
def make_step(
    model: Callable,
    loss_fn: Callable[[Any, Any], Any],
    optimizer: optim.Optimizer,
    scheduler: Any = None,
    compiled: bool = False,
    with_outputs: bool = False,
) -> Callable[[np.ndarray, np.ndarray], Any]:
    """step(x, y): optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward();
    optimizer.step(); then scheduler.step() when a per-step scheduler is given.

    Returns the loss (a scalar Tensor), or (loss, outputs) with `with_outputs`.
    `compiled=True`: forward and backward as one ad.jit program (`optim.compile_step`)."""

    def loss_of(xb: Any, yb: Any) -> Any:
        out = model(xb)
        loss = loss_fn(out, yb)
        return (loss, out) if with_outputs else loss

    if compiled:
        inner = optim.compile_step(loss_of, optimizer)
    else:

        def inner(xb: Any, yb: Any) -> Any:
            optimizer.zero_grad()
            result = loss_of(xb, yb)
            (result[0] if with_outputs else result).backward()
            optimizer.step()
            return result

    if scheduler is None:
        return inner

    def step(xb: Any, yb: Any) -> Any:
        result = inner(xb, yb)
        scheduler.step()
        return result

    return step


# ------------------------------------------------------------------------- one epoch
@dataclass
class EpochStats:
    """One pass over the training data.

    loss: mean of the batch losses weighted by batch size (the mean over the examples, as
    Keras reports it); batch_losses and lrs: each step's loss and the learning rate it used
    (param group 0); metrics: each metric on the training-mode outputs of the whole epoch;
    seconds and cpu_seconds: wall-clock and process CPU time, without the callback's."""

    loss: float
    batch_losses: list[float]
    lrs: list[float]
    batch_sizes: list[int]
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = float("nan")
    cpu_seconds: float = float("nan")

    @property
    def mean_batch_loss(self) -> float:
        """The unweighted mean of the batch losses (PyTorch examples' running loss)."""
        return sum(self.batch_losses) / len(self.batch_losses)


def train_epoch(
    model: Module | Callable,
    loss_fn: Callable[[Any, Any], Any],
    optimizer: optim.Optimizer,
    loader: Iterable,
    *,
    scheduler: Any = None,
    compiled: bool = False,
    metrics: Mapping[str, Metric] | None = None,
    transform: Transform | None = None,
    on_step: Callable[[int, float], None] | None = None,
    desc: str | None = None,
) -> EpochStats:
    """One epoch of mini-batch training over `loader`'s (x, y) batches (see `make_step`).

    `scheduler` is stepped after every batch; `on_step(i, loss)` is called after batch i
    (0-based), and its time is not counted in the epoch's seconds.  Puts a Module in
    training mode."""
    if isinstance(model, Module):
        model.train()
    keep = bool(metrics)
    step = make_step(model, loss_fn, optimizer, scheduler, compiled, with_outputs=keep)
    lr_group = optimizer.param_groups[0]
    stats = EpochStats(loss=float("nan"), batch_losses=[], lrs=[], batch_sizes=[])
    outputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    loss_sum, excluded, excluded_cpu = 0.0, 0.0, 0.0
    total = len(loader) if hasattr(loader, "__len__") else None
    t0, c0 = time.perf_counter(), time.process_time()
    for i, (xb, yb) in enumerate(progress(loader, total=total, desc=desc)):
        stats.lrs.append(float(lr_group["lr"]))
        result = step(xb if transform is None else transform(xb), yb)
        loss = result[0] if keep else result
        value = float(loss.data)
        stats.batch_losses.append(value)
        stats.batch_sizes.append(len(yb))
        loss_sum += value * len(yb)
        if keep:
            outputs.append(_array(result[1]))
            targets.append(np.asarray(yb))
        if on_step is not None:
            t1, c1 = time.perf_counter(), time.process_time()
            on_step(i, value)
            excluded += time.perf_counter() - t1
            excluded_cpu += time.process_time() - c1
    stats.seconds = time.perf_counter() - t0 - excluded
    stats.cpu_seconds = time.process_time() - c0 - excluded_cpu
    n = sum(stats.batch_sizes)
    if n:
        stats.loss = loss_sum / n
    if keep and n:
        out, y = np.concatenate(outputs), np.concatenate(targets)
        stats.metrics = {name: float(metric(out, y)) for name, metric in (metrics or {}).items()}
    return stats


# ------------------------------------------------------------------------ evaluation
def predict(
    model: Callable,
    x: np.ndarray,
    batch_size: int = 10_000,
    transform: Transform | None = None,
) -> np.ndarray:
    """model(x) for x (n, ...), `batch_size` rows at a time, in eval mode and without a
    graph: (n, ...) numpy.  A Module in training mode is put back into it afterwards."""
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()  # type: ignore[attr-defined]
    try:
        with ad.no_grad():
            out = [
                _array(model(xb if transform is None else transform(xb)))
                for xb in (x[i : i + batch_size] for i in range(0, len(x), batch_size))
            ]
    finally:
        if was_training:
            model.train()  # type: ignore[attr-defined]
    return np.concatenate(out)


def evaluate(
    model: Callable,
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    metrics: Mapping[str, Metric],
    batch_size: int = 10_000,
    transform: Transform | None = None,
) -> dict[str, float]:
    """Every metric on every split: {"<split>_<metric>": value}.  splits: {name: (x (n, ...),
    targets (n, ...))}; each metric gets the model's outputs on the whole split (computed
    `batch_size` rows at a time by `predict`) and its targets."""
    result = {}
    for split, (x, y) in splits.items():
        out = predict(model, x, batch_size, transform)
        for name, metric in metrics.items():
            result[f"{split}_{name}"] = float(metric(out, y))
    return result


# ------------------------------------------------------------------------ many epochs
@dataclass
class History:
    """What `fit` measured. epoch: {key: one value per epoch}, with "loss" (the epoch's
    training loss), each training metric under its name, "<split>_<metric>" for the
    evaluation splits, "lr" (the rate of the epoch's first step) and "seconds" (training
    time, evaluation excluded); step: {"loss": ..., "lr": ...}, one value per step."""

    epoch: dict[str, list[float]] = field(default_factory=dict)
    step: dict[str, list[float]] = field(default_factory=lambda: {"loss": [], "lr": []})

    def add_epoch(self, measured: Mapping[str, float]) -> None:
        for key, value in measured.items():
            self.epoch.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.epoch[key]


def fit(
    model: Module | Callable,
    loss_fn: Callable[[Any, Any], Any],
    optimizer: optim.Optimizer,
    loader: Iterable,
    epochs: int,
    *,
    scheduler: Any = None,
    epoch_scheduler: Any = None,
    compiled: bool = False,
    metrics: Mapping[str, Metric] | None = None,
    eval_splits: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    eval_metrics: Mapping[str, Metric] | None = None,
    eval_batch_size: int = 10_000,
    transform: Transform | None = None,
    average: str = "examples",
    on_epoch: Callable[[int, History], None] | None = None,
    desc: str | None = None,
) -> History:
    """`epochs` calls of `train_epoch`, each followed by `evaluate` on `eval_splits` (with
    `eval_metrics`, default `metrics`), and `epoch_scheduler.step()` if given (`scheduler`
    is stepped per batch).  The epoch's "loss" is the mean over the examples
    (average="examples") or over the batches ("batches").  `on_epoch(epoch, history)` is
    called after each epoch's record (epoch counts from 0).  Returns the History."""
    if average not in ("examples", "batches"):
        raise ValueError(f"fit: average must be 'examples' or 'batches', got {average!r}")
    history = History()
    for epoch in progress(range(epochs), total=epochs, desc=desc):
        stats = train_epoch(
            model,
            loss_fn,
            optimizer,
            loader,
            scheduler=scheduler,
            compiled=compiled,
            metrics=metrics,
            transform=transform,
            desc=f"{desc or 'epoch'} {epoch + 1}/{epochs}",
        )
        history.step["loss"] += stats.batch_losses
        history.step["lr"] += stats.lrs
        record = {
            "loss": stats.loss if average == "examples" else stats.mean_batch_loss,
            **stats.metrics,
        }
        if eval_splits:
            chosen = metrics if eval_metrics is None else eval_metrics
            record.update(evaluate(model, eval_splits, chosen or {}, eval_batch_size, transform))
        record["lr"] = stats.lrs[0] if stats.lrs else float("nan")
        record["seconds"] = stats.seconds
        history.add_epoch(record)
        if epoch_scheduler is not None:
            epoch_scheduler.step()
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history
