"""The quick run of every data experiment on the real data in ``../shared/data`` (the
offline copies next to the repository; skipped, with the reason, when that folder is
absent or lacks a file the experiment needs).

The other quick-run tests use generated images (tests/fake_data.py); these check that the
quick modes also work, and that their claims hold, on the real MNIST, KMNIST and CIFAR-10
files. Each run is meant to take well under a minute on two cores; its wall-clock time is
recorded as the test's ``seconds`` property (``--junitxml``) and printed with ``-s``, but
not asserted (timings are not tested).
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import pytest

from datasets import download
from datasets.errors import DataNotFoundError
from experiments.runner import experiment_names
from tests.experiment_checks import check_outputs

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def data_experiments() -> list[str]:
    """Every experiment module that reads a real dataset (its DATA is not "none ...")."""
    names = []
    for name in experiment_names():
        data = str(getattr(importlib.import_module(f"experiments.{name}"), "DATA", "none"))
        if not data.startswith("none"):
            names.append(name)
    return names


pytestmark = pytest.mark.skipif(
    not (SHARED / "MANIFEST.md").is_file(), reason=f"offline data copies not present at {SHARED}"
)


def test_the_data_experiments_are_found():
    names = data_experiments()
    assert {"mnist_cnn", "mnist_mlp", "mnist_backprop", "cifar_cnn"} <= set(names)
    assert "xor" not in names and "nngp_regression" not in names


@pytest.mark.parametrize("name", data_experiments())
def test_quick_run_on_real_data(name, monkeypatch, tmp_path, record_property):
    monkeypatch.setenv(download.ENV_MIRROR, str(SHARED))
    monkeypatch.setenv(download.ENV_CACHE, str(tmp_path / "cache"))  # empty: read the mirror
    monkeypatch.setenv(download.ENV_OFFLINE, "1")  # never the network
    module = importlib.import_module(f"experiments.{name}")
    out = tmp_path / "out"
    start = time.perf_counter()
    try:
        report = module.main(["--quick", "--seed", "0", "--out", str(out)])
    except DataNotFoundError as missing:
        pytest.skip(f"{name}: a file it needs is not in {SHARED}: {str(missing).split('. ')[0]}")
    seconds = time.perf_counter() - start
    record_property("seconds", round(seconds, 1))
    print(f"{name} --quick on the real data: {seconds:.1f} s")
    check_outputs(out, report)
