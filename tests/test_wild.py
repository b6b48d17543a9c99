"""Models in the wild (issue 7): each is transformed correctly, or left as it is with a reason.

Data containers and set_data for prediction, automatic imputation of missing observations,
Potentials, CustomDist, Mixture, Censored, Truncated, time series, named sub-models, initial
values, model options, and a model built by bambi compared with bambi's own non-centered one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from pymc.exceptions import ImputationWarning

import decenter
from strategies import assert_equivalent, assert_logp_equivalent, random_points


def free_names(model):
    return [v.name for v in model.free_RVs]


def dims(model, name):
    return tuple(model.named_vars_to_dims.get(name) or ())


def eval_at(model, var, point):
    """The value of a (Deterministic) variable at a point of the model's value variables."""
    out = model.replace_rvs_by_values([var])
    fn = model.compile_fn(out, inputs=model.value_vars, on_unused_input="ignore", point_fn=True)
    return fn(point)[0]


def reasons(model, **kw):
    return {d.name: (d.action, d.reason) for d in decenter.plan(model, **kw)}


# --- data containers and prediction -----------------------------------------------------------


def _regression(n=20, seed=0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(4), n // 4)
    x = rng.normal(size=n)
    y = 1.0 + 2.0 * x + 0.5 * g + rng.normal(0, 0.3, n)
    with pm.Model(coords={"group": ["a", "b", "c", "d"], "obs": range(n)}) as m:
        xd = pm.Data("x", x, dims="obs")
        gd = pm.Data("g", g, dims="obs")
        mu_a = pm.Normal("mu_a", 0, 2)
        sigma_a = pm.HalfNormal("sigma_a", 1)
        a = pm.Normal("a", mu_a, sigma_a, dims="group")
        beta = pm.Normal("beta", 0, 2)
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("y", a[gd] + beta * xd, sigma, observed=y, dims="obs", shape=xd.shape)
    return m, x, g, y


def test_set_data_predictions_on_the_transformed_model():
    m, x, g, _ = _regression()
    new = decenter.transform(m)
    assert free_names(new) == ["mu_a", "sigma_a", "a_offset", "beta", "sigma"]
    assert [v.name for v in new.data_vars] == ["x", "g"]
    # a cheap stand-in for a posterior: prior draws of every free variable and Deterministic
    prior = pm.sample_prior_predictive(draws=40, model=new, random_seed=1)
    assert {"a", "a_offset"} <= set(prior.prior.data_vars)
    with new:
        pm.set_data(
            {"x": np.array([0.0, 10.0, 20.0]), "g": np.array([0, 1, 3])},
            coords={"obs": [100, 101, 102]},
        )
        pred = pm.sample_posterior_predictive(
            prior.prior, predictions=True, random_seed=2, progressbar=False
        )
    y_new = pred.predictions["y"]
    assert y_new.shape == (1, 40, 3)
    assert list(y_new.coords["obs"].values) == [100, 101, 102]
    # the predictions follow the new data: y(x=20) - y(x=0) = 20 * beta (+ noise)
    post = prior.prior
    slope = (y_new.isel(obs=2) - y_new.isel(obs=0)).values / 20
    expected = post["beta"].values + (post["a"].isel(group=3) - post["a"].isel(group=0)).values / 20
    np.testing.assert_allclose(slope, expected, atol=post["sigma"].values.max() * 0.6)
    # the user's model keeps its own data and coords
    np.testing.assert_array_equal(m["x"].get_value(), x)
    np.testing.assert_array_equal(m["g"].get_value(), g)
    assert len(m.coords["obs"]) == 20


def test_data_dependent_scale_is_not_hierarchical():
    """A scale made of data only is constant: nothing to non-center, and the reason says so."""
    with pm.Model() as m:
        w = pm.Data("w", np.array([1.0, 2.0, 3.0]))
        mu = pm.Normal("mu")
        b = pm.Normal("b", mu, w)
        tau = pm.HalfNormal("tau")
        c = pm.Normal("c", mu, w * tau)
        pm.Normal("y", b + c, 1.0, observed=np.zeros(3))
    r = reasons(m)
    assert r["b"] == (
        "keep",
        "scale is constant, only the location depends on free variable mu; include_loc_only=True rewrites it",
    )
    assert r["c"] == ("rewrite", "scale depends on free variable tau")
    new = decenter.transform(m)
    assert_equivalent(m, new, n_points=4)
    with new:
        pm.set_data({"w": np.array([10.0, 20.0, 30.0])})
    # the new data reaches the rewritten variable's scale: c = mu + w * tau * c_offset
    point = {
        "mu": np.array(0.0),
        "tau_log__": np.array(0.0),
        "b": np.zeros(3),
        "c_offset": np.ones(3),
    }
    c_val = eval_at(new, new["c"], point)
    np.testing.assert_allclose(c_val, [10.0, 20.0, 30.0])


def test_mutable_dims_and_data_sized_effects_follow_set_dim_and_set_data():
    """Offsets take their size from the same symbolic dims / data lengths as the variables."""
    with pm.Model() as m:
        m.add_coord("g", range(3))
        x = pm.Data("x", np.zeros(5))
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, dims="g")
        eps = pm.Normal("eps", 0, tau, shape=x.shape)  # an observation-level effect
        pm.Normal("y", a.sum() + eps + x, 1.0, observed=np.zeros(5), shape=x.shape)
    new = decenter.transform(m)
    assert free_names(new) == ["mu", "tau", "a_offset", "eps_offset"]
    with new:
        pm.set_data({"x": np.zeros(7)})
        new.set_dim("g", 4, coord_values=range(4))
        prior = pm.sample_prior_predictive(draws=3, random_seed=0)
    assert prior.prior["a_offset"].shape == prior.prior["a"].shape == (1, 3, 4)
    assert prior.prior["eps_offset"].shape == prior.prior["eps"].shape == (1, 3, 7)
    assert prior.prior_predictive["y"].shape == (1, 3, 7)
    assert m.dim_lengths["g"].eval() == 3 and m["x"].get_value().shape == (5,)


