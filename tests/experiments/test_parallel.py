"""experiments.parallel: a grid gives the same numbers in this process, in local worker
processes and on a Dask LocalCluster (127.0.0.1, 2 worker processes); a worker process
killed mid-task is replaced and the task runs again; a failing cell is reported with its
traceback and the other cells are kept; without Dask, --cluster says how to install it."""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import signal
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from experiments import parallel, runner
from experiments.common import Report

HAVE_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(
    not HAVE_DASK, reason="dask.distributed is not installed (pip install -e '.[cluster]')"
)
ROOT = Path(__file__).resolve().parents[2]


# -- task functions (module level: worker processes import them) ---------------------------


def cell_value(seed: int, lr: float, width: int, data: np.ndarray) -> dict:
    """A small 'training run' whose numbers depend on (seed, cell) and the shared data."""
    rng = np.random.default_rng([seed, zlib.crc32(f"{lr}-{width}".encode())])
    w = rng.standard_normal((data.shape[1], width))
    for _ in range(20):
        w -= lr * data.T @ np.tanh(data @ w) / len(data)
    return {"loss": float(np.mean(np.tanh(data @ w) ** 2)), "w0": w[0].tolist()}


def fail_on(seed: int, lr: float, width: int, data: np.ndarray) -> dict:
    if (lr, width) == (0.1, 3):
        raise ValueError(f"cell lr={lr} width={width} diverged")
    return cell_value(seed, lr, width, data)


def die_once(marker: str, x: int) -> int:
    """Kills its own worker process the first time it runs (the marker file remembers)."""
    if not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return x * x


def call(fn, x):
    return fn(x)


GRID = {
    (seed, lr, width): (seed, lr, width) for seed in (0, 1) for lr in (0.1, 0.3) for width in (2, 3)
}


def shared_data() -> dict:
    return {"data": np.random.default_rng(7).standard_normal((50, 4))}


def values(results: dict) -> dict:
    assert all(r.ok for r in results.values()), [r.error for r in results.values() if not r.ok]
    return {k: r.value for k, r in results.items()}


@pytest.fixture(scope="module")
def cluster_address():
    """A LocalCluster on 127.0.0.1 with 2 worker processes of one thread each (no
    dashboard); tests reach it through its tcp:// address, as --cluster tcp://... would.
    Its workers' BLAS uses as many threads as this process's (not Dask's default of 1),
    so float32 sums round as they do here."""
    if not HAVE_DASK:
        pytest.skip("dask.distributed is not installed (pip install -e '.[cluster]')")
    import dask
    import distributed

    environ = {"MALLOC_TRIM_THRESHOLD_": 65536}
    environ.update({k: os.environ[k] for k in parallel.BLAS_THREADS if k in os.environ})
    settings = {
        "distributed.scheduler.allowed-failures": 2,
        "distributed.nanny.pre-spawn-environ": environ,
    }
    with dask.config.set(settings):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


# -- local ----------------------------------------------------------------------------------


def test_worker_processes_give_the_numbers_of_one_process():
    here = values(parallel.run_tasks(cell_value, GRID, shared=shared_data(), desc=None))
    assert list(here) == list(GRID)  # in the order of the tasks
    assert len({v["loss"] for v in here.values()}) == len(GRID)  # the cells differ
    two = values(parallel.run_tasks(cell_value, GRID, jobs=2, shared=shared_data(), desc=None))
    assert two == here
    workers = {
        r.worker
        for r in parallel.run_tasks(
            cell_value, GRID, jobs=2, shared=shared_data(), desc=None
        ).values()
    }
    assert all(w.split(":")[-1] != str(os.getpid()) for w in workers)


def test_a_failing_cell_keeps_the_others_locally():
    results = parallel.run_tasks(fail_on, GRID, jobs=2, shared=shared_data(), desc=None)
    bad = parallel.failed(results)
    assert set(bad) == {(0, 0.1, 3), (1, 0.1, 3)}
    for r in bad.values():
        assert "Traceback" in r.error and "ValueError: cell lr=0.1 width=3 diverged" in r.error
        assert "fail_on" in r.error
    good = parallel.run_tasks(cell_value, GRID, shared=shared_data(), desc=None)
    assert {k: r.value for k, r in results.items() if r.ok} == {
        k: r.value for k, r in good.items() if k not in bad
    }


def test_a_killed_local_worker_is_retried(tmp_path):
    tasks = {i: (str(tmp_path / "marker"), i) for i in range(4)}
    results = parallel.run_tasks(die_once, tasks, jobs=2, desc=None)
    assert values(results) == {i: i * i for i in range(4)}
    assert any(r.retried for r in results.values())
    assert "**Retried.**" in parallel.notes_text(results)


