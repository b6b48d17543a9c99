"""The model as a networkx DAG of named variables, and ancestry questions over it.

Nodes are the model's named variables with a ``kind`` attribute (``"free"``, ``"observed"``,
``"deterministic"``, ``"potential"``, ``"data"``) and their ``dims``. There is an edge ``u -> v``
when the definition of ``v`` uses ``u``, directly or through unnamed intermediate tensors.

Examples
--------
>>> import pymc as pm
>>> from decenter.core.graph import model_graph, free_parents
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
import numpy as np
import pymc as pm
from pytensor.graph.basic import Variable
from pytensor.graph.traversal import walk
from pytensor.scalar import Second
from pytensor.tensor.elemwise import Elemwise
from pytensor.tensor.shape import Shape, Shape_i

__all__ = [
    "model_graph",
    "named_parents",
    "free_parents",
    "var_kind",
    "value_inputs",
    "data_value",
]


def value_inputs(var: Variable) -> list[Variable]:
    """The inputs of ``var``'s node that its values depend on: not those read for a shape only
    (``x.shape``; ``fill(x, v)``, as in ``ones_like(x)``, takes its values from ``v``)."""
    node = var.owner
    if node is None or isinstance(node.op, Shape | Shape_i):
        return []
    if isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Second):
        return [node.inputs[1]]
    return list(node.inputs)


def data_value(var: Variable) -> np.ndarray | None:
    """The numbers of a ``pm.Data`` (shared) or constant variable, without compiling; None for
    a computed one."""
    if hasattr(var, "get_value"):
        return np.asarray(var.get_value(borrow=True))
    if hasattr(var, "data"):
        return np.asarray(var.data)
    return None


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


class _Index:
    """Lookups over one model, built once: names, value variables and kinds of its variables.

    Every ancestry question asked during one planning pass reuses it, so the pass stays
    linear in the number of variables (rebuilding these dicts per question is quadratic).
    """

    def __init__(self, model: pm.Model):
        self.named = {v: name for name, v in model.named_vars.items()}
        self.values = {val: rv for rv, val in model.rvs_to_values.items()}
        self.kind = {}
        for kind, group in [
            ("data", model.named_vars.values()),
            ("potential", model.potentials),
            ("deterministic", model.deterministics),
            ("observed", model.observed_RVs),
            ("free", model.free_RVs),  # last wins, as in var_kind's order
        ]:
            self.kind.update(dict.fromkeys(group, kind))
        self.basic = set(model.free_RVs) | set(model.observed_RVs)

    def parents(self, exprs: Iterable[Variable]) -> list[str]:
        named, values = self.named, self.values

        def expand(x):
            return [] if x in named or x in values else value_inputs(x)

        found: dict[str, None] = {}  # ordered set
        for x in walk(list(exprs), expand):
            var = values.get(x, x)
            if var in named:
                found.setdefault(named[var])
        return list(found)


def named_parents(model: pm.Model, exprs: Iterable[Variable]) -> list[str]:
    """Names of the model variables that the expressions use, through unnamed tensors.

    The walk stops at named variables and ignores shape-only dependencies (a ``size`` taken
    from a coordinate length is not a statistical dependency).
    """
    return _Index(model).parents(exprs)


def _definition_inputs(index: _Index, var: Variable) -> list[Variable]:
    if var.owner is None:
        return []
    if var in index.basic:
        # Skip the RNG and size inputs: they are not statistical parents.
        op = var.owner.op
        node = var.owner
        try:
            return list(op.dist_params(node))
        except Exception:
            return list(node.inputs)
    return list(var.owner.inputs)


def model_graph(model: pm.Model) -> nx.DiGraph:
    """The model as a DiGraph of named variables (see the module docstring).

    Built in one pass over the model; the lookups it used are kept in ``graph.graph["index"]``
    so that :func:`free_parents` answers from them.
    """
    index = _Index(model)
    g = nx.DiGraph(index=index)
    dims = model.named_vars_to_dims
    for name, var in model.named_vars.items():
        g.add_node(name, kind=index.kind[var], dims=tuple(dims.get(name) or ()))
    for name, var in model.named_vars.items():
        for parent in index.parents(_definition_inputs(index, var)):
            if parent != name:
                g.add_edge(parent, name)
    return g


def free_parents(model: pm.Model, expr: Variable, graph: nx.DiGraph | None = None) -> list[str]:
    """The nearest free random variables that ``expr`` depends on.

    The search looks through Deterministics and other named variables that are not free, and
    stops at the first free variable on each path. This answers "is this scale random?":
    ``free_parents(model, scale) != []``. Pass the ``graph`` of :func:`model_graph` when
    asking about many expressions of one model: the answer then costs only the walk.
    """
    g = model_graph(model) if graph is None else graph
    index = g.graph.get("index") or _Index(model)
    found: list[str] = []
    stack = list(reversed(index.parents([expr])))
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
