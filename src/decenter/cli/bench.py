"""``decenter bench``: the strategies on the example suites (or, with --scaling, the scaling
measurements of :mod:`decenter.bench.scaling`). The options are checked by the same parser as
every other command; the work is :func:`decenter.bench.run`."""

from __future__ import annotations

import importlib

from decenter.cli.options import MAX_CHAINS, MAX_DRAWS, MAX_SEED, CliError, add_common, int_in


def add_parser(sub) -> None:
    from decenter.bench import STRATEGIES, SUITES

    p = sub.add_parser(
        "bench",
        help="benchmark strategies on the example suite",
        description="Benchmark centered, non-centered, auto (and VIP) on the example suite: "
        "ESS per gradient evaluation, divergences, R-hat; a Markdown table on stdout.",
    )
    p.add_argument(
        "--suite",
        choices=SUITES,
        default="synthetic",
        help="which suite (synthetic); corpus-dev / corpus-heldout are the corpus's halves, "
        "corpus-fresh a second held-out set",
    )
    p.add_argument(
        "--models", nargs="+", metavar="MODEL", help="models of the suite (default: all)"
    )
    p.add_argument(
        "--strategies",
        nargs="+",
        default=list(STRATEGIES),
        choices=STRATEGIES,
        help="strategies to compare; vip runs only when pymc-extras is installed",
    )
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int_in(0, MAX_SEED),
        default=[1, 2, 3],
        help="random seeds (1 2 3)",
    )
    p.add_argument("--draws", type=int_in(1, MAX_DRAWS), default=1000, help="draws per chain")
    p.add_argument("--tune", type=int_in(0, MAX_DRAWS), default=1000, help="tuning steps")
    p.add_argument("--chains", type=int_in(1, MAX_CHAINS), default=4, help="chains (4)")
    p.add_argument("--json", metavar="PATH", help="write every run and the summary as JSON")
    p.add_argument(
        "--scaling",
        action="store_true",
        help="run the scaling measurements (decenter.bench.scaling) instead of the suite",
    )
    add_common(p)
    p.set_defaults(func=run, check=check)


def suite_models(suite: str) -> dict:
    """The models of a suite by name; the real suite and the corpus are optional (they need
    their data)."""
    from decenter.bench import suite_models as models

    try:
        return models(suite)
    except ImportError as e:
        raise CliError(f"argument --suite: the {suite} suite is not available ({e})") from e


def check(args) -> None:
    """--models must name models of the chosen suite."""
    if args.scaling:
        return
    models = suite_models(args.suite)
    args.models = args.models or list(models)
    unknown = [m for m in args.models if m not in models]
    if unknown:
        raise CliError(
            f"argument --models: invalid choice: {unknown[0]!r} (the {args.suite} suite has: "
            f"{', '.join(models)})"
        )


def run(args) -> int:
    if args.scaling:
        return _scaling(args)
    from decenter import bench

    return int(bench.run(args) or 0)


def _scaling(args) -> int:
    try:
        scaling = importlib.import_module("decenter.bench.scaling")
    except ModuleNotFoundError as e:
        if e.name == "decenter.bench.scaling":
            raise CliError("argument --scaling: decenter.bench.scaling is not available") from e
        raise
    # the contract with decenter.bench.scaling: main(argv) -> exit code, argv its own options
    argv = ["--json", args.json] if args.json else []
    return int(scaling.main(argv) or 0)
