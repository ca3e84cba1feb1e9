"""The clear error for the parts of autodiff.testing that need hypothesis, a test extra."""

from __future__ import annotations

INSTALL = "pip install -e '.[test]'"


def missing_hypothesis(module: str, error: ModuleNotFoundError) -> ModuleNotFoundError:
    """The error to raise when importing `module` failed with `error`: one that says how to
    install hypothesis when hypothesis is what is missing, else `error` itself."""
    if error.name != "hypothesis" and not (error.name or "").startswith("hypothesis."):
        return error
    return ModuleNotFoundError(
        f"{module} needs hypothesis, which is a test extra: {INSTALL} in a checkout of the "
        "project (or pip install hypothesis); check_grads works without it",
        name="hypothesis",
    )