def test_observed_data_container_total_size_and_minibatch():
    rng = np.random.default_rng(0)
    with pm.Model() as m:
        yd = pm.Data("yd", np.zeros(4))
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, shape=4)
        pm.Normal("y", a, 1.0, observed=yd, total_size=40)
    new = decenter.transform(m)
    assert_equivalent(m, new, n_points=3)
    point = {"mu": np.array(0.0), "tau_log__": np.array(0.0), "a_offset": np.zeros(4)}
    before = new.compile_logp()(point)
    with new:
        pm.set_data({"yd": np.ones(4)})
    # total_size scales the likelihood by 10: 4 observations 1 unit off add 10 * 4 * (-1/2)
    np.testing.assert_allclose(new.compile_logp()(point), before - 20.0)

    x, g = rng.normal(size=100), np.arange(100) % 4
    with pm.Model() as mb:
        xb, gb = pm.Minibatch(x, g, batch_size=10)
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, shape=4)
        pm.Normal("y", a[gb], 1.0, observed=xb, total_size=100)
    new = decenter.transform(mb)
    assert free_names(new) == ["mu", "tau", "a_offset"]
    with new, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        approx = pm.fit(n=30, method="advi", progressbar=False, random_seed=0)
    draws = approx.sample(5, random_seed=0).posterior
    assert draws["a"].shape == (1, 5, 4) and np.all(np.isfinite(draws["a"].values))


# --- missing observations (automatic imputation) -----------------------------------------------


