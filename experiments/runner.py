"""List and run the experiments, and collect their results into one report.

    python -m experiments                         # list: name, description, source, data
    python -m experiments run parity xor --quick  # run some
    python -m experiments run --all --jobs 2      # run all, two worker processes
    python -m experiments run --all --cluster local:2   # on a Dask cluster (docs/cluster.md)
    python -m experiments run --offline --quick   # everything that needs no download
    python -m experiments report                  # rebuild results/REPORT.md, run nothing
    python -m experiments coverage                # what the documents ask that is not covered
    python -m experiments seeds xor --seeds 0-4   # every claim for every seed (_seed_sweep)

Each experiment runs in its own worker process (local, or a Dask worker with --cluster:
then --out must be a folder every worker can write, see docs/cluster.md); the summary at
the end gives the status, runtime, claims and headline numbers, and the whole reason for
every skip or failure.
results/REPORT.md is rebuilt after every run from the results folder itself: it holds the
latest result of every experiment found there (each experiment's results.json, and the
runner's record of its last run, outcome.json), grouped by source document, each section
saying which run it comes from (date, command, quick or full, seed, runtime).  So a run of
one experiment adds to the report instead of replacing it, and so does
`python -m experiments.<name>` once the report is next rebuilt.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import os
import pkgutil
import re
import shlex
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOT_EXPERIMENTS = {"common", "runner", "parallel"}

# Where the offline copies of the datasets are, relative to the repository root.
SHARED_MIRROR = "../shared/data"
# Datasets the shared copies do not hold completely: how to run their experiments instead
# (command, note).
DATA_HINTS = {
    "kmnist": (
        "python -m experiments.{name} --dataset fashion_mnist "
        "--data-root /usr/share/datasets/fashion-mnist",
        "the KMNIST training images are not in the shared copies, so this runs it on "
        "the Fashion-MNIST stand-in (apt-get install dataset-fashion-mnist)",
    ),
}
OUTCOME_FILE = "outcome.json"  # the runner's record of an experiment's last run


@dataclass
class Outcome:
    name: str
    status: str  # "ok", "failed" or "skipped"
    runtime_s: float
    reason: str = ""
    headline: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)  # [held, total] when the run finished
    command: str = ""  # the equivalent `python -m experiments.<name> ...`
    started: str = ""  # ISO dates (UTC, seconds)
    finished: str = ""
    retried: int = 0  # times it was started again after its worker process died


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def experiment_names() -> list[str]:
    """Every experiment module of the package (all modules but the plumbing)."""
    import experiments

    return sorted(
        m.name
        for m in pkgutil.iter_modules(experiments.__path__)
        if not m.name.startswith("_") and m.name not in NOT_EXPERIMENTS
    )


def describe(name: str) -> dict:
    module = importlib.import_module(f"experiments.{name}")
    return {
        "name": name,
        "description": getattr(module, "DESCRIPTION", ""),
        "source": getattr(module, "SOURCE", ""),
        "data": getattr(module, "DATA", "none"),
    }


def needs_data(name: str) -> bool:
    return not describe(name)["data"].startswith("none")


def _is_data_problem(error: BaseException) -> bool:
    try:
        from datasets.errors import DatasetError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, DatasetError)


def run_one(name: str, out_root: str, seed: int, quick: bool) -> Outcome:
    """Run experiment `name` (in this process); never raises."""
    from .common import COMMAND_ENV

    started, start = _now(), time.perf_counter()
    argv = ["--seed", str(seed), "--out", str(Path(out_root) / name)] + (
        ["--quick"] if quick else []
    )
    env = [f"{k}={shlex.quote(os.environ[k])}" for k in COMMAND_ENV if os.environ.get(k)]
    command = " ".join(env + [f"python -m experiments.{name}", shlex.join(argv)])
    try:
        module = importlib.import_module(f"experiments.{name}")
        report = module.main(argv)
        headline = dict(getattr(report, "headline", {}) or {})
        claims = list(getattr(report, "claims", []) or [])
        return Outcome(
            name,
            "ok",
            time.perf_counter() - start,
            headline=headline,
            claims=[sum(1 for c in claims if c.get("holds")), len(claims)],
            command=command,
            started=started,
            finished=_now(),
        )
    except Exception as error:  # noqa: BLE001 - every failure becomes a row of the report
        status = "skipped" if _is_data_problem(error) else "failed"
        reason = f"{type(error).__name__}: {error}"
        if status == "failed":
            reason += "\n" + "".join(traceback.format_exception(error)[-3:])
        return Outcome(
            name,
            status,
            time.perf_counter() - start,
            reason=reason,
            command=command,
            started=started,
            finished=_now(),
        )


def _run_in_worker(name: str, out_root: str, seed: int, quick: bool, quiet: bool) -> Outcome:
    """run_one in a worker process; `quiet`: no progress bars (parallel workers' bars would
    overwrite each other)."""
    _worker_init(show_progress=not quiet)
    return run_one(name, out_root, seed, quick)


def _worker_init(show_progress: bool) -> None:
    if not show_progress:  # parallel workers' bars would overwrite each other
        os.environ.setdefault("AUTODIFF_PROGRESS", "0")


def _task_outcome(result: Any, started: str) -> Outcome:
    """The Outcome of a finished runner task (a parallel.TaskResult)."""
    if result.ok:
        outcome = result.value
    else:  # the worker could not run it (its process died every time)
        outcome = Outcome(
            result.key,
            "failed",
            result.seconds,
            reason=result.error,
            started=started,
            finished=_now(),
        )
    outcome.retried = result.retried
    return outcome


def run(
    names: list[str],
    out_root: Path,
    seed: int = 0,
    quick: bool = False,
    jobs: int = 1,
    stream: Any = sys.stdout,
    left_out: list[str] | None = None,
    invocation: str = "",
    cluster: str | None = None,
) -> list[Outcome]:
    """Run experiments in `jobs` worker processes (or on the Dask cluster at `cluster`,
    see experiments.parallel), print progress and a summary, record each outcome in
    out_root/<name>/outcome.json and rebuild out_root/REPORT.md from all the results
    there.  `left_out`: experiments deliberately not run (--offline), listed with how to
    run them.  Returns the outcomes in the order of `names`."""
    from .parallel import Executor

    out_root.mkdir(parents=True, exist_ok=True)
    # absolute: a cluster's workers need not share this process's working directory
    root = str(out_root.resolve()) if cluster else str(out_root)
    quiet = jobs > 1 or cluster is not None
    outcomes: dict[str, Outcome] = {}
    started = _now()

    def done(result: Any) -> None:
        outcome = _task_outcome(result, started)
        outcomes[outcome.name] = outcome
        record_outcome(outcome, out_root)
        print(
            progress_line(outcome, len(outcomes), len(names), outcome.name), file=stream, flush=True
        )

    with Executor(jobs, cluster, isolate=True, stream=stream) as executor:
        executor.run(
            _run_in_worker,
            {n: (n, root, seed, quick, quiet) for n in names},
            desc=None,
            on_done=done,
        )
    ordered = [outcomes[n] for n in names]
    print("\n" + summary_table(ordered), file=stream)
    reasons = reasons_text(ordered)
    if reasons:
        print("\n" + reasons, file=stream)
    retried = [o for o in ordered if o.retried]
    if retried:
        print(
            "\nRetried (a worker process died while running it, so it ran again from the "
            "start): " + ", ".join(f"{o.name} ({o.retried + 1} starts)" for o in retried),
            file=stream,
        )
    if left_out:
        print("\n" + left_out_text(left_out), file=stream)
    path = build_report(
        out_root, invocation=invocation or _invocation(names, seed, quick, jobs, cluster)
    )
    print(f"\nreport: {path} (the latest result of every experiment in {out_root}/)", file=stream)
    _write_atomic(
        out_root / "summary.json", json.dumps([o.__dict__ for o in ordered], indent=2) + "\n"
    )
    return ordered


def _invocation(
    names: list[str], seed: int, quick: bool, jobs: int, cluster: str | None = None
) -> str:
    from .parallel import describe as executor_words

    words = executor_words(jobs, cluster)
    return (
        "python -m experiments run "
        + " ".join(names)
        + (" --quick" if quick else "")
        + f" --seed {seed}"
        + (f" {words}" if words else "")
    )


def record_outcome(outcome: Outcome, out_root: Path) -> Path:
    """Write the runner's record of this run to out_root/<name>/outcome.json."""
    folder = out_root / outcome.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / OUTCOME_FILE
    _write_atomic(path, json.dumps(outcome.__dict__, indent=2) + "\n")
    return path


