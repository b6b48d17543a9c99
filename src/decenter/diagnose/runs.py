"""The one sampling helper: compile and sample a model, timing each step and counting gradients.

Used by the pilot of ``strategy="pilot"``, by :func:`decenter.sample` and by the benchmarks.
Two routes:

* :func:`sample_pymc` calls ``pm.sample`` with any ``nuts_sampler`` (pymc, nutpie, numpyro,
  blackjax) and every keyword it takes; the compile and sampling times are not separable
  there, so only the total is reported.
* :func:`compile_nutpie` + :func:`sample_nutpie` keep nutpie's compiled model, which can be
  sampled again with new data (``compiled.with_data(...)``) without compiling twice.

Both return a :class:`Run` holding the InferenceData and the counts.

Examples
--------
>>> import pymc as pm
>>> from decenter.diagnose.runs import sample_pymc
>>> with pm.Model() as m:
...     x = pm.Normal("x")
>>> run = sample_pymc(m, nuts_sampler="pymc", draws=50, tune=50, chains=1,
...                   random_seed=1, progressbar=False, compute_convergence_checks=False)
>>> run.gradients > 0, run.idata.posterior["x"].shape
(True, (1, 50))
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm

__all__ = ["Run", "sample_pymc", "compile_nutpie", "sample_nutpie", "count_gradients"]


@dataclass
class Run:
    """One sampling run: the InferenceData and what it cost."""

    idata: Any
    sampler: str
    seconds: dict[str, float] = field(default_factory=dict)  # compile, sample, total
    gradients: int = 0  # leapfrog steps of the kept draws
    tune_gradients: int = 0  # leapfrog steps of tuning (when the sampler keeps them)
    divergences: int = 0


def count_gradients(idata) -> tuple[int, int, int]:
    """``(gradients, tune_gradients, divergences)`` of an InferenceData from any NUTS sampler.

    Gradient evaluations are the leapfrog steps (``n_steps``; ``tree_depth`` as ``2**depth - 1``
    where a sampler does not record steps). Tuning counts only when warmup stats were kept.
    """

    def steps(node) -> int:
        ds = node.to_dataset() if hasattr(node, "to_dataset") else node
        if "n_steps" in ds:
            return int(np.asarray(ds["n_steps"]).sum())
        if "tree_depth" in ds:
            return int((2 ** np.asarray(ds["tree_depth"], dtype=float) - 1).sum())
        return 0

    children = getattr(idata, "children", {})
    grads = steps(idata.sample_stats) if "sample_stats" in children else 0
    tune = steps(idata.warmup_sample_stats) if "warmup_sample_stats" in children else 0
    div = 0
    if "sample_stats" in children and "diverging" in idata.sample_stats:
        div = int(np.asarray(idata.sample_stats["diverging"]).sum())
    return grads, tune, div


def sample_pymc(model: pm.Model, *, nuts_sampler: str | None = None, **kwargs) -> Run:
    """``pm.sample(model=model, nuts_sampler=..., **kwargs)``, timed, with gradient counts.

    Errors are PyMC's own (nothing is caught). ``nuts_sampler=None`` is PyMC's default.
    """
    if nuts_sampler is not None:
        kwargs["nuts_sampler"] = nuts_sampler
    t0 = time.perf_counter()
    idata = pm.sample(model=model, **kwargs)
    total = time.perf_counter() - t0
    grads, tune, div = count_gradients(idata)
    return Run(idata, nuts_sampler or "pymc default", {"total": total}, grads, tune, div)


def compile_nutpie(model: pm.Model, *, var_names=None, **kwargs):
    """``nutpie.compile_pymc_model`` (numba backend), returning ``(compiled, seconds)``."""
    import nutpie

    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model, var_names=var_names, **kwargs)
    return compiled, time.perf_counter() - t0


def sample_nutpie(
    compiled,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int | None = None,
    random_seed: int | None = None,
    progressbar: bool = False,
    compile_seconds: float = 0.0,
    **kwargs,
) -> Run:
    """Sample a compiled nutpie model (warmup stats kept, for the gradient count)."""
    import nutpie

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        idata = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores or chains,
            seed=random_seed,
            progress_bar=progressbar,
            save_warmup=True,
            **kwargs,
        )
    seconds = time.perf_counter() - t0
    grads, tune_grads, div = count_gradients(idata)
    times = {"compile": compile_seconds, "sample": seconds, "total": compile_seconds + seconds}
    return Run(idata, "nutpie", times, grads, tune_grads, div)
