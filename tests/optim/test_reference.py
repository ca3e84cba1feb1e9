"""SGD (dampening), Adam (amsgrad), AdamW, RMSprop and Adagrad against hand-written numpy
references of PyTorch's documented update rules, over 25 steps.

The gradient at step t is that of a quadratic plus fixed random noise,
g_t(w) = A * w + NOISE[t], set on `.grad` directly, so the parameters feed back into
their own gradients and the noise makes the second moments rise and fall (which is
when amsgrad, centering and the accumulators matter).  The references run in float64;
the optimizer must match them to rtol 1e-10 on float64 parameters and to 1e-5 on
float32 ones (whose state must stay float32).
"""

import numpy as np
import pytest

import nn
import optim

STEPS = 25
A = np.array([1.0, 0.3, 2.0, 0.05])
P0 = np.array([1.5, -2.0, 0.7, 3.0])
NOISE = np.random.default_rng(25).normal(0.0, 0.8, (STEPS, 4))


def gradient(w, t):
    return A * w + NOISE[t]


# ------------------------------------------------------------ numpy references
def sgd_reference(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """torch.optim.SGD's documented algorithm."""
    w, buf, out = P0.copy(), None, []
    for t in range(STEPS):
        g = gradient(w, t) + weight_decay * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
        out.append(w)
    return out


def adam_reference(
    lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False
):
    """torch.optim.Adam's documented algorithm (decoupled=True: torch.optim.AdamW's)."""
    (b1, b2), w = betas, P0.copy()
    m, v, v_max, out = np.zeros(4), np.zeros(4), np.zeros(4), []
    for t in range(1, STEPS + 1):
        g = gradient(w, t - 1)
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2**t)
        else:
            v_hat = v / (1 - b2**t)
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


def rmsprop_reference(
    lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False
):
    """torch.optim.RMSprop's documented algorithm."""
    w, v, g_avg, buf, out = P0.copy(), np.zeros(4), np.zeros(4), np.zeros(4), []
    for t in range(STEPS):
        g = gradient(w, t) + weight_decay * w
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg * g_avg
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            w = w - lr * buf
        else:
            w = w - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(w)
    return out


def adagrad_reference(
    lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10
):
    """torch.optim.Adagrad's documented algorithm."""
    w, out = P0.copy(), []
    state_sum = np.full(4, initial_accumulator_value)
    for t in range(1, STEPS + 1):
        g = gradient(w, t - 1) + weight_decay * w
        clr = lr / (1 + (t - 1) * lr_decay)
        state_sum = state_sum + g * g
        w = w - clr * g / (np.sqrt(state_sum) + eps)
        out.append(w)
    return out


def with_option(base, **option):
    """(base plus option, base): the keyword arguments of a case and the same without the
    option under test."""
    return {**base, **option}, base


REFERENCES = {
    optim.SGD: sgd_reference,
    optim.Adam: adam_reference,
    optim.AdamW: adam_reference,  # with decoupled=True: see reference()
    optim.RMSprop: rmsprop_reference,
    optim.Adagrad: adagrad_reference,
}

