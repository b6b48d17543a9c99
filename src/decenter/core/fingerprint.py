"""What a plan knows of the model it was made for, to refuse applying it to another model.

A :class:`decenter.core.plan.Plan` stores the fingerprint of its model: per free variable its name,
family, shape, value transform and the named variables its definition uses. Applying the
plan (``decenter.transform(model, plan=p)``) first compares it with the model's own, so that a
plan is never silently applied to a model it was not made for (other data shapes, another
hierarchy). It costs one walk over the model's graph and no compilation.

Examples
--------
>>> import pymc as pm
>>> from decenter.core.fingerprint import fingerprint, mismatch
>>> with pm.Model() as a:
...     tau = pm.HalfNormal("tau")
...     x = pm.Normal("x", 0, tau, shape=3)
>>> with pm.Model() as b:
...     tau = pm.HalfNormal("tau")
...     x = pm.Normal("x", 0, tau, shape=4)
>>> mismatch(fingerprint(a), fingerprint(a)) is None
True
>>> mismatch(fingerprint(a), fingerprint(b))
"free variable 'x' has shape (3,) in the plan's model and (4,) in this one"
"""

from __future__ import annotations

from typing import NamedTuple

import networkx as nx
import pymc as pm

from decenter.core.graph import data_value, model_graph
from decenter.core.reasons import _family_name
from decenter.core.strategy import _static_shape

__all__ = ["VarPrint", "fingerprint", "mismatch", "check_plan"]


class VarPrint(NamedTuple):
    """One free variable as a plan sees it."""

    name: str
    family: str
    shape: tuple[int, ...] | None
    transform: str
    parents: tuple[str, ...]


def _dim_length(length) -> int | None:
    """A coordinate's length without compiling: shared value, constant data, or None."""
    value = data_value(length)
    return None if value is None or value.size != 1 else int(value)


def _shape(model: pm.Model, rv, lengths: dict) -> tuple[int, ...] | None:
    if all(s is not None for s in rv.type.shape):
        return tuple(int(s) for s in rv.type.shape)
    dims = model.named_vars_to_dims.get(rv.name) or ()
    if dims and len(dims) == rv.type.ndim:
        for d in dims:
            if d not in lengths:
                lengths[d] = _dim_length(model.dim_lengths[d])
        shape = tuple(lengths[d] for d in dims)
        if all(s is not None for s in shape):
            return shape
    return _static_shape(rv)


def fingerprint(
    model: pm.Model, graph: nx.DiGraph | None = None, families: dict[str, str] | None = None
) -> tuple[VarPrint, ...]:
    """The model's free variables as :class:`VarPrint`, in the model's order.

    Pass the ``graph`` of :func:`decenter.core.graph.model_graph` if it is already built, and
    the ``families`` by name if they are known (a plan's decisions).
    """
    families = families or {}
    g = model_graph(model) if graph is None else graph
    lengths: dict = {}
    out = []
    for rv in model.free_RVs:
        tr = model.rvs_to_transforms.get(rv)
        out.append(
            VarPrint(
                name=rv.name,
                family=families.get(rv.name) or _family_name(rv),
                shape=_shape(model, rv, lengths),
                transform="none" if tr is None else type(tr).__name__,
                parents=tuple(sorted(g.predecessors(rv.name))),
            )
        )
    return tuple(out)


def mismatch(planned: tuple[VarPrint, ...], actual: tuple[VarPrint, ...]) -> str | None:
    """The first difference between two fingerprints, in words; None if they are the same."""
    if planned == actual:
        return None
    names_p, names_a = [v.name for v in planned], [v.name for v in actual]
    if names_p != names_a:
        extra = [n for n in names_a if n not in names_p]
        missing = [n for n in names_p if n not in names_a]
        if extra or missing:
            return (
                f"the free variables differ (this model has {extra or 'no others'}, "
                f"the plan's model had {missing or 'no others'})"
            )
        return "the free variables are in another order"
    for p, a in zip(planned, actual, strict=True):
        for field in ("family", "shape", "transform", "parents"):
            if getattr(p, field) != getattr(a, field):
                return (
                    f"free variable {p.name!r} has {field} {getattr(p, field)!r} in the plan's "
                    f"model and {getattr(a, field)!r} in this one"
                )
    return "the free variables differ"


def check_plan(model: pm.Model, plan) -> None:
    """Raise a ValueError saying what to do if ``plan`` was not made for ``model``."""
    actual = fingerprint(model)
    if plan.fingerprint:
        why = mismatch(plan.fingerprint, actual)
    else:  # a Plan built by hand: its decisions must still name this model's free variables
        names = [d.name for d in plan.decisions]
        why = None if names == [v.name for v in actual] else "its variables are not this model's"
    if why:
        raise ValueError(
            f"this plan was made for another model: {why}. Make the plan from this model "
            "(decenter.plan(model)), or call decenter.transform(model) without plan="
        )
