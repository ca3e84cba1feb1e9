"""What every experiment's quick-run test checks about its output folder."""

from __future__ import annotations

import json
from pathlib import Path


def check_outputs(out: Path, report, min_png_bytes: int = 10_000) -> dict:
    """results.json and results.md exist, every plot was written (and is not empty), every
    claim holds; returns the parsed results.json."""
    assert (out / "results.json").is_file() and (out / "results.md").is_file()
    assert report.figures, "an experiment writes at least one plot"
    for name in report.figures:
        assert (out / name).stat().st_size > min_png_bytes, name
    data = json.loads((out / "results.json").read_text())
    assert data["claims"] and all(c["holds"] for c in data["claims"])
    return data