# (id, optimizer class, keyword arguments, the same case without the option under test: the
# option must change the trajectory, or the comparison would not test it)
CASES = [
    ("SGD-dampening", optim.SGD, *with_option(dict(lr=0.1, momentum=0.9), dampening=0.5)),
    (
        "SGD-dampening-weight-decay",
        optim.SGD,
        *with_option(dict(lr=0.05, momentum=0.8, dampening=0.3), weight_decay=0.2),
    ),
    ("SGD-nesterov", optim.SGD, *with_option(dict(lr=0.05, momentum=0.9), nesterov=True)),
    ("Adam-amsgrad", optim.Adam, *with_option(dict(lr=0.1, betas=(0.9, 0.8)), amsgrad=True)),
    (
        "Adam-amsgrad-weight-decay",
        optim.Adam,
        *with_option(dict(lr=0.05, betas=(0.8, 0.9), amsgrad=True), weight_decay=0.3),
    ),
    ("AdamW", optim.AdamW, *with_option(dict(lr=0.1), weight_decay=0.5)),
    ("AdamW-default-decay", optim.AdamW, dict(lr=0.1), dict(lr=0.1)),
    (
        "AdamW-amsgrad",
        optim.AdamW,
        dict(lr=0.1, betas=(0.8, 0.95), weight_decay=0.2, amsgrad=True),
        dict(lr=0.1, betas=(0.8, 0.95), weight_decay=0.2, decoupled=True),
    ),
    ("RMSprop", optim.RMSprop, dict(lr=0.01), dict(lr=0.01, alpha=0.9)),
    ("RMSprop-centered", optim.RMSprop, *with_option(dict(lr=0.01, alpha=0.9), centered=True)),
    ("RMSprop-momentum", optim.RMSprop, *with_option(dict(lr=0.01, alpha=0.9), momentum=0.8)),
    (
        "RMSprop-centered-momentum-weight-decay",
        optim.RMSprop,
        *with_option(
            dict(lr=0.005, alpha=0.95, eps=1e-6, momentum=0.5, centered=True), weight_decay=0.4
        ),
    ),
    ("Adagrad", optim.Adagrad, dict(lr=0.5), dict(lr=0.4)),
    ("Adagrad-lr-decay", optim.Adagrad, *with_option(dict(lr=0.5), lr_decay=0.1)),
    (
        "Adagrad-weight-decay-initial-accumulator",
        optim.Adagrad,
        *with_option(
            dict(lr=0.5, lr_decay=0.05, eps=1e-6), weight_decay=0.3, initial_accumulator_value=2.0
        ),
    ),
]


def reference(case):
    _, cls, kwargs, _ = case
    kwargs = dict(kwargs)
    if cls is optim.AdamW:
        kwargs.setdefault("weight_decay", 0.01)  # AdamW's default
        kwargs["decoupled"] = True
    return REFERENCES[cls](**kwargs)


def drive(opt, p, steps=STEPS, start=0):
    """`steps` steps from step `start` on; the trajectory of p (copies)."""
    out = []
    for t in range(start, start + steps):
        opt.zero_grad()
        p.grad = gradient(p.data.astype(np.float64), t).astype(p.dtype)
        opt.step()
        out.append(p.data.copy())
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_float64_matches_reference(case):
    _, cls, kwargs, _ = case
    p = nn.Parameter(P0.copy())
    got = drive(cls([p], **kwargs), p)
    want = reference(case)
    assert np.abs(want[-1] - P0).max() > 0.1  # the run moves the parameters
    for t, (g, w) in enumerate(zip(got, want, strict=False)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=f"step {t + 1}")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_float32_matches_reference_and_keeps_float32_state(case):
    _, cls, kwargs, _ = case
    p = nn.Parameter(P0.astype(np.float32))
    opt = cls([p], **kwargs)
    got = drive(opt, p)
    want = reference(case)
    for t, (g, w) in enumerate(zip(got, want, strict=False)):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=f"step {t + 1}")
    arrays = [v for v in opt.state[p].values() if isinstance(v, np.ndarray)]
    assert arrays and all(v.dtype == np.float32 for v in arrays)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_option_under_test_changes_the_trajectory(case):
    _, cls, _, without = case
    if cls is optim.AdamW and "decoupled" not in without:
        without = {**without, "weight_decay": 0.0}  # AdamW against plain Adam
    assert np.abs(reference(case)[-1] - REFERENCES[cls](**without)[-1]).max() > 1e-3


def test_adamw_defaults_and_zero_decay_is_adam():
    p, q = nn.Parameter(P0.copy()), nn.Parameter(P0.copy())
    adamw = optim.AdamW([p], lr=0.1, weight_decay=0.0)
    assert optim.AdamW([nn.Parameter(P0)]).defaults == dict(
        lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False
    )
    np.testing.assert_array_equal(drive(adamw, p), drive(optim.Adam([q], lr=0.1), q))


def test_adamw_decay_does_not_enter_the_moments():
    # with a zero gradient, AdamW only shrinks p (Adam's L2 decay would take a full
    # normalised step of size lr instead)
    p = nn.Parameter(P0.copy())
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = np.zeros(4)
    opt.step()
    np.testing.assert_allclose(p.data, P0 * (1 - 0.1 * 0.5), rtol=1e-15)
    np.testing.assert_array_equal(opt.state[p]["exp_avg"], 0.0)


