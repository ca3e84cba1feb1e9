"""autodiff.testing: property-based derivative checks, as used by the project's own tests.

    from autodiff.testing import check_grads, strategies
    check_grads(my_fn, (x,), modes=("fwd", "rev"), order=2)

`check_grads` needs numpy only.  `strategies` holds hypothesis strategies (arrays in a
domain, broadcastable shapes, axes, index expressions, random expression graphs) and
`load_profile()` selects the "ci" or "deep" hypothesis profile from
$AUTODIFF_HYPOTHESIS_PROFILE; both need hypothesis, a test extra
(`pip install -e '.[test]'`).  They are imported only when first used, so `check_grads`
works without hypothesis; using them without it raises a ModuleNotFoundError (an
ImportError) that says how to install it.
"""

from __future__ import annotations

import importlib
from typing import Any

from .gradcheck import check_grads

__all__ = ["check_grads", "strategies", "load_profile"]

_LAZY = ("strategies", "load_profile")  # need hypothesis: imported on first use


def __getattr__(name: str) -> Any:
    if name == "strategies":
        return importlib.import_module(f"{__name__}.strategies")
    if name == "load_profile":
        return importlib.import_module(f"{__name__}.profiles").load_profile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
