"""Helpers shared by the benchmarks."""
from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4


def tune_malloc() -> bool:
    """Keep freed memory in the process (glibc only); True if it was applied."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    ok_trim = libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)  # 1 GiB: effectively never trim
    ok_mmap = libc.mallopt(M_MMAP_MAX, 0)               # no mmap: large blocks are reused
    return bool(ok_trim and ok_mmap)
