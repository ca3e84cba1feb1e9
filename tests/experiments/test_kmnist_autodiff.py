"""experiments.kmnist_autodiff: quick runs on generated KMNIST files (claims, files, every
configuration trained, --jobs does not change the numbers)."""

from experiments import kmnist_autodiff
from tests.experiment_checks import check_outputs
from tests.fake_data import fake_mirror


def _without_timings(runs: dict) -> dict:
    return {name: {k: v for k, v in run.items() if k != "seconds"} for name, run in runs.items()}


def test_quick_run(monkeypatch, tmp_path):
    fake_mirror(monkeypatch, tmp_path, "kmnist", n_train=600, n_test=200)
    out = tmp_path / "a"
    report = kmnist_autodiff.main(["--quick", "--dataset", "kmnist", "--out", str(out)])
    figures = ["logistic.png", "one_layer.png", "deep.png", "best_test_accuracy.png"]
    n = check_outputs(out, report, figures=figures)["numbers"]
    runs = n["runs"]
    names = {c["name"] for c in kmnist_autodiff.configurations()}
    assert set(runs) == names and len(names) == 3 + 6 + 4
    for run in runs.values():
        assert len(run["val_acc"]) == kmnist_autodiff.QUICK["epochs"]
        assert all(v > 0 for v in run["train_loss"])
    for group in ("logistic", "one_layer", "deep"):
        assert n[f"best_{group}"] in names
        assert n[f"best_{group}_val_acc"] > 0.8 and n[f"best_{group}_test_acc"] > 0.8, group
        assert n[f"best_{group}_val_acc"] == max(
            r["val_acc"][-1] for r in runs.values() if r["group"] == group
        )
    assert runs["logistic lr=0.001"]["val_acc"][-1] > 0.8
    assert runs["defaults"]["dropout"] == 0.3 and runs["hidden=200"]["hidden"] == 200

    # worker processes give the same numbers as one process
    again = kmnist_autodiff.main(
        ["--quick", "--dataset", "kmnist", "--jobs", "2", "--out", str(tmp_path / "b")]
    )
    assert _without_timings(again.numbers["runs"]) == _without_timings(runs)


def test_configurations_vary_one_hyperparameter_at_a_time():
    defaults = kmnist_autodiff.DEFAULTS
    for c in kmnist_autodiff.configurations():
        if c["group"] == "one_layer":
            changed = [k for k in defaults if c[k] != defaults[k]]
            assert len(changed) <= 1 and c["layers"] == 1


def test_seeds_give_spread_and_no_difference_columns_on_the_stand_in(monkeypatch, tmp_path):
    fake_mirror(monkeypatch, tmp_path, "fashion_mnist", n_train=600, n_test=200)
    out = tmp_path / "s"
    report = kmnist_autodiff.main(
        ["--quick", "--dataset", "fashion_mnist", "--seeds", "0,1", "--out", str(out)]
    )
    data = check_outputs(out, report)
    n = data["numbers"]
    assert n["seeds"] == [0, 1] and set(n["runs_by_seed"]) == {"0", "1"}
    stats = n["seed_stats"]["hidden=200: validation"]
    assert stats["n"] == 2 and stats["reference"] is None  # KMNIST numbers: no verdict
    per_seed = [n["runs_by_seed"][s]["hidden=200"]["val_acc"][-1] for s in ("0", "1")]
    assert abs(stats["mean"] - sum(per_seed) / 2) < 1e-12
    choices = n["document_choices"]
    assert set(choices) == {"logistic", "one_layer", "deep"}
    assert choices["one_layer"]["document"] == "hidden=200"
    md = (out / "results.md").read_text()
    assert "| difference |" not in md and "not comparable" in md
    assert "**Not claimed.**" not in md  # quick runs make no ranking claim at all
    # the first seed's tables are those of a single-seed run with that seed
    single = kmnist_autodiff.main(
        ["--quick", "--dataset", "fashion_mnist", "--seed", "1", "--out", str(tmp_path / "one")]
    )
    assert single.numbers["best_one_layer_val_acc"] == max(
        n["runs_by_seed"]["1"][c["name"]]["val_acc"][-1]
        for c in kmnist_autodiff.configurations()
        if c["group"] == "one_layer"
    )
