"""decenter.core.positivity (issue 13): a rewrite never opens a region the model forbids.

The proof on each construct (proven and not proven), plan() guarding what cannot be proven
with the reason, and a property: on generated models whose scales cannot be proven positive
(Normal, StudentT, products and differences of unbounded variables), the original and the
transformed model give -inf at the same points.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import decenter
from decenter.core.positivity import describe, is_positive, why_not_posdef, why_not_positive
from strategies import FAST, LOC_FAMILIES, SCALE_FAMILIES, logp_pair_fn, random_points


@pytest.fixture(scope="module")
def m():
    with pm.Model() as model:
        pm.HalfNormal("hn")
        pm.Normal("z")
        pm.StudentT("t", 4)
        pm.HalfNormal("v", shape=3)
        pm.Data("d_pos", np.array([1.0, 2.0]))
        pm.Data("d_neg", np.array([1.0, -2.0]))
        pm.Uniform("u_pos", 0.1, 2.0)
        pm.Uniform("u_any", -1.0, 2.0)
        pm.Normal("z_log", transform=pm.distributions.transforms.log)
        pm.Deterministic("det", pt.exp(model["z"]))
        for _name, make in [
            ("hc", lambda: pm.HalfCauchy("hc", 1)),
            ("hst", lambda: pm.HalfStudentT("hst", 3, 1)),
            ("ex", lambda: pm.Exponential("ex", 1)),
            ("ga", lambda: pm.Gamma("ga", 2, 1)),
            ("ig", lambda: pm.InverseGamma("ig", 2, 1)),
            ("ln", lambda: pm.LogNormal("ln")),
            ("wb", lambda: pm.Weibull("wb", 2, 1)),
            ("chi", lambda: pm.ChiSquared("chi", 3)),
            ("be", lambda: pm.Beta("be", 2, 2)),
            ("tr", lambda: pm.Truncated("tr", pm.Normal.dist(), lower=0.0)),
            ("trn", lambda: pm.TruncatedNormal("trn", 0, 1, lower=0.0)),
            ("tr_neg", lambda: pm.Truncated("tr_neg", pm.Normal.dist(), lower=-1.0)),
            ("po", lambda: pm.Poisson("po", 3.0)),
            ("la", lambda: pm.Laplace("la", 0, 1)),
        ]:
            make()
        pm.Normal("obs_pos", 0, 1, observed=np.array([0.5, 2.0]))
        pm.Normal("obs_any", 0, 1, observed=np.array([0.5, -2.0]))
    return model


# (expression builder, None when provably positive, else a piece of the reason)
CASES = [
    (lambda m: m["hn"], None),
    (lambda m: m["z"], "z is Normal"),
    (lambda m: m["t"], "t is StudentT"),
    (lambda m: m["la"], "la is Laplace"),
    (lambda m: m["po"], "po is Poisson"),  # a discrete variable can be 0 with probability > 0
    *[
        (lambda m, n=n: m[n], None)
        for n in ["hc", "hst", "ex", "ga", "ig", "ln", "wb", "chi", "be", "tr", "trn"]
    ],
    (lambda m: m["tr_neg"], "tr_neg is"),
    (lambda m: m["u_pos"], None),
    (lambda m: m["u_any"], "u_any is Uniform"),
    (lambda m: m["z_log"], None),  # a log transform keeps the values positive
    (lambda m: m["det"], None),  # a Deterministic is looked through
    (lambda m: m["d_pos"] * m["hn"], None),  # data: its current values
    (lambda m: m["d_neg"] * m["hn"], "data d_neg has values <= 0"),
    (lambda m: m["obs_pos"] + 1, None),
    (lambda m: m["obs_any"], "observed obs_any has values <= 0"),
    (lambda m: pt.constant(2.0) * m["hn"], None),
    (lambda m: pt.constant(-2.0) * m["hn"], "the constant -2"),
    (lambda m: pt.exp(m["z"]), None),
    (lambda m: pt.softplus(m["z"]), None),
    (lambda m: pt.sigmoid(m["z"]), None),
    (lambda m: pt.cosh(m["z"]), None),
    (lambda m: pt.sqrt(m["hn"]), None),
    (lambda m: pt.sqrt(m["z"]), "z is Normal"),
    (lambda m: pt.abs(m["z"]), None),  # zero only on a null set
    (lambda m: pt.sqr(m["z"]), None),
    (lambda m: m["z"] ** 2, None),
    (lambda m: m["z"] ** 3, "z is Normal"),
    (lambda m: m["hn"] ** m["z"], None),
    (lambda m: pt.abs(m["z"] - 1), "is not known to be positive"),  # a difference can be 0
    (lambda m: m["hn"] + m["ex"] * m["ga"] / m["ln"], None),
    (lambda m: 1 / m["hn"], None),
    (lambda m: m["hn"] * m["z"], "z is Normal"),
    (lambda m: m["hn"] - 1, "hn - 1 is not known to be positive"),
    (lambda m: -m["hn"], "is not known to be positive"),
    (lambda m: pt.maximum(m["z"], 0.1), None),
    (lambda m: pt.minimum(m["z"], 0.1), "z is Normal"),
    (lambda m: pt.clip(m["z"], 0.01, 5.0), None),
    (lambda m: pt.switch(m["z"] > 0, m["hn"], 1.0), None),
    (lambda m: pt.switch(m["z"] > 0, m["z"], 1.0), "z is Normal"),
    (lambda m: m["v"][np.array([0, 2, 2])], None),  # advanced indexing
    (lambda m: m["v"][1:], None),
    (lambda m: m["v"][:, None] * pt.ones((3, 2)), None),  # DimShuffle, broadcasting
    (lambda m: pt.broadcast_to(m["hn"], (4,)), None),
    (lambda m: m["v"].reshape((3, 1)), None),
    (lambda m: pt.stack([m["hn"], m["ex"]]), None),
    (lambda m: pt.concatenate([m["v"], m["v"]]), None),
    (lambda m: pt.stack([m["hn"], m["z"]]), "z is Normal"),
    (lambda m: m["v"].sum() + m["v"].prod() + m["v"].max(), None),
    (lambda m: pt.second(m["z"], m["hn"]), None),
    (lambda m: pt.cast(m["hn"], "float32"), None),
    (lambda m: pt.cast(m["hn"], "int64"), "casts to int64"),  # rounding can reach 0
    (lambda m: pt.log(m["hn"]), "is not known to be positive"),
    (lambda m: pt.sin(m["hn"]), "is not known to be positive"),  # an unknown op
]


@pytest.mark.parametrize("k", range(len(CASES)))
def test_positivity_of_each_construct(m, k):
    build, expected = CASES[k]
    expr = build(m)
    why = why_not_positive(expr, m)
    if expected is None:
        assert why is None, (describe(expr), why)
        assert is_positive(expr, m)
    else:
        assert why is not None and expected in why, (describe(expr), why)
        assert not is_positive(expr, m)


def test_covariances():
    with pm.Model() as m:
        s = pm.HalfNormal("s", shape=2)
        z = pm.Normal("z")
        a = pm.Normal("a", shape=(2, 2))
        chol, _, _ = pm.LKJCholeskyCov("L", n=2, eta=2, sd_dist=pm.Exponential.dist(1))
    assert why_not_posdef(chol @ chol.T, m) is None
    assert why_not_posdef(a @ a.T, m) is None  # singular only on a null set
    assert why_not_posdef(pt.diag(s), m) is None
    assert why_not_posdef(np.eye(2) * pt.exp(z) + a @ a.T, m) is None
    assert why_not_posdef(np.array([[2.0, 0.5], [0.5, 1.0]]), m) is None
    assert "z is Normal" in why_not_posdef(np.eye(2) * z, m)
    assert "not positive definite" in why_not_posdef(np.array([[1.0, 2.0], [2.0, 1.0]]), m)
    assert "not known to be positive definite" in why_not_posdef(a, m)
    # the standard deviations LKJCholeskyCov returns: sqrt(diag(L @ L.T))
    with m:
        _, _, sds = pm.LKJCholeskyCov("L2", n=2, eta=2, sd_dist=pm.Exponential.dist(1))
    assert why_not_positive(sds[0], m) is None
    assert "a is Normal" in why_not_positive(pt.diag(a), m)


def test_describe_is_readable():
    s, z = pt.scalar("sigma_b"), pt.scalar("z")
    assert describe(s * z) == "sigma_b * z"
    assert describe((s + z) * 2) == "(sigma_b + z) * 2"
    assert describe(1 / s) == "1 / sigma_b"


# --- plan guards what it cannot prove --------------------------------------------------------


def test_issue_example_is_guarded_and_logp_agrees():
    """The issue's minimal case: b ~ Normal(0, s), s ~ Normal(1, 1): rewritten with a guard."""
    with pm.Model() as m:
        s = pm.Normal("s", 1, 1)
        pm.Normal("b", 0, s)
    d = decenter.plan(m)["b"]
    assert d.action == "rewrite" and d.guard == "b_guard"
    assert "scale s is not provably positive (s is Normal" in d.reason
    assert "guarded, the new model rejects a scale <= 0 as the original does" in d.reason
    new = decenter.transform(m)
    assert [p.name for p in new.potentials] == ["b_guard"]
    lp_o, lp_n = m.compile_logp(), new.compile_logp()
    dlp_n = new.compile_dlogp()
    for s_value in (-0.5, 0.0, -np.inf):
        assert lp_o({"s": s_value, "b": 0.3}) == -np.inf
        assert lp_n({"s": s_value, "b_offset": 0.3}) == -np.inf
    # inside the support the guard adds 0 and leaves the gradient finite
    assert np.isfinite(lp_n({"s": 0.5, "b_offset": 0.3}))
    assert np.all(np.isfinite(dlp_n({"s": -0.5, "b_offset": 0.3})))


