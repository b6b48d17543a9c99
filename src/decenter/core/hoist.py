"""Group-level terms of a linear predictor moved into the group variable's location.

A group-level variable ``u ~ D(loc, scale)`` that enters a likelihood as ``... + u[g] + T``,
where the term ``T`` takes one value per group of ``g`` (an intercept, a predictor constant
within each group, the effect of a coarser, nesting factor ``v[h]``), is partially centered
around ``loc + c`` instead of ``loc``, with ``c`` the term's value per group: the new free
variable stands for ``u + c``, and ``u = (u + c) - c`` keeps its name, so the likelihood is
untouched. This is hierarchical centering with group-level covariates (Gelfand, Sahu and
Carlin 1995): a shift by a function of *other* variables, so the Jacobian is 1 and the
model is the same for any ``c``; a well-chosen ``c`` removes the ridge between ``u`` and the
terms it is confounded with. At lam = 0 the shift cancels (the non-centered form is the same).

Examples
--------
>>> import numpy as np, pymc as pm
>>> from decenter.core.hoist import find_terms
>>> g = np.array([0, 0, 1, 1, 2])
>>> x = np.column_stack([[1.0, 1, 0, 0, 1], [0.3, 0.1, 0.5, 0.2, 0.9]])  # column 0 per group
>>> with pm.Model() as m:
...     a0 = pm.Normal("a0")
...     beta = pm.Normal("beta", shape=2)
...     s = pm.HalfNormal("s")
...     u = pm.Normal("u", 0, s, shape=3)
...     y = pm.Normal("y", a0 + pm.math.dot(x, beta) + u[g], 1, observed=np.zeros(5))
>>> [t.text for t in find_terms(m, ["u"])["u"]]
['a0', 'X[:, 0] @ beta[0]']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pymc as pm
import pytensor.scalar as ps
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph import ancestors
from pytensor.graph.basic import Constant, Variable
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.math import Dot
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.subtensor import AdvancedSubtensor

from decenter.core.exprtext import describe

__all__ = ["Term", "find_terms", "shift"]


@dataclass(frozen=True, eq=False)
class Term:
    """One term moved into a variable's location, and how to read its value per group."""

    text: str
    #: the term as the likelihood computes it (a leaf of its sum), per observation or scalar
    leaf: Variable | None = None
    #: the first observation of each group (None: the term is a scalar)
    first: np.ndarray | None = None
    #: 1.0 for groups with observations, 0.0 for the rest (None: every group has some)
    seen: np.ndarray | None = None
    #: columns of a data matrix times a coefficient vector: ``x_first[:, cols] @ beta[cols]``
    beta: Variable | None = None
    x_first: np.ndarray | None = None
    cols: tuple[int, ...] = ()


def find_terms(
    model: pm.Model, names: Iterable[str], shapes: Mapping[str, tuple] | None = None
) -> dict[str, list[Term]]:
    """For each named free variable, the terms that can move into its location (maybe none).

    A variable qualifies when it enters exactly one sum of one likelihood, as ``u[g]`` with
    ``g`` constant integer data (or as ``u`` itself, one element per observation). A term of
    that sum qualifies when its value is the same for every observation of a group whatever
    the parameters (checked on the graph and the data: scalars, data constant within groups,
    ``v[h]`` with ``h`` constant within groups, elementwise combinations of those), when it
    does not depend on ``u``, and when moving it creates no cycle between variables. Of a
    data-matrix product ``X @ beta``, the columns constant within groups move. ``shapes``:
    the variables' shapes where known (a plan's), so that none is evaluated.

    A term that variables of crossed factors could each take stays where it is; nested
    factors all take it (the finer one's shift then reads the coarser one's total: the
    classic nested centering).
    """
    names = list(names)
    wanted = {model[n]: n for n in names}
    free = set(model.free_RVs)
    occurrences = _occurrences(model, set(wanted))
    deps = _Deps(free)
    order = nx.DiGraph()
    found: dict[str, list[Term]] = {n: [] for n in names}
    for rv, name in wanted.items():
        occ = occurrences.get(rv)
        if occ is None or rv.type.ndim != 1:
            continue
        groups, others = occ
        n_groups = _length(rv, (shapes or {}).get(name))
        if n_groups is None or groups.max(initial=-1) >= n_groups:
            continue
        first, seen = _firsts(groups, n_groups)
        crossed = _crossed_factors(groups, others, deps)
        for leaf in others:
            if rv in deps(leaf) or not deps(leaf):
                continue  # a term of rv itself, or a constant: nothing to move
            term = _term(leaf, groups, first, seen, free, set(wanted), crossed)
            if term is None:
                continue
            used = deps(term.leaf if term.beta is None else term.beta) & set(wanted)
            if order.has_node(rv) and any(
                order.has_node(u) and nx.has_path(order, u, rv) for u in used
            ):
                continue  # u's shift already reads rv: moving this term would make a cycle
            order.add_edges_from((rv, u) for u in used)
            found[name].append(term)
    return found


