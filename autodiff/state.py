"""The engine's switches, one set per thread (like PyTorch's grad mode).

Every thread starts with recording on, no transform running and the mutation guard
on; `no_grad()` in one thread never affects another.  Read on every operation, so the
fields are plain attributes of one `threading.local` object.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any


class _ThreadState(threading.local):
    """The per-thread switches (threading.local runs __init__ once in each thread)."""

    def __init__(self) -> None:
        self.grad_enabled = True  # False inside `no_grad()`
        self.transform_depth = 0  # > 0 while a functional transform (grad, jvp, ...) runs
        self.reverse_depth = 0  # how many of those are reverse mode (grad, vjp, linearize)
        self.level_records: dict = {}  # jvp level -> whether its tangents must be recorded
        self.guard = True  # the mutation guard (see guard.py) is on
        self.batch_sizes: dict = {}  # active vmap level -> its batch size (batching.py)
        self.trace: Any = None  # the recording of ad.jit while it traces (jit.py)
        self.jit_disabled = _JIT_DISABLED_BY_ENVIRONMENT  # inside `disable_jit()`


_jit_setting = os.environ.get("AUTODIFF_DISABLE_JIT", "").strip().lower()
_JIT_DISABLED_BY_ENVIRONMENT = _jit_setting not in ("", "0", "false", "no", "off")
state = _ThreadState()

# How many ad.jit traces are running, in all threads: a cheap global gate the hot path
# reads before the per-thread `state.trace` (a threading.local lookup costs more).
tracing = [0]
# Likewise for `disable_jit`: > 0 while some thread may have ad.jit turned off.
jit_off = [int(_JIT_DISABLED_BY_ENVIRONMENT)]


@contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    previous = state.grad_enabled
    state.grad_enabled = enabled
    try:
        yield
    finally:
        state.grad_enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Context manager: operations inside record nothing on the tape (this thread only)."""
    return _grad_mode(False)


def enable_grad() -> AbstractContextManager[None]:
    """Context manager: turn recording back on (for example inside `no_grad`)."""
    return _grad_mode(True)


def is_grad_enabled() -> bool:
    """Whether operations in this thread are recorded now."""
    return state.grad_enabled


@contextmanager
def mutation_guard(enabled: bool) -> Iterator[None]:
    """Context manager: turn the mutation guard on or off in this thread.

    With the guard off, operations recorded inside do not make the arrays they save
    read-only: a little faster, but writing to such an array before the backward pass
    then silently changes the gradient.  See docs/engine.md, "Conventions"."""
    previous = state.guard
    state.guard = bool(enabled)
    try:
        yield
    finally:
        state.guard = previous


def is_mutation_guard_enabled() -> bool:
    """Whether operations recorded in this thread lock the arrays they save."""
    return state.guard


@contextmanager
def disable_jit(disable: bool = True) -> Iterator[None]:
    """Context manager: functions compiled by `ad.jit` (and `optim.compile_step`) run
    eagerly inside, as written, in this thread: nothing is traced, cached or replayed, so
    prints, breakpoints and Python control flow on values work (as `jax.disable_jit`).
    The results are those of the compiled function.  `AUTODIFF_DISABLE_JIT=1` in the
    environment turns ad.jit off for the whole process (every thread)."""
    previous = state.jit_disabled
    state.jit_disabled = disable
    jit_off[0] += 1
    try:
        yield
    finally:
        state.jit_disabled = previous
        jit_off[0] -= 1
