"""Benchmark models for ``decenter bench``: zero-argument functions returning centered models.

Every model is written the natural (centered) way; simulated data use fixed seeds so that
each call returns the same model. :data:`SUITE` maps names to the functions.

Examples
--------
>>> from decenter.examples.suite import SUITE
>>> sorted(SUITE)[:3]
['eight_schools', 'funnel', 'nested']
>>> m = SUITE["unbalanced"]()
>>> m["y"].eval().shape[0] > 1000
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pymc as pm

__all__ = [
    "SUITE",
    "radon",
    "eight_schools",
    "strong_data",
    "unbalanced",
    "funnel",
    "poisson",
    "nested",
    "stochastic_volatility",
]


def radon() -> pm.Model:
    """Minnesota radon, varying intercepts and slopes by county (85 counties, 1 to 116 homes)."""
    from decenter.examples.radon import centered_model

    return centered_model()


def eight_schools() -> pm.Model:
    """Rubin's eight schools: weak data, the classic funnel (non-centered is best)."""
    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    with pm.Model(coords={"school": range(8)}) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, dims="school")
        pm.Normal("y", theta, sigma, observed=y, dims="school")
    return model


def _grouped(n_per_group: np.ndarray, tau: float, sigma: float, seed: int):
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(len(n_per_group)), n_per_group)
    effect = 1.0 + tau * rng.normal(size=len(n_per_group))
    y = effect[group] + sigma * rng.normal(size=len(group))
    return group, y


def _normal_hierarchy(group: np.ndarray, y: np.ndarray, n_groups: int) -> pm.Model:
    with pm.Model(coords={"group": range(n_groups), "obs": range(len(y))}) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfNormal("tau", 2.0)
        theta = pm.Normal("theta", mu, tau, dims="group")
        sigma = pm.HalfNormal("sigma", 2.0)
        pm.Normal("y", theta[group], sigma, observed=y, dims="obs")
    return model


def strong_data() -> pm.Model:
    """20 groups of 200 observations each, noise 1, group sd 0.5 (centered is best)."""
    n = np.full(20, 200)
    group, y = _grouped(n, tau=0.5, sigma=1.0, seed=11)
    return _normal_hierarchy(group, y, len(n))


def unbalanced() -> pm.Model:
    """60 groups of 1 to 400 observations (geometric), noise 1, group sd 0.5.

    Small groups want the non-centered form and large ones the centered form, so neither
    global choice is good: the case for per-element ``lam``.
    """
    n = np.round(np.geomspace(1, 400, 60)).astype(int)
    group, y = _grouped(n, tau=0.5, sigma=1.0, seed=12)
    return _normal_hierarchy(group, y, len(n))


def funnel() -> pm.Model:
    """Neal's funnel in 10 dimensions: no data at all (non-centered is exact)."""
    with pm.Model() as model:
        v = pm.Normal("v", 0.0, 3.0)
        pm.Normal("x", 0.0, pm.math.exp(v / 2), shape=9)
    return model


def poisson() -> pm.Model:
    """Hierarchical Poisson regression: 40 groups of 2 to 80 counts, log link, one covariate."""
    rng = np.random.default_rng(13)
    n = np.round(np.geomspace(2, 80, 40)).astype(int)
    group = np.repeat(np.arange(40), n)
    x = rng.normal(size=len(group))
    alpha = 0.5 + 0.4 * rng.normal(size=40)
    counts = rng.poisson(np.exp(alpha[group] + 0.3 * x))
    with pm.Model(coords={"group": range(40), "obs": range(len(group))}) as model:
        mu = pm.Normal("mu", 0.0, 2.0)
        tau = pm.HalfNormal("tau", 1.0)
        a = pm.Normal("a", mu, tau, dims="group")
        beta = pm.Normal("beta", 0.0, 1.0)
        pm.Poisson("counts", pm.math.exp(a[group] + beta * x), observed=counts, dims="obs")
    return model


def nested() -> pm.Model:
    """Two nested levels: 8 regions > 40 districts (5 each) > 2 to 60 observations each.

    Regions are informed only through their districts; the information a district passes up
    depends on its own data (decenter weighs it by the district's ``lam``).
    """
    rng = np.random.default_rng(14)
    n_region, per = 8, 5
    n_district = n_region * per
    region_of = np.repeat(np.arange(n_region), per)
    n = rng.permutation(np.round(np.geomspace(2, 60, n_district)).astype(int))
    district = np.repeat(np.arange(n_district), n)
    region_eff = 0.6 * rng.normal(size=n_region)
    district_eff = region_eff[region_of] + 0.4 * rng.normal(size=n_district)
    y = district_eff[district] + rng.normal(size=len(district))
    coords = {"region": range(n_region), "district": range(n_district), "obs": range(len(y))}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau_r = pm.HalfNormal("tau_region", 1.0)
        tau_d = pm.HalfNormal("tau_district", 1.0)
        r = pm.Normal("region_eff", mu, tau_r, dims="region")
        d = pm.Normal("district_eff", r[region_of], tau_d, dims="district")
        sigma = pm.HalfNormal("sigma", 2.0)
        pm.Normal("y", d[district], sigma, observed=y, dims="obs")
    return model


def stochastic_volatility(n_days: int = 400) -> pm.Model:
    """Stochastic volatility (pymc-examples): StudentT returns, log-volatility a random walk.

    As in the pymc-examples notebook on S&P 500 returns, ``volatility`` is a
    ``GaussianRandomWalk`` with an ``Exponential(10)`` step scale and the returns are StudentT
    with precision ``exp(-2 volatility)``. No S&P 500 data ship with decenter, so the returns are
    simulated with a fixed seed (daily volatility near 1%, step scale 0.1, nu = 8); ``n_days``
    is shorter than the notebook's ~2900 days to keep benchmarks quick.
    """
    rng = np.random.default_rng(15)
    log_vol = np.log(0.01) + np.cumsum(np.r_[0.0, 0.1 * rng.normal(size=n_days - 1)])
    returns = np.exp(log_vol) * rng.standard_t(8, size=n_days)
    with pm.Model(coords={"time": range(n_days)}) as model:
        step_size = pm.Exponential("step_size", 10.0)
        volatility = pm.GaussianRandomWalk(
            "volatility", sigma=step_size, init_dist=pm.Normal.dist(0.0, 100.0), dims="time"
        )
        nu = pm.Exponential("nu", 0.1)
        pm.StudentT(
            "returns", nu=nu, lam=pm.math.exp(-2 * volatility), observed=returns, dims="time"
        )
    return model


SUITE: dict[str, Callable[[], pm.Model]] = {
    "radon": radon,
    "eight_schools": eight_schools,
    "strong_data": strong_data,
    "unbalanced": unbalanced,
    "funnel": funnel,
    "poisson": poisson,
    "nested": nested,
    "stochastic_volatility": stochastic_volatility,
}
