"""Run experiments for several seeds and tabulate, per experiment, which claims held for
which seed: the check that every claim holds for every seed, not only for the one shown.

    python -m experiments seeds xor parity --seeds 0-4 --jobs 2    # run, then tabulate
    python -m experiments seeds --offline --quick --seeds 0-4      # the reduced runs
    python -m experiments seeds --out results/seeds                # tabulate only

Each (experiment, seed) is one task of experiments.parallel (`--jobs N` local processes,
`--cluster ADDRESS` Dask), writing OUT/seed<S>/<name>/ (results.json, results.md, plots):
every OUT/seed<S> is an ordinary results folder.  The table, OUT/SEEDS.md, is rebuilt from
every results.json under OUT whatever wrote it (this command or `python -m
experiments.<name> --seed S --out OUT/seed<S>/<name>`), so runs can be added a few at a
time.  It lists per experiment and kind of run (quick or full) the seeds, the claims held
for each, the commits that produced them, and every claim that failed for some seed with
that seed's detail.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE_FILE = "SEEDS.md"
_SEED_FOLDER = re.compile(r"seed(\d+)")


def seed_folder(out_root: Path, seed: int) -> Path:
    """Where the runs of one seed go: OUT/seed<S> (an ordinary results folder)."""
    return out_root / f"seed{seed}"


def run_seeds(
    names: list[str],
    seeds: list[int],
    out_root: Path,
    quick: bool = False,
    jobs: int = 1,
    cluster: str | None = None,
    stream: Any = None,
) -> Path:
    """Run every (experiment, seed) as one task, print a line as each finishes, then
    rebuild OUT/SEEDS.md; returns its path."""
    from .parallel import Executor
    from .runner import _now, _run_in_worker, _task_outcome, progress_line, record_outcome

    stream = stream or sys.stdout
    out_root.mkdir(parents=True, exist_ok=True)
    quiet = jobs > 1 or cluster is not None
    tasks = {}
    for seed in seeds:
        folder = seed_folder(out_root, seed)
        root = str(folder.resolve()) if cluster else str(folder)
        tasks.update({(name, seed): (name, root, seed, quick, quiet) for name in names})
    started, finished = _now(), [0]

    def done(result: Any) -> None:
        name, seed = result.key
        outcome = _task_outcome(result, started)
        outcome.name = name  # a task whose worker died every time is named by its key
        record_outcome(outcome, seed_folder(out_root, seed))
        finished[0] += 1
        line = progress_line(outcome, finished[0], len(tasks), f"{name}, seed {seed}")
        print(line, file=stream, flush=True)

    with Executor(jobs, cluster, isolate=True, stream=stream) as executor:
        executor.run(_run_in_worker, tasks, desc=None, on_done=done)
    path = write_table(out_root)
    print(f"\nclaims over seeds: {path}", file=stream)
    return path


@dataclass
class SeedRun:
    """One results.json: which experiment, seed and kind of run, and its claims."""

    name: str
    seed: int
    mode: str  # "quick" or "full"
    commit: str
    date: str
    runtime_s: float | None
    claims: list  # [{"claim", "holds", "detail"}]
    path: Path
    covers: tuple = ()  # a run over several seeds (--seeds, --n-seeds): those seeds

    @property
    def kind(self) -> str:
        """The table's 'run' column: quick or full, and 'one run over seeds' for a run whose
        claims are about several seeds at once."""
        return self.mode if len(self.covers) < 2 else f"{self.mode}, one run over seeds"


def _covered_seeds(config: dict, seed: int) -> tuple:
    """The seeds one run covered: its --seeds or --n-seeds when given, else its seed."""
    listed = config.get("seeds")
    if listed:
        from ._seeds import parse_seeds

        return tuple(parse_seeds(listed) if isinstance(listed, str) else listed)
    if config.get("n_seeds"):
        return tuple(range(seed, seed + int(config["n_seeds"])))
    return (seed,)


def collect_runs(out_root: Path) -> list[SeedRun]:
    """Every OUT/seed<S>/<name>/results.json, sorted by experiment, mode and seed."""
    runs = []
    for path in sorted(out_root.glob("seed*/*/results.json")):
        match = _SEED_FOLDER.fullmatch(path.parent.parent.name)
        if match is None:
            continue
        data = json.loads(path.read_text())
        config, env = data.get("config", {}), data.get("environment", {})
        covers = _covered_seeds(config, int(config.get("seed", match.group(1))))
        seed = covers[0]
        runs.append(
            SeedRun(
                name=data.get("experiment", path.parent.name),
                seed=seed,
                mode=data.get("mode") or ("quick" if config.get("quick") else "full"),
                commit=env.get("git_commit", ""),
                date=env.get("date", ""),
                runtime_s=data.get("runtime_s"),
                claims=list(data.get("claims", [])),
                path=path,
                covers=covers,
            )
        )
    return sorted(runs, key=lambda r: (r.name, r.kind, r.seed))


def _groups(runs: Iterable[SeedRun]) -> dict[tuple[str, str], list[SeedRun]]:
    groups: dict[tuple[str, str], list[SeedRun]] = {}
    for run in runs:
        groups.setdefault((run.name, run.kind), []).append(run)
    return groups


def _seeds_cell(run: SeedRun) -> str:
    return str(run.seed) if len(run.covers) < 2 else ", ".join(str(s) for s in run.covers)


def _held(run: SeedRun) -> int:
    return sum(1 for c in run.claims if c.get("holds"))


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def table_markdown(out_root: Path, runs: list[SeedRun]) -> str:
    """SEEDS.md: a summary row per (experiment, mode), then every failed claim."""
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Claims over seeds",
        "",
        f"Built {now} by `python -m experiments seeds` from the {len(runs)} results.json "
        f"files under `{out_root}` (one folder per seed). A claim is an assertion a wrong "
        "result would break; 'all held' means every claim of every seed listed. A run "
        "'over seeds' is one run of several seeds whose claims are about all of them "
        "together (a best setting by its mean over the seeds, say); it sits in the "
        "folder of its first seed.",
        "",
        "| experiment | run | seeds | claims held, per seed | all held | commits "
        "| runtime per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    failures = []
    for (name, mode), group in _groups(runs).items():
        held = [f"{_held(r)}/{len(r.claims)}" for r in group]
        every = all(_held(r) == len(r.claims) for r in group)
        times = [r.runtime_s for r in group if r.runtime_s is not None]
        span = "-" if not times else f"{min(times):.0f}-{max(times):.0f} s"
        if times and round(min(times)) == round(max(times)):
            span = f"{min(times):.0f} s"
        commits = ", ".join(sorted({r.commit for r in group if r.commit})) or "-"
        sep = "; " if any(len(r.covers) > 1 for r in group) else ", "
        lines.append(
            f"| {name} | {mode} | {sep.join(_seeds_cell(r) for r in group)} | {', '.join(held)} "
            f"| {'yes' if every else '**no**'} | {commits} | {span} |"
        )
        for r in group:
            failures += [(name, mode, _seeds_cell(r), c) for c in r.claims if not c.get("holds")]
    lines += ["", "## Claims that failed for some seed", ""]
    if not failures:
        lines.append("None: every claim held for every seed above.")
    else:
        lines += ["| experiment | run | seed | claim | detail |", "|---|---|---|---|---|"]
        lines += [
            f"| {name} | {mode} | {seed} | {_cell(c.get('claim', ''))} | "
            f"{_cell(c.get('detail', ''))} |"
            for name, mode, seed, c in failures
        ]
    return "\n".join(lines) + "\n"


def write_table(out_root: Path) -> Path:
    """Rebuild OUT/SEEDS.md from the results under OUT; returns its path."""
    from .common import write_atomic

    path = out_root / TABLE_FILE
    write_atomic(path, table_markdown(out_root, collect_runs(out_root)))
    return path
