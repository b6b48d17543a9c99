"""The parser's pieces: checked option types, the option groups the commands share, and the
check that output paths can be written, all run before any work.

Every number has a range; a bad value is one line naming the option and the range, e.g.
``decenter: error: argument --chains: must be at least 1, got 0 (an integer in [1, 1000])``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from decenter.util.args import SAMPLERS

__all__ = ["PROG", "SAMPLERS", "CliError", "Parser", "int_in", "add_common", "check_outputs"]

PROG = "decenter"
STRATEGY_WORDS = ("noncentered", "centered", "auto", "pilot")
# Ranges of the numeric options: wide enough for real use, small enough that PyMC, numpy and
# nutpie take the value (a chain count of 1e20 overflows inside them).
MAX_DRAWS = 10_000_000
MAX_CHAINS = 1_000
MAX_POINTS = 100_000
MAX_SEED = 2**32 - 1


class CliError(Exception):
    """An input error reported as one line on stderr with exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{PROG}: error: {message} (see {self.prog} -h)\n")
        raise SystemExit(2)


def int_in(lo: int, hi: int):
    """An argparse type for integers in [lo, hi]; its errors name the range."""
    word = {0: "an integer >= 0", 1: "a positive integer"}.get(lo, f"an integer >= {lo}")
    below = {0: "must be >= 0", 1: "must be at least 1"}.get(lo, f"must be >= {lo}")
    span = f"(an integer in [{lo}, {hi}])"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {word}, got {text!r} {span}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"{below}, got {value} {span}")
        if value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi}, got {value} {span}")
        return value

    return parse


def _lam(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{where}: {text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{where}: lam must lie in [0, 1], got {value:g}")
    return value


def strategy_type(text: str) -> str | float | dict[str, float]:
    """auto | noncentered | centered | pilot | LAM | NAME=LAM[,NAME=LAM...]."""
    if text in STRATEGY_WORDS:
        return text
    if "=" in text:
        out = {}
        for item in text.split(","):
            name, _, lam = item.partition("=")
            if not name.strip() or not lam.strip():
                raise argparse.ArgumentTypeError(f"expected NAME=LAM in {text!r}")
            out[name.strip()] = _lam(lam.strip(), name.strip())
        return out
    try:
        return _lam(text, "strategy")
    except argparse.ArgumentTypeError:
        if re.fullmatch(r"[-+.\deE]+", text):
            raise
    raise argparse.ArgumentTypeError(
        f"invalid strategy {text!r}: use auto, noncentered, centered, pilot, a number in [0, 1] "
        "or NAME=LAM[,NAME=LAM]"
    )


def add_debug(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: a subcommand must not reset a --debug given before it
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback"
    )


def add_common(p: argparse.ArgumentParser, *, seed: int | None = None) -> None:
    """--seed, --no-progress and --debug: every command has them."""
    p.add_argument(
        "--seed",
        type=int_in(0, MAX_SEED),
        default=seed,
        help=f"random seed ({seed if seed is not None else 'random'})",
    )
    p.add_argument(
        "--no-progress", action="store_true", help="hide progress messages and progress bars"
    )
    add_debug(p)


def add_transform_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("transform options")
    g.add_argument(
        "--strategy",
        type=strategy_type,
        default="auto",
        help="auto (default: data-informed, as decenter.transform), noncentered, centered, "
        "pilot, a lam in [0, 1], or NAME=LAM,...",
    )
    g.add_argument(
        "--var-names",
        "--vars",
        dest="var_names",
        action="append",
        metavar="NAME[,NAME]",
        help="rewrite only these free variables (repeatable or comma-separated)",
    )
    g.add_argument(
        "--include-loc-only",
        action="store_true",
        help="also rewrite variables whose scale is constant but location random",
    )


def add_sampling_options(p: argparse.ArgumentParser, *, draws: int = 1000) -> None:
    g = p.add_argument_group("sampling options")
    g.add_argument(
        "--draws", type=int_in(1, MAX_DRAWS), default=draws, help=f"draws per chain ({draws})"
    )
    g.add_argument(
        "--tune", type=int_in(0, MAX_DRAWS), default=1000, help="tuning steps per chain (1000)"
    )
    g.add_argument("--chains", type=int_in(1, MAX_CHAINS), default=4, help="chains (4)")
    g.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=None,
        help="NUTS implementation, pm.sample(nuts_sampler=...) (default: PyMC's choice)",
    )


def add_points(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--points", type=int_in(1, MAX_POINTS), default=20, help="test points of verify (20)"
    )


# Output options and whether each names a directory (True) or a file (False).
OUTPUTS = {"plot": True, "out": True, "json": False}


def check_outputs(args: argparse.Namespace) -> None:
    """Fail before any work when an output path cannot be written (creating its directory)."""
    for dest, is_dir in OUTPUTS.items():
        path = getattr(args, dest, None)
        if path:
            _check_writable(Path(path), is_dir, f"--{dest}")


def _check_writable(path: Path, is_dir: bool, option: str) -> None:
    folder = path if is_dir else path.parent
    try:
        if path.is_dir() and not is_dir:
            raise CliError(f"argument {option}: {path} is a directory; give a file name")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        if not is_dir and path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(f"{path} is read-only")
    except OSError as e:
        why = e.strerror or str(e)
        raise CliError(f"argument {option}: cannot write to {path} ({why})") from e
