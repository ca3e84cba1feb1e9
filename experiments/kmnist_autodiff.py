"""Kuzushiji-MNIST with the autodiff toolkit (001_3660cf4441769652.txt, question 2):
logistic regression with batch-1 SGD at three learning rates, a feed-forward network with
dropout tuned one hyperparameter at a time, and deeper versions of it.

Models are `nn` modules trained with `optim.SGD` on the softmax cross-entropy
(`nn.functional.cross_entropy`), starting from PyTorch's default initialisation
(U(+-1/sqrt(fan_in)) for weights and biases):

- logistic regression: Linear(784, 10), batch 1, 20 epochs, learning rate 0.001, 0.01 or
  0.1;
- feed-forward network: [Linear, activation, Dropout(p)] per hidden layer, then
  Linear(hidden, 10). Defaults (the document's Table 1): 20 epochs, learning rate 0.01,
  100 hidden units, dropout 0.3, batch 16, ReLU, plain SGD. Each of learning rate
  {0.001, 0.01, 0.1}, hidden size {100, 200}, dropout {0.3, 0.5} and activation
  {ReLU, tanh} is varied with the others at their default;
- 2 and 3 hidden layers with the defaults, and also with 200 units per layer (the size of
  the document's best deeper network).

The best configuration of each group is the one with the highest validation accuracy
after the last epoch. Each configuration draws its initialisation, dropout masks and batch
order from (--seed, its name), so results do not depend on --jobs.
"""
from __future__ import annotations

import argparse
import multiprocessing
import time
import zlib
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import datasets
import nn
import optim
from experiments._kmnist_common import (Splits, accuracy_of_scores, add_kmnist_arguments,
                                        data_note, load_splits, plot_curves)
from experiments._mlp_training import predict, train_epoch
from experiments.common import Report, label_loss_and_accuracy, new_figure, parser, progress

NAME = "kmnist_autodiff"
DESCRIPTION = ("Kuzushiji-MNIST with the autodiff toolkit: batch-1 logistic regression at "
               "three learning rates, a dropout feed-forward network tuned one "
               "hyperparameter at a time, and 2-3 hidden layers")
SOURCE = "001_3660cf4441769652.txt"
DATA = "kmnist (or fashion_mnist as a stand-in)"

FULL = dict(epochs=20)
QUICK = dict(epochs=3)

DEFAULTS = dict(lr=0.01, hidden=100, dropout=0.3, batch=16, activation="relu", layers=1)
SWEEP = {"lr": (0.001, 0.01, 0.1), "hidden": (100, 200), "dropout": (0.3, 0.5),
         "activation": ("relu", "tanh")}
LOGISTIC_LRS = (0.001, 0.01, 0.1)
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}

# (validation, test) accuracies the document reports (KMNIST, after 20 epochs)
REFERENCE_LOGISTIC = {0.001: (0.8256, 0.7019), 0.01: (0.8033, 0.6806), 0.1: (0.7516, 0.6155)}
REFERENCE_FFN_BEST = ("hidden=200", (0.9492, 0.8813))          # one layer, hidden 200
REFERENCE_DEEP_BEST = ("layers=2, hidden=200", (0.9561, 0.8939))


# ------------------------------------------------------------------ configurations
def configurations() -> list[dict]:
    """Every configuration to train: {"name", "group", "model", hyperparameters...}."""
    configs = [dict(name=f"logistic lr={lr}", group="logistic", model="logistic", lr=lr,
                    batch=1) for lr in LOGISTIC_LRS]
    seen = set()
    for key, values in SWEEP.items():
        for value in values:
            cfg = dict(DEFAULTS, **{key: value})
            name = "defaults" if cfg == DEFAULTS else f"{key}={value}"
            if name in seen:
                continue
            seen.add(name)
            configs.append(dict(cfg, name=name, group="one_layer", model="ffn"))
    for layers in (2, 3):
        for hidden in (100, 200):
            configs.append(dict(DEFAULTS, layers=layers, hidden=hidden, group="deep",
                                model="ffn", name=f"layers={layers}, hidden={hidden}"))
    return configs


