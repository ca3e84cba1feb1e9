"""Seed statistics: run one measurement for several seeds and set the spread beside a
source document's reference number.

    p = parser(NAME, DESCRIPTION)
    add_seed_arguments(p)                       # --seeds 0,1,2,3,4 | --n-seeds 5
    seeds = seeds_from_args(args)               # [args.seed] when neither is given
    runs = run_seeds(lambda s: one_run(s), seeds)
    seed_table(report, "One epoch", [("test accuracy", [r["test"] for r in runs], 0.3906)])

`summarize(values, reference)` gives the mean, the sample standard deviation (ddof = 1) and
whether the reference lies within two standard deviations of the mean;
`seed_table` writes that as a results.md table, one row per quantity, and records the same
numbers in results.json (``seed_stats``). With one seed the spread is unknown: the table
then says so instead of giving a verdict.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: How many seeds a run needs before a comparison with a document's number is reported
#: as a verdict (the issue asks for at least five where a document gives a number).
MIN_SEEDS_FOR_REFERENCE = 5


def parse_seeds(text: str) -> list[int]:
    """ "0,1,2", "0-4" or a mix ("0-2,7") -> a list of distinct ints, in the order given."""
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            cut = part.index("-", 1)
            lo, hi = int(part[:cut]), int(part[cut + 1 :])
            if hi < lo:
                raise ValueError(f"seed range {part!r}: end before start")
            seeds.extend(range(lo, hi + 1))
        else:
            seeds.append(int(part))
    if not seeds:
        raise ValueError(f"no seeds in {text!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeated in {text!r}")
    return seeds


def _seed_list(text: str) -> list[int]:
    try:
        return parse_seeds(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_seed_arguments(p: argparse.ArgumentParser) -> None:
    """--seeds LIST and --n-seeds N (N seeds from --seed on); without either, --seed alone."""
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--seeds",
        type=_seed_list,
        default=None,
        metavar="LIST",
        help="run every seed of LIST (e.g. 0,1,2,3,4 or 0-4) and report mean ± sd",
    )
    g.add_argument(
        "--n-seeds",
        type=int,
        default=None,
        metavar="N",
        help="run N seeds: --seed, --seed + 1, ... (report mean ± sd)",
    )


def seeds_from_args(args: argparse.Namespace) -> list[int]:
    """The seeds a run asked for: --seeds, else --n-seeds from --seed, else [--seed]."""
    if getattr(args, "seeds", None):
        return list(args.seeds)
    n = getattr(args, "n_seeds", None)
    if n is not None:
        if n < 1:
            raise ValueError("--n-seeds must be at least 1")
        return list(range(args.seed, args.seed + n))
    return [args.seed]


def run_seeds(
    fn: Callable[[int], Any], seeds: Sequence[int], after_each: Callable[[list], None] | None = None
) -> list:
    """[fn(seed) for seed in seeds]; after_each(results so far) after every seed (e.g. to
    write a checkpoint of the report)."""
    results: list = []
    for seed in seeds:
        results.append(fn(seed))
        if after_each is not None:
            after_each(results)
    return results


@dataclass
class SeedStats:
    """Mean and sample standard deviation of one quantity over seeds, and where a
    reference number lies relative to them."""

    values: list[float]
    mean: float
    sd: float  # sample sd (ddof = 1); nan for one seed
    reference: float | None = None
    difference: float | None = None  # reference - mean
    z: float | None = None  # (reference - mean) / sd
    within_2sd: bool | None = None  # None: no reference, or fewer than 2 seeds
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.values)

    def verdict(self) -> str:
        """'yes' / 'no' / the reason there is none."""
        if self.reference is None:
            return "(no reference)"
        if self.within_2sd is None:
            return "n/a (one seed: spread unknown)"
        return "yes" if self.within_2sd else "no"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["n"] = self.n
        d.pop("extra")
        d.update(self.extra)
        return d


def summarize(values: Sequence[float], reference: float | None = None) -> SeedStats:
    """SeedStats of `values` (one per seed) against `reference` (or None)."""
    v = [float(x) for x in values]
    if not v:
        raise ValueError("summarize: no values")
    mean = float(np.mean(v))
    sd = float(np.std(v, ddof=1)) if len(v) > 1 else math.nan
    stats = SeedStats(values=v, mean=mean, sd=sd)
    if reference is not None:
        stats.reference = float(reference)
        stats.difference = stats.reference - mean
        if len(v) > 1:
            stats.within_2sd = bool(abs(stats.difference) <= 2 * sd)
            stats.z = (
                stats.difference / sd
                if sd > 0
                else (0.0 if stats.difference == 0 else math.copysign(math.inf, stats.difference))
            )
    return stats


def mean_sd(stats: SeedStats, digits: int = 4) -> str:
    """'0.3912 ± 0.0051' (or just the value for one seed)."""
    if stats.n == 1:
        return f"{stats.mean:.{digits}f} (1 seed)"
    return f"{stats.mean:.{digits}f} ± {stats.sd:.{digits}f}"


def separated(a: SeedStats, b: SeedStats) -> bool:
    """True when the two means differ by more than the spread: |mean_a - mean_b| exceeds
    2 x the larger of the two sample sds (False with fewer than 2 seeds on either side)."""
    if a.n < 2 or b.n < 2:
        return False
    return abs(a.mean - b.mean) > 2 * max(a.sd, b.sd)


def seed_table(
    report,
    title: str,
    rows: Sequence[tuple],
    seeds: Sequence[int],
    note: str = "",
    key: str | None = None,
    digits: int = 4,
) -> dict[str, SeedStats]:
    """A results.md table of seed statistics and the same numbers in results.json.

    rows: (label, values per seed, reference or None).  Columns: the quantity, the
    number of seeds, mean ± sample sd, min..max, the document's number, document − mean
    in sds, and whether the document's number lies within 2 sd of our mean.
    Returns {label: SeedStats}; recorded as report.numbers[key or 'seed_stats'][label].
    """
    out: dict[str, SeedStats] = {}
    lines = []
    for label, values, reference in rows:
        s = summarize(values, reference)
        out[label] = s
        ref = "" if reference is None else f"{reference:.{digits}f}"
        z = "" if s.z is None else f"{s.z:+.1f}"
        lines.append(
            [
                label,
                s.n,
                mean_sd(s, digits),
                f"{min(s.values):.{digits}f} .. {max(s.values):.{digits}f}",
                ref,
                z,
                s.verdict(),
            ]
        )
    seeds_txt = ", ".join(str(x) for x in seeds)
    base = (
        f"Seeds {seeds_txt}; sd is the sample standard deviation over seeds (ddof 1). "
        "'within 2 sd' is the verdict on the document's number: whether it lies within "
        "two standard deviations of our mean."
    )
    if 1 < len(seeds) < MIN_SEEDS_FOR_REFERENCE:
        base += (
            f" Only {len(seeds)} seeds: the sd itself is uncertain (run --seeds "
            f"0-{MIN_SEEDS_FOR_REFERENCE - 1} for the comparison the issue asks for)."
        )
    report.table(
        title,
        [
            "quantity",
            "seeds",
            "mean ± sd",
            "min .. max",
            "document",
            "(document − mean) / sd",
            "document within 2 sd",
        ],
        lines,
        note=(note + " " if note else "") + base,
    )
    bucket = dict(report.numbers.get(key or "seed_stats", {}))
    bucket.update({label: s.as_dict() for label, s in out.items()})
    report.number(key or "seed_stats", bucket)
    return out
