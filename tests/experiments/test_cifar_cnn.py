"""experiments.cifar_cnn: quick runs on generated CIFAR-format images (files, claims,
numbers, determinism) and the network's shapes and initialisation."""

import numpy as np
import pytest

from experiments import cifar_cnn
from tests.experiment_checks import check_outputs
from tests.fake_data import fake_cifar_subset, fake_mirror


@pytest.fixture
def quick(monkeypatch, tmp_path):
    # 1,000 generated images (800 + 200, 25 updates an epoch): enough updates for the
    # claims to hold for seeds 0-4 (checked with --seeds 0-4 --adam-epochs 2)
    fake_mirror(monkeypatch, tmp_path, "cifar10", n_train=1000, n_test=100)

    def run(out, *extra):
        report = cifar_cnn.main(["--quick", "--seed", "0", "--out", str(tmp_path / out), *extra])
        return report, check_outputs(tmp_path / out, report)

    return run


def test_quick_run(quick, tmp_path):
    report, res = quick("a")
    assert report.figures == ["adam_accuracy.png"]
    assert len(res["claims"]) == 3
    n = res["numbers"]
    assert n["split"]["train"] == 800 and n["split"]["validation"] == 200
    assert n["split"]["test"] == 100 and "official" in n["split"]["source"]
    assert len(n["sgd_epochs"]) == 1 and n["adam_epochs_done"] == 2
    assert n["updates_per_epoch"] == 25 and n["seeds"] == [0]
    assert n["sgd_epochs"][0]["cpu_seconds"] > 0
    # the generated classes are easy: Adam is far above chance (0.1) after two epochs
    assert n["adam_final_test_acc"] > 0.4
    assert res["config"]["quick"] is True and n["config"]["val_test_tolerance"] > 0.15
    for record in n["sgd_epochs"] + n["adam_epochs"]:
        assert 0 <= record["val_acc"] <= 1 and record["seconds"] > 0
        assert np.isfinite(record["train_loss"])
    md = (tmp_path / "a" / "results.md").read_text()
    assert "0.3925" in md and "0.5711" in md  # the document's numbers beside ours
    assert "n/a (one seed" in md and "213" in md and "out of reach" in md

    # same seed, same numbers; a zero time budget stops Adam after its first epoch
    # and --sgd-updates continues the SGD run past its epoch (25 updates) to 28
    _, again = quick("b", "--time-budget", "0", "--sgd-updates", "28")
    first = again["numbers"]
    assert first["adam_epochs_done"] == 1 and first["sgd_matched_updates"]["updates"] == 28
    md = (tmp_path / "b" / "results.md").read_text()
    assert "stopped after 1 of 2 epochs" in md
    assert "28 updates, re-using 96 training images a second time" in md
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "test_acc"):
        assert first["sgd_epochs"][0][key] == n["sgd_epochs"][0][key]
        assert first["adam_epochs"][0][key] == n["adam_epochs"][0][key]


def test_several_seeds_give_mean_and_sd_beside_the_document(quick):
    # one SGD and one Adam epoch per seed (the protocol, on generated data; three
    # seeds here to keep the test short, the module takes --seeds 0-4 alike)
    report, res = quick("s", "--seeds", "0-2", "--adam-epochs", "1")
    n = res["numbers"]
    assert n["seeds"] == [0, 1, 2] and len(n["runs"]) == 3
    stats = n["seed_stats"]["SGD, 1 epoch: test accuracy"]
    per_seed = [r["sgd"][0]["test_acc"] for r in n["runs"]]
    assert stats["n"] == 3 and stats["reference"] == 0.3906
    assert np.isclose(stats["mean"], np.mean(per_seed))
    assert np.isclose(stats["sd"], np.std(per_seed, ddof=1))
    assert stats["within_2sd"] == (abs(0.3906 - stats["mean"]) <= 2 * stats["sd"])
    # each seed has its own split: the validation sets differ
    assert len({r["sgd"][0]["val_acc"] for r in n["runs"]} | {-1}) > 2
    claim = res["claims"][0]["claim"]
    assert "every seed and by more than 2 sd" in claim


def test_the_documents_split_rule_on_the_offline_training_images():
    x = np.zeros((38_646, 1), np.uint8)
    data = cifar_cnn.split_data(
        dict(
            x=x, y=np.zeros(38_646, np.int64), x_test=x[:10], y_test=np.zeros(10, np.int64), note=""
        ),
        0.2,
        seed=0,
    )
    assert len(data["y_train"]) == 30_917 and len(data["y_val"]) == 7_729
    assert -(-30_917 // 32) == 967


def test_training_subset_when_official_batches_are_missing(monkeypatch, tmp_path):
    mirror = fake_mirror(monkeypatch, tmp_path, "cifar10", n_train=0, n_test=60, splits=("test",))
    fake_cifar_subset(mirror, 120)
    data = cifar_cnn.load_data(None, 0.25, seed=0)
    assert len(data["y_train"]) == 90 and len(data["y_val"]) == 30
    assert "subset" in data["note"] and data["x_train"].dtype == np.uint8


def test_network_shapes_and_keras_initialisation():
    model = cifar_cnn.build_model(np.random.default_rng(0))
    out = model(np.zeros((2, 3, 32, 32), np.float32))
    assert out.shape == (2, 10)
    sizes = [p.size for p in model.parameters()]
    assert sum(sizes) == 1_250_858  # Keras' model.summary() of this network
    conv1, dense = model[0], model[13]
    assert np.all(conv1.bias.data == 0) and np.all(dense.bias.data == 0)
    bound = np.sqrt(6 / (3 * 9 + 32 * 9))
    assert (
        np.abs(conv1.weight.data).max() <= bound and np.abs(conv1.weight.data).max() > 0.9 * bound
    )
