"""experiments.dual_activations: quick run, claims, known values, reproducibility, helpers."""

import math

import numpy as np
import pytest

from experiments import dual_activations as exp
from tests.experiment_checks import check_outputs, quick_run_fixture, run_quick

quick_run = quick_run_fixture(exp)


def test_outputs_exist_and_claims_hold(quick_run):
    figures = ["covariance.png", "dual_activations.png", "dual_properties.png"]
    check_outputs(*quick_run, figures=figures, claims=12, md_has=["arcsin(2 xi / 3)", "!["])


def test_known_values(quick_run):
    _, report = quick_run
    grid = np.asarray(report.numbers["grid"])
    i0, i1 = int(np.argmin(np.abs(grid))), int(np.argmin(np.abs(grid - 1.0)))
    checks = [
        ("relu", i0, 1.0 / (2.0 * math.pi)),  # E[relu(u) relu(v)], u, v indep.
        ("relu", i1, 0.5),  # E[relu(u)^2]
        ("erf", i1, 2.0 / math.pi * math.asin(2.0 / 3.0)),
        ("sin", i1, (1.0 - math.exp(-2.0)) / 2.0),  # E[sin^2] = e^-1 sinh 1
        ("cos", i0, math.exp(-1.0)),  # E[cos u]^2 = e^-1
        ("exp_1", i0, math.exp(-1.0)),
    ]
    for key, i, value in checks:
        mc = report.numbers[f"mc_{key}"]
        assert abs(mc["mean"][i] - value) <= 5.0 * mc["se"][i], (key, grid[i])
        assert mc["se"][i] < 0.02


def test_same_seed_same_numbers(quick_run, tmp_path):
    _, report = quick_run
    assert run_quick(exp.main, tmp_path).numbers == report.numbers
    other = run_quick(exp.main, tmp_path / "s1", seed=1)
    assert other.numbers["mc_relu"]["mean"] != report.numbers["mc_relu"]["mean"]


def test_erf_matches_math_erf():
    x = np.linspace(-5.0, 5.0, 2001)
    ref = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(exp.erf(x) - ref)) < 1.5e-7
    assert exp.erf(np.zeros((2, 3))).shape == (2, 3)


def test_z_threshold():
    assert exp.z_threshold(1, 0.05) == pytest.approx(1.959964, abs=1e-5)
    assert exp.z_threshold(100, 0.05) == pytest.approx(3.480756, abs=1e-5)


def test_mc_dual_differences_and_errors():
    rng = np.random.default_rng(3)
    z1, z2 = rng.standard_normal(20_000), rng.standard_normal(20_000)
    grid = np.linspace(0.0, 1.0, 6)
    r = exp.mc_dual(np.sin, grid, z1, z2)
    np.testing.assert_allclose(r["d1"], np.diff(r["mean"]), atol=1e-14)
    np.testing.assert_allclose(r["d2"], np.diff(r["mean"], 2), atol=1e-14)
    # identity at xi = 1: the mean of z1^2, and its standard error
    r = exp.mc_dual(lambda x: x, np.array([1.0]), z1, z2)
    assert r["mean"][0] == pytest.approx(np.mean(z1**2), rel=1e-12)
    assert r["se"][0] == pytest.approx(np.std(z1**2, ddof=1) / math.sqrt(z1.size), rel=1e-6)


def test_covariance_by_sampling():
    rng = np.random.default_rng(4)
    w = rng.standard_normal((200_000, 3))
    x, x2 = np.array([1.0, 2.0, 0.0]), np.array([0.5, -1.0, 3.0])
    s = exp.covariance_by_sampling(x, x2, w)
    exact = np.array([[5.0, -1.5], [-1.5, 10.25]])
    assert np.all(np.abs(s["cov"] - exact) <= 5 * s["cov_se"])
    assert np.all(np.abs(s["mean"]) <= 5 * s["mean_se"])
