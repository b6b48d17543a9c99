"""``decenter diff``'s model text (issue 30, item 3): what a PyMC user would write.

No PyTensor internals on any model or strategy; PyMC's family names; ``lam = 0`` exactly as the
README writes it; only rewritten variables change; and every printed rewrite is the math the
graph computes (each formula is evaluated with NumPy against the model's own draws).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from pytensor.graph.replace import graph_replace

import decenter
from decenter._pymc import LKJCholeskyCovRV
from decenter.cli.models import model_lines, unified_diff
from decenter.core.plan import decide as make_plan
from decenter.core.plan import with_lams
from decenter.core.rewrite import apply_plan
from decenter.examples.radon import centered_model as radon
from decenter.families import find_rule
from test_guard import _mutant_normal, car_scale, gp_per_region, mvnormal_corr, normal_hyper

# the names of PyTensor's ops and PyMC's op classes that leaked into diffs before
DENY = [
    "<array",
    "assert(",
    "alloc(",
    "incsubtensor",
    "setsubtensor",
    "scalarfromtensor",
    "tensorfromscalar",
    "extractdiag",
    "cumop",
    "join(",
    "makevector",
    "blockwise",
    "dimshuffle",
    "specifyshape",
    "reciprocal(",
    "transpose(",
    "cholesky(",
    "expit",
    "RV(",
    "RV ",
    "_lkj",
    "MultivariateNormal",
    "Unknown",
    "Deterministic(",
    # a guarded rewrite's safe scale and guard (decenter.families.guard)
    "switch(",
    "invert(",
    "isnan(",
    "isinf(",
    "and(",
    "eye(",
    "all(and",
]
# the Cholesky factor of the user's own covariance is the user's math (pt.linalg.cholesky)
USER_CHOLESKY = {"mvnormal_corr", "gp_per_region"}


def lkj() -> pm.Model:
    rng = np.random.default_rng(0)
    coords = {"group": range(6), "coef": ["intercept", "slope"], "obs": range(60)}
    with pm.Model(coords=coords) as m:
        g = pm.Data("group_idx", rng.integers(0, 6, 60), dims="obs")
        x = pm.Data("x", rng.normal(size=60), dims="obs")
        sd = pm.Exponential.dist(1.0, shape=2)
        chol, _, _ = pm.LKJCholeskyCov("chol", n=2, eta=2.0, sd_dist=sd)
        mu = pm.Normal("mu", 0, 1, dims="coef")
        ab = pm.MvNormal("ab", mu=mu, chol=chol, dims=("group", "coef"))
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("y", ab[g, 0] + ab[g, 1] * x, sigma, observed=rng.normal(size=60), dims="obs")
    return m


def zero_sum() -> pm.Model:
    rng = np.random.default_rng(1)
    with pm.Model(coords={"year": range(5), "obs": range(50)}) as m:
        year = pm.Data("year_idx", rng.integers(0, 5, 50), dims="obs")
        s = pm.HalfNormal("sigma_year", 1)
        effect = pm.ZeroSumNormal("year_effect", sigma=s, dims="year")
        a = pm.Normal("alpha", 0, 2)
        pm.Poisson("y", pt.exp(a + effect[year]), observed=rng.poisson(3, 50), dims="obs")
    return m


def mixture() -> pm.Model:
    rng = np.random.default_rng(2)
    with pm.Model(coords={"g": range(4)}) as m:
        w = pm.Dirichlet("w", np.ones(2))
        mu = pm.Normal("mu", 0, 1, shape=2)
        tau = pm.HalfNormal("tau", 1)
        theta = pm.Normal("theta", mu[0], tau, dims="g")
        pm.Mixture("y", w, pm.Normal.dist(mu, 1.0), observed=rng.normal(size=20))
        pm.Normal("z", theta, 1.0, observed=rng.normal(size=4), dims="g")
    return m


def student_t() -> pm.Model:
    rng = np.random.default_rng(3)
    with pm.Model(coords={"region": range(3), "obs": range(40)}) as m:
        region = pm.Data("region_idx", rng.integers(0, 3, 40), dims="obs")
        mu = pm.Normal("mu", 0, 1)
        tau = pm.HalfNormal("tau", 1)
        r = pm.StudentT("region_effect", nu=3, mu=mu, sigma=tau, dims="region")
        pm.Bernoulli("y", logit_p=r[region], observed=rng.integers(0, 2, 40), dims="obs")
    return m


def truncated() -> pm.Model:
    rng = np.random.default_rng(4)
    with pm.Model(coords={"g": range(5)}) as m:
        mu = pm.Normal("mu", 0, 1)
        s = pm.HalfNormal("s", 1)
        t = pm.Truncated("t", pm.Normal.dist(mu, s), lower=0.0, dims="g")
        g = pm.Truncated("gam", pm.Gamma.dist(alpha=3.0, beta=1 / s), upper=9.0, dims="g")
        pm.Normal("y", t + g, 1.0, observed=rng.normal(size=5), dims="g")
    return m


def random_walk() -> pm.Model:
    rng = np.random.default_rng(5)
    with pm.Model(coords={"t": range(30)}) as m:
        s = pm.Exponential("s", 10)
        x = pm.GaussianRandomWalk("x", sigma=s, init_dist=pm.Normal.dist(0, 1), dims="t")
        pm.Normal("y", x, 0.5, observed=rng.normal(size=30).cumsum(), dims="t")
    return m


def scale_families() -> pm.Model:
    """Partial centering of families whose op takes other parameters than PyMC does."""
    with pm.Model(coords={"g": range(4)}) as m:
        s = pm.HalfNormal("s", 1)
        mu = pm.Normal("mu", 0, 1)
        pm.Exponential("e", scale=s, dims="g")
        pm.Gamma("gam", alpha=2.0, beta=1 / s, dims="g")
        pm.LogNormal("ln", mu, s, dims="g")
        pm.HalfNormal("h", s, dims="g")
    return m


MODELS = {
    "radon": radon,
    "lkj": lkj,
    "zero_sum": zero_sum,
    "mixture": mixture,
    "student_t": student_t,
    "truncated": truncated,
    "random_walk": random_walk,
    "scale_families": scale_families,
    # guarded rewrites: scales not provably positive
    "normal_hyper": normal_hyper,
    "car_scale": car_scale,
    "mvnormal_corr": mvnormal_corr,
    "gp_per_region": gp_per_region,
}


def auto_like(model: pm.Model):
    """A plan shaped like strategy="auto"'s (lam per element, some 0, and a unit), without a fit."""
    base = make_plan(model, strategy="noncentered")
    rng = np.random.default_rng(0)
    lams, units = {}, {}
    for d in base.rewrites:
        rule = find_rule(model[d.name])
        if rule.scalar_lam:  # one lam for the variable (ZeroSumNormal), printed as its number
            lams[d.name], units[d.name] = round(rng.uniform(0.05, 0.95), 2), 0.3
        if not rule.elementwise:
            continue
        shape = np.shape(pm.draw(model[d.name], random_seed=0))
        lam = rng.uniform(0, 1, shape)
        lam.flat[0] = 0.0
        lams[d.name], units[d.name] = lam, 0.3
    return with_lams(model, base, lams, "test", units)


