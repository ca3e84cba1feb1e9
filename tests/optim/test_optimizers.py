"""Optimizers against hand-computed updates, their state, and gradient clipping."""

import numpy as np
import pytest

import autodiff as ad
import nn
import optim

A = np.array([1.0, 2.0, 0.5])  # f(p) = 0.5 * sum(A * p^2), gradient A * p
P0 = np.array([1.0, -1.0, 2.0])


def quadratic_param(p0=P0, dtype=np.float64):
    return nn.Parameter(np.array(p0, dtype=dtype))


def backward_quadratic(p):
    (0.5 * (ad.tensor(A.astype(p.dtype)) * p * p).sum()).backward()


def run(opt, p, steps):
    trajectory = [p.data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        backward_quadratic(p)
        opt.step()
        trajectory.append(p.data.copy())
    return trajectory


# ------------------------------------------------------------------------ SGD
def test_sgd_plain_step():
    p = quadratic_param()
    run(optim.SGD([p], lr=0.1), p, 1)
    np.testing.assert_allclose(p.data, P0 - 0.1 * A * P0)


def test_sgd_momentum_several_steps_against_hand_computed_updates():
    p = quadratic_param()
    traj = run(optim.SGD([p], lr=0.1, momentum=0.9), p, 3)
    w, v = P0.copy(), np.zeros(3)
    for t in range(3):
        v = 0.9 * v - 0.1 * (A * w)
        w = w + v
        np.testing.assert_allclose(traj[t + 1], w, rtol=1e-12)


def test_sgd_momentum_at_zero_gradient_steps_momentum_times_previous_step():
    # 003_3e2271feff96ec1f.txt, Problem 2.3: at a saddle (zero gradient) v_{t+1} = mu * v_t.
    p = quadratic_param()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    traj = run(opt, p, 2)
    previous_step = traj[2] - traj[1]
    before = p.data.copy()
    p.grad = np.zeros(3)
    opt.step()
    np.testing.assert_allclose(p.data - before, 0.9 * previous_step, rtol=1e-12)


def test_sgd_with_constant_lr_equals_pytorch_formulation():
    p = quadratic_param()
    traj = run(optim.SGD([p], lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01), p, 4)
    w, buf = P0.copy(), np.zeros(3)
    for t in range(4):  # torch.optim.SGD: buf = m*buf + g; g' = g + m*buf; w -= lr*g'
        g = A * w + 0.01 * w
        buf = 0.8 * buf + g
        w = w - 0.05 * (g + 0.8 * buf)
        np.testing.assert_allclose(traj[t + 1], w, rtol=1e-12)


def test_sgd_keras_time_based_decay():
    p = quadratic_param()
    opt = optim.SGD([p], lr=0.1, decay=0.5)
    traj = run(opt, p, 3)
    w = P0.copy()
    for t in range(3):
        w = w - 0.1 / (1 + 0.5 * t) * (A * w)
        np.testing.assert_allclose(traj[t + 1], w, rtol=1e-12)
    assert opt.iterations == 3 and opt.current_lr() == pytest.approx(0.1 / 2.5)


def test_sgd_hyperparameter_errors():
    p = quadratic_param()
    with pytest.raises(ValueError, match="lr must be non-negative"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="nesterov=True requires momentum"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="appears more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="only real floating-point tensors"):
        optim.SGD([ad.tensor([1, 2])], lr=0.1)
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        optim.SGD([{"params": [p], "betas": (0.9, 0.9)}], lr=0.1)


# ----------------------------------------------------------------------- Adam
def adam_reference(w, steps, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    """Kingma & Ba (2015), Algorithm 1 (plus L2 weight decay added to the gradient)."""
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t in range(1, steps + 1):
        g = A * w + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        out.append(w)
    return out


def test_adam_first_step_moves_every_coordinate_by_lr():
    p = quadratic_param()
    run(optim.Adam([p]), p, 1)
    np.testing.assert_allclose(p.data, P0 - 1e-3 * np.sign(A * P0), rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs", [{}, dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6), dict(lr=0.05, weight_decay=0.1)]
)
def test_adam_steps_against_published_rule(kwargs):
    p = quadratic_param()
    opt = optim.Adam([p], **kwargs)
    assert opt.param_groups[0]["betas"] == kwargs.get("betas", (0.9, 0.999))
    traj = run(opt, p, 5)
    ref = adam_reference(
        P0.copy(),
        5,
        kwargs.get("lr", 1e-3),
        *kwargs.get("betas", (0.9, 0.999)),
        kwargs.get("eps", 1e-8),
        kwargs.get("weight_decay", 0.0),
    )
    for got, want in zip(traj[1:], ref, strict=False):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_adam_hyperparameter_errors():
    with pytest.raises(ValueError, match="betas must be two numbers in"):
        optim.Adam([quadratic_param()], betas=(0.9, 1.0))


# ----------------------------------------------------------- shared behaviour
@pytest.mark.parametrize(
    "make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps, lr=0.1)]
)
def test_float32_stays_float32(make):
    p = quadratic_param(dtype=np.float32)
    opt = make([p])
    run(opt, p, 3)
    assert p.dtype == np.float32
    assert all(
        v.dtype == np.float32
        for s in opt.state.values()
        for v in s.values()
        if isinstance(v, np.ndarray)
    )


def test_parameters_without_gradient_are_skipped_and_zero_grad_clears():
    a, b = quadratic_param(), quadratic_param()
    opt = optim.SGD([a, b], lr=0.1)
    backward_quadratic(a)
    opt.step()
    np.testing.assert_array_equal(b.data, P0)
    assert not np.array_equal(a.data, P0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_step_works_while_parameters_are_read_only_and_never_mutates_gradients():
    a, b = quadratic_param(), quadratic_param()
    shared = np.array([1.0, 1.0, 1.0])
    shared.setflags(write=False)  # a gradient array shared by two parameters
    a.grad = b.grad = shared
    live = (a * 2).sum()  # a live graph saves a: its array is read-only
    assert not a.data.flags.writeable
    optim.SGD([a, b], lr=0.5, momentum=0.5, weight_decay=0.1).step()
    np.testing.assert_allclose(a.data, P0 - 0.5 * (1 + 0.1 * P0))
    np.testing.assert_allclose(b.data, a.data)
    np.testing.assert_array_equal(shared, 1.0)
    live.backward()


def test_param_groups_use_their_own_hyperparameters():
    a, b = quadratic_param(), quadratic_param()
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    backward_quadratic(a)
    backward_quadratic(b)
    opt.step()
    np.testing.assert_allclose(a.data, P0 - 0.1 * A * P0)
    np.testing.assert_allclose(b.data, P0 - 0.01 * A * P0)


@pytest.mark.parametrize(
    "make",
    [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, decay=0.1), lambda ps: optim.Adam(ps, lr=0.1)],
)
def test_state_dict_round_trip_continues_identically(make):
    p = quadratic_param()
    opt = make([p])
    run(opt, p, 3)
    saved_p, saved = p.data.copy(), opt.state_dict()
    expected = run(opt, p, 2)
    q = nn.Parameter(saved_p.copy())
    fresh = make([q])
    fresh.load_state_dict(saved)
    got = run(fresh, q, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    saved["param_groups"][0]["lr"] = 123.0  # the loaded state is a copy
    assert fresh.param_groups[0]["lr"] != 123.0


def test_load_state_dict_mismatch_is_an_error_and_changes_nothing():
    p = quadratic_param()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    run(opt, p, 1)
    other = optim.SGD([nn.Parameter(np.zeros(5))], lr=0.5, momentum=0.9)
    run_state = other.state_dict()
    with pytest.raises(ValueError, match="state 'velocity' of parameter 0 has shape"):
        other.load_state_dict(opt.state_dict())
    assert other.state_dict()["param_groups"][0]["lr"] == 0.5
    np.testing.assert_array_equal(
        other.state_dict()["state"].get(0, {}).get("velocity"),
        run_state["state"].get(0, {}).get("velocity"),
    )
    two = optim.SGD([quadratic_param(), quadratic_param()], lr=0.1)
    with pytest.raises(ValueError, match="group 0 has 1 parameters in the state, 2 here"):
        two.load_state_dict(opt.state_dict())


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["state"][0].pop("exp_avg"),
        lambda s: s["state"][0].update(exp_avg_sq=np.zeros(3, complex)),
        lambda s: s["state"][0].update(step=2.5),
        lambda s: s["param_groups"][0].update(eps=0.0),
        lambda s: s.update(iterations=-1),  # checked last: groups already read
    ],
)
def test_invalid_state_is_refused_at_load_time_and_changes_nothing(edit):
    p, q = quadratic_param(), quadratic_param()
    src, dst = optim.Adam([p], lr=0.1), optim.Adam([q], lr=0.01, betas=(0.5, 0.6))
    run(src, p, 3)
    run(dst, q, 1)
    before = dst.state_dict()
    state = src.state_dict()
    edit(state)
    with pytest.raises((TypeError, ValueError), match="Adam.load_state_dict"):
        dst.load_state_dict(state)
    after = dst.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["iterations"] == before["iterations"] == 1
    assert after["state"][0].keys() == before["state"][0].keys()
    for key, value in before["state"][0].items():
        np.testing.assert_array_equal(after["state"][0][key], value)
    run(dst, q, 1)  # still steps as before
    assert dst.state_dict()["state"][0]["step"] == 2


def test_missing_adam_moment_is_refused_at_load_time_not_at_step():
    p = quadratic_param()
    opt = optim.Adam([p])
    run(opt, p, 1)
    state = opt.state_dict()
    del state["state"][0]["exp_avg"]
    with pytest.raises(ValueError, match=r"missing \['exp_avg'\]"):
        optim.Adam([quadratic_param()]).load_state_dict(state)
    del state["state"][0]["exp_avg_sq"], state["state"][0]["step"]  # empty: a fresh start
    fresh = optim.Adam([quadratic_param()])
    fresh.load_state_dict(state)
    run(fresh, fresh.param_groups[0]["params"][0], 1)


# ------------------------------------------------------------------- clipping
def test_clip_grad_norm_scales_to_max_norm_without_mutating():
    a, b = quadratic_param(), quadratic_param([0.0, 0.0])
    ga, gb = np.array([3.0, 0.0, 0.0]), np.array([0.0, 4.0])
    a.grad, b.grad = ga, gb
    total = optim.clip_grad_norm_([a, b], max_norm=1.0)
    assert total == pytest.approx(5.0)
    assert np.sqrt(np.sum(a.grad**2) + np.sum(b.grad**2)) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(a.grad, [0.6, 0, 0], rtol=1e-5)
    np.testing.assert_array_equal(ga, [3.0, 0.0, 0.0])  # the original array is untouched


def test_clip_grad_norm_below_threshold_and_inf_norm():
    a = quadratic_param()
    a.grad = np.array([0.1, -0.2, 0.0], np.float32)
    before = a.grad
    assert optim.clip_grad_norm_(a, 10.0) == pytest.approx(np.sqrt(0.05), rel=1e-6)
    assert a.grad is before
    assert optim.clip_grad_norm_([a], 0.1, norm_type=np.inf) == pytest.approx(0.2)
    np.testing.assert_allclose(a.grad, [0.05, -0.1, 0.0], rtol=1e-5)
    assert a.grad.dtype == np.float32
    a.grad = np.array([np.inf, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="norm of the gradients is inf"):
        optim.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
