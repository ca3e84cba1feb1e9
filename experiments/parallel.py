"""Run independent tasks (grid cells, seed repeats, whole experiments) in this process, in
local worker processes or on a Dask cluster, and get every task's result or traceback.

    p = parser(NAME, DESCRIPTION)
    add_parallel_args(p)                       # --jobs N | --cluster ADDRESS
    args = p.parse_args(argv)
    tasks = {(seed, cell): (cell, seed) for seed in seeds for cell in cells}
    with Executor.from_args(args) as ex:
        results = ex.run(train_cell, tasks, shared={"data": data}, desc="grid")
    stop_on_failures(report, results)          # a failed cell: report it, keep the others
    values = {key: r.value for key, r in results.items()}

`fn(*args, **shared)` runs once per task; `shared` holds large read-only objects (a
dataset) sent to each worker process once.  Every task must derive its random numbers
from its own arguments (the experiment's seed and its cell), never from the worker or the
order of completion, so `--jobs 1`, `--jobs N` and `--cluster ...` give the same numbers:
bit for bit when the BLAS library uses as many threads in the workers as here (Dask's
workers use 1: run the local reference with OPENBLAS_NUM_THREADS=1, or set it for both;
a different thread count can change float32 sums in the last bits).

ADDRESS of `--cluster`: `local` (a `distributed.LocalCluster` on 127.0.0.1 with one worker
process per core), `local:N` (N worker processes) or `tcp://host:port` (the scheduler of a
running cluster: `dask scheduler`, then `dask worker tcp://host:port` on each machine).
Dask is optional (`pip install -e '.[cluster]'`) and imported only when --cluster is used.

Faults: a task that raises becomes a `TaskResult` with its traceback (the other tasks go
on); a task whose worker process dies (killed, out of memory) is started again, up to
`retries` times, and its result says so (`retried`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sys
import time
import traceback
import zlib
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

INSTALL_HINT = "pip install -e '.[cluster]'"
# BLAS thread counts: Dask starts its workers with 1 thread each; where this process sets
# one, a LocalCluster started here gets the same (so float round-off matches this process)
BLAS_THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
DEFAULT_RETRIES = 2  # starts after a worker process died, per task


@dataclass
class TaskResult:
    """What became of one task: its return value, or the traceback of what it raised."""

    key: Hashable
    value: Any = None
    error: str = ""  # the traceback (or why the task could not run); "" when it succeeded
    retried: int = 0  # how many times it was started again after its worker process died
    worker: str = ""  # host:pid of the process that ran it (last attempt)
    seconds: float = 0.0  # run time of the last attempt

    @property
    def ok(self) -> bool:
        return not self.error


class TasksFailed(RuntimeError):
    """Some tasks raised; their tracebacks are in the report (results of the others kept)."""


# -- command line --------------------------------------------------------------------------


def parse_cluster(text: str) -> str:
    """Check a --cluster ADDRESS: 'local', 'local:N' (N >= 1) or 'scheme://host:port'."""
    text = text.strip()
    if text == "local" or "://" in text:
        return text
    if text.startswith("local:"):
        n = text.split(":", 1)[1]
        if n.isdigit() and int(n) >= 1:
            return text
    raise argparse.ArgumentTypeError(
        f"expected 'local', 'local:N' (N worker processes, N >= 1) or "
        f"'tcp://host:port' (a running Dask scheduler), got {text!r}"
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes >= 1, got {text}")
    return value


def add_parallel_args(p: argparse.ArgumentParser, what: str = "independent tasks") -> None:
    """Add --jobs N (local worker processes, default 1) and --cluster ADDRESS (Dask) to `p`,
    as alternatives; `what` says what runs in parallel (for --help)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        metavar="N",
        help=f"run {what} in N local worker processes (default 1: in this process)",
    )
    g.add_argument(
        "--cluster",
        type=parse_cluster,
        default=None,
        metavar="ADDRESS",
        help=f"run {what} on a Dask cluster: local, local:N (N worker processes here) or "
        f"tcp://host:port (a running scheduler); needs {INSTALL_HINT}",
    )


def describe(jobs: int = 1, cluster: str | None = None) -> str:
    """The command-line words that chose the executor ('' for the default)."""
    if cluster:
        return f"--cluster {cluster}"
    return f"--jobs {jobs}" if jobs > 1 else ""


# -- random numbers of a task ------------------------------------------------------------