def diff_of(model: pm.Model, strategy) -> tuple[list[str], object, pm.Model]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = auto_like(model) if strategy == "auto-like" else make_plan(model, strategy=strategy)
        new = apply_plan(model, p)
    return unified_diff(model, new, plan=p), p, new


@pytest.mark.parametrize("strategy", ["noncentered", "centered", 0.5, "auto-like"])
@pytest.mark.parametrize("name", list(MODELS))
def test_diff_shows_no_pytensor_internals(name, strategy):
    lines, p, _ = diff_of(MODELS[name](), strategy)
    text = "\n".join(lines)
    deny = [w for w in DENY if not (name in USER_CHOLESKY and w == "cholesky(")]
    leaked = [word for word in deny if word.lower() in text.lower()]
    assert not leaked, (leaked, text)
    # only rewritten variables change (a model rebuilt from its graph prints as it was)
    changed = {re.split(r" [~=] ", line[1:])[0] for line in lines[2:] if line[:1] in "+-"}
    expected = {n for d in p.rewrites for n in (d.name, d.new_name, d.guard) if n}
    assert {c.strip() for c in changed if not c.startswith("    ")} <= expected, text
    if p.rewrites:
        assert changed, text


def test_diff_under_auto_names_no_internals():
    m = student_t()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new, p = decenter.transform(m, return_plan=True, random_seed=1)
    text = "\n".join(unified_diff(m, new, plan=p))
    assert not [word for word in DENY if word.lower() in text.lower()], text
    assert "+region_effect_offset ~ StudentT(3, " in text