def test_missing_observations_constant_scale():
    y = np.array([1.0, np.nan, 2.0, np.nan, 0.5])
    with pm.Model() as m, pytest.warns(ImputationWarning):
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, shape=3)
        pm.Normal("y", a[[0, 1, 2, 0, 1]], 1.0, observed=y)
    assert free_names(m) == ["mu", "tau", "a", "y_unobserved"]
    r = reasons(m)
    assert r["a"][0] == "rewrite"
    assert r["y_unobserved"][0] == "keep" and "only the location" in r["y_unobserved"][1]
    new = decenter.transform(m)
    assert free_names(new) == ["mu", "tau", "a_offset", "y_unobserved"]
    assert [v.name for v in new.observed_RVs] == ["y_observed"]
    assert new["y"] in new.deterministics and dims(new, "y") == dims(m, "y")
    assert_equivalent(m, new, n_points=4)


def test_missing_observations_random_scale_are_rewritten_too():
    """The imputed values are free variables like any other: with a random scale they are
    non-centered, and the combined ``y`` still holds the observed values where there are any."""
    y = np.array([1.0, np.nan, 2.0, np.nan])
    with pm.Model() as m, pytest.warns(ImputationWarning):
        mu = pm.Normal("mu")
        sigma = pm.HalfNormal("sigma")
        pm.Normal("y", mu, sigma, observed=y)
    new = decenter.transform(m)
    assert free_names(new) == ["mu", "sigma", "y_unobserved_offset"]
    assert new["y_unobserved"] in new.deterministics
    assert_equivalent(m, new, n_points=4)
    point = {
        "mu": np.array(0.5),
        "sigma_log__": np.array(np.log(2.0)),
        "y_unobserved_offset": np.array([1.0, -1.0]),
    }
    full = eval_at(new, new["y"], point)
    np.testing.assert_allclose(full, [1.0, 2.5, 2.0, -1.5])


# --- Potentials ------------------------------------------------------------------------------


def test_potentials_on_rewritten_variables_and_as_the_likelihood():
    data = np.array([0.3, -0.2, 1.1, 0.4])
    with pm.Model() as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, shape=4)
        pm.Potential("sum_to_small", -10 * a.sum() ** 2)
        pm.Potential("lik", pm.logp(pm.Normal.dist(a, 1.0), data).sum())
        pm.Potential("on_tau", pt.switch(tau > 5, -np.inf, 0.0))
    assert m.observed_RVs == []
    new = decenter.transform(m)
    assert [p.name for p in new.potentials] == ["sum_to_small", "lik", "on_tau"]
    assert free_names(new) == ["mu", "tau", "a_offset"]
    assert_equivalent(m, new, n_points=4)


# --- distributions decenter does not rewrite ---------------------------------------------------


def _normal_logp(value, mu, sigma):
    return pm.logp(pm.Normal.dist(mu, sigma), value)


def test_customdist_is_kept_with_a_reason_and_can_sit_below_a_rewrite():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, shape=3)  # rewritten
        # logp-only CustomDist with a random scale: decenter cannot see its location and scale
        pm.CustomDist("c", mu, tau, logp=_normal_logp, shape=3)
        # a symbolic CustomDist (dist=) that is location-scale inside: still not rewritten
        d = pm.CustomDist("d", a, tau, dist=lambda m_, s, size: m_ + s * pm.Normal.dist(size=size))
        pm.CustomDist("y", d, 1.0, logp=_normal_logp, observed=np.array([0.1, 0.2, 0.3]))
    r = reasons(m)
    assert r["a"][0] == "rewrite"
    for name in ["c", "d"]:
        assert r[name] == (
            "keep",
            "CustomDist: decenter cannot read a location and scale from user code",
        )
    new = decenter.transform(m)
    assert free_names(new) == ["mu", "tau", "a_offset", "c", "d"]
    assert_equivalent(m, new, n_points=4)


