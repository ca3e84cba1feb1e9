"""The experiment runner: the listing covers every module, runs report successes and
failures (with the whole reason) in the summary and in REPORT.md.  More on the report
(accumulating runs, gaps and choices) in test_experiments_report.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

import experiments
from experiments import runner

PLUMBING = {"__init__", "__main__", "common", "runner", "parallel"}


def test_listing_covers_every_experiment_module(capsys):
    folder = Path(experiments.__file__).parent
    modules = {
        p.stem for p in folder.glob("*.py") if p.stem not in PLUMBING and not p.stem.startswith("_")
    }
    assert set(runner.experiment_names()) == modules
    assert runner.main(["list"]) == 0
    listing = capsys.readouterr().out
    for name in modules:
        info = runner.describe(name)
        assert info["description"] and info["source"] and info["data"], name
        assert f"| {name} | {info['description']} |" in listing


def test_run_reports_a_success_and_a_data_failure(tmp_path, monkeypatch):
    # An unreachable mirror and an empty cache: the CIFAR-10 experiment cannot get its data.
    monkeypatch.setenv("AUTODIFF_DATA_MIRROR", "http://127.0.0.1:9/")
    monkeypatch.setenv("AUTODIFF_DATA", str(tmp_path / "cache"))
    out = tmp_path / "results"
    log = io.StringIO()
    outcomes = runner.run(
        ["momentum_saddle", "autoencoders"], out, seed=0, quick=True, jobs=2, stream=log
    )
    by_name = {o.name: o for o in outcomes}
    assert by_name["momentum_saddle"].status == "ok"
    assert by_name["momentum_saddle"].headline or by_name["momentum_saddle"].runtime_s > 0
    failed = by_name["autoencoders"]
    assert failed.status in ("skipped", "failed")
    assert "127.0.0.1" in failed.reason
    report = (out / "REPORT.md").read_text()
    assert "### momentum_saddle: ok" in report
    assert f"### autoencoders: {failed.status}" in report and "127.0.0.1" in report
    assert "](momentum_saddle/" in report  # plots are linked from the report folder
    assert "| momentum_saddle | ok |" in log.getvalue()
    # the summary gives the whole reason, not just its first line, and how to run it offline
    for line in failed.reason.rstrip().splitlines():
        assert line in log.getvalue()
    if failed.status == "skipped":
        assert (
            "offline, with the shared copies: AUTODIFF_DATA_MIRROR=../shared/data "
            "python -m experiments run autoencoders"
        ) in log.getvalue()
    assert (
        json.loads((out / "autoencoders" / "outcome.json").read_text())["status"] == failed.status
    )
    assert (out / "momentum_saddle" / "results.json").exists()
    excerpt = (out / "REPORT_TABLES.md").read_text()
    assert "### momentum_saddle: ok" in excerpt and "![" not in excerpt
    assert "| claim |" in report and "| claim |" not in excerpt


def test_a_shadowing_datasets_package_fails_loudly(tmp_path):
    """Hugging Face's `datasets` first on the path: importing the experiments says so."""
    import subprocess
    import sys
    from pathlib import Path

    fake = tmp_path / "datasets"
    fake.mkdir()
    (fake / "__init__.py").write_text("load_dataset = None\n")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", "import experiments"],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "is not this project's (probably Hugging Face's datasets" in result.stderr
    ok = subprocess.run(
        [sys.executable, "-c", "import experiments"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
