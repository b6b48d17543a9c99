"""Undo decenter's own rewrites on a model it made: the model the first pass started from.

The default's fit is of the fully non-centered *original* model. On a model decenter already
rewrote (``x_offset`` free, ``x`` a Deterministic beside it), fitting the model as it stands
would drop each rewritten variable's term from the fit's correction (its offset is a plain
``Normal(0, 1)``), move the mode of the hyperparameters, and change the lam of a variable the
first pass left centered. Giving each ``x`` back its distribution makes the second pass fit
the first pass's model, so it makes the first pass's choices (issue 31: a fixed point).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pytensor.graph import graph_replace

from decenter._pymc import (
    ModelDeterministic,
    fgraph_from_model,
    get_transformed_name,
    initial_point,
    initvals_hidden,
    model_free_rv,
    model_from_fgraph,
    reorder_model,
)
from decenter.core.graph import model_graph
from decenter.core.plan import Plan, _candidate
from decenter.core.reasons import _offsets_of
from decenter.families import default_transform, find_rule
from decenter.families.rules import LocScaleRule, ScaleRule, full_size
from decenter.util.linear import FAST_COMPILE

__all__ = ["fit_target", "recentered"]

# families whose forward map is affine in the offset, element by element: x = a + b * z
_AFFINE = (LocScaleRule, ScaleRule)


def recentered(model: pm.Model, pairs: dict[str, str]) -> tuple[pm.Model, set[str]]:
    """``model`` with each offset of ``pairs`` (``{"x_offset": "x"}``) folded back into
    ``x ~ D(loc, scale)``, and the names of the variables given back their distribution.

    ``x = a + b z`` with ``z ~ D(m, s)`` is ``x ~ D(a + b m, b s)``: ``a + b m`` and ``b`` are
    read off the Deterministic at ``z = m`` and ``z = m + 1``, for the partially centered
    offsets as for the non-centered ones. Pairs of a family whose map is not affine
    element by element (MvNormal, ZeroSumNormal, LogNormal, walks) are left as they are.
    The input model is not modified.

    Examples
    --------
    >>> import decenter
    >>> from decenter.examples.eight_schools import centered_model
    >>> new = decenter.transform(centered_model(), strategy="noncentered")
    >>> m, done = recentered(new, {"theta_offset": "theta"})
    >>> sorted(done), [v.name for v in m.free_RVs]
    (['theta'], ['mu', 'tau', 'theta'])
    """
    pairs = {z: x for z, x in pairs.items() if z in _affine_pairs(model, pairs)}
    if not pairs:
        return model, set()
    with initvals_hidden(model):
        fgraph, memo = fgraph_from_model(model)
    # memo maps a Deterministic to its expression; the graph's output is the ModelDeterministic
    dets = {o.name: o for o in fgraph.outputs if isinstance(o.owner.op, ModelDeterministic)}
    replacements, done = [], set()
    for z_name, x_name in pairs.items():
        z_var, x_var = memo[model[z_name]], dets[x_name]
        new = _folded(z_var, x_var, x_name, model.named_vars_to_dims.get(x_name, ()))
        if new is not None:  # users of x read its expression, the model its Deterministic
            replacements += [(x_var.owner.inputs[0], new), (x_var, new)]
            done.add(x_name)
    if not done:
        return model, done
    fgraph.replace_all(replacements, import_missing=True)
    gone = {memo[model[z]] for z, x in pairs.items() if x in done}
    for i in reversed(range(len(fgraph.outputs))):  # the offsets have no user left
        if fgraph.outputs[i] in gone:
            fgraph.remove_output(i)
    new_model = model_from_fgraph(fgraph, mutate_fgraph=True)
    new_model.name, new_model.check_bounds = model.name, model.check_bounds
    # each x where its offset stood: the first pass's order, so the fit starts alike
    back = {z: x for z, x in pairs.items() if x in done}
    order = [back.get(n, n) for n in model.named_vars if n not in done]
    reorder_model(new_model, order + [n for n in new_model.named_vars if n not in set(order)])
    return new_model, done


def _affine_pairs(model: pm.Model, pairs: dict[str, str]) -> set[str]:
    """The offsets whose Deterministic is affine in them, checked at the initial point: the
    second difference along the offset and the midpoint rule vanish (a hand-written
    ``x = exp(mu + s * x_offset)`` beside its ``x_offset`` is not decenter's and is left)."""
    names, exprs = [], []
    for z_name, x_name in pairs.items():
        z = model[z_name]
        rule = find_rule(z)
        if type(rule) not in _AFFINE or rule.why_not(z) is not None:
            continue
        ls = rule.read(z)
        loc = pt.zeros(()) if ls.loc is None else ls.loc
        x_v, loc_v = model.replace_rvs_by_values([model[x_name], pt.as_tensor(loc)])
        z_v = model.rvs_to_values[z]
        at = [
            graph_replace(x_v, {z_v: pt.cast(loc_v + k + 0 * z_v, z_v.dtype)})
            for k in (0, 1, 2, 0.5)
        ]
        exprs += [at[2] - 2 * at[1] + at[0], at[3] - (at[0] + at[1]) / 2, at[1] - at[0]]
        names.append(z_name)
    if not names:
        return set()
    fn = pytensor.function(model.value_vars, exprs, on_unused_input="ignore", mode=FAST_COMPILE)
    ip = initial_point(model, random_seed=0)
    values = fn(**{v.name: ip[v.name] for v in model.value_vars})
    ok = set()
    for k, name in enumerate(names):
        second, half, slope = (np.asarray(v, dtype=float) for v in values[3 * k : 3 * k + 3])
        tol = 1e-6 * (1 + np.max(np.abs(slope), initial=0.0))
        if np.all(np.isfinite(slope)) and max(np.max(np.abs(second)), np.max(np.abs(half))) <= tol:
            ok.add(name)
    return ok


def _folded(z_var, x_var, name: str, dims):
    """``ModelFreeRV(x ~ D(a + b m, b s))`` for ``x = a + b z``, or None (not affine)."""
    rv_z = z_var.owner.inputs[0]
    rule = find_rule(rv_z)
    if type(rule) not in _AFFINE or rule.why_not(rv_z) is not None:
        return None
    ls = rule.read(rv_z)
    size = full_size(rv_z)
    loc_z = 0 if ls.loc is None else ls.loc
    at_loc = pt.cast(pt.broadcast_to(loc_z, size), rv_z.dtype)
    expr = x_var.owner.inputs[0]
    loc = graph_replace(expr, {z_var: at_loc}, strict=False)
    slope = graph_replace(expr, {z_var: at_loc + 1}, strict=False) - loc
    x = rule.make(ls, None if ls.loc is None else loc, slope * ls.scale, size)
    x.name = name
    transform = default_transform(x)
    value_name = name if transform is None else get_transformed_name(name, transform)
    value_type = x.type if transform is None else transform.forward(x, *x.owner.inputs).type
    return model_free_rv(x, value_type(name=value_name), transform, name, *dims)


def fit_target(model: pm.Model, base: Plan, include_loc_only: bool) -> tuple[pm.Model, Plan]:
    """The model and candidates the fit sees: on a model decenter made, the model it was made
    from (:func:`recentered`).

    ``x_offset`` beside a Deterministic ``x`` is kept (it is rewritten already), but the fit
    is of the fully non-centered original model: folding each offset back into
    ``x ~ D(loc, scale)`` gives the first pass's fit model, so a variable the first pass left
    centered gets the same lam. An offset that cannot be folded back (a family whose map is
    not affine per element) and is still hierarchical (partially centered) is a candidate of
    the fit as it stands: non-centering it gives back ``x = loc + scale * z`` too. Only when
    ``base`` has candidates: otherwise nothing is fitted.
    """
    own = _offsets_of(model)
    if not own or not base.rewrites:
        return model, base
    model, folded = recentered(model, own)
    graph = model_graph(model)
    before = {d.name: d for d in base.decisions}
    decisions = []
    for rv in model.free_RVs:
        d = before.get(rv.name)
        if rv.name in folded or rv.name in own:
            again, _ = _candidate(model, rv, include_loc_only, graph)
            d = again if again.rewrite or d is None else d
        decisions.append(d)
    return model, Plan(decisions, strategy=base.strategy)
