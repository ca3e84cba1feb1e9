"""Hypothesis settings profiles: "ci" (fast, the default) and "deep" (thousands of examples).

Select with the environment variable AUTODIFF_HYPOTHESIS_PROFILE=ci|deep (or "dev")."""

from __future__ import annotations

import os
from typing import Any

from ._optional import missing_hypothesis

try:
    from hypothesis import HealthCheck, settings
except ModuleNotFoundError as e:
    raise missing_hypothesis(__name__, e) from None

_COMMON: dict[str, Any] = dict(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

settings.register_profile("ci", max_examples=20, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=60, **_COMMON)
settings.register_profile("deep", max_examples=2000, **_COMMON)

ENV_VAR = "AUTODIFF_HYPOTHESIS_PROFILE"


def load_profile(name: str | None = None) -> str:
    """Activate the profile `name`, or the one named by $AUTODIFF_HYPOTHESIS_PROFILE (default
    "ci"); returns the name loaded."""
    name = name or os.environ.get(ENV_VAR, "ci")
    settings.load_profile(name)
    return name