def config_seeds(seed: int, name: str) -> tuple[np.random.Generator, np.random.Generator, int]:
    """(initialisation generator, dropout generator, batch-order seed) of a configuration,
    a function of (seed, name) only."""
    init, drop, order = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),)
                                               ).spawn(3)
    return (np.random.default_rng(init), np.random.default_rng(drop),
            int(order.generate_state(1)[0]))


def build_model(cfg: dict, init_rng: np.random.Generator, dropout_rng: np.random.Generator
                ) -> nn.Module:
    """Linear(784, 10) for logistic regression, else the feed-forward network: images
    (n, 784) -> scores (n, 10)."""
    if cfg["model"] == "logistic":
        return nn.Linear(784, 10, rng=init_rng)
    layers: list[nn.Module] = []
    width = 784
    for _ in range(cfg["layers"]):
        layers += [nn.Linear(width, cfg["hidden"], rng=init_rng),
                   ACTIVATIONS[cfg["activation"]](), nn.Dropout(cfg["dropout"], rng=dropout_rng)]
        width = cfg["hidden"]
    layers.append(nn.Linear(width, 10, rng=init_rng))
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------ training
def train(cfg: dict, splits: Splits, epochs: int, seed: int) -> dict:
    """Train one configuration; per-epoch mean training loss (over the epoch's batches),
    validation and test accuracy, and the wall time."""
    init_rng, dropout_rng, order_seed = config_seeds(seed, cfg["name"])
    model = build_model(cfg, init_rng, dropout_rng)
    opt = optim.SGD(model.parameters(), lr=cfg["lr"])
    loader = datasets.DataLoader((splits.x_train, splits.y_train), cfg["batch"], shuffle=True,
                                 seed=order_seed)
    loss_fn = nn.functional.cross_entropy
    history: dict = {"train_loss": [], "val_acc": [], "test_acc": []}
    start = time.perf_counter()
    for _ in progress(range(epochs), total=epochs, desc=cfg["name"]):
        model.train()
        history["train_loss"].append(train_epoch(model, loss_fn, opt, loader))
        history["val_acc"].append(accuracy_of_scores(predict(model, splits.x_val),
                                                     splits.y_val))
        history["test_acc"].append(accuracy_of_scores(predict(model, splits.x_test),
                                                      splits.y_test))
    history["seconds"] = time.perf_counter() - start
    return history


_WORKER_SPLITS: Splits | None = None


def _init_worker(dataset: str, root, quick: bool) -> None:
    global _WORKER_SPLITS
    _WORKER_SPLITS = load_splits(dataset, root, quick)


def _train_in_worker(cfg: dict, epochs: int, seed: int) -> dict:
    assert _WORKER_SPLITS is not None
    return train(cfg, _WORKER_SPLITS, epochs, seed)


def train_all(configs: list[dict], splits: Splits, args: argparse.Namespace, epochs: int
              ) -> dict[str, dict]:
    """Histories of every configuration, in worker processes when --jobs > 1 (each worker
    loads the data once)."""
    if args.jobs <= 1:
        return {c["name"]: train(c, splits, epochs, args.seed) for c in configs}
    # fork where there is one: the workers then see this process's dataset registry too
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    # the batch-1 runs are the longest: start them first
    ordered = sorted(configs, key=lambda c: c["batch"])
    with ProcessPoolExecutor(max_workers=args.jobs,
                             mp_context=multiprocessing.get_context(method),
                             initializer=_init_worker,
                             initargs=(args.dataset, args.data_root, args.quick)) as pool:
        futures = {c["name"]: pool.submit(_train_in_worker, c, epochs, args.seed)
                   for c in ordered}
        return {c["name"]: futures[c["name"]].result() for c in configs}


