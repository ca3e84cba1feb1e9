"""optim.functional: sgd / adam over parameter pytrees agree bit for bit with optim.SGD /
optim.Adam on nn Parameters, and the loop's evaluation, callback and stopping rules."""

import numpy as np
import pytest

import autodiff as ad
import optim
from nn import Parameter
from optim import functional as fopt


def problem(dtype=np.float64, seed=0):
    """A least-squares-plus-tanh loss of a pytree {"w": (3, 2), "b": [(2,)]}."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((20, 3)).astype(dtype)
    y = rng.standard_normal((20, 2)).astype(dtype)

    def loss(p):
        return ad.mean((ad.tanh(x @ p["w"]) + p["b"][0] - y) ** 2)

    params = {
        "w": rng.standard_normal((3, 2)).astype(dtype),
        "b": [rng.standard_normal(2).astype(dtype)],
    }
    return loss, params


def class_run(make_optimizer, loss, params, steps):
    """The same loss trained with an optim class on Parameters: final arrays and losses."""
    ps = {"w": Parameter(params["w"].copy()), "b": [Parameter(params["b"][0].copy())]}
    opt = make_optimizer([ps["w"], ps["b"][0]])
    losses = []
    for _ in range(steps):
        value = loss(ps)
        opt.zero_grad()
        value.backward()
        opt.step()
        losses.append(float(value.data))
    return {"w": ps["w"].data, "b": [ps["b"][0].data]}, losses


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "functional, make_optimizer",
    [
        (lambda vg, p: fopt.sgd(vg, p, 0.1, 25), lambda ps: optim.SGD(ps, lr=0.1)),
        (
            lambda vg, p: fopt.sgd(vg, p, 0.05, 25, momentum=0.9),
            lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
        ),
        (
            lambda vg, p: fopt.adam(vg, p, 0.01, 25, betas=(0.8, 0.99), eps=1e-6),
            lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
        ),
    ],
    ids=["gd", "momentum", "adam"],
)
def test_functional_loops_equal_the_optimizer_classes_bitwise(functional, make_optimizer, dtype):
    loss, params = problem(dtype)
    before = {"w": params["w"].copy(), "b": [params["b"][0].copy()]}
    final, values = functional(ad.value_and_grad(loss), params)
    expected, losses = class_run(make_optimizer, loss, params, 25)
    assert [float(v) for v in values] == losses
    np.testing.assert_array_equal(final["w"], expected["w"])
    np.testing.assert_array_equal(final["b"][0], expected["b"][0])
    assert final["w"].dtype == dtype and isinstance(final["b"], list)
    assert losses[-1] < losses[0]
    np.testing.assert_array_equal(params["w"], before["w"])  # the caller's arrays untouched


def test_plain_gradient_descent_is_p_minus_lr_g():
    loss, params = problem()
    vg = ad.value_and_grad(loss)
    p = {"w": params["w"], "b": [params["b"][0]]}
    for _ in range(5):
        _, g = vg(p)
        p = {"w": p["w"] - 0.3 * g["w"], "b": [p["b"][0] - 0.3 * g["b"][0]]}
    final, values = fopt.sgd(vg, params, 0.3, 5)
    assert len(values) == 5
    np.testing.assert_array_equal(final["w"], p["w"])


def test_evaluate_final_and_the_callback_and_stopping():
    loss, params = problem()
    seen = []

    def callback(t, p, value, grads):
        seen.append((t, float(value), set(grads)))

    final, values = fopt.sgd(
        ad.value_and_grad(loss), params, 0.1, 4, callback=callback, evaluate_final=True
    )
    assert [t for t, _, _ in seen] == [0, 1, 2, 3, 4] and len(values) == 5
    assert float(values[-1]) == float(loss(final))  # the last value is at the final iterate
    assert seen[0][2] == {"w", "b"}

    # returning True stops at that iterate, before its update
    stopped, values = fopt.sgd(
        ad.value_and_grad(loss), params, 0.1, 50, callback=lambda t, p, v, g: t == 2
    )
    assert len(values) == 3
    again, _ = fopt.sgd(ad.value_and_grad(loss), params, 0.1, 2)
    np.testing.assert_array_equal(stopped["w"], again["w"])


def test_aux_values_and_fresh_batches_pass_through():
    rng = np.random.default_rng(1)
    w = np.zeros(2)
    target = np.array([1.0, -2.0])

    def loss(w, x):
        residual = x @ w - x @ target
        return ad.mean(residual**2), residual

    vg = ad.value_and_grad(loss, has_aux=True)
    final, values = fopt.sgd(lambda p: vg(p, rng.standard_normal((16, 2))), w, 0.2, 200)
    assert values[0][1].shape == (16,)  # (value, aux) pairs, as returned
    np.testing.assert_allclose(final, target, atol=1e-6)


def test_bad_arguments_are_reported():
    loss, params = problem()
    with pytest.raises(ValueError, match="momentum"):
        fopt.sgd(ad.value_and_grad(loss), params, 0.1, 3, momentum=1.0)
    with pytest.raises(ValueError, match="gradients"):
        fopt.sgd(lambda p: (0.0, [np.zeros(1)]), params, 0.1, 3)
