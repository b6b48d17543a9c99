"""Apply a plan on PyMC's model FunctionGraph (``pymc.model.fgraph``), never re-running user code.

Each rewritten free variable ``x ~ D(loc, scale)`` becomes a free standardized variable
``x_offset`` (same shape and dims) and a Deterministic ``x`` with the original name and dims,
so everything downstream of ``x`` keeps working.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from decenter._pymc import (
    fgraph_from_model,
    get_transformed_name,
    model_deterministic,
    model_free_rv,
    model_from_fgraph,
    toposort_replace,
    treelist,
)
from decenter.families import default_transform, find_rule
from decenter.plan import Plan

__all__ = ["apply_plan"]


@contextmanager
def _initvals_hidden(model: pm.Model):
    """fgraph_from_model refuses models with initial values: hide them for the conversion only.

    The attribute is swapped for a copy and put back, so the user's model ends as it began.
    """
    original = model.rvs_to_initial_values
    model.rvs_to_initial_values = dict.fromkeys(original)
    try:
        yield {rv.name: iv for rv, iv in original.items() if iv is not None}
    finally:
        model.rvs_to_initial_values = original


def apply_plan(model: pm.Model, plan: Plan) -> pm.Model:
    """A new model with the plan's rewrites applied (the input model is not modified)."""
    with _initvals_hidden(model) as initvals:
        try:
            fgraph, memo = fgraph_from_model(model)
        except (NotImplementedError, ValueError, TypeError) as err:
            raise ValueError(
                f"decenter cannot rewrite this model: PyMC cannot convert it to a graph ({err}). "
                "Your model is unchanged; decenter.plan(model) still lists the candidates."
            ) from err

    order = {v: i for i, v in enumerate(fgraph.outputs)}
    todo = sorted(plan.rewrites, key=lambda d: order[memo[model[d.name]]])
    for d in todo:
        # Read the node as it is now: earlier rewrites (parents) changed its inputs in place.
        model_var = memo[model[d.name]]
        rv = model_var.owner.inputs[0]
        rule = find_rule(rv)
        ls = rule.read(rv)
        lam = None if d.lam is None else pt.as_tensor(np.asarray(d.lam, dtype=rv.dtype))
        eta = rule.standard(rv, ls, lam)
        eta.name = d.new_name
        transform = default_transform(eta)
        value_name = (
            d.new_name if transform is None else get_transformed_name(d.new_name, transform)
        )
        # the value lives in the transformed space, whose shape may differ (ZeroSumTransform)
        value_type = (
            eta.type if transform is None else transform.forward(eta, *eta.owner.inputs).type
        )
        eta_var = model_free_rv(eta, value_type(name=value_name), transform, d.new_name, *d.dims)
        x = rule.forward(ls, eta_var, lam)
        x = pt.cast(x, rv.dtype)
        toposort_replace(fgraph, [(model_var, model_deterministic(x, d.name, *d.dims))])

    new = model_from_fgraph(fgraph, mutate_fgraph=True)
    # model_from_fgraph makes a default Model: keep the user's options (a named root model's
    # prefix makes new["mu"] find "top::mu"; check_bounds changes the logp)
    new.name, new.check_bounds = model.name, model.check_bounds
    _restore_order(model, new, plan)
    _restore_initvals(new, plan, initvals)
    return new


def _restore_order(old: pm.Model, new: pm.Model, plan: Plan) -> None:
    """Keep the user's variable order, each offset standing where its variable stood."""
    swap = {d.name: d.new_name for d in plan.rewrites}
    names = []
    for name in old.named_vars:
        if name in swap:
            names.append(swap[name])
        names.append(name)
    names += [n for n in new.named_vars if n not in names]
    rank = {n: i for i, n in enumerate(names)}
    for attr in ("free_RVs", "deterministics", "data_vars", "potentials", "observed_RVs"):
        setattr(new, attr, treelist(sorted(getattr(new, attr), key=lambda v: rank[v.name])))
    items = {n: new.named_vars[n] for n in names}
    new.named_vars.clear()
    new.named_vars.update(items)


def _restore_initvals(new: pm.Model, plan: Plan, initvals: dict) -> None:
    rewritten = {d.name: d.new_name for d in plan.rewrites}
    for name, iv in initvals.items():
        if name in rewritten:
            warnings.warn(
                f"the initial value of {name!r} was dropped: {name} is now a Deterministic of "
                f"{rewritten[name]!r}; set initval on {rewritten[name]!r} if you need one",
                UserWarning,
                stacklevel=3,
            )
            continue
        new.set_initval(new[name], iv)
