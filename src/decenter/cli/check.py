"""``decenter check TARGET``: verify, then sample the model and its rewrite and compare."""

from __future__ import annotations

import importlib.util
import sys

import decenter.cli.common as common
from decenter.cli.options import (
    CliError,
    add_common,
    add_points,
    add_sampling_options,
    add_transform_options,
)
from decenter.cli.targets import load_target
from decenter.cli.verify import verdict_line
from decenter.report.render import console, plural, print_comparison


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check",
        help="verify, then sample both models and compare",
        description="Verify the rewrite, then sample the model and its rewrite "
        "with the same settings and compare divergences, R-hat, ESS and speed. "
        "Exit 1 if the models are not equivalent (nothing is sampled then); nothing is "
        "sampled either when there is nothing to rewrite.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--against", metavar="OTHER", help="compare with this model, not the rewrite")
    add_sampling_options(p)
    add_points(p)
    p.add_argument("--plot", metavar="DIR", help="save trace and funnel pictures (PNG) in DIR")
    p.add_argument("--json", metavar="FILE", help="write plan, verification and comparison as JSON")
    add_transform_options(p)
    add_common(p)
    p.set_defaults(func=run)


def sample_and_report(con, model, other, args):
    """compare() with the command's sampling options, printed; returns the Comparison."""
    from rich.text import Text

    from decenter.diagnose.compare import compare

    con.print(
        Text(
            f"sampling the original and the transformed model: {plural(args.chains, 'chain')} x "
            f"{plural(args.draws, 'draw')}, {plural(args.tune, 'tuning step')}"
        )
    )
    cmp = compare(
        model,
        other,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        nuts_sampler=args.sampler,
        random_seed=args.seed,
        # PyMC's bars only on a terminal: piped output stays readable
        progressbar=common.progress(args) and sys.stdout.isatty(),
    )
    con.print(Text(f"sampler: {cmp.original.sampler}, random seed: {cmp.settings['random_seed']}"))
    con.print()
    print_comparison(con, cmp)
    return cmp


def picture_plan(con, args, model, other, plan):
    """The plan the pictures follow (the run's own), found before anything is sampled; None,
    with a one-line note, when there is no funnel to draw. A missing matplotlib is an error."""
    from rich.text import Text

    from decenter.report.plots import funnel_target

    if not args.plot:
        return None
    if importlib.util.find_spec("matplotlib") is None:
        raise CliError('--plot needs matplotlib: pip install "decenter[plot]"')
    if plan is None:  # --against: the candidates of the original, whatever their lam
        from decenter.core.plan import decide as make_plan

        plan = make_plan(model, strategy="noncentered")
    try:
        var, scale, _ = funnel_target(plan)
    except ValueError as err:
        con.print(Text(f"no pictures: {err}"))
        return None
    missing = [n for n in (var, scale) if n not in other.named_vars]
    if missing:
        con.print(Text(f"no pictures: {args.against} does not define {', '.join(missing)}"))
        return None
    return plan


def run(args) -> int:
    from rich.text import Text

    common.check_sampler(args.sampler)
    model, label = load_target(args.target)
    other, plan = common.other(args, model)
    con = console()
    record = {"target": args.target, "against": args.against, "plan": plan and plan.to_dict()}
    if plan is not None and not plan.rewrites:
        con.print(
            Text(
                f"nothing to rewrite: {label} and its rewrite are the same model; not sampling "
                f"it twice (decenter explain {args.target} says why)"
            )
        )
        if args.json:
            common.write_json(args.json, {**record, "verify": None, "comparison": None})
        return 0
    pictures = picture_plan(con, args, model, other, plan)
    report = common.verify(model, other, args, n_points=args.points)
    ok = bool(report.ok)
    con.print(verdict_line(label, args.against or "its rewrite", ok))
    record["verify"] = report.to_dict()
    if not ok:
        con.print(Text(str(report)))
        con.print(Text("not sampling: the models are not equivalent"))
        if args.json:
            common.write_json(args.json, {**record, "comparison": None})
        return 1
    cmp = sample_and_report(con, model, other, args)
    if args.json:  # before the pictures: the numbers are kept whatever happens to them
        common.write_json(args.json, {**record, "comparison": cmp.to_dict()})
        con.print(Text(f"saved {args.json}"))
    if pictures is not None:
        from decenter.report.plots import save_plots

        for path in save_plots(cmp, args.plot, plan=pictures):
            con.print(Text(f"saved {path}"))
    return 0