# -- the summary -------------------------------------------------------------------------


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        items = [_short(v) for v in value[:4]]
        return "[" + ", ".join(items) + (", ...]" if len(value) > 4 else "]")
    if isinstance(value, dict):
        items = [f"{k}: {_short(v)}" for k, v in list(value.items())[:4]]
        return "{" + ", ".join(items) + (", ...}" if len(value) > 4 else "}")
    return str(value)


def _headline_text(headline: dict) -> str:
    return "; ".join(f"{key} = {_short(value)}" for key, value in headline.items())


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _claims_text(claims: list) -> str:
    return f"{claims[0]}/{claims[1]}" if claims else "-"


def _detail(status: str, headline: dict, reason: str) -> str:
    """A summary row's last cell: the headline numbers of a run that went through, else
    the first line of the reason it did not."""
    if status == "ok":
        return _headline_text(headline)
    return _cell(reason.splitlines()[0] if reason else "")


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def progress_line(outcome: Outcome, finished: int, total: int, what: str) -> str:
    """The line printed as a task ends: "[finished/total] what: status (runtime, claims
    held, how often it was started when more than once)"."""
    claims = f", {outcome.claims[0]}/{outcome.claims[1]} claims held" if outcome.claims else ""
    again = f", started {outcome.retried + 1} times" if outcome.retried else ""
    return (
        f"[{finished}/{total}] {what}: {outcome.status} ({outcome.runtime_s:.1f} s{claims}{again})"
    )