def cell_rng(seed: int, *cell: Any) -> np.random.Generator:
    """The random stream of one task: a function of the experiment's seed and the task's
    cell alone (ints, bools, strings and tuples of them, e.g. `cell_rng(seed, "b", 30)`), so
    that every executor, worker and order of completion gives the same numbers."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=_cell_key(cell)))


def _cell_key(cell: tuple) -> tuple[int, ...]:
    key: list[int] = []
    for part in cell:
        if isinstance(part, tuple):
            key.extend(_cell_key(part))
        elif isinstance(part, str):
            key.append(zlib.crc32(part.encode()))
        elif isinstance(part, (int, np.integer)) and part >= 0:
            key.append(int(part))
        else:
            raise TypeError(
                f"cell_rng: a cell is made of ints >= 0, bools, strings and tuples, got {part!r}"
            )
    return tuple(key)


# -- running one task ----------------------------------------------------------------------

_SHARED: dict[str, Any] = {}  # in a local worker process: the `shared` objects of its run


def _set_shared(shared: dict[str, Any]) -> None:
    global _SHARED
    _SHARED = shared


def _guarded(fn: Callable, args: tuple, shared: dict[str, Any] | None = None) -> tuple:
    """fn(*args, **shared), never raising: (True, value, where, seconds) or
    (False, traceback text, where, seconds)."""
    where = f"{socket.gethostname()}:{os.getpid()}"
    start = time.perf_counter()
    try:
        value = fn(*args, **(_SHARED if shared is None else shared))
    except Exception:  # noqa: BLE001 - a failed task is a result, not the end of the run
        return False, traceback.format_exc(), where, time.perf_counter() - start
    return True, value, where, time.perf_counter() - start


def _result(key: Hashable, outcome: tuple, retried: int = 0) -> TaskResult:
    ok, value, where, seconds = outcome
    return TaskResult(
        key,
        value=value if ok else None,
        error="" if ok else value,
        retried=retried,
        worker=where,
        seconds=seconds,
    )


# -- the executor --------------------------------------------------------------------------


class Executor:
    """Runs tasks in this process (jobs 1), in `jobs` local worker processes, or on the Dask
    cluster at `cluster`.  Use as a context manager: a cluster is connected (or a
    LocalCluster started) on entry and closed on exit, so several `run` calls share it
    (a nested `with` of the same Executor reuses the connection).

    isolate: run even a single job in a worker process (the runner: one experiment per
    process).  retries: how many times a task is started again after its worker process
    died (Dask: the scheduler's allowed-failures of a LocalCluster started here; a remote
    scheduler uses its own setting)."""

    def __init__(
        self,
        jobs: int = 1,
        cluster: str | None = None,
        retries: int = DEFAULT_RETRIES,
        isolate: bool = False,
        stream: Any = None,
    ):
        if cluster is not None:
            try:
                parse_cluster(cluster)
            except argparse.ArgumentTypeError as error:
                raise ValueError(f"Executor: cluster address: {error}") from None
        if jobs < 1:
            raise ValueError(f"Executor: expected jobs >= 1, got {jobs}")
        self.jobs, self.cluster, self.retries, self.isolate = jobs, cluster, retries, isolate
        self.stream = stream
        self.client: Any = None
        self._local_cluster: Any = None
        self._depth = 0  # nested `with` blocks: only the outermost connects and closes

    @classmethod
    def from_args(cls, args: argparse.Namespace, **kwargs: Any) -> Executor:
        """An Executor from the --jobs / --cluster options of `add_parallel_args`."""
        return cls(getattr(args, "jobs", 1), getattr(args, "cluster", None), **kwargs)

    @property
    def parallel(self) -> bool:
        """True when tasks run outside this process."""
        return self.cluster is not None or self.jobs > 1 or self.isolate

    # -- lifecycle
    def __enter__(self) -> Executor:
        self._depth += 1
        if self.cluster is not None and self.client is None:
            self.client, self._local_cluster = _connect(self.cluster, self.retries)
            self._print_where()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        if self.client is not None:
            self.client.close()
            self.client = None
        if self._local_cluster is not None:
            self._local_cluster.close()
            self._local_cluster = None

    def _print_where(self) -> None:
        stream = self.stream or sys.stderr
        info = self.client.scheduler_info()
        workers = len(info.get("workers", {}))
        print(
            f"dask: scheduler {self.client.scheduler.address}, {workers} worker(s)",
            file=stream,
            flush=True,
        )
        if "dashboard" in info.get("services", {}):
            print(f"dask dashboard: {self.client.dashboard_link}", file=stream, flush=True)

    # -- running
    def run(
        self,
        fn: Callable,
        tasks: Mapping[Hashable, tuple],
        shared: Mapping[str, Any] | None = None,
        desc: str | None = "tasks",
        on_done: Callable[[TaskResult], None] | None = None,
    ) -> dict[Hashable, TaskResult]:
        """Run fn(*args, **shared) for every (key, args) of `tasks` (fn: a module-level
        function, so worker processes can import it) and return {key: TaskResult} in the
        order of `tasks`.  Tasks are started in that order.  `desc`: label of the progress
        bar (tasks done / total; None: no bar).  on_done(result) runs here as each task
        finishes.  Never raises for a failing task."""
        shared = dict(shared or {})
        if self.cluster is not None:
            if self.client is None:
                raise RuntimeError("Executor.run: use the Executor as a context manager (with)")
            done = self._run_dask(fn, tasks, shared, desc, on_done)
        elif self.parallel:
            done = self._run_processes(fn, tasks, shared, desc, on_done)
        else:
            done = {}
            for key, args in _progress(tasks.items(), len(tasks), desc):
                done[key] = _result(key, _guarded(fn, tuple(args), shared))
                if on_done is not None:
                    on_done(done[key])
        return {key: done[key] for key in tasks}

    def _run_processes(self, fn, tasks, shared, desc, on_done) -> dict:
        """Rounds of a process pool over the unfinished tasks.  A worker that dies breaks
        the pool, and every task still unfinished is started again; a task's last allowed
        start runs alone in its own pool, so that a death is pinned on the task causing it
        and the others finish."""
        done: dict[Hashable, TaskResult] = {}
        starts = dict.fromkeys(tasks, 0)
        bar = _bar(len(tasks), desc)

        def finish(result: TaskResult) -> None:
            done[result.key] = result
            bar.update(1)
            if on_done is not None:
                on_done(result)

        while len(done) < len(tasks):
            pending = [k for k in tasks if k not in done]
            for key in [k for k in pending if starts[k] > self.retries]:
                finish(
                    TaskResult(
                        key,
                        error=f"a worker process died each of the {starts[key]} times this "
                        "task ran (killed, or out of memory)",
                        retried=starts[key] - 1,
                    )
                )
            pending = [k for k in pending if k not in done]
            if not pending:
                break
            last = self.retries > 0 and any(starts[k] == self.retries for k in pending)
            for group in [[k] for k in pending] if last else [pending]:
                for key in group:
                    starts[key] += 1
                self._pool_round(fn, tasks, group, shared, starts, finish)
        bar.close()
        return done

    def _pool_round(self, fn, tasks, keys, shared, starts, finish) -> None:
        """Run `keys` in a fresh process pool until they finish or a worker dies."""
        # fork where there is one: workers see this process's state (dataset registry,
        # the shared objects) without pickling it
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        with ProcessPoolExecutor(
            max_workers=min(self.jobs, len(keys)),
            mp_context=multiprocessing.get_context(method),
            initializer=_set_shared,
            initargs=(shared,),
        ) as pool:
            futures = {pool.submit(_guarded, fn, tuple(tasks[k])): k for k in keys}
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    return  # a worker died: the unfinished tasks go to the next round
                key = futures[future]
                finish(_result(key, outcome, retried=starts[key] - 1))

    def _run_dask(self, fn, tasks, shared, desc, on_done) -> dict:
        distributed = _import_distributed(self.cluster)
        client = self.client
        # large read-only objects go to every worker once, not with every task
        remote = {
            name: client.scatter([v], broadcast=True, hash=False)[0] for name, v in shared.items()
        }
        futures = {
            client.submit(_guarded, fn, tuple(args), remote, pure=False, retries=self.retries): key
            for key, args in tasks.items()
        }
        done: dict[Hashable, TaskResult] = {}
        bar = _bar(len(tasks), desc)
        for future in distributed.as_completed(futures):
            key = futures[future]
            retried = _retries_of(client, future.key)
            try:
                done[key] = _result(key, future.result(), retried)
            except Exception as error:  # noqa: BLE001 - e.g. KilledWorker: the task's result
                done[key] = TaskResult(
                    key,
                    error=f"{type(error).__name__}: {error}"
                    + (
                        " (its worker process died each time it ran the task)"
                        if type(error).__name__ == "KilledWorker"
                        else ""
                    ),
                    retried=retried,
                )
            bar.update(1)
            if on_done is not None:
                on_done(done[key])
            future.release()
        bar.close()
        for value in remote.values():
            value.release()
        return done


def run_tasks(
    fn: Callable,
    tasks: Mapping[Hashable, tuple],
    jobs: int = 1,
    cluster: str | None = None,
    shared: Mapping[str, Any] | None = None,
    desc: str | None = "tasks",
    **options: Any,
) -> dict[Hashable, TaskResult]:
    """One `Executor(jobs, cluster, **options).run(fn, tasks, shared, desc)`, connecting
    to (or starting) the cluster for this call only."""
    with Executor(jobs, cluster, **options) as ex:
        return ex.run(fn, tasks, shared=shared, desc=desc)


# -- reporting ------------------------------------------------------------------------------


def failed(results: Mapping[Hashable, TaskResult]) -> dict[Hashable, TaskResult]:
    """The results of the tasks that raised (or could not run)."""
    return {k: r for k, r in results.items() if not r.ok}


def notes_text(results: Mapping[Hashable, TaskResult]) -> str:
    """Markdown: the tasks retried after their worker died, and the failed tasks with their
    tracebacks ("" when every task ran once and succeeded)."""
    parts = []
    retried = [r for r in results.values() if r.retried]
    if retried:
        parts.append(
            "**Retried.** "
            + "; ".join(f"`{r.key}` started {r.retried + 1} times" for r in retried)
            + ": a worker process died while running it (killed or out of memory), so it "
            "was run again from the start (with the same seed, so the same numbers)."
        )
    for r in failed(results).values():
        parts.append(f"**Failed task `{r.key}`.**\n\n```\n{r.error.rstrip()}\n```")
    return "\n\n".join(parts)


def stop_on_failures(report: Any, results: Mapping[Hashable, TaskResult]) -> None:
    """Note retries in `report` (an experiments.common.Report); if a task failed, also
    record the finished tasks' values (numbers 'completed_tasks') and the failures
    ('failed_tasks': key -> traceback), write the report and raise TasksFailed."""
    note = notes_text(results)
    if note:
        report.text(note)
    bad = failed(results)
    if not bad:
        return
    report.number("completed_tasks", {str(k): r.value for k, r in results.items() if r.ok})
    report.number("failed_tasks", {str(k): r.error for k, r in bad.items()})
    report.write()
    first = next(iter(bad.values()))
    raise TasksFailed(
        f"{len(bad)} of {len(results)} tasks failed ({', '.join(str(k) for k in bad)}); "
        f"the others' results are in {report.out}/results.json. First failure, "
        f"{first.key}:\n{first.error}"
    )


# -- Dask ---------------------------------------------------------------------------------


def _import_distributed(address: str | None) -> Any:
    """The `distributed` module, or SystemExit saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise SystemExit(
            f"--cluster {address}: running on a Dask cluster needs dask.distributed, which "
            f"is not installed. Install the optional extra: {INSTALL_HINT}  (or run "
            "without --cluster, e.g. --jobs N for local worker processes)"
        ) from None
    return distributed


