"""The model as a networkx DAG of named variables, and ancestry questions over it.

Nodes are the model's named variables with a ``kind`` attribute (``"free"``, ``"observed"``,
``"deterministic"``, ``"potential"``, ``"data"``) and their ``dims``. There is an edge ``u -> v``
when the definition of ``v`` uses ``u``, directly or through unnamed intermediate tensors.

Examples
--------
>>> import pymc as pm
>>> from decenter.graph import model_graph, free_parents
>>> with pm.Model() as m:
...     mu = pm.Normal("mu")
...     sigma = pm.HalfNormal("sigma")
...     b = pm.Normal("b", mu, sigma, shape=3)
>>> sorted(model_graph(m).predecessors("b"))
['mu', 'sigma']
>>> free_parents(m, m["b"].owner.inputs[-1])
['sigma']
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import pymc as pm
from pytensor.graph.basic import Variable
from pytensor.graph.traversal import walk
from pytensor.tensor.shape import Shape, Shape_i

__all__ = ["model_graph", "named_parents", "free_parents", "var_kind"]


def var_kind(model: pm.Model, var: Variable) -> str:
    """Kind of a named model variable: free, observed, deterministic, potential or data."""
    if var in model.free_RVs:
        return "free"
    if var in model.observed_RVs:
        return "observed"
    if var in model.deterministics:
        return "deterministic"
    if var in model.potentials:
        return "potential"
    return "data"


def named_parents(model: pm.Model, exprs: Iterable[Variable]) -> list[str]:
    """Names of the model variables that the expressions use, through unnamed tensors.

    The walk stops at named variables and ignores shape-only dependencies (a ``size`` taken
    from a coordinate length is not a statistical dependency).
    """
    named = {v: name for name, v in model.named_vars.items()}
    values = {val: rv for rv, val in model.rvs_to_values.items()}

    def expand(x):
        if x in named or x in values:
            return []
        if x.owner is None:
            return []
        if isinstance(x.owner.op, Shape | Shape_i):
            return []
        return x.owner.inputs

    found: list[str] = []
    for x in walk(list(exprs), expand):
        var = values.get(x, x)
        if var in named and named[var] not in found:
            found.append(named[var])
    return found


def _definition_inputs(model: pm.Model, var: Variable) -> list[Variable]:
    if var.owner is None:
        return []
    if var in model.basic_RVs:
        # Skip the RNG and size inputs: they are not statistical parents.
        op = var.owner.op
        node = var.owner
        try:
            return list(op.dist_params(node))
        except Exception:
            return list(node.inputs)
    return list(var.owner.inputs)


def model_graph(model: pm.Model) -> nx.DiGraph:
    """The model as a DiGraph of named variables (see the module docstring)."""
    g = nx.DiGraph()
    for name, var in model.named_vars.items():
        g.add_node(
            name, kind=var_kind(model, var), dims=tuple(model.named_vars_to_dims.get(name) or ())
        )
    for name, var in model.named_vars.items():
        for parent in named_parents(model, _definition_inputs(model, var)):
            if parent != name:
                g.add_edge(parent, name)
    return g


def free_parents(model: pm.Model, expr: Variable, graph: nx.DiGraph | None = None) -> list[str]:
    """The nearest free random variables that ``expr`` depends on.

    The search looks through Deterministics and other named variables that are not free, and
    stops at the first free variable on each path. This answers "is this scale random?":
    ``free_parents(model, scale) != []``.
    """
    g = model_graph(model) if graph is None else graph
    found: list[str] = []
    stack = list(reversed(named_parents(model, [expr])))
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if g.nodes[name]["kind"] == "free":
            found.append(name)
        else:
            stack.extend(reversed(list(g.predecessors(name))))
    return found
