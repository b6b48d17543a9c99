"""Guarded rewrites (issue 31): a scale that cannot be proven positive is rewritten anyway, and
the new model rejects exactly the points the original rejects; verify catches a guard that
fails to reject.

The four patterns of the issue (an MvNormal from scales and a correlation, a latent GP written
centered, a precision-parameterized scale, a Normal-hyperprior scale) are each rewritten with
a guard, verified equivalent, and give -inf where the original does.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import decenter

FAST = {"draws": 300, "n_points": 12}


def _cov(s1, s2, rho):
    return pt.stack([pt.stack([s1**2, s1 * s2 * rho]), pt.stack([s1 * s2 * rho, s2**2])])


def mvnormal_corr(rho_prior=None) -> pm.Model:
    """Varying intercepts and slopes with ``cov`` built from two scales and a correlation."""
    rng = np.random.default_rng(0)
    with pm.Model(coords={"group": range(6), "coef": ["a", "b"]}) as m:
        s1 = pm.HalfNormal("s1", 1.0)
        s2 = pm.HalfNormal("s2", 1.0)
        rho = rho_prior() if rho_prior else pm.Uniform("rho", -1, 1)
        ab = pm.MvNormal("ab", mu=np.zeros(2), cov=_cov(s1, s2, rho), dims=("group", "coef"))
        pm.Normal("y", ab.sum(-1), 1.0, observed=rng.normal(size=6), dims="group")
    return m


def gp_latent() -> pm.Model:
    """``f ~ MvNormal(0, K)`` with an exponentiated quadratic kernel plus jitter."""
    x = np.linspace(0, 1, 8)
    d = x[:, None] - x[None, :]
    with pm.Model() as m:
        eta = pm.HalfNormal("eta", 1.0)
        ell = pm.Gamma("ell", 2.0, 4.0)
        k = eta**2 * pt.exp(-0.5 * d**2 / ell**2) + 1e-6 * np.eye(8)
        f = pm.MvNormal("f", 0.0, k)
        pm.Normal("y", f, 0.3, observed=np.sin(6 * x))
    return m


def gp_per_region() -> pm.Model:
    """A hierarchical GP: one latent ``f`` per region, a batch of covariances (3, 6, 6)."""
    x = np.linspace(0, 1, 6)
    d = x[:, None] - x[None, :]
    with pm.Model(coords={"region": range(3)}) as m:
        eta = pm.HalfNormal("eta", 1.0, dims="region")
        ell = pm.Gamma("ell", 2.0, 4.0)
        k = eta[:, None, None] ** 2 * pt.exp(-0.5 * d**2 / ell**2) + 1e-6 * np.eye(6)
        f = pm.MvNormal("f", 0.0, k, shape=(3, 6))
        pm.Normal("y", f, 0.3, observed=np.sin(6 * x)[None, :].repeat(3, 0))
    return m


def car_scale() -> pm.Model:
    """A precision-parameterized scale, ``sigma = abs(tau)**-0.5 * sign(tau)``."""
    with pm.Model() as m:
        tau = pm.Normal("tau", 2.0, 1.0)
        b = pm.Normal("b", 0.0, pt.abs(tau) ** -0.5 * pt.sign(tau), shape=5)
        pm.Normal("y", b, 1.0, observed=np.arange(5.0))
    return m


def normal_hyper(loc: float = 1.0) -> pm.Model:
    """``s ~ Normal(loc, 1)``, ``b ~ Normal(0, s)``."""
    with pm.Model() as m:
        s = pm.Normal("s", loc, 1.0)
        b = pm.Normal("b", 0.0, s, shape=3)
        pm.Normal("y", b, 1.0, observed=np.arange(3.0))
    return m


# (model, the guarded variable, a rejected point of the original, the same of the new model)
PATTERNS = {
    "mvnormal_corr": (
        mvnormal_corr,
        "ab",
        {"s1_log__": 0.0, "s2_log__": 0.0, "rho_interval__": 0.0, "ab": np.zeros((6, 2))},
        None,
    ),
    "gp_latent": (gp_latent, "f", None, None),
    "gp_per_region": (gp_per_region, "f", None, None),
    "car_scale": (car_scale, "b", {"tau": -1.0, "b": np.zeros(5)}, {"b_offset": np.zeros(5)}),
    "normal_hyper": (normal_hyper, "b", {"s": -0.5, "b": np.zeros(3)}, {"b_offset": np.zeros(3)}),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_each_pattern_is_rewritten_with_a_guard_and_verified(name):
    make, var, _, _ = PATTERNS[name]
    m = make()
    p = decenter.plan(m, strategy="noncentered")
    assert [d.name for d in p.rewrites] == [var]
    d = p[var]
    assert d.guard == f"{var}_guard", d.reason
    assert "guarded, the new model rejects" in d.reason
    assert f"{var} ({var}_guard)" in str(p)
    new = decenter.transform(m, strategy="noncentered")
    assert [pot.name for pot in new.potentials] == [f"{var}_guard"]
    report = decenter.verify(m, new, random_seed=1)
    assert report.verdict == "equivalent", str(report)
    # a second pass: the offset is decenter's own, nothing is rewritten again
    assert decenter.plan(new, strategy="noncentered").rewrites == []


@pytest.mark.parametrize("name", ["car_scale", "normal_hyper"])
def test_the_new_model_rejects_where_the_original_rejects(name):
    make, var, point_o, point_n = PATTERNS[name]
    m = make()
    new = decenter.transform(m, strategy="noncentered")
    kept = {k: v for k, v in point_o.items() if k != var}
    assert m.compile_logp()(point_o) == -np.inf
    assert new.compile_logp()({**kept, **point_n}) == -np.inf
    # the gradient stays finite there (a switch between constants), and inside the support
    # the guard adds exactly 0
    assert np.all(np.isfinite(new.compile_dlogp()({**kept, **point_n})))
    ip = new.initial_point()
    guard = new.compile_logp(vars=[new[f"{var}_guard"]])
    assert guard(ip) == 0.0 and guard({**kept, **point_n}) == -np.inf


def test_mvnormal_guard_rejects_a_correlation_outside_the_interval():
    """rho unbounded (Normal): the original rejects |rho| >= 1, the guarded rewrite too."""
    m = mvnormal_corr(lambda: pm.Normal("rho", 0.0, 0.3))
    new = decenter.transform(m, strategy="noncentered")
    assert decenter.plan(m, strategy="noncentered")["ab"].guard == "ab_guard"
    base = {"s1_log__": 0.0, "s2_log__": 0.0}
    lp_o, lp_n = m.compile_logp(), new.compile_logp()
    for rho, finite in ((0.5, True), (-0.9, True), (1.5, False), (-3.0, False)):
        assert np.isfinite(lp_o({**base, "rho": rho, "ab": np.zeros((6, 2))})) == finite
        assert np.isfinite(lp_n({**base, "rho": rho, "ab_offset": np.zeros((6, 2))})) == finite
    assert decenter.verify(m, new, random_seed=0, **FAST).verdict == "equivalent"


# --- mutants: a guard that fails to reject is caught ----------------------------------------


def _mutant_normal(guard) -> pm.Model:
    """The non-centered ``normal_hyper(10)`` written by hand, with ``guard(s)`` (None: none)."""
    with pm.Model() as m:
        s = pm.Normal("s", 10.0, 1.0)
        z = pm.Normal("b_offset", 0.0, 1.0, shape=3)
        b = pm.Deterministic("b", pt.switch(s > 0, s, 1.0) * z)
        if guard is not None:
            pm.Potential("b_guard", pt.switch(guard(s), 0.0, -np.inf))
        pm.Normal("y", b, 1.0, observed=np.arange(3.0))
    return m


@pytest.mark.parametrize(
    "guard, caught",
    [
        (None, True),  # the guard removed
        (lambda s: s > -1, True),  # a wrong threshold: accepts -1 < s <= 0
        (lambda s: s > 0, False),  # the right guard
    ],
    ids=["removed", "wrong", "right"],
)
def test_verify_catches_a_guard_that_fails_to_reject(guard, caught):
    # s ~ Normal(10, 1): the random points of the check never reach s <= 0, only the probes do
    report = decenter.verify(normal_hyper(10.0), _mutant_normal(guard), random_seed=0, **FAST)
    check = report["change_of_variables"]
    assert check.passed is not caught, check.message
    if caught:
        assert report.verdict == "not equivalent"
        assert "accepts points the original rejects" in check.message
        assert "s = -0.5" in check.details["accepts_rejected"]


def test_verify_catches_an_mvnormal_rewrite_without_its_guard():
    m = mvnormal_corr(lambda: pm.Normal("rho", 0.0, 0.3))
    with pm.Model(coords=m.coords) as mutant:  # the guarded rewrite minus its Potential
        s1 = pm.HalfNormal("s1", 1.0)
        s2 = pm.HalfNormal("s2", 1.0)
        rho = pm.Normal("rho", 0.0, 0.3)
        chol = pt.linalg.cholesky(_cov(s1, s2, rho))
        ok = pt.all(pt.isfinite(chol))
        z = pm.Normal("ab_offset", 0.0, 1.0, dims=("group", "coef"))
        ab = pm.Deterministic("ab", (pt.switch(ok, chol, pt.eye(2)) @ z.T).T)
        pm.Normal(
            "y", ab.sum(-1), 1.0, observed=np.random.default_rng(0).normal(size=6), dims="group"
        )
    report = decenter.verify(m, mutant, random_seed=0, **FAST)
    check = report["change_of_variables"]
    assert not check.passed, check.message
    assert "rho = 1.5" in check.details["accepts_rejected"]
