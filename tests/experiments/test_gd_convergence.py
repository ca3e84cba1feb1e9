"""experiments.gd_convergence: quick run, claims, known minima, helpers, reproducibility."""

import numpy as np
import pytest

import autodiff as ad
from experiments import gd_convergence as exp
from tests.experiment_checks import check_outputs, quick_run_fixture, run_quick

quick_run = quick_run_fixture(exp)


def test_outputs_exist_and_claims_hold(quick_run):
    check_outputs(*quick_run, figures=["decrease.png", "grad_norms.png"], claims=19)


def test_known_minima(quick_run):
    _, report = quick_run
    t_star = 2.2788626600758284  # the positive root of t = 3 sin t
    assert abs(t_star - 3 * np.sin(t_star)) < 1e-14
    f_star = t_star**2 / 2 + 3 * np.cos(t_star)
    assert exp.double_well_minimum() == pytest.approx(f_star, rel=1e-14)
    assert report.numbers["double wells (d = 10): final F"] == pytest.approx(10 * f_star, rel=1e-12)
    assert report.numbers["egg crate sin(w1) cos(w2): final F"] == pytest.approx(-1.0, abs=1e-12)
    assert (
        report.numbers[
            "egg crate from 1e-3 off its saddle (0, pi/2): steps where the gradient norm grows"
        ]
        >= 5
    )


def test_helpers():
    assert exp.first_hit(np.array([3.0, 2.0, 0.5, 0.1]), 0.6) == 2
    assert exp.first_hit(np.array([3.0, 2.0]), 0.6) is None
    values, sq = exp.gradient_descent(lambda w: ad.sum(w**2), np.array([1.0, -2.0]), 0.25, 2)
    np.testing.assert_allclose(values, [5.0, 1.25, 0.3125])  # w halves each step
    np.testing.assert_allclose(sq, [20.0, 5.0, 1.25])
    h = ad.hessian(exp.egg_crate)(np.array([0.3, -1.1]))
    np.testing.assert_allclose(
        sorted(np.linalg.eigvalsh(h)), sorted([-np.sin(0.3 - 1.1), -np.sin(0.3 + 1.1)]), rtol=1e-12
    )


def test_same_seed_same_numbers(quick_run, tmp_path):
    assert run_quick(exp.main, tmp_path).numbers == quick_run[1].numbers
