"""experiments.momentum_saddle: quick run, claims, the heavy-ball step, reproducibility."""

import numpy as np
import pytest
from tests.experiment_checks import check_outputs

from experiments import momentum_saddle as exp


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("momentum_saddle")
    report = exp.main(["--quick", "--seed", "0", "--out", str(out)])
    return out, report


def test_outputs_exist_and_claims_hold(quick_run):
    out, report = quick_run
    data = check_outputs(out, report)
    assert sorted(report.figures) == ["four_wells.png", "saddle_steps.png"]
    assert len(data["claims"]) == 6


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
    _, report = quick_run
    again = exp.main(["--quick", "--seed", "0", "--out", str(tmp_path)])
    assert again.numbers == report.numbers
