"""experiments.autoencoders: quick run (CIFAR-10 from ../shared/data when present, else synthetic
images), claims, known values, data errors, helpers."""

from pathlib import Path

import numpy as np
import pytest

import datasets
from datasets import download
from experiments import autoencoders as exp
from tests.experiment_checks import check_outputs, run_quick

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
HAVE_CIFAR = (SHARED / "cifar10" / "test_batch.bin").is_file()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("autoencoders")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(download.ENV_OFFLINE, "1")  # never reach for the network in tests
        mp.setenv(download.ENV_CACHE, str(out / "cache"))
        if HAVE_CIFAR:
            mp.setenv(download.ENV_MIRROR, str(SHARED))
            images = "cifar10"
        else:
            images = "synthetic"
        report = run_quick(exp.main, out / "run", "--images", images)
    return out / "run", report


def test_outputs_exist_and_claims_hold(quick_run):
    linear = ["linear_step_sizes.png", "linear_outputs.png"]
    nonlinear = ["nonlinear_training.png", "nonlinear_one_image.png", "nonlinear_two_images.png"]
    figures = [*linear, *nonlinear, "iterates.png", "perturbations.png"]
    data = check_outputs(*quick_run, min_png_bytes=5_000, figures=figures, claims=15)
    assert data["config"]["images"] == ("cifar10" if HAVE_CIFAR else "synthetic")


def test_known_values(quick_run):
    _, report = quick_run
    finals = report.numbers["linear_ae_final_loss"]
    assert not np.isfinite(float(finals["0.1"]))  # eta ||B_0 z||^2 ~ 100 eta > 2: diverges
    assert all(finals[e] < 1e-15 for e in ("0.001", "0.01"))
    cosines = np.asarray(report.numbers["linear_ae_image"]["cosines"])
    np.testing.assert_allclose(np.abs(cosines), 1.0, atol=1e-9)  # f(x) = c(x) z exactly
    one, two = report.numbers["one_image"], report.numbers["two_images"]
    assert one["final_mse"] < 1e-5 and two["final_mse"] < 1e-5
    assert one["rho_J_at_z"] < 1 and min(two["rho_J_at_z"]) < 1


def test_missing_data_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setenv(download.ENV_OFFLINE, "1")
    monkeypatch.setenv(download.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.delenv(download.ENV_MIRROR, raising=False)
    with pytest.raises(datasets.DatasetError):
        exp.main(["--quick", "--mirror", str(tmp_path / "nothing"), "--out", str(tmp_path / "run")])


def test_smooth_images_and_linear_span():
    rng = np.random.default_rng(0)
    images = exp.smooth_images(3, rng)
    assert images.shape == (3, 3, 32, 32) and images.min() >= 0 and images.max() <= 1
    assert np.abs(np.diff(images, axis=-1)).mean() < 0.05  # smooth
    # one closed-form step from A = 0 keeps the columns of A in span(z)
    z = rng.standard_normal(6)
    b = rng.standard_normal((2, 6))
    g = exp.gradient_descent(exp.linear_loss, {"A": np.zeros((6, 2)), "B": b}, 0.01, 1, z)[0]["A"]
    np.testing.assert_allclose(g, 0.01 * np.outer(z, b @ z), atol=1e-15)