def test_sgd_dampening_leaves_the_first_step_undampened():
    # PyTorch: the momentum buffer starts as the first gradient itself
    p = nn.Parameter(P0.copy())
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    p.grad = np.ones(4)
    opt.step()
    np.testing.assert_allclose(p.data, P0 - 0.1, rtol=1e-15)
    p.grad = np.ones(4)
    opt.step()
    np.testing.assert_allclose(p.data, P0 - 0.1 - 0.1 * (0.9 + 0.5), rtol=1e-14)


def test_adagrad_initial_accumulator_and_lr_decay_on_constant_gradient():
    p = nn.Parameter(np.zeros(1))
    opt = optim.Adagrad([p], lr=1.0, lr_decay=0.5, initial_accumulator_value=3.0)
    for t in range(1, 4):
        before = p.data.copy()
        p.grad = np.ones(1)
        opt.step()
        # step t: lr / (1 + (t - 1) * 0.5) * 1 / (sqrt(3 + t) + 1e-10)
        np.testing.assert_allclose(
            before - p.data, 1 / (1 + (t - 1) * 0.5) / (np.sqrt(3 + t) + 1e-10), rtol=1e-14
        )


# ------------------------------------------------------------------ state dicts
STATE_NAMES = {
    "SGD-dampening": {"velocity"},
    "Adam-amsgrad": {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    "AdamW": {"step", "exp_avg", "exp_avg_sq"},
    "RMSprop": {"step", "square_avg"},
    "RMSprop-centered-momentum-weight-decay": {"step", "square_avg", "grad_avg", "momentum_buffer"},
    "Adagrad-weight-decay-initial-accumulator": {"step", "sum"},
}


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in STATE_NAMES], ids=lambda c: c[0])
def test_state_dict_round_trip_continues_identically(case):
    name, cls, kwargs, _ = case
    p = nn.Parameter(P0.copy())
    opt = cls([p], **kwargs)
    drive(opt, p, 10)
    saved_p, saved = p.data.copy(), opt.state_dict()
    assert set(saved["state"][0]) == STATE_NAMES[name]
    expected = drive(opt, p, 10, start=10)
    q = nn.Parameter(saved_p)
    fresh = cls([q], lr=0.123)  # hyper-parameters come from the state
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0] == {**opt.param_groups[0], "params": [q]}
    np.testing.assert_array_equal(drive(fresh, q, 10, start=10), expected)
    saved["state"][0][sorted(STATE_NAMES[name] - {"step"})[0]][:] = 99.0  # loaded: a copy
    assert not any(np.any(v == 99.0) for v in fresh.state[q].values() if isinstance(v, np.ndarray))


def test_loaded_float64_state_is_cast_to_a_float32_parameter():
    p = nn.Parameter(P0.copy())
    opt = optim.RMSprop([p], momentum=0.5, centered=True)
    drive(opt, p, 3)
    q = nn.Parameter(P0.astype(np.float32))
    other = optim.RMSprop([q], momentum=0.5, centered=True)
    other.load_state_dict(opt.state_dict())
    assert all(v.dtype == np.float32 for v in other.state[q].values() if isinstance(v, np.ndarray))
    drive(other, q, 2, start=3)
    assert q.dtype == np.float32


