"""experiments.mnist_backprop: the quick run on generated MNIST-format data (no network),
and the hand-written backprop against the engine."""

import json

import numpy as np
import pytest

from experiments import mnist_backprop as mb
from tests.experiment_checks import check_claims, check_outputs, fake_data_folder, run_quick
from tests.fake_data import fake_mirror

SIZES = dict(n_train=2000, n_test=400)  # the generated MNIST files of every quick run here


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with fake_data_folder(tmp_path_factory, "mnist_backprop", "mnist", **SIZES) as tmp:
        report = run_quick(mb.main, tmp / "out")
        run_quick(mb.main, tmp / "again", "--engine", "handwritten")
    again = json.loads((tmp / "again" / "results.json").read_text())
    return tmp / "out", report, check_outputs(tmp / "out", report), again


def test_files_and_claims(run):
    out, report, res, _ = run
    assert set(report.figures) == {
        "engine_comparison.png",
        "batch_size_curves.png",
        "width_curves.png",
    }
    md = (out / "results.md").read_text()
    for name in report.figures:
        assert f"]({name})" in md
    assert len(res["claims"]) == 3
    assert "hand-written backward pass" in md


def test_numbers_are_sane(run):
    _, _, res, _ = run
    n = res["numbers"]
    cfg = mb.QUICK
    # the generated data: 2000 images with labels 0..9 in turn; 3s and 9s are 400, capped
    assert n["n_train"] == cfg["max_train"] and 0.4 < n["n_train_positive"] / n["n_train"] < 0.6
    grid = n["grid_train_error"]
    assert len(grid) == len(cfg["activations"]) * len(cfg["batch_sizes"]) * len(cfg["epochs"])
    assert all(0 <= v <= 1 for v in grid.values())
    # the generated classes are easy: every network separates them after 40 epochs at batch 10
    for act in cfg["activations"]:
        assert grid[f"{act}_b10_e40"] <= 0.01
    curve = n["grid_curves"]["tanh_b10"]
    assert curve["x"] == list(range(max(cfg["epochs"]) + 1))
    assert curve["error"][0] > 0.2 and curve["mse"][-1] < curve["mse"][0]
    assert set(n["width_train_error"]) == {
        f"{a}_w{w}" for a in cfg["width_activations"] for w in cfg["widths"]
    }
    assert n["compare_param_max_abs_diff"] < 1e-5
    assert max(n["compare_grad_max_abs_diff_float64"].values()) < 1e-12


def test_engines_agree_and_runs_repeat(run):
    # the grids trained by the other engine give the same errors (float32 round-off aside)
    _, _, res, again = run
    a, b = res["numbers"]["grid_train_error"], again["numbers"]["grid_train_error"]
    assert a.keys() == b.keys()
    assert max(abs(a[k] - b[k]) for k in a) <= 2 / mb.QUICK["max_train"]
    assert res["numbers"]["compare_curves"] == again["numbers"]["compare_curves"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_quick_claims_hold_for_other_seeds(monkeypatch, tmp_path, seed):
    fake_mirror(monkeypatch, tmp_path, "mnist", **SIZES)
    check_claims(run_quick(mb.main, tmp_path / "a", seed=seed), 3)


def test_handwritten_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    params = {k: v.astype(np.float64) for k, v in mb.init_params(3, 1, d=5).items()}
    x, y = rng.normal(size=(7, 5)), np.sign(rng.normal(size=(7, 1)))
    for act in mb.ACTIVATIONS:
        net = mb.HandwrittenMLP(params, act)
        _, g = net.gradients(x, y)
        eps = 1e-6
        for key in params:
            flat = net.params[key].reshape(-1)
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + eps
                up = mb.quadratic_cost(net(x), y)
                flat[i] = old - eps
                down = mb.quadratic_cost(net(x), y)
                flat[i] = old
                assert abs((up - down) / (2 * eps) - g[key].reshape(-1)[i]) < 1e-7, (act, key)
