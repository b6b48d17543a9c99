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
from pymc.model.fgraph import (
    ModelDeterministic,
    ModelNamed,
    deepcopy_shared_variable,
    model_deterministic,
    model_free_rv,
    model_from_fgraph,
    model_named,
    model_observed_rv,
    model_potential,
    remove_view_rewrite,
)
from pymc.pytensorf import find_rng_nodes, toposort_replace
from pymc.util import get_transformed_name
from pytensor.compile import SharedVariable, view_op
from pytensor.graph import FunctionGraph
from pytensor.graph.basic import AtomicVariable, Variable
from pytensor.graph.utils import MissingInputError

from decenter._pymc import initvals_hidden, reorder_model
from decenter.families import default_transform, find_rule
from decenter.families._guard import guard_logp, guarded
from decenter.plan import Plan

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
            fgraph, memo = _fgraph_from_model(model)
        except (NotImplementedError, ValueError, TypeError) as err:
            raise ValueError(
                f"decenter cannot rewrite this model: PyMC cannot convert it to a graph ({err}). "
                "Your model is unchanged; decenter.plan(model) still lists the candidates."
            ) from err

    replacements = []
    for d in plan.rewrites:
        x, guard = _replacement(memo[model[d.name]], d)
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


class _LinearFunctionGraph(FunctionGraph):
    """A FunctionGraph whose imports cost the size of what is imported, not of the graph.

    PyTensor 3.3's ``import_node`` copies the set of every variable of the graph (the
    toposort's blockers) and scans the list of inputs for each new input, so importing the
    n replacements one by one is quadratic. Same nodes, same order, same callbacks here.
    """

    def import_node(self, apply_node, check=True, reason=None, import_missing=False):
        known, clients, inputs = self.variables, self.clients, self.inputs
        input_set = getattr(self, "_input_set", None)
        if input_set is None or len(input_set) != len(inputs):
            input_set = self._input_set = set(inputs)
        for node in _new_nodes(apply_node.outputs, known):
            for var in node.inputs if check else ():
                if var.owner is None and not isinstance(var, AtomicVariable):
                    if var in input_set:
                        continue
                    if not import_missing:
                        raise MissingInputError(f"Undeclared input: {var}", variable=var)
                    inputs.append(var)
                    input_set.add(var)
                    clients.setdefault(var, [])
            self.apply_nodes.add(node)
            node.tag.imported_by = [*getattr(node.tag, "imported_by", []), str(reason)]
            for output in node.outputs:
                clients.setdefault(output, [])
                known.add(output)
            for i, inp in enumerate(node.inputs):
                if inp not in known:
                    clients.setdefault(inp, [])
                    known.add(inp)
                clients[inp].append((node, i))
            self.execute_callbacks("on_import", node, reason)


def _new_nodes(outputs, known):
    """``pytensor.graph.traversal.toposort(outputs, blockers=known)`` without copying ``known``."""
    computed: set = set()
    todo = list(outputs)
    while todo:
        cur = todo.pop()
        if cur in computed or cur in known or cur.owner is None:
            continue
        apply = cur.owner
        pending = [
            i for i in apply.inputs if i.owner is not None and i not in computed and i not in known
        ]
        if pending:
            todo.append(cur)
            todo.extend(pending)
        else:
            yield apply
            computed.update(apply.outputs)


def _fgraph_from_model(model: pm.Model) -> tuple[FunctionGraph, dict]:
    """``pymc.model.fgraph.fgraph_from_model`` (PyMC 6.4, ``inlined_views=False``), linear.

    PyMC's version removes the trailing value-variable outputs from the front, re-indexing
    every later output each time (quadratic: 4000 value variables cost about a minute), and
    tests membership in lists; this one removes them from the back and uses sets. The graph
    built is the same.
    """
    _check_convertible(model)
    rvs = list(model.rvs_to_values)
    old_values = list(model.rvs_to_values.values())
    data_vars = set(model.data_vars)
    value_set = set(old_values)
    dets = [view_op(det, name=det.name) for det in model.deterministics]
    unnamed_values = [v for v in old_values if v not in data_vars]
    named_values = [view_op(v, name=v.name) for v in old_values if v in data_vars]
    other_named = [view_op(v, name=v.name) for v in model.data_vars if v not in value_set]
    model_vars = rvs + model.potentials + dets + other_named + named_values + unnamed_values
    fgraph, memo = _cloned_fgraph(model, model_vars)

    replacements = _model_var_replacements(model, fgraph, memo, dets, other_named + named_values)
    toposort_replace(fgraph, replacements, reverse=True)

    inverse_memo = {v: k for k, v in memo.items()}
    for var, model_var in replacements:
        if model_var.owner and isinstance(model_var.owner.op, ModelDeterministic | ModelNamed):
            var = var.owner.inputs[0]  # skip the View removed below
        memo[inverse_memo[var]] = model_var
    # The unnamed value variables are graph inputs now: drop their outputs, last first
    for idx in reversed(range(len(fgraph.outputs) - len(unnamed_values), len(fgraph.outputs))):
        fgraph.remove_output(idx)
    remove_view_rewrite.apply(fgraph)
    return fgraph, memo


