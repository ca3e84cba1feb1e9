"""ReduceLROnPlateau against hand-computed sequences of metrics and learning rates."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import optim


def make_opt(lr=1.0, groups=1):
    params = [nn.Parameter(np.zeros(2)) for _ in range(groups)]
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], lr=lr)


def lrs_after(sched, metrics):
    """Group 0's learning rate after each step(metric)."""
    out = []
    for m in metrics:
        sched.step(m)
        out.append(sched.optimizer.param_groups[0]["lr"])
    return out


def test_min_rel_patience():
    sched = optim.ReduceLROnPlateau(make_opt(), factor=0.5, patience=2, threshold=0.1)
    # improvement means a < best * 0.9
    got = lrs_after(
        sched,
        [
            10.0,  # best 10
            9.5,  # not below 9: bad 1
            9.2,  # bad 2
            8.9,  # below 9: best 8.9, bad 0
            8.5,  # not below 8.01: bad 1
            8.2,  # bad 2
            8.1,  # bad 3 > patience: lr 0.5, bad 0
            8.0,  # below 8.01: best 8.0
            7.5,  # bad 1
            7.3,  # bad 2
            7.25,
        ],
    )  # bad 3: lr 0.25
    assert got == [1.0] * 6 + [0.5] * 4 + [0.25]
    assert sched.best == 8.0 and sched.num_bad_epochs == 0 and sched.last_epoch == 11
    assert sched.get_last_lr() == [0.25]


def test_min_abs_threshold():
    sched = optim.ReduceLROnPlateau(
        make_opt(), factor=0.5, patience=1, threshold=0.1, threshold_mode="abs"
    )
    # improvement means a < best - 0.1
    got = lrs_after(
        sched,
        [
            10.0,  # best 10
            9.95,  # not below 9.9: bad 1
            9.85,  # below 9.9: best 9.85
            9.80,  # bad 1
            9.76,  # bad 2 > 1: lr 0.5
            9.70,  # below 9.75: best 9.7
            9.65,
        ],
    )  # bad 1
    assert got == [1.0] * 4 + [0.5] * 3
    assert sched.best == 9.70 and sched.num_bad_epochs == 1


def test_max_rel_and_max_abs():
    sched = optim.ReduceLROnPlateau(make_opt(), mode="max", factor=0.1, patience=1, threshold=0.05)
    # improvement means a > best * 1.05
    got = lrs_after(
        sched,
        [
            0.50,  # best 0.5
            0.52,  # not above 0.525: bad 1
            0.56,  # best 0.56
            0.57,  # not above 0.588: bad 1
            0.58,  # bad 2: lr 0.1
            0.59,
        ],
    )  # above 0.588: best 0.59
    assert got == pytest.approx([1.0] * 4 + [0.1] * 2)
    sched = optim.ReduceLROnPlateau(
        make_opt(), mode="max", factor=0.1, patience=0, threshold=0.01, threshold_mode="abs"
    )
    # improvement means a > best + 0.01
    got = lrs_after(sched, [0.50, 0.505, 0.52, 0.525])
    assert got == pytest.approx([1.0, 0.1, 0.1, 0.01])


def test_patience_zero_with_cooldown():
    sched = optim.ReduceLROnPlateau(make_opt(), factor=0.5, patience=0, cooldown=2, threshold=0.0)
    got = lrs_after(sched, [1.0] * 8)
    # step 1 sets best; step 2 reduces and starts a cooldown of 2 steps whose bad epochs
    # do not count (steps 3, 4); step 5 reduces again; steps 6, 7 cool down; step 8 reduces
    assert got == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]


