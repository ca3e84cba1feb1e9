"""experiments.quadratic_activation: quick run, claims, the feature map by hand, determinism."""

import numpy as np
import pytest

from experiments import quadratic_activation as exp
from tests.experiment_checks import check_claims, check_outputs, quick_run_fixture, run_quick

quick_run = quick_run_fixture(exp)


def test_outputs_exist_and_claims_hold(quick_run):
    figures = ["quadratic_network.png"]
    check_outputs(*quick_run, figures=figures, claims=5, md_has=["c_Theta (network)"])


def test_quick_claims_hold_for_seed_4(tmp_path):
    # with 1,500 steps (the quick run's earlier budget) no K = 2D run of seed 4 reached the
    # optimum (best relative c error 1.2e-4), found by `python -m experiments seeds --quick`
    report = run_quick(exp.main, tmp_path, seed=4)
    check_claims(report, 5)


def test_known_values(quick_run):
    _, report = quick_run
    closed = report.numbers["closed_form"]
    runs = report.numbers["runs"]
    d = report.numbers["config"]["D"]
    # every K = 2D run ends at the least-squares loss, every K = 1 run well above it
    assert np.allclose(runs[str(2 * d)]["finals"], closed["loss"], rtol=1e-8)
    assert min(runs["1"]["finals"]) >= runs["1"]["bound"] > closed["loss"]
    np.testing.assert_allclose(
        report.numbers["c_theta_best_K2D"], closed["c_hat"], rtol=1e-6, atol=1e-9
    )


def test_feature_map_by_hand():
    x = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(exp.features(x), [[1.0, 4.0, 4.0]])  # x1^2, x2^2, 2 x1 x2
    params = {"W": np.array([[1.0, 1.0]]), "v": np.array([2.0])}  # C = 2 [[1, 1], [1, 1]]
    np.testing.assert_allclose(exp.c_theta(params), [2.0, 2.0, 2.0])
    assert float(exp.network(params, x)[0]) == pytest.approx(18.0)  # 2 (1 + 2)^2
    c = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(exp.c_theta(exp.params_from_c(c, 3)), c, atol=1e-14)
    np.testing.assert_allclose(exp.vech(exp.unvech(c, 2)), c)


def test_lower_bound_is_below_every_rank_one_network():
    rng = np.random.default_rng(3)
    x, y, _ = exp.make_data(rng, 3, 20)
    phi = exp.features(x)
    c_hat = np.linalg.lstsq(phi, y, rcond=None)[0]
    optimum = 0.5 * float(np.sum((phi @ c_hat - y) ** 2))
    bound = exp.lower_bound(phi, c_hat, optimum, 1)
    assert bound > optimum
    for _ in range(200):  # random rank-1 networks, including rescaled good guesses
        p = {"W": rng.standard_normal((1, 3)), "v": rng.standard_normal(1)}
        assert float(exp.loss(p, x, y)) >= bound


def test_training_is_deterministic():
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    data_a, data_b = exp.make_data(rng_a, 3, 10), exp.make_data(rng_b, 3, 10)
    for a, b in zip(data_a, data_b, strict=False):
        np.testing.assert_array_equal(a, b)
    runs_a = exp.train(rng_a, data_a[0], data_a[1], [2], 1, 30)
    runs_b = exp.train(rng_b, data_b[0], data_b[1], [2], 1, 30)
    np.testing.assert_array_equal(runs_a[2][0]["losses"], runs_b[2][0]["losses"])
