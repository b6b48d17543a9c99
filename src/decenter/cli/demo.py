"""``decenter demo``: the radon case end to end (what ``make demo`` runs)."""

from __future__ import annotations

import time
from pathlib import Path

import decenter.cli.common as common
from decenter.cli.check import sample_and_report
from decenter.cli.diff import print_diff
from decenter.cli.models import unified_diff
from decenter.cli.options import add_common, add_sampling_options
from decenter.report.render import console, print_plan


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="the radon example end to end (what `make demo` runs)",
        description="The Minnesota radon model: diff, verification, sampling "
        "before and after, and pictures.",
    )
    add_sampling_options(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        default="decenter-demo",
        help="where to save pictures and comparison.json (./decenter-demo)",
    )
    add_common(p, seed=1)
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.rule import Rule
    from rich.text import Text

    import decenter
    from decenter.examples.radon import centered_model, load_radon

    common.check_sampler(args.sampler)
    t0 = time.perf_counter()
    con = console()
    df = load_radon()
    con.print(Rule("decenter demo: Minnesota radon, varying intercepts and slopes by county"))
    con.print(
        Text(
            f"{len(df)} homes in {df['county'].nunique()} counties; the centered model "
            "has a funnel between the county slopes b and their scale sigma_b."
        )
    )
    model = centered_model(df)
    new, plan = decenter.transform(model, return_plan=True)

    con.print(Rule("1. the model before and after (decenter diff)"))
    names = ("radon (centered)", "radon (decenter)")
    print_diff(con, unified_diff(model, new, plan=plan, names=names))
    con.print()
    print_plan(con, plan)

    con.print(Rule("2. equivalence (decenter verify)"))
    report = common.verify(model, new, args)
    con.print(Text(str(report)))
    if not report.ok:
        con.print(Text("the rewrite is NOT equivalent; stopping", style="bold red"))
        return 1

    con.print(Rule("3. sampling before and after (decenter check)"))
    cmp = sample_and_report(con, model, new, args)
    _print_sigma_b(con, cmp)

    con.print(Rule("4. pictures"))
    out = Path(args.out)
    try:
        from decenter.report.plots import save_plots

        paths = save_plots(cmp, out, var="b")
    except ImportError as e:
        con.print(Text(f"no pictures: {e}"))
        paths = []
    common.write_json(
        out / "comparison.json",
        {"plan": plan.to_dict(), "verify": report.to_dict(), "comparison": cmp.to_dict()},
    )
    for path in [*paths, out / "comparison.json"]:
        con.print(Text(f"saved {path}"))
    con.print(Text(f"demo done in {time.perf_counter() - t0:.0f} s"))
    return 0


def _print_sigma_b(con, cmp) -> None:
    from rich.text import Text

    o, t = cmp.original, cmp.transformed
    sb_o, sb_t = o.per_var["sigma_b"], t.per_var["sigma_b"]
    con.print(
        Text(
            f"sigma_b: divergences {o.divergences} -> {t.divergences}, bulk ESS "
            f"{sb_o['ess_bulk']:.0f} -> {sb_t['ess_bulk']:.0f}, tail ESS {sb_o['ess_tail']:.0f} -> "
            f"{sb_t['ess_tail']:.0f}",
            style="bold",
        )
    )
