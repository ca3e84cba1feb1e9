"""Progress bars for training loops: tqdm on stderr, shown when stderr is a terminal.

    for batch in progress(loader, total=len(loader), desc="epoch 1"):
        ...

$AUTODIFF_PROGRESS=0 turns every bar off and =1 forces them on (a process pool's workers,
whose bars would overwrite each other, run with 0).  Without tqdm the loop runs silently.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TypeVar

__all__ = ["PROGRESS_ENV", "progress"]

PROGRESS_ENV = "AUTODIFF_PROGRESS"

T = TypeVar("T")


def progress(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str | None = None,
    disable: bool | None = None,
) -> Iterable[T]:
    """`iterable` wrapped in a tqdm bar (left behind on completion: no).  disable=None
    decides from $AUTODIFF_PROGRESS, else from whether stderr is a terminal."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return iterable
    if disable is None:
        forced = os.environ.get(PROGRESS_ENV, "").strip()
        disable = (forced == "0") if forced in ("0", "1") else not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False)
