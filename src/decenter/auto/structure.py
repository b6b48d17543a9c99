"""Which parts of a model see each other: what keeps the Laplace fit linear in its size.

A model of many independent hierarchies (one per country, per item group, ...) has a log
density that is a sum of parts over disjoint sets of free variables, and a block-diagonal
Hessian. :func:`components` finds those sets from the model's graph; :func:`dependencies`
lists, per expression, the value variables it uses. :mod:`decenter.auto.covariance` then moves
many coordinates in one finite difference instead of one coordinate per difference.

Examples
--------
>>> import pymc as pm
>>> from decenter.auto.structure import components
>>> with pm.Model() as m:
...     for i in range(2):
...         tau = pm.HalfNormal(f"tau_{i}")
...         x = pm.Normal(f"x_{i}", 0, tau, shape=3)
...         y = pm.Normal(f"y_{i}", x, 1.0, observed=[0.0, 1.0, 2.0])
>>> components(m)
[[0, 1], [2, 3]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.traversal import toposort, walk

from decenter.core.graph import data_value, model_graph, value_inputs

__all__ = ["components", "data_size", "dependencies", "tree_sum"]


def components(model: pm.Model, joined: Sequence[Sequence[int]] = ()) -> list[list[int]]:
    """Groups of free variables (indices in ``model.free_RVs``) whose log density terms never
    share a variable with another group's: each free, observed or potential term joins the
    free variables it depends on (through Deterministics and other named tensors), and so
    does each entry of ``joined`` (terms added to the density outside the model)."""
    g = model_graph(model)
    free = {rv.name: i for i, rv in enumerate(model.free_RVs)}
    parent = list(range(len(free)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for name, kind in g.nodes(data="kind"):
        if kind not in ("free", "observed", "potential"):
            continue
        members = _free_ancestors(g, name)
        if kind == "free":
            members.add(name)
        ids = [root(free[m]) for m in members if m in free]
        for i in ids[1:]:
            parent[root(i)] = root(ids[0])
    for ids in joined:
        for i in ids[1:]:
            parent[root(i)] = root(ids[0])
    groups: dict[int, list[int]] = {}
    for i in range(len(free)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def _free_ancestors(g, name: str) -> set[str]:
    """The nearest free variables above ``name``, looking through variables that are not free."""
    found: set[str] = set()
    stack, seen = list(g.predecessors(name)), set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if g.nodes[node]["kind"] == "free":
            found.add(node)
        else:
            stack.extend(g.predecessors(node))
    return found


def dependencies(exprs: Sequence[Variable], inputs: Sequence[Variable]) -> list[list[int]]:
    """Per expression, the positions in ``inputs`` of the inputs it depends on.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> a, b = pt.scalar("a"), pt.scalar("b")
    >>> dependencies([a + 1, a * b, pt.constant(2.0)], [a, b])
    [[0], [0, 1], []]
    """
    where = {v: i for i, v in enumerate(inputs)}
    # not through an input read for a shape only: a scale broadcast to its variable's shape
    # does not depend on the variable's values (counted, the scales' Jacobian moved every
    # element in a finite difference of its own: 2,973 on InstEval, 0.57 s, against one)
    return [
        sorted(where[v] for v in walk([e], value_inputs, bfs=False) if v in where) for e in exprs
    ]


def tree_sum(terms: Sequence[Variable]) -> Variable:
    """The sum of the terms (each summed to a scalar) as a balanced tree of binary additions.

    PyMC adds a model's terms in one node with as many inputs as terms; compiled to C, its
    code is specific to that number and compiled anew for every model size (minutes for a few
    hundred variables). Binary additions share one compiled module whatever the size.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> tree_sum([pt.constant([1.0, 2.0]), pt.constant(3.0), pt.constant(4.0)]).eval()
    array(10.)
    """
    level = [pt.as_tensor(t).sum() for t in terms]
    if not level:
        return pt.zeros(())
    while len(level) > 1:
        pairs = [a + b for a, b in zip(level[::2], level[1::2], strict=False)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def unshare_constants(outputs: Sequence[Variable], above: int = 16) -> list[Variable]:
    """The graph of ``outputs`` in which a one-element constant used by more than ``above``
    nodes (counted by value: PyTensor compares constants by their data) is a copy of its own at
    each use (the nodes using it, and what depends on them, cloned; the given graph is not
    modified). The same computation.

    PyTensor keeps each variable's clients in a list, and a graph rewrite that replaces a
    node removes it from the list of each of its inputs: for a constant shared by every term
    of a large model (``1.0``, tens of thousands of clients at n = 600), quadratic.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from pytensor.graph.traversal import toposort
    >>> x, one = pt.vector("x"), pt.constant(1.0)
    >>> outs = unshare_constants([x + one, x * one], above=1)
    >>> [sum(i is one for node in toposort([o]) for i in node.inputs) for o in outs]
    [0, 0]
    >>> [o.eval({x: [2.0]}).tolist() for o in outs]
    [[3.0], [2.0]]
    """
    nodes = list(toposort(outputs))
    uses: dict[Variable, int] = {}
    for node in nodes:
        for i in node.inputs:
            if isinstance(i, Constant) and np.size(i.data) == 1:
                uses[i] = uses.get(i, 0) + 1
    shared = {c for c, n in uses.items() if n > above}
    equiv: dict[Variable, Variable] = {}
    for node in nodes:
        inputs = [equiv.get(i, _copy(i) if i in shared else i) for i in node.inputs]
        if any(a is not b for a, b in zip(inputs, node.inputs, strict=True)):
            equiv.update(zip(node.outputs, node.clone_with_new_inputs(inputs).outputs, strict=True))
    return [equiv.get(o, o) for o in outputs]


def _copy(c: Constant) -> Constant:
    """A new constant of the same type and data (``Constant.clone`` returns the constant)."""
    return type(c)(c.type, c.data, name=c.name)


def data_size(model: pm.Model, obs) -> float:
    """The number of observed values of ``obs`` (infinite if they are not plain data).

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model() as m:
    ...     y = pm.Normal("y", 0, 1, observed=[0.5, -0.2, 0.1])
    >>> data_size(m, y)
    3
    """
    value = data_value(model.rvs_to_values[obs])
    return np.inf if value is None else np.size(value)
