"""experiments.mnist_mlp: the quick run on generated MNIST-format data (no network)."""

import numpy as np
import pytest

from experiments import _mlp_training as mt
from experiments import mnist_mlp
from tests.experiment_checks import check_claims, check_outputs, fake_data_folder, run_quick

SIZES = dict(n_train=1200, n_test=300)  # the generated MNIST files of every quick run here


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with fake_data_folder(tmp_path_factory, "mnist_mlp", "mnist", **SIZES) as tmp:
        report = run_quick(mnist_mlp.main, tmp / "out")
        again = run_quick(mnist_mlp.main, tmp / "again", "--parts", "relu")
    return tmp / "out", report, check_outputs(tmp / "out", report), again


def test_files_and_claims(run):
    out, report, _, _ = run
    curves = ["softmax_curves.png", "sigmoid_curves.png", "relu_curves.png", "wide_curves.png"]
    figures = [*curves, "deep_curves.png", "sigmoid_weights.png", "relu_weights.png"]
    md_has = ["Section 4.3", "lowest test error"]
    check_outputs(out, report, figures=figures, claims=3, md_has=md_has)


def test_numbers_are_sane(run):
    _, _, res, _ = run
    n = res["numbers"]
    assert n["split_sizes"] == {"train": 1000, "dev": 200, "test": 300}
    # softmax regression: evaluations every 100 one-example updates, 1000 updates
    curve = n["softmax_curve"]
    assert curve["x"] == list(range(0, 1001, 100))
    assert n["softmax"]["updates"] == 1000
    assert curve["train_loss"][-1] < curve["train_loss"][0]
    # section 4 curves: every quarter effective epoch (one effective epoch = 1000 examples here)
    for kind in ("sigmoid", "relu"):
        c = n[f"{kind}_curve"]
        epochs = mnist_mlp.QUICK[kind]["epochs"]
        np.testing.assert_allclose(c["x"], np.arange(4 * epochs + 1) / 4)
        assert c["dev_error"][0] > 0.5 and c["dev_error"][-1] < 0.1  # chance is 0.9
        assert n[kind]["lowest_test_error"] <= n[kind]["test_error"]
    assert n["relu_curve"]["train_loss"][0] < 0.2  # squared error per class is small
    for which in ("wide", "deep"):
        assert n[f"{which}_test_error"] < 0.1
        assert n[which]["passes"] == pytest.approx(mnist_mlp.QUICK[which]["epochs"] * 1000 / 1200)
    sweep = n["sigmoid_lr_sweep"]
    assert set(sweep) == {str(lr) for lr in mnist_mlp.QUICK["sweep"]["lrs"]}
    assert n["sigmoid_smallest_lr_with_decrease"] in mnist_mlp.QUICK["sweep"]["lrs"]


def test_same_seed_same_numbers(run):
    _, report, _, again = run
    assert again.numbers["relu_curve"] == report.numbers["relu_curve"]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    with fake_data_folder(tmp_path_factory, "mnist_mlp_seeds", "mnist", **SIZES) as tmp:
        yield tmp


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_quick_claims_hold_for_other_seeds(mirror, seed):
    # the parts with claims (seed 0 is the run above). With nn.Linear's default init for
    # the ReLU network's output layer, seeds 1-4 all lost whole output units here
    report = run_quick(
        mnist_mlp.main, mirror / f"s{seed}", "--parts", "softmax,sigmoid,relu", seed=seed
    )
    check_claims(report, 3)
    assert report.numbers["relu_test_error"] < 0.1


def test_relu_output_layer_starts_active():
    relu = mnist_mlp.build_mlp((16,), "relu", True, np.random.default_rng(3))
    plain = mnist_mlp.build_mlp((16,), "relu", False, np.random.default_rng(3))
    np.testing.assert_array_equal(relu[0].weight.data, plain[0].weight.data)  # same hidden init
    np.testing.assert_array_equal(relu[0].bias.data, plain[0].bias.data)
    assert not np.any(relu[2].weight.data)
    np.testing.assert_array_equal(relu[2].bias.data, np.float32(mnist_mlp.RELU_OUTPUT_BIAS))
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    np.testing.assert_allclose(mt.predict(relu, x), mnist_mlp.RELU_OUTPUT_BIAS, rtol=1e-6)


def test_train_examples_counts_and_batches():
    x, y = np.arange(10.0)[:, None], np.arange(10)
    seen, evals = [], []
    steps = mt.train_examples(
        lambda xb, yb: seen.append(yb.copy()),
        x,
        y,
        4,
        25,
        np.random.default_rng(0),
        eval_every=6,
        on_eval=evals.append,
    )
    sizes = [len(b) for b in seen]
    assert sum(sizes) == 25 and steps == len(seen) and sizes == [4, 4, 2, 4, 4, 2, 4, 1]
    assert sorted(np.concatenate(seen[:3]).tolist()) == list(range(10))  # a pass is a permutation
    assert evals == [0, 8, 14, 18, 24, 25]  # the first batch crossing 6, 12, 18, 24; the end
    order = [b.tolist() for b in mt.batches(10, 4, 25, np.random.default_rng(0))]
    assert order == [b.tolist() for b in seen]
