"""Terms constant within groups moved into a group variable's location (decenter.core.hoist)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

import decenter
from decenter.core.hoist import find_terms
from decenter.examples.radon import centered_model as radon

G = np.repeat(np.arange(6), 4)  # 6 groups of 4 observations
RNG = np.random.default_rng(0)
X = np.column_stack(
    [
        np.repeat(RNG.normal(size=6), 4),  # a group-level predictor
        RNG.normal(size=24),  # varies within groups
    ]
)


def grouped(x=X, g=G, y=None) -> pm.Model:
    y = RNG.normal(size=g.size) if y is None else y
    with pm.Model(coords={"group": range(6)}) as m:
        a0 = pm.Normal("a0")
        beta = pm.Normal("beta", shape=x.shape[1])
        s = pm.HalfNormal("s")
        u = pm.Normal("u", 0, s, dims="group")
        pm.Normal("y", a0 + pm.math.dot(x, beta) + u[g], 0.5, observed=y)
    return m


def nested() -> pm.Model:
    """Classes in schools: the school effect is constant within each class."""
    school_of_class = np.repeat(np.arange(3), 4)  # 12 classes in 3 schools
    cls = np.repeat(np.arange(12), 5)
    with pm.Model() as m:
        mu = pm.Normal("mu")
        s_school, s_class = pm.HalfNormal("s_school"), pm.HalfNormal("s_class")
        school = pm.Normal("school", mu, s_school, shape=3)
        klass = pm.Normal("klass", 0, s_class, shape=12)
        pm.Normal("y", school[school_of_class][cls] + klass[cls], 1, observed=RNG.normal(size=60))
    return m


def test_finds_the_intercept_and_the_group_level_column():
    terms = find_terms(grouped(), ["u"])["u"]
    assert [t.text for t in terms] == ["a0", "X[:, 0] @ beta[0]"]
    assert terms[1].cols == (0,)


def test_several_group_level_columns_read_as_numpy_indexing():
    per_group = np.repeat(RNG.normal(size=(6, 2)), 4, axis=0)
    two_of_three = np.column_stack([per_group[:, 0], RNG.normal(size=24), per_group[:, 1]])
    terms = find_terms(grouped(two_of_three), ["u"])["u"]
    assert [t.text for t in terms] == ["a0", "X[:, [0, 2]] @ beta[[0, 2]]"]
    assert terms[1].cols == (0, 2)
    terms = find_terms(grouped(per_group), ["u"])["u"]  # every column: the whole product
    assert [t.text for t in terms] == ["a0", "X @ beta"]


def test_a_column_that_varies_within_a_group_stays():
    x = X.copy()
    x[1, 0] += 1.0  # one observation of group 0 differs
    assert [t.text for t in find_terms(grouped(x), ["u"])["u"]] == ["a0"]


def test_radon_has_nothing_to_move():
    m = radon()  # the floor varies within counties; a and b have their own locations
    assert find_terms(m, ["a", "b"]) == {"a": [], "b": []}


def test_a_nesting_factor_moves_into_the_finer_factor():
    found = find_terms(nested(), ["school", "klass"])
    assert [t.text for t in found["klass"]] == ["school[...][...]"]
    assert found["school"] == []  # class effects vary within a school


def test_crossed_factors_keep_a_shared_intercept():
    a, b = np.tile(np.arange(4), 5), np.repeat(np.arange(5), 4)  # 4 x 5 crossed
    with pm.Model() as m:
        mu = pm.Normal("mu")
        sa, sb = pm.HalfNormal("sa"), pm.HalfNormal("sb")
        ua, ub = pm.Normal("ua", 0, sa, shape=4), pm.Normal("ub", 0, sb, shape=5)
        pm.Normal("y", mu + ua[a] + ub[b], 1, observed=RNG.normal(size=20))
    assert find_terms(m, ["ua", "ub"]) == {"ua": [], "ub": []}
    # the same when only one is a candidate (a second pass, where ub is a Deterministic)
    assert find_terms(m, ["ua"]) == {"ua": []}


def test_plan_says_what_moved_and_only_where_lam_is_positive():
    m = grouped()
    p = decenter.plan(m, strategy=0.5)
    assert p["u"].hoisted == ("a0", "X[:, 0] @ beta[0]")
    assert "location includes a0 + X[:, 0] @ beta[0]" in p["u"].reason
    assert p.to_dict()["decisions"][3]["hoisted"] == ["a0", "X[:, 0] @ beta[0]"]
    assert decenter.plan(m, strategy="noncentered")["u"].hoisted == ()


@pytest.mark.parametrize("strategy", [0.5, 1.0, {"u": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]}])
def test_the_shift_is_exact(strategy):
    """Same log density at mapped points (verify's change-of-variables identity), names and
    dims kept, the user's model untouched."""
    m = grouped()
    before = {v.name for v in m.free_RVs}
    new, p = decenter.transform(m, strategy=strategy, return_plan=True)
    assert p["u"].hoisted
    assert {v.name for v in m.free_RVs} == before
    assert new.named_vars_to_dims["u"] == ("group",)
    report = decenter.verify(m, new, random_seed=0)
    assert report.ok, report


def test_the_offset_is_centered_at_the_moved_terms():
    """At lam = 1 the offset is u + a0 + x_0 beta_0, the centered variable of the classic
    hierarchical centering: its value is read back from the Deterministic."""
    m = grouped()
    new = decenter.transform(m, strategy=1.0)
    f = new.compile_fn(
        [new["u"], new["a0"], new["beta"], new["u_offset"]],
        inputs=new.value_vars,
        on_unused_input="ignore",
    )
    point = new.initial_point()
    rng = np.random.default_rng(1)
    point = {k: v + rng.normal(size=np.shape(v)) for k, v in point.items()}
    u, a0, beta, offset = f(point)
    per_group = X[::4, 0]
    np.testing.assert_allclose(offset, u + a0 + per_group * beta[0], rtol=1e-6)


def test_a_plan_for_another_model_is_refused():
    p = decenter.plan(grouped(), strategy=0.5)
    x = X.copy()
    x[:, 0] = RNG.normal(size=24)  # same shapes, the column now varies within groups
    with pytest.raises(ValueError, match="made for another model"):
        decenter.transform(grouped(x), plan=p)


def test_second_pass_is_a_fixed_point():
    new = decenter.transform(grouped(), strategy=0.5)
    again = decenter.plan(new, strategy=0.5)
    assert again.rewrites == []


def test_nested_groupings_against_a_set_of_pairs():
    # `_nested` counts distinct (a, b) pairs as integers; the reference counts them as tuples
    from decenter.core.hoist import _nested

    rng = np.random.default_rng(0)
    seen = {True: 0, False: 0}
    for t in range(600):
        n = int(rng.integers(1, 40))
        ga = rng.integers(0, int(rng.integers(1, 8)), size=n) - (3 if t % 5 == 0 else 0)
        gb = [ga // 2, ga * 3 + rng.integers(0, 3, size=n), rng.integers(0, 5, size=n)][t % 3]
        pairs = len(set(zip(ga.tolist(), gb.tolist(), strict=True)))
        want = pairs in (len(set(ga.tolist())), len(set(gb.tolist())))
        assert _nested(ga, gb) == want
        seen[want] += 1
    assert min(seen.values()) > 100  # both answers exercised