def test_mixture_is_kept_and_can_depend_on_rewritten_variables():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, shape=2)  # rewritten: the component means
        w = pm.Dirichlet("w", np.ones(2))
        pm.NormalMixture("z", w=w, mu=a, sigma=tau, shape=3)  # free, random scale
        pm.Mixture(
            "y",
            w=w,
            comp_dists=[pm.Normal.dist(a[0], 1.0), pm.StudentT.dist(nu=4, mu=a[1], sigma=tau)],
            observed=np.array([-1.0, 0.2, 2.5]),
        )
    r = reasons(m)
    assert r["z"] == ("keep", "Mixture: a mixture has no single location and scale")
    assert r["w"][0] == "keep" and r["w"][1].startswith("no rewrite rule for")
    new = decenter.transform(m)
    assert free_names(new) == ["mu", "tau", "a_offset", "w", "z"]
    assert_equivalent(m, new, n_points=4)


def test_censored_is_kept_and_censored_likelihoods_work():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, shape=3)
        pm.Censored("c", pm.Normal.dist(mu, tau), lower=-1.0, upper=1.0, shape=2)
        pm.Censored(
            "y", pm.Normal.dist(a, 0.5), lower=-1.0, upper=1.0, observed=np.array([-1.0, 0.3, 1.0])
        )
    r = reasons(m)
    assert r["c"] == (
        "keep",
        "Censored: the censoring bounds do not commute with a location-scale map",
    )
    assert r["a"][0] == "rewrite"
    new = decenter.transform(m)
    assert free_names(new) == ["mu", "tau", "a_offset", "c"]
    assert_equivalent(m, new, n_points=4)


def test_truncated_latents_are_rewritten_and_truncated_likelihoods_work():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", mu, tau, shape=3)
        pm.Truncated("t", pm.Normal.dist(mu, tau), lower=-1.0, upper=1.0, shape=2)
        pm.Truncated("t2", pm.Gamma.dist(2.0, 1 / tau), upper=5.0)
        pm.TruncatedNormal("tn", mu, tau, lower=0.0)
        pm.Truncated("tl", pm.LogNormal.dist(mu, tau), upper=5.0)  # exp: bounds would need a log
        pm.Truncated("y", pm.Normal.dist(a, 0.5), lower=0.0, observed=np.array([0.1, 0.3, 1.0]))
    r = reasons(m)
    for name in ["t", "t2", "tn"]:
        assert r[name] == ("rewrite", "scale depends on free variable tau")
    assert r["tl"][0] == "keep" and r["tl"][1].startswith("Truncated lognormal: only")
    new = decenter.transform(m)
    assert free_names(new) == ["mu", "tau", "a_offset", "t_offset", "t2_offset", "tn_offset", "tl"]
    assert_equivalent(m, new, n_points=4)


def test_time_series_and_discrete_latents_are_kept_with_reasons():
    with pm.Model() as m:
        sigma = pm.HalfNormal("sigma")
        rw = pm.GaussianRandomWalk("rw", sigma=sigma, init_dist=pm.Normal.dist(0, 1), steps=4)
        k = pm.Poisson("k", 3.0)
        flat = pm.Flat("flat")
        b = pm.Normal("b", flat, sigma, shape=5)  # rewritten: scale is random
        pm.Normal("y", rw + b + k, 1.0, observed=np.zeros(5))
    r = reasons(m)
    for name in ["b", "rw"]:
        assert r[name][0] == "rewrite"
        assert r[name][1].startswith("scale depends on free variable sigma")
        # the flat location leaves the fit without a mode: the fallback is said
        assert "auto fallback, left non-centered: the fit did not converge" in r[name][1]
    for name in ["k", "flat"]:
        assert r[name][0] == "keep" and r[name][1].startswith("no rewrite rule for"), r[name]
    new = decenter.transform(m)
    assert free_names(new) == ["sigma", "rw_offset", "k", "flat", "b_offset"]
    # k is discrete: the gradient-based oracle does not apply, decenter.verify does
    assert_equivalent(m, new, n_points=4, oracle=False)


