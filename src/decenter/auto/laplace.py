"""A deterministic Laplace fit of the fully non-centered model, the input of ``strategy="auto"``.

The fully non-centered model has no funnel: its log density (with the Jacobian of the value
transforms, in the unconstrained space) has a proper mode even when a hierarchical scale's
posterior reaches toward zero. :func:`laplace_fit` finds that mode with L-BFGS from the
model's initial point (no randomness; a seeded jitter only if the plain start fails), takes
the Hessian there by central differences of the gradient, and returns

* ``point``: the constrained values of the *original* model's free variables at the mode;
* ``log_scale`` and ``log_scale_sd``: per candidate, the prior scale at the mode (log) and its
  Laplace standard deviation (delta method through the inverse Hessian);
* ``failed``: the candidates whose scale or curvature could not be built, and why; they are
  left out of the fit (non-centered there, as in the fallback), the others are fitted.

Examples
--------
>>> import pymc as pm, decenter
>>> from decenter.auto.laplace import laplace_fit
>>> with pm.Model() as m:
...     tau = pm.HalfNormal("tau")
...     x = pm.Normal("x", 0, tau, shape=3)
...     y = pm.Normal("y", x, 1.0, observed=[0.5, -0.2, 0.1])
>>> fit = laplace_fit(m, decenter.plan(m, strategy="noncentered"))
>>> fit.converged, sorted(fit.point)
(True, ['tau', 'x'])
"""

from __future__ import annotations

import contextlib
import copy
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pytensor.tensor.rewriting.math import local_pow_specialize

from decenter._pymc import HELPER_MODE, initial_point, linear_logprob
from decenter._pymc import local_check_parameter_to_ninf_switch as ninf_switch
from decenter.auto.covariance import curvature_scale, log_scale_sd
from decenter.auto.curvature import InformationFn, _scale_expr
from decenter.auto.structure import (
    components,
    data_size,
    dependencies,
    tree_sum,
    unshare_constants,
)
from decenter.core.plan import Plan, _unique_name
from decenter.util.linear import (
    Flatten,
    LinearMode,
    bare_mode,
    building_graphs,
    flat_function,
    graph_replace,
)

__all__ = ["laplace_fit", "LaplaceFit", "noncentered_plan", "DENSE_HESSIAN_MAX"]

#: Above this many unconstrained dimensions the covariance rows of the scales' parameters
#: come from conjugate gradients on Hessian-vector products, not from the full Hessian.
DENSE_HESSIAN_MAX = 1500
#: Above this many unconstrained dimensions L-BFGS moves each coordinate scaled by its
#: curvature at the round's start (:func:`decenter.auto.covariance.curvature_scale`): on the
#: full InstEval (4,120 dimensions) 1,888 -> 572 evaluations; a small model can take more
#: with it (chickweight, 110 dimensions: 1,549 -> 3,320), and needs few.
PRECONDITION_ABOVE = DENSE_HESSIAN_MAX
#: Restarts (seeded jitter) when the optimisation from the initial point fails.
RESTARTS = 3
#: L-BFGS iterations per start; a start that reaches them is continued from where it stopped.
MAXITER = 2000
#: Rounds of (information at the point, optimisation with it held fixed).
ROUNDS = 3
#: PyTensor mode of the objective: few graph rewrites (it compiles in a fraction of the time
#: of the default mode) but C code (a Python-mode gradient is far slower per evaluation).
#: ``local_pow_specialize``: every Normal's ``z ** 2`` a ``sqr`` (C's ``pow`` dominated models
#: with many observations). No fusion: its C code is specific to each model.
FIT_MODE = LinearMode(linker="cvm", optimizer="fast_compile").including(
    "local_pow_specialize", "local_check_parameter_to_ninf_switch"
)
#: At most this many elements (dimensions and observed values): the objective evaluated in
#: Python, as fast as in C there, so that a process sampling with numba (nutpie) never starts
#: PyTensor's C backend (0.75 s once per process; eight schools' first plan 0.61 -> 0.18 s),
#: and without canonicalisation (it costs more than it saves there: eight schools' plan
#: 0.12 -> 0.09 s; larger models' objectives keep :data:`FIT_MODE`, docs/auto.md).
PY_FIT_MAX = 32
PY_FIT_MODE = bare_mode("py", local_pow_specialize, ninf_switch)
#: Above this many terms (free, observed, potential and the correction's) the objective is a
#: binary tree of additions (:func:`decenter.auto.structure.tree_sum`) compiled in
#: :data:`LARGE_FIT_MODE`: the default sum becomes one addition with an input per term, whose C
#: code is specific to the model's size (and compiles for minutes to hours at a few hundred
#: terms). Smaller models keep the sum they always had: the same arithmetic, the same plans.
TREE_SUM_ABOVE = 64
#: :data:`FIT_MODE` without ``local_add_canonizer`` (which folds the tree back into one
#: addition), without merging (each node scans the clients of its inputs for a twin: the
#: constants every term shares have a client per term, so merging is quadratic; unmerged, the
#: graph has 3 % more nodes), and keeping its intermediate arrays between calls (the
#: freeing plan tests each input against the list of outputs, one per variable: quadratic;
#: and an evaluation of many small terms is ~9x faster without the frees).
LARGE_FIT_MODE = FIT_MODE.excluding("local_add_canonizer", "merge").clone(
    link_kwargs={"allow_gc": False}
)


