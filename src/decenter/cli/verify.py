"""``decenter verify TARGET [--against OTHER]``: exit 0 if equivalent, 1 if not."""

from __future__ import annotations

import decenter.cli.common as common
from decenter.cli.options import add_common, add_points, add_transform_options
from decenter.cli.targets import load_target
from decenter.report.render import console


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="check that the rewrite is equivalent (exit 1 if not)",
        description="Check that TARGET and its rewrite (or --against OTHER) are "
        "the same model. Exit 0 if equivalent, 1 if not.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--against", metavar="OTHER", help="compare with this model, not the rewrite")
    add_points(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_transform_options(p)
    add_common(p)
    p.set_defaults(func=run)


def verdict_line(label: str, what: str, ok: bool):
    from rich.text import Text

    verdict = Text(
        "equivalent" if ok else "NOT equivalent", style="bold green" if ok else "bold red"
    )
    return Text(f"{label} and {what}: ") + verdict


def run(args) -> int:
    from rich.text import Text

    model, label = load_target(args.target)
    other, _ = common.other(args, model)
    report = common.verify(model, other, args, n_points=args.points)
    if args.format == "json":
        common.print_json(
            {
                "target": args.target,
                "against": args.against,
                "ok": bool(report.ok),
                "report": report.to_dict(),
            }
        )
    else:
        con = console()
        con.print(Text(str(report)))
        con.print(verdict_line(label, args.against or "its rewrite", bool(report.ok)))
    return 0 if report.ok else 1
