"""The change-of-variables check: the exact identity between the two log densities.

The candidate's free variables ``u`` (on their unconstrained space) define the original's free
variables ``x(u)`` through the candidate's variables of the same names; the original's value
transforms carry them to the original's unconstrained space ``y(u)``. At random points ``u``,
``logp_candidate(u) = logp_original(y(u)) + log|det dy/du| + c`` must hold with one constant
``c``. The Jacobian comes from automatic differentiation of the candidate's graph, never from a
rewrite rule's formula (see :mod:`decenter.verify.jacobian` for its blocks).

Points lie around the candidate's initial point on its unconstrained space: two thirds at unit
scale, one third three times wider. A point says nothing when the map ``x(u)`` overflows or
rounds onto the boundary of the original's support (``y(u)`` infinite), when
neither log density is finite, or when evaluating raises: it is redrawn at half the scale, up
to eight times, and dropped if it still says nothing. So wide priors (``exp`` of a
``Normal(0, 100)``) never turn into a verdict; only finite evaluations do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace

from decenter._pymc import LogTransform
from decenter.report.render import plural
from decenter.verify._common import cause, compile_fn, is_float
from decenter.verify.jacobian import Block, blocks, dependencies, diag_ok, logabsdet
from decenter.verify.judge import judge, too_large
from decenter.verify.probes import probe
from decenter.verify.report import Check, unchecked
from decenter.verify.structure import Structure

__all__ = ["change_of_variables"]

NAME = "change_of_variables"
REDRAWS = 8


@dataclass
class _Maps:
    """The symbolic pieces: y(u), both models' log-density terms, the Jacobian blocks."""

    o_free: list[Variable]
    o_vals: list[Variable]
    xs: list[Variable]
    ys: list[Variable]
    terms_o: list[Variable]
    terms_c: list[Variable]
    c_vals: list[Variable]
    u: list[Variable]
    blocks: list[Block] = field(default_factory=list)
    triangular: bool = True
    # "x(u) is not exactly 0" for every log-transformed (positive) variable
    inside: list[Variable] = field(default_factory=list)


def _maps(original: pm.Model, candidate: pm.Model, st: Structure) -> _Maps:
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
    c_vals = list(candidate.value_vars)
    u = [v for v in c_vals if is_float(v)]
    maps = _Maps(o_free, o_vals, xs, ys, terms_o, terms_c, c_vals, u)
    # exp(...) underflowing to 0 puts a positive variable on its boundary, where the original
    # log density is -inf in floating point only (the candidate's is finite): no verdict there
    maps.inside = [
        pt.all(pt.neq(x, 0))  # not x > 0: a negative x is a real error, caught as such
        for rv, x in zip(o_free, xs, strict=True)
        if isinstance(original.rvs_to_transforms.get(rv), LogTransform)
    ]
    # Jacobian rows: continuous original variables; columns: continuous candidate value vars
    rows = [i for i, v in enumerate(o_vals) if is_float(v)]
    size_o = {i: int(np.size(st.ip_original[o_vals[i].name])) for i in rows}
    size_c = {j: int(np.size(st.ip_candidate[v.name])) for j, v in enumerate(u)}
    u_index = {v: j for j, v in enumerate(u)}
    deps = {i: {u_index[v] for v in dependencies(ys[i], set(u))} for i in rows}
    maps.blocks, maps.triangular = blocks(deps, size_o, size_c)
    return maps


class _Points:
    """Random points of the candidate's unconstrained space around its initial point."""

    def __init__(self, c_vals: list[Variable], ip: dict, rng: np.random.Generator):
        self.c_vals, self.ip, self.rng = c_vals, ip, rng

    def draw(self, scale: float) -> list[np.ndarray]:
        out = []
        for v in self.c_vals:
            x0 = np.asarray(self.ip[v.name])
            if is_float(v):
                x0 = (x0 + scale * self.rng.standard_normal(x0.shape)).astype(v.dtype)
            out.append(x0)
        return out