@dataclass
class LaplaceFit:
    """Result of :func:`laplace_fit` (see the module docstring)."""

    point: dict[str, np.ndarray]
    log_scale: dict[str, np.ndarray]
    log_scale_sd: dict[str, np.ndarray]
    converged: bool
    message: str
    n_dim: int
    evaluations: int  # logp + gradient evaluations (optimisation and Hessian)
    seconds: dict[str, float] = field(default_factory=dict)  # compile, optimise, hessian
    info_fn: InformationFn | None = None  # compiled curvature, reusable at the mode
    failed: dict[str, str] = field(default_factory=dict)  # candidates left out, and why


def noncentered_plan(model: pm.Model, plan: Plan) -> Plan:
    """A copy of ``plan`` with every candidate fully non-centered (``lam = 0``)."""
    decisions = [copy.copy(d) for d in plan.decisions]
    taken = set(model.named_vars)
    for d in decisions:
        if d.rewrite:
            d.lam = None
            d.new_name = d.new_name or _unique_name(d.name + "_offset", taken)
            taken.add(d.new_name)
    return Plan(decisions, strategy="noncentered", fingerprint=plan.fingerprint)


def _compile(model: pm.Model, ncp: pm.Model, names: list[str], ip: dict, rules=None):
    """Objective+grad, map to the original constrained values, and the candidates' log scales.

    The objective is the non-centered log density minus ``0.5 * sum log(1 + s_k**2 I_k)``,
    the log-determinant of the offsets' curvature: with it the mode in the hyperparameters is
    that of their (Laplace) marginal, not of the joint density, whose mode over-estimates
    every hierarchical scale (the offsets' prior then pays nothing for a large scale).
    ``I_k`` is an input, held fixed during one optimisation; ``ip`` is ncp's initial point;
    ``rules``: the candidates' rules from the plan, so that none is looked up again.
    """
    values = ncp.value_vars
    orig = [rv.name for rv in model.free_RVs]
    orig_exprs = ncp.replace_rvs_by_values([ncp[n] for n in orig])
    # the candidates' prior scales, written on the original RVs, re-expressed on ncp's values
    holders = {rv: rv.type(name=rv.name) for rv in model.free_RVs}
    scales = graph_replace(
        [pt.log(_scale_expr(model, model[n], (rules or {}).get(n))) for n in names],
        holders,
        strict=False,
    )
    scales = graph_replace(
        scales, dict(zip(holders.values(), orig_exprs, strict=True)), strict=False
    )
    info = [pt.vector(f"info_{n}") for n in names]
    sizes = [np.size(ip[v.name]) for v in values] + [data_size(ncp, o) for o in ncp.observed_RVs]
    lg = _objective(ncp, scales, info, python=sum(sizes) <= PY_FIT_MAX)
    rest = flat_function(values, [*orig_exprs, *scales], on_unused_input="ignore", mode=HELPER_MODE)
    split, blocks = _layout([(tuple(ip[v.name].shape), v.dtype) for v in values])

    def f_lg(x, *info_values):
        return lg(*split(x), *info_values)

    def f_rest(x):
        return rest(*split(x))

    x0 = np.concatenate([np.ravel(ip[v.name]) for v in values]).astype(float)
    deps = dependencies(scales, values)  # the scales' hyperparameters, from the graph
    return f_lg, f_rest, x0, orig, blocks, deps