# ---------------------------------------------------------------------- reporting
def _difference(ours: float, ref: float) -> str:
    return f"{ours - ref:+.4f}"


def group_table(report: Report, histories: dict[str, dict], best: str,
                reference: tuple[str, tuple[float, float]], title: str) -> tuple[float, float]:
    """A table of a group's final accuracies, the document's numbers beside the
    configuration it reports; returns the best configuration's (validation, test)."""
    ref_name, (rv, rt) = reference
    rows = []
    for name, h in histories.items():
        mark = " **(best)**" if name == best else ""
        val, test = h["val_acc"][-1], h["test_acc"][-1]
        ref = (rv, _difference(val, rv), rt, _difference(test, rt)) if name == ref_name \
            else ("", "", "", "")
        rows.append([name + mark, val, ref[0], ref[1], test, ref[2], ref[3],
                     h["train_loss"][-1], f"{h['seconds']:.0f}"])
    report.table(title, ["configuration", "validation", "reference", "difference", "test",
                         "reference", "difference", "final epoch loss", "time (s)"], rows)
    return histories[best]["val_acc"][-1], histories[best]["test_acc"][-1]


def group_figure(report: Report, histories: dict[str, dict], best: str, title: str,
                 filename: str, caption: str) -> None:
    """Training loss and validation accuracy per epoch of every configuration of a group,
    the best one drawn thick."""
    fig, axes = new_figure(ncols=2, size=(5.4, 4.0))
    for i, (name, h) in enumerate(histories.items()):
        style = dict(lw=2.6 if name == best else 1.0, color=f"C{i}",
                     label=name + (" (best)" if name == best else ""))
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        axes[0, 0].plot(epochs, h["train_loss"], **style)
        axes[0, 1].plot(epochs, h["val_acc"], **style)
    label_loss_and_accuracy(axes[0], "Training loss", "validation accuracy",
                            "Validation accuracy")
    fig.suptitle(title)
    fig.tight_layout()
    report.figure(fig, filename, caption)


