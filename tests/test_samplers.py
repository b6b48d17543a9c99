"""A transformed model samples with every NUTS back end PyMC offers, and its posterior feeds the
original model (issue 7). Smoke tests with tiny draws, but each asserts on the result: shapes,
original names, no NaN, and the rewritten variables equal to loc + scale * offset draw by draw.

numpyro and blackjax are optional (skipped when not installed).
"""

from __future__ import annotations

import warnings

import numpy as np
import pymc as pm
import pytest
from pymc.exceptions import ImputationWarning

import decenter
from decenter.examples.eight_schools import centered_model

DRAWS, TUNE, CHAINS = 40, 40, 2

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def schools():
    original = centered_model()
    return original, decenter.transform(original)


def _sample(model, sampler, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(
            draws=DRAWS,
            tune=TUNE,
            chains=CHAINS,
            cores=1,
            nuts_sampler=sampler,
            random_seed=3,
            progressbar=False,
            compute_convergence_checks=False,
            model=model,
            **kw,
        )


@pytest.mark.parametrize("sampler", ["pymc", "nutpie", "numpyro", "blackjax"])
def test_transformed_model_samples(schools, sampler):
    if sampler != "pymc":
        pytest.importorskip(sampler)
    original, new = schools
    try:
        idata = _sample(new, sampler)
    except TypeError as err:
        if sampler == "blackjax" and "progress_bar" in str(err):
            # blackjax >= 1.6 no longer accepts the progress_bar argument PyMC passes it
            import blackjax

            pytest.skip(f"blackjax {blackjax.__version__} does not work with this PyMC: {err}")
        raise
    post = idata.posterior
    names = {"mu", "tau", "theta", "theta_offset"}
    assert names <= set(post.data_vars)
    for name in original.named_vars:  # every original free and Deterministic name
        if name != "y":
            assert name in post.data_vars, name
    assert post["theta"].shape == (CHAINS, DRAWS, 8)
    assert post["theta"].dims == ("chain", "draw", "school")
    assert list(post["theta"].coords["school"].values) == list(original.coords["school"])
    for name in names:
        assert np.all(np.isfinite(post[name].values)), name
    assert np.all(post["tau"].values > 0)
    # theta is the Deterministic mu + tau * theta_offset in every draw of every sampler
    np.testing.assert_allclose(
        post["theta"].values,
        post["mu"].values[..., None] + post["tau"].values[..., None] * post["theta_offset"].values,
        rtol=1e-6,
        atol=1e-8,
    )
    # not stuck: the chains move
    assert np.ptp(post["mu"].values) > 0


def _grouped_data(seed=0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(4), 10)
    y = np.array([-1.0, 0.0, 1.0, 2.0])[g] + rng.normal(0, 0.5, g.size)
    return g, y


def test_round_trip_posterior_into_the_original_model():
    """Sample the transformed model, predict with the original: every original name is in the
    posterior, so PyMC resamples only the observed variable."""
    g, y = _grouped_data()
    with pm.Model(coords={"group": range(4)}) as original:
        mu = pm.Normal("mu", 0, 2)
        tau = pm.HalfNormal("tau", 1)
        a = pm.Normal("a", mu, tau, dims="group")
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("y", a[g], sigma, observed=y)
    new = decenter.transform(original)
    idata = _sample(new, "pymc")
    assert {"mu", "tau", "a", "sigma"} <= set(idata.posterior.data_vars)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp = pm.sample_posterior_predictive(idata, model=original, random_seed=4, progressbar=False)
    y_pp = pp.posterior_predictive["y"]
    assert y_pp.shape == (CHAINS, DRAWS, y.size)
    assert np.all(np.isfinite(y_pp.values))
    assert abs(float(y_pp.mean()) - y.mean()) < 0.2
    # per group too: the group effects came from the transformed model's posterior
    for k in range(4):
        assert abs(float(y_pp.values[..., g == k].mean()) - y[g == k].mean()) < 0.4
    # the original model was not resampled: "a" is not among the predicted variables
    assert list(pp.posterior_predictive.data_vars) == ["y"]


def test_sampling_with_imputed_observations():
    y = np.array([0.5, np.nan, 1.5, 1.0, np.nan, 0.8])
    with pm.Model() as original, pytest.warns(ImputationWarning):
        mu = pm.Normal("mu")
        sigma = pm.HalfNormal("sigma")
        pm.Normal("y", mu, sigma, observed=y)
    new = decenter.transform(original)
    assert [v.name for v in new.free_RVs] == ["mu", "sigma", "y_unobserved_offset"]
    post = _sample(new, "pymc").posterior
    assert post["y_unobserved"].shape == (CHAINS, DRAWS, 2)
    full = post["y"].values
    assert full.shape == (CHAINS, DRAWS, 6)
    observed = ~np.isnan(y)
    np.testing.assert_array_equal(
        full[..., observed], np.broadcast_to(y[observed], full[..., observed].shape)
    )
    np.testing.assert_allclose(full[..., ~observed], post["y_unobserved"].values)
    assert np.all(np.isfinite(full))
