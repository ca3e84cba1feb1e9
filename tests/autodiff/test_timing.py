"""autodiff.testing.timing: interleaved medians, budgets, BLAS threads, allocator tuning."""

import time

import numpy as np
import pytest

from autodiff.testing import timing


def test_interleaved_medians_calls_every_function_round_robin():
    calls = []
    fns = [lambda: calls.append("a"), lambda: calls.append("b")]
    ticks = iter(range(1000))
    result = timing.interleaved_medians(fns, repeats=3, number=2, clock=lambda: next(ticks))
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] * 3  # warm-up, then 3 rounds
    assert result == [0.5, 0.5]  # one clock tick per 2 calls


def test_a_budget_sets_the_number_of_rounds_within_limits():
    calls = []
    fake_now = [0.0]

    def clock():
        return fake_now[0]

    def fn():
        calls.append(1)
        fake_now[0] += 0.01  # every call takes 10 ms

    timing.interleaved_medians([fn], 0.1, clock=clock)
    assert len(calls) == 1 + 10  # warm-up, then 0.1 s / 10 ms rounds
    calls.clear()
    timing.interleaved_medians([fn], 100.0, clock=clock, max_repeats=7)
    assert len(calls) == 1 + 7
    with pytest.raises(ValueError, match="exactly one"):
        timing.interleaved_medians([fn], 0.1, repeats=3)


def test_median_seconds_returns_the_last_result_within_the_budget():
    results = iter(range(10))
    seconds, last = timing.median_seconds(lambda: next(results), budget_s=1.0, max_repeats=4)
    assert last == 3 and seconds >= 0
    slow_calls = []
    timing.median_seconds(
        lambda: slow_calls.append(time.sleep(0.02)), 0.01, clock=time.perf_counter
    )
    assert len(slow_calls) == 1  # longer than the budget: timed once


def test_single_thread_blas_restores_the_setting_and_products_still_work():
    with timing.single_thread_blas() as single:
        assert isinstance(single, bool)
        a = np.ones((50, 50))
        assert (a @ a)[0, 0] == 50.0
    assert isinstance(timing.tune_malloc(), bool)
