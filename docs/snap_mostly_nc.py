"""The default's plan against the same plan with each mostly non-centered variable made wholly
non-centered (at least half of its lams 0 and every partial lam below 0.3), paired: the same
seeds, the same path (``pm.sample(nuts_sampler="nutpie")``, 4 chains x 500 draws after 500
tune, the warm-up's gradients counted), and each form's price of a gradient inside nutpie
(``docs/grad_cost.py --nutpie``). A measurement of a candidate rule, not adopted
(docs/benchmarks.md, "What the default's model costs per gradient inside nutpie").

    python docs/snap_mostly_nc.py real radon 1 2 3 >> docs/snap_mostly_nc_1206.jsonl  # then 4 5 6
    python docs/snap_mostly_nc.py --table docs/snap_mostly_nc_1206.jsonl
"""

from __future__ import annotations

import collections
import copy
import json
import logging
import statistics
import sys
import time
import warnings

import numpy as np


def snapped(plan):
    """A copy of ``plan`` with the rule applied, and the names of the variables it changed."""
    plan = copy.deepcopy(plan)
    names = []
    for d in plan.decisions:
        if d.rewrite and d.lam is not None:
            lam = np.atleast_1d(np.asarray(d.lam, dtype=float))
            partial = lam[(lam > 0) & (lam < 1)]
            if partial.size and (lam == 0).mean() >= 0.5 and partial.max() < 0.3:
                d.lam = None
                names.append(d.name)
    return plan, names


def run(suite: str, name: str, seeds: list[int]) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import pymc as pm
    from grad_cost import nutpie_costs

    import decenter
    from decenter.bench import _trace_stats, suite_models
    from decenter.bench.prep import _pm_kwargs
    from decenter.core.rewrite import apply_plan

    model = suite_models(suite)[name]()
    plan = decenter.plan(model, progressbar=False)
    other, names = snapped(plan)
    forms = {"default": apply_plan(model, plan), "snapped": apply_plan(model, other)}
    us = nutpie_costs(forms)
    original = [rv.name for rv in model.free_RVs]
    for seed in seeds:
        for key, m in forms.items():
            t = time.perf_counter()
            idata = pm.sample(model=m, **_pm_kwargs(seed, 500, 500, 4))
            seconds = time.perf_counter() - t
            ess, rhat, grads, tune_grads, div = _trace_stats(idata, original, 500)
            row = dict(
                suite=suite,
                model=name,
                form=key,
                seed=seed,
                snapped=names,
                ess_min=ess,
                grads=grads + tune_grads,
                ess_per_grad=ess / (grads + tune_grads),
                divergences=div,
                rhat_max=rhat,
                us_per_grad=us[key],
                seconds=seconds,
            )
            print(json.dumps(row), flush=True)


def table(path: str) -> str:
    """One line per model: ESS per gradient (x1000, warm-up included) per seed, the median
    ratio snapped / default, the price of a gradient, and their product: the ratio per second
    of sampling."""
    by = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(path) as f:
        for r in map(json.loads, f):
            by[(r["suite"], r["model"])][r["form"]].append(r)
    lines = [
        "| model (set) | variable | ESS/grad x1000 default / snapped, per seed | per gradient "
        "| us per gradient | per second of sampling | divergences |",
        "|---|---|---|---|---|---|---|",
    ]
    for (suite, name), forms in by.items():
        d = [r["ess_per_grad"] * 1e3 for r in forms["default"]]
        s = [r["ess_per_grad"] * 1e3 for r in forms["snapped"]]
        ud, us = forms["default"][0]["us_per_grad"], forms["snapped"][0]["us_per_grad"]
        ratio = statistics.median(s) / statistics.median(d)
        cells = " / ".join(f"{a:.2f}-{b:.2f}" for a, b in zip(d, s, strict=True))
        div = f"{sum(r['divergences'] for r in forms['default'])} / "
        div += f"{sum(r['divergences'] for r in forms['snapped'])}"
        lines.append(
            f"| {name} ({suite}) | {', '.join(forms['default'][0]['snapped'])} | {cells} | "
            f"{ratio:.2f} | {ud:.2f} -> {us:.2f} | {ratio * ud / us:.2f} | {div} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "--table":
        print(table(sys.argv[2]))
    else:
        run(sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]] or [1, 2, 3])
