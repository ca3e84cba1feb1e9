"""List and run the experiments, and collect their results into one report.

    python -m experiments                         # list: name, description, source, data
    python -m experiments run parity xor --quick  # run some
    python -m experiments run --all --jobs 2      # run all, two worker processes
    python -m experiments run --offline --quick   # everything that needs no download

Each experiment runs in its own worker process; the summary table at the end gives the
status, runtime and headline numbers, and results/REPORT.md collects every experiment's
results.md grouped by source document, with failures and skips (and why) listed.
"""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOT_EXPERIMENTS = {"common", "runner"}


@dataclass
class Outcome:
    name: str
    status: str                 # "ok", "failed" or "skipped"
    runtime_s: float
    reason: str = ""
    headline: dict = field(default_factory=dict)


def experiment_names() -> list[str]:
    """Every experiment module of the package (all modules but the plumbing)."""
    import experiments

    return sorted(m.name for m in pkgutil.iter_modules(experiments.__path__)
                  if not m.name.startswith("_") and m.name not in NOT_EXPERIMENTS)


def describe(name: str) -> dict:
    module = importlib.import_module(f"experiments.{name}")
    return {"name": name, "description": getattr(module, "DESCRIPTION", ""),
            "source": getattr(module, "SOURCE", ""), "data": getattr(module, "DATA", "none")}


def _is_data_problem(error: BaseException) -> bool:
    try:
        from datasets.errors import DatasetError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, DatasetError)


def run_one(name: str, out_root: str, seed: int, quick: bool) -> Outcome:
    """Run experiment `name` (in this process); never raises."""
    start = time.perf_counter()
    argv = ["--seed", str(seed), "--out", str(Path(out_root) / name)] + (["--quick"] if quick
                                                                           else [])
    try:
        module = importlib.import_module(f"experiments.{name}")
        report = module.main(argv)
        headline = dict(getattr(report, "headline", {}) or {})
        return Outcome(name, "ok", time.perf_counter() - start, headline=headline)
    except Exception as error:  # noqa: BLE001 - every failure becomes a row of the report
        status = "skipped" if _is_data_problem(error) else "failed"
        reason = f"{type(error).__name__}: {error}"
        if status == "failed":
            reason += "\n" + "".join(traceback.format_exception(error)[-3:])
        return Outcome(name, status, time.perf_counter() - start, reason=reason)


def run(names: list[str], out_root: Path, seed: int = 0, quick: bool = False,
        jobs: int = 1, stream: Any = sys.stdout) -> list[Outcome]:
    """Run experiments in `jobs` worker processes, print progress and a summary, and write
    out_root/REPORT.md.  Returns the outcomes in the order of `names`."""
    out_root.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, Outcome] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_one, n, str(out_root), seed, quick): n for n in names}
        for i, future in enumerate(as_completed(futures), 1):
            outcome = future.result()
            outcomes[outcome.name] = outcome
            print(f"[{i}/{len(names)}] {outcome.name}: {outcome.status} "
                  f"({outcome.runtime_s:.1f} s)", file=stream, flush=True)
    ordered = [outcomes[n] for n in names]
    print("\n" + summary_table(ordered), file=stream)
    path = write_report(ordered, out_root, seed=seed, quick=quick)
    print(f"\nreport: {path}", file=stream)
    return ordered


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


def summary_table(outcomes: list[Outcome]) -> str:
    lines = ["| experiment | status | runtime | headline numbers |", "|---|---|---|---|"]
    for o in outcomes:
        detail = _headline_text(o.headline) if o.status == "ok" else o.reason.splitlines()[0]
        lines.append(f"| {o.name} | {o.status} | {o.runtime_s:.1f} s | {detail} |")
    return "\n".join(lines)


def write_report(outcomes: list[Outcome], out_root: Path, seed: int, quick: bool) -> Path:
    """REPORT.md: one section per source document with each experiment's results.md."""
    from .common import environment

    env = environment()
    by_source: dict[str, list[Outcome]] = {}
    for o in outcomes:  # an experiment drawing on several documents appears under each
        for source in (describe(o.name)["source"] or "(no source document)").split(","):
            by_source.setdefault(source.strip(), []).append(o)
    md = ["# Reproduction report", "",
          f"Generated by `python -m experiments run` (seed {seed}"
          f"{', quick runs' if quick else ''}) on {env['date']}, commit {env['git_commit']}.",
          "", "Environment: " + ", ".join(f"{k}: {v}" for k, v in env.items()), "",
          "## Summary", "", summary_table(outcomes), ""]
    for source in sorted(by_source):
        md += [f"## {source}", ""]
        for o in by_source[source]:
            md += [f"### {o.name}: {o.status} ({o.runtime_s:.1f} s)", ""]
            results = out_root / o.name / "results.md"
            if o.status == "ok" and results.exists():
                body = results.read_text()
                body = body.replace("](", f"]({o.name}/")  # plots live in the experiment folder
                body = body.replace(f"]({o.name}/http", "](http")
                md += ["\n".join(("#" + line) if line.startswith("#") else line
                                 for line in body.splitlines()[1:]), ""]
            else:
                md += ["```", o.reason.strip(), "```", ""]
    path = out_root / "REPORT.md"
    path.write_text("\n".join(md))
    excerpt = tables_only("\n".join(md)).replace(
        "# Reproduction report\n", "# Reproduction report: tables\n\n"
        f"Excerpt of REPORT.md (seed {seed}{', quick runs' if quick else ''}; {env['date']}, "
        f"commit {env['git_commit']}; {env.get('cpu', '')}, {env['cpu_count']} cores).\n", 1)
    (out_root / "REPORT_TABLES.md").write_text(excerpt)
    (out_root / "summary.json").write_text(json.dumps(
        [o.__dict__ for o in outcomes], indent=2) + "\n")
    return path


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
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="list the experiments (the default)")
    r = sub.add_parser("run", help="run experiments and write results/REPORT.md")
    r.add_argument("names", nargs="*", help="experiments to run")
    r.add_argument("--all", action="store_true", help="run every experiment")
    r.add_argument("--offline", action="store_true",
                   help="run every experiment that needs no dataset download")
    r.add_argument("--quick", action="store_true", help="reduced runs (under a minute each)")
    r.add_argument("--jobs", type=int, default=1, help="worker processes")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    if args.command in (None, "list"):
        rows = [describe(n) for n in experiment_names()]
        print("| experiment | description | source | data |\n|---|---|---|---|")
        for row in rows:
            print(f"| {row['name']} | {row['description']} | {row['source']} | {row['data']} |")
        return 0
    known = experiment_names()
    names = (known if args.all else
             [n for n in known if describe(n)["data"].startswith("none")] if args.offline else args.names)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        parser.error(f"unknown experiments {unknown}; choose from {known}" if unknown else
                     "name experiments to run, or pass --all or --offline")
    outcomes = run(names, args.out, seed=args.seed, quick=args.quick, jobs=args.jobs)
    return 0 if all(o.status == "ok" for o in outcomes) else 1
