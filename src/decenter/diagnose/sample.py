"""``decenter.sample``: from a model to a posterior in one call, the way ``pm.sample`` is called.

It decides the parameterization (by default the deterministic Laplace choice of
``strategy="auto"``, no pilot run), rewrites the model, samples the rewritten model once with
``pm.sample`` and the keyword arguments given, and returns the InferenceData with the
original names and dims (the rewritten variables are Deterministics of the same name) and the
plan recorded in ``idata.posterior.attrs``:

* ``decenter_strategy``: the strategy used;
* ``decenter_plan``: the plan as JSON (per variable: action, lam, reason, new variable;
  notes; the fit's cost);
* ``decenter_summary``: one line saying what was done;
* ``decenter_fallback``: JSON, the variables ``"auto"`` or ``"pilot"`` could not handle (left
  non-centered, with a ``UserWarning``) and why; ``{}`` when there are none;
* ``decenter_watch``: JSON, what the check of the run found (divergences, the variable and
  p-value) and did (``"replanned"``: the variable sampled again, or null; ``"side"``:
  ``"small"``, re-planned non-centered, or ``"large"``, re-planned centered).

Examples
--------
>>> import json, pymc as pm, decenter
>>> with pm.Model(coords={"school": range(3)}) as m:
...     mu = pm.Normal("mu")
...     tau = pm.HalfNormal("tau")
...     theta = pm.Normal("theta", mu, tau, dims="school")
...     y = pm.Normal("y", theta, 5.0, observed=[1.0, -1.0, 2.0], dims="school")
>>> idata = decenter.sample(m, draws=100, tune=100, chains=1, random_seed=1,
...                         progressbar=False, nuts_sampler="pymc",
...                         compute_convergence_checks=False)
>>> idata.posterior["theta"].dims
('chain', 'draw', 'school')
>>> json.loads(idata.posterior.attrs["decenter_plan"])["decisions"][2]["new_name"]
'theta_offset'
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pymc as pm

from decenter.diagnose.watch import check, enabled, skipped
from decenter.util.args import check_bool, check_sample_counts, names_of
from decenter.util.progress import stage

__all__ = ["sample"]


def sample(
    model: pm.Model,
    strategy: str | float | Mapping[str, Any] = "auto",
    random_seed: int | None = None,
    progressbar: bool = True,
    *,
    rewrite: Iterable[str | Any] | None = None,
    var_names: Iterable[str | Any] | None = None,
    plan: Any = None,
    watch: bool | None = None,
    **pm_sample_kwargs: Any,
):
    """Choose the parameterization, rewrite, and sample with ``pm.sample``.

    Parameters
    ----------
    model : pm.Model
        The model as written (centered); not modified.
    strategy : str, float or dict
        As in :func:`decenter.plan`; ``"auto"`` (default) is the deterministic Laplace
        choice, which needs no pilot run: the model is compiled once, by the sampler.
    random_seed : int, optional
        Passed to ``pm.sample``; also seeds ``strategy="pilot"``.
    progressbar : bool
        Show decenter's stages and the sampler's progress bar.
    rewrite : list of str or model variables, optional
        Rewrite only these free variables (what ``var_names`` means in
        :func:`decenter.transform` and :func:`decenter.plan`); None: every candidate.
    var_names : list of str or model variables, optional
        As in ``pm.sample``: the variables kept in the trace, by their names in ``model``
        (a rewritten variable is the Deterministic of the same name; its ``x_offset`` is kept
        only if named). None keeps every variable.
    plan : Plan, optional
        A plan already made for this model by :func:`decenter.plan`: applied as it is (no
        second fit; ``strategy`` is then ignored). A plan of another model is refused.
    watch : bool, optional
        Check the run for a wrong choice: if its divergences gather at small values of one
        (partly) centered variable's scale, re-plan that variable non-centered, or at large
        values of one rewritten variable's scale, re-plan it centered, and sample once more
        with the same settings (a ``UserWarning`` says so; see :mod:`decenter.diagnose.watch`).
        None (default): on for ``"auto"``, ``"pilot"`` and ``plan=``, off for a fixed strategy
        (``"noncentered"``, ``"centered"``, a number or a dict). What was found and done is
        in ``idata.posterior.attrs["decenter_watch"]`` (JSON).
    **pm_sample_kwargs
        Any other keyword of ``pm.sample`` (``draws``, ``tune``, ``chains``, ``cores``,
        ``nuts_sampler`` = "pymc", "nutpie", "numpyro" or "blackjax", ``target_accept``, ...).
        ``draws``, ``tune``, ``chains`` and ``cores`` are checked before any work; other
        sampler errors are PyMC's own.

    Returns
    -------
    InferenceData
        The posterior under the original names and dims (plus the ``*_offset`` variables
        actually sampled); the plan is in ``idata.posterior.attrs``.

    Examples
    --------
    >>> import pymc as pm, decenter
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x")
    >>> idata = decenter.sample(m, draws=50, tune=50, chains=1, progressbar=False,
    ...                         nuts_sampler="pymc", compute_convergence_checks=False)
    >>> idata.posterior.attrs["decenter_summary"]
    'decenter: nothing to rewrite; sampled the model unchanged'
    """
    from decenter.auto import plan as make_plan
    from decenter.auto import warn_fallback

    model = pm.modelcontext(model)  # the same error as pm.sample for a non-model
    check_bool(progressbar, "progressbar")
    if watch is not None:
        check_bool(watch, "watch")
    check_sample_counts(pm_sample_kwargs)
    keep = names_of(model, var_names)
    if plan is not None:
        p = _given(model, plan, rewrite)
    else:  # the only fit: the plan made here is applied as it is
        try:
            with stage(f"choosing the parameterization (strategy={strategy!r})", progressbar):
                p = make_plan(
                    model, rewrite, strategy=strategy, random_seed=random_seed,
                    progressbar=progressbar,
                )  # fmt: skip
        except (TypeError, ValueError) as err:  # plan's messages name its argument var_names
            if rewrite is None or "var_names" not in str(err):
                raise
            raise type(err)(str(err).replace("var_names", "rewrite")) from None
    warn_fallback(p, stacklevel=2)
    on, why = enabled(watch, strategy, plan is not None)
    idata, summary = _run(model, p, keep, random_seed, progressbar, pm_sample_kwargs)
    if on:  # the second run, if any, is sampled with the same settings

        def again(q):
            return _run(model, q, keep, random_seed, progressbar, pm_sample_kwargs)

        idata, p, summary = check(model, p, idata, summary, again, progressbar)
    else:
        skipped(idata, why)
    _record(idata, p, summary)
    return idata


def _run(model: pm.Model, p, keep, random_seed, progressbar: bool, pm_sample_kwargs: dict):
    """Rewrite ``model`` by ``p`` and sample it: (idata, one line saying what was done)."""
    from decenter.core.rewrite import apply_plan

    target, summary = model, None
    if not p.rewrites:
        summary = "decenter: nothing to rewrite; sampled the model unchanged"
    else:
        try:
            with stage("rewriting the model", progressbar):
                target = apply_plan(model, p)
        except ValueError as err:  # cannot rewrite safely: sample what the user wrote
            summary = f"decenter: could not rewrite ({err}); sampled the original model"
            p.notes.append(summary)
    if summary is None:
        names = ", ".join(f"{d.name} -> {d.new_name} (lam {d.lam_summary()})" for d in p.rewrites)
        summary = f"decenter: rewrote {names}"
        fallback = (p.fit or {}).get("fallback", {})
        if fallback:
            summary += f"; {p.strategy} fallback (non-centered): {', '.join(fallback)}"
    if keep is not None:
        _check_kept(keep, target)
        pm_sample_kwargs = {**pm_sample_kwargs, "var_names": keep}
    return pm.sample(
        model=target, random_seed=random_seed, progressbar=progressbar, **pm_sample_kwargs
    ), summary


def _given(model: pm.Model, plan, rewrite):
    """A plan given to :func:`sample`: checked against ``model``, its notes copied (added to)."""
    from decenter.core.fingerprint import check_plan

    if rewrite is not None:
        raise ValueError(
            "pass either plan= or rewrite=, not both: a plan already says what to rewrite "
            "(make it with decenter.plan(model, var_names))"
        )
    check_plan(model, plan)
    return dataclasses.replace(plan, notes=list(plan.notes))


def _check_kept(keep: list[str], target: pm.Model) -> None:
    """Every name in ``var_names`` must be a variable of the model sampled, before sampling."""
    unknown = [n for n in keep if n not in target.named_vars]
    if unknown:
        known = [v.name for v in target.free_RVs + target.deterministics]
        raise ValueError(
            f"var_names: {', '.join(map(repr, unknown))} not in the model sampled; its "
            f"variables are {known} (var_names filters the trace, as in pm.sample; "
            "rewrite= chooses what to rewrite)"
        )


def _record(idata, p, summary: str) -> None:
    """Write the plan into the posterior's attributes (JSON text: portable to netCDF/zarr)."""
    attrs = {
        "decenter_strategy": str(p.strategy),
        "decenter_plan": json.dumps(p.to_dict(), default=_jsonable),
        "decenter_summary": summary,
        # the variables a data-informed strategy could not handle (left non-centered), and why
        "decenter_fallback": json.dumps((p.fit or {}).get("fallback", {})),
    }
    idata.posterior.attrs.update(attrs)


def _jsonable(x):
    if isinstance(x, np.generic | np.ndarray):
        return x.tolist()
    return str(x)
