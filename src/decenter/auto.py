"""``strategy="auto"``: choose how centered to leave each element from the model and its data.

For a hierarchical variable ``x_k ~ D(loc_k, s_k)`` the centered form mixes well when the
information ``I_k`` that the rest of the model carries about ``x_k`` dominates the prior
precision ``1 / s_k**2``, and the non-centered form when it does not (Papaspiliopoulos,
Roberts & Skold 2007). Following Gorinova, Moore & Hoffman (2020), decenter partially
centers each element with::

    lam_k = I_k s_k**2 / (1 + I_k s_k**2)

``I_k`` is the curvature (negative diagonal Hessian, by automatic differentiation) of the
model's log density *without* the variable's own prior term, averaged over draws of a short
pilot: nutpie (or PyMC) NUTS on the fully non-centered model. It works for any likelihood.
For nested hierarchies a child variable's prior term is weighted by the child's own ``lam``,
which turns the child's curvature ``1 / tau**2`` into the information that the child's data
pass up, ``1 / (tau**2 + 1 / I_child)`` (the Gaussian marginal).

``s_k`` is a *low* quantile (:data:`SCALE_QUANTILE`) of the scale's pilot draws, not a
central value: in a funnel the posterior of the scale reaches toward zero, where the centered
form is worst, so over-centering costs more than under-centering.
Scale families (HalfNormal(tau), Exponential, ...) are compared on the log scale, where their
prior has unit-order spread, so ``s_k = 1`` there.

Examples
--------
>>> import pymc as pm, decenter
>>> with pm.Model() as m:
...     mu = pm.Normal("mu")
...     tau = pm.HalfNormal("tau")
...     theta = pm.Normal("theta", mu, tau, shape=2)
...     y = pm.Normal("y", theta[[0] * 50 + [1]], 0.5, observed=[3.0] * 50 + [-3.0])
>>> p = decenter.plan(m, strategy="auto", random_seed=1)
>>> lam = p["theta"].lam
>>> bool(lam[0] > lam[1])  # 50 observations vs. 1: more centered
True
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace, vectorize_graph

from decenter.families import find_rule
from decenter.plan import Decision, Plan

__all__ = ["choose_lams", "information", "pilot_draws", "Info", "SCALE_QUANTILE", "SNAP"]

#: Quantile of the scale's pilot draws used as ``s_k`` (chosen on the benchmark suite).
SCALE_QUANTILE = 0.1
#: ``lam`` below SNAP becomes 0 (non-centered), above 1 - SNAP becomes 1 (centered).
SNAP = 0.05
#: Pilot settings: chains, tuning and kept draws, tree depth cap, draws used for curvature.
PILOT = {"chains": 2, "tune": 300, "draws": 200, "maxdepth": 8, "curvature_draws": 40}
#: Variables with more elements than this use Rademacher probes for the Hessian diagonal
#: (exact when the Hessian is diagonal, as for group effects); smaller ones the full Hessian.
EXACT_HESSIAN_MAX = 64
N_PROBES = 16


@dataclass
class Info:
    """Per-element quantities behind one variable's ``lam`` (arrays over its value shape)."""

    name: str
    information: np.ndarray  # I_k: curvature of the rest of the model
    scale: np.ndarray  # s_k: low quantile of the prior scale
    lam_raw: np.ndarray  # I s^2 / (1 + I s^2) before snapping

    @property
    def lam(self) -> np.ndarray:
        lam = self.lam_raw.copy()
        lam[lam < SNAP] = 0.0
        lam[lam > 1 - SNAP] = 1.0
        return lam


# --------------------------------------------------------------------------------------------
# pilot


def _noncentered_plan(model: pm.Model, plan: Plan) -> Plan:
    from decenter.plan import _unique_name

    decisions = [copy.copy(d) for d in plan.decisions]
    taken = set(model.named_vars)
    for d in decisions:
        if d.rewrite:
            d.lam = None
            d.new_name = _unique_name(d.name + "_offset", taken)
            taken.add(d.new_name)
    return Plan(decisions, strategy="noncentered")


def _seed(random_seed: int | None) -> int:
    if random_seed is None:
        return int(np.random.default_rng().integers(2**31))
    return int(np.random.default_rng(random_seed).integers(2**31))


