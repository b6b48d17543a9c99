"""The rule contract (issue 32): rules found by op type, one ``rewrite`` per rule, and a plan
that finds each free variable's rule once."""

import sys

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from pytensor.gradient import jacobian

import decenter
from decenter.families import RULES, Replacement, find_rule, refusal, register
from decenter.families.registry import _BY_OP, _candidates
from decenter.families.rules import LocScaleRule

# one variable per registered rule, with constant parameters (a new rule adds its own)
EXAMPLES = {
    "Normal": lambda: pm.Normal.dist(1.0, 2.0, size=3),
    "StudentT": lambda: pm.StudentT.dist(nu=4, mu=1.0, sigma=2.0, size=3),
    "Cauchy": lambda: pm.Cauchy.dist(1.0, 2.0, size=3),
    "Laplace": lambda: pm.Laplace.dist(1.0, 2.0, size=3),
    "Logistic": lambda: pm.Logistic.dist(1.0, 2.0, size=3),
    "Gumbel": lambda: pm.Gumbel.dist(1.0, 2.0, size=3),
    "LogNormal": lambda: pm.LogNormal.dist(0.5, 0.7, size=3),
    "SkewNormal": lambda: pm.SkewNormal.dist(mu=1.0, sigma=2.0, alpha=3.0, size=3),
    "HalfNormal": lambda: pm.HalfNormal.dist(2.0, size=3),
    "HalfCauchy": lambda: pm.HalfCauchy.dist(2.0, size=3),
    "Exponential": lambda: pm.Exponential.dist(scale=2.0, size=3),
    "HalfStudentT": lambda: pm.HalfStudentT.dist(nu=4.0, sigma=2.0, size=3),
    "Weibull": lambda: pm.Weibull.dist(alpha=2.0, beta=2.0, size=3),
    "InverseGamma": lambda: pm.InverseGamma.dist(alpha=4.0, beta=2.0, size=3),
    "Gamma": lambda: pm.Gamma.dist(alpha=3.0, beta=0.5, size=3),
    "MvNormal": lambda: pm.MvNormal.dist(mu=[1.0, 2.0], cov=[[2.0, 0.5], [0.5, 1.0]]),
    "ZeroSumNormal": lambda: pm.ZeroSumNormal.dist(sigma=2.0, shape=4),
    "Truncated": lambda: pm.Truncated.dist(
        pm.StudentT.dist(nu=4, mu=1.0, sigma=2.0), lower=0.0, size=3
    ),
    "RandomWalk": lambda: pm.GaussianRandomWalk.dist(
        mu=0.5, sigma=2.0, init_dist=pm.Normal.dist(0.0, 1.0), steps=4
    ),
    "AR": lambda: pm.AR.dist(
        rho=[0.3, 0.5], sigma=2.0, constant=True, init_dist=pm.Normal.dist(0.0, 1.0), steps=4
    ),
}


def _logp(rv, value) -> float:
    return float(pm.logp(rv, pt.as_tensor(value)).sum().eval())


def _log_jacobian(forward, value: np.ndarray) -> float:
    """log |det dx/d(value)| of ``x = forward(value)``, by PyTensor's jacobian."""
    v = pt.tensor("v", shape=value.shape, dtype=value.dtype)
    jac = jacobian(pt.cast(forward(v), value.dtype).ravel(), v).reshape((value.size, value.size))
    return float(np.linalg.slogdet(jac.eval({v: value}))[1])


def test_every_registered_rule_has_an_example():
    assert {rule.name for rule in RULES} == set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rewrite_at_lam_0_is_the_noncentered_density(name):
    """lam None (0): log p_eta(v) = log p_x(forward(v)) + log |dx/dv| (the change of
    variables), and a constant lam 0 gives the same offset and map."""
    rv = EXAMPLES[name]()
    rule = find_rule(rv)
    assert rule.name == name and rule.why_not(rv) is None
    new = rule.rewrite(rv, None)
    assert isinstance(new, Replacement) and new.ok is None
    v = np.asarray(pm.draw(new.eta, random_seed=1))
    x = new.forward(pt.as_tensor(v)).eval()
    if name == "ZeroSumNormal":  # x = sigma * eta on the zero-sum subspace (n - 1 dimensions)
        log_jac = (v.size - 1) * np.log(2.0)
    else:
        log_jac = _log_jacobian(new.forward, v)
    np.testing.assert_allclose(_logp(new.eta, v), _logp(rv, x) + log_jac, rtol=1e-6)
    if rule.elementwise:
        zero = rule.rewrite(rv, pt.constant(np.zeros(rv.type.ndim * (1,)), dtype=rv.dtype))
        np.testing.assert_allclose(_logp(zero.eta, v), _logp(new.eta, v), rtol=1e-6)
        np.testing.assert_allclose(zero.forward(pt.as_tensor(v)).eval(), x, rtol=1e-6)


@pytest.mark.parametrize(
    "name", sorted(n for n in EXAMPLES if find_rule(EXAMPLES[n]()).elementwise)
)
def test_rewrite_at_lam_1_is_the_original_density(name):
    """lam 1: the offset is the original variable (LogNormal's in log space, x = exp(eta))."""
    rv = EXAMPLES[name]()
    rule = find_rule(rv)
    new = rule.rewrite(rv, pt.constant(1.0, dtype=rv.dtype))
    v = np.asarray(pm.draw(new.eta, random_seed=2))
    x = new.forward(pt.as_tensor(v)).eval()
    log_jac = _log_jacobian(new.forward, v)
    np.testing.assert_allclose(_logp(new.eta, v), _logp(rv, x) + log_jac, rtol=1e-6)
    if rule.affine or rule.covariance:
        np.testing.assert_allclose(x, v, rtol=1e-6)
    else:
        np.testing.assert_allclose(x, np.exp(v), rtol=1e-6)