def test_non_default_transforms_are_kept():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        pm.Normal(
            "a", mu, tau, shape=2, default_transform=pm.distributions.transforms.Interval(-3, 3)
        )
        pm.LogNormal("l", mu, tau, default_transform=None)
        pm.Normal(
            "ordered",
            mu,
            tau,
            shape=3,
            transform=pm.distributions.transforms.ordered,
            initval=[-1.0, 0.0, 1.0],
        )
        pm.Normal("b", mu, tau, shape=2)
    r = reasons(m)
    assert r["a"][0] == "keep"
    assert r["a"][1].startswith("has a non-default value transform (Interval")
    assert r["l"] == ("keep", "has a non-default value transform (none)")
    assert r["ordered"][0] == "keep" and "non-default value transform" in r["ordered"][1]
    assert r["b"][0] == "rewrite"
    new = decenter.transform(m)
    assert free_names(new) == ["mu", "tau", "a", "l", "ordered", "b_offset"]
    assert new.rvs_to_initial_values[new["ordered"]] is not None
    assert_logp_equivalent(m, new, n_points=4)


@pytest.mark.filterwarnings("ignore:PyTensor could not link to a BLAS")
def test_multivariate_families():
    with pm.Model(coords={"k": range(3), "g": range(4)}) as m:
        chol, _, sds = pm.LKJCholeskyCov(
            "chol", n=3, eta=2.0, sd_dist=pm.Exponential.dist(1.0, shape=3)
        )
        mu = pm.Normal("mu", shape=3)
        z = pm.MvNormal("z", mu, chol=chol, dims=("g", "k"))
        zs = pm.ZeroSumNormal("zs", sigma=sds[0], dims="g")
        pm.Normal("y", z.sum(-1) + zs, 1.0, observed=np.zeros(4))
    r = reasons(m)
    assert r["z"] == ("rewrite", "scale depends on free variable chol")
    assert r["zs"][0] == "rewrite"
    new = decenter.transform(m)
    assert free_names(new) == ["chol", "mu", "z_offset", "zs_offset"]
    assert dims(new, "zs_offset") == ("g",) and dims(new, "z_offset") == ("g", "k")
    # the zero-sum offset keeps its (n - 1)-dimensional value space
    assert new.initial_point()["zs_offset_zerosum__"].shape == (3,)
    assert_equivalent(m, new, n_points=4)
    # partial centering: per element for MvNormal, one lam for the whole ZeroSumNormal (an
    # array is averaged, and the plan says so)
    p = decenter.plan(m, strategy=0.3)
    assert p["z"].action == "rewrite" and p["z"].lam == 0.3
    assert p["zs"].action == "rewrite" and p["zs"].lam == 0.3
    partial = decenter.transform(m, strategy=0.3)
    assert partial.initial_point()["zs_offset_zerosum__"].shape == (3,)
    assert_equivalent(m, partial, n_points=4)
    p = decenter.plan(m, strategy={"zs": np.array([0.1, 0.2, 0.3, 0.6])})
    assert p["zs"].lam == pytest.approx(0.3) and "lam averaged to 0.3" in p["zs"].reason
    # a partial lam is never shown as a threshold or as 0 or 1 (0.9496 would read "0.95")
    p = decenter.plan(m, strategy={"zs": 0.9496, "z": np.array([0.0499, 0.3, 0.5])})
    assert p["zs"].lam_summary() == "0.9496" and p["z"].lam_summary().startswith("0.0499..0.50")
    assert decenter.plan(m, strategy=0.3)["zs"].lam_summary() == "0.3"


def test_random_shape_parameters_and_partial_centering():
    """Shape parameters (StudentT nu, Gamma alpha) that are free variables stay as they are."""
    with pm.Model() as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        nu = pm.Gamma("nu", 2.0, 0.1)
        a = pm.StudentT("a", nu=nu, mu=mu, sigma=tau, shape=3)
        alpha = pm.Exponential("alpha", 1.0)
        g = pm.Gamma("g", alpha=alpha, beta=1 / tau, shape=2)
        pm.Normal("y", a.sum() + g.sum(), 1.0, observed=0.3)
    p = decenter.plan(m)
    assert p["a"].scale_parents == ["tau"] and p["g"].scale_parents == ["tau"]
    for strategy in ["noncentered", 0.4, {"a": np.array([0.0, 0.5, 1.0])}]:
        new = decenter.transform(m, strategy=strategy)
        assert "nu" in free_names(new) and "alpha" in free_names(new)
        assert_equivalent(m, new, n_points=3)