def _check_convertible(model: pm.Model) -> None:
    """The refusals and the warning of PyMC's ``fgraph_from_model``, word for word."""
    if any(v is not None for v in model.rvs_to_initial_values.values()):
        raise NotImplementedError("Cannot convert models with non-default initial_values")
    if model.parent is not None:
        raise ValueError("Nested sub-models cannot be converted to fgraph")
    if any(("_rotated_" in n or "_hsgp_coeffs_" in n) for n in model.named_vars):
        warnings.warn(
            "Detected variables likely created by GP objects. Further use of these old GP "
            "objects should be avoided as it may reintroduce variables from the old model. "
            "See issue: https://github.com/pymc-devs/pymc/issues/6883",
            UserWarning,
            stacklevel=4,  # the caller of apply_plan
        )


def _cloned_fgraph(model: pm.Model, model_vars: list) -> tuple[FunctionGraph, dict]:
    """A FunctionGraph of a copy of ``model_vars``, and the memo original -> copy."""
    # Fresh copies of RNGs, data and symbolic coordinate lengths
    shared = find_rng_nodes(model_vars)
    shared += [v for v in model.dim_lengths.values() if isinstance(v, SharedVariable)]
    shared += [v for v in model.named_vars.values() if isinstance(v, SharedVariable)]
    memo = {var: deepcopy_shared_variable(var) for var in shared}
    fgraph = _LinearFunctionGraph(
        outputs=model_vars, clone=True, memo=memo, copy_orphans=True, copy_inputs=True
    )
    fgraph._coords = model._coords.copy()
    fgraph._dim_lengths = {k: memo.get(v, v) for k, v in model._dim_lengths.items()}
    return fgraph, memo


def _model_var_replacements(
    model: pm.Model, fgraph: FunctionGraph, memo: dict, dets: list, named_vars: list
) -> tuple:
    """(output, the output wrapped in its model op: ModelFreeRV, ModelDeterministic, ...)."""
    free, observed = set(model.free_RVs), set(model.observed_RVs)
    to_value = {memo[k]: memo[v] for k, v in model.rvs_to_values.items()}
    transforms = {memo[k]: tr for k, tr in model.rvs_to_transforms.items()}
    potentials = {memo[k] for k in model.potentials}
    deterministics = {memo[k] for k in dets}
    named = {memo[k] for k in named_vars}
    free = {memo[k] for k in free}
    observed = {memo[k] for k in observed}
    dims_of = model.named_vars_to_dims
    new_vars = []
    for var in fgraph.outputs:
        name, dims = var.name, dims_of.get(var.name, ())
        if var in free:
            new_var = model_free_rv(var, to_value[var], transforms[var], name, *dims)
        elif var in observed:
            new_var = model_observed_rv(var, to_value[var], name, *dims)
        elif var in potentials:
            new_var = model_potential(var, name, *dims)
        elif var in deterministics:
            new_var = model_deterministic(var, name, *dims)
        elif var in named:
            new_var = model_named(var, name, *dims)
        else:  # unnamed value variables
            new_var = var
        new_vars.append(new_var)
    return tuple(zip(fgraph.outputs, new_vars, strict=True))


def _replacement(model_var: Variable, d) -> tuple[Variable, Variable | None]:
    """``ModelDeterministic(x)`` of the forward map of a new standardized free variable, and
    the guard's log density when the plan asks for one (decenter.families._guard)."""
    rv = model_var.owner.inputs[0]
    rule = find_rule(rv)
    ls = rule.read(rv)
    guard = None
    if d.guard:
        ls, ok = guarded(rule, ls)
        guard = guard_logp(ok)
    lam, kw = None, {}
    if d.lam is not None:
        lam = pt.as_tensor(np.asarray(d.lam, dtype=rv.dtype))
        if d.unit is not None:  # only then: a registered rule may not take ``unit``
            kw["unit"] = pt.as_tensor(np.asarray(d.unit, dtype=rv.dtype))
    eta = rule.standard(rv, ls, lam, **kw)
    eta.name = d.new_name
    transform = default_transform(eta)
    value_name = d.new_name if transform is None else get_transformed_name(d.new_name, transform)
    # the value lives in the transformed space, whose shape may differ (ZeroSumTransform)
    value_type = eta.type if transform is None else transform.forward(eta, *eta.owner.inputs).type
    eta_var = model_free_rv(eta, value_type(name=value_name), transform, d.new_name, *d.dims)
    x = pt.cast(rule.forward(ls, eta_var, lam, **kw), rv.dtype)
    return model_deterministic(x, d.name, *d.dims), guard


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
