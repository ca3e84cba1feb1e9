"""experiments.min_norm_least_squares: quick run, claims, the document's exact answers,
reproducibility."""

from fractions import Fraction

import numpy as np
import pytest

from experiments import min_norm_least_squares as exp
from tests.experiment_checks import check_outputs, quick_run_fixture, run_quick

quick_run = quick_run_fixture(exp)


def test_outputs_exist_and_claims_hold(quick_run):
    check_outputs(*quick_run, figures=["gd_paths.png"], claims=15, md_has=["3/50"])


def test_known_answers(quick_run):
    _, report = quick_run
    xstar = [Fraction(v) for v in report.numbers["xstar_exact"]]
    assert xstar == [Fraction(3, 10), Fraction(4, 10)]
    assert report.numbers["pinv_exact"] == [["3/50", "3/50"], ["2/25", "2/25"]]
    np.testing.assert_allclose(report.numbers["gd_from_zero_final"], [0.3, 0.4], atol=1e-12)
    np.testing.assert_allclose(report.numbers["singular_values"], [5 * np.sqrt(2), 0.0], atol=1e-12)
    assert report.numbers["least_squares_residual"] == pytest.approx(0.5, abs=1e-12)
    # the document's 3.10 list: two of its four vectors do not minimise ||Ax||
    np.testing.assert_allclose(
        report.numbers["doc_unit_vectors_norm_Ax"],
        [0, 0, 24 * np.sqrt(2) / 5, 24 * np.sqrt(2) / 5],
        atol=1e-12,
    )


def test_residual_loss_gradient():
    x = np.array([1.0, -2.0])
    value = exp.residual_loss(x)
    r = exp.A @ x - exp.B
    assert float(value) == pytest.approx(r @ r)


def test_same_seed_same_numbers(quick_run, tmp_path):
    assert run_quick(exp.main, tmp_path).numbers == quick_run[1].numbers
