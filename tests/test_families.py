"""Every family in the registry (issue 5): structures, partial centering, and what is kept.

The rules are tested under ``strategy="noncentered"`` (the rule's own forward map, no fit);
``test_default_choice_covers_every_family`` runs the default (the Laplace fit) over all of
them at once.
"""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import decenter
from decenter.families import RULES, find_rule

LOC_SCALE = {
    "Normal": lambda name, loc, scale, **kw: pm.Normal(name, loc, scale, **kw),
    "StudentT": lambda name, loc, scale, **kw: pm.StudentT(name, nu=5, mu=loc, sigma=scale, **kw),
    "Cauchy": lambda name, loc, scale, **kw: pm.Cauchy(name, loc, scale, **kw),
    "Laplace": lambda name, loc, scale, **kw: pm.Laplace(name, loc, scale, **kw),
    "Logistic": lambda name, loc, scale, **kw: pm.Logistic(name, loc, scale, **kw),
    "Gumbel": lambda name, loc, scale, **kw: pm.Gumbel(name, loc, scale, **kw),
    "LogNormal": lambda name, loc, scale, **kw: pm.LogNormal(name, loc, scale, **kw),
    "SkewNormal": lambda name, loc, scale, **kw: pm.SkewNormal(
        name, mu=loc, sigma=scale, alpha=3.0, **kw
    ),
}
SCALE_ONLY = {
    "HalfNormal": lambda name, scale, **kw: pm.HalfNormal(name, sigma=scale, **kw),
    "HalfCauchy": lambda name, scale, **kw: pm.HalfCauchy(name, beta=scale, **kw),
    "Exponential": lambda name, scale, **kw: pm.Exponential(name, scale=scale, **kw),
    "Gamma": lambda name, scale, **kw: pm.Gamma(name, alpha=3.0, beta=1 / scale, **kw),
    "HalfStudentT": lambda name, scale, **kw: pm.HalfStudentT(name, nu=4.0, sigma=scale, **kw),
    "Weibull": lambda name, scale, **kw: pm.Weibull(name, alpha=2.0, beta=scale, **kw),
    "InverseGamma": lambda name, scale, **kw: pm.InverseGamma(name, alpha=4.0, beta=scale, **kw),
}


def four_structures(family):
    """One model holding the family as: size given, shape implied, dims, and nested."""
    make = LOC_SCALE.get(family) or SCALE_ONLY[family]
    has_loc = family in LOC_SCALE
    idx = np.array([0, 0, 1, 2, 2])
    with pm.Model(coords={"g": range(3), "leaf": range(5)}) as m:
        mu = pm.Normal("mu", 0, 0.5)
        s = pm.HalfNormal("s", 0.5)
        s2 = pm.HalfNormal("s2", 0.5)

        def draw(name, loc, scale, **kw):
            return make(name, loc, scale, **kw) if has_loc else make(name, scale, **kw)

        sized = draw("sized", mu, s, size=4)
        implied = draw("implied", mu + pt.zeros(3), s * pt.ones(3))
        with_dims = draw("with_dims", mu, s, dims="g")
        # nested: the child's location (or scale) is the parent's value, indexed
        if has_loc:
            nested = draw("nested", pt.log1p(pt.abs(with_dims))[idx], s2, dims="leaf")
        else:
            nested = draw("nested", None, with_dims[idx] * s2, dims="leaf")
        total = sized.sum() + implied.sum() + nested.sum()
        pm.Normal("y", pt.log1p(pt.abs(total)), 1.0, observed=0.3)
    return m


FAMILIES = list(LOC_SCALE) + list(SCALE_ONLY)