# --- named sub-models ------------------------------------------------------------------------


def test_named_sub_models():
    with pm.Model(coords={"g": range(3)}) as m:
        mu = pm.Normal("mu")
        with pm.Model(name="sub"):
            tau = pm.HalfNormal("tau")
            b = pm.Normal("b", mu, tau, dims="g")
            with pm.Model(name="deep"):
                s = pm.Exponential("s", scale=tau)
                c = pm.StudentT("c", nu=5, mu=b, sigma=s, dims="g")
        pm.Normal("y", c, 1.0, observed=np.zeros(3), dims="g")
    assert free_names(m) == ["mu", "sub::tau", "sub::b", "sub::deep::s", "sub::deep::c"]
    p = decenter.plan(m)
    assert [(d.name, d.new_name) for d in p.rewrites] == [
        ("sub::b", "sub::b_offset"),
        ("sub::deep::s", "sub::deep::s_offset"),
        ("sub::deep::c", "sub::deep::c_offset"),
    ]
    assert p["sub::deep::c"].reason == "scale depends on free variable sub::deep::s"
    assert p["sub::deep::c"].loc_parents == ["sub::b"]
    new = decenter.transform(m, vars=["sub::b", "sub::deep::c"])
    assert free_names(new) == [
        "mu",
        "sub::tau",
        "sub::b_offset",
        "sub::deep::s",
        "sub::deep::c_offset",
    ]
    assert dims(new, "sub::deep::c_offset") == ("g",)
    assert_equivalent(m, new, n_points=4)


def test_named_root_model_keeps_its_name_and_options():
    with pm.Model(name="top", check_bounds=False) as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        pm.Normal("b", mu, tau, shape=2)
    new = decenter.transform(m)
    assert free_names(new) == ["top::mu", "top::tau", "top::b_offset"]
    assert new["b"] is new["top::b"]  # lookups without the prefix work as in the original
    assert new.check_bounds is False and new.name == "top"
    with new:
        z = pm.Normal("z")
    assert z.name == "top::z"


# --- initial values ----------------------------------------------------------------------------


def _with_initvals():
    with pm.Model() as m:
        mu = pm.Normal("mu", initval=0.5)
        tau = pm.HalfNormal("tau", initval=2.0)
        a = pm.Normal("a", mu, tau, shape=3, initval=np.array([1.0, 2.0, 3.0]))
        b = pm.Normal("b", mu, tau, shape=2, initval="prior")
        c = pm.Normal("c", mu, tau, shape=2)
        s = pm.HalfNormal("s", initval="prior")
        pm.Normal("y", a.sum() + b.sum() + c.sum(), s, observed=1.0)
    return m


def test_initvals_kept_for_kept_variables_and_dropped_with_a_warning():
    m = _with_initvals()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # non-centered: the offsets' initial point is 0 (the default's lam for "a" sits near
        # the 0.05 snap, so a_offset would start at lam * mu, 0 or 0.026)
        new = decenter.transform(m, strategy="noncentered")
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    dropped = [s for s in msgs if "initial value" in s]
    assert len(dropped) == 2, msgs  # a and b, not c (which had none)
    assert "'a' was dropped" in dropped[0] and "set initval on 'a_offset'" in dropped[0]
    assert "'b' was dropped" in dropped[1]
    assert new.rvs_to_initial_values[new["s"]] == "prior"  # strategies are kept too
    ip = new.initial_point(random_seed=0)
    np.testing.assert_allclose(ip["mu"], 0.5)
    np.testing.assert_allclose(ip["tau_log__"], np.log(2.0))
    np.testing.assert_allclose(ip["a_offset"], 0.0)
    assert np.isfinite(new.compile_logp()(ip))
    # the user's model keeps its initial values and still works with PyMC
    np.testing.assert_allclose(m.initial_point()["a"], [1.0, 2.0, 3.0])
    assert_equivalent(m, new, n_points=3)


