"""decenter.sample: one call from a model to an InferenceData that explains itself."""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import pytest

import decenter

FAST = dict(draws=30, tune=30, chains=1, nuts_sampler="pymc", compute_convergence_checks=False)


def _schools() -> pm.Model:
    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    with pm.Model(coords={"school": [f"s{i}" for i in range(8)]}) as m:
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfNormal("tau", 5)
        theta = pm.Normal("theta", mu, tau, dims="school")
        pm.Normal("y", theta, 10.0, observed=y, dims="school")
    return m


def _grouped(n_per_group, seed=0) -> pm.Model:
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(len(n_per_group)), n_per_group)
    y = rng.normal(size=len(n_per_group))[group] + rng.normal(size=len(group))
    with pm.Model(coords={"g": range(len(n_per_group))}) as m:
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfNormal("tau", 1)
        theta = pm.Normal("theta", mu, tau, dims="g")
        pm.Normal("y", theta[group], 1.0, observed=y)
    return m


def test_decides_without_compiling_a_sampler_then_samples_once(monkeypatch):
    import nutpie

    calls = []

    def fake_sample(*, model, **kwargs):
        calls.append((model, kwargs))
        import xarray as xr

        return xr.DataTree.from_dict({"posterior": xr.Dataset({"x": ("draw", np.zeros(3))})})

    def no_compile(*args, **kwargs):
        raise AssertionError("the default strategy must not compile a sampler")

    monkeypatch.setattr(pm, "sample", fake_sample)
    monkeypatch.setattr(nutpie, "compile_pymc_model", no_compile)
    m = _grouped([1, 5, 50, 200])
    idata = decenter.sample(m, random_seed=3, progressbar=False, nuts_sampler="nutpie", draws=7)
    assert len(calls) == 1  # one sampling run, so one compile of the final model
    model, kwargs = calls[0]
    assert "theta_offset" in [v.name for v in model.free_RVs]
    assert kwargs == {"random_seed": 3, "progressbar": False, "nuts_sampler": "nutpie", "draws": 7}
    plan = json.loads(idata.posterior.attrs["decenter_plan"])
    assert plan["strategy"] == "auto" and plan["fit"]["method"] == "laplace"
    theta = next(d for d in plan["decisions"] if d["name"] == "theta")
    assert theta["new_name"] == "theta_offset" and len(theta["lam"]) == 4
    assert idata.posterior.attrs["decenter_summary"].startswith("decenter: rewrote theta")


@pytest.mark.slow
def test_nutpie_compiles_the_final_model_once(monkeypatch):
    import nutpie

    real, count = nutpie.compile_pymc_model, []

    def counting(model, **kwargs):
        count.append(model)
        return real(model, **kwargs)

    monkeypatch.setattr(nutpie, "compile_pymc_model", counting)
    idata = decenter.sample(
        _grouped([1, 5, 50, 200]),
        nuts_sampler="nutpie",
        draws=50,
        tune=50,
        chains=1,
        progressbar=False,
        random_seed=1,
    )
    assert len(count) == 1
    assert idata.posterior["theta"].shape == (1, 50, 4)


def test_names_dims_and_plan_are_kept():
    m = _schools()
    idata = decenter.sample(m, random_seed=1, progressbar=False, **FAST)
    post = idata.posterior
    assert post["theta"].dims == ("chain", "draw", "school")
    assert list(post["theta"].coords["school"].values) == [f"s{i}" for i in range(8)]
    assert {"mu", "tau", "theta", "theta_offset"} <= set(post.data_vars)
    assert post.attrs["decenter_strategy"] == "auto"
    plan = json.loads(post.attrs["decenter_plan"])
    assert [d["name"] for d in plan["decisions"]] == ["mu", "tau", "theta"]
    assert any("Laplace fit" in n for n in plan["notes"])
    assert "theta" in m.free_RVs[2].name  # the user's model is untouched
    assert [v.name for v in m.free_RVs] == ["mu", "tau", "theta"]


