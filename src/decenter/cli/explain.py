"""``decenter explain TARGET``: every free variable, the decision and its reason."""

from __future__ import annotations

import decenter.cli.common as common
from decenter.cli.options import add_common, add_transform_options
from decenter.cli.targets import load_target
from decenter.report.render import console, print_plan


def add_parser(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="every free variable, the decision and its reason",
        description="Print the plan: every free variable, whether it is rewritten, and why.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_transform_options(p)
    add_common(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import decenter
    from decenter.util.progress import stage

    model, _ = load_target(args.target)
    slow = args.strategy in ("auto", "pilot") and common.progress(args)
    with stage(f"planning ({common._what(args.strategy)})", enabled=slow):
        plan = decenter.plan(
            model,
            common.var_names(args),
            strategy=args.strategy,
            include_loc_only=args.include_loc_only,
            random_seed=args.seed,
            progressbar=common.progress(args),
        )
    if args.format == "json":
        common.print_json({"target": args.target, "plan": plan.to_dict()})
    else:
        print_plan(console(), plan)
    return 0
