"""experiments.parity: the quick run (claims, files, known answers) and its building blocks."""

import json

import numpy as np
import pytest

import autodiff as ad
from experiments import parity
from tests.experiment_checks import check_outputs, run_quick


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("parity")
    report = run_quick(parity.main, out)
    return out, report, json.loads((out / "results.json").read_text())


def test_files_and_claims(run):
    out, report, _ = run
    figures = ["b_loss_curves.png", "c_gradient_spread.png"]
    figures += ["d_gradient_per_layer.png", "d_loss_curves.png"]
    links = [f"]({name})" for name in report.figures]
    check_outputs(out, report, figures=figures, claims=12, md_has=links)


def test_known_answers(run):
    _, _, res = run
    n = res["numbers"]
    for d in parity.QUICK["capacity"]["dims"]:
        assert n[f"a_wrong_fixed_d{d}"] == 0
        # the literal construction misses one input: x = all ones under the all-ones mask
        assert n[f"a_wrong_literal_d{d}"] == 1
    assert n["b_test_acc_d5"] == [1.0, 1.0]
    assert all(abs(a - 0.5) < 0.02 for a in n["b_test_acc_d30"])
    # at the default initialisation |f| < 1 everywhere, hence a = 0
    assert n["c_default_a_sq"] == [0.0] * len(parity.QUICK["gradients"]["dims"])
    np.testing.assert_allclose(n["c_default_spread_mean"], n["c_default_parseval"], rtol=1e-9)
    assert -1.15 <= n["c_default_slope_log2"] <= -0.85
    assert n["d_acc_2-bit_sigmoid_L1"] == [1.0, 1.0] and n["d_acc_5-bit_relu_L1"] == [1.0, 1.0]
    assert n["d_acc_2-bit_sigmoid_L8"] == [0.5, 0.5] and n["d_acc_5-bit_sigmoid_L8"] == [0.5, 0.5]
    first, *_, last_hidden, _ = n["d_grad_norms_init_sigmoid_L8"]
    assert first < 1e-3 * last_hidden


def test_construction_is_exact_and_literal_misses_only_the_all_ones_input():
    d = 6
    x = parity.all_inputs(d)
    masks = x.astype(np.int64)
    y = parity.parity_labels(x[None], masks)
    assert np.array_equal(parity.two_layer(parity.construction(masks, 10 * d), x), y)
    miss = parity.two_layer(parity.construction(masks, 10 * d, literal=True), x) != y
    assert np.argwhere(miss).tolist() == [[2**d - 1, 2**d - 1]]
    with pytest.raises(ValueError):
        parity.construction(np.ones(5), 50)


def test_per_example_gradients_match_closed_form():
    rng = np.random.default_rng(1)
    d, k = 4, 7
    p = parity.init_two_layer(rng, d, k)
    x = parity.all_inputs(d)
    z = x @ p["W"].T + p["b"]
    active = (z > 0) * p["alpha"]
    expected = np.concatenate(
        [
            (active[:, :, None] * x[:, None, :]).reshape(len(x), -1),
            active,
            np.maximum(z, 0),
            np.ones((len(x), 1)),
        ],
        axis=1,
    )
    np.testing.assert_allclose(parity.per_example_gradients(p, x), expected, atol=1e-14)
    # and their label-weighted mean is the engine's gradient of the population risk
    y = parity.parity_labels(x, np.array([1, 0, 1, 1]))
    f = parity.two_layer(p, x)
    coef = -y * (y * f < 1)
    direct = parity.flatten_params(ad.grad(parity.population_risk)(p, x, y))
    np.testing.assert_allclose(coef @ expected / len(x), direct, atol=1e-14)


def test_training_is_reproducible_and_learns_small_parity():
    def train(seed):
        rng = np.random.default_rng(seed)
        v = np.array([[1, 1, 0]])
        p = parity.init_two_layer(rng, 3, 30, (1,), parity.TRAIN_DTYPE)
        return parity.sgd(
            parity.mean_hinge(parity.two_layer),
            p,
            parity.parity_sampler(rng, v, 50),
            300,
            0.1,
            desc="test",
        )

    (p1, h1, _), (p2, h2, _) = train(3), train(3)
    c1 = h1["loss"]
    assert np.array_equal(c1, h2["loss"]) and np.array_equal(h1["acc"], h2["acc"])
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)
    x = parity.all_inputs(3)[None].astype(np.float32)
    acc = parity.accuracy(parity.two_layer, p1, x, parity.parity_labels(x, np.array([[1, 1, 0]])))
    assert acc.tolist() == [1.0]
    assert c1[-20:].mean() < 0.2 < c1[:20].mean()
    assert h1["acc"][-20:].mean() > 0.95