def test_nothing_to_rewrite_samples_the_model_unchanged():
    with pm.Model() as m:
        x = pm.Normal("x")
        pm.Normal("y", x, 1.0, observed=[0.1, 0.3])
    idata = decenter.sample(m, random_seed=1, progressbar=False, **FAST)
    assert idata.posterior.attrs["decenter_summary"] == (
        "decenter: nothing to rewrite; sampled the model unchanged"
    )
    assert set(idata.posterior.data_vars) == {"x"}


def test_cannot_rewrite_samples_the_original_and_says_why(monkeypatch):
    import decenter.core.rewrite

    def refuse(model, plan):
        raise ValueError("PyMC cannot convert it to a graph")

    monkeypatch.setattr(decenter.core.rewrite, "apply_plan", refuse)
    idata = decenter.sample(_schools(), random_seed=1, progressbar=False, **FAST)
    summary = idata.posterior.attrs["decenter_summary"]
    assert summary.startswith("decenter: could not rewrite (PyMC cannot convert")
    assert "theta_offset" not in idata.posterior.data_vars
    assert summary in json.loads(idata.posterior.attrs["decenter_plan"])["notes"]


def test_explicit_strategy_is_recorded():
    idata = decenter.sample(_schools(), "centered", random_seed=1, progressbar=False, **FAST)
    assert idata.posterior.attrs["decenter_strategy"] == "centered"
    assert "theta_offset" not in idata.posterior.data_vars


def test_sampler_errors_are_pymcs_own():
    with pytest.raises(ValueError, match="Sampler no-such-sampler not found"):
        decenter.sample(_schools(), progressbar=False, nuts_sampler="no-such-sampler", draws=5)


# -- var_names is pm.sample's (a trace filter); rewrite= chooses what to rewrite ---------------


@pytest.fixture
def sample_spy(monkeypatch):
    """Record the model and keywords pm.sample gets; return a posterior of its free variables."""
    import xarray as xr

    calls = []

    def fake_sample(*, model, **kwargs):
        calls.append((model, kwargs))
        return xr.DataTree.from_dict({"posterior": xr.Dataset({"x": ("draw", np.zeros(3))})})

    monkeypatch.setattr(pm, "sample", fake_sample)
    return calls


def test_rewrite_chooses_what_is_rewritten(sample_spy):
    m = _schools()
    decenter.sample(m, "noncentered", progressbar=False, rewrite=["mu"])
    model, kwargs = sample_spy[-1]
    assert [v.name for v in model.free_RVs] == ["mu", "tau", "theta"]  # theta not chosen: kept
    assert "rewrite" not in kwargs and "var_names" not in kwargs
    decenter.sample(m, "noncentered", progressbar=False, rewrite=[m["theta"]])
    assert [v.name for v in sample_spy[-1][0].free_RVs] == ["mu", "tau", "theta_offset"]
    with pytest.raises(ValueError, match=r"^rewrite: 'thetaa' is not a variable of this model"):
        decenter.sample(m, "noncentered", progressbar=False, rewrite=["thetaa"])


def test_var_names_filters_the_trace_by_the_original_names(sample_spy):
    m = _schools()
    decenter.sample(m, "noncentered", progressbar=False, var_names=[m["theta"], "tau"])
    model, kwargs = sample_spy[-1]
    assert "theta_offset" in [v.name for v in model.free_RVs]  # var_names chose no rewrite
    assert kwargs["var_names"] == ["theta", "tau"]  # the model's variables, by name
    with pytest.raises(ValueError, match=r"var_names: 'thetaa' not in the model sampled"):
        decenter.sample(m, "noncentered", progressbar=False, var_names=["thetaa"])
    assert len(sample_spy) == 1  # checked before sampling


def test_var_names_keeps_the_rewritten_variable_under_its_name():
    idata = decenter.sample(
        _schools(), "noncentered", random_seed=1, progressbar=False, var_names=["theta", "tau"],
        **FAST,
    )  # fmt: skip
    post = idata.posterior
    assert set(post.data_vars) == {"theta", "tau"}
    assert post["theta"].dims == ("chain", "draw", "school")
    assert json.loads(post.attrs["decenter_plan"])["decisions"][2]["new_name"] == "theta_offset"