def test_default_choice_covers_every_family():
    """The default fits one lam per element for every family, then verifies equivalent."""
    with pm.Model(coords={"g": range(3)}) as m:
        mu = pm.Normal("mu", 0, 0.5)
        s = pm.HalfNormal("s", 0.5)
        total = 0.0
        for family in FAMILIES:
            make = LOC_SCALE.get(family) or SCALE_ONLY[family]
            x = make(family, mu, s, dims="g") if family in LOC_SCALE else make(family, s, dims="g")
            total = total + x.sum()
        pm.Normal("y", pt.log1p(pt.abs(total)), 1.0, observed=0.3)
    new, p = decenter.transform(m, return_plan=True)
    assert p.fit["method"] == "laplace" and p.fit["converged"]
    for family in FAMILIES:
        assert any(note.startswith(f"auto: {family}: lam") for note in p.notes), family
        # one observation of a sum: every element is weakly informed, so (mostly) non-centered
        lam = p[family].lam
        assert p[family].rewrite and (lam is None or np.max(lam) < 0.5), p[family]
    report = decenter.verify(m, new, random_seed=2, draws=400, n_points=6)
    assert report.ok, str(report)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_all_structures_verified(family):
    m = four_structures(family)
    p = decenter.plan(m, strategy="noncentered")
    targets = ["sized", "implied", "with_dims", "nested"]
    assert [d.name for d in p.rewrites] == targets
    assert {p[n].family for n in targets} == {family}
    new = decenter.transform(m, strategy="noncentered")
    for name in targets:
        assert new[name] in new.deterministics
        assert tuple(new[name].shape.eval()) == tuple(m[name].shape.eval())
    report = decenter.verify(m, new, random_seed=2)
    assert report.ok, str(report)
    assert decenter.plan(new).rewrites == []  # a second pass finds nothing to do


@pytest.mark.parametrize("lam", [0.3, "array"])
@pytest.mark.parametrize(
    "family",
    ["Normal", "StudentT", "LogNormal", "Gamma", "SkewNormal", "HalfStudentT", "Weibull"]
    + ["InverseGamma"],
)
def test_partial_centering_verified(family, lam):
    m = four_structures(family)
    strategy = {"with_dims": np.array([0.0, 0.5, 1.0]), "sized": 0.8} if lam == "array" else lam
    new, p = decenter.transform(m, strategy=strategy, return_plan=True)
    if lam == "array":
        np.testing.assert_array_equal(p["with_dims"].lam, [0.0, 0.5, 1.0])
        assert p["with_dims"].new_name == "with_dims_offset"
        assert p["nested"].lam is None and p["nested"].new_name == "nested_offset"
    else:
        assert all(d.lam == 0.3 for d in p.rewrites)
    report = decenter.verify(m, new, random_seed=3)
    assert report.ok, str(report)


def test_lam_one_leaves_model_as_it_was_and_zero_is_noncentered():
    m = four_structures("Normal")
    centered, centered_plan = decenter.transform(m, strategy=1.0, return_plan=True)
    assert [v.name for v in centered.free_RVs] == [v.name for v in m.free_RVs]
    assert all("lam = 1" in d.reason for d in centered_plan if d.name in ("sized", "nested"))
    zero = decenter.transform(m, strategy=0.0)
    nc = decenter.transform(m, strategy="noncentered")
    assert [v.name for v in zero.free_RVs] == [v.name for v in nc.free_RVs]
    point = nc.initial_point()
    assert zero.compile_logp()(point) == nc.compile_logp()(point)
    assert decenter.plan(m, strategy="centered").rewrites == []