def summary_table(outcomes: list[Outcome]) -> str:
    """One row per outcome; a skip or failure shows the first line of its reason here and
    the whole reason in `reasons_text`."""
    rows = [
        [
            o.name,
            o.status,
            f"{o.runtime_s:.1f} s",
            _claims_text(o.claims),
            _detail(o.status, o.headline, o.reason)
            + ("" if o.status == "ok" else " (whole reason below)"),
        ]
        for o in outcomes
    ]
    return _markdown_table(
        ["experiment", "status", "runtime", "claims held", "headline numbers"], rows
    )


def data_hint(name: str) -> str:
    """The command that runs a data experiment offline."""
    data = describe(name)["data"]
    for key, (command, _) in DATA_HINTS.items():
        if data.startswith(key):
            return command.format(name=name)
    return f"AUTODIFF_DATA_MIRROR={SHARED_MIRROR} python -m experiments run {name}"


def data_note(name: str) -> str:
    """Why `data_hint` is not the shared-mirror command, or ""."""
    data = describe(name)["data"]
    return next((note for key, (_, note) in DATA_HINTS.items() if data.startswith(key)), "")


def _hint_text(name: str) -> str:
    note = data_note(name)
    return data_hint(name) + (f"  ({note})" if note else "")


def reasons_text(outcomes: list[Outcome]) -> str:
    """Every skip and failure with its whole reason (and, for a missing dataset, how to
    provide it offline)."""
    lines: list[str] = []
    for o in outcomes:
        if o.status == "ok":
            continue
        lines += [
            f"{o.name} ({o.status}):",
            *("    " + line for line in o.reason.rstrip().splitlines()),
        ]
        if o.status == "skipped":
            lines.append(f"    offline, with the shared copies: {_hint_text(o.name)}")
    return ("Skipped or failed, and why:\n\n" + "\n".join(lines)) if lines else ""


