"""Apply a plan on PyMC's model FunctionGraph (``pymc.model.fgraph``), never re-running user code.

Each rewritten free variable ``x ~ D(loc, scale)`` becomes a free standardized variable
``x_offset`` (same shape and dims) and a Deterministic ``x`` with the original name and dims,
so everything downstream of ``x`` keeps working.
"""

from __future__ import annotations

import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from decenter._pymc import (
    fgraph_from_model,
    get_transformed_name,
    initvals_hidden,
    model_deterministic,
    model_free_rv,
    model_from_fgraph,
    model_potential,
    reorder_model,
    toposort_replace,
)
from decenter.core.hoist import find_terms, shift
from decenter.core.plan import Plan
from decenter.core.strategy import candidates
from decenter.families import default_transform, find_rule
from decenter.families.guard import guard_logp

__all__ = ["apply_plan"]


def apply_plan(model: pm.Model, plan: Plan) -> pm.Model:
    """A new model with the plan's rewrites applied (the input model is not modified).

    One pass: the model is converted to a FunctionGraph once, every replacement is built
    against the original graph, all are applied in one ``toposort_replace`` and the graph is
    converted back once, so the cost grows linearly with the number of variables.

    Parameters
    ----------
    model : pm.Model
        The model to rewrite (not modified).
    plan : Plan
        The decisions, from :func:`decenter.plan`.

    Returns
    -------
    pm.Model
        The rewritten model.

    Examples
    --------
    >>> import decenter
    >>> from decenter.examples.radon import centered_model
    >>> m = centered_model()
    >>> new = apply_plan(m, decenter.plan(m))
    >>> [v.name for v in new.free_RVs if v.name.endswith("_offset")]
    ['a_offset', 'b_offset']
    """
    with initvals_hidden(model) as initvals:
        try:
            fgraph, memo = fgraph_from_model(model)
        except (NotImplementedError, ValueError, TypeError) as err:
            raise ValueError(
                f"decenter cannot rewrite this model: PyMC cannot convert it to a graph ({err}). "
                "Your model is unchanged; decenter.plan(model) still lists the candidates."
            ) from err

    moved = _moved_terms(model, plan)
    replacements = []
    for d in plan.rewrites:
        c = shift(moved[d.name], memo.__getitem__) if moved.get(d.name) else None
        x, guard = _replacement(memo[model[d.name]], d, c)
        replacements.append((memo[model[d.name]], x))
        if guard is not None:  # before the replacements, which then redirect it as well
            fgraph.add_output(model_potential(guard, d.guard), import_missing=True)
    # Children first (reverse topological order): a child's replacement reads its location and
    # scale from its parent's ModelFreeRV, which is still in the graph when the child is
    # imported; replacing the parent afterwards redirects the child's new expression too.
    # Parents first would re-import a parent's pruned ModelFreeRV: a duplicate free variable.
    toposort_replace(fgraph, replacements, reverse=True)

    new = model_from_fgraph(fgraph, mutate_fgraph=True)
    # model_from_fgraph makes a default Model: keep the user's options (a named root model's
    # prefix makes new["mu"] find "top::mu"; check_bounds changes the logp)
    new.name, new.check_bounds = model.name, model.check_bounds
    _restore_order(model, new, plan)
    _restore_initvals(new, plan, initvals)
    return new


def _moved_terms(model: pm.Model, plan: Plan) -> dict:
    """The terms each decision moves into its location (decenter.core.hoist), found again on
    the model; they must be the ones the plan names."""
    hoisted = {d.name: d for d in plan.rewrites if d.hoisted}
    if not hoisted:
        return {}
    found = find_terms(model, candidates(model, plan.decisions), plan.shapes)
    for name, d in hoisted.items():
        texts = tuple(t.text for t in found.get(name, ()))
        if texts != tuple(d.hoisted):
            raise ValueError(
                f"this plan moves {list(d.hoisted)} into {name!r}'s location, but in this model "
                f"the terms are {list(texts)}: the plan was made for another model; make it again "
                "with decenter.plan(model)"
            )
    return {name: found[name] for name in hoisted}


def _replacement(
    model_var: Variable, d, c: Variable | None = None
) -> tuple[Variable, Variable | None]:
    """``ModelDeterministic(x)`` of the forward map of a new standardized free variable, and
    the guard's log density when the plan asks for one (decenter.families.guard). With terms
    moved into the location (``c``), the new variable is centered at ``loc + c`` and ``x`` is
    the forward map minus ``c``: a shift, exact for any ``c``."""
    rv = model_var.owner.inputs[0]
    rule = d.rule or find_rule(rv)  # a plan read back from JSON has no rule
    lam = None if d.lam is None else pt.as_tensor(np.asarray(d.lam, dtype=rv.dtype))
    unit = None if d.unit is None else pt.as_tensor(np.asarray(d.unit, dtype=rv.dtype))
    new = rule.rewrite(rv, lam, unit, guard=bool(d.guard), shift=c)
    eta = new.eta
    eta.name = d.new_name
    transform = default_transform(eta)
    value_name = d.new_name if transform is None else get_transformed_name(d.new_name, transform)
    # the value lives in the transformed space, whose shape may differ (ZeroSumTransform)
    value_type = eta.type if transform is None else transform.forward(eta, *eta.owner.inputs).type
    eta_var = model_free_rv(eta, value_type(name=value_name), transform, d.new_name, *d.dims)
    x = pt.cast(new.forward(eta_var), rv.dtype)
    return model_deterministic(x, d.name, *d.dims), None if new.ok is None else guard_logp(new.ok)


def _restore_order(old: pm.Model, new: pm.Model, plan: Plan) -> None:
    """Keep the user's variable order, each offset standing where its variable stood."""
    swap = {d.name: d.new_name for d in plan.rewrites}
    names = []
    for name in old.named_vars:
        if name in swap:
            names.append(swap[name])
        names.append(name)
    listed = set(names)  # a set: a membership test in the list would make this quadratic
    names += [n for n in new.named_vars if n not in listed]
    reorder_model(new, names)


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