@pytest.mark.parametrize(
    "make, edit, message",
    [
        (
            lambda ps: optim.Adam(ps, amsgrad=True),
            lambda s: s["state"][0].pop("max_exp_avg_sq"),
            r"Adam.load_state_dict: the state of parameter 0 .*missing \['max_exp_avg_sq'\]",
        ),
        (
            lambda ps: optim.Adam(ps),
            lambda s: s["state"][0].update(max_exp_avg_sq=np.zeros(4)),
            r"Adam.load_state_dict: the state of parameter 0 .*unexpected \['max_exp_avg_sq'\]",
        ),
        (
            lambda ps: optim.RMSprop(ps, centered=True),
            lambda s: s["param_groups"][0].update(centered=False),
            r"RMSprop.load_state_dict: .*unexpected \['grad_avg'\]",
        ),
        (
            lambda ps: optim.RMSprop(ps),
            lambda s: s["param_groups"][0].update(momentum=0.5),
            r"RMSprop.load_state_dict: .*missing \['momentum_buffer'\]",
        ),
        (
            lambda ps: optim.Adagrad(ps),
            lambda s: s["state"][0].update(sum=np.zeros(3)),
            r"Adagrad.load_state_dict: state 'sum' of parameter 0 has shape \(3,\), the parameter "
            r"\(4,\)",
        ),
        (
            lambda ps: optim.AdamW(ps),
            lambda s: s["param_groups"][0].update(weight_decay=-0.1),
            r"AdamW.load_state_dict: parameter group 0: AdamW: weight_decay must be non-negative",
        ),
        (
            lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
            lambda s: s["param_groups"][0].update(dampening=1.5),
            r"SGD.load_state_dict: parameter group 0: SGD: dampening must be a "
            r"number in \[0, 1\], got 1.5",
        ),
    ],
)
def test_state_inconsistent_with_the_hyperparameters_is_refused_and_changes_nothing(
    make, edit, message
):
    p, q = nn.Parameter(P0.copy()), nn.Parameter(P0.copy())
    src, dst = make([p]), make([q])
    drive(src, p, 3)
    drive(dst, q, 1)
    before = dst.state_dict()
    state = src.state_dict()
    edit(state)
    with pytest.raises((TypeError, ValueError), match=message):
        dst.load_state_dict(state)
    after = dst.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"][0].keys() == before["state"][0].keys()
    for key, value in before["state"][0].items():
        np.testing.assert_array_equal(after["state"][0][key], value)


@pytest.mark.parametrize(
    "make, switch, names",
    [
        (
            lambda ps: optim.Adam(ps, lr=0.1),
            dict(amsgrad=True),
            {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
        ),
        (
            lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
            dict(amsgrad=False),
            {"step", "exp_avg", "exp_avg_sq"},
        ),
        (
            lambda ps: optim.RMSprop(ps),
            dict(momentum=0.9, centered=True),
            {"step", "square_avg", "momentum_buffer", "grad_avg"},
        ),
        (
            lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True),
            dict(momentum=0.0, centered=False),
            {"step", "square_avg"},
        ),
    ],
)
def test_switching_an_option_mid_run_keeps_state_and_hyperparameters_consistent(
    make, switch, names
):
    # an entry an option needs starts at zero when the option is switched on (as on a
    # fresh parameter) and is dropped when it is switched off: the state saved afterwards
    # loads into an optimizer created with the new setting
    p = nn.Parameter(P0.copy())
    opt = make([p])
    drive(opt, p, 3)
    opt.param_groups[0].update(switch)
    drive(opt, p, 2, start=3)
    assert set(opt.state[p]) == names
    make([nn.Parameter(P0.copy())]).load_state_dict(opt.state_dict())


# ---------------------------------------------------- the engine's array rules
NEW_OPTIMIZERS = [
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True, weight_decay=0.1),
    lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5),
    lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True, weight_decay=0.1),
    lambda ps: optim.Adagrad(ps, lr_decay=0.1, weight_decay=0.1),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3),
]


@pytest.mark.parametrize("make", NEW_OPTIMIZERS, ids=["Adam", "AdamW", "RMSprop", "Adagrad", "SGD"])
def test_read_only_parameters_and_shared_gradients(make):
    # a live graph makes the parameter's array read-only (it gets a new one); the shared,
    # read-only float64 gradient is never written to and is cast to the float32 parameter
    free, locked = nn.Parameter(P0.astype(np.float32)), nn.Parameter(P0.astype(np.float32))
    shared = np.array([0.5, -1.0, 2.0, 0.25])
    shared.setflags(write=False)
    opt_free, opt_locked = make([free]), make([locked])
    for _ in range(3):
        free.grad = locked.grad = shared
        live = (locked * 2).sum()
        assert not locked.data.flags.writeable
        opt_free.step()
        opt_locked.step()
        live.backward()
    assert locked.dtype == free.dtype == np.float32
    np.testing.assert_array_equal(locked.data, free.data)
    np.testing.assert_array_equal(shared, [0.5, -1.0, 2.0, 0.25])
    assert all(
        v.dtype == np.float32
        for v in opt_locked.state[locked].values()
        if isinstance(v, np.ndarray)
    )