def _phase1_outputs(m: _Maps, st: Structure, rng) -> tuple[list, list, list]:
    """Log-density terms, "is x(u) finite", and the diagonal test of single-variable blocks."""
    # x(u) rounded onto the support's boundary (y infinite, or a positive x underflowing to 0)
    # says nothing; a y of NaN (x outside the support) stays informative: a real error
    finite = [pt.all(pt.isfinite(x)) for x in m.xs] + m.inside
    finite += [pt.all(~pt.isinf(y)) for y in m.ys if is_float(y)]
    outputs: list[Variable] = [*m.terms_o, *m.terms_c, pt.all(pt.stack(finite))]
    w_in: list[Variable] = []
    w_val: list[np.ndarray] = []
    for b in m.blocks:
        if b.kind != "diagonal?":
            continue
        (i,), (j,) = b.rows, b.cols
        y = m.ys[i]
        b.weights = rng.uniform(0.5, 1.5, size=st.ip_original[m.o_vals[i].name].shape)
        colsum = pytensor.grad(pt.sum(y), m.u[j], disconnected_inputs="ignore")
        start = len(outputs)
        if b.size == 1:
            outputs.append(colsum)
        else:
            w = y.type(f"w{i}")  # an input, so the compiled function does not depend on the seed
            w_in.append(w)
            w_val.append(b.weights.astype(y.dtype))
            outputs += [colsum, pytensor.grad(pt.sum(w * y), m.u[j], disconnected_inputs="ignore")]
        b.outputs = slice(start, len(outputs))
    return outputs, w_in, w_val


def _informative(r, n_o: int, n_c: int) -> bool:
    """A finite map, and at least one finite log density."""
    if r is None or not bool(r[n_o + n_c]):
        return False
    lo = sum(float(x) for x in r[:n_o])
    lc = sum(float(x) for x in r[n_o : n_o + n_c])
    return bool(np.isfinite(lo) or np.isfinite(lc))


