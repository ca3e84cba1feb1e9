"""Shared plumbing for experiment modules: command line, results folder, claims, tables,
plots, environment; progress bars (`optim.progress`) and allocator tuning
(`autodiff.testing.timing`) are the library's, named here too.

Every experiment is a module `experiments/<name>.py` that defines

    DESCRIPTION = "one line"          # shown by `python -m experiments`
    SOURCE = "00x_....txt"            # source document(s) in ../shared/seeds/
    DATA = "none"                     # or the datasets it needs, e.g. "mnist"
    def main(argv: list[str] | None = None) -> Report: ...

and ends with `if __name__ == "__main__": main()`.  `main` builds its argument parser
with `parser(...)` (which gives --seed, --out and --quick), records what it measures in
a `Report` and calls `report.write()`, which writes results.json (config, the command
line, environment, numbers, claims, runtime), results.md (tables, claims, plots) and the
PNG plots into the output folder (default results/<name>/).

Run as a script (`python -m experiments.<name>`), an experiment ends by printing where its
results went and one summary line (claims held and failed, runtime); `Report` does that
(at exit), so every module gets it.  Long loops show a tqdm bar through `progress(...)`.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as _dt
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autodiff.testing import timing as _timing
from optim import progress as _progress

# Environment variables that change what an experiment reads or how fast it runs: they
# are part of the command line recorded in results.json when they are set.
COMMAND_ENV = ("AUTODIFF_DATA_MIRROR", "OPENBLAS_NUM_THREADS")


class _ExperimentParser(argparse.ArgumentParser):
    """argparse, remembering the arguments it parsed (as `namespace._argv`) so that the
    report can say exactly which command produced it."""

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        ns = super().parse_args(args, namespace)
        ns._argv = [str(a) for a in (sys.argv[1:] if args is None else args)]
        return ns


def command_line(name: str, args: argparse.Namespace) -> str:
    """The shell command that reruns experiment `name` with `args` (from the arguments it
    parsed; for a namespace built by hand, from its --quick and --seed)."""
    argv = getattr(args, "_argv", None)
    if argv is None:
        argv = (["--quick"] if getattr(args, "quick", False) else []) + (
            ["--seed", str(args.seed)] if hasattr(args, "seed") else []
        )
    env = [f"{k}={shlex.quote(os.environ[k])}" for k in COMMAND_ENV if os.environ.get(k)]
    return " ".join(
        env + ["python", "-m", f"experiments.{name}"] + ([shlex.join(argv)] if argv else [])
    )


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every experiment has."""
    p = _ExperimentParser(prog=f"python -m experiments.{name}", description=description)
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same numbers)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results") / name,
        help="output folder (default: results/%(prog)s)".replace("%(prog)s", name),
    )
    p.add_argument(
        "--quick", action="store_true", help="a reduced run (under a minute), used by the tests"
    )
    return p


def start(
    name: str,
    description: str,
    source: str,
    argv: list[str] | None,
    p: argparse.ArgumentParser | None = None,
) -> tuple[argparse.Namespace, Report, np.random.Generator]:
    """The opening of an experiment's `main`: the command line `argv` parsed by `p`
    (default: `parser(name, description)`, the options every experiment has), the
    `Report`, and a generator seeded by --seed."""
    args = (parser(name, description) if p is None else p).parse_args(argv)
    return args, Report(name, args, source, description), np.random.default_rng(args.seed)


def start_with_config(
    name: str,
    description: str,
    source: str,
    argv: list[str] | None,
    full: dict,
    quick: dict,
    p: argparse.ArgumentParser | None = None,
) -> tuple[argparse.Namespace, Report, dict]:
    """`start` for an experiment with a full and a quick configuration: instead of the
    generator, the configuration --quick picks, recorded in the report as "config"."""
    args, report, _ = start(name, description, source, argv, p)
    cfg = quick if args.quick else full
    report.number("config", cfg)
    return args, report, cfg