def left_out_text(names: list[str]) -> str:
    """The experiments --offline left out, and the commands that run them."""
    if not names:
        return ""
    mirror = [n for n in names if data_hint(n).startswith("AUTODIFF_DATA_MIRROR")]
    other = [n for n in names if n not in mirror]
    lines = [
        "Left out by --offline (they need datasets): "
        + ", ".join(f"{n} ({describe(n)['data']})" for n in names)
        + "."
    ]
    if mirror:
        lines.append(
            f"Run them with the shared offline copies: AUTODIFF_DATA_MIRROR="
            f"{SHARED_MIRROR} python -m experiments run {' '.join(mirror)}"
        )
    lines += [f"{n}: {_hint_text(n)}" for n in other]
    return "\n".join(lines)


# -- the report --------------------------------------------------------------------------


@dataclass
class Entry:
    """The latest result of one experiment in the results folder."""

    name: str
    status: str  # "ok", "failed" or "skipped"
    date: str  # ISO, when the result was written
    command: str
    mode: str  # "quick" or "full" ("" when unknown)
    seed: Any
    runtime_s: float | None
    commit: str = ""
    headline: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)
    reason: str = ""
    body: str = ""  # results.md of this run, "" when it wrote none
    earlier: str = ""  # an older results.json kept beside a later failure


def _parse_date(text: str) -> _dt.datetime | None:
    try:
        return _dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _nice_date(text: str) -> str:
    date = _parse_date(text)
    if date is None:
        return text or "unknown date"
    return date.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _results_command(name: str, data: dict) -> str:
    if data.get("command"):
        return data["command"]
    config = data.get("config", {})
    return (
        f"python -m experiments.{name}"
        + (" --quick" if config.get("quick") else "")
        + f" --seed {config.get('seed')}"
    )


def latest_entry(name: str, out_root: Path) -> Entry | None:
    """The latest result of `name` under out_root: its results.json, unless the runner's
    outcome.json records a later run that failed or was skipped."""
    folder = out_root / name
    results, outcome = folder / "results.json", folder / OUTCOME_FILE
    data = json.loads(results.read_text()) if results.is_file() else None
    record = json.loads(outcome.read_text()) if outcome.is_file() else None
    entry = None
    if data is not None:
        config, env = data.get("config", {}), data.get("environment", {})
        claims = data.get("claims", [])
        held = sum(1 for c in claims if c.get("holds"))
        failed = [c for c in claims if not c.get("holds")]
        md = folder / "results.md"
        entry = Entry(
            name,
            "failed" if failed else "ok",
            env.get("date", ""),
            _results_command(name, data),
            data.get("mode") or ("quick" if config.get("quick") else "full"),
            config.get("seed"),
            data.get("runtime_s"),
            env.get("git_commit", ""),
            data.get("headline", {}),
            [held, len(claims)],
            reason="; ".join(f"claim does not hold: {c['claim']} ({c['detail']})" for c in failed),
            body=md.read_text() if md.is_file() else "",
        )
    if record is None or (record.get("status") == "ok" and entry is not None):
        return entry
    when = _parse_date(record.get("finished", ""))
    written = _parse_date(entry.date) if entry else None
    if entry is not None and when is not None and written is not None and written > when:
        return entry  # a later run (e.g. `python -m experiments.<name>`) wrote results
    started = _parse_date(record.get("started", ""))
    same_run = (
        entry is not None and written is not None and started is not None and written >= started
    )
    command = record.get("command", "")
    quick = " --quick" in f" {command} "
    seed = None
    parts = command.split()
    if "--seed" in parts and parts.index("--seed") + 1 < len(parts):
        seed = parts[parts.index("--seed") + 1]
    failure = Entry(
        name,
        record.get("status", "failed"),
        record.get("finished", ""),
        command,
        "quick" if quick else "full",
        seed,
        record.get("runtime_s"),
        reason=record.get("reason", "") or "its run wrote no results.json",
    )
    if same_run:  # it failed a claim after writing its results: show them too
        failure.headline, failure.claims = entry.headline, entry.claims
        failure.commit, failure.body = entry.commit, entry.body
    elif entry is not None:
        failure.earlier = (
            f"An earlier result ({entry.status}, {entry.mode} run of "
            f"{_nice_date(entry.date)}) is still in `{name}/results.md`."
        )
    return failure