def main(argv: list[str] | None = None) -> Report:
    p = parser(NAME, DESCRIPTION)
    add_kmnist_arguments(p)
    p.add_argument("--jobs", type=int, default=1,
                   help="train independent configurations in this many worker processes")
    args: argparse.Namespace = p.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    report = Report(NAME, args, SOURCE, DESCRIPTION)
    report.number("config", dict(cfg, defaults=DEFAULTS, sweep=SWEEP))
    splits = load_splits(args.dataset, args.data_root, args.quick)
    report.number("dataset", args.dataset)
    report.number("split_sizes", splits.sizes())
    report.text(data_note(args.dataset, splits))

    configs = configurations()
    histories = train_all(configs, splits, args, cfg["epochs"])
    by_group: dict[str, dict[str, dict]] = {}
    for c in configs:
        by_group.setdefault(c["group"], {})[c["name"]] = histories[c["name"]]
    best = {g: max(hs, key=lambda n: hs[n]["val_acc"][-1]) for g, hs in by_group.items()}
    report.number("runs", {c["name"]: dict(c, **histories[c["name"]]) for c in configs})
    for g, name in best.items():
        h = histories[name]
        report.number(f"best_{g}", name)
        report.number(f"best_{g}_val_acc", h["val_acc"][-1], headline=True)
        report.number(f"best_{g}_test_acc", h["test_acc"][-1], headline=True)

    # logistic regression
    rows = []
    for lr in LOGISTIC_LRS:
        name = f"logistic lr={lr}"
        h, (rv, rt) = histories[name], REFERENCE_LOGISTIC[lr]
        rows.append([f"{lr}" + (" **(best)**" if name == best["logistic"] else ""),
                     h["val_acc"][-1], rv, _difference(h["val_acc"][-1], rv),
                     h["test_acc"][-1], rt, _difference(h["test_acc"][-1], rt),
                     h["train_loss"][-1], f"{h['seconds']:.0f}"])
    report.table(f"Logistic regression, batch 1, {cfg['epochs']} epochs",
                 ["learning rate", "validation", "reference", "difference", "test",
                  "reference", "difference", "final epoch loss", "time (s)"], rows,
                 note="Reference: the document (KMNIST); its best learning rate is 0.001.")

    # one hidden layer, one hyperparameter at a time; then deeper networks
    ref_name, (rv, rt) = REFERENCE_FFN_BEST
    bv, bt = group_table(report, by_group["one_layer"], best["one_layer"], REFERENCE_FFN_BEST,
                         "Feed-forward network with dropout, one hidden layer: each "
                         "hyperparameter varied with the others at the defaults")
    report.text(f"Defaults: learning rate {DEFAULTS['lr']}, {DEFAULTS['hidden']} hidden "
                f"units, dropout {DEFAULTS['dropout']}, batch {DEFAULTS['batch']}, ReLU, SGD, "
                f"{cfg['epochs']} epochs. The document reports only its best configuration "
                f"({ref_name}): {rv} / {rt}. Our best ({best['one_layer']}): {bv:.4f} / "
                f"{bt:.4f}, difference to the document's best {bv - rv:+.4f} / {bt - rt:+.4f}.")
    ref_name, (rv, rt) = REFERENCE_DEEP_BEST
    bv, bt = group_table(report, by_group["deep"], best["deep"], REFERENCE_DEEP_BEST,
                         "Deeper networks (the other hyperparameters at the defaults)")
    report.text(f"The document's best deeper network ({ref_name}, learning rate 0.01): "
                f"{rv} / {rt}. Our best ({best['deep']}): {bv:.4f} / {bt:.4f}, difference "
                f"{bv - rv:+.4f} / {bt - rt:+.4f}. Times: the machine (2 cores) was shared, "
                f"with --jobs {args.jobs}.")

    # claims
    worst = min(min(h["val_acc"][-1], h["test_acc"][-1]) for h in histories.values())
    best_worst = min(min(histories[n]["val_acc"][-1], histories[n]["test_acc"][-1])
                     for n in best.values())
    if args.quick:
        report.check(best_worst > 0.5, "the best configuration of each group is far above "
                     "chance (0.1) on validation and test (quick run)",
                     f"lowest of them {best_worst:.4f}")
    else:
        report.check(worst > 0.5, "every configuration is far above chance (0.1) on "
                     "validation and test", f"lowest final accuracy {worst:.4f}")
        lv = histories[best["logistic"]]["val_acc"][-1]
        fv = histories[best["one_layer"]]["val_acc"][-1]
        report.check(fv > lv, "the best feed-forward network beats the best logistic "
                     "regression on validation", f"{fv:.4f} against {lv:.4f}")

    group_figure(report, by_group["logistic"], best["logistic"],
                 f"Logistic regression, batch 1 ({args.dataset})", "logistic.png",
                 "Logistic regression at three learning rates: training loss and validation "
                 "accuracy per epoch (best configuration thick).")
    group_figure(report, by_group["one_layer"], best["one_layer"],
                 f"One hidden layer with dropout ({args.dataset})", "one_layer.png",
                 "Feed-forward network, one hyperparameter varied at a time: training loss "
                 "and validation accuracy per epoch (best configuration thick).")
    group_figure(report, by_group["deep"], best["deep"],
                 f"Two and three hidden layers ({args.dataset})", "deep.png",
                 "Deeper networks: training loss and validation accuracy per epoch (best "
                 "configuration thick).")
    fig, axes = new_figure(size=(6.0, 4.0))
    plot_curves(axes[0, 0], {f"{g}: {n}": histories[n]["test_acc"] for g, n in best.items()},
                "test accuracy", "Test accuracy per epoch of the best configurations")
    report.figure(fig, "best_test_accuracy.png", "Test accuracy per epoch of the best "
                  "configuration of each group.")
    report.write()
    return report


if __name__ == "__main__":
    main()
