"""``decenter diff TARGET``: the model before and after the rewrite, and the plan."""

from __future__ import annotations

import sys

import decenter.cli.common as common
from decenter.cli.models import model_dot, model_lines, unified_diff
from decenter.cli.options import add_common, add_transform_options
from decenter.cli.targets import load_target
from decenter.report.render import console, print_plan

HELP = "the model before and after the rewrite, and the plan"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "diff",
        help=HELP,
        description="Show the model before and after the rewrite as a unified diff, "
        "followed by the plan.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument(
        "--format",
        choices=("text", "json", "dot"),
        default="text",
        help="text (default), json, or dot (graphviz source of both graphs)",
    )
    add_transform_options(p)
    add_common(p)
    p.set_defaults(func=run)


def print_diff(con, lines: list[str]) -> None:
    from rich.text import Text

    styles = (("---", "bold"), ("+++", "bold"), ("@@", "cyan"), ("-", "red"), ("+", "green"))
    for line in lines:
        style = next((s for prefix, s in styles if line.startswith(prefix)), "")
        con.print(Text(line, style=style), soft_wrap=True)


def run(args) -> int:
    model, label = load_target(args.target)
    new, plan = common.transform(model, args)
    names = (label, f"{label} (decenter)")
    if args.format == "dot":
        sys.stdout.write(model_dot(model, new, plan=plan, labels=names) + "\n")
        return 0
    lines = unified_diff(model, new, plan=plan, names=names)
    if args.format == "json":
        common.print_json(
            {
                "target": args.target,
                "before": model_lines(model),
                "after": model_lines(new, plan=plan, original=model),
                "diff": lines,
                "plan": plan.to_dict(),
            }
        )
        return 0
    con = console()
    if lines:
        print_diff(con, lines)
    else:
        con.print(f"no change: {label} has nothing to rewrite")
    con.print()
    print_plan(con, plan)
    return 0
