"""What every experiment's quick-run test checks about its output folder, and the quick run
itself: ``run_quick`` runs one, ``quick_run_fixture`` makes the module-scoped fixture most
experiment tests share, ``fake_data_folder`` serves generated dataset files while inside."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.fake_data import fake_mirror


def check_outputs(
    out: Path,
    report,
    min_png_bytes: int = 10_000,
    *,
    figures: Iterable[str] | None = None,
    claims: int | None = None,
    md_has: Iterable[str] = (),
) -> dict:
    """results.json and results.md exist, every plot was written (and is not empty), every
    claim holds; with ``figures``, the plots are exactly those (in any order); with
    ``claims``, there are that many claims; results.md contains every text of ``md_has``.
    Returns the parsed results.json."""
    assert (out / "results.json").is_file() and (out / "results.md").is_file()
    assert report.figures, "an experiment writes at least one plot"
    if figures is not None:
        assert sorted(report.figures) == sorted(figures)
    for name in report.figures:
        assert (out / name).stat().st_size > min_png_bytes, name
    data = json.loads((out / "results.json").read_text())
    assert data["claims"] and all(c["holds"] for c in data["claims"])
    if claims is not None:
        assert len(data["claims"]) == claims
    md = (out / "results.md").read_text()
    for text in md_has:
        assert text in md, text
    return data


def check_claims(report, count: int) -> None:
    """The run made ``count`` claims, and every one holds."""
    assert len(report.claims) == count and all(c["holds"] for c in report.claims)


def run_quick(main, out: Path, *extra: str, seed: int = 0):
    """``main(["--quick", "--seed", seed, "--out", out, *extra])``: an experiment's quick run
    into ``out``; returns its report."""
    return main(["--quick", "--seed", str(seed), "--out", str(out), *extra])


def quick_run_fixture(module, *extra: str):
    """A module-scoped fixture ``quick_run``: (output folder, report) of ``module``'s quick
    run with seed 0 (and the arguments ``extra``). Use ``quick_run = quick_run_fixture(exp)``."""

    @pytest.fixture(scope="module")
    def quick_run(tmp_path_factory):
        out = tmp_path_factory.mktemp(module.__name__.rpartition(".")[2])
        return out, run_quick(module.main, out, *extra)

    return quick_run


@contextlib.contextmanager
def fake_data_folder(tmp_path_factory, name: str, key: str, **sizes) -> Iterator[Path]:
    """A new folder ``name`` whose generated ``key`` files (``fake_mirror``'s ``sizes``) are
    the dataset mirror while inside the block; yields the folder."""
    tmp = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as mp:
        fake_mirror(mp, tmp, key, **sizes)
        yield tmp
