"""experiments.cifar_study: quick runs on generated CIFAR-format data (no network, no
../shared): claims, files, sane numbers, determinism; and the ResNet-18 architecture."""

import json

import numpy as np

from experiments import cifar_study
from experiments._resnet import layer_summary, resnet18
from tests.experiment_checks import check_outputs, run_quick
from tests.fake_data import fake_cifar_subset, fake_mirror


def _without_timings(numbers: dict) -> dict:
    return {k: v for k, v in numbers.items() if "seconds" not in k}


def test_quick_run_on_generated_subset(monkeypatch, tmp_path):
    mirror = fake_mirror(monkeypatch, tmp_path, "cifar10", 100, 80, splits=("test",))
    fake_cifar_subset(mirror, 300)
    out1, out2 = tmp_path / "a", tmp_path / "b"
    report = run_quick(cifar_study.main, out1, seed=1)
    figures = ["embeddings.png", "resnet18_diagram.png", "lr_schemes.png", "long_run.png"]
    n = check_outputs(out1, report, figures=figures)["numbers"]
    # all the training images train; the official test batch is the validation set
    assert n["n_train"] == 300 and n["n_val"] == 80 and n["scheme_seeds"] == [1, 2]
    assert n["resnet18_parameters"] == 11_173_962
    # the generated classes are noisy copies of ten templates: linear regression fits them
    assert n["linear_train_acc"] == 1.0 and n["linear_val_acc"] > 0.9
    assert n["cca_2d_nearest_centroid_val_acc"] > 0.5
    assert 0 < n["pca_explained_variance_ratio_2"] < 1
    assert all(0 < c <= 1 + 1e-9 for c in n["cca_canonical_correlations"])
    assert n["best_scheme"] in cifar_study.SCHEMES
    lrs = {s: n[f"scheme_{s}_lr"] for s in cifar_study.SCHEMES}
    assert len(set(lrs["constant"])) == 1 and lrs["constant"][0] == 0.025
    assert np.all(np.diff(lrs["annealed"]) < 0)
    peak = int(np.argmax(lrs["one-cycle"]))
    assert 0 < peak < len(lrs["one-cycle"]) - 1
    assert len(n["long_val_acc"]) == 2 and 0 <= n["long_val_first_n_acc"] <= 1
    # the schemes over two seeds: per-seed values, mean ± sd, the verdict on the gaps
    for s in cifar_study.SCHEMES:
        by_seed = n[f"scheme_{s}_val_acc_by_seed"]
        assert len(by_seed) == 2 and by_seed[0] == n[f"scheme_{s}_val_acc"]
        stats = n["scheme_seed_stats"][f"{s}: validation accuracy"]
        assert stats["n"] == 2 and abs(stats["mean"] - np.mean(by_seed)) < 1e-12
    assert set(n["best_scheme_gaps"]) == set(cifar_study.SCHEMES) - {n["best_scheme"]}
    # every pair of schemes, with the verdict computed from the seed spread
    pairs = n["scheme_pair_gaps"]
    assert set(pairs) == {"constant vs annealed", "constant vs one-cycle", "annealed vs one-cycle"}
    for key, v in pairs.items():
        a, b = key.split(" vs ")
        sa = n["scheme_seed_stats"][f"{a}: validation accuracy"]
        sb = n["scheme_seed_stats"][f"{b}: validation accuracy"]
        assert abs(v["gap"] - (sa["mean"] - sb["mean"])) < 1e-12
        assert v["beyond_spread"] == (abs(v["gap"]) > 2 * max(sa["sd"], sb["sd"]))
    assert n["schemes_differ_beyond_spread"] == any(v["beyond_spread"] for v in pairs.values())
    md = (out1 / "results.md").read_text()
    assert "subset" in md and "50,000 training images" in md and "40,000" not in md
    assert "Do the schemes differ?" in md and "exceeds the spread" in md

    run_quick(cifar_study.main, out2, seed=1)
    again = json.loads((out2 / "results.json").read_text())["numbers"]
    assert _without_timings(again) == _without_timings(n)


def test_resnet18_shapes_and_parameter_counts():
    rows = layer_summary(resnet18(width=64, rng=0))
    shapes = {name: shape for name, _, shape, _ in rows}
    assert shapes["conv1"] == (1, 64, 32, 32)
    assert shapes["layer1.1"] == (1, 64, 32, 32)
    assert shapes["layer2.0"] == (1, 128, 16, 16)
    assert shapes["layer3.1"] == (1, 256, 8, 8)
    assert shapes["layer4.1"] == (1, 512, 4, 4)
    assert shapes["avgpool"] == (1, 512) and shapes["linear"] == (1, 10)
    counts = {name: c for name, _, _, c in rows}
    assert counts["conv1"] == 3 * 64 * 9 and counts["linear"] == 512 * 10 + 10
    assert counts["layer2.0.shortcut"] == 64 * 128 + 2 * 128
    blocks = sum(c for name, _, _, c in rows if name.count(".") == 1 and name.startswith("layer"))
    assert blocks + counts["conv1"] + counts["bn1"] + counts["linear"] == 11_173_962


def test_small_resnet_trains_in_eval_and_train_mode():
    model = resnet18(width=2, rng=0)
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    assert model(x).shape == (4, 10)
    model.eval()
    first = model(x).data
    np.testing.assert_array_equal(model(x).data, first)  # eval: running stats, no update
