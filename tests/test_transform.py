"""The core transform (issue 2): structure, shapes, safety, and the radon reference case."""

import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import decenter
from decenter.examples.radon import centered_model, noncentered_model


def free_names(model):
    return [v.name for v in model.free_RVs]


def dims_of(model, name):
    return tuple(model.named_vars_to_dims.get(name) or ())


def random_points(model, n, seed):
    rng = np.random.default_rng(seed)
    ip = model.initial_point()
    return [{k: rng.normal(scale=2.0, size=np.shape(v)) for k, v in ip.items()} for _ in range(n)]


def det_fn(model):
    outs = model.replace_rvs_by_values(model.deterministics)
    return model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")


def assert_verified(original, candidate):
    report = decenter.verify(original, candidate, random_seed=1)
    assert report.ok, str(report)


# --- the radon reference case ------------------------------------------------------------


@pytest.fixture(scope="module")
def radon_pair():
    return centered_model(), noncentered_model()


def test_radon_transform_is_the_hand_written_model(radon_pair):
    centered, handwritten = radon_pair
    new = decenter.transform(centered, strategy="noncentered")
    assert free_names(new) == free_names(handwritten)
    assert sorted(v.name for v in new.deterministics) == ["a", "b"]
    for name in ["a", "b", "a_offset", "b_offset"]:
        assert dims_of(new, name) == ("county",)
    f_new, f_hand = new.compile_logp(), handwritten.compile_logp()
    det_new, det_hand = det_fn(new), det_fn(handwritten)
    for point in random_points(new, 10, seed=0):
        np.testing.assert_allclose(f_new(point), f_hand(point), rtol=1e-10)
        for x, y in zip(det_new(point), det_hand(point), strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-12)


def test_radon_plan_reasons(radon_pair):
    p = decenter.plan(radon_pair[0])
    assert [d.name for d in p.rewrites] == ["a", "b"]
    assert p["b"].scale_parents == ["sigma_b"] and p["b"].loc_parents == ["mu_b"]
    assert p["sigma_b"].action == "keep"
    assert "constant" in p["sigma_b"].reason
    table = str(p)
    assert "b_offset" in table and "scale depends on free variable sigma_b" in table


def test_radon_coords_data_and_order_preserved(radon_pair):
    centered, _ = radon_pair
    new = decenter.transform(centered)
    assert new.coords["county"] == centered.coords["county"]
    np.testing.assert_array_equal(
        new.rvs_to_values[new["log_radon"]].data, centered.rvs_to_values[centered["log_radon"]].data
    )
    assert list(new.named_vars) == [
        "county_idx", "floor", "mu_a", "sigma_a", "mu_b", "sigma_b",
        "a_offset", "a", "b_offset", "b", "eps", "log_radon",
    ]  # fmt: skip
    assert [v.name for v in new.data_vars] == ["county_idx", "floor"]


# --- shapes and structure ------------------------------------------------------------------


def _hier(kind):
    with pm.Model(coords={"g": range(4), "k": range(3)}) as m:
        mu = pm.Normal("mu")
        sigma = pm.HalfNormal("sigma")
        if kind == "size":
            x = pm.Normal("x", mu, sigma, size=5)
        elif kind == "implied":
            x = pm.Normal("x", mu * pt.ones(6), sigma)
        elif kind == "dims":
            x = pm.Normal("x", mu, sigma, dims="g")
        elif kind == "scalar":
            x = pm.Normal("x", mu, sigma)
        elif kind == "matrix":
            x = pm.Normal("x", mu, sigma, dims=("g", "k"))
        elif kind == "expression":
            mus = pm.Normal("mus", 0, 1, shape=3)
            idx = np.array([0, 1, 2, 2, 1, 0, 0])
            x = pm.Normal("x", mus[idx] + 1.0, sigma * 2.0)
        pm.Normal("y", x.sum(), 1.0, observed=0.5)
    return m


@pytest.mark.parametrize("kind", ["size", "implied", "dims", "scalar", "matrix", "expression"])
def test_shapes(kind):
    m = _hier(kind)
    new = decenter.transform(m, strategy="noncentered")
    assert "x_offset" in free_names(new) and "x" not in free_names(new)
    assert new["x"] in new.deterministics
    shape = tuple(m["x"].shape.eval())
    assert tuple(new["x_offset"].shape.eval()) == shape
    assert tuple(new["x"].shape.eval()) == shape
    assert dims_of(new, "x") == dims_of(m, "x") == dims_of(new, "x_offset")
    assert_verified(m, new)


