"""The ``decenter`` command line: diff, explain, verify, check, demo and bench.

One module per command (``decenter.cli.diff``, ...), each with ``add_parser(sub)`` and
``run(args) -> int``; shared pieces beside them: :mod:`~decenter.cli.options` (the checked
option types and groups), :mod:`~decenter.cli.targets` (loading TARGET),
:mod:`~decenter.cli.models` (a model as text, diff and Graphviz source) and
:mod:`~decenter.cli.common`; every table is drawn by :mod:`decenter.report.render`.

A TARGET names a model: ``path/to/file.py:NAME`` or ``package.module:NAME``, where NAME is a
``pm.Model`` or a zero-argument function returning one; ``path/to/file.py`` alone works when
the file defines exactly one model at module level.

Exit codes: 0 success (and "equivalent"), 1 "not equivalent" (verify, check), 2 a usage or
input error (one line on stderr; ``--debug`` shows the traceback), 3 an unexpected error.

Examples
--------
>>> from decenter.cli import main
>>> main(["explain", "decenter.examples.radon:centered_model", "--format", "json"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from decenter.cli import bench, check, demo, diff, explain, verify
from decenter.cli.models import model_dot, model_lines, unified_diff
from decenter.cli.options import PROG, CliError, Parser, check_outputs
from decenter.cli.targets import describe, load_target

__all__ = [
    "main",
    "build_parser",
    "load_target",
    "model_lines",
    "model_dot",
    "unified_diff",
    "CliError",
]

COMMANDS = (diff, explain, verify, check, demo, bench)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``decenter`` command (see ``decenter -h``)."""
    parser = Parser(
        prog=PROG,
        description="Automatic non-centering of hierarchical PyMC models.",
        epilog="TARGET: path/to/file.py:NAME, package.module:NAME, or path/to/file.py when it "
        "defines one model. NAME: a pm.Model or a zero-argument function returning one.",
    )
    parser.add_argument(
        "--debug", action="store_true", default=False, help="show the traceback of an error"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("decenter")
    except Exception:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``decenter`` command; return the exit code.

    A usage error (a bad option) exits from the parser with ``SystemExit(2)``, as argparse does.

    Examples
    --------
    >>> from decenter.cli import main
    >>> main(["explain", "decenter.examples.radon:centered_model"])  # doctest: +SKIP
    0
    """
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    debug = bool(getattr(args, "debug", False))
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write(
            f"{PROG}: error: choose a command: diff, explain, verify, check, demo, bench\n"
        )
        return 2
    try:
        # every option is checked before any work: output paths, then the command's own checks;
        # a bad option exits like one argparse rejects
        check_outputs(args)
        if hasattr(args, "check"):
            args.check(args)
    except CliError as e:
        sys.stderr.write(f"{PROG}: error: {e} (see {PROG} {args.command} -h)\n")
        raise SystemExit(2) from None
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except (CliError, ValueError, TypeError, ImportError, OSError) as e:
        if debug:
            traceback.print_exc()
        msg = " ".join(str(e).split()) if isinstance(e, CliError) else describe(e)
        sys.stderr.write(f"{PROG}: error: {msg}\n")
        return 2
    except Exception as e:
        if debug:
            traceback.print_exc()
        sys.stderr.write(
            f"{PROG}: unexpected error: {describe(e)} (run with --debug for the traceback)\n"
        )
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