def collect(out_root: Path) -> list[Entry]:
    """The latest entry of every known experiment that has one under out_root."""
    entries = [latest_entry(name, out_root) for name in experiment_names()]
    return [e for e in entries if e is not None]


def _run_label(e: Entry) -> str:
    seed = f", seed {e.seed}" if e.seed is not None else ""
    return f"{e.mode or 'unknown'}{seed}"


def report_summary_table(entries: list[Entry]) -> str:
    rows = []
    for e in entries:
        runtime = f"{e.runtime_s:.1f} s" if isinstance(e.runtime_s, (int, float)) else "-"
        rows.append(
            [
                e.name,
                e.status,
                _run_label(e),
                _nice_date(e.date),
                runtime,
                _claims_text(e.claims),
                _detail(e.status, e.headline, e.reason),
            ]
        )
    header = ["experiment", "status", "run", "date", "runtime", "claims held", "headline numbers"]
    return _markdown_table(header, rows)


def _section(e: Entry) -> list[str]:
    runtime = f"{e.runtime_s:.1f} s" if isinstance(e.runtime_s, (int, float)) else "runtime ?"
    source = describe(e.name)["source"]
    md = [
        f"### {e.name}: {e.status} ({e.mode or 'unknown'} run, {_nice_date(e.date)}, {runtime})",
        "",
        f"Source: `{source}`. From the run `{e.command}` ({_run_label(e)}) of "
        f"{_nice_date(e.date)}" + (f", commit {e.commit}" if e.commit else "") + f", {runtime}.",
        "",
    ]
    if e.status != "ok" and e.reason:
        md += ["```", e.reason.strip(), "```", ""]
        if e.status == "skipped":
            note = data_note(e.name)
            md += [
                f"Offline, with the shared copies: `{data_hint(e.name)}`"
                + (f" ({note})" if note else "")
                + ".",
                "",
            ]
    if e.earlier:
        md += [e.earlier, ""]
    if e.body:
        body = e.body.replace("](", f"]({e.name}/")  # plots live in the experiment folder
        body = body.replace(f"]({e.name}/http", "](http")
        lines = body.splitlines()[1:]  # without the title; the run line is said above
        lines = [
            line
            for i, line in enumerate(lines)
            if not (i < 8 and line.startswith("Source: `") and "Run: `" in line)
        ]
        text = "\n".join(("#" + line) if line.startswith("#") else line for line in lines)
        md += [re.sub(r"\n{3,}", "\n\n", text).strip("\n"), ""]
    return md


def coverage_section() -> list[str]:
    from ._coverage import markdown_table

    return [
        "## Not covered, and choices left open",
        "",
        "What the source documents ask for that the experiments do not reproduce (or only "
        "in part), and the choices the documents leave open (or leave to starter code we "
        "do not have). The same table is in README.md (`experiments/_coverage.py`).",
        "",
        markdown_table(),
        "",
    ]


