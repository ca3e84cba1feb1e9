"""experiments.cifar_fc: quick runs on generated CIFAR-10 files, training on an exact-subset
file as the shared data has it (claims, files, both losses, determinism)."""

import numpy as np

from experiments import cifar_fc
from tests.experiment_checks import check_outputs
from tests.fake_data import fake_cifar_subset, fake_mirror


def test_quick_run(monkeypatch, tmp_path):
    mirror = fake_mirror(
        monkeypatch, tmp_path, "cifar10", n_train=600, n_test=300, splits=("test",)
    )
    fake_cifar_subset(mirror, n=700)
    out = tmp_path / "a"
    report = cifar_fc.main(["--quick", "--out", str(out)])
    data = check_outputs(out, report)
    assert set(report.figures) == {"samples.png", "training.png"}
    n = data["numbers"]
    assert n["train_images_available"] == 700 and n["test_images"] == 300
    assert n["image_shape"] == [3, 32, 32]
    assert "subset" in (out / "results.md").read_text()
    for loss in ("cross_entropy", "mse"):
        curves = n[f"{loss}_curves"]
        assert len(curves["test_acc"]) == cifar_fc.QUICK["epochs"]
        assert n[f"{loss}_test_acc"] > 0.8, loss
        assert curves["train_loss"][-1] < curves["train_loss"][0]

    again = cifar_fc.main(["--quick", "--out", str(tmp_path / "b")]).numbers
    for loss in ("cross_entropy", "mse"):
        a, b = dict(n[f"{loss}_curves"]), dict(again[f"{loss}_curves"])
        a.pop("seconds"), b.pop("seconds")
        assert a == b


def test_network_has_no_biases_and_standardises_per_channel():
    model = cifar_fc.build_network(128, np.random.default_rng(0))
    shapes = sorted(p.shape for p in model.parameters())
    assert shapes == [(10, 128), (128, 3072)]
    x = np.random.default_rng(0).integers(0, 256, (50, 3, 32, 32)).astype(np.uint8)
    xs, xt, mean, std = cifar_fc.standardise(x, x[:5])
    assert xs.shape == (50, 3072) and xs.dtype == np.float32
    per_channel = xs.reshape(50, 3, -1)
    np.testing.assert_allclose(per_channel.mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(per_channel.std(axis=(0, 2)), 1, atol=1e-4)
    np.testing.assert_allclose(xt, xs[:5])