def pilot_draws(
    model: pm.Model, plan: Plan, *, random_seed: int | None = None, **settings
) -> tuple[dict[str, np.ndarray], dict]:
    """Sample the fully non-centered model briefly; return draws of the original free variables.

    Returns ``(draws, info)``: ``draws[name]`` has shape ``(n_draws, *shape)`` in the
    constrained space; ``info`` holds ``sampler``, ``seconds`` and ``gradients`` (leapfrog
    steps, tuning included).

    Examples
    --------
    >>> import pymc as pm, decenter
    >>> from decenter.auto import pilot_draws
    >>> with pm.Model() as m:
    ...     tau = pm.HalfNormal("tau")
    ...     x = pm.Normal("x", 0, tau, shape=3)
    >>> draws, info = pilot_draws(m, decenter.plan(m), random_seed=0, tune=50, draws=20)
    >>> draws["x"].shape, info["gradients"] > 0
    ((40, 3), True)
    """
    from decenter.rewrite import apply_plan

    cfg = {**PILOT, **settings}
    t0 = time.perf_counter()
    pilot = apply_plan(model, _noncentered_plan(model, plan))
    names = [rv.name for rv in model.free_RVs]
    seed = _seed(random_seed)
    try:
        import nutpie
    except ImportError:
        nutpie = None
    if nutpie is not None:
        compiled = nutpie.compile_pymc_model(pilot, var_names=names)
        trace = nutpie.sample(
            compiled,
            draws=cfg["draws"],
            tune=cfg["tune"],
            chains=cfg["chains"],
            cores=cfg["chains"],
            seed=seed,
            maxdepth=cfg["maxdepth"],
            progress_bar=False,
            save_warmup=True,
        )
        sampler = "nutpie"
    else:
        with pilot, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trace = pm.sample(
                draws=cfg["draws"],
                tune=cfg["tune"],
                chains=cfg["chains"],
                cores=1,
                random_seed=seed,
                nuts_sampler="pymc",
                max_treedepth=cfg["maxdepth"],
                discard_tuned_samples=False,
                progressbar=False,
                compute_convergence_checks=False,
                var_names=names,
            )
        sampler = "PyMC"
    grads = int(trace.sample_stats["n_steps"].sum())
    if "warmup_sample_stats" in trace.children:
        grads += int(trace.warmup_sample_stats["n_steps"].sum())
    post = trace.posterior.to_dataset()
    draws = {}
    for n in names:
        arr = np.asarray(post[n].values)
        draws[n] = arr.reshape(-1, *arr.shape[2:])
    info = {
        "sampler": sampler,
        "seconds": time.perf_counter() - t0,
        "gradients": grads,
        "chains": cfg["chains"],
        "tune": cfg["tune"],
        "draws": cfg["draws"],
        "divergences": int(np.asarray(trace.sample_stats["diverging"]).sum()),
    }
    return draws, info


# --------------------------------------------------------------------------------------------
# curvature


def _to_values_fn(model: pm.Model):
    """Compiled map from constrained draws of the free RVs to the model's value variables."""
    rvs = list(model.free_RVs)
    holders = {rv: rv.type(name=rv.name) for rv in rvs}
    outs = []
    for rv in rvs:
        tr = model.rvs_to_transforms.get(rv)
        outs.append(rv if tr is None else tr.forward(rv, *rv.owner.inputs))
    outs = graph_replace(outs, holders, strict=False)
    return pytensor.function(
        list(holders.values()), outs, on_unused_input="ignore", mode="FAST_COMPILE"
    )


def _diag_hessian(cost, v, shape: tuple[int, ...], rng: np.random.Generator):
    """Diagonal of the Hessian of ``cost`` with respect to ``v`` (of numeric shape ``shape``)."""
    size = int(np.prod(shape))
    # disconnected: the rest of the model does not see v (no data, e.g. Neal's funnel)
    g = pt.grad(cost, v, disconnected_inputs="ignore")
    p = v.type()
    hvp = pt.grad((g * p).sum(), v, disconnected_inputs="ignore")  # Hessian-vector product
    if size <= EXACT_HESSIAN_MAX:
        probes = np.eye(size).reshape((size, *shape))
        hv = vectorize_graph(hvp, {p: pt.constant(probes, dtype=v.dtype)})
        return (hv * probes).sum(0)
    # Rademacher probes: E[p * Hp] = diag(H), exact for any probe when H is diagonal
    probes = rng.choice([-1.0, 1.0], size=(N_PROBES, *shape))
    hv = vectorize_graph(hvp, {p: pt.constant(probes, dtype=v.dtype)})
    return (hv * probes).mean(0)


