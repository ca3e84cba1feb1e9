"""experiments.momentum_saddle: quick run, claims, the heavy-ball step, reproducibility."""

import numpy as np

from experiments import momentum_saddle as exp
from tests.experiment_checks import check_outputs, quick_run_fixture, run_quick

quick_run = quick_run_fixture(exp)


def test_outputs_exist_and_claims_hold(quick_run):
    check_outputs(*quick_run, figures=["four_wells.png", "saddle_steps.png"], claims=6)


def test_known_values(quick_run):
    _, report = quick_run
    assert sorted(map(tuple, report.numbers["minima_reached"])) == sorted(
        map(tuple, exp.MINIMA.tolist())
    )  # all four minima
    assert report.numbers["decay_ratio_max_on_saddle"] > 10


def test_heavy_ball_step_against_hand_computation():
    a = np.array([0.3, -0.2])
    ws, vs = exp.momentum_run(exp.saddle, np.zeros(2), a, alpha=0.1, steps=3)
    assert np.array_equal(vs[1], 0.9 * a)  # 2.3: the gradient is 0 at w_t
    w, v = np.zeros(2), a.copy()
    for t in range(3):  # grad S(w) = (w1, -w2)
        v = 0.9 * v - 0.1 * np.array([w[0], -w[1]])
        w = w + v
        np.testing.assert_allclose(vs[t + 1], v, rtol=1e-15)
        np.testing.assert_allclose(ws[t + 1], w, rtol=1e-15)
    assert not np.allclose(vs[3], 0.9**3 * a)  # 2.4: not a geometric decay


def test_same_seed_same_numbers(quick_run, tmp_path):
    assert run_quick(exp.main, tmp_path).numbers == quick_run[1].numbers
