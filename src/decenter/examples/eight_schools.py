"""Eight schools (Rubin 1981; Gelman et al., Bayesian Data Analysis, section 5.5).

The centered model has the funnel between ``tau`` and ``theta``; the non-centered one is
written by hand, with the offsets called ``theta_raw`` (not decenter's ``theta_offset``).

Examples
--------
>>> from decenter.examples.eight_schools import centered_model, noncentered_model
>>> sorted(v.name for v in centered_model().free_RVs)
['mu', 'tau', 'theta']
>>> sorted(v.name for v in noncentered_model().free_RVs)
['mu', 'tau', 'theta_raw']
"""

from __future__ import annotations

import numpy as np
import pymc as pm

__all__ = ["Y", "SIGMA", "COORDS", "centered_model", "noncentered_model"]

#: Estimated coaching effects and their standard errors.
Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
COORDS = {"school": ["A", "B", "C", "D", "E", "F", "G", "H"]}


def centered_model() -> pm.Model:
    """``theta ~ Normal(mu, tau)``: the centered form."""
    with pm.Model(coords=COORDS) as model:
        mu = pm.Normal("mu", mu=0.0, sigma=5.0)
        tau = pm.HalfCauchy("tau", beta=5.0)
        theta = pm.Normal("theta", mu=mu, sigma=tau, dims="school")
        pm.Normal("y", mu=theta, sigma=SIGMA, observed=Y, dims="school")
    return model


def noncentered_model() -> pm.Model:
    """``theta = mu + tau * theta_raw`` with ``theta_raw ~ Normal(0, 1)``, written by hand."""
    with pm.Model(coords=COORDS) as model:
        mu = pm.Normal("mu", mu=0.0, sigma=5.0)
        tau = pm.HalfCauchy("tau", beta=5.0)
        theta_raw = pm.Normal("theta_raw", mu=0.0, sigma=1.0, dims="school")
        theta = pm.Deterministic("theta", mu + tau * theta_raw, dims="school")
        pm.Normal("y", mu=theta, sigma=SIGMA, observed=Y, dims="school")
    return model
