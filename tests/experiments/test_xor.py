"""experiments.xor: quick runs (claims, files, known answers, determinism)."""

import json

import numpy as np

from experiments import xor


def test_quick_run(tmp_path):
    out1, out2 = tmp_path / "a", tmp_path / "b"
    report = xor.main(["--quick", "--seed", "0", "--out", str(out1)])
    res = json.loads((out1 / "results.json").read_text())
    assert (out1 / "results.md").is_file()
    assert set(report.figures) == {"decision_boundaries.png", "training_curves.png"}
    for name in report.figures:
        assert (out1 / name).stat().st_size > 10_000
    assert len(res["claims"]) == 5
    assert all(c["holds"] for c in res["claims"])

    n = res["numbers"]
    t2, t6 = np.tanh(2.0), np.tanh(6.0)
    np.testing.assert_allclose(
        n["hand_set_outputs"], [t2 - t6 + 1, 1 - 2 * t2, 1 - 2 * t2, t2 - t6 + 1], atol=1e-12
    )
    assert abs(n["hand_set_margin"] - (2 * t2 - 1)) < 1e-12
    assert n["raw_best_random_accuracy"] == 0.75
    w = np.array(n["quadratic_w_trained"])
    assert np.all(np.abs(w[:5]) < 1e-12) and w[5] > 1  # only the x1 x2 weight is used
    hist = n["trained_errors_histogram"]
    assert sum(hist) == xor.QUICK["runs"] and hist[0] == round(
        n["trained_success_rate"] * xor.QUICK["runs"]
    )

    xor.main(["--quick", "--seed", "0", "--out", str(out2)])
    again = json.loads((out2 / "results.json").read_text())["numbers"]
    assert again == n


def test_hand_set_network_has_no_ties():
    x, y = xor.datasets.xor()
    y_hat = np.asarray(xor.network(xor.HAND_SET, x))
    assert np.all(np.sign(y_hat) == y) and np.all(np.abs(y_hat) > 0.9)
