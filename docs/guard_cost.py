"""What a guard costs: log density + gradient of a guarded rewrite against the same rewrite
without its guard, on radon with scales decenter cannot prove positive.

    python docs/guard_cost.py [batches] [calls]

Radon's own scales (HalfCauchy) are proven positive and carry no guard; this variant gives
``sigma_a`` and ``sigma_b`` Normal(1, 1) priors, so both ``a`` and ``b`` are rewritten with a
guard. Both non-centered forms are compiled with PyTensor's default mode (what ``pm.sample``
compiles) as one function returning the log density and its gradient; in one process the two
are called in alternating batches of ``calls`` evaluations at the same point, timed in CPU
time of the thread (other processes on a busy machine do not count), and the median over
``batches`` of the per-batch time ratio (guarded / unguarded) is printed.
"""

from __future__ import annotations

import copy
import sys
import time
import warnings

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt

import decenter
from decenter.core.rewrite import apply_plan
from decenter.examples.radon import _data, coords, load_radon


def unprovable_radon() -> pm.Model:
    df = load_radon()
    with pm.Model(coords=coords(df)) as model:
        county_idx, floor = _data(df)
        mu_a = pm.Normal("mu_a", 0.0, 10.0)
        sigma_a = pm.Normal("sigma_a", 1.0, 1.0)  # not provably positive: guarded
        mu_b = pm.Normal("mu_b", 0.0, 10.0)
        sigma_b = pm.Normal("sigma_b", 1.0, 1.0)
        a = pm.Normal("a", mu_a, sigma_a, dims="county")
        b = pm.Normal("b", mu_b, sigma_b, dims="county")
        eps = pm.HalfCauchy("eps", beta=5)
        pm.Normal(
            "log_radon",
            a[county_idx] + b[county_idx] * floor,
            eps,
            observed=df["log_radon"].to_numpy(),
            dims="obs_id",
        )
    return model


def _logp_dlogp(model: pm.Model):
    values = model.value_vars
    lp = model.logp()
    grad = pt.concatenate([g.ravel() for g in pt.grad(lp, values)])
    return pytensor.function(values, [lp, grad])


def main(batches: int, calls: int) -> None:
    warnings.filterwarnings("ignore")
    m = unprovable_radon()
    guarded = decenter.plan(m, strategy="noncentered")
    assert [d.guard for d in guarded.rewrites] == ["a_guard", "b_guard"]
    plain = copy.deepcopy(guarded)
    for d in plain.decisions:
        d.guard = None  # the same rewrite, without its guard
    forms = {"guarded": apply_plan(m, guarded), "unguarded": apply_plan(m, plain)}
    fns = {k: _logp_dlogp(v) for k, v in forms.items()}
    ip = forms["guarded"].initial_point()
    point = [ip[v.name] for v in forms["guarded"].value_vars]
    ref = {k: f(*point) for k, f in fns.items()}
    for f in fns.values():  # warm-up: the first calls pay one-time costs
        for _ in range(calls):
            f(*point)
    assert np.allclose(ref["guarded"][0], ref["unguarded"][0])
    assert np.allclose(ref["guarded"][1], ref["unguarded"][1])
    ratios, per_call = [], {k: [] for k in fns}
    for _ in range(batches):
        t = {}
        for k, f in fns.items():
            t0 = time.thread_time()
            for _ in range(calls):
                f(*point)
            t[k] = time.thread_time() - t0
            per_call[k].append(t[k] / calls * 1e6)
        ratios.append(t["guarded"] / t["unguarded"])
    med = {k: float(np.median(v)) for k, v in per_call.items()}
    print(
        f"logp + gradient, median of {batches} batches of {calls} calls: guarded "
        f"{med['guarded']:.1f} us, unguarded {med['unguarded']:.1f} us; ratio "
        f"{np.median(ratios):.3f} (quartiles {np.quantile(ratios, 0.25):.3f}.."
        f"{np.quantile(ratios, 0.75):.3f})"
    )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args or [2000, 20]))
