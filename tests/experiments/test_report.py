"""The report accumulates (latest result of every experiment, with its run and date), runs
talk (whole skip reasons, what --offline left out, the script's closing summary, progress
bars), and the gaps and open choices are listed from one data structure."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from experiments import _coverage, common, runner

ROOT = Path(__file__).resolve().parents[2]


def _date_of(folder: Path) -> str:
    return json.loads((folder / "results.json").read_text())["environment"]["date"]


def test_single_runs_add_to_the_report(tmp_path):
    out = tmp_path / "results"
    log = io.StringIO()
    runner.run(["xor"], out, seed=0, quick=True, stream=log)
    first = (out / "REPORT.md").read_text()
    assert "### xor: ok (quick run" in first and "min_norm_least_squares: ok" not in first
    runner.run(["min_norm_least_squares"], out, seed=3, quick=True, stream=log)
    report = (out / "REPORT.md").read_text()
    # both experiments, each with the run it comes from: command, quick/full, seed, date
    for name, seed in (("xor", 0), ("min_norm_least_squares", 3)):
        date = runner._nice_date(_date_of(out / name))
        assert f"### {name}: ok (quick run, {date}," in report
        assert re.search(
            rf"\| {name} \| ok \| quick, seed {seed} \| {re.escape(date)} \| "
            r"[0-9.]+ s \| (\d+)/\1 \|",
            report,
        ), name
        assert f"python -m experiments.{name} --seed {seed} --out {out / name} --quick" in report
    assert "Not run yet (no results in this folder):" in report and "parity" in report
    # the excerpt keeps the summary and both sections, without plots or claims
    tables = (out / "REPORT_TABLES.md").read_text()
    assert "### xor: ok" in tables and "### min_norm_least_squares: ok" in tables
    assert "![" not in tables and "| claim |" not in tables
    # a rebuild without running anything gives the same sections
    assert runner.main(["report", "--out", str(out)]) == 0
    assert "### xor: ok (quick run" in (out / "REPORT.md").read_text()


def _write_results(
    folder: Path, date: str, quick: bool = True, holds: bool = True, command: str | None = None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "experiment": folder.name,
        "config": {"seed": 7, "quick": quick},
        "environment": {"date": date, "git_commit": "abc1234"},
        "numbers": {},
        "headline": {"answer": 42},
        "claims": [{"claim": "it works", "holds": holds, "detail": "d"}],
        "runtime_s": 1.5,
    }
    if command is not None:
        data["command"] = command
    (folder / "results.json").write_text(json.dumps(data))
    (folder / "results.md").write_text(f"# {folder.name}\n\nbody of {date}\n")


def _record_xor(
    out: Path, status: str, started: str, seconds: float, reason: str, command: str
) -> None:
    """Record a runner outcome of xor that started at ``started`` and took ``seconds``."""
    finished = (datetime.fromisoformat(started) + timedelta(seconds=seconds)).isoformat()
    outcome = runner.Outcome(
        "xor", status, seconds, reason=reason, command=command, started=started, finished=finished
    )
    runner.record_outcome(outcome, out)


def test_latest_result_wins(tmp_path):
    out = tmp_path / "results"
    folder = out / "xor"
    # results.json in the format before this change (no command): rebuilt from the config
    _write_results(folder, "2026-01-01T10:00:00+00:00", quick=False)
    entry = runner.latest_entry("xor", out)
    assert (entry.status, entry.mode, entry.seed) == ("ok", "full", 7)
    assert entry.command == "python -m experiments.xor --seed 7"
    # a later runner run that was skipped hides it, and says an earlier result exists
    reason = "DataNotFoundError: no file\nset AUTODIFF_DATA_MIRROR"
    command = "python -m experiments.xor --seed 1 --out r/xor --quick"
    _record_xor(out, "skipped", "2026-01-02T10:00:00+00:00", 2.0, reason, command)
    entry = runner.latest_entry("xor", out)
    assert (entry.status, entry.mode, entry.seed, entry.body) == ("skipped", "quick", "1", "")
    assert "2026-01-01 10:00 UTC" in entry.earlier
    runner.build_report(out)
    report = (out / "REPORT.md").read_text()
    assert "### xor: skipped (quick run, 2026-01-02 10:00 UTC, 2.0 s)" in report
    assert "set AUTODIFF_DATA_MIRROR" in report and "body of" not in report
    # then `python -m experiments.xor` writes newer results: they win
    _write_results(folder, "2026-01-03T09:00:00+00:00", command="python -m experiments.xor")
    entry = runner.latest_entry("xor", out)
    assert (entry.status, entry.date) == ("ok", "2026-01-03T09:00:00+00:00")
    assert "body of 2026-01-03" in entry.body and not entry.earlier
    # a run that failed a claim after writing results shows the failure and its results
    _write_results(folder, "2026-01-04T09:00:05+00:00", holds=False)
    reason = "AssertionError: xor: claim does not hold: it works"
    command = "python -m experiments.xor --seed 7 --quick"
    _record_xor(out, "failed", "2026-01-04T09:00:00+00:00", 6.0, reason, command)
    entry = runner.latest_entry("xor", out)
    assert entry.status == "failed" and "claim does not hold" in entry.reason
    assert "body of 2026-01-04" in entry.body and entry.claims == [0, 1]


def test_summary_shows_the_whole_reason_and_how_to_run_offline():
    reason = (
        "DownloadError: could not download 'test_batch.bin' to /x/cifar10/test_batch.bin:"
        "\n  http://127.0.0.1:9/cifar10/test_batch.bin: failed 3 time(s)\n"
        "No partial file was kept. To work offline, ... or set $AUTODIFF_DATA_MIRROR to "
        "a folder or http(s) URL holding it"
    )
    outcomes = [
        runner.Outcome("xor", "ok", 1.0, headline={"margin": 0.93}, claims=[5, 5]),
        runner.Outcome("cifar_fc", "skipped", 2.0, reason=reason),
    ]
    table = runner.summary_table(outcomes)
    assert "| xor | ok | 1.0 s | 5/5 | margin = 0.93 |" in table
    assert "| cifar_fc | skipped | 2.0 s | - |" in table and "(whole reason below)" in table
    text = runner.reasons_text(outcomes)
    for line in reason.splitlines():
        assert line in text
    assert (
        "offline, with the shared copies: AUTODIFF_DATA_MIRROR=../shared/data "
        "python -m experiments run cifar_fc"
    ) in text
    assert "xor" not in text


def test_offline_lists_the_data_experiments_it_left_out(monkeypatch, tmp_path, capsys):
    data = [n for n in runner.experiment_names() if runner.needs_data(n)]
    assert {"cifar_fc", "mnist_cnn", "kmnist_linear"} <= set(data)
    seen = {}

    def fake_run(names, out_root, **kwargs):
        seen.update(names=names, **kwargs)
        print(runner.left_out_text(kwargs["left_out"]))
        return [runner.Outcome(n, "ok", 0.0) for n in names]

    monkeypatch.setattr(runner, "run", fake_run)
    assert runner.main(["run", "--offline", "--quick", "--out", str(tmp_path)]) == 0
    assert not set(seen["names"]) & set(data) and sorted(seen["left_out"]) == sorted(data)
    assert seen["invocation"] == f"python -m experiments run --offline --quick --out {tmp_path}"
    text = capsys.readouterr().out
    assert "Left out by --offline (they need datasets): " in text
    mirror = [n for n in data if not n.startswith("kmnist")]
    assert (
        "AUTODIFF_DATA_MIRROR=../shared/data python -m experiments run " + " ".join(mirror)
    ) in text
    assert (
        "kmnist_linear: python -m experiments.kmnist_linear --dataset fashion_mnist "
        "--data-root /usr/share/datasets/fashion-mnist"
    ) in text


def test_script_says_where_its_results_went(tmp_path):
    out = tmp_path / "mn"
    env = dict(os.environ, PYTHONPATH=str(ROOT), AUTODIFF_PROGRESS="0")
    env.pop("AUTODIFF_DATA_MIRROR", None)
    done = subprocess.run(
        [sys.executable, "-m", "experiments.min_norm_least_squares", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "results.json").read_text())
    n = len(data["claims"])
    lines = done.stdout.strip().splitlines()
    assert lines[-2].startswith(f"results: {out}/results.md (and results.json")
    assert re.fullmatch(
        rf"min_norm_least_squares: {n} claims held, 0 failed \(quick run, "
        r"seed 0, [0-9.]+ s\)",
        lines[-1],
    ), lines[-1]
    assert data["command"] == f"python -m experiments.min_norm_least_squares --quick --out {out}"
    assert data["mode"] == "quick" and "_argv" not in data["config"]


def test_closing_summary_counts_failed_claims(tmp_path, monkeypatch):
    args = argparse.Namespace(seed=0, out=tmp_path, quick=True)
    report = common.Report("demo", args, "000.txt", "a demo")
    report.check(True, "one holds")
    with pytest.raises(AssertionError):
        report.check(False, "one fails")
    monkeypatch.setattr(common, "_ANNOUNCED", [report])
    stream = io.StringIO()
    common._announce(stream)
    text = stream.getvalue()
    assert f"results: {tmp_path}/results.md (and results.json)" in text
    assert "demo: 1 claim held, 1 failed (quick run, seed 0," in text
    # not written at all (an error before write): says so
    report2 = common.Report(
        "demo2", argparse.Namespace(seed=1, out=tmp_path / "b", quick=False), "x", "y"
    )
    monkeypatch.setattr(common, "_ANNOUNCED", [report2])
    stream = io.StringIO()
    common._announce(stream)
    assert "results: none written to" in stream.getvalue()
    assert "demo2: 0 claims held, 0 failed (full run, seed 1," in stream.getvalue()


def test_progress_bars_follow_the_environment(monkeypatch):
    monkeypatch.setenv(common.PROGRESS_ENV, "1")
    bar = common.progress(range(3), desc="x")
    assert not bar.disable and list(bar) == [0, 1, 2]
    monkeypatch.setenv(common.PROGRESS_ENV, "0")
    assert common.progress(range(3)).disable


def test_gaps_and_choices_are_in_the_docs_and_the_report(tmp_path):
    table = _coverage.markdown_table()
    page = (ROOT / "docs" / "experiments.md").read_text()
    assert table in page, "paste `python -m experiments coverage` into docs/experiments.md"
    rows = {(g.document, g.part, g.status) for g in _coverage.GAPS}
    assert (
        "003",
        "Part 4, problem 4.2 (and the GPU timings of 4.3)",
        _coverage.NOT_COVERED,
    ) in rows
    assert ("004", "problem 13", _coverage.NOT_COVERED) in rows
    assert any(g.status == _coverage.CHOICE for g in _coverage.GAPS)
    known = set(runner.experiment_names())
    for g in _coverage.GAPS:
        assert g.status in (_coverage.NOT_COVERED, _coverage.PARTLY, _coverage.CHOICE)
        names = [e.strip() for e in g.experiments.split(",")]
        assert names in (["-"], ["(several)"]) or set(names) <= known, g
    runner.build_report(tmp_path)
    report = (tmp_path / "REPORT.md").read_text()
    assert "## Not covered, and choices left open" in report and table in report


def test_parallel_workers_keep_their_bars_off(monkeypatch):
    monkeypatch.setenv(common.PROGRESS_ENV, "")  # so that the teardown restores it
    monkeypatch.delenv(common.PROGRESS_ENV)
    runner._worker_init(show_progress=True)
    assert common.PROGRESS_ENV not in os.environ
    runner._worker_init(show_progress=False)
    assert os.environ[common.PROGRESS_ENV] == "0"
    monkeypatch.setenv(common.PROGRESS_ENV, "1")  # asked for explicitly: kept
    runner._worker_init(show_progress=False)
    assert os.environ[common.PROGRESS_ENV] == "1"
