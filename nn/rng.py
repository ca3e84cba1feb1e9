"""The random state shared by initialisers and dropout.

Everything random in `nn` takes an `rng` argument: a `numpy.random.Generator`, an int
seed, or None for the package-wide generator, which `manual_seed` resets (the analogue
of `torch.manual_seed`: one call makes a whole run reproducible).
"""

from __future__ import annotations

import numpy as np

RngLike = np.random.Generator | int | None

_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed the package-wide generator used when no `rng` is given; returns it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator() -> np.random.Generator:
    """The package-wide generator (the one `manual_seed` seeds)."""
    return _default


def resolve_rng(rng: RngLike, op: str = "nn") -> np.random.Generator:
    """A Generator from a Generator (returned as is), an int seed (a fresh Generator), or None
    (the package-wide generator)."""
    if rng is None:
        return _default
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{op}: rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )
