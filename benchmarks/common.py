"""Helpers shared by the benchmarks (the allocator tuning lives with the experiments,
which use it too)."""
from experiments.common import tune_malloc

__all__ = ["tune_malloc"]
