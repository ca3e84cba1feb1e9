"""experiments.cifar_cnn: quick runs on generated CIFAR-format images (files, claims,
numbers, determinism) and the network's shapes and initialisation."""

import numpy as np
import pytest

from experiments import cifar_cnn
from tests.experiment_checks import check_outputs
from tests.fake_data import fake_cifar_subset, fake_mirror


@pytest.fixture
def quick(monkeypatch, tmp_path):
    fake_mirror(monkeypatch, tmp_path, "cifar10", n_train=500, n_test=100)

    def run(out, *extra):
        report = cifar_cnn.main(["--quick", "--seed", "0", "--out", str(tmp_path / out), *extra])
        return report, check_outputs(tmp_path / out, report)
    return run


def test_quick_run(quick, tmp_path):
    report, res = quick("a")
    assert report.figures == ["adam_accuracy.png"]
    assert len(res["claims"]) == 3
    n = res["numbers"]
    assert n["split"]["train"] == 400 and n["split"]["validation"] == 100
    assert n["split"]["test"] == 100 and "official" in n["split"]["source"]
    assert len(n["sgd_epochs"]) == 1 and n["adam_epochs_done"] == 2
    # the generated classes are easy: Adam is far above chance (0.1) after two epochs
    assert n["adam_final_test_acc"] > 0.4
    assert res["config"]["quick"] is True and n["config"]["val_test_tolerance"] > 0.2
    for record in n["sgd_epochs"] + n["adam_epochs"]:
        assert 0 <= record["val_acc"] <= 1 and record["seconds"] > 0
        assert np.isfinite(record["train_loss"])
    md = (tmp_path / "a" / "results.md").read_text()
    assert "0.3925" in md and "0.5711" in md        # the document's numbers beside ours

    # same seed, same numbers; a zero time budget stops Adam after its first epoch
    # and --sgd-updates continues the SGD run past its epoch (13 updates) to 16
    _, again = quick("b", "--time-budget", "0", "--sgd-updates", "16")
    first = again["numbers"]
    assert first["adam_epochs_done"] == 1 and first["sgd_matched_updates"]["updates"] == 16
    md = (tmp_path / "b" / "results.md").read_text()
    assert "stopped after 1 of 2 epochs" in md and "document's 16 updates" in md
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "test_acc"):
        assert first["sgd_epochs"][0][key] == n["sgd_epochs"][0][key]
        assert first["adam_epochs"][0][key] == n["adam_epochs"][0][key]


def test_training_subset_when_official_batches_are_missing(monkeypatch, tmp_path):
    mirror = fake_mirror(monkeypatch, tmp_path, "cifar10", n_train=0, n_test=60,
                         splits=("test",))
    fake_cifar_subset(mirror, 120)
    data = cifar_cnn.load_data(None, 0.25, seed=0)
    assert len(data["y_train"]) == 90 and len(data["y_val"]) == 30
    assert "subset" in data["note"] and data["x_train"].dtype == np.uint8


def test_network_shapes_and_keras_initialisation():
    model = cifar_cnn.build_model(np.random.default_rng(0))
    out = model(np.zeros((2, 3, 32, 32), np.float32))
    assert out.shape == (2, 10)
    sizes = [p.size for p in model.parameters()]
    assert sum(sizes) == 1_250_858                   # Keras' model.summary() of this network
    conv1, dense = model[0], model[13]
    assert np.all(conv1.bias.data == 0) and np.all(dense.bias.data == 0)
    bound = np.sqrt(6 / (3 * 9 + 32 * 9))
    assert np.abs(conv1.weight.data).max() <= bound and np.abs(conv1.weight.data).max() > 0.9 * bound
