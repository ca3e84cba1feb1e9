"""Learning-rate schedules against their formulas."""

import math

import numpy as np
import pytest

import nn
import optim


def make_opt(lr=0.1, groups=1):
    params = [nn.Parameter(np.zeros(2)) for _ in range(groups)]
    if groups == 1:
        return optim.SGD(params, lr=lr)
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], lr=lr)


def lrs(scheduler, steps):
    """The learning rate in force at steps 0 .. steps-1."""
    out = []
    for _ in range(steps):
        out.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.step()
    return out


def test_constant():
    assert lrs(optim.ConstantLR(make_opt()), 5) == [0.1] * 5
    assert lrs(optim.ConstantLR(make_opt(), factor=0.5, total_iters=2), 4) == pytest.approx(
        [0.05, 0.05, 0.1, 0.1]
    )


def test_exponential_multiplies_by_gamma_each_step():
    got = lrs(optim.ExponentialLR(make_opt(), gamma=0.9), 6)
    np.testing.assert_allclose(got, [0.1 * 0.9**t for t in range(6)])
    np.testing.assert_allclose(np.array(got[1:]) / np.array(got[:-1]), 0.9)


def test_step_decay():
    got = lrs(optim.StepLR(make_opt(), step_size=3, gamma=0.5), 8)
    np.testing.assert_allclose(got, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025])


def test_cosine_annealing():
    got = lrs(optim.CosineAnnealingLR(make_opt(), T_max=10, eta_min=0.01), 13)
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * min(t, 10) / 10)) / 2 for t in range(13)]
    np.testing.assert_allclose(got, want)
    assert got[0] == pytest.approx(0.1) and got[10] == pytest.approx(0.01)


@pytest.mark.parametrize("decay", ["linear", "cosine"])
def test_warmup_then_decay(decay):
    got = lrs(
        optim.WarmupDecayLR(make_opt(), warmup_steps=4, total_steps=12, decay=decay, min_lr=0.02),
        15,
    )
    for t, lr in enumerate(got):
        if t < 4:
            want = 0.1 * t / 4
        else:
            p = min(1.0, (t - 4) / 8)
            shape = 1 - p if decay == "linear" else (1 + math.cos(math.pi * p)) / 2
            want = 0.02 + 0.08 * shape
        assert lr == pytest.approx(want), t
    assert max(got) == pytest.approx(0.1) and got.index(max(got)) == 4


def test_one_cycle_follows_pytorch_formula():
    total, max_lr = 20, 1.0
    sched = optim.OneCycleLR(make_opt(), max_lr=max_lr, total_steps=total, pct_start=0.25)
    got = lrs(sched, total)
    initial, final = max_lr / 25, max_lr / 25 / 1e4
    peak = 0.25 * total - 1
    for t, lr in enumerate(got):
        if t <= peak:
            pct, start, end = t / peak, initial, max_lr
        else:
            pct, start, end = (t - peak) / (total - 1 - peak), max_lr, final
        assert lr == pytest.approx(end + (start - end) / 2 * (1 + math.cos(math.pi * pct))), t
    assert got[0] == pytest.approx(initial) and got[4] == pytest.approx(max_lr)
    assert got[-1] == pytest.approx(final)
    assert sched.last_epoch == total  # one step per batch: total_steps calls are fine
    with pytest.raises(ValueError, match="more than total_steps"):
        sched.step()


def test_one_cycle_linear_and_per_group_max():
    opt = make_opt(groups=2)
    got = lrs(
        optim.OneCycleLR(
            opt,
            max_lr=[1.0, 2.0],
            total_steps=11,
            pct_start=0.5,
            anneal_strategy="linear",
            div_factor=10,
            final_div_factor=1,
        ),
        11,
    )
    # peak at step 0.5*11 - 1 = 4.5: linear rise from 0.1 to 1.0 over 4.5 steps
    np.testing.assert_allclose(got[:5], [0.1 + 0.9 * t / 4.5 for t in range(5)])
    assert opt.param_groups[1]["initial_lr"] == pytest.approx(0.2)


def test_lambda_and_schedule_drives_the_optimizer():
    opt = make_opt(lr=1.0)
    sched = optim.LambdaLR(opt, lambda t: 1 / (t + 1))
    p = opt.param_groups[0]["params"][0]
    for t in range(3):
        p.grad = np.ones(2)
        before = p.data.copy()
        opt.step()
        np.testing.assert_allclose(before - p.data, 1 / (t + 1))
        sched.step()
    assert sched.get_last_lr() == [pytest.approx(0.25)]


def test_several_groups_keep_their_base_rates():
    opt = make_opt(lr=0.1, groups=2)
    sched = optim.ExponentialLR(opt, gamma=0.5)
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.05, 0.1])


def test_scheduler_state_dict_round_trip():
    opt = make_opt()
    sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    other = optim.StepLR(make_opt(), step_size=5, gamma=0.5)
    other.load_state_dict(state)
    assert other.last_epoch == 3 and other.step_size == 2
    other.step()
    assert other.get_last_lr() == pytest.approx([0.1 * 0.1**2])


def test_a_step_giving_a_bad_rate_is_an_error_and_changes_nothing():
    opt = make_opt()
    sched = optim.LambdaLR(opt, lambda t: 1.0 - 0.5 * t)
    sched.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.0
    with pytest.raises(
        ValueError, match="LambdaLR: step 3 gives parameter group 0 the learning rate -0.05"
    ):
        sched.step()
    assert sched.last_epoch == 2 and sched.get_last_lr() == [0.0]
    assert opt.param_groups[0]["lr"] == 0.0


def test_schedule_errors():
    with pytest.raises(TypeError, match="expected an optim.Optimizer"):
        optim.ExponentialLR("sgd", gamma=0.9)
    with pytest.raises(ValueError, match="warmup_steps < total_steps"):
        optim.WarmupDecayLR(make_opt(), warmup_steps=5, total_steps=5)
    with pytest.raises(ValueError, match="pct_start"):
        optim.OneCycleLR(make_opt(), max_lr=1.0, total_steps=10, pct_start=1.5)