def test_lam_zero_prints_as_the_readme_writes_it():
    lines, _, _ = diff_of(radon(), "noncentered")
    assert "+b_offset ~ Normal(0, 1)  dims=(county,)" in lines
    assert "+b = mu_b + sigma_b * b_offset  dims=(county,)" in lines
    assert "-b ~ Normal(mu_b, sigma_b)  dims=(county,)" in lines


def test_partial_form_is_written_with_lam_and_unit_and_summarised():
    lines, p, _ = diff_of(radon(), "auto-like")
    lam = np.asarray(p["a"].lam)
    assert "+a_offset ~ Normal(lam * mu_a / unit, (sigma_a / unit) ** lam)  dims=(county,)" in lines
    forward = "+a = mu_a + unit * (sigma_a / unit) ** (1 - lam) * (a_offset - lam * mu_a / unit)"
    assert forward + "  dims=(county,)" in lines
    summary = f"+    lam: {lam.min():.2f}-{lam.max():.2f} (median {np.median(lam):.2f}) over 85 counties; unit = 0.3"
    assert summary in lines
    # one lam for every element is written as its number
    half, _, _ = diff_of(radon(), 0.5)
    assert "+a_offset ~ Normal(0.5 * mu_a, sigma_a ** 0.5)  dims=(county,)" in half
    assert "+a = mu_a + sigma_a ** 0.5 * (a_offset - 0.5 * mu_a)  dims=(county,)" in half


def test_family_names_indexing_and_cholesky_factors_as_a_user_writes_them():
    lines, _, _ = diff_of(lkj(), "noncentered")
    assert " chol ~ LKJCholeskyCov(n=2, eta=2, sd_dist=Exponential(1))  shape=(3,)" in lines
    assert "-ab ~ MvNormal(mu, chol=chol)  dims=(group, coef)" in lines
    assert "+ab = mu + ab_offset @ chol.T  dims=(group, coef)" in lines
    assert any("ab[group_idx, 0] + ab[group_idx, 1] * x" in line for line in lines)
    zsn, _, _ = diff_of(zero_sum(), "noncentered")
    assert "-year_effect ~ ZeroSumNormal(sigma_year)  dims=(year,)" in zsn
    assert "y ~ Mixture(w, Normal(mu, 1))  shape=(20,)  observed" in model_lines(mixture())
    walk, _, _ = diff_of(random_walk(), "noncentered")
    assert "-x ~ GaussianRandomWalk(sigma=s, init_dist=Normal(0, 1))  dims=(t,)" in walk


def test_nothing_rewritten_means_no_change():
    """LKJ's chol_corr printed differently in the model rebuilt from its graph (a merged
    sub-expression became chol_stds); printing is canonical now."""
    m = lkj()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = apply_plan(m, make_plan(m, strategy="centered"))
    assert model_lines(m) == model_lines(new)


def _namespace(model: pm.Model, values: dict, p) -> dict:
    ns = {name: np.asarray(v) for name, v in values.items()}
    for name, var in model.named_vars.items():  # an LKJCholeskyCov name is its factor
        if var.owner is not None and isinstance(var.owner.op, LKJCholeskyCovRV):
            packed = ns[name]
            n = int(round((np.sqrt(8 * packed.size + 1) - 1) / 2))
            ns[name] = np.zeros((n, n))
            ns[name][np.tril_indices(n)] = packed
    ns.update(
        exp=np.exp, log=np.log, sqrt=np.sqrt, cumsum=np.cumsum, concatenate=np.concatenate,
        diagonal=lambda x: np.diagonal(x, axis1=-2, axis2=-1), inf=np.inf, tril=np.tril,
        diag=lambda v: v[..., None] * np.eye(v.shape[-1]),
        solve=lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
    )  # fmt: skip
    return ns


