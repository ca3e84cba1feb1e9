"""autodiff.testing: property-based derivative checks, as used by the project's own tests.

    from autodiff.testing import check_grads, strategies
    check_grads(my_fn, (x,), modes=("fwd", "rev"), order=2)

`check_grads` needs numpy only.  `strategies` holds hypothesis strategies (arrays in a
domain, broadcastable shapes, axes, index expressions, random expression graphs) and
`load_profile()` selects the "ci" or "deep" hypothesis profile from
$AUTODIFF_HYPOTHESIS_PROFILE; both need hypothesis (`pip install -e '.[test]'`), and are
imported only when first used, so `check_grads` works without it.
"""

from __future__ import annotations

import importlib
from typing import Any

from .gradcheck import check_grads

__all__ = ["check_grads", "strategies", "load_profile"]


def _needs_hypothesis(name: str) -> Any:
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name != "hypothesis" and not (e.name or "").startswith("hypothesis."):
            raise
        raise ModuleNotFoundError(
            f"autodiff.testing.{name} needs hypothesis, which is a test "
            f"extra: pip install hypothesis (or the project with "
            f"'.[test]')",
            name="hypothesis",
        ) from None


def __getattr__(name: str) -> Any:
    if name == "strategies":
        return _needs_hypothesis("strategies")
    if name == "load_profile":
        return _needs_hypothesis("profiles").load_profile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
