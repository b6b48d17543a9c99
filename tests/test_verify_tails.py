"""decenter.verify on heavy-tailed priors whose prior draws overflow (issue 30, item 4).

BUGS "Surgical" with its vague ``sigmasq ~ InverseGamma(0.001, 0.001)``: about half of the
prior draws of ``sigmasq`` are ``inf`` (``Gamma(0.001)`` underflows to 0), so the hospital
effects are ``mu + inf * z = +-inf`` in the centered model and ``inf / inf = nan`` in the
partially centered one. Those draws say nothing about the distribution; the check compares how
often a draw is not finite, and the finite draws.
"""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import decenter
from decenter.verify import distribution_tests

N = np.array([47, 148, 119, 810, 211, 196, 148, 215, 207, 97, 256, 360])
R = np.array([0, 18, 8, 46, 8, 13, 9, 31, 14, 8, 29, 24])
COORDS = {"hospital": list("ABCDEFGHIJKL")}


def surgical_bugs() -> pm.Model:
    """BUGS Examples Vol. 1 "Surgical" with the manual's priors (``tau ~ dgamma(0.001,
    0.001)`` is ``sigmasq ~ InverseGamma(0.001, 0.001)``). ``REAL_SUITE["surgical"]`` is the
    same likelihood with a ``HalfNormal(1)`` scale, whose draws never overflow."""
    with pm.Model(coords=COORDS) as model:
        mu = pm.Normal("mu", mu=0, sigma=1000)
        sigmasq = pm.InverseGamma("sigmasq", 0.001, 0.001)
        sigma = pm.Deterministic("sigma", pt.sqrt(sigmasq))
        b = pm.Normal("b", mu=mu, sigma=sigma, dims="hospital")
        pm.Binomial("r", n=N, logit_p=b, observed=R, dims="hospital")
    return model


def surgical_partial_by_hand(lam: float, *, scale_power: float = 1.0) -> pm.Model:
    """The partially centered form written by hand; ``scale_power=2`` is a mutant that scales
    the effects by ``sigmasq`` where ``sigma`` is meant (the variance for the sd)."""
    with pm.Model(coords=COORDS) as model:
        mu = pm.Normal("mu", mu=0, sigma=1000)
        sigmasq = pm.InverseGamma("sigmasq", 0.001, 0.001)
        sigma = pm.Deterministic("sigma", pt.sqrt(sigmasq))
        scale = sigma**scale_power
        eta = pm.Normal("b_offset", mu=lam * mu, sigma=scale**lam, dims="hospital")
        b = pm.Deterministic("b", mu + scale ** (1 - lam) * (eta - lam * mu), dims="hospital")
        pm.Binomial("r", n=N, logit_p=b, observed=R, dims="hospital")
    return model


@pytest.mark.parametrize(
    ("strategy", "seed"),
    [("noncentered", 0), ("centered", 1), (0.3, 2), (0.7, 0), ("auto", 1), ("auto", 2)],
)
def test_surgical_with_inverse_gamma_prior_is_equivalent_under_every_strategy(strategy, seed):
    original = surgical_bugs()
    report = decenter.verify(
        original, decenter.transform(original, strategy=strategy), random_seed=seed
    )
    assert report.verdict == "equivalent", str(report)
    tests = report["distribution"].details["tests"]
    assert "b[0] non-finite rate" in tests  # the overflows are counted, not ignored


def test_overflowed_draws_are_counted_not_compared():
    rng = np.random.default_rng(0)
    z_o, z_c = rng.normal(size=(1000, 3)), rng.normal(size=(1000, 3))
    over_o, over_c = rng.random(1000) < 0.5, rng.random(1000) < 0.5
    inf_sign = np.where(over_o[:, None], np.inf, 1.0) * z_o  # +-inf where one form overflows
    nan_form = np.where(over_c[:, None], np.nan, z_c)  # nan where the other does
    check = distribution_tests({"x": inf_sign}, {"x": nan_form}, random_seed=0)
    assert check.passed, check.message
    assert {"x[0]", "x[0] non-finite rate"} <= set(check.details["tests"])
    # overflowing four times as often is a different distribution
    rarer = np.where((rng.random(1000) < 0.125)[:, None], np.nan, z_c)
    check = distribution_tests({"x": inf_sign}, {"x": rarer}, random_seed=0)
    assert not check.passed and "x[0] non-finite rate" in check.details["rejected"]


def test_partial_form_by_hand_passes_and_a_heavy_tail_mutant_is_caught():
    original = surgical_bugs()
    right = decenter.verify(original, surgical_partial_by_hand(0.5), random_seed=0)
    assert right.verdict == "equivalent", str(right)
    wrong = decenter.verify(original, surgical_partial_by_hand(0.5, scale_power=2), random_seed=0)
    check = wrong["distribution"]
    assert not check.passed, check.message
    assert any(t.startswith(("b[", "mean(b)", "sd(b)")) for t in check.details["rejected"])