def _scale_expr(model: pm.Model, rv) -> pt.TensorVariable:
    """The prior scale of ``rv`` broadcast to its shape (1 for scale families on a log scale)."""
    rule = find_rule(rv)
    ls = rule.read(rv)
    tr = model.rvs_to_transforms.get(rv)
    if not rule.has_loc and tr is not None:
        # scale family on a log transform: log x = log scale + log(standard draw)
        return pt.ones(rv.shape)
    scale = ls.scale
    if rule.name == "MvNormal":
        scale = pt.sqrt(pt.diagonal(scale, axis1=-2, axis2=-1))
    return pt.broadcast_to(scale, rv.shape)


def information(
    model: pm.Model,
    names: Sequence[str],
    draws: dict[str, np.ndarray],
    *,
    quantile: float | None = None,
    random_seed: int | None = None,
    max_draws: int = PILOT["curvature_draws"],
) -> dict[str, Info]:
    """Per-element information ``I_k``, robust scale ``s_k`` and raw ``lam`` for each variable.

    Parameters
    ----------
    model : pm.Model
        The original (centered) model.
    names : list of str
        Free variables to analyse (candidates of a plan).
    draws : dict
        Constrained draws of every free variable, ``(n_draws, *shape)`` (see :func:`pilot_draws`).
    quantile : float
        Quantile of the scale draws used as ``s_k``.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> from decenter.auto import information
    >>> with pm.Model() as m:
    ...     tau = pm.HalfNormal("tau")
    ...     x = pm.Normal("x", 0, tau, shape=2)
    ...     y = pm.Normal("y", x[[0, 0, 0, 1]], 1.0, observed=np.zeros(4))
    >>> info = information(m, ["x"], {"tau": np.ones((5,)), "x": np.zeros((5, 2))})
    >>> info["x"].information.tolist(), info["x"].lam_raw.round(2).tolist()
    ([3.0, 1.0], [0.75, 0.5])
    """
    quantile = SCALE_QUANTILE if quantile is None else quantile
    rng = np.random.default_rng(random_seed)
    n = len(next(iter(draws.values())))
    idx = np.unique(np.linspace(0, n - 1, min(n, max_draws)).round().astype(int))
    to_values = _to_values_fn(model)
    rvs = list(model.free_RVs)
    points = [to_values(*[draws[rv.name][i] for rv in rvs]) for i in idx]
    values = [model.rvs_to_values[rv] for rv in rvs]

    terms = model.logp(sum=False)
    n_free = len(rvs)
    pos = {rv.name: i for i, rv in enumerate(rvs)}
    weights = {
        name: pt.tensor(f"w_{name}", shape=(None,) * terms[pos[name]].ndim) for name in names
    }
    weighted = [
        (weights[rv.name] * terms[i]).sum() if rv.name in weights else terms[i].sum()
        for i, rv in enumerate(rvs)
    ]
    weighted += [pt.as_tensor(t).sum() for t in terms[n_free:]]

    outs = []
    for name in names:
        i = pos[name]
        v = values[i]
        rest = (
            pt.add(*[w for j, w in enumerate(weighted) if j != i])
            if len(weighted) > 1
            else pt.zeros(())
        )
        outs.append(-_diag_hessian(rest, v, np.shape(points[0][i]), rng))
    scales = model.replace_rvs_by_values([_scale_expr(model, model[name]) for name in names])
    fn = pytensor.function(
        values + list(weights.values()),
        outs + scales,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )

    # weights start at 1 (children centered); a term has its value's shape, or fewer axes
    w_now = {n_: np.ones(_term_shape(terms[pos[n_]], points[0][pos[n_]])) for n_ in names}
    result: dict[str, Info] = {}
    for _ in range(len(names) + 1):  # one pass per nesting level
        curv, scl = [], []
        for pt_vals in points:
            out = fn(*pt_vals, *[w_now[n_] for n_ in names])
            curv.append(out[: len(names)])
            scl.append(out[len(names) :])
        new = {}
        for j, name in enumerate(names):
            info_k = np.mean([np.maximum(c[j], 0.0) for c in curv], axis=0)
            s_draws = np.stack([s[j] for s in scl])
            s_k = np.quantile(s_draws, quantile, axis=0)
            if s_k.shape != info_k.shape:  # ZeroSumNormal: value has one element fewer per axis
                s_k = np.full(info_k.shape, float(np.mean(s_k)))
            lam = info_k * s_k**2 / (1.0 + info_k * s_k**2)
            new[name] = Info(name, info_k, s_k, lam)
        changed = not result or any(
            not np.allclose(new[n_].lam_raw, result[n_].lam_raw, atol=1e-3) for n_ in names
        )
        result = new
        for name in names:
            shape = w_now[name].shape
            lam = result[name].lam_raw
            w_now[name] = lam.reshape(shape) if lam.shape == shape else np.full(shape, lam.mean())
        if not changed:
            break
    return result


