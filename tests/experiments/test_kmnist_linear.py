"""experiments.kmnist_linear: quick runs on generated KMNIST files (claims, files, the two
engines, determinism)."""

import numpy as np

from experiments import kmnist_linear
from tests.experiment_checks import check_outputs
from tests.fake_data import fake_mirror


def test_quick_run(monkeypatch, tmp_path):
    fake_mirror(monkeypatch, tmp_path, "kmnist", n_train=600, n_test=200)
    out = tmp_path / "a"
    report = kmnist_linear.main(["--quick", "--dataset", "kmnist", "--out", str(out)])
    data = check_outputs(out, report)
    assert set(report.figures) == {"accuracy.png", "engines.png"}
    n = data["numbers"]
    assert n["dataset"] == "kmnist"
    assert n["split_sizes"] == {"train": 500, "validation": 100, "test": 200}
    for model in ("perceptron", "logistic_regression", "mlp"):
        curves = n[f"{model}_curves"]
        assert len(curves["val_acc"]) == kmnist_linear.QUICK["epochs"]
        assert n[f"{model}_val_acc"] > 0.8 and n[f"{model}_test_acc"] > 0.8, model
    for model in ("logistic_regression", "mlp"):
        # both gradients agree to float64 rounding along the trajectory
        assert n[f"{model}_engine_grad_max_abs_diff_float64"] < 1e-10
        assert n[f"{model}_grad_max_abs_entry"] > 0.1
        # the autodiff run follows the handwritten one (float32 rounding differences grow
        # during the MLP's fast transition, so only the first epochs agree closely)
        ours, theirs = n[f"{model}_curves"], n[f"{model}_autodiff_curves"]
        np.testing.assert_allclose(theirs["train_loss"][:2], ours["train_loss"][:2], rtol=1e-3)
        assert theirs["val_acc"][-1] > 0.8
    assert n["logistic_regression_engine_max_abs_param_diff"] < 1e-5
    assert "Kuzushiji-MNIST" in (out / "results.md").read_text()

    # same seed, same numbers; the autodiff engine as the main run reproduces the
    # comparison curves of the first run
    again = kmnist_linear.main(
        [
            "--quick",
            "--dataset",
            "kmnist",
            "--engine",
            "autodiff",
            "--no-compare",
            "--out",
            str(tmp_path / "b"),
        ]
    )
    m = again.numbers
    assert m["perceptron_curves"] == n["perceptron_curves"]
    for model in ("logistic_regression", "mlp"):
        assert m[f"{model}_curves"] == n[f"{model}_autodiff_curves"]
    assert "engines.png" not in again.figures


def test_handwritten_gradients_match_engine():
    rng = np.random.default_rng(1)
    x = rng.random(784)
    for model, params in (
        ("logistic_regression", {"W": rng.normal(0, 0.1, (10, 784)), "b": rng.normal(0, 1, 10)}),
        (
            "mlp",
            {k: v.astype(np.float64) for k, v in kmnist_linear.init_mlp(rng, 20, 0.0, 0.1).items()},
        ),
    ):
        loss, g = kmnist_linear.GRADIENTS[model](params, x, 3)
        tensors = {k: kmnist_linear.ad.tensor(v, requires_grad=True) for k, v in params.items()}
        loss_e, g_e = kmnist_linear.engine_gradients(kmnist_linear.FORWARDS[model], tensors, x, 3)
        assert abs(loss - loss_e) < 1e-12
        for k in g:
            np.testing.assert_allclose(g[k], g_e[k], rtol=1e-10, atol=1e-12)