def environment() -> dict:
    """Where the numbers were measured: CPU, Python, numpy and its BLAS, date, git commit."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        info["cpu"] = platform.processor()
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older numpy without mode="dicts"
        info["blas"] = "unknown"
    try:
        info["git_commit"] = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                cwd=Path(__file__).resolve().parent,
                timeout=5,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = "unknown"
    return info


# The progress bars are the library's (optim.progress): $AUTODIFF_PROGRESS=0 turns them
# off, =1 forces them on (the runner turns them off in parallel workers).
PROGRESS_ENV = _progress.PROGRESS_ENV
progress = _progress.progress


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)  # JSON has no NaN or infinity
    if isinstance(value, Path):
        return str(value)
    return value


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v == 0 or 1e-3 <= abs(v) < 1e5:
            return f"{v:.4g}"
        return f"{v:.3e}"
    return str(v)


class Report:
    """What an experiment measured: numbers, claims (checked), tables, text and plots."""

    def __init__(self, name: str, args: argparse.Namespace, source: str, description: str):
        self.name = name
        self.args = args
        self.source = source
        self.description = description
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.numbers: dict[str, Any] = {}
        self.headline: dict[str, Any] = {}
        self.claims: list[dict] = []
        self.blocks: list[str] = []
        self.figures: list[str] = []
        self.command = command_line(name, args)
        self.written: Path | None = None  # results.json, once written
        self._start = time.perf_counter()
        if _run_as_script(name):
            _announce_at_exit(self)

    # -- recording ------------------------------------------------------------
    def number(self, key: str, value: Any, headline: bool = False) -> Any:
        """Record a measured number (headline numbers appear in the runner's summary)."""
        self.numbers[key] = _jsonable(value)
        if headline:
            self.headline[key] = _jsonable(value)
        return value

    def check(self, condition: bool, claim: str, detail: str = "") -> None:
        """Assert a claim of the source document; it is listed in results.md either way,
        and a false claim raises AssertionError after the report is written."""
        ok = bool(condition)
        self.claims.append({"claim": claim, "holds": ok, "detail": detail})
        if not ok:
            self.write()
            raise AssertionError(f"{self.name}: claim does not hold: {claim} ({detail})")

    def text(self, markdown: str) -> None:
        self.blocks.append(markdown.strip())

    def table(
        self, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], note: str = ""
    ) -> None:
        """A markdown table.  Where the source reports a number, put ours beside it."""
        lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += [
            "| " + " | ".join(_fmt(v).replace("|", "\\|") for v in row) + " |" for row in rows
        ]
        if note:
            lines += ["", note]
        self.blocks.append("\n".join(lines))

    def figure(self, fig: Any, filename: str, caption: str) -> Path:
        """Save a matplotlib figure as PNG in the output folder and embed it in results.md."""
        path = self.out / filename
        fig.savefig(path, dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.figures.append(filename)
        self.blocks.append(f"![{caption}]({filename})\n\n*{caption}*")
        return path

    # -- output ---------------------------------------------------------------
    @property
    def runtime(self) -> float:
        return time.perf_counter() - self._start

    def summary_line(self) -> str:
        """One line: how many claims held and failed, and the runtime."""
        held = sum(1 for c in self.claims if c["holds"])
        failed = len(self.claims) - held
        return (
            f"{self.name}: {held} claim{'s' if held != 1 else ''} held, {failed} failed"
            f" ({'quick' if getattr(self.args, 'quick', False) else 'full'} run, "
            f"seed {getattr(self.args, 'seed', '?')}, {self.runtime:.1f} s)"
        )

    def write(self) -> Path:
        """Write results.json and results.md; returns the output folder."""
        env = environment()
        config = {k: _jsonable(v) for k, v in vars(self.args).items() if not k.startswith("_")}
        payload = {
            "experiment": self.name,
            "description": self.description,
            "source": self.source,
            "command": self.command,
            "mode": "quick" if config.get("quick") else "full",
            "config": config,
            "environment": env,
            "numbers": self.numbers,
            "headline": self.headline,
            "claims": self.claims,
            "runtime_s": round(self.runtime, 3),
        }
        write_atomic(self.out / "results.json", json.dumps(payload, indent=2) + "\n")
        self.written = self.out / "results.json"
        md = [
            f"# {self.name}",
            "",
            self.description,
            "",
            f"Source: `{self.source}`. Run: `{self.command}` ({payload['mode']} run, "
            f"{self.runtime:.1f} s, {env['date']}, commit {env['git_commit']}).",
            "",
        ]
        if self.claims:
            md += ["### Claims checked", "", "| claim | holds | detail |", "|---|---|---|"]
            md += [
                f"| {c['claim']} | {'yes' if c['holds'] else '**NO**'} | {c['detail']} |"
                for c in self.claims
            ]
            md.append("")
        for block in self.blocks:
            md += [block, ""]
        md += ["### Environment", "", ", ".join(f"{k}: {v}" for k, v in env.items()), ""]
        write_atomic(self.out / "results.md", "\n".join(md))
        return self.out


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it and a rename, so a reader
    (the report, another machine of a cluster) never sees a half-written file."""
    path = Path(path)
    tmp = path.with_name(
        f".{path.name}.{socket.gethostname()}.{os.getpid()}.{threading.get_ident()}.tmp"
    )
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _run_as_script(name: str) -> bool:
    """True when this process is `python -m experiments.<name>`."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == f"experiments.{name}"


_ANNOUNCED: list[Report] = []


def _announce_at_exit(report: Report) -> None:
    if not _ANNOUNCED:
        atexit.register(_announce)
    _ANNOUNCED[:] = [report]  # the latest report of the process is the one to announce


def _announce(stream: Any = None) -> None:
    """Where the results went and one summary line (at the end of a script run, also after
    an uncaught error: then the traceback is already printed above)."""
    stream = stream or sys.stdout
    for report in _ANNOUNCED:
        error = getattr(sys, "last_value", None)
        if report.written is not None:
            plots = len(report.figures)
            print(
                f"\nresults: {report.out}/results.md (and results.json"
                + (f", {plots} plot{'s' if plots != 1 else ''}" if plots else "")
                + ")",
                file=stream,
            )
        else:
            first = (str(error).splitlines() or [""])[0] if error is not None else ""
            print(
                f"\nresults: none written to {report.out}/"
                + (f" ({type(error).__name__}: {first})" if error is not None else ""),
                file=stream,
            )
        print(
            report.summary_line() + (" - stopped by an error" if error is not None else ""),
            file=stream,
            flush=True,
        )


def label_loss_and_accuracy(
    axes: Any, loss_title: str, accuracy_label: str, accuracy_title: str, legend_size: int = 7
) -> None:
    """Label a pair of per-epoch panels: axes[0] the mean training loss (log scale),
    axes[1] an accuracy; both get an epoch axis, a grid and a legend."""
    axes[0].set_yscale("log")
    axes[0].set_ylabel("mean training loss during the epoch")
    axes[0].set_title(loss_title, fontsize=10)
    axes[1].set_ylabel(accuracy_label)
    axes[1].set_title(accuracy_title, fontsize=10)
    for ax in axes[:2]:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=legend_size)


# The allocator tuning is shared with the benchmarks (mnist_cnn and cifar_cnn use it).
tune_malloc = _timing.tune_malloc


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple = (6.0, 4.0)):
    """A matplotlib figure on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False)


def new_panel(size: tuple = (6.0, 4.0)):
    """A figure with a single panel: (fig, ax), from `new_figure`."""
    fig, axes = new_figure(size=size)
    return fig, axes[0, 0]