def build_report(out_root: Path, invocation: str = "") -> Path:
    """Rebuild out_root/REPORT.md (and REPORT_TABLES.md) from the latest result of every
    experiment under out_root: one section per source document."""
    from .common import environment

    env = environment()
    entries = collect(out_root)
    missing = [n for n in experiment_names() if n not in {e.name for e in entries}]
    by_source: dict[str, list[Entry]] = {}
    for e in entries:  # an experiment drawing on several documents appears under each
        for source in (describe(e.name)["source"] or "(no source document)").split(","):
            by_source.setdefault(source.strip(), []).append(e)
    dates = sorted(e.date for e in entries if e.date)
    span = (
        f"from {_nice_date(dates[0])} to {_nice_date(dates[-1])}"
        if len(dates) > 1
        else f"of {_nice_date(dates[0])}"
        if dates
        else "none yet"
    )
    md = [
        "# Reproduction report",
        "",
        f"The latest result of every experiment in `{out_root}/` ({len(entries)} of "
        f"{len(entries) + len(missing)}; results {span}). Each section says which run its "
        "result comes from: the command (quick or full run, seed), its date, commit and "
        "runtime; results of different runs can sit side by side. Rebuilt"
        + (f" by `{invocation}`" if invocation else "")
        + f" on {_nice_date(env['date'])}, commit {env['git_commit']}.",
        "",
        "Environment of this rebuild: " + ", ".join(f"{k}: {v}" for k, v in env.items()),
        "",
        "## Summary",
        "",
        report_summary_table(entries),
        "",
    ]
    if missing:
        offline = [f"`{data_hint(n)}`" for n in missing if needs_data(n)]
        md += [
            "Not run yet (no results in this folder): " + ", ".join(missing) + ". Run "
            "them with `python -m experiments run NAME`"
            + ("; those that need datasets, offline: " + "; ".join(offline) if offline else "")
            + ".",
            "",
        ]
        notes = sorted({data_note(n) for n in missing if data_note(n)})
        if notes:
            md += ["Note: " + "; ".join(notes) + ".", ""]
    md += coverage_section()
    for source in sorted(by_source):
        md += [f"## {source}", ""]
        for e in by_source[source]:
            md += _section(e)
    text = "\n".join(md)
    path = out_root / "REPORT.md"
    _write_atomic(path, text)
    excerpt = tables_only(text).replace(
        "# Reproduction report\n",
        "# Reproduction report: tables\n\n"
        f"Excerpt of REPORT.md (results {span}; rebuilt {_nice_date(env['date'])}, "
        f"commit {env['git_commit']}; {env.get('cpu', '')}, {env['cpu_count']} cores).\n",
        1,
    )
    _write_atomic(out_root / "REPORT_TABLES.md", excerpt)
    return path


def write_report(outcomes: list[Outcome], out_root: Path, seed: int, quick: bool) -> Path:
    """Record `outcomes` and rebuild REPORT.md from everything in out_root (kept for
    callers of the earlier API)."""
    for o in outcomes:
        record_outcome(o, out_root)
    return build_report(
        out_root, invocation=_invocation([o.name for o in outcomes], seed, quick, 1)
    )


def _write_atomic(path: Path, text: str) -> None:
    from .common import write_atomic

    write_atomic(path, text)


def tables_only(markdown: str) -> str:
    """The headings and result tables of a report: a short excerpt without plots, prose
    or the (long) lists of checked claims."""
    keep: list[str] = []
    in_claims = False
    for line in markdown.splitlines():
        if line.startswith("#"):
            in_claims = line.lstrip("#").strip() == "Claims checked"
            if in_claims:
                continue
        elif in_claims:
            continue
        if line.startswith("#") or line.startswith("|"):
            if line.startswith("#") and keep and keep[-1] != "":
                keep.append("")
            keep.append(line)
            if line.startswith("#"):
                keep.append("")
        elif keep and keep[-1].startswith("|"):
            keep.append("")
    return "\n".join(keep) + "\n"


