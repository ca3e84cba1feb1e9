"""experiments.nngp_regression: quick run, claims, a known number, the gradient-descent trainer."""

import numpy as np
import pytest

import datasets
from experiments import nngp_regression as exp
from tests.experiment_checks import check_outputs, quick_run_fixture, run_quick

quick_run = quick_run_fixture(exp)


def test_outputs_exist_and_claims_hold(quick_run):
    figures = ["kernel_convergence.png", "kernels.png", "test_mse_vs_width.png"]
    md_has = ["Problem 11", "Problem 12", "Interpretation"]
    check_outputs(*quick_run, figures=figures, claims=14, md_has=md_has)


def test_relu_nngp_mse_matches_independent_computation(quick_run):
    _, report = quick_run
    x, y, xt, yt = datasets.nngp_regression(n=100, n_test=2000, d=200, seed=0)

    def relu_nngp(xi):
        xi = np.clip(xi, -1.0, 1.0)
        return (xi * (np.pi - np.arccos(xi)) + np.sqrt(1.0 - xi**2)) / np.pi

    alpha = np.linalg.solve(relu_nngp(x @ x.T), y)
    mse = np.mean((relu_nngp(xt @ x.T) @ alpha - yt) ** 2)
    assert report.numbers["kernel_test_mse"]["ReLU NNGP"] == pytest.approx(mse, rel=1e-9)
    assert report.numbers["zero_predictor_test_mse"] == pytest.approx(np.mean(yt**2), rel=1e-12)


def test_width_curve_shape(quick_run):
    _, report = quick_run
    mse = report.numbers["rf_test_mse_mean_by_width"]
    nngp = report.numbers["kernel_test_mse"]["ReLU NNGP"]
    assert mse["64"] > 2 * nngp  # near the interpolation threshold
    assert nngp < mse["1024"] < 1.3 * nngp  # close to the kernel limit
    assert max(report.numbers["gd_vs_lstsq_relative_error"].values()) < 1e-6


def test_train_last_layer_matches_least_squares():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(20)
    for k in (5, 40):  # overdetermined (unique solution) and underdetermined (min-norm)
        feats = rng.standard_normal((3, 20, k))
        fit = exp.train_last_layer(feats, y, tol=1e-9)
        for s in range(3):
            a_ls = np.linalg.lstsq(feats[s], y, rcond=None)[0]
            np.testing.assert_allclose(fit["A"][s], a_ls, rtol=0, atol=1e-7 * np.linalg.norm(a_ls))
        assert fit["relative_bound"] <= 1e-9
        losses = [h[1] for h in fit["history"]]
        assert np.all(np.diff(np.array(losses), axis=0) <= 1e-12)  # GD on a quadratic descends


def test_kernels_on_the_sphere():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 10))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for name, (kernel, profile, _) in exp.KERNELS.items():
        k = kernel(x, x)
        np.testing.assert_allclose(np.diag(k), 1.0, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(k, profile(x @ x.T), atol=1e-12, err_msg=name)
        assert np.linalg.eigvalsh(k).min() > -1e-12, name
    # the ReLU NNGP kernel is the limit of the random-features kernel
    b = rng.standard_normal((200_000, 10))
    feats = exp.relu_features(x, b)
    np.testing.assert_allclose(feats @ feats.T, exp.KERNELS["ReLU NNGP"][0](x, x), atol=0.02)


def test_same_seed_same_numbers(quick_run, tmp_path):
    assert run_quick(exp.main, tmp_path).numbers == quick_run[1].numbers


def test_least_squares_matches_lstsq():
    rng = np.random.default_rng(2)
    y = rng.standard_normal(30)
    for k in (10, 30, 80):
        feats = rng.standard_normal((30, k))
        np.testing.assert_allclose(
            exp.least_squares(feats, y), np.linalg.lstsq(feats, y, rcond=None)[0], rtol=0, atol=1e-9
        )
