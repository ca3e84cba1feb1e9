"""experiments._data: the data plumbing of the real-data experiments, on generated files."""

import numpy as np

from experiments import _data
from tests.fake_data import fake_cifar_subset, fake_mirror


def test_fake(monkeypatch, tmp_path):
    fake_mirror(monkeypatch, tmp_path, "mnist", 100, 50)
    (x, y), (xt, yt) = _data.load_28x28("mnist")
    assert x.shape == (100, 784) and xt.shape == (50, 784) and x.dtype == np.float32
    fake_mirror(monkeypatch, tmp_path, "kmnist", 100, 50)
    (x, y), (xt, yt) = _data.load_28x28("kmnist", flat=False)
    assert x.shape == (100, 1, 28, 28)
    fake_mirror(monkeypatch, tmp_path, "cifar10", 100, 50)
    (x, y), (xt, yt), note = _data.cifar10_splits()
    assert x.shape == (100, 3, 32, 32) and "official" in note


def test_subset(monkeypatch, tmp_path):
    m = fake_mirror(monkeypatch, tmp_path, "cifar10", 100, 50, splits=("test",))
    fake_cifar_subset(m, 80)
    (x, y), (xt, yt), note = _data.cifar10_splits()
    assert x.shape == (80, 3, 32, 32) and xt.shape == (50, 3, 32, 32) and "subset" in note, note
