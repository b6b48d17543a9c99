"""Radon per draw, variable by variable: where the default's gain per gradient comes from and
why it does not reach the wall clock (issue 28's end-to-end target).

    python docs/radon_ess_vars.py 1 2 3 4 5 6 > docs/radon_ess_vars_1206.jsonl
    python docs/radon_ess_vars.py --table docs/radon_ess_vars_1206.jsonl

Three forms of the radon example, each sampled with ``pm.sample(nuts_sampler="nutpie")``, 4
chains x 1000 draws after 1000 tune (the settings of docs/wall_clock_fresh.py), the same
seeds: the default's plan; the same plan with ``b`` (the floor slopes, lam 0 for 64 of 85
counties) wholly non-centered, docs/snap_mostly_nc.py's rule; and the non-centered model.
One row per form and seed: the min bulk ESS of each original free variable (over its
elements), leapfrog steps per draw, divergences.
"""

from __future__ import annotations

import copy
import json
import logging
import statistics
import sys
import warnings

import numpy as np

KW = dict(draws=1000, tune=1000, chains=4, cores=2, progressbar=False, nuts_sampler="nutpie")


def forms(model):
    """The three models: default, default with ``b`` non-centered, non-centered."""
    import decenter
    from decenter.core.rewrite import apply_plan

    plan = decenter.plan(model, progressbar=False)
    snapped = copy.deepcopy(plan)
    for d in snapped.decisions:
        if d.name == "b":
            d.lam = None
    nc = decenter.transform(model, strategy="noncentered")
    return {
        "default": apply_plan(model, plan),
        "default, b non-centered": apply_plan(model, snapped),
        "non-centered": nc,
    }


def run(seeds: list[int]) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    import arviz as az
    import pymc as pm

    from decenter.examples.real import REAL_SUITE

    model = REAL_SUITE["radon"]()
    names = [rv.name for rv in model.free_RVs]
    built = forms(model)
    for seed in seeds:
        for form, m in built.items():
            idata = pm.sample(model=m, random_seed=seed, **KW)
            ess = az.ess(idata.posterior.to_dataset()[names], method="bulk")
            stats = idata.sample_stats
            row = dict(
                form=form,
                seed=seed,
                steps_per_draw=float(stats["n_steps"].values.mean()),
                divergences=int(stats["diverging"].values.sum()),
                ess={n: float(np.nanmin(ess[n].values)) for n in names},
            )
            print(json.dumps(row), flush=True)


def table(path: str) -> str:
    """Medians over the seeds, per form: ESS per variable, steps per draw, ESS of the worst
    variable per draw and per 1000 gradients, divergences summed."""
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    names = list(rows[0]["ess"])
    head = ["form", *names, "steps/draw", "min ESS/draw", "min ESS/grad x1000", "div"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for form in dict.fromkeys(r["form"] for r in rows):
        mine = [r for r in rows if r["form"] == form]
        med = {n: statistics.median(r["ess"][n] for r in mine) for n in names}
        steps = statistics.median(r["steps_per_draw"] for r in mine)
        per_draw = statistics.median(min(r["ess"].values()) / 4000 for r in mine)
        per_grad = statistics.median(
            min(r["ess"].values()) / (4000 * r["steps_per_draw"]) for r in mine
        )
        cells = [f"{med[n]:.0f}" for n in names]
        div = sum(r["divergences"] for r in mine)
        cells += [f"{steps:.2f}", f"{per_draw:.3f}", f"{1000 * per_grad:.1f}", str(div)]
        out.append(f"| {form} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1] == "--table":
        print(table(sys.argv[2]))
    else:
        run([int(s) for s in sys.argv[1:]])