def _crossed_factors(groups: np.ndarray, others: list, deps) -> list[tuple[np.ndarray, np.ndarray]]:
    """The other group effects of the sum whose factor is crossed with ``groups`` (neither
    refines the other), as (group per observation, first observation per group). A factor
    is a random effect: a vector with random parameters, or an expression (a Deterministic);
    a fixed effect (a free vector of constant parameters, as cbpp's period effects) is not.

    A term one value per group of both stays where it is: for crossed factors no shift
    removes the ridge, and giving penicillin's intercept to its plates made it 0.65x. Nested
    factors can all take it (the finer one's shift reads the coarser one's total)."""
    out = []
    for leaf in others:
        gather = _gather(leaf)
        if gather is None or not _random_effect(gather[0], deps):
            continue
        h = gather[1]
        if h.shape == groups.shape and not _nested(groups, h):
            out.append((h, _firsts(h, int(h.max()) + 1)[0]))
    return out


def _random_effect(v: Variable, deps) -> bool:
    """A vector with random parameters, or an expression of several free variables (a
    rewritten effect, ``sigma * offset``); not data (a predictor) nor a vector of constant
    parameters (a fixed effect)."""
    inner = deps(v)
    return any(len(deps(r)) > 1 for r in inner) or len(inner) > 1


def _nested(ga: np.ndarray, gb: np.ndarray) -> bool:
    """Whether one grouping refines the other on the same observations."""
    # the distinct (a, b) pairs as one integer each: np.unique over columns sorts rows of
    # bytes (38 ms per call on InstEval's 73,421 ratings, 12 calls per plan)
    a, b = (np.asarray(g, dtype=np.int64) - np.min(g, initial=0) for g in (ga, gb))
    pairs = np.unique(a * (int(b.max(initial=0)) + 1) + b).size
    return pairs in (np.unique(a).size, np.unique(b).size)


def shift(terms: list[Term], mapped: Callable[[Variable], Variable]) -> Variable:
    """The sum of the terms' values per group, in the graph ``mapped`` gives (the rewrite's)."""
    total = None
    for t in terms:
        if t.beta is not None:
            cols = np.asarray(t.cols)
            value = pt.dot(pt.constant(t.x_first), mapped(t.beta)[cols])
        elif t.first is None:
            value = mapped(t.leaf)
            value = value.squeeze() if value.ndim else value
        else:
            value = mapped(t.leaf)[pt.constant(t.first)]
            if t.seen is not None:  # groups without observations: any value is exact, 0 is plain
                value = value * pt.constant(t.seen)
        total = value if total is None else total + value
    return total


def _occurrences(model: pm.Model, wanted: set) -> dict[Variable, tuple]:
    """For each wanted variable used in exactly one sum of the likelihoods: its group index
    per observation and the other leaves of that sum."""
    seen: dict[Variable, list] = {}
    for root in _sum_roots(model):
        leaves = _leaves(root)
        for leaf in leaves:
            hit = _gathered(leaf, wanted, root)
            if hit is not None:
                rv, groups = hit
                others = [x for x in leaves if x is not leaf]
                seen.setdefault(rv, []).append((groups, others))
    return {rv: occ[0] for rv, occ in seen.items() if len(occ) == 1}


def _sum_roots(model: pm.Model) -> list[Variable]:
    """The outermost sums in the likelihoods' parameters (not inside another sum)."""
    roots, stack, visited = [], [], set()
    for obs in model.observed_RVs:
        op = obs.owner.op  # pm.Minibatch wraps the likelihood in an op without dist_params
        stack.extend(op.dist_params(obs.owner) if hasattr(op, "dist_params") else obs.owner.inputs)
    while stack:
        var = stack.pop()
        if var in visited or var.owner is None or isinstance(var.owner.op, RandomVariable):
            continue
        visited.add(var)
        if _is_add(var):
            roots.append(var)
            continue
        stack.extend(var.owner.inputs)
    return roots


def _is_add(var: Variable) -> bool:
    op = var.owner.op if var.owner is not None else None
    return isinstance(op, Elemwise) and isinstance(op.scalar_op, ps.Add)


def _leaves(var: Variable) -> list[Variable]:
    if _is_add(var):
        return [leaf for x in var.owner.inputs for leaf in _leaves(x)]
    return [var]


def _gathered(leaf: Variable, wanted: set, root: Variable) -> tuple[Variable, np.ndarray] | None:
    """``(u, g)`` if the leaf is ``u[g]`` (or ``u`` itself, one element per observation)."""
    if leaf in wanted and root.type.ndim == 1 and leaf.type.ndim == 1:
        n = root.type.shape[0] if root.type.shape[0] is not None else leaf.type.shape[0]
        return (leaf, np.arange(n)) if n is not None else None
    index = _gather(leaf)
    if index is None or index[0] not in wanted:
        return None
    return index


def _gather(var: Variable) -> tuple[Variable, np.ndarray] | None:
    """``(v, h)`` if ``var`` is ``v[h]`` with ``v`` a vector and ``h`` integer data."""
    node = var.owner
    if node is None or not isinstance(node.op, AdvancedSubtensor):
        return None
    if len(node.inputs) != 2 or node.inputs[0].type.ndim != 1:
        return None
    h = _data(node.inputs[1])
    if h is None or h.ndim != 1 or h.dtype.kind not in "iu":
        return None
    return node.inputs[0], h