def test_proven_scales_carry_no_guard():
    from decenter.examples.radon import centered_model

    m = centered_model()
    p = decenter.plan(m)
    assert [d.guard for d in p.rewrites] == [None, None]
    assert decenter.transform(m).potentials == []


def test_reasons_name_the_unprovable_piece():
    with pm.Model() as m:
        sigma_b = pm.HalfNormal("sigma_b")
        z = pm.Normal("z")
        r = pm.Normal("r", 1, 1)
        pm.Normal("b", 0, sigma_b * z, shape=3)
        pm.Gamma("frailty", 2.0, r, shape=4)  # a rate with a Normal hyperprior
        pm.StudentT("c", nu=4, mu=0, sigma=pt.exp(z) + sigma_b, shape=2)  # provable: rewritten
    p = decenter.plan(m)
    assert "scale sigma_b * z is not provably positive (z is Normal" in p["b"].reason
    assert "scale 1 / r is not provably positive (r is Normal" in p["frailty"].reason
    assert [d.name for d in p.rewrites] == ["b", "frailty", "c"]
    assert [d.guard for d in p.rewrites] == ["b_guard", "frailty_guard", None]


def test_include_loc_only_checks_the_constant_scale_too():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        pm.Normal("x", mu, 2.0, shape=2)
    assert decenter.plan(m, include_loc_only=True)["x"].rewrite


