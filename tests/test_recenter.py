"""decenter.core.recenter: a second pass fits the model the first pass fitted (issue 31).

Folding decenter's own offsets back into ``x ~ D(loc, scale)`` must give the original model
exactly (same free variables in the same order, same log density), and must leave alone a
hand-written pair that is not affine in its offset.
"""

from __future__ import annotations

import warnings

import numpy as np
import pymc as pm
import pytest

import decenter
from decenter.core.reasons import _offsets_of
from decenter.core.recenter import recentered
from decenter.examples.eight_schools import centered_model
from decenter.examples.radon import centered_model as radon


@pytest.mark.parametrize("make", [centered_model, radon], ids=["eight_schools", "radon"])
@pytest.mark.parametrize("strategy", ["noncentered", 0.5, "auto"])
def test_folding_gives_back_the_original_model(make, strategy, seed):
    original = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = decenter.transform(original, strategy=strategy, random_seed=0)
    back, done = recentered(new, _offsets_of(new))
    assert done == {d for d in _offsets_of(new).values()}
    assert [v.name for v in back.free_RVs] == [v.name for v in original.free_RVs]
    point = original.initial_point(random_seed=seed)
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in point.items()}
    np.testing.assert_allclose(
        back.compile_logp()(point), original.compile_logp()(point), rtol=1e-10
    )


def test_a_hand_written_pair_that_is_not_affine_is_left_alone():
    with pm.Model() as m:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        z = pm.Normal("theta_offset", 0, 1, shape=4)
        pm.Deterministic("theta", pm.math.exp(mu + tau * z))
    back, done = recentered(m, {"theta_offset": "theta"})
    assert done == set() and back is m
    # the affine one beside it is folded
    with pm.Model() as m2:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        z = pm.Normal("theta_offset", 0, 1, shape=4)
        pm.Deterministic("theta", mu + tau * z)
    back, done = recentered(m2, {"theta_offset": "theta"})
    assert done == {"theta"} and back["theta"] in back.free_RVs