def test_nested_hierarchy_rewrites_both_levels():
    state_of_county = np.array([0, 0, 1, 1, 2, 2, 2])
    with pm.Model(coords={"state": range(3), "county": range(7)}) as m:
        mu = pm.Normal("mu")
        tau_s = pm.HalfNormal("tau_s")
        tau_c = pm.HalfNormal("tau_c")
        state = pm.Normal("state_eff", mu, tau_s, dims="state")
        county = pm.Normal("county_eff", state[state_of_county], tau_c, dims="county")
        pm.Normal("y", county, 1.0, observed=np.arange(7.0), dims="county")
    new, p = decenter.transform(m, return_plan=True)
    assert free_names(new) == ["mu", "tau_s", "tau_c", "state_eff_offset", "county_eff_offset"]
    assert p["county_eff"].loc_parents == ["state_eff"]
    assert p["county_eff"].scale_parents == ["tau_c"]
    # the child reads its location from the parent's Deterministic, not the removed variable
    assert new["state_eff"] in new.deterministics
    assert_verified(m, new)


def test_potentials_and_deterministics_preserved():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        sigma = pm.HalfNormal("sigma")
        x = pm.Normal("x", mu, sigma, shape=3)
        pm.Deterministic("x_sum", x.sum())
        pm.Potential("pen", -(x**2).sum())
        pm.Normal("y", x, 1.0, observed=[0.1, 0.2, 0.3])
    new = decenter.transform(m)
    assert [p.name for p in new.potentials] == ["pen"]
    assert [d.name for d in new.deterministics] == ["x", "x_sum"]
    assert_verified(m, new)


def test_set_data_still_works_for_prediction():
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(4), 5)
    with pm.Model(coords={"group": range(4)}) as m:
        idx = pm.Data("idx", g)
        mu = pm.Normal("mu")
        sigma = pm.HalfNormal("sigma")
        b = pm.Normal("b", mu, sigma, dims="group")
        pm.Normal("y", b[idx], 0.5, observed=rng.normal(size=20), shape=idx.shape)
    new = decenter.transform(m)
    with new:
        pm.set_data({"idx": np.array([0, 3, 3])})
        pred = pm.sample_prior_predictive(draws=7, random_seed=1)
    assert pred.prior_predictive["y"].shape == (1, 7, 3)
    # the user's model still has its own data
    np.testing.assert_array_equal(m["idx"].get_value(), g)


# --- safety ----------------------------------------------------------------------------------


def test_input_model_not_mutated(radon_pair):
    centered, _ = radon_pair
    before = (list(centered.named_vars), free_names(centered), dict(centered.named_vars_to_dims))
    point = random_points(centered, 1, seed=3)[0]
    logp_before = centered.compile_logp()(point)
    decenter.transform(centered)
    assert (
        list(centered.named_vars),
        free_names(centered),
        dict(centered.named_vars_to_dims),
    ) == before
    assert centered.compile_logp()(point) == logp_before


def test_idempotent(radon_pair):
    once = decenter.transform(radon_pair[0], strategy="noncentered")
    twice, p = decenter.transform(once, return_plan=True)
    assert free_names(twice) == free_names(once)
    assert p.rewrites == []
    assert "constant" in p["b_offset"].reason


def test_name_collision_gets_unique_name():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        sigma = pm.HalfNormal("sigma")
        pm.Normal("b_offset", 0, 1)
        b = pm.Normal("b", mu, sigma, shape=2)
        pm.Normal("y", b, 1, observed=[0.0, 1.0])
    new, p = decenter.transform(m, return_plan=True)
    assert p["b"].new_name == "b_offset_1"
    assert "b_offset_1" in free_names(new) and "b_offset" in free_names(new)
    assert_verified(m, new)


def test_initvals_kept_or_dropped_with_warning():
    with pm.Model() as m:
        mu = pm.Normal("mu", initval=0.5)
        sigma = pm.HalfNormal("sigma", initval=2.0)
        b = pm.Normal("b", mu, sigma, shape=3, initval=np.array([0.1, 0.2, 0.3]))
        pm.Normal("y", b, 1, observed=[0.0, 1.0, 2.0])
    with pytest.warns(UserWarning, match="initial value of 'b' was dropped"):
        new = decenter.transform(m)
    assert new.rvs_to_initial_values[new["mu"]] == 0.5
    assert new.rvs_to_initial_values[new["sigma"]] == 2.0
    ip = new.initial_point()
    np.testing.assert_allclose(ip["mu"], 0.5)
    np.testing.assert_allclose(ip["sigma_log__"], np.log(2.0))
    # the user's model keeps its initial values and still works with PyMC
    assert m.rvs_to_initial_values[m["b"]] is not None
    m.initial_point()


def test_nothing_to_rewrite_returns_equivalent_model_and_says_why():
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 1)
        pm.Normal("y", mu, 1, observed=[0.0, 1.0])
    p = decenter.plan(m)
    assert p.rewrites == []
    assert p["mu"].reason == "location and scale are constant (not hierarchical)"
    new = decenter.transform(m)
    assert free_names(new) == ["mu"] and new is not m
    pt_ = {"mu": np.array(0.3)}
    assert new.compile_logp()(pt_) == m.compile_logp()(pt_)


