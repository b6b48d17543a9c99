"""Prove that a reparameterized model is the same model as the original.

:func:`verify` runs three checks and returns a :class:`VerificationReport`:

``structure``
    Same observed variables with identical data, same dims and coordinates for the names both
    models share, the same number of unconstrained dimensions, and every free variable of the
    original present in the candidate under the same name (free or Deterministic) with the
    same shape.
``change_of_variables``
    The exact check. The candidate's free variables ``u`` (on their unconstrained space) define
    the original's free variables ``x(u)`` through the candidate's variables of the same names;
    the original's value transforms carry them to the original's unconstrained space ``y(u)``.
    At random points ``u``, ``logp_candidate(u) = logp_original(y(u)) + log|det dy/du| + c``
    must hold with the same constant ``c``. The Jacobian comes from automatic differentiation of
    the candidate's graph, never from a rewrite rule's formula, and its block structure (found
    from the graph) keeps the cost linear in the dimension for elementwise maps.
``distribution``
    Prior draws of every original variable (free, Deterministic, observed) agree between the
    two models: two-sample Kolmogorov-Smirnov tests on a few projections of each variable,
    with Holm's correction at family-wise level ``alpha``.

See ``docs/verification.md`` for what each check proves, what it cannot, and its cost.

Examples
--------
>>> import decenter
>>> from decenter.examples.eight_schools import centered_model, noncentered_model
>>> report = decenter.verify(centered_model(), noncentered_model(), random_seed=0)
>>> report.ok, report.failed
(True, [])
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import xarray as xr
from pymc.pytensorf import compile as compile_pymc
from pymc.pytensorf import rvs_in_graph
from pymc.sampling.forward import vectorize_over_posterior
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import walk
from pytensor.tensor.shape import Shape, Shape_i
from scipy import stats

from decenter._json import jsonable
from decenter.graph import var_kind

__all__ = ["Check", "VerificationReport", "verify", "distribution_tests", "prior_draws"]

CHECKS = ("structure", "change_of_variables", "distribution")

#: Compilation mode of every function verify compiles. Each candidate is a new graph: the
#: default numba backend would JIT-compile each for seconds, and the C backend compiles C code
#: for every new constant; FAST_COMPILE runs the ops' Python implementations at once.
MODE: Any = "FAST_COMPILE"


def _mode() -> Any:
    return MODE


# --- the report ------------------------------------------------------------------------------


@dataclass
class Check:
    """The outcome of one check.

    ``figure`` is the check's headline number: the number of problems (structure), the constant
    offset ``c`` (change_of_variables), the smallest Holm-adjusted p-value (distribution).
    ``details`` holds the rest (JSON-serialisable values).
    """

    name: str
    passed: bool
    figure: float | None
    message: str
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "name": self.name,
                "passed": bool(self.passed),
                "figure": None if self.figure is None else float(self.figure),
                "message": self.message,
                "seconds": round(float(self.seconds), 3),
                "details": self.details,
            }
        )


@dataclass
class VerificationReport:
    """All checks of one :func:`verify` call; ``ok`` when every check passed."""

    checks: list[Check]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[str]:
        """Names of the checks that did not pass."""
        return [c.name for c in self.checks if not c.passed]

    def __getitem__(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = "equivalent" if self.ok else "NOT equivalent (" + ", ".join(self.failed) + " failed)"
        lines = [f"decenter.verify: {head}"]
        width = max(len(c.name) for c in self.checks) if self.checks else 0
        for c in self.checks:
            status = "pass" if c.passed else "FAIL"
            first, *rest = c.message.splitlines() or [""]
            lines.append(f"  {status}  {c.name:<{width}}  {first}")
            lines += [" " * (width + 10) + line for line in rest]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [c.to_dict() for c in self.checks],
            "settings": jsonable(self.settings),
        }


# --- helpers ---------------------------------------------------------------------------------


def _dims(model: pm.Model, name: str) -> tuple:
    return tuple(model.named_vars_to_dims.get(name) or ())


def _value_of(var: Variable) -> np.ndarray:
    """The numbers behind observed data or a pm.Data variable."""
    if isinstance(var, Constant):
        return np.asarray(var.data)
    if hasattr(var, "get_value"):
        return np.asarray(var.get_value())
    return np.asarray(var.eval())


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _is_float(var: Variable) -> bool:
    return var.dtype.startswith("float")


def _seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _fmt(x: float) -> str:
    return f"{x:.3g}"


# --- structure -------------------------------------------------------------------------------


@dataclass
class _Structure:
    """What the structure check learnt; the exact check needs ``mappable``."""

    check: Check
    mappable: bool  # every original free variable has a same-shape counterpart, same dimension
    ip_original: dict[str, np.ndarray]
    ip_candidate: dict[str, np.ndarray]


def _evaluate(model: pm.Model, exprs: list[Variable], point: dict) -> list[np.ndarray]:
    if not exprs:
        return []
    outs = model.replace_rvs_by_values(exprs)
    fn = model.compile_fn(
        outs, inputs=model.value_vars, on_unused_input="ignore", point_fn=False, mode=_mode()
    )
    return [np.asarray(v) for v in fn(*[point[v.name] for v in model.value_vars])]


def _structure(original: pm.Model, candidate: pm.Model) -> _Structure:
    problems: list[str] = []
    mappable = True
    ip_o = original.initial_point()
    ip_c = candidate.initial_point()
    o_free = [rv.name for rv in original.free_RVs]

    # observed variables: same names, identical data
    obs_o = [rv.name for rv in original.observed_RVs]
    obs_c = [rv.name for rv in candidate.observed_RVs]
    for name in obs_o:
        if name not in obs_c:
            kind = var_kind(candidate, candidate[name]) if name in candidate.named_vars else None
            where = f"is {kind} in the candidate" if kind else "is missing from the candidate"
            problems.append(f"observed variable {name} {where}")
            continue
        a = _value_of(original.rvs_to_values[original[name]])
        b = _value_of(candidate.rvs_to_values[candidate[name]])
        if a.shape != b.shape:
            problems.append(f"observed variable {name}: data shape {a.shape} vs {b.shape}")
        elif not _same_array(a, b):
            same = a == b
            if a.dtype.kind == "f" and b.dtype.kind == "f":
                same |= np.isnan(a) & np.isnan(b)
            n = int(np.sum(~same))
            problems.append(f"observed variable {name}: data differ ({n} of {a.size} values)")
    for name in obs_c:
        if name not in obs_o:
            problems.append(
                f"observed variable {name} of the candidate is not observed in the original"
            )

    # free variables: present by name, as free or Deterministic, with the same shape and dtype
    present = []
    for name in o_free:
        if name not in candidate.named_vars:
            problems.append(f"{name}: free variable of the original is missing from the candidate")
            mappable = False
            continue
        kind = var_kind(candidate, candidate[name])
        if kind not in ("free", "deterministic"):
            problems.append(f"{name}: free in the original but {kind} in the candidate")
            mappable = False
            continue
        present.append(name)
    values_o = _evaluate(original, [original[n] for n in o_free], ip_o)
    shapes = {n: v.shape for n, v in zip(o_free, values_o, strict=True)}
    dtypes = {n: v.dtype for n, v in zip(o_free, values_o, strict=True)}
    try:
        values_c = _evaluate(candidate, [candidate[n] for n in present], ip_c)
    except Exception as err:  # a broken candidate graph is a finding, not a crash
        problems.append(f"the candidate's variables cannot be evaluated: {err}")
        values_c, mappable = [], False
    for name, v in zip(present, values_c, strict=False):
        if v.shape != shapes[name]:
            problems.append(
                f"{name}: shape {shapes[name]} in the original, {v.shape} in the candidate"
            )
            mappable = False
        elif (v.dtype.kind in "iub") != (dtypes[name].kind in "iub"):
            problems.append(
                f"{name}: dtype {dtypes[name]} in the original, {v.dtype} in the candidate"
            )
            mappable = False

    # dims and coordinates of the names both models use
    used_dims: set = set()
    for name in original.named_vars:
        if name not in candidate.named_vars:
            continue
        do, dc = _dims(original, name), _dims(candidate, name)
        if do != dc:
            problems.append(f"{name}: dims {do} in the original, {dc} in the candidate")
        used_dims.update(d for d in do + dc if d is not None)
    for dim in sorted(used_dims, key=str):
        co, cc = original.coords.get(dim), candidate.coords.get(dim)
        if co is not None and cc is not None and tuple(co) != tuple(cc):
            problems.append(f"coordinate {dim!r} differs ({len(co)} vs {len(cc)} values)")

    # data containers of the same name hold the same numbers
    for var in original.data_vars:
        other = candidate.named_vars.get(var.name)
        if (
            other is not None
            and other in candidate.data_vars
            and not _same_array(_value_of(var), _value_of(other))
        ):
            problems.append(f"data {var.name} differs between the models")

    # a bijection needs as many unconstrained dimensions on both sides
    dim_o = sum(int(np.size(v)) for v in ip_o.values())
    dim_c = sum(int(np.size(v)) for v in ip_c.values())
    if dim_o != dim_c:
        problems.append(
            f"unconstrained dimensions: {dim_o} in the original, {dim_c} in the candidate"
        )
        mappable = False

    if problems:
        message = "\n".join(problems)
    else:
        message = (
            f"{len(o_free)} free variables kept by name ({dim_o} unconstrained dimensions), "
            f"{len(obs_o)} observed with identical data, same dims"
        )
    check = Check(
        "structure",
        not problems,
        float(len(problems)),
        message,
        details={"problems": problems, "dimensions": [dim_o, dim_c]},
    )
    return _Structure(check, mappable, ip_o, ip_c)


# --- change of variables ---------------------------------------------------------------------


def _dependencies(expr: Variable, targets: set[Variable]) -> set[Variable]:
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
class _Block:
    """A diagonal block of dy/du in block-triangular order: original rows, candidate columns."""

    rows: list[int]
    cols: list[int]
    kind: str  # "diagonal?", "diagonal", "rows", "dense", "too large"
    size: int
    outputs: slice | None = None  # where its outputs sit in the compiled function's results
    weights: np.ndarray | None = None


def _blocks(
    deps: dict[int, set[int]], size_o: dict[int, int], size_c: dict[int, int]
) -> tuple[list[_Block], bool]:
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
        return [_Block(rows, cols, "dense", total)], False
    col_row = {match[("o", i)][1]: i for i in rows}
    dg = nx.DiGraph()
    dg.add_nodes_from(rows)
    dg.add_edges_from((col_row[j], i) for i in rows for j in deps[i] if col_row[j] != i)
    blocks = []
    for comp in nx.strongly_connected_components(dg):
        b_rows = sorted(comp)
        b_cols = [match[("o", i)][1] for i in b_rows]
        size = sum(size_o[i] for i in b_rows)
        kind = "diagonal?" if len(b_rows) == 1 else "dense"
        blocks.append(_Block(b_rows, b_cols, kind, size))
    blocks.sort(key=lambda b: b.rows[0])
    return blocks, True


def _diag_ok(colsum: np.ndarray, wvjp: np.ndarray, w: np.ndarray, rtol: float) -> bool:
    """J^T w == w * (1^T J) for a random w holds (generically) only when J is diagonal."""
    expect = w.ravel() * colsum.ravel()
    got = wvjp.ravel()
    if not (np.all(np.isfinite(expect)) and np.all(np.isfinite(got))):
        return True  # a non-finite Jacobian fails the logp comparison anyway
    scale = max(np.max(np.abs(expect), initial=0.0), np.max(np.abs(got), initial=0.0))
    return bool(np.max(np.abs(got - expect), initial=0.0) <= rtol * scale + 1e-300)


def _logabsdet(mat: np.ndarray) -> float:
    if not np.all(np.isfinite(mat)):
        return math.nan
    return float(np.sum(np.linalg.slogdet(mat)[1]))


def _change_of_variables(
    original: pm.Model,
    candidate: pm.Model,
    st: _Structure,
    n_points: int,
    rng: np.random.Generator,
    max_dense: int,
) -> Check:
    o_free = list(original.free_RVs)
    o_vals = [original.rvs_to_values[rv] for rv in o_free]

    # x(u): the original free variables as the candidate computes them (constrained space)
    xs = candidate.replace_rvs_by_values([candidate[rv.name] for rv in o_free])
    xs = [
        rv.type.filter_variable(pt.cast(x, rv.dtype), allow_convert=True)
        for rv, x in zip(o_free, xs, strict=True)
    ]
    # y(u): the original's value transforms, whose parameters may use other free variables
    fwd = []
    for rv in o_free:
        tr = original.rvs_to_transforms.get(rv)
        fwd.append(rv if tr is None else tr.forward(rv, *rv.owner.inputs))
    repl: dict[Variable, Variable] = dict(zip(o_free, xs, strict=True))
    repl.update({obs: original.rvs_to_values[obs] for obs in original.observed_RVs})
    ys = graph_replace(fwd, repl, strict=False)
    ys = [
        v.type.filter_variable(pt.cast(y, v.dtype), allow_convert=True)
        for v, y in zip(o_vals, ys, strict=True)
    ]

    # log densities, one term per variable (free, observed, then potentials)
    terms_o = [pt.sum(t) for t in original.logp(sum=False, jacobian=True)]
    terms_o = graph_replace(terms_o, dict(zip(o_vals, ys, strict=True)), strict=False)
    terms_c = [pt.sum(t) for t in candidate.logp(sum=False, jacobian=True)]

    # Jacobian rows: continuous original variables; columns: continuous candidate value vars
    c_vals = list(candidate.value_vars)
    u = [v for v in c_vals if _is_float(v)]
    rows = [i for i, v in enumerate(o_vals) if _is_float(v)]
    size_o = {i: int(np.size(st.ip_original[o_vals[i].name])) for i in rows}
    size_c = {j: int(np.size(st.ip_candidate[v.name])) for j, v in enumerate(u)}
    u_index = {v: j for j, v in enumerate(u)}
    deps = {i: {u_index[v] for v in _dependencies(ys[i], set(u))} for i in rows}
    blocks, triangular = _blocks(deps, size_o, size_c)

    # points: around the candidate's initial point, most at unit scale and a third wider
    def point(scale: float) -> list[np.ndarray]:
        out = []
        for v in c_vals:
            x0 = np.asarray(st.ip_candidate[v.name])
            if _is_float(v):
                x0 = (x0 + scale * rng.standard_normal(x0.shape)).astype(v.dtype)
            out.append(x0)
        return out

    n_wide = n_points // 3
    scales = [1.0 if p < n_points - n_wide else 3.0 for p in range(n_points)]
    points = [point(s) for s in scales]

    rtol_diag = 1e-9 if pytensor.config.floatX == "float64" else 1e-4
    # phase 1: log densities and the diagonal test for single-variable blocks
    outputs: list[Variable] = [*terms_o, *terms_c]
    w_in: list[Variable] = []
    w_val: list[np.ndarray] = []
    for b in blocks:
        if b.kind != "diagonal?":
            continue
        (i,), (j,) = b.rows, b.cols
        y = ys[i]
        b.weights = rng.uniform(0.5, 1.5, size=st.ip_original[o_vals[i].name].shape)
        colsum = pytensor.grad(pt.sum(y), u[j], disconnected_inputs="ignore")
        start = len(outputs)
        if b.size == 1:
            outputs.append(colsum)
        else:
            w = y.type(f"w{i}")  # an input, so the compiled function does not depend on the seed
            w_in.append(w)
            w_val.append(b.weights.astype(y.dtype))
            outputs += [colsum, pytensor.grad(pt.sum(w * y), u[j], disconnected_inputs="ignore")]
        b.outputs = slice(start, len(outputs))
    fn = pytensor.function([*c_vals, *w_in], outputs, on_unused_input="ignore", mode=_mode())
    res1 = [fn(*p, *w_val) for p in points]
    n_o, n_c = len(terms_o), len(terms_c)
    # A point where neither log density is finite says nothing (some models have -inf regions
    # in their unconstrained space): replace it by one closer to the initial point.
    discarded = 0
    for _ in range(8):
        empty = [
            p
            for p, r in enumerate(res1)
            if not np.isfinite(sum(float(x) for x in r[:n_o]))
            and not np.isfinite(sum(float(x) for x in r[n_o : n_o + n_c]))
        ]
        if not empty:
            break
        discarded += len(empty)
        for p in empty:
            scales[p] /= 2
            points[p] = point(scales[p])
            res1[p] = fn(*points[p], *w_val)
    term_o = np.array([[float(r[k]) for k in range(n_o)] for r in res1])
    term_c = np.array([[float(r[n_o + k]) for k in range(n_c)] for r in res1])

    ld_blocks = np.zeros((n_points, len(blocks)))
    for bi, b in enumerate(blocks):
        if b.kind != "diagonal?":
            continue
        if b.size == 1 or all(
            _diag_ok(r[b.outputs][0], r[b.outputs][1], b.weights, rtol_diag) for r in res1
        ):
            b.kind = "diagonal"
            for p, r in enumerate(res1):
                d = np.asarray(r[b.outputs][0])
                ld_blocks[p, bi] = (
                    float(np.sum(np.log(np.abs(d)))) if np.all(np.isfinite(d)) else math.nan
                )
            continue
        i, j = b.rows[0], b.cols[0]
        shape_y = st.ip_original[o_vals[i].name].shape
        shape_u = st.ip_candidate[u[j].name].shape
        if b.size <= max_dense:
            b.kind = "dense"
        elif shape_y == shape_u and len(shape_y) >= 2 and shape_y[-1] <= max_dense:
            b.kind = "rows"
        else:
            b.kind = "too large"
    for b in blocks:
        if b.kind == "dense" and b.size > max_dense:
            b.kind = "too large"
    too_large = [b for b in blocks if b.kind == "too large"]
    names_o = [rv.name for rv in o_free]
    if too_large:
        which = "; ".join(
            f"{', '.join(names_o[i] for i in b.rows)} ({b.size} dimensions)" for b in too_large
        )
        return Check(
            "change_of_variables",
            False,
            None,
            f"could not verify: the Jacobian block of {which} is neither diagonal nor per-row "
            f"and exceeds max_dense={max_dense}; raise max_dense to verify it densely",
            details={"blocks": _block_summary(blocks)},
        )

    # phase 2: dense and per-row blocks
    outputs2: list[Variable] = []
    w_in, w_val = [], []
    for b in blocks:
        if b.kind == "dense":
            y = pt.concatenate([pt.flatten(ys[i]) for i in b.rows])
            jacs = pytensor.gradient.jacobian(
                y, [u[j] for j in b.cols], disconnected_inputs="ignore", vectorize=True
            )
            b.outputs = slice(len(outputs2), len(outputs2) + 1)
            outputs2.append(pt.concatenate([pt.reshape(jc, (b.size, -1)) for jc in jacs], axis=1))
        elif b.kind == "rows":
            i, j = b.rows[0], b.cols[0]
            y = ys[i]
            m = st.ip_original[o_vals[i].name].shape[-1]
            b.weights = rng.uniform(0.5, 1.5, size=st.ip_original[o_vals[i].name].shape)
            w = y.type(f"w{i}")
            w_in.append(w)
            w_val.append(b.weights.astype(y.dtype))
            g_rows = [
                pytensor.grad(pt.sum(y[..., r]), u[j], disconnected_inputs="ignore")
                for r in range(m)
            ]
            b.outputs = slice(len(outputs2), len(outputs2) + 2)
            outputs2 += [
                pt.stack(g_rows, axis=-2),  # (..., m rows of y, m columns of u)
                pytensor.grad(pt.sum(w * y), u[j], disconnected_inputs="ignore"),
            ]
    if outputs2:
        fn2 = pytensor.function([*c_vals, *w_in], outputs2, on_unused_input="ignore", mode=_mode())
        res2 = [fn2(*p, *w_val) for p in points]
        for bi, b in enumerate(blocks):
            if b.kind == "dense":
                for p, r in enumerate(res2):
                    ld_blocks[p, bi] = _logabsdet(np.asarray(r[b.outputs][0]))
            elif b.kind == "rows":
                for p, r in enumerate(res2):
                    jb, wvjp = (np.asarray(a) for a in r[b.outputs])
                    expect = np.einsum("...r,...rc->...c", b.weights, jb)
                    if not _diag_ok(np.ones_like(expect), wvjp, expect, rtol_diag):
                        return Check(
                            "change_of_variables",
                            False,
                            None,
                            f"could not verify: the Jacobian block of {names_o[b.rows[0]]} "
                            f"({b.size} dimensions) is not per-row and exceeds max_dense={max_dense}",
                            details={"blocks": _block_summary(blocks)},
                        )
                    ld_blocks[p, bi] = _logabsdet(jb)

    check = _judge(original, candidate, o_free, u, blocks, term_o, term_c, ld_blocks, triangular)
    check.details["discarded_points"] = discarded
    if discarded:
        check.message += (
            f"\n{discarded} points where neither log density was finite were redrawn closer to "
            "the initial point"
        )
    return check


def _block_summary(blocks: list[_Block]) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in blocks:
        out[b.kind] = out.get(b.kind, 0) + 1
    return out


def _judge(
    original: pm.Model,
    candidate: pm.Model,
    o_free: list[Variable],
    u: list[Variable],
    blocks: list[_Block],
    term_o: np.ndarray,
    term_c: np.ndarray,
    ld_blocks: np.ndarray,
    triangular: bool,
) -> Check:
    """Is logp_c - logp_o - log|det| the same at every point? If not, which variables vary?"""
    n_points = term_o.shape[0]
    lo, lc, ld = term_o.sum(axis=1), term_c.sum(axis=1), ld_blocks.sum(axis=1)
    rtol = 1e-6 if pytensor.config.floatX == "float64" else 1e-3
    names_o = [rv.name for rv in o_free]
    summary = _block_summary(blocks)
    details: dict[str, Any] = {
        "points": n_points,
        "dimensions": int(sum(b.size for b in blocks)),
        "blocks": summary,
        "triangular": triangular,
    }

    # groups of terms that should each differ by a constant (for naming the culprit)
    c_free = list(candidate.free_RVs)
    c_index = {rv.name: k for k, rv in enumerate(c_free)}
    val_owner = {candidate.rvs_to_values[rv]: k for k, rv in enumerate(c_free)}
    groups: list[tuple[str, np.ndarray]] = []
    used_c: set[int] = set()
    if triangular:
        for bi, b in enumerate(blocks):
            ks = {val_owner[u[j]] for j in b.cols}
            used_c |= ks
            r = term_o[:, b.rows].sum(axis=1) + ld_blocks[:, bi] - term_c[:, sorted(ks)].sum(axis=1)
            label = ", ".join(names_o[i] for i in b.rows)
            via = ", ".join(c_free[k].name for k in sorted(ks))
            groups.append((label if via == label else f"{label} (candidate {via})", r))
    for i, rv in enumerate(o_free):
        if not _is_float(original.rvs_to_values[rv]) and rv.name in c_index:
            used_c.add(c_index[rv.name])
            groups.append((rv.name, term_o[:, i] - term_c[:, c_index[rv.name]]))
    n_free_o, n_free_c = len(o_free), len(c_free)
    obs_c = {rv.name: n_free_c + k for k, rv in enumerate(candidate.observed_RVs)}
    for k, rv in enumerate(original.observed_RVs):
        if rv.name in obs_c:
            groups.append((rv.name, term_o[:, n_free_o + k] - term_c[:, obs_c[rv.name]]))
    n_pot_o = n_free_o + len(original.observed_RVs)
    n_pot_c = n_free_c + len(candidate.observed_RVs)
    if term_o.shape[1] > n_pot_o or term_c.shape[1] > n_pot_c:
        groups.append(
            ("potentials", term_o[:, n_pot_o:].sum(axis=1) - term_c[:, n_pot_c:].sum(axis=1))
        )

    scale = 1.0 + np.abs(lo) + np.abs(lc) + np.abs(ld)
    fin_c, fin_o = np.isfinite(lc), np.isfinite(lo + ld)
    bad = fin_c != fin_o
    if np.any(bad):
        p = int(np.flatnonzero(bad)[0])
        culprits = [name for name, r in groups if not np.isfinite(r[p])]
        where = ""
        if culprits:
            where = f"; non-finite terms: {', '.join(culprits)}"
        if fin_c[p] and np.isfinite(lo[p]):
            what = (
                f"the Jacobian of the map is singular or not finite (log|det J| = {ld[p]}) at "
                f"{int(bad.sum())} of {n_points} points: not a bijection"
            )
        elif fin_c[p]:
            what = (
                f"the log density is finite for the candidate but not for the original at "
                f"{int(bad.sum())} of {n_points} points"
            )
        else:
            what = (
                f"the log density is finite for the original but not for the candidate at "
                f"{int(bad.sum())} of {n_points} points"
            )
        return Check("change_of_variables", False, None, what + where, details=details)
    valid = fin_c & fin_o
    if valid.sum() < 2:
        return Check(
            "change_of_variables",
            False,
            None,
            f"could not verify: the log density is finite at only {int(valid.sum())} of "
            f"{n_points} points",
            details=details,
        )
    diff = (lc - lo - ld)[valid]
    offset = float(np.median(diff))
    # per-point tolerance: rounding grows with the size of the terms at that point
    tols = rtol * (scale[valid] + float(np.median(scale[valid])))
    excess = np.abs(diff - offset) - tols
    spread = float(np.max(np.abs(diff - offset)))
    tol = float(np.min(tols))
    details.update(spread=spread, tolerance=tol, offset=offset)
    what = f"{details['dimensions']} dimensions, Jacobian blocks: " + ", ".join(
        f"{n} {k}" for k, n in summary.items()
    )
    if np.all(excess <= 0):
        msg = (
            f"logp_candidate = logp_original + log|det J| + ({_fmt(offset)}) at {int(valid.sum())} "
            f"points (largest deviation {_fmt(spread)}); {what}"
        )
        if abs(offset) > tol:
            msg += (
                f"\nnote: the constant offset {_fmt(offset)} is not 0; fine when a model has "
                "unnormalised terms (Potential, Flat, custom logp), otherwise a sign that the map "
                "is not one-to-one (-log k for k-to-one) or does not cover the support"
            )
        return Check("change_of_variables", True, offset, msg, details=details)

    suspects = []
    for name, r in groups:
        rv_ = r[valid]
        if np.all(np.isfinite(rv_)) and np.any(np.abs(rv_ - np.median(rv_)) > tols):
            suspects.append(name)
    details["varying"] = suspects
    msg = (
        f"logp_candidate - logp_original - log|det J| is not constant: it deviates by up to "
        f"{_fmt(spread)} from {_fmt(offset)} over {int(valid.sum())} points (tolerance "
        f"{rtol:g} x the size of the terms); {what}"
    )
    if suspects:
        msg += "\nthe difference varies with: " + "; ".join(suspects)
    return Check("change_of_variables", False, offset, msg, details=details)


# --- distribution ----------------------------------------------------------------------------


def _projections(
    name: str, a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """A few one-dimensional summaries of a variable's draws: elements, mean, sd."""
    shape = a.shape[1:]
    fa, fb = a.reshape(len(a), -1), b.reshape(len(b), -1)
    size = fa.shape[1]
    if size == 0:
        return []
    if size == 1:
        return [(name, fa[:, 0], fb[:, 0])]
    idx = sorted({0, size - 1, *([int(rng.integers(1, size - 1))] if size > 2 else [])})
    out = []
    for i in idx:
        label = ",".join(str(int(k)) for k in np.unravel_index(i, shape))
        out.append((f"{name}[{label}]", fa[:, i], fb[:, i]))
    out.append((f"mean({name})", fa.mean(axis=1), fb.mean(axis=1)))
    out.append((f"sd({name})", fa.std(axis=1), fb.std(axis=1)))
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p)
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def distribution_tests(
    draws_original: Mapping[str, np.ndarray],
    draws_candidate: Mapping[str, np.ndarray],
    *,
    alpha: float = 1e-3,
    random_seed: int | np.random.Generator | None = None,
) -> Check:
    """Two-sample KS tests of prior draws, per variable and projection, with Holm's correction.

    Parameters
    ----------
    draws_original, draws_candidate
        Draws by variable name, with the draws along the first axis. Names in both are tested.
    alpha
        Family-wise error rate: the probability that two samples of the same distribution are
        declared different (at most ``alpha``; lower in practice since the tests are dependent).
    random_seed
        Picks the random element tested besides the first and the last.

    Returns
    -------
    Check
        ``figure`` is the smallest Holm-adjusted p-value; ``details["tests"]`` lists them all.
    """
    rng = np.random.default_rng(random_seed)
    labels, pvals, skipped = [], [], []
    for name, a in draws_original.items():
        if name not in draws_candidate:
            continue
        a, b = np.asarray(a), np.asarray(draws_candidate[name])
        if a.shape[1:] != b.shape[1:]:
            skipped.append(name)
            continue
        a, b = a.astype(float, copy=False), b.astype(float, copy=False)
        var_scale = max(
            1.0,
            *(float(np.max(np.abs(x), where=np.isfinite(x), initial=0.0)) for x in (a, b)),
        )
        for label, pa, pb in _projections(name, a, b, rng):
            pa, pb = pa[~np.isnan(pa)], pb[~np.isnan(pb)]
            if len(pa) < 2 or len(pb) < 2:
                continue
            both = np.concatenate([pa, pb])
            if np.all(np.isfinite(both)) and np.ptp(both) <= 1e-9 * var_scale:
                # a constant (up to rounding) projection, e.g. the mean of a zero-sum variable
                p = 1.0 if abs(np.median(pa) - np.median(pb)) <= 1e-6 * var_scale else 0.0
            else:
                method = "asymp" if min(len(pa), len(pb)) >= 100 else "auto"
                p = float(stats.ks_2samp(pa, pb, method=method).pvalue)
            labels.append(label)
            pvals.append(p)
    if not pvals:
        return Check("distribution", True, None, "no variables to compare", details={"tests": {}})
    adj = _holm(np.asarray(pvals))
    rejected = [(lab, q) for lab, q in zip(labels, adj, strict=True) if q <= alpha]
    n = len(next(iter(draws_original.values())))
    details = {
        "alpha": alpha,
        "draws": n,
        "tests": dict(zip(labels, adj.tolist(), strict=True)),
        "skipped": skipped,
    }
    k = int(np.argmin(adj))
    if rejected:
        rejected.sort(key=lambda t: t[1])
        msg = (
            f"prior draws differ ({len(rejected)} of {len(labels)} KS tests rejected at family-wise "
            f"alpha={alpha:g}, Holm): "
            + ", ".join(f"{lab} (p={q:.2g})" for lab, q in rejected[:8])
            + (", ..." if len(rejected) > 8 else "")
        )
        details["rejected"] = [lab for lab, _ in rejected]
        return Check("distribution", False, float(adj[k]), msg, details=details)
    msg = (
        f"{len(labels)} KS tests on {n} prior draws per model agree (smallest Holm-adjusted "
        f"p={adj[k]:.2g} for {labels[k]}, family-wise alpha={alpha:g})"
    )
    if skipped:
        msg += f"; shapes differ, not compared: {', '.join(skipped)}"
    return Check("distribution", True, float(adj[k]), msg, details=details)