def test_mvnormal_with_lkj_cholesky_and_with_cov():
    with pm.Model(coords={"g": range(5), "k": range(3)}) as m:
        chol, _, _ = pm.LKJCholeskyCov(
            "chol", n=3, eta=2.0, sd_dist=pm.Exponential.dist(1.0), compute_corr=True
        )
        mu = pm.Normal("mu", 0, 1, dims="k")
        x = pm.MvNormal("x", mu=mu, chol=chol, dims=("g", "k"))
        tau = pm.HalfNormal("tau")
        z = pm.MvNormal(
            "z", mu=pt.zeros(3), cov=tau**2 * np.array([[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])
        )
        pm.Normal("y", x.sum(0) + z, 1.0, observed=np.zeros(3), dims="k")
    p = decenter.plan(m, strategy="noncentered")
    assert [d.name for d in p.rewrites] == ["x", "z"]
    assert p["x"].scale_parents == ["chol"]
    new = decenter.transform(m, strategy="noncentered")
    assert new.named_vars_to_dims["x_offset"] == ("g", "k")
    report = decenter.verify(m, new, random_seed=4)
    assert report.ok, str(report)
    # partially centered element by element, on the conditional scales (both forms of cov)
    partial = decenter.transform(m, strategy=0.3, return_plan=True)
    assert partial.plan["x"].lam == 0.3 and partial.plan["z"].lam == 0.3
    report = decenter.verify(m, partial.model, random_seed=4)
    assert report.ok, str(report)


def test_mvnormal_partial_form_ends_are_the_original_and_the_whitened_offsets():
    """lam = 1: A = L, x = eta (the original); lam -> 0: A -> I, x = mu + L eta (the
    non-centered form); in between the map is x = mu + L A^-1 (eta - lam mu)."""
    chol = np.array([[1.5, 0.0, 0.0], [0.4, 0.7, 0.0], [-0.3, 0.2, 0.5]])
    mu = np.array([1.0, -2.0, 0.5])
    x = pm.MvNormal.dist(mu, chol=chol, size=(4,))
    rule = find_rule(x)
    ls = rule.read(x)
    eta = np.random.default_rng(0).normal(size=(4, 3))
    for lam, want in [(1.0, eta), (1e-12, mu + eta @ chol.T)]:
        got = rule.forward(ls, pt.as_tensor(eta), pt.as_tensor(np.full((4, 3), lam))).eval()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    lam = np.array([0.2, 0.5, 0.9])
    a = np.diag(np.diag(chol) ** lam) + lam[:, None] * np.tril(chol, -1)
    got = rule.forward(ls, pt.as_tensor(eta), pt.as_tensor(lam)).eval()
    np.testing.assert_allclose(got, mu + np.linalg.solve(a, (eta - lam * mu).T).T @ chol.T)
    # and the offset's law: MvNormal(lam mu, chol=A)
    draws = pm.draw(rule.standard(x, ls, pt.as_tensor(lam)), draws=20000, random_seed=1)
    np.testing.assert_allclose(np.cov(draws.reshape(-1, 3).T), a @ a.T, atol=0.05)


@pytest.mark.parametrize("k", [3, 10])
def test_mvnormal_partial_offset_density_is_mvnormal_and_solves_nothing_when_small(k):
    """With a lam per element the offset's factor A differs by row. Up to TRI_UNROLL_MAX
    elements per row its density is written out without a solve (a CustomDist shown as
    MvNormal): the same log density as PyMC's MvNormal(lam mu, chol=A), and a log density
    and gradient without batched solves or factorisations (PyMC's MvNormal makes a small
    LAPACK call per row: 10x the original's cost per gradient on chickweight). Above it,
    PyMC's MvNormal is kept."""
    from decenter.families.multivariate import TRI_UNROLL_MAX

    rng = np.random.default_rng(3)
    chol = np.tril(rng.normal(size=(k, k)), -1) + np.diag(rng.uniform(0.5, 2.0, k))
    mu = rng.normal(size=k)
    x = pm.MvNormal.dist(mu, chol=chol, size=(5,))
    rule = find_rule(x)
    ls = rule.read(x)
    lam = pt.as_tensor(rng.uniform(0.05, 0.95, size=(5, k)))
    offset = rule.standard(x, ls, lam)
    assert (type(offset.owner.op) is type(pm.MvNormal.dist(mu, chol=chol).owner.op)) == (
        k > TRI_UNROLL_MAX
    )
    lam_ = lam.eval()
    a = np.stack([np.diag(np.diag(chol) ** r) + r[:, None] * np.tril(chol, -1) for r in lam_])
    value = rng.normal(size=(5, k))
    want = pm.logp(pm.MvNormal.dist(lam_ * mu, chol=pt.as_tensor(a)), value).eval()
    np.testing.assert_allclose(pm.logp(offset, value).eval(), want, rtol=1e-10)

    with pm.Model() as m:
        sd = pm.HalfNormal("sd", 1.0, shape=k)
        factor = pt.diag(sd) + 0.3 * np.tril(np.ones((k, k)), -1)
        xs = pm.MvNormal("x", pt.zeros(k), chol=factor, shape=(5, k))
        pm.Normal("y", xs, 1.0, observed=rng.normal(size=(5, k)))
    new = decenter.transform(m, strategy={"x": lam_})
    fgraph = new.logp_dlogp_function(ravel_inputs=True)._pytensor_function.maker.fgraph
    solves = [n for n in fgraph.apply_nodes if "Solve" in str(n.op) or "Cholesky" in str(n.op)]
    assert (not solves) == (k <= TRI_UNROLL_MAX), solves
    report = decenter.verify(m, new, random_seed=6, draws=300)
    assert report.ok, str(report)


def test_mvnormal_partial_form_with_a_factor_per_row_matches_the_solves():
    """A covariance per row (a batch of factors L): the offset's density, its draws and the map
    back agree with PyMC's MvNormal(lam mu, chol=A) and triangular solves, row by row (the
    written-out A^-1 with a matrix product per row)."""
    rng = np.random.default_rng(8)
    k, rows = 4, 5
    chol = np.tril(rng.normal(size=(rows, k, k)), -1) + np.stack(
        [np.diag(rng.uniform(0.5, 2.0, k)) for _ in range(rows)]
    )
    mu = rng.normal(size=k)
    x = pm.MvNormal.dist(mu, cov=pt.as_tensor(chol @ np.swapaxes(chol, -1, -2)))
    rule = find_rule(x)
    ls = rule.read(x)
    lam = rng.uniform(0.05, 0.95, size=(rows, k))
    pairs = zip(chol, lam, strict=True)
    a = np.stack([np.diag(np.diag(c) ** r) + r[:, None] * np.tril(c, -1) for c, r in pairs])
    offset = rule.standard(x, ls, pt.as_tensor(lam))
    value = rng.normal(size=(rows, k))
    want = pm.logp(pm.MvNormal.dist(lam * mu, chol=pt.as_tensor(a)), value).eval()
    np.testing.assert_allclose(pm.logp(offset, value).eval(), want, rtol=1e-10)
    got = rule.forward(ls, pt.as_tensor(value), pt.as_tensor(lam)).eval()
    for row in range(rows):
        w = np.linalg.solve(a[row], value[row] - lam[row] * mu)
        np.testing.assert_allclose(got[row], mu + chol[row] @ w, rtol=1e-9)
    # margins: over seeds 0-199 the largest deviations were 0.046 (means) and 0.065 (row 1's
    # covariance, entries up to 2.3); a draw without the c * S z term is off by 1.1 there
    draws = pm.draw(offset, draws=20000, random_seed=2)
    np.testing.assert_allclose(draws.mean(0), lam * mu, atol=0.06)
    np.testing.assert_allclose(np.cov(draws[:, 1].T), a[1] @ a[1].T, atol=0.12)


def test_zerosumnormal():
    with pm.Model(coords={"g": range(4)}) as m:
        sigma = pm.HalfNormal("sigma")
        x = pm.ZeroSumNormal("x", sigma=sigma, dims="g")
        pm.Normal("y", x, 1.0, observed=np.arange(4.0), dims="g")
    new, p = decenter.transform(m, strategy="noncentered", return_plan=True)
    assert p["x"].family == "ZeroSumNormal"
    assert new["x"] in new.deterministics
    np.testing.assert_allclose(pm.draw(new["x"], draws=50, random_seed=1).sum(-1), 0, atol=1e-9)
    report = decenter.verify(m, new, random_seed=5)
    assert report.ok, str(report)


def test_unsupported_variables_are_kept_with_reasons():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        s = pm.HalfNormal("s")
        pm.Truncated("trunc", pm.LogNormal.dist(mu, s), lower=1, shape=2)
        pm.Censored("cens", pm.Normal.dist(mu, s), lower=-1, upper=1, shape=2)
        pm.Mixture(
            "mix", w=[0.5, 0.5], comp_dists=[pm.Normal.dist(mu, s), pm.Normal.dist(-mu, s)], shape=2
        )
        pm.CustomDist(
            "custom", mu, s, logp=lambda v, m_, s_: pm.logp(pm.Normal.dist(m_, s_), v), shape=2
        )
        pm.Normal("ordered", mu, s, shape=2, transform=pm.distributions.transforms.ordered)
    p = decenter.plan(m, strategy="noncentered")
    assert p.rewrites == []
    assert p["trunc"].reason.startswith("Truncated lognormal: only continuous location-scale")
    assert p["cens"].reason.startswith("Censored")
    assert p["mix"].reason.startswith("Mixture")
    assert p["custom"].reason.startswith("CustomDist")
    assert p["ordered"].reason.startswith("has a non-default value transform")
    new = decenter.transform(m, strategy="noncentered")
    assert [v.name for v in new.free_RVs] == [v.name for v in m.free_RVs]


def test_registry_has_one_rule_per_family_and_find_rule():
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert set(FAMILIES) | {"MvNormal", "ZeroSumNormal", "Truncated", "RandomWalk"} <= set(names)
    assert find_rule(pm.Normal.dist(0, 1)).name == "Normal"
    assert find_rule(pm.Beta.dist(1, 1)) is None


def test_strategy_for_a_kept_variable_is_reported_not_silently_dropped():
    m = four_structures("Normal")
    p = decenter.plan(m, strategy={"s": 0.5, "sized": 0.2})
    assert p["sized"].lam == 0.2
    assert any("'s' is kept" in note and "ignored" in note for note in p.notes)
    with pytest.raises(ValueError, match="lam must be a number or an array"):
        decenter.plan(m, strategy={"sized": ["x"]})


FAST = {"draws": 400, "n_points": 8}  # verify settings for the models below (few variables)


def test_truncated_with_constant_data_random_and_infinite_bounds():
    with pm.Model(coords={"g": range(3)}) as m:
        mu = pm.Normal("mu")
        s = pm.HalfNormal("s")
        lower = -pm.math.exp(pm.Normal("log_lo", 0.0, 0.3))  # random, always below the data bound
        upper = pm.Data("upper", np.array([0.5, 1.0, 2.0]), dims="g")
        pm.Truncated("const", pm.Normal.dist(mu, s), lower=0.0, dims="g")
        pm.TruncatedNormal("moving", mu, s, lower=lower, upper=upper, dims="g")
        pm.Truncated("t", pm.StudentT.dist(nu=4, mu=mu, sigma=s), lower=lower - 1, dims="g")
        pm.Truncated("lap", pm.Laplace.dist(mu, s), upper=upper, dims="g")
        pm.Truncated("gam", pm.Gamma.dist(alpha=3.0, beta=1 / s), upper=upper, dims="g")
    targets = ["const", "moving", "t", "lap", "gam"]
    p = decenter.plan(m, strategy="noncentered")
    assert [d.name for d in p.rewrites] == targets
    assert {p[n].family for n in targets} == {"Truncated"}
    new = decenter.transform(m, strategy="noncentered")
    # an infinite bound PyMC passes wrapped (TruncatedNormal's upper) is no bound: written as
    # (inf - mu) / s it made the gradient in mu and s NaN ("gam" has an infinite one at the
    # initial point, as in the original model)
    assert not np.isnan(new.compile_dlogp()(new.initial_point())).any()
    # the offset's bounds move with mu and s: at mu=1, s=2 the offset of "const" is above -0.5
    lo = pm.draw(
        new["const_offset"], draws=200, random_seed=1, givens={new["mu"]: 1.0, new["s"]: 2.0}
    )
    assert lo.min() >= -0.5 and lo.min() < -0.4
    # an infinite bound stays infinite: "t" has no upper bound, its offset is lower-bounded only
    assert type(new.rvs_to_transforms[new["t_offset"]]).__name__ == "Interval"
    report = decenter.verify(m, new, random_seed=6, **FAST)
    assert report.ok, str(report)
    assert decenter.plan(new).rewrites == []
    # lam is 0 or 1 only: a fractional lam is rounded, with the reason in the plan
    half = decenter.plan(m, strategy=0.3)
    assert "Truncated is centered or not as a whole: lam rounded to 0" in half["t"].reason


def test_gaussian_random_walk_with_drift_and_batch():
    with pm.Model(coords={"t": range(6), "b": range(2)}) as m:
        s = pm.Exponential("s", 5.0)
        mu = pm.Normal("mu", 0.0, 0.1)
        pm.GaussianRandomWalk("x", mu=mu, sigma=s, init_dist=pm.Normal.dist(1.0, 2.0), dims="t")
        s2 = pm.HalfNormal("s2", 0.2, dims="b")
        pm.GaussianRandomWalk("x2", sigma=s2, init_dist=pm.Normal.dist(0, 2), dims=("b", "t"))
    p = decenter.plan(m, strategy="noncentered")
    assert [d.name for d in p.rewrites] == ["x", "x2"]
    assert p["x"].family == "RandomWalk" and p["x"].loc_parents == ["mu"]
    new = decenter.transform(m, strategy="noncentered")
    assert new.named_vars_to_dims["x_offset"] == ("t",)
    assert new.named_vars_to_dims["x2_offset"] == ("b", "t")
    # the offset is a unit-step walk in level space: x = eta_0 + mu t + s (eta - eta_0)
    offset = np.array([0.5, 1.0, -1.0, 0.0, 2.0, 1.0])
    x = new.compile_fn(new["x"], inputs=[new["x_offset"], new["mu"], new["s"]])
    got = x({"x_offset": offset, "mu": 0.1, "s": 0.5})
    np.testing.assert_allclose(got, 0.5 + 0.1 * np.arange(6) + 0.5 * (offset - 0.5))
    assert type(new["x_offset"].owner.op).__name__ == "RandomWalkRV"
    report = decenter.verify(m, new, random_seed=7, **FAST)
    assert report.ok, str(report)
    assert decenter.plan(new).rewrites == []
    assert decenter.plan(new)["x_offset"].action == "keep"
    assert "lam rounded to 1" in decenter.plan(m, strategy=0.7)["x"].reason


def test_random_walks_with_studentt_and_mvnormal_innovations_and_kept_walks():
    with pm.Model(coords={"t": range(5), "k": range(2)}) as m:
        s = pm.HalfNormal("s")
        innov = pm.StudentT.dist(nu=4, mu=0.0, sigma=s)
        pm.RandomWalk("xt", innovation_dist=innov, init_dist=pm.Normal.dist(), dims="t")
        chol, _, _ = pm.LKJCholeskyCov(
            "chol", n=2, eta=2.0, sd_dist=pm.Exponential.dist(2.0), compute_corr=True
        )
        init = pm.MvNormal.dist(pt.zeros(2), np.eye(2))
        pm.MvGaussianRandomWalk("xm", mu=pt.zeros(2), chol=chol, init_dist=init, dims=("t", "k"))
        # a constrained init cannot share one unconstrained value with the offsets: kept
        init_pos = pm.HalfNormal.dist(1.0)
        pm.GaussianRandomWalk("kept", sigma=s, init_dist=init_pos, dims="t")
    p = decenter.plan(m, strategy="noncentered")
    assert [d.name for d in p.rewrites] == ["xt", "xm"]
    assert p["kept"].reason.startswith("RandomWalk: rewritten only with location-scale")
    new = decenter.transform(m, strategy="noncentered")
    assert new.named_vars_to_dims["xm_offset"] == ("t", "k")
    report = decenter.verify(m, new, random_seed=8, **FAST)
    assert report.ok, str(report)
    assert decenter.plan(new).rewrites == []


def test_ar1_with_constant_and_batch_and_higher_orders_kept():
    """AR(1): unit-innovation offset from the original init; x_t - rho x_{t-1} - c is sigma
    times eta_t - rho eta_{t-1}. AR(2) has no closed form and is kept with its reason."""
    with pm.Model(coords={"t": range(7), "b": range(2)}) as m:
        s = pm.HalfNormal("s", 0.5, dims="b")
        rho = pm.Uniform("rho", -1, 1)
        c = pm.Normal("c", 0, 1)
        init = pm.Normal.dist(0, 2)
        pm.AR("x", rho=pt.stack([c, rho]), sigma=s, constant=True, init_dist=init, dims=("b", "t"))
        pm.AR("x2", rho=[0.3, 0.2], sigma=s[0], init_dist=pm.Normal.dist(0, 1), dims="t")
    p = decenter.plan(m, strategy="noncentered")
    assert [d.name for d in p.rewrites] == ["x"] and p["x"].family == "AR"
    assert p["x2"].reason == "AR of order 2: only order 1 is rewritten (a closed-form map)"
    new = decenter.transform(m, strategy="noncentered")
    assert new.named_vars_to_dims["x_offset"] == ("b", "t")
    assert type(new["x_offset"].owner.op).__name__ == "AutoRegressiveRV"
    eta = np.linspace(-1.0, 1.0, 14).reshape(2, 7)
    sv, rv, cv = np.array([0.7, 1.3]), 0.6, 0.5
    x = new.compile_fn(new["x"], inputs=[new["x_offset"], new["s"], new["rho"], new["c"]])
    got = x({"x_offset": eta, "s": sv, "rho": rv, "c": cv})
    want = eta.copy()
    for t in range(1, 7):
        want[:, t] = cv + rv * want[:, t - 1] + sv * (eta[:, t] - rv * eta[:, t - 1])
    np.testing.assert_allclose(got, want, rtol=1e-10)
    report = decenter.verify(m, new, random_seed=6, **FAST)
    assert report.ok, str(report)
    assert decenter.plan(new, strategy="noncentered").rewrites == []


def test_stochastic_volatility_suite_model_is_rewritten():
    from decenter.examples.suite import SUITE

    m = SUITE["stochastic_volatility"]()
    p = decenter.plan(m, strategy="noncentered")
    assert [d.name for d in p.rewrites] == ["volatility"]
    assert p["volatility"].scale_parents == ["step_size"]
    new = decenter.transform(m, strategy="noncentered")
    assert new["volatility"] in new.deterministics
    report = decenter.verify(m, new, random_seed=9, draws=300, n_points=4)
    assert report.ok, str(report)


def _checks(term) -> int:
    """PyMC parameter tests (``check_parameters``) in the graph of ``term``."""
    from pymc.logprob.utils import CheckParameterValue
    from pytensor.graph.basic import ancestors

    return sum(
        1
        for v in ancestors([term])
        if v.owner is not None and isinstance(v.owner.op, CheckParameterValue)
    )


@pytest.mark.parametrize("family", ["Normal", "LogNormal"])
def test_a_partially_centered_normal_offset_has_the_normal_density_without_its_scale_test(family):
    """The offset's scale exp(lam log(s / unit)) is positive by construction, so its log density
    is the Normal's without PyMC's per-element ``sigma > 0`` test (an exp per element per
    gradient; decenter.families.positive). Where that scale is 0 the density is not finite.
    A LogNormal's offset is such a Normal too (its map is exp of the Normal's)."""
    from pytensor.tensor.random.basic import NormalRV

    from decenter.families.positive import PositiveScaleNormalRV

    m = four_structures(family)
    new = decenter.transform(m, strategy=0.3)
    offset = new["with_dims_offset"]
    assert isinstance(offset.owner.op, PositiveScaleNormalRV)
    assert find_rule(offset).name == "Normal"  # still a Normal to decenter
    nc_offset = decenter.transform(m, strategy="noncentered")["with_dims_offset"]
    assert type(nc_offset.owner.op) is NormalRV  # Normal(0, 1) has no random scale to test
    plain = pm.Normal.rv_op.make_node(*offset.owner.inputs).default_output()
    value = new.rvs_to_values[offset]
    [term] = new.logp(vars=[offset], sum=False)
    [reference] = new.replace_rvs_by_values([pm.logp(plain, value)])
    assert _checks(term) == 0 and _checks(reference) == 1
    # pm.compile, as the samplers do: a failed parameter test gives -inf, not an error
    f = pm.compile(new.value_vars, [term, reference], on_unused_input="ignore")
    point = new.initial_point()
    rng = np.random.default_rng(0)
    for p in [point, {k: v + rng.normal(0, 0.7, np.shape(v)) for k, v in point.items()}]:
        ours, theirs = f(**p)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        assert np.all(np.isfinite(ours))
    ours, theirs = f(**{**point, "s_log__": np.array(-np.inf)})  # the scale s at 0
    assert not np.any(np.isfinite(ours)) and np.all(theirs == -np.inf)
