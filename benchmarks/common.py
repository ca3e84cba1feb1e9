"""Helpers shared by the benchmarks.

`benchmarks` is not an installed package and must not import `experiments`, so the
allocator tuning is defined here as well as in `experiments.common` (the experiments'
copy serves mnist_cnn and cifar_cnn; no package both may import is a fitting home for it).
"""

from __future__ import annotations

__all__ = ["tune_malloc"]

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4


def tune_malloc() -> bool:
    """Keep freed memory in the process (glibc only), so large per-step temporaries are not
    returned to the OS and faulted in again at every step; True if it was applied."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    ok_trim = libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)  # 1 GiB: effectively never trim
    ok_mmap = libc.mallopt(M_MMAP_MAX, 0)  # no mmap: large blocks are reused
    return bool(ok_trim and ok_mmap)
