"""Full lme4 InstEval end to end: ``decenter.sample`` against ``pm.sample`` of each fixed form.

    python docs/insteval_sample.py SEED [DRAWS]     # one JSON line per form on stdout

Each form runs in a fresh Python process (imports not timed; everything after them is):
``decenter.sample(model)`` (the default: fit, rewrite, compile, sampling) and ``pm.sample`` of
the model as written (centered) and of ``transform(model, strategy="noncentered")`` (built
before the clock starts: it stands for one the user wrote). nutpie, 4 chains x DRAWS after
DRAWS tune (default 500), 2 cores. Reports wall seconds, the fit's seconds (the plan's own
record), min bulk ESS over every element of the original free variables, ESS per second and per
gradient evaluation, divergences. docs/benchmarks.md, "The default at scale".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

FORMS = ("decenter.sample", "centered", "noncentered")


def _child(form: str, seed: int, draws: int) -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    import arviz as az
    import numpy as np
    import pymc as pm

    import decenter

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from insteval_cost import full

    model = full()
    names = [rv.name for rv in model.free_RVs]
    kw = dict(
        draws=draws,
        tune=draws,
        chains=4,
        cores=2,
        progressbar=False,
        nuts_sampler="nutpie",
        random_seed=seed,
    )
    target = model if form != "noncentered" else decenter.transform(model, strategy="noncentered")
    t = time.perf_counter()
    if form == "decenter.sample":
        idata = decenter.sample(model, **kw)
    else:
        idata = pm.sample(model=target, **kw)
    seconds = time.perf_counter() - t
    ess = az.ess(idata.posterior.to_dataset()[names], method="bulk")
    per_var = {n: round(float(np.nanmin(ess[n].values)), 1) for n in names}
    min_ess = min(per_var.values())
    grads = float(idata.sample_stats["n_steps"].sum())
    fit = None
    if form == "decenter.sample":
        plan = json.loads(idata.posterior.attrs["decenter_plan"])
        fit = {k: plan["fit"][k] for k in ("seconds", "steps", "evaluations")}
    out = dict(
        form=form,
        seed=seed,
        draws=draws,
        seconds=round(seconds, 1),
        min_ess=round(min_ess, 1),
        ess_per_s=round(min_ess / seconds, 3),
        ess_per_grad_x1000=round(1000 * min_ess / grads, 3),
        divergences=int(idata.sample_stats["diverging"].sum()),
        per_var=per_var,
        fit=fit,
    )
    print(json.dumps(out))


def main(seed: int, draws: int) -> None:
    for form in FORMS:
        out = subprocess.run(
            [sys.executable, __file__, "--child", form, str(seed), str(draws)],
            capture_output=True,
            text=True,
        )
        print(
            out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-2000:],
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 500)