def test_a_guarded_rewrite_carries_its_test():
    s = pm.Normal.dist(1.0, 1.0)
    b = pm.Normal.dist(0.0, s)
    new = find_rule(b).rewrite(b, None, guard=True)
    assert new.ok is not None and new.ok.dtype == "bool"
    walk = EXAMPLES["RandomWalk"]()
    with pytest.raises(NotImplementedError, match="cannot carry a guard"):
        find_rule(walk).rewrite(walk, None, guard=True)


def test_find_rule_asks_only_the_rules_of_the_op_type():
    normal = pm.Normal.dist(0.0, 1.0)
    assert [r.name for r in _candidates(normal)] == ["Normal"]
    # one rule filed under both of PyMC's truncated ops
    trunc_normal = pm.Truncated.dist(pm.Normal.dist(0.0, 1.0), lower=0.0)
    trunc_t = pm.Truncated.dist(pm.StudentT.dist(nu=4, mu=0.0, sigma=1.0), lower=0.0)
    assert type(trunc_normal.owner.op) is not type(trunc_t.owner.op)
    assert find_rule(trunc_normal).name == find_rule(trunc_t).name == "Truncated"


def test_an_unregistered_op_gets_no_rule_and_a_reason():
    beta = pm.Beta.dist(1.0, 1.0)
    assert type(beta.owner.op) not in _BY_OP and find_rule(beta) is None
    assert refusal(beta) is None  # no rule for its op type: the plan words it
    with pm.Model() as m:
        a = pm.HalfNormal("a", 1.0)
        pm.Beta("p", a, a)
        pm.RandomWalk(
            "walk",
            init_dist=pm.Beta.dist(1.0, 1.0),
            innovation_dist=pm.Normal.dist(0.0, a),
            steps=3,
        )
        pm.Truncated("t", pm.Beta.dist(a, 1.0), lower=0.1)
    p = decenter.plan(m, strategy="noncentered")
    assert p["p"].reason == "no rewrite rule for Beta (see decenter.families)"
    # a rule registered for the op type says why this variable is not of its family
    assert p["walk"].reason.startswith("RandomWalk: rewritten only with location-scale")
    assert p["t"].reason.startswith("Truncated beta: only continuous location-scale")


def test_a_registered_rule_is_found_by_its_op_type(monkeypatch):
    """A later rule for the same op type wins; other op types do not see it."""
    monkeypatch.setattr(sys.modules["decenter.families.registry"], "RULES", list(RULES))
    monkeypatch.setattr(
        sys.modules["decenter.families.registry"], "_BY_OP", {k: list(v) for k, v in _BY_OP.items()}
    )
    mine = register(LocScaleRule("MyNormal", pm.Normal.rv_type, dist=pm.Normal))
    assert find_rule(pm.Normal.dist()) is mine
    assert find_rule(pm.StudentT.dist(nu=3)).name == "StudentT"


def test_a_plan_finds_each_rule_once(monkeypatch):
    """Issue 32: find_rule ran 26 times for radon's 7 free variables (13 on main before this)."""
    import decenter.families.registry as registry
    from decenter.examples.radon import centered_model

    real, callers = registry.find_rule, []

    def counted(rv):
        callers.append(sys._getframe(1).f_code.co_name)
        return real(rv)

    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name.startswith("decenter") and getattr(module, "find_rule", None) is real:
            monkeypatch.setattr(module, "find_rule", counted)
    m = centered_model()
    new, p = decenter.transform(m, random_seed=0, progressbar=False, return_plan=True)
    assert callers.count("_candidate") == len(m.free_RVs) == 7  # once per free variable
    # the rest: laplace._compile's prior scales (one per candidate, not yet given the rules)
    assert set(callers) <= {"_candidate", "_scale_expr"}
    assert callers.count("_scale_expr") <= len(p.rewrites)
    assert p["b"].rule is real(m["b"]) and p["eps"].rule.name == "HalfCauchy"
    callers.clear()
    decenter.transform(m, strategy="noncentered", progressbar=False)
    assert callers == ["_candidate"] * 7


def test_offsets_are_named_once():
    """decide names the offsets and guards; with_lams (the fit's lams) keeps the names."""
    from decenter.core.plan import decide, with_lams

    with pm.Model() as m:
        s = pm.Normal("s", 1.0, 1.0)  # not provably positive: b is guarded
        b = pm.Normal("b", 0.0, s, shape=2)
        pm.Normal("theta_offset", b.sum(), 1.0)  # the offset's name is taken
        tau = pm.HalfNormal("tau")
        pm.Normal("theta", 0.0, tau, shape=2)
    base = decide(m)
    assert base["theta"].new_name == "theta_offset_1" and base["b"].guard == "b_guard"
    base["theta"].new_name, base["b"].guard = "z", "g"
    p = with_lams(m, base, {"theta": [0.0, 0.5], "b": [0.5, 0.5]}, "example")
    assert (p["theta"].new_name, p["b"].new_name, p["b"].guard) == ("z", "b_offset", "g")
    assert np.asarray(p["theta"].lam).tolist() == [0.0, 0.5]
