"""The Jacobian of the map u -> y(u) in blocks: which blocks, and their log-determinants.

The rows are the original's free variables (on its unconstrained space), the columns the
candidate's value variables. A block-triangular order (found from the graph) makes the
log-determinant the sum of the diagonal blocks'; a block is tested for being diagonal (the
usual case: elementwise maps) or per-row (MvNormal offsets) before any dense Jacobian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
from pytensor.graph.basic import Variable
from pytensor.graph.traversal import walk
from pytensor.tensor.shape import Shape, Shape_i

__all__ = ["Block", "dependencies", "blocks", "diag_ok", "logabsdet", "block_summary"]


def dependencies(expr: Variable, targets: set[Variable]) -> set[Variable]:
    """The targets that ``expr`` depends on by value (shape-only uses do not count)."""
    found: set[Variable] = set()

    def expand(x):
        if x in targets:
            found.add(x)
            return []
        if x.owner is None or isinstance(x.owner.op, Shape | Shape_i):
            return []
        return x.owner.inputs

    for _ in walk([expr], expand):
        pass
    return found


@dataclass
class Block:
    """A diagonal block of dy/du in block-triangular order: original rows, candidate columns."""

    rows: list[int]
    cols: list[int]
    kind: str  # "diagonal?", "diagonal", "rows", "dense", "too large"
    size: int
    outputs: slice | None = None  # where its outputs sit in the compiled function's results
    weights: np.ndarray | None = None


def blocks(
    deps: dict[int, set[int]], size_o: dict[int, int], size_c: dict[int, int]
) -> tuple[list[Block], bool]:
    """Split the Jacobian into the diagonal blocks of a block-triangular form.

    Rows (original variables) are matched to columns (candidate value variables) of the same
    size that they depend on; with a perfect matching, the strongly connected components of
    "row i uses the column matched to row j" are the diagonal blocks, and det = prod of their
    determinants. Without one, the whole Jacobian is a single block.
    """
    rows, cols = list(size_o), list(size_c)
    g = nx.Graph()
    top = [("o", i) for i in rows]
    g.add_nodes_from(top)
    g.add_nodes_from(("c", j) for j in cols)
    g.add_edges_from((("o", i), ("c", j)) for i in rows for j in deps[i] if size_o[i] == size_c[j])
    match = nx.bipartite.hopcroft_karp_matching(g, top_nodes=top)
    perfect = len(rows) == len(cols) and all(("o", i) in match for i in rows)
    if not perfect:
        total = sum(size_o.values())
        return [Block(rows, cols, "dense", total)], False
    col_row = {match[("o", i)][1]: i for i in rows}
    dg = nx.DiGraph()
    dg.add_nodes_from(rows)
    dg.add_edges_from((col_row[j], i) for i in rows for j in deps[i] if col_row[j] != i)
    out = []
    for comp in nx.strongly_connected_components(dg):
        b_rows = sorted(comp)
        b_cols = [match[("o", i)][1] for i in b_rows]
        size = sum(size_o[i] for i in b_rows)
        kind = "diagonal?" if len(b_rows) == 1 else "dense"
        out.append(Block(b_rows, b_cols, kind, size))
    out.sort(key=lambda b: b.rows[0])
    return out, True


def diag_ok(colsum: np.ndarray, wvjp: np.ndarray, w: np.ndarray, rtol: float) -> bool:
    """J^T w == w * (1^T J) for a random w holds (generically) only when J is diagonal."""
    expect = w.ravel() * colsum.ravel()
    got = wvjp.ravel()
    if not (np.all(np.isfinite(expect)) and np.all(np.isfinite(got))):
        return True  # a non-finite Jacobian fails the logp comparison anyway
    scale = max(np.max(np.abs(expect), initial=0.0), np.max(np.abs(got), initial=0.0))
    return bool(np.max(np.abs(got - expect), initial=0.0) <= rtol * scale + 1e-300)


def logabsdet(mat: np.ndarray) -> float:
    if not np.all(np.isfinite(mat)):
        return math.nan
    return float(np.sum(np.linalg.slogdet(mat)[1]))


def block_summary(bs: list[Block]) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in bs:
        out[b.kind] = out.get(b.kind, 0) + 1
    return out
