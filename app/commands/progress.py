"""The progress bar every long command shows on stderr (stdout stays for results)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from tqdm import tqdm

from redaction.progress import ProgressCallback


@contextlib.contextmanager
def progress_bar(description: str, total: int = 0, unit: str = "frame") -> Iterator[ProgressCallback]:
    """A ``(done, total)`` callback drawing a tqdm bar on stderr; the bar closes on exit.

    Usage: ``with progress_bar("export", n) as update: job(progress=update)``.
    The bar appears at the first update, so a job that fails while checking
    its inputs prints only its one-line error.
    """
    bars: list[tqdm] = []

    def update(done: int, new_total: int) -> None:
        if not bars:
            bars.append(
                tqdm(
                    total=new_total or total or None,
                    desc=description,
                    unit=unit,
                    unit_scale=unit == "B",
                    file=sys.stderr,
                    dynamic_ncols=True,
                )
            )
        bar = bars[0]
        if new_total and bar.total != new_total:
            bar.total = new_total
            bar.refresh()
        if done > bar.n:
            bar.update(done - bar.n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()