def _term_shape(term, value) -> tuple[int, ...]:
    if term.ndim == np.ndim(value):
        return np.shape(value)
    return np.shape(value)[: term.ndim]


# --------------------------------------------------------------------------------------------
# entry point used by plan(strategy="auto")


def _summary(lam: np.ndarray) -> str:
    lam = np.asarray(lam, dtype=float)
    n0, n1 = int((lam == 0).sum()), int((lam == 1).sum())
    if lam.size == 1 or np.ptp(lam) == 0:
        return f"lam {float(lam.flat[0]):.2g}"
    return (
        f"lam {lam.min():.2f}..{lam.max():.2f} (median {np.median(lam):.2f}; "
        f"{n0} non-centered, {n1} centered, {lam.size - n0 - n1} partial of {lam.size})"
    )


def _to_var_shape(model: pm.Model, d: Decision, lam: np.ndarray) -> np.ndarray:
    rule = find_rule(model[d.name])
    if not rule.elementwise:
        return np.asarray(float(np.mean(lam)))
    return lam


def choose_lams(
    model: pm.Model,
    plan: Plan,
    *,
    random_seed: int | None = None,
    quantile: float | None = None,
    **pilot_settings,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Choose ``lam`` per element for every candidate of ``plan`` (see the module docstring).

    Returns ``(lams, notes)``: ``lams[name]`` has the variable's shape (a scalar for
    MvNormal and ZeroSumNormal, which plan rounds to 0 or 1), ``notes`` says which pilot ran,
    what it cost and how the lams came out.

    Examples
    --------
    >>> import decenter
    >>> from decenter.examples.radon import centered_model
    >>> p = decenter.plan(centered_model(), strategy="auto", random_seed=0)
    >>> any(n.startswith("auto: pilot") for n in p.notes)
    True
    """
    cands = plan.rewrites
    if not cands:
        return {}, ["auto: no hierarchical variable to rewrite; nothing to decide"]
    quantile = SCALE_QUANTILE if quantile is None else quantile
    draws, pinfo = pilot_draws(model, plan, random_seed=random_seed, **pilot_settings)
    t0 = time.perf_counter()
    names = [d.name for d in cands]
    infos = information(model, names, draws, quantile=quantile, random_seed=random_seed)
    t_curv = time.perf_counter() - t0
    lams = {d.name: _to_var_shape(model, d, infos[d.name].lam) for d in cands}
    notes = [
        f"auto: pilot {pinfo['sampler']} NUTS on the non-centered model, {pinfo['chains']} chains x "
        f"({pinfo['tune']} tune + {pinfo['draws']} draws): {pinfo['seconds']:.1f} s, "
        f"{pinfo['gradients']} gradient evaluations ({pinfo['divergences']} divergences); "
        f"curvature at {min(PILOT['curvature_draws'], len(next(iter(draws.values()))))} draws: "
        f"{t_curv:.1f} s",
        f"auto: lam = I s^2 / (1 + I s^2), I = curvature of the rest of the model, "
        f"s = {quantile:g} quantile of the prior scale; lam < {SNAP:g} -> 0, > {1 - SNAP:g} -> 1",
    ]
    for d in cands:
        notes.append(f"auto: {d.name}: {_summary(infos[d.name].lam)}")
    return lams, notes
