"""nn.training: make_step / train_epoch / fit give the numbers of a hand-written loop (bit
for bit, eager and compiled), and predict / evaluate compute metrics in eval mode."""

import numpy as np
import pytest

import datasets
import nn
import nn.functional as F
import optim
from nn import training


def data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return x, y


def model_and_optimizer(seed=0, lr=0.2):
    model = nn.Sequential(
        nn.Linear(4, 8, rng=seed), nn.Tanh(), nn.Dropout(0.1, rng=seed + 1), nn.Linear(8, 3, rng=2)
    )
    return model, optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def hand_written(x, y, epochs, batch):
    """The loop the kit replaces: zero_grad, forward, backward, step, per-step schedule."""
    model, opt = model_and_optimizer()
    sched = optim.ExponentialLR(opt, gamma=0.97)
    loader = datasets.DataLoader((x, y), batch, shuffle=True, seed=3)
    step_losses, lrs, epoch_losses, accs = [], [], [], []
    for _ in range(epochs):
        total, correct = 0.0, 0
        for xb, yb in loader:
            lrs.append(opt.param_groups[0]["lr"])
            scores = model(xb)
            loss = F.cross_entropy(scores, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step_losses.append(float(loss.data))
            total += float(loss.data) * len(yb)
            correct += int(np.sum(scores.data.argmax(axis=1) == yb))
        epoch_losses.append(total / len(y))
        accs.append(correct / len(y))
    return model, step_losses, lrs, epoch_losses, accs


@pytest.mark.parametrize("compiled", [False, True])
def test_fit_equals_the_hand_written_loop_bitwise(compiled):
    x, y = data()
    expected_model, step_losses, lrs, epoch_losses, accs = hand_written(x, y, 3, 16)
    model, opt = model_and_optimizer()
    history = training.fit(
        model,
        F.cross_entropy,
        opt,
        datasets.DataLoader((x, y), 16, shuffle=True, seed=3),
        3,
        scheduler=optim.ExponentialLR(opt, gamma=0.97),
        compiled=compiled,
        metrics={"acc": nn.metrics.accuracy},
    )
    assert history.step["loss"] == step_losses
    assert history.step["lr"] == lrs
    assert history["loss"] == epoch_losses and history["acc"] == accs
    assert history["lr"] == [lrs[0], lrs[4], lrs[8]]  # 4 batches per epoch
    assert len(history["seconds"]) == 3
    for p, q in zip(model.parameters(), expected_model.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_fit_evaluates_splits_and_averages_over_batches_on_request():
    x, y = data()
    xv, yv = data(30, seed=1)
    model, opt = model_and_optimizer()
    seen = []
    history = training.fit(
        model,
        F.cross_entropy,
        opt,
        datasets.DataLoader((x, y), 16, shuffle=True, seed=3),
        2,
        eval_splits={"val": (xv, yv)},
        eval_metrics={"acc": nn.metrics.accuracy},
        average="batches",
        on_epoch=lambda epoch, h: seen.append((epoch, len(h["val_acc"]))),
    )
    assert seen == [(0, 1), (1, 2)]
    assert set(history.epoch) == {"loss", "val_acc", "lr", "seconds"}
    losses = history.step["loss"]
    assert history["loss"][1] == sum(losses[4:]) / 4  # unweighted mean of the 4 batches
    assert history["val_acc"][-1] == nn.metrics.accuracy(training.predict(model, xv), yv)
    assert model.training  # evaluation put it back into training mode
    with pytest.raises(ValueError, match="average"):
        training.fit(model, F.cross_entropy, opt, [(x, y)], 1, average="median")


def test_train_epoch_statistics_and_step_callback():
    x, y = data(40)
    model, opt = model_and_optimizer()
    loader = datasets.DataLoader((x, y), 16)  # batches of 16, 16, 8
    calls = []
    stats = training.train_epoch(
        model,
        F.cross_entropy,
        opt,
        loader,
        metrics={"acc": nn.metrics.accuracy},
        transform=lambda xb: xb * 2,
        on_step=lambda i, loss: calls.append((i, loss)),
    )
    assert stats.batch_sizes == [16, 16, 8]
    assert calls == list(enumerate(stats.batch_losses))
    b = stats.batch_losses
    assert stats.loss == (b[0] * 16 + b[1] * 16 + b[2] * 8) / 40
    assert stats.mean_batch_loss == (b[0] + b[1] + b[2]) / 3
    assert stats.lrs == [0.2] * 3 and 0 <= stats.metrics["acc"] <= 1
    assert stats.seconds >= 0 and stats.cpu_seconds >= 0


def test_make_step_returns_the_loss_and_outputs_and_steps_the_scheduler():
    x, y = data(8)
    model, opt = model_and_optimizer()
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    step = training.make_step(model, F.cross_entropy, opt, sched, with_outputs=True)
    loss, out = step(x, y)
    assert out.shape == (8, 3) and loss.shape == ()
    assert opt.param_groups[0]["lr"] == 0.1


def test_predict_and_evaluate_in_eval_mode_in_batches():
    x, y = data(25)
    model, _ = model_and_optimizer()
    model.train()
    full = training.predict(model, x)  # eval mode: dropout off, so batching does not matter
    np.testing.assert_allclose(training.predict(model, x, batch_size=7), full, rtol=1e-6)
    assert model.training
    got = training.evaluate(
        model,
        {"a": (x, y), "b": (x[:10], y[:10])},
        {"acc": nn.metrics.accuracy, "first": lambda out, t: out[0, 0]},
        batch_size=7,
        transform=lambda xb: xb + 0,
    )
    assert set(got) == {"a_acc", "a_first", "b_acc", "b_first"}
    assert got["a_acc"] == nn.metrics.accuracy(full, y)
    assert got["a_first"] == pytest.approx(float(full[0, 0]), rel=1e-6)