@pytest.mark.parametrize("strategy", ["noncentered", 0.5, "auto-like"])
@pytest.mark.parametrize(
    "name", ["radon", "lkj", "zero_sum", "student_t", "random_walk", "scale_families"]
)
def test_every_printed_rewrite_is_the_math_the_graph_computes(name, strategy, seed):
    m = MODELS[name]()
    lines, p, new = diff_of(m, strategy)
    forward, defined, offset = {}, {}, None
    for line in lines:
        match = re.match(r"\+(\w+) = (.*?)(  (dims|shape)=.*)?$", line)
        if match:
            forward[match[1]] = match[2]
        offset = re.match(r"\+(\w+)_offset ~ ", line) or offset
        if line.startswith("+    A = "):
            defined[offset[1]] = line[len("+    A = ") :]
    names = [d.name for d in p.rewrites]
    assert sorted(forward) == sorted(names)
    free = [new[n] for n in new.named_vars if new[n] in new.free_RVs]
    draws = pm.draw([*free, *(new[n] for n in names)], random_seed=seed)
    values = dict(zip([v.name for v in free] + names, draws, strict=True))
    for d in p.rewrites:
        ns = _namespace(new, {k: v for k, v in values.items() if k in new.named_vars}, p)
        if d.lam is not None:
            ns.update(lam=np.asarray(d.lam), unit=1.0 if d.unit is None else np.asarray(d.unit))
        if d.name in defined:  # MvNormal's partial form: its factor A on the line below
            ns["A"] = eval(defined[d.name], {"__builtins__": {}}, ns)  # noqa: S307
        got = eval(forward[d.name], {"__builtins__": {}}, ns)  # noqa: S307  (our own text)
        np.testing.assert_allclose(got, values[d.name], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["radon", "scale_families"])
def test_every_printed_partial_offset_has_the_graphs_parameters(name, seed):
    m = MODELS[name]()
    lines, p, new = diff_of(m, "auto-like")
    offsets = dict(re.findall(r"^\+(\w+_offset) ~ Normal\((.*)\)  dims=", "\n".join(lines), re.M))
    partial = [d for d in p.rewrites if d.new_name in offsets]
    assert partial, lines
    free = [v for v in new.free_RVs]
    params = [x for d in partial for x in _loc_scale(new[d.new_name])]
    draws = pm.draw([*free, *params], random_seed=seed)
    values = dict(zip([v.name for v in free], draws, strict=False))
    for k, d in enumerate(partial):
        ns = _namespace(new, values, p)
        ns.update(lam=np.asarray(d.lam), unit=np.asarray(d.unit))
        got = eval(f"({offsets[d.new_name]})", {"__builtins__": {}}, ns)  # noqa: S307
        want = draws[len(free) + 2 * k : len(free) + 2 * k + 2]
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(np.broadcast_to(g, w.shape), w, rtol=1e-7)


def _loc_scale(offset):
    ls = find_rule(offset).read(offset)
    return ls.loc, ls.scale