def _size_guess(model: pm.Model, name: str) -> int:
    """The number of elements of a variable, from its static shape or its dims, without
    compiling anything (an overestimate when unknown: it only bounds memory)."""
    var = model[name]
    shape = list(var.type.shape)
    dims = model.named_vars_to_dims.get(name) or ()
    for k, dim in enumerate(dims):
        if shape[k] is None and dim in model.dim_lengths:
            length = model.dim_lengths[dim]
            with contextlib.suppress(Exception):
                shape[k] = int(length.get_value() if hasattr(length, "get_value") else length.data)
    if var in model.observed_RVs:
        return int(np.size(_value_of(model.rvs_to_values[var])))
    return int(np.prod([10_000 if s is None else s for s in shape]))


def prior_draws(
    model: pm.Model,
    names: Sequence[str],
    draws: int,
    *,
    random_seed: int | None = None,
    max_elements: int = 2**23,
) -> list[np.ndarray]:
    """``draws`` independent prior (predictive) draws of the named variables, draws first.

    The graph is vectorized over a chunk of draws (PyMC's ``vectorize_over_posterior`` with no
    conditioning variables: every root random variable gets a leading batch dimension) and
    evaluated once per chunk, a chunk holding at most ``max_elements`` numbers. When the graph
    cannot be vectorized it falls back to :func:`pymc.draw`, one call per draw.

    Examples
    --------
    >>> from decenter.examples.eight_schools import centered_model
    >>> [d.shape for d in prior_draws(centered_model(), ["tau", "y"], 100, random_seed=0)]
    [(100,), (100, 8)]
    """
    outs = [model[n] for n in names]
    try:
        per_draw = max(1, sum(_size_guess(model, n) for n in names))
        chunk = max(1, min(draws, max_elements // per_draw))
        posterior = xr.Dataset(coords={"draw": np.arange(chunk)})
        # copies: an output that is itself a root random variable must still be resized
        copies = [pt.as_tensor(o).copy() for o in outs]
        vec = vectorize_over_posterior(copies, posterior, input_rvs=[], sample_dims=("draw",))
        fn = compile_pymc([], vec, random_seed=random_seed, mode=_mode())
        parts: list[list[np.ndarray]] = [[] for _ in outs]
        for _ in range(-(-draws // chunk)):  # the random generators advance between calls
            for k, (out, v, x) in enumerate(zip(outs, vec, fn(), strict=True)):
                x = np.asarray(x)
                if v.type.ndim == out.type.ndim:
                    if rvs_in_graph([out]):
                        raise ValueError(f"{out.name} was not vectorized")
                    x = np.broadcast_to(x, (chunk, *x.shape))  # not random: the same every draw
                if x.shape[:1] != (chunk,) or x.ndim != out.type.ndim + 1:
                    raise ValueError(f"vectorized draws of {out.name} have shape {x.shape}")
                parts[k].append(x)
        return [np.concatenate(p)[:draws] for p in parts]
    except Exception:  # the fast path failed: draw one at a time
        return pm.draw(outs, draws=draws, random_seed=random_seed, mode=_mode())


def _distribution(
    original: pm.Model,
    candidate: pm.Model,
    draws: int,
    alpha: float,
    ss: np.random.SeedSequence,
) -> Check:
    names = [
        v.name
        for v in [*original.free_RVs, *original.deterministics, *original.observed_RVs]
        if v.name in candidate.named_vars
    ]
    missing = [
        v.name
        for v in [*original.free_RVs, *original.deterministics, *original.observed_RVs]
        if v.name not in candidate.named_vars
    ]
    s_o, s_c, s_t = ss.spawn(3)
    if not names:
        return Check("distribution", True, None, "no variables to compare")
    seed_o, seed_c = _seed(s_o), _seed(s_c)
    undrawable: dict[str, str] = {}
    try:
        d_o = prior_draws(original, names, draws, random_seed=seed_o)
        d_c = prior_draws(candidate, names, draws, random_seed=seed_c)
        draws_o, draws_c = dict(zip(names, d_o, strict=True)), dict(zip(names, d_c, strict=True))
    except Exception:  # e.g. a CustomDist without a random function: draw what can be drawn
        draws_o, draws_c = {}, {}
        for name in names:  # the tests are marginal: one variable at a time is enough
            try:
                draws_o[name] = prior_draws(original, [name], draws, random_seed=seed_o)[0]
                draws_c[name] = prior_draws(candidate, [name], draws, random_seed=seed_c)[0]
            except Exception as err:
                draws_o.pop(name, None)
                reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
                undrawable[name] = reason[:120]
    if draws_o:
        check = distribution_tests(draws_o, draws_c, alpha=alpha, random_seed=_seed(s_t))
    else:
        check = Check("distribution", True, None, "not run: no variable can be drawn")
    if missing:
        check.message += f"; not in the candidate, not compared: {', '.join(missing)}"
        check.details["missing"] = missing
    if undrawable:
        check.message += f"; cannot draw, not compared: {', '.join(undrawable)}"
        check.details["undrawable"] = undrawable
    return check


# --- entry point -----------------------------------------------------------------------------


def verify(
    original: pm.Model,
    candidate: pm.Model,
    *,
    n_points: int = 20,
    random_seed: int | None = None,
    draws: int = 1000,
    alpha: float = 1e-3,
    max_dense: int = 500,
) -> VerificationReport:
    """Check that ``candidate`` is a reparameterization of ``original`` (the same model).

    The candidate must keep every free variable of the original under the same name, as a free
    variable or a Deterministic; its other variables (offsets) may have any names. Three checks
    run (see the module docstring and ``docs/verification.md``): ``structure``,
    ``change_of_variables`` (exact, at ``n_points`` random points) and ``distribution``
    (KS tests on ``draws`` prior draws at family-wise level ``alpha``).

    Parameters
    ----------
    original, candidate
        PyMC models. Neither is modified.
    n_points
        Random points of the candidate's unconstrained space for the change-of-variables check
        (two thirds at unit scale around the initial point, one third three times wider).
    random_seed
        Seeds the points and the prior draws; None draws fresh entropy.
    draws
        Prior draws per model for the distribution check.
    alpha
        Family-wise false-alarm rate of the distribution check (on a truly equivalent pair the
        check fails with probability at most ``alpha``).
    max_dense
        Largest Jacobian block computed densely when it has no diagonal or per-row structure.

    Returns
    -------
    VerificationReport
        ``.ok``, ``.checks`` (a list of :class:`Check` with ``name``, ``passed``, ``figure``,
        ``message``), ``.failed``, ``report["distribution"]``, ``str(report)``, ``.to_dict()``.

    Examples
    --------
    >>> import pymc as pm, decenter
    >>> from decenter.examples.eight_schools import centered_model, noncentered_model
    >>> report = decenter.verify(centered_model(), noncentered_model(), random_seed=0)
    >>> report.ok
    True
    >>> [c.name for c in report.checks]
    ['structure', 'change_of_variables', 'distribution']
    >>> from decenter.examples.eight_schools import COORDS, SIGMA, Y
    >>> with pm.Model(coords=COORDS) as wrong:  # theta = mu + z: the scale tau is missing
    ...     mu = pm.Normal("mu", 0, 5)
    ...     tau = pm.HalfCauchy("tau", 5)
    ...     z = pm.Normal("z", 0, 1, dims="school")
    ...     theta = pm.Deterministic("theta", mu + z, dims="school")
    ...     y = pm.Normal("y", theta, SIGMA, observed=Y, dims="school")
    >>> report = decenter.verify(centered_model(), wrong, random_seed=0)
    >>> report.failed
    ['change_of_variables', 'distribution']
    >>> report["change_of_variables"].details["varying"]
    ['theta (candidate z)']
    """
    for which, m in (("original", original), ("candidate", candidate)):
        if not isinstance(m, pm.Model):
            raise TypeError(
                f"verify: {which} must be a pymc.Model, got {type(m).__name__}; "
                "call decenter.verify(original_model, candidate_model)"
            )
    with np.errstate(all="ignore"):  # -inf log densities are findings, not warnings
        return _verify(original, candidate, n_points, random_seed, draws, alpha, max_dense)


def _verify(
    original: pm.Model,
    candidate: pm.Model,
    n_points: int,
    random_seed: int | None,
    draws: int,
    alpha: float,
    max_dense: int,
) -> VerificationReport:
    ss = np.random.SeedSequence(random_seed)
    s_points, s_dist = ss.spawn(2)
    checks: list[Check] = []

    t0 = time.perf_counter()
    st = _structure(original, candidate)
    st.check.seconds = time.perf_counter() - t0
    checks.append(st.check)

    t0 = time.perf_counter()
    if st.mappable:
        try:
            cov = _change_of_variables(
                original, candidate, st, n_points, np.random.default_rng(s_points), max_dense
            )
        except Exception as err:  # e.g. an op without a gradient in the candidate's map
            first = (str(err).strip().splitlines() or [""])[0][:200]
            cov = Check(
                "change_of_variables",
                False,
                None,
                f"could not run: {type(err).__name__}: {first}",
            )
    else:
        cov = Check(
            "change_of_variables",
            False,
            None,
            "not run: the original's free variables cannot all be read off the candidate with "
            "the same shapes and dimension (see structure)",
        )
    cov.seconds = time.perf_counter() - t0
    checks.append(cov)

    t0 = time.perf_counter()
    dist = _distribution(original, candidate, draws, alpha, s_dist)
    dist.seconds = time.perf_counter() - t0
    checks.append(dist)

    settings = {
        "n_points": n_points,
        "random_seed": random_seed,
        "draws": draws,
        "alpha": alpha,
        "max_dense": max_dense,
    }
    return VerificationReport(checks, settings)
