"""experiments.mnist_cnn: a quick run on generated MNIST-format images (files, claims,
curves, filters, determinism) and the network's shapes."""
import numpy as np

from experiments import mnist_cnn
from tests.experiment_checks import check_outputs
from tests.fake_data import fake_mirror


def test_quick_run(monkeypatch, tmp_path):
    fake_mirror(monkeypatch, tmp_path, "mnist", n_train=600, n_test=200)
    report = mnist_cnn.main(["--quick", "--seed", "0", "--out", str(tmp_path / "a")])
    res = check_outputs(tmp_path / "a", report)
    assert report.figures == ["curves.png", "filters.png"]
    assert len(res["claims"]) == 2
    n = res["numbers"]
    assert n["data"]["train"] == 600 and n["data"]["test"] == 200
    steps_per_epoch = 10                                  # 600 images, batches of 64
    assert n["curves"]["step"] == mnist_cnn.eval_steps(mnist_cnn.QUICK, 3 * steps_per_epoch)
    assert n["curves"]["step"][-1] == 3 * steps_per_epoch
    # the generated classes are easy: far below chance error (0.9) after 30 steps
    assert n["final_test_error"] < 0.3
    assert n["lowest_test_error"] == min(n["curves"]["test_error"])
    assert [e["lr"] for e in n["epochs"]] == [0.05, 0.05, 0.05 * 0.1]
    md = (tmp_path / "a" / "results.md").read_text()
    assert "average pool" in md and "filters.png" in md

    again = mnist_cnn.main(["--quick", "--seed", "0", "--out", str(tmp_path / "b")])
    assert again.numbers["curves"] == n["curves"]


def test_network_shapes():
    model = mnist_cnn.build_model(np.random.default_rng(0))
    assert model(np.zeros((3, 1, 28, 28), np.float32)).shape == (3, 10)
    assert model[:3](np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 20, 12, 12)
    assert len(mnist_cnn.architecture_rows()) == 7


def test_eval_steps():
    cfg = dict(early_evals=(25, 50, 100, 200), eval_every=469)
    assert mnist_cnn.eval_steps(cfg, 1000) == [25, 50, 100, 200, 469, 938, 1000]