def main(argv: list[str] | None = None) -> int:
    from .parallel import add_parallel_args

    parser = argparse.ArgumentParser(
        prog="python -m experiments", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="list the experiments (the default)")
    r = sub.add_parser("run", help="run experiments and rebuild results/REPORT.md")
    r.add_argument("names", nargs="*", help="experiments to run")
    r.add_argument("--all", action="store_true", help="run every experiment")
    r.add_argument(
        "--offline",
        action="store_true",
        help="run every experiment that needs no dataset download (and say how to run the others)",
    )
    r.add_argument("--quick", action="store_true", help="reduced runs (under a minute each)")
    add_parallel_args(r, what="the experiments (one per worker process)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", type=Path, default=Path("results"))
    rep = sub.add_parser("report", help="rebuild results/REPORT.md from the results folder")
    rep.add_argument("--out", type=Path, default=Path("results"))
    sd = sub.add_parser(
        "seeds",
        help="run experiments for several seeds and tabulate the claims held per seed "
        "(OUT/SEEDS.md); without names, --all or --offline: only rebuild the table",
    )
    sd.add_argument("names", nargs="*", help="experiments to run")
    sd.add_argument("--all", action="store_true", help="run every experiment")
    sd.add_argument(
        "--offline", action="store_true", help="run every experiment that needs no download"
    )
    sd.add_argument("--quick", action="store_true", help="reduced runs (under a minute each)")
    sd.add_argument("--seeds", default="0-4", help="seeds: '0-4', '0,1,2' (default 0-4)")
    add_parallel_args(sd, what="the (experiment, seed) runs")
    sd.add_argument("--out", type=Path, default=Path("results") / "seeds")
    sub.add_parser(
        "coverage",
        help="print the table of what the source documents ask for "
        "that is not covered, and the choices they leave open",
    )
    args = parser.parse_args(argv)
    if args.command in (None, "list"):
        rows = [describe(n) for n in experiment_names()]
        print("| experiment | description | source | data |\n|---|---|---|---|")
        for row in rows:
            print(f"| {row['name']} | {row['description']} | {row['source']} | {row['data']} |")
        return 0
    if args.command == "coverage":
        from ._coverage import markdown_table

        print(markdown_table())
        return 0
    if args.command == "report":
        print(f"report: {build_report(args.out, invocation='python -m experiments report')}")
        return 0
    known = experiment_names()
    if args.command == "seeds":
        return _seeds_command(parser, args, known)
    names = (
        known
        if args.all
        else [n for n in known if not needs_data(n)]
        if args.offline
        else args.names
    )
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        parser.error(
            f"unknown experiments {unknown}; choose from {known}"
            if unknown
            else "name experiments to run, or pass --all or --offline"
        )
    left_out = [n for n in known if n not in names] if args.offline and not args.all else None
    invocation = "python -m experiments " + shlex.join(argv if argv is not None else sys.argv[1:])
    outcomes = run(
        names,
        args.out,
        seed=args.seed,
        quick=args.quick,
        jobs=args.jobs,
        left_out=left_out,
        invocation=invocation,
        cluster=args.cluster,
    )
    return 0 if all(o.status == "ok" for o in outcomes) else 1


def _seeds_command(parser: argparse.ArgumentParser, args: argparse.Namespace, known: list) -> int:
    from ._seed_sweep import collect_runs, run_seeds, write_table
    from ._seeds import parse_seeds

    names = known if args.all else [n for n in known if not needs_data(n)] if args.offline else []
    names = names or args.names
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown experiments {unknown}; choose from {known}")
    if not names:
        print(f"claims over seeds: {write_table(args.out)}")
        return 0
    run_seeds(names, parse_seeds(args.seeds), args.out, args.quick, args.jobs, args.cluster)
    runs = [r for r in collect_runs(args.out) if r.name in names]
    return 0 if runs and all(all(c.get("holds") for c in r.claims) for r in runs) else 1
