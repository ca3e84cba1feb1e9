"""Layout rules of the repository, checked on the source with `ast`:

- code outside the engine (nn/, optim/, datasets/, experiments/, benchmarks/) uses only
  its public API: no underscored Tensor attributes, no private names from autodiff;
- benchmarks/ (not an installed package) does not import experiments/.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIENT_PACKAGES = ("nn", "optim", "datasets", "experiments", "benchmarks")

# The engine's private Tensor slots and class attributes; their public counterparts are
# .data / .numpy(), .op, .inputs, autodiff.graph, .requires_grad, .grad, retain_grad().
PRIVATE_ENGINE_ATTRS = frozenset(
    {
        "_data",
        "_prim",
        "_args",
        "_seq",
        "_raw",
        "_kwargs",
        "_needs",
        "_tangents",
        "_watch",
        "_requires_grad",
        "_retain",
        "_lock",
        "_grad",
    }
)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(name: str | None, package: str) -> bool:
    return name is not None and (name == package or name.startswith(package + "."))


def _where(node: ast.AST) -> str:
    return f"{node.lineno}: {ast.unparse(node)}"


def private_engine_uses(tree: ast.AST) -> list[str]:
    """Each access to a private engine attribute or private autodiff name in `tree`, as
    "line: code"."""
    autodiff_aliases = set()  # local names bound to the autodiff package or a submodule
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_module(alias.name, "autodiff"):
                    autodiff_aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "autodiff":
            autodiff_aliases.update(
                a.asname or a.name for a in node.names if not _is_private(a.name)
            )
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr in PRIVATE_ENGINE_ATTRS or (
                _is_private(node.attr)
                and isinstance(node.value, ast.Name)
                and node.value.id in autodiff_aliases
            ):
                found.append(_where(node))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and _is_module(node.module, "autodiff")
        ):
            if any(_is_private(part) for part in node.module.split(".")) or any(
                _is_private(a.name) for a in node.names
            ):
                found.append(_where(node))
        elif isinstance(node, ast.Import):
            if any(
                _is_module(a.name, "autodiff") and any(map(_is_private, a.name.split(".")))
                for a in node.names
            ):
                found.append(_where(node))
    return sorted(found, key=lambda s: int(s.split(":")[0]))


def experiments_imports(tree: ast.AST) -> list[str]:
    """Each import of the experiments package (or a module of it) in `tree`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            _is_module(a.name, "experiments") for a in node.names
        ):
            found.append(_where(node))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and _is_module(node.module, "experiments")
        ):
            found.append(_where(node))
    return found


def _offences(package: str, rule) -> list[str]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    out = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        out += [f"{path.relative_to(ROOT)}:{hit}" for hit in rule(tree)]
    return out


@pytest.mark.parametrize("package", CLIENT_PACKAGES)
def test_no_private_engine_names_outside_the_engine(package):
    offences = _offences(package, private_engine_uses)
    assert not offences, (
        "use the engine's public API (.data, .numpy(), .op, .inputs, "
        "autodiff.graph, ...) instead of:\n" + "\n".join(offences)
    )


def test_benchmarks_do_not_import_experiments():
    offences = _offences("benchmarks", experiments_imports)
    assert not offences, "benchmarks/ must not import experiments/:\n" + "\n".join(offences)


# (code, whether the detector flags it), per detector
DETECTOR_CASES = {
    private_engine_uses: [
        ("y = t._data + 1", True),
        ("t._prim.name", True),
        ("for a in t._args: pass", True),
        ("from autodiff.tensor import _values", True),
        ("from autodiff import Tensor, _helper", True),
        ("from autodiff._internal import thing", True),
        ("import autodiff._internal", True),
        ("import autodiff as ad\nad._helper(1)", True),
        ("from autodiff import tape\ntape._state", True),
        ("import autodiff as ad\nad.graph.nodes(y); t.data; t.op; t.inputs; ad.__version__", False),
        ("from experiments._data import load_28x28\nself._modules = {}", False),
        ("from .module import _helper", False),
    ],
    experiments_imports: [
        ("import experiments", True),
        ("import experiments.common as c", True),
        ("from experiments.common import tune_malloc", True),
        ("from experiments import common", True),
        ("from benchmarks.common import tune_malloc\nimport experimental", False),
    ],
}


@pytest.mark.parametrize(
    "detector, code, flagged",
    [
        pytest.param(detector, code, flagged, id=f"{detector.__name__}-{code}-{flagged}")
        for detector, cases in DETECTOR_CASES.items()
        for code, flagged in cases
    ],
)
def test_the_detectors(detector, code, flagged):
    assert bool(detector(ast.parse(code))) == flagged


# ------------------------------------------------------------------ the engine's inside
ENGINE = ROOT / "autodiff"


def engine_imports() -> dict[str, set[str]]:
    """{engine module: the engine modules it imports anywhere in its file}, with names
    relative to autodiff/ ("tensor", "ops.reductions", ...); `from . import x` counts as
    importing x, `from .ops import y` as importing the package ops."""
    graph: dict[str, set[str]] = {}
    for path in sorted(ENGINE.rglob("*.py")):
        parts = path.relative_to(ENGINE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = list(parts[:-1])  # the package a relative import starts from
        targets = set()
        tree = ast.parse(path.read_text())
        typing_only = {  # imports under `if TYPE_CHECKING:` never run
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for stmt in node.body
            for inner in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                module = base + (node.module.split(".") if node.module else [])
                if node.module:
                    targets.add(".".join(module))
                else:
                    targets.update(".".join(module + [a.name]) for a in node.names)
        graph[name] = {t for t in targets if t and t != name}
    return graph


def test_engine_modules_import_one_way():
    graph = engine_imports()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycle = (
                    path[path.index(target) :] + [module, target]
                    if target in path
                    else [module, target]
                )
                raise AssertionError("import cycle among engine modules: " + " -> ".join(cycle))
            if target in graph and state.get(target) is None:
                visit(target, path + [module])
        state[module] = 2

    for module in graph:
        if state.get(module) is None:
            visit(module, [])


def test_the_tensor_type_does_not_import_primitives_or_the_backward_pass():
    imported = engine_imports()["tensor"]
    assert imported <= {"guard", "tape", "state"}, imported
    assert not engine_imports()["dispatch"] & {"forward", "backward", "ops", "methods"}


def test_the_cycle_check_catches_a_cycle(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("from .b import x\n")
    (tmp_path / "b.py").write_text("from . import a\n")
    monkeypatch.setattr(sys.modules[__name__], "ENGINE", tmp_path)
    with pytest.raises(AssertionError, match="import cycle"):
        test_engine_modules_import_one_way()


def test_type_checking_imports_are_not_runtime_edges(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("from .b import x\n")
    (tmp_path / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .a import y\n"
        "from .c import z\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ENGINE", tmp_path)
    assert engine_imports() == {"a": {"b"}, "b": {"c"}}
    test_engine_modules_import_one_way()  # no cycle: b's import of a is for the type checker
