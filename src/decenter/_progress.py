"""Progress on steps that can take more than a couple of seconds (pilot, verify, bench).

One helper for every module, switched off the way PyMC does it: ``progressbar=False``
(the CLI's ``--no-progress``). Messages go to stderr so that stdout stays machine-readable.

Examples
--------
>>> from decenter._progress import stage
>>> with stage("fitting", enabled=False):
...     x = 1 + 1
>>> x
2
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["stage"]


@contextmanager
def stage(message: str, enabled: bool = True) -> Iterator[None]:
    """Show ``message`` with a spinner while the block runs, then its wall time, on stderr."""
    if not enabled:
        yield
        return
    from rich.console import Console

    console = Console(stderr=True)
    t0 = time.perf_counter()
    with console.status(f"decenter: {message} ..."):
        yield
    console.print(f"decenter: {message}: {time.perf_counter() - t0:.1f} s", highlight=False)