def test_lam_zero_for_every_element_in_a_unit_is_the_non_centered_form():
    m = radon()
    base = make_plan(m, strategy="noncentered")
    p = with_lams(
        m, base, {"b": np.zeros(85), "a": np.full(85, 0.25)}, "test", {"b": 0.3, "a": 2.0}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lines = unified_diff(m, apply_plan(m, p), plan=p)
    assert "+b_offset ~ Normal(0, 1)  dims=(county,)" in lines
    assert "+b = mu_b + sigma_b * b_offset  dims=(county,)" in lines
    # one lam, in a unit: the number inline, the unit named and given below
    assert (
        "+a_offset ~ Normal(0.25 * mu_a / unit, (sigma_a / unit) ** 0.25)  dims=(county,)" in lines
    )
    assert [line for line in lines if line.startswith("+    ")] == ["+    unit = 2"]


# (the guarded variable, its scale's hyperparameter, values of it inside and outside the support)
GUARDED = {
    "normal_hyper": (normal_hyper, "b", "s", [1.3, 0.2, -0.5, 0.0, np.inf, np.nan]),
    "car_scale": (car_scale, "b", "tau", [2.0, 0.3, -1.0, 0.0, -np.inf]),
    # rho unbounded, so that a draw can be outside (-1, 1)
    "mvnormal_corr": (
        lambda: mvnormal_corr(lambda: pm.Normal("rho", 0.0, 0.3)),
        "ab",
        "rho",
        [0.5, -0.9, 1.5, -3.0],
    ),
}


def _nan_cholesky(cov):
    """PyTensor's Cholesky: NaN where it fails."""
    try:
        return np.linalg.cholesky(np.asarray(cov, dtype=float))
    except np.linalg.LinAlgError:
        return np.full(np.shape(cov), np.nan)


def _succeeds(factor) -> bool:
    return bool(np.all(np.isfinite(factor)) and np.all(np.diagonal(factor) > 0))


@pytest.mark.parametrize(
    "name, strategy",
    [("normal_hyper", "noncentered"), ("normal_hyper", 0.5), ("car_scale", "noncentered")]
    + [("car_scale", 0.5), ("mvnormal_corr", "noncentered")],
)
def test_a_guarded_rewrite_prints_its_math_and_its_guard(name, strategy, seed):
    """``b = s * b_offset`` and ``Potential(0 if 0 < s < inf else -inf)``: the printed guard is
    the graph's at every point, the printed forward map the graph's wherever the guard is 0."""
    make, var, hyper, values = GUARDED[name]
    lines, p, new = diff_of(make(), strategy)
    texts = dict(re.findall(r"^\+(\w+) = (.*?)(?:  (?:dims|shape)=.*)?$", "\n".join(lines), re.M))
    d = p[var]
    guard = re.fullmatch(r"Potential\((.*)\)", texts[d.guard])[1]
    guard = re.sub(r"0 if (.*) succeeds else", r"0 if _succeeds(\1) else", guard)
    free = [v for v in new.free_RVs if v.name != hyper]
    base = dict(zip([v.name for v in free], pm.draw(free, random_seed=seed), strict=True))
    outcomes = set()
    for value in values:
        point = {**base, hyper: np.asarray(value)}
        given = {new[k]: pt.constant(v, dtype=new[k].dtype) for k, v in point.items()}
        graph_guard, graph_x = (
            graph_replace(v, given, strict=False).eval() for v in (new[d.guard], new[var])
        )
        ns = _namespace(new, point, p)
        ns.update(
            abs=np.abs, sign=np.sign, zeros=np.zeros, cholesky=_nan_cholesky, _succeeds=_succeeds
        )
        if d.lam is not None:
            ns.update(lam=np.asarray(d.lam), unit=1.0)
        with np.errstate(all="ignore"):
            printed_guard = eval(guard, {"__builtins__": {}}, ns)  # noqa: S307  (our own text)
            printed_x = eval(texts[var], {"__builtins__": {}}, ns)  # noqa: S307
        assert printed_guard == graph_guard, (value, texts[d.guard])
        outcomes.add(float(graph_guard))
        if graph_guard == 0:  # a valid point: the printed map is the graph's value
            np.testing.assert_allclose(printed_x, graph_x, rtol=1e-7, atol=1e-9)
    assert outcomes == {0.0, -np.inf}


def test_a_switch_that_is_not_the_guards_prints_as_written():
    """Only the guard's own construction is read as a guard: the hand-written safe scale
    ``switch(s > 0, s, 1)`` differs from it at s = inf, so it is printed as it is."""
    lines = model_lines(_mutant_normal(lambda s: s > 0))
    assert "b = switch(s > 0, s, 1) * b_offset  shape=(3,)" in lines
    assert "b_guard = Potential(switch(s > 0, 0, -inf))" in lines


def test_stacks_and_logic_print_as_numpy_reads_them(seed):
    with pm.Model() as m:
        s = pm.Normal("s")
        v = pm.Normal("v", shape=3)
        pm.Deterministic("c", pt.stack([pt.stack([s, 2 * s]), pt.stack([s**2, s])]))
        pm.Deterministic("d", pt.stack([v, v + 1], axis=1))
        pm.Deterministic("e", pt.concatenate([v, 2 * v]))
        pm.Deterministic("f", ((s > 0) & ~pt.isfinite(v)) | (v < 1))
    lines = model_lines(m)
    assert lines[2:] == [
        "c = [[s, 2 * s], [s ** 2, s]]  shape=(2, 2)",
        "d = stack([v, v + 1], axis=1)  shape=(3, 2)",
        "e = concatenate([v, 2 * v])  shape=(6,)",
        "f = (s > 0) & ~isfinite(v) | (v < 1)  shape=(3,)",
    ]
    values = dict(
        zip(
            ["s", "v", "c", "d", "e", "f"],
            pm.draw(list(m.named_vars.values()), random_seed=seed),
            strict=True,
        )
    )
    ns = {"s": values["s"], "v": values["v"], "stack": np.stack, "concatenate": np.concatenate}
    ns["isfinite"] = np.isfinite
    for line in lines[2:]:
        name, text = re.match(r"(\w+) = (.*?)  shape=", line).groups()
        got = eval(text, {"__builtins__": {}}, ns)  # noqa: S307  (our own text)
        np.testing.assert_array_equal(np.asarray(got), values[name])
