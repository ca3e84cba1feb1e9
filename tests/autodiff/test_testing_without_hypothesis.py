"""autodiff.testing where hypothesis (a test extra) is not installed: check_grads works, and
the hypothesis helpers (strategies, load_profile) raise an ImportError that says how to
install it, only when they are used.

Each test runs a fresh interpreter whose import system behaves as if hypothesis were not
installed (a meta-path finder that answers "No module named 'hypothesis'")."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

WITHOUT_HYPOTHESIS = """
import sys


class NoHypothesis:
    def find_spec(self, name, path=None, target=None):
        if name == "hypothesis" or name.startswith("hypothesis."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


for loaded in [m for m in sys.modules if m == "hypothesis" or m.startswith("hypothesis.")]:
    del sys.modules[loaded]
sys.meta_path.insert(0, NoHypothesis())
"""


def run_python(code: str, hypothesis: bool = False) -> str:
    """stdout of `code` run by a fresh interpreter from the repository root; without
    hypothesis unless `hypothesis`."""
    script = ("" if hypothesis else WITHOUT_HYPOTHESIS) + textwrap.dedent(code)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    argv = [sys.executable, "-c", script]
    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_importing_autodiff_testing_does_not_import_hypothesis():
    out = run_python(
        """
        import sys
        import autodiff.testing
        print("loaded:", "hypothesis" in sys.modules)
        """,
        hypothesis=True,
    )
    assert out.split() == ["loaded:", "False"]


def test_check_grads_works_without_hypothesis():
    out = run_python(
        """
        import numpy as np
        try:
            import hypothesis
        except ModuleNotFoundError as e:
            print("blocked:", e)
        import autodiff as ad
        from autodiff.testing import check_grads

        check_grads(ad.sin, (np.array([0.3, -1.2, 2.0]),), order=2)

        @ad.primitive
        def wrong_sin(x):
            return np.sin(x)

        wrong_sin.defvjp(lambda g, ans, x: g * ad.cos(x) * 1.01)
        wrong_sin.defjvp(lambda t, ans, x: t * ad.cos(x))
        try:
            check_grads(wrong_sin, (np.array([0.3, -1.2, 2.0]),), modes=("rev",))
        except AssertionError as e:
            print("caught:", str(e).splitlines()[0])
        print("hypothesis loaded:", "hypothesis" in sys.modules)
        """
    )
    assert "blocked: No module named 'hypothesis'" in out  # the simulation works
    assert "caught:" in out and "mode 'rev'" in out
    assert "hypothesis loaded: False" in out


def test_hypothesis_helpers_say_how_to_install_it_when_used():
    out = run_python(
        """
        import numpy as np
        import autodiff as ad
        import autodiff.testing

        names = dir(autodiff.testing)
        print("dir:", "strategies" in names, "load_profile" in names)
        uses = {
            "attribute": "autodiff.testing.strategies",
            "attribute again": "autodiff.testing.strategies",
            "from import": "from autodiff.testing import strategies",
            "load_profile": "from autodiff.testing import load_profile",
            "submodule": "import autodiff.testing.strategies",
            "profiles": "from autodiff.testing.profiles import load_profile",
        }
        for use, statement in uses.items():
            try:
                exec(statement)
            except ImportError as e:
                print(f"{use} | {type(e).__name__} | {e.name} | {e}")
            else:
                print(f"{use} | no error")
        autodiff.testing.check_grads(ad.sin, (np.array([0.5]),))
        print("check_grads still works")
        """
    )
    lines = out.splitlines()
    assert lines[0] == "dir: True True"
    assert len(lines) == 8 and lines[-1] == "check_grads still works"
    for line in lines[1:7]:
        use, kind, name, message = line.split(" | ")
        assert kind == "ModuleNotFoundError" and name == "hypothesis", line
        assert "needs hypothesis, which is a test extra: pip install -e '.[test]'" in message
        module = "profiles" if use in ("load_profile", "profiles") else "strategies"
        assert message.startswith(f"autodiff.testing.{module} needs hypothesis"), line
