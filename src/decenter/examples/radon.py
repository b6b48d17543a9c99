"""The Minnesota radon data (Gelman & Hill 2006) and the reference models.

The models follow the classic blog post "Why hierarchical models are awesome, tricky, and
Bayesian" (Wiecki): a varying-intercept, varying-slope model of log radon by county, written
centered (the funnel NUTS struggles with) and non-centered by hand.

Examples
--------
>>> from decenter.examples.radon import load_radon, centered_model
>>> df = load_radon()
>>> len(df), df["county"].nunique()
(919, 85)
>>> model = centered_model(df)
>>> sorted(v.name for v in model.free_RVs)
['a', 'b', 'eps', 'mu_a', 'mu_b', 'sigma_a', 'sigma_b']
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pymc as pm

__all__ = ["load_radon", "centered_model", "noncentered_model", "coords"]


def load_radon() -> pd.DataFrame:
    """Load the bundled Minnesota radon data: 919 homes in 85 counties.

    Columns: idnum, county, county_idx (0-based, alphabetical), floor (0 basement, 1 first
    floor), activity, log_radon, uppm, log_uppm. See ``decenter/data/README.md``.
    """
    with resources.files("decenter.data").joinpath("radon_mn.csv").open("r") as f:
        return pd.read_csv(f)


def coords(df: pd.DataFrame) -> dict[str, list]:
    counties = df[["county_idx", "county"]].drop_duplicates().sort_values("county_idx")
    return {"county": counties["county"].tolist(), "obs_id": list(range(len(df)))}


def _data(df: pd.DataFrame):
    county_idx = pm.Data("county_idx", df["county_idx"].to_numpy(np.int64), dims="obs_id")
    floor = pm.Data("floor", df["floor"].to_numpy(np.float64), dims="obs_id")
    return county_idx, floor


def centered_model(df: pd.DataFrame | None = None) -> pm.Model:
    """The centered varying-intercept, varying-slope radon model (has a funnel in sigma_b)."""
    df = load_radon() if df is None else df
    with pm.Model(coords=coords(df)) as model:
        county_idx, floor = _data(df)
        mu_a = pm.Normal("mu_a", mu=0.0, sigma=100**2)
        sigma_a = pm.HalfCauchy("sigma_a", beta=5)
        mu_b = pm.Normal("mu_b", mu=0.0, sigma=100**2)
        sigma_b = pm.HalfCauchy("sigma_b", beta=5)
        a = pm.Normal("a", mu=mu_a, sigma=sigma_a, dims="county")
        b = pm.Normal("b", mu=mu_b, sigma=sigma_b, dims="county")
        eps = pm.HalfCauchy("eps", beta=5)
        radon_est = a[county_idx] + b[county_idx] * floor
        pm.Normal(
            "log_radon", mu=radon_est, sigma=eps, observed=df["log_radon"].to_numpy(), dims="obs_id"
        )
    return model


def noncentered_model(df: pd.DataFrame | None = None) -> pm.Model:
    """The same model non-centered by hand: a_offset, b_offset ~ Normal(0, 1)."""
    df = load_radon() if df is None else df
    with pm.Model(coords=coords(df)) as model:
        county_idx, floor = _data(df)
        mu_a = pm.Normal("mu_a", mu=0.0, sigma=100**2)
        sigma_a = pm.HalfCauchy("sigma_a", beta=5)
        mu_b = pm.Normal("mu_b", mu=0.0, sigma=100**2)
        sigma_b = pm.HalfCauchy("sigma_b", beta=5)
        a_offset = pm.Normal("a_offset", mu=0, sigma=1, dims="county")
        a = pm.Deterministic("a", mu_a + a_offset * sigma_a, dims="county")
        b_offset = pm.Normal("b_offset", mu=0, sigma=1, dims="county")
        b = pm.Deterministic("b", mu_b + b_offset * sigma_b, dims="county")
        eps = pm.HalfCauchy("eps", beta=5)
        radon_est = a[county_idx] + b[county_idx] * floor
        pm.Normal(
            "log_radon", mu=radon_est, sigma=eps, observed=df["log_radon"].to_numpy(), dims="obs_id"
        )
    return model