def _objective(ncp: pm.Model, scales: list, info: list, python: bool = False):
    """The compiled objective and its flat gradient (see :func:`_compile`), at the values
    of ``ncp`` and the information ``info`` per candidate (``python``: in :data:`PY_FIT_MODE`)."""
    values = ncp.value_vars
    halves = []  # 0.5 * log(1 + s^2 I), per candidate
    for ls, inf in zip(scales, info, strict=True):
        # the scale is laid out like the value (ZeroSumNormal: its subspace), as I_k is
        halves.append(0.5 * pt.log1p(pt.exp(2 * ls.ravel()) * inf).sum())
    n_terms = len(ncp.free_RVs) + len(ncp.observed_RVs) + len(ncp.potentials) + len(info)
    if n_terms > TREE_SUM_ABOVE:
        terms = ncp.logp(jacobian=True, sum=False)
        objective, mode = tree_sum([*terms, *[-h for h in halves]]), LARGE_FIT_MODE
    else:
        correction = pt.zeros(())
        for h in halves:
            correction = correction - h
        objective, mode = ncp.logp(jacobian=True) + correction, PY_FIT_MODE if python else FIT_MODE
    grad = pt.grad(objective, values)
    # the value variables are the inputs (no flat-vector graph clone: x is split in NumPy);
    # a large model's outputs are joined in NumPy (a C join of one input per variable has code
    # specific to the model's size; an output per variable is quadratic: flat_function)
    if mode is LARGE_FIT_MODE:
        flat, _ = Flatten()(*unshare_constants([objective, *grad]))
        lg_flat = pytensor.function([*values, *info], flat, on_unused_input="ignore", mode=mode)
        return lambda *args: _head_and_tail(lg_flat(*args))
    joined = pt.concatenate([g.ravel() for g in grad])
    lg_outs = pytensor.function(
        [*values, *info], [objective, joined], on_unused_input="ignore", mode=mode
    )
    return lambda *args: tuple(lg_outs(*args))


def _head_and_tail(flat: np.ndarray) -> tuple[np.float64, np.ndarray]:
    return flat[0], flat[1:]  # the objective and its gradient


def _layout(specs: list[tuple[tuple[int, ...], str]]):
    """For arrays of the given shapes and dtypes laid end to end in one flat float vector: the
    function splitting the vector into them, and each one's positions in it."""
    sizes = [int(np.prod(shape)) for shape, _ in specs]
    spans = [slice(end - size, end) for size, end in zip(sizes, np.cumsum(sizes), strict=True)]

    def split(x: np.ndarray) -> list[np.ndarray]:
        return [
            np.asarray(x[span], dtype=dtype).reshape(shape)
            for (shape, dtype), span in zip(specs, spans, strict=True)
        ]

    blocks = [np.arange(span.start, span.stop) for span in spans]
    return split, blocks


def _optimise(
    f_lg, x0: np.ndarray, seed: int, scale: np.ndarray | None = None
) -> tuple[np.ndarray, bool, str, int]:
    """L-BFGS from ``x0`` (then seeded jitters if it fails): the mode, whether it converged,
    a message and the evaluations. With ``scale``, L-BFGS moves ``x * scale`` (an estimate of
    the curvature's square root per coordinate: a well-conditioned problem for it)."""
    from scipy.optimize import minimize

    count, d = [0], np.ones_like(x0) if scale is None else scale

    def fun(y):
        count[0] += 1
        lp, g = f_lg(y / d)
        if not (np.isfinite(lp) and np.all(np.isfinite(g))):  # outside the support: step back
            return np.inf, np.zeros_like(y)
        return -float(lp), -np.asarray(g, dtype=float) / d

    rng = np.random.default_rng(seed)
    best = res = None
    for attempt in range(RESTARTS + 1):
        start = x0 if attempt == 0 else x0 + rng.uniform(-1, 1, size=x0.shape)
        if res is not None and res.nit >= MAXITER and np.isfinite(res.fun):
            start = res.x  # stopped on the way (an ill-conditioned fit): go on from there
        if not np.isfinite(fun(start * d)[0]):
            continue
        res = minimize(fun, start * d, jac=True, method="L-BFGS-B", options={"maxiter": MAXITER})
        res.x = res.x / d
        ok = bool(np.isfinite(res.fun)) and (res.success or np.max(np.abs(res.jac)) < 1e-3)
        if best is None or res.fun < best[0].fun:
            best = (res, ok)
        if ok:
            break
    if best is None:
        return x0, False, "the log density is not finite at the initial point", count[0]
    res, ok = best
    msg = "converged" if ok else f"not converged ({res.message})"
    return res.x, ok, msg + (f" after {attempt} jittered restarts" if attempt else ""), count[0]


def laplace_fit(
    model: pm.Model, plan: Plan, *, random_seed: int | None = None, progress=None
) -> LaplaceFit:
    # one BLAS thread: L-BFGS and the small dense algebra are much slower with threads on a
    # busy machine
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = contextlib.nullcontext
    with threadpool_limits(1), building_graphs():
        return _laplace_fit(model, plan, random_seed=random_seed, progress=progress)