def _evaluate_points(fn, w_val, sampler: _Points, n_points: int, n_o: int, n_c: int):
    """Results at n_points informative points (redrawn closer when not), and what was dropped."""
    scales = [1.0 if p < n_points - n_points // 3 else 3.0 for p in range(n_points)]
    points = [sampler.draw(s) for s in scales]
    errors: dict[int, str] = {}

    def call(p):
        try:
            errors.pop(p, None)
            return fn(*points[p], *w_val)
        except Exception as err:  # e.g. a Cholesky of a non-finite matrix: not a verdict
            errors[p] = cause(err)
            return None

    res = [call(p) for p in range(n_points)]
    redrawn = 0
    for _ in range(REDRAWS):
        empty = [p for p, r in enumerate(res) if not _informative(r, n_o, n_c)]
        if not empty:
            break
        redrawn += len(empty)
        for p in empty:
            scales[p] /= 2
            points[p] = sampler.draw(scales[p])
            res[p] = call(p)
    keep = [p for p, r in enumerate(res) if r is not None and bool(r[n_o + n_c])]
    info = {
        "redrawn": redrawn,
        "dropped": n_points - len(keep),
        "errors": sorted(set(errors.values())),
    }
    return [points[p] for p in keep], [res[p] for p in keep], info


def _classify(m: _Maps, st: Structure, res1: list, max_dense: int) -> np.ndarray:
    """Log-determinants of the diagonal blocks; other blocks become dense, rows or too large."""
    rtol = 1e-9 if pytensor.config.floatX == "float64" else 1e-4
    ld = np.zeros((len(res1), len(m.blocks)))
    for bi, b in enumerate(m.blocks):
        if b.kind != "diagonal?":
            continue
        if b.size == 1 or all(diag_ok(*r[b.outputs], b.weights, rtol) for r in res1):
            b.kind = "diagonal"
            for p, r in enumerate(res1):
                d = np.asarray(r[b.outputs][0])
                ld[p, bi] = float(np.sum(np.log(np.abs(d)))) if np.all(np.isfinite(d)) else np.nan
            continue
        i, j = b.rows[0], b.cols[0]
        shape_y = st.ip_original[m.o_vals[i].name].shape
        shape_u = st.ip_candidate[m.u[j].name].shape
        # per-row first (m gradients, e.g. batched MvNormal offsets), then dense (size ones)
        if shape_y == shape_u and len(shape_y) >= 2 and shape_y[-1] <= max_dense:
            b.kind = "rows"
        elif b.size <= max_dense:
            b.kind = "dense"
        else:
            b.kind = "too large"
    for b in m.blocks:
        if b.kind == "dense" and b.size > max_dense:
            b.kind = "too large"
    return ld


def _phase2_outputs(m: _Maps, st: Structure, rng) -> tuple[list, list, list]:
    outputs: list[Variable] = []
    w_in, w_val = [], []
    for b in m.blocks:
        if b.kind == "dense":
            y = pt.concatenate([pt.flatten(m.ys[i]) for i in b.rows])
            jacs = pytensor.gradient.jacobian(
                y, [m.u[j] for j in b.cols], disconnected_inputs="ignore", vectorize=True
            )
            b.outputs = slice(len(outputs), len(outputs) + 1)
            outputs.append(pt.concatenate([pt.reshape(jc, (b.size, -1)) for jc in jacs], axis=1))
        elif b.kind == "rows":
            i, j = b.rows[0], b.cols[0]
            y, shape = m.ys[i], st.ip_original[m.o_vals[i].name].shape
            b.weights = rng.uniform(0.5, 1.5, size=shape)
            w = y.type(f"w{i}")
            w_in.append(w)
            w_val.append(b.weights.astype(y.dtype))
            g_rows = [
                pytensor.grad(pt.sum(y[..., r]), m.u[j], disconnected_inputs="ignore")
                for r in range(shape[-1])
            ]
            b.outputs = slice(len(outputs), len(outputs) + 2)
            outputs += [
                pt.stack(g_rows, axis=-2),  # (..., m rows of y, m columns of u)
                pytensor.grad(pt.sum(w * y), m.u[j], disconnected_inputs="ignore"),
            ]
    return outputs, w_in, w_val


def _phase2(m: _Maps, st, rng, points, ld, max_dense, check_bounds) -> Check | bool | None:
    """Dense and per-row blocks: fills ``ld``; a Check when a block cannot be verified, True
    when a block that is not per-row after all must be computed densely (call again)."""
    outputs, w_in, w_val = _phase2_outputs(m, st, rng)
    if not outputs:
        return None
    fn = compile_fn([*m.c_vals, *w_in], outputs, check_bounds)
    rtol = 1e-9 if pytensor.config.floatX == "float64" else 1e-4
    res = [fn(*p, *w_val) for p in points]
    for bi, b in enumerate(m.blocks):
        for p, r in enumerate(res):
            if b.kind == "dense":
                ld[p, bi] = logabsdet(np.asarray(r[b.outputs][0]))
            elif b.kind == "rows":
                jb, wvjp = (np.asarray(a) for a in r[b.outputs])
                expect = np.einsum("...r,...rc->...c", b.weights, jb)
                if not diag_ok(np.ones_like(expect), wvjp, expect, rtol):
                    if b.size <= max_dense:
                        b.kind = "dense"
                        return True
                    b.kind = "too large"
                    return too_large(m.o_free, m.blocks, [b], max_dense, per_row=True)
                ld[p, bi] = logabsdet(jb)
    return None


def change_of_variables(
    original: pm.Model,
    candidate: pm.Model,
    st: Structure,
    n_points: int,
    rng: np.random.Generator,
    max_dense: int,
) -> Check:
    """Run the exact check (see the module docstring)."""
    m = _maps(original, candidate, st)
    bounds = original.check_bounds and candidate.check_bounds
    outputs, w_in, w_val = _phase1_outputs(m, st, rng)
    fn = compile_fn([*m.c_vals, *w_in], outputs, bounds)
    n_o, n_c = len(m.terms_o), len(m.terms_c)
    sampler = _Points(m.c_vals, st.ip_candidate, rng)
    points, res1, info = _evaluate_points(fn, w_val, sampler, n_points, n_o, n_c)
    if len(points) < 2:
        why = "; ".join(info["errors"]) or "the map x(u) is not finite"
        return unchecked(
            NAME,
            f"could not check: only {len(points)} of {n_points} points could be evaluated ({why})",
            **info,
        )
    rejects = probe(fn, w_val, m.c_vals, st.ip_candidate, n_o, n_c)
    if rejects is not None:
        return rejects
    ld = _classify(m, st, res1, max_dense)
    big = [b for b in m.blocks if b.kind == "too large"]
    if big:
        return too_large(m.o_free, m.blocks, big, max_dense)
    problem = _phase2(m, st, rng, points, ld, max_dense, bounds)
    if problem is True:  # a block that looked per-row is not: compute it densely
        problem = _phase2(m, st, rng, points, ld, max_dense, bounds)
    if isinstance(problem, Check):
        return problem
    term_o = np.array([[float(r[k]) for k in range(n_o)] for r in res1])
    term_c = np.array([[float(r[n_o + k]) for k in range(n_c)] for r in res1])
    check = judge(original, candidate, m.o_free, m.u, m.blocks, term_o, term_c, ld, m.triangular)
    check.details["discarded_points"] = info["redrawn"]
    check.details["dropped_points"] = info["dropped"]
    if info["redrawn"]:
        check.message += (
            f"\n{plural(info['redrawn'], 'point')} that said nothing (a non-finite map or log "
            f"density, or an error) {'was' if info['redrawn'] == 1 else 'were'} redrawn closer to "
            "the initial point"
        )
    if info["dropped"]:
        check.message += f"; {info['dropped']} dropped" + (
            f" ({'; '.join(info['errors'])})" if info["errors"] else ""
        )
    return check
