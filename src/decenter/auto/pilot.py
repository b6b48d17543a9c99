"""The NUTS pilot behind ``strategy="pilot"``: a short run of the fully non-centered model.

Examples
--------
>>> import pymc as pm
>>> from decenter.core.plan import decide
>>> from decenter.auto.pilot import pilot_draws
>>> with pm.Model() as m:
...     tau = pm.HalfNormal("tau")
...     x = pm.Normal("x", 0, tau, shape=3)
>>> draws, info = pilot_draws(m, decide(m), random_seed=0, tune=50, draws=20)
>>> draws["x"].shape, info["gradients"] > 0
((40, 3), True)
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pymc as pm

from decenter.auto.laplace import noncentered_plan
from decenter.core.plan import Plan

__all__ = ["pilot_draws", "PILOT"]

#: Pilot settings: chains, tuning and kept draws, tree depth cap.
PILOT = {"chains": 2, "tune": 300, "draws": 200, "maxdepth": 8}


def _seed(random_seed: int | None) -> int:
    if random_seed is None:
        return int(np.random.default_rng().integers(2**31))
    return int(np.random.default_rng(random_seed).integers(2**31))


def pilot_draws(
    model: pm.Model, plan: Plan, *, random_seed: int | None = None, **settings
) -> tuple[dict[str, np.ndarray], dict]:
    """Sample the fully non-centered model briefly; return draws of the original free variables.

    Parameters
    ----------
    model : pm.Model
        The original model.
    plan : Plan
        Its candidates (non-centered for the pilot).
    random_seed : int, optional
        Seed of the pilot.
    **settings
        Override :data:`PILOT` (``chains``, ``tune``, ``draws``, ``maxdepth``).

    Returns
    -------
    tuple
        ``(draws, info)``: ``draws[name]`` has shape ``(n_draws, *shape)`` in the constrained
        space; ``info`` holds ``sampler``, ``seconds`` and ``gradients`` (tuning included).
    """
    from decenter.core.rewrite import apply_plan

    cfg = {**PILOT, **settings}
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # initial values dropped here concern the pilot only
        warnings.filterwarnings("ignore", message="the initial value of", category=UserWarning)
        pilot = apply_plan(model, noncentered_plan(model, plan))
    names = [rv.name for rv in model.free_RVs]
    run, sampler = _run(pilot, names, cfg, _seed(random_seed))
    post = run.idata.posterior.to_dataset()
    draws = {}
    for n in names:
        arr = np.asarray(post[n].values)
        draws[n] = arr.reshape(-1, *arr.shape[2:])
    info = {
        "sampler": sampler,
        "seconds": time.perf_counter() - t0,
        "gradients": run.gradients + run.tune_gradients,
        "chains": cfg["chains"],
        "tune": cfg["tune"],
        "draws": cfg["draws"],
        "divergences": run.divergences,
    }
    return draws, info


def _run(pilot: pm.Model, names: list[str], cfg: dict, seed: int):
    """The pilot run with nutpie, or with PyMC's NUTS when nutpie is not installed."""
    from decenter.diagnose.runs import compile_nutpie, sample_nutpie, sample_pymc

    try:
        import nutpie  # noqa: F401
    except ImportError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = sample_pymc(
                pilot,
                nuts_sampler="pymc",
                draws=cfg["draws"],
                tune=cfg["tune"],
                chains=cfg["chains"],
                cores=1,
                random_seed=seed,
                max_treedepth=cfg["maxdepth"],
                discard_tuned_samples=False,
                progressbar=False,
                compute_convergence_checks=False,
                var_names=names,
            )
        return run, "PyMC"
    compiled, t_compile = compile_nutpie(pilot, var_names=names)
    run = sample_nutpie(
        compiled,
        draws=cfg["draws"],
        tune=cfg["tune"],
        chains=cfg["chains"],
        random_seed=seed,
        maxdepth=cfg["maxdepth"],
        compile_seconds=t_compile,
    )
    return run, "nutpie"