def test_an_improvement_during_cooldown_still_becomes_the_best():
    sched = optim.ReduceLROnPlateau(make_opt(), factor=0.5, patience=0, cooldown=3, threshold=0.0)
    got = lrs_after(sched, [5.0, 5.0, 4.0, 4.5, 4.5, 4.5])
    # 5 best; 5 bad: lr 0.5, cooldown 3; 4 best (cooldown 2); 4.5 (cooldown 1);
    # 4.5 (cooldown 0); 4.5 bad 1 > 0: lr 0.25
    assert got == [1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert sched.best == 4.0


def test_min_lr_floor_per_group_and_eps():
    opt = make_opt(lr=1.0, groups=2)  # lrs 1.0 and 2.0
    sched = optim.ReduceLROnPlateau(opt, factor=0.1, patience=0, min_lr=[0.05, 0.5])
    for _ in range(4):
        sched.step(3.0)
    # group 0: 1 -> 0.1 -> max(0.01, 0.05) = 0.05 -> 0.05; group 1: 2 -> 0.5 -> 0.5
    assert sched.get_last_lr() == pytest.approx([0.05, 0.5])
    tiny = make_opt(lr=1e-7)
    sched = optim.ReduceLROnPlateau(tiny, factor=0.5, patience=0, eps=1e-7)
    lrs_after(sched, [1.0, 1.0, 1.0])
    assert tiny.param_groups[0]["lr"] == 1e-7  # a change of 5e-8 <= eps is skipped
    sched = optim.ReduceLROnPlateau(make_opt(lr=1e-7), factor=0.5, patience=0, eps=1e-8)
    assert lrs_after(sched, [1.0, 1.0]) == [1e-7, 5e-8]


def test_the_scheduler_drives_the_optimizer_and_accepts_tensor_and_array_metrics():
    opt = make_opt(lr=1.0)
    sched = optim.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    assert isinstance(sched, optim.LRScheduler)
    assert optim.lr_scheduler.ReduceLROnPlateau is optim.ReduceLROnPlateau
    sched.step(ad.tensor(2.0))
    sched.step(np.array([2.0]))
    p = opt.param_groups[0]["params"][0]
    p.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(p.data, -0.5)
    sched.step(np.float32(1.0))
    assert sched.best == 1.0 and sched.get_last_lr() == [0.5]


def test_defaults_follow_pytorch():
    sched = optim.ReduceLROnPlateau(make_opt())
    assert (
        sched.mode,
        sched.factor,
        sched.patience,
        sched.threshold,
        sched.threshold_mode,
        sched.cooldown,
        sched.min_lrs,
        sched.eps,
    ) == ("min", 0.1, 10, 1e-4, "rel", 0, [0.0], 1e-8)
    assert sched.best == math.inf and sched.last_epoch == 0
    assert lrs_after(sched, [1.0] * 12) == [1.0] * 11 + [pytest.approx(0.1)]


def test_state_dict_round_trip():
    sched = optim.ReduceLROnPlateau(make_opt(), factor=0.5, patience=1, cooldown=1)
    lrs_after(sched, [3.0, 3.0, 3.0, 2.0, 2.5])
    state = sched.state_dict()
    expected = lrs_after(sched, [2.5, 2.5, 2.5, 2.5])
    other = optim.ReduceLROnPlateau(make_opt(lr=0.5), mode="max", patience=7)
    other.load_state_dict(state)
    assert lrs_after(other, [2.5, 2.5, 2.5, 2.5]) == expected
    assert other.patience == 1 and other.mode == "min"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.update(best=float("nan")), r"best must be a number"),
        (lambda s: s.update(num_bad_epochs=-1), r"num_bad_epochs must be an int >= 0, got -1"),
        (lambda s: s.update(mode="median"), r"mode must be 'min' or 'max', got 'median'"),
        (lambda s: s.update(mode="max"), r"mode_worse must be -inf for mode 'max', got inf"),
        (lambda s: s.update(min_lrs=[0.0, 0.0]), r"min_lrs must be a list of 1 rates"),
        (lambda s: s.update(factor=1.0), r"factor must be a number in \[0, 1\), got 1.0"),
        (lambda s: s.pop("cooldown_counter"), r"expected the entries"),
    ],
)
def test_invalid_state_is_refused_and_changes_nothing(edit, message):
    sched = optim.ReduceLROnPlateau(make_opt(), patience=3)
    lrs_after(sched, [2.0, 3.0])
    before = dict(sched.state_dict())
    state = dict(before)
    edit(state)
    with pytest.raises(
        (TypeError, ValueError), match="ReduceLROnPlateau.load_state_dict: .*" + message
    ):
        sched.load_state_dict(state)
    assert sched.state_dict() == before
