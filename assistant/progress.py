"""Progress bars: tqdm on stderr, and only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable


def progress_bar(items: Iterable | None = None, total: int | None = None, desc: str = "", enabled: bool = True,
                 unit: str = "it"):
    """A tqdm bar over items (or counting to total), drawn only when enabled and stderr is a terminal."""
    from tqdm import tqdm

    # A pipe or a log file gets no bar: its carriage returns would only clutter it.
    shown = enabled and sys.stderr.isatty()
    return tqdm(items, total=total, desc=desc, unit=unit, disable=not shown, dynamic_ncols=True, file=sys.stderr)
