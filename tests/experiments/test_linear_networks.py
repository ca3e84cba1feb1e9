"""experiments.linear_networks: quick run, claims, known values, helpers, reproducibility."""

import numpy as np
import pytest

import autodiff as ad
from experiments import linear_networks as exp
from tests.experiment_checks import check_outputs, quick_run_fixture, run_quick

quick_run = quick_run_fixture(exp)


def test_outputs_exist_and_claims_hold(quick_run):
    check_outputs(*quick_run, figures=["capacity.png", "critical_points.png"], claims=17)


def test_known_values(quick_run):
    _, report = quick_run
    # Eckart-Young: singular values (5, 4, 2, 1, 0.5) through width 2 leave 1/2 (4 + 1 + 0.25)
    assert report.numbers["eckart_young_floor"] == pytest.approx(2.625, rel=1e-15)
    assert report.numbers["factorisation_gd_5"]["final_loss"] == pytest.approx(2.625, rel=1e-6)
    assert report.numbers["factorisation_gd_2"]["final_loss"] < 1e-12
    for depth in (2, 3):
        gd = report.numbers[f"gd_L{depth}"]
        assert gd["final_loss"] == pytest.approx(gd["optimum"], rel=1e-9)
    assert report.numbers["hessian_at_zero_L2_min_eigenvalue"] < 0


def test_factorise_exact_and_impossible():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((4, 2)) @ rng.standard_normal((2, 5))  # rank 2
    ws = exp.factorise(w0, [5, 3, 2, 6, 4], rng)
    assert [w.shape for w in ws] == [(3, 5), (2, 3), (6, 2), (4, 6)]
    np.testing.assert_allclose(exp.end_to_end(ws), w0, atol=1e-10)
    with pytest.raises(ValueError):
        exp.factorise(rng.standard_normal((4, 5)), [5, 3, 2, 6, 4], rng)  # rank 4 > 2


def test_closed_forms_small_example():
    # f = ABx with A = [[1, 2]], B = I, one sample x = (1, 1), y = 0: residual -3
    a, b = np.array([[1.0, 2.0]]), np.eye(2)
    x, y = np.ones((2, 1)), np.zeros((1, 1))
    a1, b1 = exp.ab_step(a, b, x, y, 0.1)
    np.testing.assert_allclose(a1, [[0.7, 1.7]])
    np.testing.assert_allclose(b1, np.eye(2) + 0.1 * np.array([[-3.0, -3.0], [-6.0, -6.0]]))
    ws = [np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, 1.0]])]
    xs, ys = np.array([[1.0, 1.0]]), np.array([[0.0]])
    grads = exp.dr_closed_form(ws, xs, ys)
    engine = ad.grad(lambda p: exp.r_loss(exp.as_list(p), xs, ys))(exp.as_dict(ws))
    np.testing.assert_allclose(grads[0], engine["W1"])
    np.testing.assert_allclose(grads[1], [[3.0, 6.0]])  # residual 3 times W1 x


def test_same_seed_same_numbers(quick_run, tmp_path):
    assert run_quick(exp.main, tmp_path).numbers == quick_run[1].numbers