def die_always(x: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_a_task_that_always_kills_its_worker_fails_alone():
    tasks = {"dies": (die_always, 3), "fine": (abs, -2), "fine too": (abs, -5)}
    results = parallel.run_tasks(call, tasks, jobs=2, desc=None, retries=1)
    assert (results["fine"].value, results["fine too"].value) == (2, 5)
    assert not results["dies"].ok and "worker process died each of the 2 times" in (
        results["dies"].error
    )


def test_stop_on_failures_writes_the_others_and_raises(tmp_path):
    results = parallel.run_tasks(fail_on, GRID, shared=shared_data(), desc=None)
    args = argparse.Namespace(seed=0, quick=True, out=tmp_path / "out")
    report = Report("grid", args, "doc.txt", "a grid")
    with pytest.raises(parallel.TasksFailed, match="2 of 8 tasks failed"):
        parallel.stop_on_failures(report, results)
    import json

    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(data["numbers"]["completed_tasks"]) == 6
    assert "ValueError" in data["numbers"]["failed_tasks"]["(0, 0.1, 3)"]
    assert "**Failed task `(0, 0.1, 3)`.**" in (tmp_path / "out" / "results.md").read_text()
    assert not list((tmp_path / "out").glob(".*.tmp"))  # written atomically, nothing left


# -- command line ---------------------------------------------------------------------------


def test_parallel_arguments():
    p = argparse.ArgumentParser()
    parallel.add_parallel_args(p)
    assert (p.parse_args([]).jobs, p.parse_args([]).cluster) == (1, None)
    assert p.parse_args(["--cluster", "local:3"]).cluster == "local:3"
    assert p.parse_args(["--cluster", "tcp://10.0.0.1:8786"]).cluster == "tcp://10.0.0.1:8786"
    for bad in (
        ["--cluster", "local:0"],
        ["--cluster", "nowhere"],
        ["--jobs", "0"],
        ["--jobs", "2", "--cluster", "local"],
    ):
        with pytest.raises(SystemExit):
            p.parse_args(bad)


def test_cluster_without_dask_says_how_to_install_it(monkeypatch, capsys):
    # a None entry in sys.modules makes `import distributed` raise ImportError
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(SystemExit) as stop:
        parallel.run_tasks(cell_value, GRID, cluster="local:2", shared=shared_data())
    assert "pip install -e '.[cluster]'" in str(stop.value.code)
    with pytest.raises(SystemExit) as stop:
        runner.main(["run", "xor", "--quick", "--cluster", "local:2"])
    assert "pip install -e '.[cluster]'" in str(stop.value.code)


def test_core_packages_import_nothing_of_dask():
    code = (
        "import sys, autodiff, nn, optim, datasets, experiments.parallel, experiments.runner\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# -- Dask -----------------------------------------------------------------------------------


@needs_dask
def test_cluster_gives_the_numbers_of_the_local_run(cluster_address):
    here = values(parallel.run_tasks(cell_value, GRID, shared=shared_data(), desc=None))
    log = io.StringIO()
    with parallel.Executor(cluster=cluster_address, stream=log) as ex:
        results = ex.run(cell_value, GRID, shared=shared_data(), desc="grid")
    assert values(results) == here
    assert f"scheduler {cluster_address}, 2 worker(s)" in log.getvalue()
    assert {r.worker.split(":")[-1] for r in results.values()} - {str(os.getpid())}


@needs_dask
def test_cluster_retries_a_task_whose_worker_was_killed(cluster_address, tmp_path):
    marker = tmp_path / "marker"
    tasks = {i: (str(marker), i) for i in range(3)}
    results = parallel.run_tasks(die_once, tasks, cluster=cluster_address, desc=None)
    assert values(results) == {i: i * i for i in range(3)}
    killed = int(marker.read_text())
    assert killed != os.getpid()
    retried = [r for r in results.values() if r.retried]
    assert retried and all(r.worker.split(":")[-1] != str(killed) for r in retried)
    assert "**Retried.**" in parallel.notes_text(results)


@needs_dask
def test_cluster_reports_a_failing_cell_and_keeps_the_others(cluster_address):
    results = parallel.run_tasks(
        fail_on, GRID, cluster=cluster_address, shared=shared_data(), desc=None
    )
    bad = parallel.failed(results)
    assert set(bad) == {(0, 0.1, 3), (1, 0.1, 3)}
    assert all("ValueError: cell lr=0.1 width=3 diverged" in r.error for r in bad.values())
    here = parallel.run_tasks(cell_value, GRID, shared=shared_data(), desc=None)
    assert {k: r.value for k, r in results.items() if r.ok} == {
        k: r.value for k, r in here.items() if k not in bad
    }


@needs_dask
def test_runner_spreads_experiments_over_the_cluster(cluster_address, tmp_path):
    out = tmp_path / "results"
    log = io.StringIO()
    outcomes = runner.run(
        ["momentum_saddle", "xor"], out, seed=0, quick=True, cluster=cluster_address, stream=log
    )
    assert [o.status for o in outcomes] == ["ok", "ok"], log.getvalue()
    assert (out / "xor" / "results.json").is_file() and (out / "REPORT.md").is_file()
    assert f"--cluster {cluster_address}" in (out / "REPORT.md").read_text()


@needs_dask
def test_an_experiment_grid_on_the_cluster_gives_the_local_numbers(
    cluster_address, monkeypatch, tmp_path
):
    # the data is loaded here (from the generated mirror) and sent to the workers
    from experiments import mnist_backprop
    from tests.fake_data import fake_mirror

    fake_mirror(monkeypatch, tmp_path, "mnist", n_train=600, n_test=200)
    argv = ["--quick", "--seed", "1"]
    here = mnist_backprop.main([*argv, "--out", str(tmp_path / "here")])
    there = mnist_backprop.main(
        [*argv, "--out", str(tmp_path / "there"), "--cluster", cluster_address]
    )
    grids = [k for k in here.numbers if k.startswith(("grid_", "width_", "lr_sweep"))]
    assert len(grids) > 5
    assert {k: there.numbers[k] for k in grids} == {k: here.numbers[k] for k in grids}
    assert there.numbers == here.numbers


@needs_dask
def test_nngp_widths_on_the_cluster_give_the_local_numbers(cluster_address, tmp_path):
    from experiments import nngp_regression

    here = nngp_regression.main(["--quick", "--out", str(tmp_path / "here")])
    there = nngp_regression.main(
        ["--quick", "--out", str(tmp_path / "there"), "--cluster", cluster_address]
    )
    assert "rf_test_mse" in here.numbers
    assert there.numbers == here.numbers


def test_parity_cells_in_worker_processes_give_the_numbers_of_one_process():
    from experiments import parity

    quick = parity.QUICK
    cfg = {
        "b": dict(quick["learning"], dims=(4, 6), iters=60),
        "c": dict(quick["gradients"], dims=(3, 4)),
        "d": dict(quick["deep"], iters=60),
    }
    cells = [("b", 4), ("b", 6), ("c", 3), ("c", 4)]
    cells += [("d", run) for run in parity.deep_runs(cfg["d"])]
    tasks = {cell: (*cell, cfg[cell[0]], 7) for cell in cells}
    here = parallel.run_tasks(parity.run_cell, tasks, desc=None)
    # reversed: another order of starting and finishing, same numbers per cell
    there = parallel.run_tasks(parity.run_cell, dict(reversed(tasks.items())), jobs=2, desc=None)
    for cell in cells:
        a, b = here[cell].value, there[cell].value
        if cell[0] == "c":
            assert a == b
        else:
            assert a.keys() == b.keys()
            for key in a:
                assert np.array_equal(a[key], b[key]), (cell, key)
    # and the cells draw different numbers from each other
    assert not np.array_equal(here["b", 4].value["curve"], here["b", 6].value["curve"][:, :2])


def test_cell_rng_depends_on_the_seed_and_the_cell_alone():
    draw = [parallel.cell_rng(3, "b", 30).random(4) for _ in range(2)]
    assert np.array_equal(draw[0], draw[1])
    others = [
        parallel.cell_rng(4, "b", 30),
        parallel.cell_rng(3, "b", 31),
        parallel.cell_rng(3, "c", 30),
        parallel.cell_rng(3, ("b", 30)),  # a tuple is its parts: same as the flat cell
    ]
    assert [np.array_equal(r.random(4), draw[0]) for r in others] == [False, False, False, True]
    assert np.array_equal(
        parallel.cell_rng(5, "d", ("sigmoid", 8, True)).random(3),
        parallel.cell_rng(5, "d", "sigmoid", 8, 1).random(3),
    )
    for bad in (-1, 0.5, None):
        with pytest.raises(TypeError, match="cell_rng"):
            parallel.cell_rng(0, "b", bad)