def _build(model: pm.Model, plan: Plan, names: list[str]):
    """The curvature of the candidates (:class:`InformationFn`), the non-centered helper model
    compiled (:func:`_compile`) for those it can handle, and its independent parts: groups of
    coordinates with no cross term (the correction joins each scale's parents)."""
    from decenter.core.rewrite import apply_plan

    ncp_plan = noncentered_plan(model, plan)
    with warnings.catch_warnings():  # initial values dropped here concern a helper model only
        warnings.filterwarnings("ignore", message="the initial value of", category=UserWarning)
        ncp = apply_plan(model, ncp_plan)
    # seeded: an initval="prior" (or "jitter") would otherwise start each call somewhere else
    # and make the default's choice differ between processes
    ip = initial_point(ncp, random_seed=0)
    # a candidate's value has its offset's shape (same family, same transform): the initial
    # point of ncp gives them, no second initial point of the model
    shapes = {
        d.name: tuple(np.shape(ip[ncp.rvs_to_values[ncp[d.new_name]].name]))
        for d in ncp_plan.rewrites
    }
    rules = plan.rules(model)
    info_fn = InformationFn(model, names, random_seed=0, shapes=shapes, rules=rules)
    # without the candidates the curvature cannot handle: they fall back, alone
    f_obj, f_rest, x, orig, blocks, deps = _compile(model, ncp, info_fn.names, ip, rules)
    groups = components(ncp, deps)
    comps = [np.concatenate([blocks[i] for i in c]) for c in groups]
    # the t-th variable of each independent part: probed together (no term joins them)
    layers = [[c[t] for c in groups if len(c) > t] for t in range(max(map(len, groups), default=0))]
    return info_fn, f_obj, f_rest, x, orig, blocks, deps, comps, layers


def _laplace_fit(
    model: pm.Model, plan: Plan, *, random_seed: int | None = None, progress=None
) -> LaplaceFit:
    """Mode and Laplace spread of the fully non-centered model (see the module docstring).

    Parameters
    ----------
    model : pm.Model
        The original (centered) model; not modified.
    plan : Plan
        Its candidates (any strategy: they are all non-centered for the fit).
    random_seed : int, optional
        Seed of the jittered restarts, used only when the fit from the initial point fails
        (``None`` is seed 0: the fit is deterministic).
    progress : callable, optional
        Called with a text of counts (round, evaluations, scales done) as the fit goes.

    Returns
    -------
    LaplaceFit
    """
    names = [d.name for d in plan.rewrites]
    t0 = time.perf_counter()
    # no stack trace per node (they point errors at user lines; these helper graphs have none,
    # and the walk is a fifth of their build); PyMC's logprob graphs built linear (_pymc)
    with pytensor.config.change_flags(traceback__limit=0), linear_logprob():
        info_fn, f_obj, f_rest, x, orig, blocks, deps, comps, layers = _build(model, plan, names)
    names = info_fn.names
    t1 = time.perf_counter()

    def at(y):
        rest = f_rest(y)
        point = {n: np.asarray(v) for n, v in zip(orig, rest[: len(orig)], strict=True)}
        return point, {n: np.asarray(v) for n, v in zip(names, rest[len(orig) :], strict=True)}

    tick = progress or (lambda text: None)
    calls, ok, msg, info, evals, where = 0, False, "", None, [0], [""]
    for r in range(ROUNDS):  # I_k depends on the point (noise scales, link functions)
        point, log_scale = at(x)
        scl = {n: np.exp(log_scale[n]) for n in names}
        infos = info_fn({k: v[None] for k, v in point.items()}, scales=scl)
        # an overflowed (inf) information is 0: not a -inf objective failing the whole fit
        new = [np.nan_to_num(np.ravel(infos[n].information), posinf=0.0, neginf=0.0) for n in names]
        if info is not None and all(
            np.allclose(np.log1p(a), np.log1p(b), atol=0.05) for a, b in zip(new, info, strict=True)
        ):
            break
        info = new

        def f_lg(y, info=info):
            evals[0] += 1
            tick(f"{where[0]}, {evals[0]} evaluations")
            return f_obj(y, *info)

        where[0] = f"round {r + 1} of at most {ROUNDS}"
        large = x.size > PRECONDITION_ABOVE  # scaled by the curvature at the round's start
        scale, c = curvature_scale(f_lg, x, blocks, layers) if large else (None, 0)
        x, ok, msg, c2 = _optimise(f_lg, x, 0 if random_seed is None else random_seed, scale)
        calls += c + c2
    t2 = time.perf_counter()
    point, log_scale = at(x)

    def spread(text):
        where[0] = f"spread of the scales: {text}"
        tick(f"{where[0]}, {evals[0]} evaluations")

    sd, hcalls = log_scale_sd(
        f_lg, lambda y: f_rest(y)[len(orig) :], x, log_scale, blocks, DENSE_HESSIAN_MAX,
        deps=deps, components=comps, progress=spread,
    ) if names else ({}, 0)  # fmt: skip
    calls += hcalls
    t3 = time.perf_counter()
    return LaplaceFit(
        point=point, log_scale=log_scale, log_scale_sd=sd, converged=ok, message=msg,
        n_dim=x.size, evaluations=calls, info_fn=info_fn, failed=dict(info_fn.failed),
        seconds={"compile": t1 - t0, "optimise": t2 - t1, "hessian": t3 - t2},
    )  # fmt: skip