def test_default_choice_is_reproducible_with_prior_initvals():
    """initval="prior" draws a new start at every call; the Laplace fit seeds it, so the
    default gives the same plan every time (it differed from call to call before)."""
    m = _with_initvals()
    a, b = decenter.plan(m), decenter.plan(m)
    assert a.fit["evaluations"] == b.fit["evaluations"]
    assert a.fit["scale_used"] == b.fit["scale_used"]
    assert [d.to_dict() for d in a] == [d.to_dict() for d in b]


def test_initvals_only_on_rewritten_variables_restrict_with_vars():
    """vars= can keep a variable centered so that its initial value survives."""
    m = _with_initvals()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        new = decenter.transform(m, vars=["c"])
    np.testing.assert_allclose(new.initial_point()["a"], [1.0, 2.0, 3.0])
    assert free_names(new) == ["mu", "tau", "a", "b", "c_offset", "s"]
    # or: leave it centered with lam = 1 (only b's initial value is dropped then)
    with pytest.warns(UserWarning, match="initial value of 'b'") as rec:
        new = decenter.transform(m, strategy={"a": 1.0})
    assert len(rec) == 1
    np.testing.assert_allclose(new.initial_point()["a"], [1.0, 2.0, 3.0])


def test_initvals_transform_twice_and_sample():
    m = _with_initvals()
    with pytest.warns(UserWarning, match="initial value of '[ab]' was dropped") as rec:
        new = decenter.transform(m)
    assert len(rec) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        twice = decenter.transform(new)
    assert free_names(twice) == free_names(new)
    np.testing.assert_allclose(twice.initial_point()["mu"], 0.5)
    draws = pm.sample_prior_predictive(draws=5, model=new, random_seed=0)
    assert draws.prior["a"].shape == (1, 5, 3)


# --- bambi -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bambi_pair():
    import bambi as bmb  # a dev dependency: missing, it fails rather than skips
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"g": rng.choice(list("abcde"), 40), "x": rng.normal(size=40)})
    df["y"] = df.x + df.g.map(dict(a=0, b=1, c=-1, d=0.5, e=0.0)) + rng.normal(0, 0.5, 40)
    formula = "y ~ x + (1 + x | g)"
    centered = bmb.Model(formula, df, noncentered=False)
    centered.build()
    noncentered = bmb.Model(formula, df, noncentered=True)
    noncentered.build()
    return centered.backend.model, noncentered.backend.model


def test_bambi_centered_model_becomes_bambis_noncentered_model(bambi_pair):
    centered, theirs = bambi_pair
    ours, p = decenter.transform(centered, strategy="noncentered", return_plan=True)
    assert free_names(ours) == free_names(theirs)
    assert sorted(v.name for v in ours.deterministics) == sorted(
        v.name for v in theirs.deterministics
    )
    for name in ours.named_vars:
        assert dims(ours, name) == dims(theirs, name), name
    assert [d.name for d in p.rewrites] == ["1|g", "x|g"]
    assert p["1|g"].reason == "scale depends on free variable 1|g_sigma"
    # the same density and the same group effects at random points of bambi's parameter space
    f_ours, f_theirs = ours.compile_logp(), theirs.compile_logp()
    for point in random_points(theirs, 5, seed=0):
        np.testing.assert_allclose(f_ours(point), f_theirs(point), rtol=1e-10)
        for name in ["1|g", "x|g", "mu"]:
            ours_v, theirs_v = (
                eval_at(ours, ours[name], point),
                eval_at(theirs, theirs[name], point),
            )
            np.testing.assert_allclose(ours_v, theirs_v, rtol=1e-10)
    assert_equivalent(centered, ours, n_points=3)
