"""Hypothesis generators of random hierarchical PyMC models, and an independent equivalence oracle.

A model is drawn as a plain :class:`ModelSpec` (so a failing example prints as readable data)
and built with :func:`build_model`. :func:`assert_logp_equivalent` checks a candidate model
against the original through the change of variables, independently of ``decenter.verify``::

    logp_candidate(eta) == logp_original(x(eta)) + log|det d x_u / d eta_u|

where ``x_u`` / ``eta_u`` are the values in PyMC's unconstrained (transformed) space.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from hypothesis import strategies as st
from pytensor.compile.mode import Mode
from pytensor.graph.replace import graph_replace

from decenter.core.graph import named_parents
from decenter.families import find_rule
from decenter.verify._common import checks_to_ninf

FAST = Mode(linker="py", optimizer=None)  # no graph rewrites: tiny models compile in ms

# name -> builder(name, scale, **kw); the scale is a positive constant or a tensor
SCALE_FAMILIES = {
    "HalfNormal": lambda name, s, **kw: pm.HalfNormal(name, sigma=s, **kw),
    "Exponential": lambda name, s, **kw: pm.Exponential(name, scale=s, **kw),
    "HalfCauchy": lambda name, s, **kw: pm.HalfCauchy(name, beta=s, **kw),
    "Gamma": lambda name, s, **kw: pm.Gamma(name, alpha=2.5, beta=1 / s, **kw),
}

# name -> builder(name, loc, scale, **kw)
LOC_FAMILIES = {
    "Normal": lambda name, m, s, **kw: pm.Normal(name, mu=m, sigma=s, **kw),
    "StudentT": lambda name, m, s, **kw: pm.StudentT(name, nu=4, mu=m, sigma=s, **kw),
    "Cauchy": lambda name, m, s, **kw: pm.Cauchy(name, alpha=m, beta=s, **kw),
    "Laplace": lambda name, m, s, **kw: pm.Laplace(name, mu=m, b=s, **kw),
    "Logistic": lambda name, m, s, **kw: pm.Logistic(name, mu=m, s=s, **kw),
    "Gumbel": lambda name, m, s, **kw: pm.Gumbel(name, mu=m, beta=s, **kw),
    "LogNormal": lambda name, m, s, **kw: pm.LogNormal(name, mu=m, sigma=s, **kw),
}

LOCS = ("parent", "free", "const")
SCALES = ("free", "const", "det", "vector", "scale_of_scale", "data", "wide")


@dataclass(frozen=True)
class LevelSpec:
    family: str  # a key of LOC_FAMILIES or SCALE_FAMILIES
    size: int  # 0: a scalar
    idx: tuple[int, ...] | None  # parent[idx] gives this level's location (len == size)
    width: int  # 0, or 2: a (size, 2) matrix level
    dims: bool  # named dims (coords) instead of a shape
    loc: str  # one of LOCS (ignored by scale families)
    scale: str  # one of SCALES
    scale_family: str  # family of a free scale variable
    scale_const: float


@dataclass(frozen=True)
class ModelSpec:
    levels: tuple[LevelSpec, ...]
    likelihood: str  # Normal, Poisson, Bernoulli
    obs_idx: tuple[int, ...]
    observed: tuple[float, ...]
    free_sigma_y: bool
    prefix: bool  # build the hierarchy inside pm.Model(name="sub")


@st.composite
def level_specs(draw, parent: LevelSpec | None) -> LevelSpec:
    family = draw(st.sampled_from(sorted(LOC_FAMILIES) + sorted(SCALE_FAMILIES)))
    size = draw(st.integers(0, 4))
    idx = None
    if parent is not None and size > 0 and parent.size > 0:
        idx = tuple(draw(st.lists(st.integers(0, parent.size - 1), min_size=size, max_size=size)))
    width = draw(st.sampled_from([0, 0, 0, 2])) if size > 0 else 0
    locs = LOCS if parent is not None else ("free", "const")
    return LevelSpec(
        family=family,
        size=size,
        idx=idx,
        width=width,
        dims=draw(st.booleans()),
        loc=draw(st.sampled_from(locs)),
        scale=draw(st.sampled_from(SCALES)),
        scale_family=draw(st.sampled_from(sorted(SCALE_FAMILIES))),
        scale_const=draw(st.sampled_from([0.5, 1.0, 2.5])),
    )


@st.composite
def model_specs(draw) -> ModelSpec:
    n_levels = draw(st.integers(1, 3))
    levels: list[LevelSpec] = []
    for _ in range(n_levels):
        levels.append(draw(level_specs(levels[-1] if levels else None)))
    last = levels[-1]
    n_obs = draw(st.integers(1, 5))
    n_last = max(last.size, 1)
    obs_idx = tuple(draw(st.lists(st.integers(0, n_last - 1), min_size=n_obs, max_size=n_obs)))
    likelihood = draw(st.sampled_from(["Normal", "Poisson", "Bernoulli"]))
    if likelihood == "Normal":
        elem = st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3))
    elif likelihood == "Poisson":
        elem = st.integers(0, 6).map(float)
    else:
        elem = st.sampled_from([0.0, 1.0])
    observed = tuple(draw(st.lists(elem, min_size=n_obs, max_size=n_obs)))
    return ModelSpec(
        levels=tuple(levels),
        likelihood=likelihood,
        obs_idx=obs_idx,
        observed=observed,
        free_sigma_y=draw(st.booleans()),
        prefix=draw(st.integers(0, 5)) == 0,
    )


def _vector(x: pt.TensorVariable, spec: LevelSpec) -> pt.TensorVariable:
    """A level as a vector over its groups (first column of a matrix level)."""
    return x[:, 0] if spec.width else x


def _scale(i: int, spec: LevelSpec, parent: LevelSpec | None):
    s = spec.scale
    c = spec.scale_const
    shape = (spec.size, spec.width) if spec.width else ((spec.size,) if spec.size else ())
    make = SCALE_FAMILIES[spec.scale_family]
    if s == "const":
        return c
    if s == "data":
        return pm.Data(f"sd{i}", np.full(shape, c))
    if s == "det":
        log_s = pm.Normal(f"log_s{i}", np.log(c), 0.5)
        return pm.Deterministic(f"s{i}", pt.exp(log_s))
    if s == "wide":  # a vague log-scale prior, as in meta-analyses: exp(Normal(0, 100))
        log_s = pm.Normal(f"log_s{i}", 0.0, 100.0)
        return pm.Deterministic(f"s{i}", pt.exp(log_s))
    if s == "vector" and parent is not None and spec.idx is not None:
        sv = make(f"s{i}", c, shape=parent.size)
        return sv[np.asarray(spec.idx)][:, None] if spec.width else sv[np.asarray(spec.idx)]
    if s == "scale_of_scale":
        h = pm.HalfNormal(f"h{i}", c)
        return make(f"s{i}", h)
    return make(f"s{i}", c)  # "free" (and "vector" without a parent index)


def _loc(i: int, spec: LevelSpec, parent: LevelSpec | None, parent_var):
    if spec.loc == "const":
        return 0.3
    if spec.loc == "free" or parent_var is None:
        return pm.Normal(f"m{i}", 0.0, 1.0)
    pv = _vector(parent_var, parent)
    if parent.size == 0:
        loc = pv
    elif spec.size == 0 or spec.idx is None:
        loc = pv[0]
    else:
        loc = pv[np.asarray(spec.idx)]
    if spec.width and loc.ndim == 1:
        loc = loc[:, None]
    if parent.family in ("LogNormal", *SCALE_FAMILIES) and spec.family == "LogNormal":
        loc = pt.log(loc)  # keep LogNormal-of-LogNormal chains in a sane range
    return loc


def _size_kw(i: int, spec: LevelSpec) -> dict:
    if spec.size == 0:
        return {}
    if spec.dims:
        return {"dims": (f"l{i}", "w") if spec.width else f"l{i}"}
    return {"shape": (spec.size, spec.width) if spec.width else (spec.size,)}


def build_model(spec: ModelSpec) -> pm.Model:
    coords = {f"l{i}": range(lv.size) for i, lv in enumerate(spec.levels) if lv.size and lv.dims}
    coords["w"] = ["u", "v"]
    with pm.Model(coords=coords) as model:
        inner = pm.Model(name="sub") if spec.prefix else None
        if inner is not None:
            inner.__enter__()
        parent, parent_var = None, None
        for i, lv in enumerate(spec.levels):
            scale = _scale(i, lv, parent)
            kw = _size_kw(i, lv)
            if lv.family in SCALE_FAMILIES:
                x = SCALE_FAMILIES[lv.family](f"x{i}", scale, **kw)
            else:
                x = LOC_FAMILIES[lv.family](f"x{i}", _loc(i, lv, parent, parent_var), scale, **kw)
            parent, parent_var = lv, x
        if inner is not None:
            inner.__exit__(None, None, None)
        last = _vector(parent_var, parent)
        eta = last[np.asarray(spec.obs_idx)] if parent.size else last * np.ones(len(spec.obs_idx))
        if parent.family == "LogNormal" or parent.family in SCALE_FAMILIES:
            eta = pt.log(eta)
        obs = np.asarray(spec.observed)
        if spec.likelihood == "Normal":
            sigma = pm.HalfNormal("sigma_y", 1.0) if spec.free_sigma_y else 1.0
            pm.Normal("y", eta, sigma, observed=obs)
        elif spec.likelihood == "Poisson":
            pm.Poisson("y", pt.exp(pt.clip(eta, -10, 10)), observed=obs.astype(int))
        else:
            pm.Bernoulli("y", logit_p=eta, observed=obs.astype(int))
    return model


# --- the oracle ------------------------------------------------------------------------------


def logp_pair_fn(original: pm.Model, candidate: pm.Model, mode=FAST):
    """f(point of the candidate) -> (candidate logp, original logp through the change of variables).

    The candidate must come from ``decenter.transform``: a rewritten variable is a
    Deterministic of one new free variable (its standardized draw) and of original names.
    """
    replace = {}
    logdet = pt.constant(0.0, dtype="float64")
    for rv in original.free_RVs:
        value = original.rvs_to_values[rv]
        cand = candidate[rv.name]
        if cand in candidate.free_RVs:  # kept: the same value variable, same transform
            replace[value] = candidate.rvs_to_values[cand]
            continue
        (x,) = candidate.replace_rvs_by_values([cand])
        tr = original.rvs_to_transforms.get(rv)
        xu = x if tr is None else tr.forward(x, *rv.owner.inputs)
        replace[value] = xu
        eta = candidate.rvs_to_values[_standardized(original, candidate, rv.name)]
        # The map (all etas) -> (all x) is block triangular in topological order, so its
        # log-determinant is the sum of the diagonal blocks'.
        rule = find_rule(rv)  # MvNormal's per-element lam has a triangular map within a row
        if rule.elementwise and rule.name != "MvNormal":
            logdet = logdet + pt.log(pt.abs(pt.grad(xu.sum(), eta))).sum()
        else:
            jac = pytensor.gradient.jacobian(xu.flatten(), eta).reshape((xu.size, eta.size))
            logdet = logdet + pt.linalg.slogdet(jac)[1]
    through = graph_replace(original.logp(), replace, strict=False)
    # PyMC's parameter checks give -inf, not ParameterValueError, even without graph rewrites
    outputs = checks_to_ninf([candidate.logp(), through + logdet])
    return candidate.compile_fn(
        outputs,
        inputs=candidate.value_vars,
        mode=mode,
        point_fn=True,
        on_unused_input="ignore",
    )


def _standardized(original: pm.Model, candidate: pm.Model, name: str):
    """The new free variable that a rewritten variable is computed from."""
    new = [
        n
        for n in named_parents(candidate, candidate[name].owner.inputs)
        if n not in original.named_vars and candidate[n] in candidate.free_RVs
    ]
    assert len(new) == 1, (name, new)
    return candidate[new[0]]


def random_points(model: pm.Model, n: int, seed: int, scale: float = 1.0) -> list[dict]:
    """Points around the initial point (around zero when every value has a static shape and
    no initval: no compilation needed)."""
    rng = np.random.default_rng(seed)
    static = all(None not in v.type.shape for v in model.value_vars)
    if static and not any(iv is not None for iv in model.rvs_to_initial_values.values()):
        ip = {v.name: np.zeros(v.type.shape, dtype=v.dtype) for v in model.value_vars}
    else:
        ip = model.initial_point()
    points = []
    for _ in range(n):
        point = {}
        for k, v in ip.items():
            moved = v + rng.normal(scale=scale, size=np.shape(v))
            point[k] = np.round(moved).astype(v.dtype) if v.dtype.kind in "iu" else moved
        points.append(point)
    return points


def assert_logp_equivalent(original, candidate, n_points=3, seed=0, rtol=1e-6, atol=1e-6):
    f = logp_pair_fn(original, candidate)
    for point in random_points(candidate, n_points, seed):
        lp_new, lp_old = f(point)
        assert np.isfinite(lp_new) or not np.isfinite(lp_old), (point, lp_new, lp_old)
        np.testing.assert_allclose(lp_new, lp_old, rtol=rtol, atol=atol, err_msg=str(point))


def has_verify() -> bool:
    try:
        importlib.import_module("decenter.verify")
    except ImportError:
        return False
    return True


@contextmanager
def fast_verify():
    """decenter.verify compiling without graph rewrites (its module-level MODE), then restored."""
    module = importlib.import_module("decenter.verify")
    old = getattr(module, "MODE", None)
    module.MODE = FAST
    try:
        yield module.verify
    finally:
        module.MODE = old


def assert_verified(original, candidate, n_points=2, seed=0, draws=100):
    """decenter.verify (all three checks) on few points and draws, fast-compiled."""
    with fast_verify() as verify:
        report = verify(original, candidate, n_points=n_points, random_seed=seed, draws=draws)
    assert report.ok, str(report)
    return report


def assert_equivalent(original, candidate, n_points=2, seed=0, oracle=True):
    """decenter.verify when it exists, and the independent oracle (unless oracle=False)."""
    if has_verify():
        assert_verified(original, candidate, n_points=n_points, seed=seed)
    if oracle or not has_verify():
        assert_logp_equivalent(original, candidate, n_points=n_points, seed=seed)
