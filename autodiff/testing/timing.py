"""Timing helpers shared by the benchmarks and the timed experiments (numpy only).

    from autodiff.testing.timing import interleaved_medians, single_thread_blas

    with single_thread_blas():
        t_f, t_grad = interleaved_medians([lambda: f(x), lambda: grad_f(x)], budget_s=0.5)

- `interleaved_medians`: median seconds per call of several functions, timed round-robin so
  that whatever disturbs the machine hits all of them alike; a fixed number of rounds, or
  as many as fit a time budget.
- `median_seconds`: the median time and last result of one (expensive) function.
- `single_thread_blas`: numpy's OpenBLAS on one thread inside a block.
- `tune_malloc`: glibc keeps freed memory, so large per-step temporaries are not returned
  to the OS and faulted in again at every step.
"""

from __future__ import annotations

import contextlib
import ctypes
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["interleaved_medians", "median_seconds", "single_thread_blas", "tune_malloc"]

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters


def interleaved_medians(
    fns: Sequence[Callable[[], Any]],
    budget_s: float | None = None,
    *,
    repeats: int | None = None,
    number: int = 1,
    clock: Callable[[], float] = time.process_time,
    min_repeats: int = 5,
    max_repeats: int = 300,
) -> list[float]:
    """Median seconds per call of each function in `fns`.

    Each function is called once to warm up; then `repeats` rounds (or as many as fit
    about `budget_s` seconds in all, between min_repeats and max_repeats) call every
    function in turn `number` times, timed by `clock` (default: this process's CPU time,
    which on a shared machine leaves out the time spent waiting for a core)."""
    if (repeats is None) == (budget_s is None):
        raise ValueError("interleaved_medians: give exactly one of budget_s and repeats")
    first = []
    for fn in fns:  # warm-up, and an estimate of the cost of one round
        t0 = clock()
        fn()
        first.append(clock() - t0)
    if repeats is None:
        assert budget_s is not None
        round_s = max(sum(first) * number, 1e-9)
        repeats = int(np.clip(budget_s / round_s, min_repeats, max_repeats))
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times, strict=True):
            t0 = clock()
            for _ in range(number):
                fn()
            ts.append((clock() - t0) / number)
    return [float(np.median(ts)) for ts in times]


def median_seconds(
    fn: Callable[[], Any],
    budget_s: float,
    max_repeats: int = 5,
    clock: Callable[[], float] = time.process_time,
) -> tuple[float, Any]:
    """(median seconds, last result) of fn called repeatedly for about `budget_s` seconds,
    at most `max_repeats` times; a call longer than the budget is timed once."""
    t0 = clock()
    result = fn()
    times = [clock() - t0]
    while len(times) < max_repeats and sum(times) + times[0] <= budget_s:
        t0 = clock()
        result = fn()
        times.append(clock() - t0)
    return float(np.median(times)), result


def _openblas_thread_functions() -> tuple[Any, Any] | None:
    """(set_num_threads, get_num_threads) of the OpenBLAS numpy loaded, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for name in ("scipy_openblas_{}_threads64_", "openblas_{}_threads"):
                setter = getattr(lib, name.format("set_num"), None)
                if setter is not None:
                    return setter, getattr(lib, name.format("get_num"))
    except OSError:
        pass
    return None


@contextlib.contextmanager
def single_thread_blas() -> Iterator[bool]:
    """Run numpy's OpenBLAS on one thread inside the block; yields whether that worked
    (False on another BLAS, or where /proc is missing).  On a shared machine a
    multi-threaded BLAS makes the time of a product depend on the other processes' load
    more than on its size."""
    found = _openblas_thread_functions()
    if found is None:
        yield False
        return
    setter, getter = found
    previous = getter()
    setter(1)
    try:
        yield True
    finally:
        setter(previous)


def tune_malloc() -> bool:
    """Keep freed memory in the process (glibc only), so large per-step temporaries are not
    returned to the OS and faulted in again at every step; True if it was applied."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    ok_trim = libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)  # 1 GiB: effectively never trim
    ok_mmap = libc.mallopt(M_MMAP_MAX, 0)  # no mmap: large blocks are reused
    return bool(ok_trim and ok_mmap)
