"""Progress on steps that can take more than a couple of seconds (pilot, verify, bench).

One helper for every module, switched off the way PyMC does it: ``progressbar=False``
(the CLI's ``--no-progress``). Messages go to stderr so that stdout stays machine-readable.

Examples
--------
>>> from decenter.util.progress import stage
>>> with stage("fitting", enabled=False):
...     x = 1 + 1
>>> x
2
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["stage", "Ticker", "DELAY", "EVERY"]


@contextmanager
def stage(message: str, enabled: bool = True) -> Iterator[None]:
    """Show ``message`` with a spinner while the block runs, then its wall time, on stderr."""
    if not enabled:
        yield
        return
    from rich.console import Console

    console = Console(stderr=True)
    t0 = time.perf_counter()
    with console.status(f"decenter: {message} ...") as status:
        _LIVE.append(status)  # a Ticker inside shows its counts here (one live display only)
        try:
            yield
        finally:
            _LIVE.pop()
    console.print(f"decenter: {message}: {time.perf_counter() - t0:.1f} s", highlight=False)


#: The live displays of the stages running now, innermost last.
_LIVE: list = []
#: A long step shows its counts once it has run this many seconds (a fast one stays silent).
DELAY = 2.0
#: Without a live display (a log file, a CI job), at most one line every this many seconds.
EVERY = 10.0


class Ticker:
    """Counts of a long step (rounds, iterations, scales), shown once it runs past ``delay``.

    Call it with the current counts as often as convenient (it only compares two clocks
    unless it prints). In a terminal or a notebook the line is live (rich); in a log file a
    line is written at most every ``every`` seconds; when the block ends after being shown, a
    final line gives the last counts and the wall time. ``enabled=False`` prints nothing.

    Examples
    --------
    >>> with Ticker("fitting", enabled=False) as tick:
    ...     for i in range(3):
    ...         tick(f"iteration {i + 1}")
    >>> tick.last
    'iteration 3'
    """

    def __init__(
        self,
        message: str,
        enabled: bool = True,
        delay: float | None = None,
        every: float | None = None,
    ):
        self.message, self.enabled = message, enabled
        self.delay = DELAY if delay is None else delay
        self.every = EVERY if every is None else every
        self.last = ""
        self.shown = False
        self._status = self._console = self._restore = None
        self._t0, self._printed = 0.0, -math.inf

    def __enter__(self) -> Ticker:
        self._t0 = time.perf_counter()
        return self

    def __call__(self, counts: str) -> None:
        self.last = counts
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._t0 < self.delay:
            return
        text = f"decenter: {self.message}: {counts} ..."
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
            if _LIVE:  # inside a stage: rich allows one live display, so use the stage's
                self._status = _LIVE[-1]
                self._restore = self._status.status
            elif self._console.is_terminal or self._console.is_jupyter:
                self._status = self._console.status(text)
                self._status.start()
        self.shown = True
        if self._status is not None:
            self._status.update(text)
        elif now - self._printed >= self.every:
            self._printed = now
            self._console.print(text, highlight=False)

    def __exit__(self, *exc) -> None:
        if self._restore is not None:
            self._status.update(self._restore)
        elif self._status is not None:
            self._status.stop()
        if self.shown and exc[0] is None:
            seconds = time.perf_counter() - self._t0
            self._console.print(
                f"decenter: {self.message}: {self.last}, {seconds:.1f} s", highlight=False
            )