# --- property: the same -inf region ---------------------------------------------------------

# scale builders: name -> (make(), provable)
SCALE_KINDS = {
    "normal": (lambda: pm.Normal("s", 0.5, 1.0), False),
    "studentt": (lambda: pm.StudentT("s", nu=4, mu=0.5, sigma=1.0), False),
    "product": (lambda: pm.HalfNormal("h", 1.0) * pm.Normal("s", 0.5, 1.0), False),
    "difference": (lambda: pm.HalfNormal("s", 1.0) - 0.5, False),
    "sum_of_unbounded": (lambda: pm.Normal("s", 0.5, 1.0) + pm.Normal("s2", 0.5, 1.0), False),
    "exp": (lambda: pt.exp(pm.Normal("s", 0.0, 1.0)), True),
    "halfnormal": (lambda: pm.HalfNormal("s", 1.0), True),
}


@settings(max_examples=15, deadline=None, derandomize=True)  # ~4 s an example on a busy machine
@given(
    family=st.sampled_from(sorted(LOC_FAMILIES) + sorted(SCALE_FAMILIES)),
    kind=st.sampled_from(sorted(SCALE_KINDS)),
    size=st.integers(0, 3),
)
def test_no_rewrite_opens_a_forbidden_region(family, kind, size):
    make_scale, provable = SCALE_KINDS[kind]
    kw = {"shape": (size,)} if size else {}
    with pm.Model() as m:
        scale = make_scale()
        if family in SCALE_FAMILIES:
            x = SCALE_FAMILIES[family]("x", scale, **kw)
            eta = pt.log(x)
        else:
            x = LOC_FAMILIES[family]("x", pm.Normal("mu", 0, 1), scale, **kw)
            eta = pt.log(x) if family == "LogNormal" else x
        pm.Normal("y", eta, 1.0, observed=np.full(max(size, 1), 0.2) if size else 0.2)
    p = decenter.plan(m)
    assert p["x"].rewrite, p["x"].reason
    assert (p["x"].guard is None) == provable, p["x"].reason
    if not provable:
        assert "not provably positive" in p["x"].reason
    new = decenter.transform(m)
    f = logp_pair_fn(m, new, mode=FAST)
    forbidden = 0
    for point in random_points(new, 20, seed=size):
        lp_new, lp_old = f(point)
        # the same support: -inf at the same points, the same value elsewhere
        assert np.isfinite(lp_new) == np.isfinite(lp_old), (point, lp_new, lp_old)
        if np.isfinite(lp_old):
            np.testing.assert_allclose(lp_new, lp_old, rtol=1e-6, atol=1e-6)
        forbidden += not np.isfinite(lp_old)
    if not provable:
        assert forbidden > 0  # the points do visit the forbidden region
