"""experiments.stationary_points: quick run, claims, known values, reproducibility."""

import numpy as np
import pytest

import autodiff as ad
from experiments import stationary_points as exp
from tests.experiment_checks import check_outputs, quick_run_fixture, run_quick

quick_run = quick_run_fixture(exp)


def test_outputs_exist_and_claims_hold(quick_run):
    figures = ["identical_units.png", "sign_flip.png", "zero_init.png"]
    check_outputs(*quick_run, figures=figures, claims=26, md_has=["w8 H(z2)"])


def test_known_values(quick_run):
    _, report = quick_run
    assert report.numbers["nine_weight_y"] == 4.0  # document: y = 4
    assert report.numbers["nine_weight_gradient"] == [0, 0, 0, 0, 3, 1, 0, 3, 1]
    # only the last bias trains, to softmax(b3) = class frequencies; loss = label entropy
    np.testing.assert_allclose(
        report.numbers["zero_init_final_softmax_b3"],
        report.numbers["zero_init_class_frequencies"],
        atol=1e-6,
    )
    assert report.numbers["zero_init_final_loss"] == pytest.approx(
        report.numbers["zero_init_label_entropy"], abs=1e-8
    )
    eig = np.array(report.numbers["tanh_zero_hessian_eigenvalues"])  # 0 and +-2||E[y x]||, x4
    assert np.sum(np.abs(eig) < 1e-12) == eig.size - 8
    np.testing.assert_allclose(eig[:4], eig[0], rtol=1e-10)
    np.testing.assert_allclose(eig[-4:], -eig[0], rtol=1e-10)
    assert eig[0] < -0.1
    assert report.numbers["identical_units_max_spread"] <= 1e-12
    signs = [row[1] for row in report.numbers["sign_flip_rows"]]  # (-1)^(L+1), L = 1..4
    assert signs == [1, -1, 1, -1]


def test_nine_weight_gradient_by_hand_matches_engine_elsewhere():
    rng = np.random.default_rng(3)
    for _ in range(20):
        w = rng.normal(size=9)
        x = np.array([0.0, 3.0])  # the document's closed form is written for x1 = 0, x2 = 3
        np.testing.assert_allclose(
            ad.grad(exp.nine_weight_net)(w, x),
            exp.nine_weight_gradient_by_hand(w, x),
            rtol=1e-12,
            atol=1e-12,
        )


def test_same_seed_same_numbers(quick_run, tmp_path):
    assert run_quick(exp.main, tmp_path).numbers == quick_run[1].numbers
