"""experiments._seeds: seed lists, mean ± sample sd beside a reference, the 2-sd verdict and
the results table."""

import argparse
import math

import numpy as np
import pytest

from experiments import _seeds
from experiments.common import Report


def test_parse_seeds():
    assert _seeds.parse_seeds("0,1,2,3,4") == [0, 1, 2, 3, 4]
    assert _seeds.parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert _seeds.parse_seeds("0-2,7") == [0, 1, 2, 7]
    for bad in ("", "3-1", "1,1", "a"):
        with pytest.raises(ValueError):
            _seeds.parse_seeds(bad)


def test_command_line_options():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    _seeds.add_seed_arguments(p)
    assert _seeds.seeds_from_args(p.parse_args([])) == [0]
    assert _seeds.seeds_from_args(p.parse_args(["--seed", "3"])) == [3]
    assert _seeds.seeds_from_args(p.parse_args(["--seeds", "0-4"])) == [0, 1, 2, 3, 4]
    assert _seeds.seeds_from_args(p.parse_args(["--seed", "2", "--n-seeds", "3"])) == [2, 3, 4]
    with pytest.raises(SystemExit):  # one or the other
        p.parse_args(["--seeds", "0,1", "--n-seeds", "2"])


def test_summarize_uses_the_sample_sd_and_the_2sd_rule():
    values = [0.30, 0.32, 0.31, 0.29, 0.33]
    sd = float(np.std(values, ddof=1))
    s = _seeds.summarize(values, reference=0.31 + 2 * sd - 1e-9)
    assert math.isclose(s.mean, 0.31) and math.isclose(s.sd, sd) and s.n == 5
    assert s.within_2sd is True and s.verdict() == "yes" and 1.99 < s.z < 2.0
    far = _seeds.summarize(values, reference=0.31 + 2 * sd + 1e-9)
    assert far.within_2sd is False and far.verdict() == "no"
    one = _seeds.summarize([0.4], reference=0.5)
    assert math.isnan(one.sd) and one.within_2sd is None and "one seed" in one.verdict()
    assert _seeds.summarize(values).verdict() == "(no reference)"
    assert _seeds.separated(_seeds.summarize([1.0, 1.1]), _seeds.summarize([0.0, 0.1]))
    assert not _seeds.separated(_seeds.summarize([1.0, 1.1]), _seeds.summarize([0.95, 1.05]))


def test_run_seeds_and_table(tmp_path):
    seen = []
    out = _seeds.run_seeds(lambda s: s * 0.1, [0, 1, 2], after_each=lambda r: seen.append(len(r)))
    assert out == [0.0, 0.1, 0.2] and seen == [1, 2, 3]
    args = argparse.Namespace(seed=0, out=tmp_path, quick=True)
    report = Report("t", args, "doc.txt", "test")
    stats = _seeds.seed_table(
        report, "One epoch", [("accuracy", out, 0.5), ("loss", out, None)], [0, 1, 2]
    )
    assert stats["accuracy"].within_2sd is False  # 0.5 is 4 sd above 0.1 ± 0.1
    recorded = report.numbers["seed_stats"]["accuracy"]
    assert recorded["n"] == 3 and recorded["reference"] == 0.5 and recorded["within_2sd"] is False
    report.write()
    md = (tmp_path / "results.md").read_text()
    assert "0.1000 ± 0.1000" in md and "document within 2 sd" in md and "| no |" in md
    assert "Only 3 seeds" in md