def _connect(address: str, retries: int) -> tuple[Any, Any]:
    """(client, LocalCluster or None) for a --cluster ADDRESS."""
    distributed = _import_distributed(address)
    import dask

    if address == "local" or address.startswith("local:"):
        n = int(address.split(":", 1)[1]) if ":" in address else (os.cpu_count() or 1)
        environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", None) or {})
        environ.update({k: os.environ[k] for k in BLAS_THREADS if k in os.environ})
        settings = {
            "distributed.scheduler.allowed-failures": retries,
            "distributed.nanny.pre-spawn-environ": environ,
        }
        with dask.config.set(settings):
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1"
            )
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(address, timeout="20s"), None
    except OSError as error:
        raise SystemExit(
            f"--cluster {address}: no Dask scheduler answered there ({error}); start one "
            "with `dask scheduler` and workers with `dask worker ADDRESS`"
        ) from None


def _suspicious(keys: list, dask_scheduler: Any = None) -> dict:
    tasks = dask_scheduler.tasks
    return {k: tasks[k].suspicious for k in keys if k in tasks}


def _retries_of(client: Any, key: Any) -> int:
    """How many times the scheduler saw the worker running task `key` die."""
    try:
        return int(client.run_on_scheduler(_suspicious, keys=[key]).get(key, 0))
    except Exception:  # noqa: BLE001 - a scheduler without it: no retry information
        return 0


# -- progress -----------------------------------------------------------------------------


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, desc: str | None) -> Any:
    """A tqdm bar of tasks done / total (on stderr; as experiments.common.progress decides
    whether to show it), or a stand-in doing nothing."""
    if desc is None:
        return _NoBar()
    from experiments.common import progress

    bar = progress(range(total), total=total, desc=desc)
    return bar if hasattr(bar, "update") else _NoBar()


def _progress(items: Any, total: int, desc: str | None) -> Any:
    if desc is None:
        return items
    from experiments.common import progress

    return progress(items, total=total, desc=desc)
