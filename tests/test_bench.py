"""The benchmark's comparison is paired: every strategy's nutpie run gets the same seed."""

import numpy as np
import pytest

pytest.importorskip("nutpie")


def test_the_fixed_forms_get_the_seed_pm_sample_gives_nutpie():
    from decenter._pymc import get_random_generator
    from decenter.bench.prep import nutpie_seed

    for seed in (0, 1, 7):
        rng = get_random_generator(seed).spawn(4)[0]  # what pm.sample does for nutpie
        assert nutpie_seed(seed, 4) == int(rng.integers(2**30))
    assert len({nutpie_seed(s, 4) for s in range(20)}) == 20


def test_a_default_that_keeps_the_model_samples_the_centered_draws():
    # rail: one group effect the default keeps as written ("nothing to rewrite"),
    # so `auto` (decenter.sample -> pm.sample) and `centered` must agree to the last draw, by
    # the bench's path (pm.sample) and by the slow tests' (a cached nutpie compile); before the
    # seeds were paired they were independent runs
    from decenter.bench import run_one

    kw = dict(seed=3, draws=60, tune=60, chains=2, suite="corpus-heldout")
    auto = run_one("rail", "auto", **kw)
    assert "nothing to rewrite" in auto["summary"]
    by_pm_sample = run_one("rail", "centered", **kw)
    by_nutpie = run_one("rail", "centered", cache={}, **kw)
    for centered in (by_pm_sample, by_nutpie):
        for key in ("ess_min", "grads", "tune_grads", "divergences"):
            assert centered[key] == auto[key], key
    assert np.isfinite(auto["ess_min"]) and auto["ess_min"] > 0 and auto["tune_grads"] > 0