def _data(var: Variable) -> np.ndarray | None:
    """The value of constant or ``pm.Data`` input, else None."""
    if isinstance(var, Constant):
        return np.asarray(var.data)
    if isinstance(var, SharedVariable) and not isinstance(var.type, pt.random.type.RandomType):
        return np.asarray(var.get_value(borrow=True))
    return None


def _term(leaf, groups, first, seen, free, wanted, crossed) -> Term | None:
    if any(_constant_within(leaf, h, f, free) for h, f in crossed):
        return None  # a crossed factor could take it as well: it stays
    if _constant_within(leaf, groups, first, free):
        if leaf.type.ndim == 0 or all(leaf.type.broadcastable):
            return Term(_text(leaf), leaf)
        return Term(_text(leaf), leaf, first, seen)
    return _columns(leaf, groups, first, free, wanted, crossed)


def _constant_within(var, groups, first, free, depth: int = 8) -> bool:
    """Whether ``var`` (per observation, or broadcast) has one value per group for any
    values of the free variables."""
    if var.type.ndim == 0 or all(var.type.broadcastable):
        return True
    if var.type.ndim != 1 or depth == 0:
        return False
    data = _data(var)
    if data is not None:
        return data.shape[0] == groups.shape[0] and _per_group(data, groups, first)
    if var.owner is None or var in free:
        return False
    gather = _gather(var)
    if gather is not None:
        return gather[1].shape[0] == groups.shape[0] and _per_group(gather[1], groups, first)
    op = var.owner.op
    if isinstance(op, Elemwise) or (isinstance(op, DimShuffle) and var.owner.inputs[0].ndim <= 1):
        return all(_constant_within(x, groups, first, free, depth - 1) for x in var.owner.inputs)
    return False


def _per_group(values: np.ndarray, groups: np.ndarray, first: np.ndarray) -> bool:
    return bool(np.array_equal(values, values[first[groups]]))


def _columns(leaf, groups, first, free, wanted, crossed) -> Term | None:
    """The columns of ``X @ beta`` (X data) constant within groups, as one term."""
    node = leaf.owner
    # PyTensor writes a matrix-vector product as squeeze(dot(X, b[:, None]))
    if node is not None and isinstance(node.op, DimShuffle) and node.inputs[0].owner is not None:
        node = node.inputs[0].owner
    if node is None or not isinstance(getattr(node.op, "core_op", node.op), Dot):
        return None  # x @ b is a Blockwise of Dot
    x, b = node.inputs
    if b.owner is not None and isinstance(b.owner.op, DimShuffle):
        b = b.owner.inputs[0]
    data = _data(x)
    if data is None or data.ndim != 2 or data.shape[0] != groups.shape[0]:
        return None
    if b not in free or b in wanted or b.type.ndim != 1:
        return None  # a rewritten coefficient would be read before its own replacement
    cols = tuple(
        j
        for j in range(data.shape[1])
        if _per_group(data[:, j], groups, first)
        and not any(_per_group(data[:, j], h, f) for h, f in crossed)
    )
    if not cols:
        return None
    name = x.name or "X"
    if len(cols) == data.shape[1]:
        text = f"{name} @ {b.name}"
    else:
        text = f"{name}[:, {_labels(cols)}] @ {b.name}[{_labels(cols)}]"
    return Term(text, None, beta=b, x_first=data[first][:, cols], cols=cols)


def _labels(cols: tuple[int, ...]) -> str:
    """NumPy's index of the columns: ``1`` for one, ``[0, 2]`` for several."""
    return str(cols[0]) if len(cols) == 1 else "[" + ", ".join(str(j) for j in cols) + "]"


def _text(leaf: Variable) -> str:
    node = leaf.owner
    if node is not None and isinstance(node.op, DimShuffle) and all(leaf.type.broadcastable):
        leaf = node.inputs[0]  # a broadcast scalar reads as the scalar
    return re.sub(r"array of shape \(\d+,\)", "data", describe(leaf))


def _firsts(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Each group's first observation (0 where it has none), and which groups have one."""
    first = np.zeros(n_groups, dtype=np.int64)
    rows = np.arange(groups.shape[0])
    first[groups[::-1]] = rows[::-1]
    has = np.zeros(n_groups, dtype=bool)
    has[groups] = True
    return first, (None if has.all() else has.astype(float))


def _length(rv: Variable, shape: tuple | None) -> int | None:
    if shape:
        return int(shape[0])
    if rv.type.shape[0] is not None:
        return int(rv.type.shape[0])
    try:
        return int(rv.shape[0].eval())
    except Exception:  # a length that cannot be evaluated alone: nothing moves
        return None


class _Deps:
    """The free variables a variable depends on (through other variables' parameters too)."""

    def __init__(self, free: set) -> None:
        self.free = free
        self.memo: dict[Variable, frozenset] = {}

    def __call__(self, var: Variable) -> frozenset:
        if var not in self.memo:
            self.memo[var] = frozenset(a for a in ancestors([var]) if a in self.free)
        return self.memo[var]
