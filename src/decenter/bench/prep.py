"""The model each benchmark strategy samples, and the paths that sample it.

:func:`decenter.bench.run_one` samples a fixed form with :func:`_sample_pm` (``pm.sample``)
and ``auto`` with :func:`_sample_end_to_end` (``decenter.sample``), both with
:func:`_pm_kwargs`; with a cache (the slow tests) it asks :func:`_compiled` for a nutpie-compiled
model instead (with the seconds it took to transform and to compile). A new strategy is a
branch of :func:`_prepare` and a name in :data:`STRATEGIES`.
"""

from __future__ import annotations

import json
import re
import time
import warnings

import numpy as np

STRATEGIES = ("centered", "noncentered", "default", "auto", "vip")
#: ADVI steps of the VIP fit (pm.fit's default, as in the pymc-extras example)
VIP_ADVI_STEPS = 10_000


def _vip_available() -> bool:
    try:
        import pymc_extras.model.transforms.autoreparam  # noqa: F401
    except Exception:
        return False
    return True


def _pilot_grads(notes) -> int:
    m = re.search(r"(\d+) gradient evaluations", " ".join(str(n) for n in notes))
    return int(m.group(1)) if m else 0


def _prepare(model, strategy: str, seed: int):
    """The model to sample for a strategy, and the pilot gradient count."""
    import decenter

    if strategy == "centered":
        return model, 0, {}
    if strategy == "noncentered":
        return decenter.transform(model, strategy="noncentered"), 0, {}
    if strategy in ("default", "auto"):
        # "default": transform with no options, as a new user calls it
        kw = {} if strategy == "default" else {"strategy": "auto", "random_seed": seed}
        new, plan = decenter.transform(model, return_plan=True, **kw)
        notes = list(plan.notes)
        extra = {"notes": notes, "plan_strategy": plan.strategy}
        return new, _pilot_grads(notes), extra
    if strategy == "vip":
        from pymc_extras.model.transforms.autoreparam import vip_reparametrize

        # VIP needs the names from the user: give it decenter's candidates
        names = [d.name for d in decenter.plan(model).rewrites]
        new, vip = vip_reparametrize(model, names)
        with new, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vip.set_all_lambda(0.5)  # as in the pymc-extras docs
            vip.fit(n=VIP_ADVI_STEPS, random_seed=seed, progressbar=False)
        lam = {k: np.asarray(v).round(2).tolist() for k, v in vip.get_lambda().items()}
        # ADVI draws one Monte Carlo sample per step: one gradient each
        return new, VIP_ADVI_STEPS, {"vip_lambda": lam}
    raise ValueError(f"unknown strategy {strategy!r}; choose from {STRATEGIES}")


def _compile(model, original):
    import nutpie

    return nutpie.compile_pymc_model(model, var_names=original)


def nutpie_seed(seed: int, chains: int) -> int:
    """The seed ``pm.sample(random_seed=seed, chains=chains, nuts_sampler="nutpie")`` gives nutpie.

    With a cache (the slow tests) the fixed forms are sampled with nutpie directly, and
    ``auto`` always through ``decenter.sample`` (``pm.sample``); with this seed both get the
    same random numbers, so a default that keeps the model as written samples the very draws
    of ``centered`` (a paired comparison).

    >>> nutpie_seed(1, 4) == nutpie_seed(1, 4) != nutpie_seed(2, 4)
    True
    """
    from decenter._pymc import get_random_generator

    return int(get_random_generator(seed).spawn(chains)[0].integers(2**30))


def _sample_nutpie(compiled, *, seed, draws, tune, chains):
    """Sample a nutpie-compiled model; the trace keeps the warm-up statistics."""
    import nutpie

    return nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=min(chains, 2),
        seed=nutpie_seed(seed, chains),
        progress_bar=False,
        save_warmup=True,
    )


#: strategies whose transformed model does not depend on the seed: compiled once per model
_SEED_FREE = ("centered", "noncentered", "default")


def _pm_kwargs(seed, draws, tune, chains) -> dict:
    """What every end-to-end run passes to ``pm.sample`` (through ``decenter.sample`` for
    ``auto``): nutpie, the warm-up kept so that its gradients are counted for every form."""
    return dict(
        random_seed=seed,
        nuts_sampler="nutpie",
        draws=draws,
        tune=tune,
        chains=chains,
        cores=min(chains, 2),
        progressbar=False,
        discard_tuned_samples=False,
    )


def _sample_pm(model, *, seed, draws, tune, chains):
    """``pm.sample(model, nuts_sampler="nutpie")``: a fixed form sampled as a user samples it
    (compile included), by the same path and with the same seed as ``auto``."""
    import pymc as pm

    return pm.sample(model=model, **_pm_kwargs(seed, draws, tune, chains))


def plan_digest(plan: dict) -> str:
    """A short hash of a plan's choices (every decision's action, ``lam`` and ``unit`` to the
    last bit; not its timings): two runs whose digests agree sampled the same model.

    >>> a = {"decisions": [{"name": "x", "action": "rewrite", "lam": [0.5]}], "fit": {"s": 1}}
    >>> b = {**a, "fit": {"s": 2}}  # another timing
    >>> c = {"decisions": [{"name": "x", "action": "rewrite", "lam": [0.5 + 1e-15]}]}
    >>> plan_digest(a) == plan_digest(b) != plan_digest(c)
    True
    """
    import hashlib

    keys = ("name", "action", "lam", "unit")
    rows = [[d.get(k) for k in keys] for d in plan.get("decisions", [])]
    return hashlib.sha1(json.dumps(rows).encode()).hexdigest()[:12]


def _sample_end_to_end(model, *, seed, draws, tune, chains):
    """``decenter.sample(model, strategy="auto")`` with nutpie: pilot, transform and sampling."""
    import decenter

    idata = decenter.sample(model, strategy="auto", **_pm_kwargs(seed, draws, tune, chains))
    # the plan is recorded in the posterior's attributes (or the top level's)
    attrs = {**getattr(idata, "attrs", {}), **idata.posterior.attrs}
    text = json.dumps({k: v for k, v in attrs.items() if "decenter" in k}, default=str)
    m = re.search(r"(\d+) gradient evaluations", text)
    extra = {"end_to_end": True, "summary": attrs.get("decenter_summary")}
    extra["plan_digest"] = plan_digest(json.loads(attrs.get("decenter_plan") or "{}"))
    # a run the watch discarded (re-planned and sampled again) is part of the cost
    watch = json.loads(attrs.get("decenter_watch") or "{}")
    extra["watch"] = watch.get("replanned")
    extra["watch_side"] = watch.get("side")  # "small": re-planned non-centered; "large": centered
    return idata, (int(m.group(1)) if m else 0) + int(watch.get("discarded_gradients", 0)), extra


def _compiled(model, original, model_name: str, strategy: str, *, seed, cache: dict, t0: float):
    """(compiled model, pilot gradients, extra, transform seconds, compile seconds) of a
    strategy for nutpie directly, the seconds counted from ``t0``; the seed-free strategies
    are transformed and compiled once per model in ``cache`` and later seeds get the first
    seed's entry."""
    key = (model_name, strategy)
    if key in cache:
        return cache[key]
    new, pilot_grads, extra = _prepare(model, strategy, seed)
    t_transform = time.perf_counter() - t0
    compiled = _compile(new, original)
    t_compile = time.perf_counter() - t0 - t_transform
    if strategy in _SEED_FREE:
        cache[key] = (compiled, pilot_grads, extra, t_transform, t_compile)
    return compiled, pilot_grads, extra, t_transform, t_compile