def test_loc_only_hierarchy_is_opt_in():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        b = pm.Normal("b", mu, 2.0, shape=3)
        pm.Normal("y", b, 1, observed=[0.0, 1.0, 2.0])
    p = decenter.plan(m)
    assert p["b"].action == "keep" and "include_loc_only=True" in p["b"].reason
    new = decenter.transform(m, include_loc_only=True)
    assert free_names(new) == ["mu", "b_offset"]
    assert_verified(m, new)


def test_vars_restricts_and_unknown_name_is_a_clear_error(radon_pair):
    centered, _ = radon_pair
    new, p = decenter.transform(centered, vars=["b"], return_plan=True)
    assert "a" in free_names(new) and "b_offset" in free_names(new)
    assert p["a"].reason.startswith("not in vars")
    with pytest.raises(ValueError, match="'c' is not a variable of this model"):
        decenter.plan(centered, vars=["c"])
    with pytest.raises(ValueError, match="not a free random variable"):
        decenter.plan(centered, vars=["log_radon"])


def test_transform_verify_flag(radon_pair):
    new = decenter.transform(radon_pair[0], verify=True, random_seed=0)
    assert "b_offset" in free_names(new)


# --- sampling: the funnel goes away (slow) ----------------------------------------------------


@pytest.mark.slow
def test_radon_sampling_divergences_fall_and_ess_rises(radon_pair, seed):
    """PyMC's own NUTS, 2 chains x 500 draws after 500 tuning steps, both models at one seed.

    The claim: the funnel between sigma_b and b goes away. The non-centered run diverges no more
    than the centered one (and barely at all), and the bulk ESS of the funnel's scale sigma_b
    rises by a margin. Margins are set from 12 seeds (shifts 0-11; see the comments); at this
    length the centered run often shows no divergences at all, so the ESS carries the claim.
    """
    import arviz as az

    centered, _ = radon_pair
    # the margins below were measured with the fully non-centered rewrite
    new = decenter.transform(centered, strategy="noncentered")
    kw = dict(draws=500, tune=500, chains=2, cores=1, random_seed=seed, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata_c = pm.sample(nuts_sampler="pymc", model=centered, **kw)
        idata_n = pm.sample(nuts_sampler="pymc", model=new, **kw)

    def summary(idata):
        div = int(idata.sample_stats["diverging"].sum())
        ess = float(az.ess(idata, var_names=["sigma_b"])["sigma_b"])
        return div, ess

    div_c, ess_c = summary(idata_c)
    div_n, ess_n = summary(idata_n)
    print(f"centered: {div_c} divergences, ESS {ess_c:.0f}; transformed: {div_n}, {ess_n:.0f}")
    # Measured over DECENTER_TEST_SEED 0-11 (13 runs; nice'd, 2 busy cores), min / median / max:
    #   centered:      divergences 0 / 11 / 500,  ESS(sigma_b) 2.6 / 19.5 / 43
    #   non-centered:  divergences 0 / 0 / 2,     ESS(sigma_b) 120 / 187 / 235
    #   ESS ratio 4.4 / 9.6 / 66 (ESS per gradient evaluation: 6.9 / 12 / 74)
    # A fixed seed does not fix the run exactly (it depends on what the process sampled before):
    # this test in fresh processes at shifts 1 and 2 gave centered 2 and 0 divergences, ESS 7
    # and 63 (above the 43 measured), transformed 0 and 0, ESS 159 and 187: ratios 23 and 3.0.
    assert div_n <= 5  # measured at most 2
    # divergences fall wherever the centered run found its funnel; at this length it may not
    # (0 divergences at 4 of 12 seeds), so a strict per-seed "fewer" would fail on ties near 0
    assert div_n < div_c or div_c <= 5
    assert ess_n >= 60  # half the lowest measured (120)
    assert ess_n >= 1.5 * ess_c  # the funnel scale's ESS rises: lowest ratio seen 3.0
    assert {"a", "b", "a_offset", "b_offset"} <= set(idata_n.posterior.data_vars)


@pytest.mark.parametrize("strategy", ["noncentered", "centered", 0.5])
def test_plan_json_lam_is_the_table_lam(strategy):
    """issue 30: JSON said lam null where the table said 0 (and 1 for a kept hierarchy)."""
    from decenter.examples.eight_schools import centered_model as schools

    p = decenter.plan(schools(), strategy=strategy)
    shown = {d.name: d.lam_summary() for d in p.decisions}
    lams = {d["name"]: d["lam"] for d in p.to_dict()["decisions"]}
    assert shown["mu"] == "-" and lams["mu"] is None  # not hierarchical: lam means nothing
    assert (
        lams["theta"]
        == float(shown["theta"])
        == {"noncentered": 0, "centered": 1}.get(strategy, strategy)
    )
