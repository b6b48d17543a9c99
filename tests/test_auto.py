"""Decision logic of strategy="auto" (Laplace) and "pilot" (decenter.auto) on small models."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

import decenter
from decenter.auto import choose_lams, information
from decenter.core.plan import decide, with_lams


def _grouped_model(n_per_group, sigma_y=1.0, tau=0.5, seed=0) -> pm.Model:
    rng = np.random.default_rng(seed)
    n_per_group = np.asarray(n_per_group)
    group = np.repeat(np.arange(len(n_per_group)), n_per_group)
    effect = tau * rng.normal(size=len(n_per_group))
    y = effect[group] + sigma_y * rng.normal(size=len(group))
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 5)
        tau_ = pm.HalfNormal("tau", 1.0)
        theta = pm.Normal("theta", mu, tau_, shape=len(n_per_group))
        pm.Normal("y", theta[group], sigma_y, observed=y)
    return m


# ---------------------------------------------------------------- curvature, no sampling


def test_information_normal_counts_observations():
    with pm.Model() as m:
        tau = pm.HalfNormal("tau")
        x = pm.Normal("x", 0, tau, shape=3)
        pm.Normal("y", x[[0, 0, 0, 0, 1]], 0.5, observed=np.zeros(5))
    draws = {"tau": np.full(10, 2.0), "x": np.zeros((10, 3))}
    info = information(m, ["x"], draws)["x"]
    np.testing.assert_allclose(info.information, [16.0, 4.0, 0.0])  # n / 0.5**2
    np.testing.assert_allclose(info.scale, 2.0)
    np.testing.assert_allclose(info.lam_raw, [64 / 65, 16 / 17, 0.0])


def test_information_poisson_uses_the_likelihood_curvature():
    with pm.Model() as m:
        tau = pm.HalfNormal("tau")
        a = pm.Normal("a", 0, tau, shape=2)
        pm.Poisson("c", pm.math.exp(a[[0, 0, 1]]), observed=[1, 2, 3])
    draws = {"tau": np.ones(4), "a": np.tile([np.log(2.0), 0.0], (4, 1))}
    info = information(m, ["a"], draws)["a"]
    np.testing.assert_allclose(info.information, [4.0, 1.0])  # sum of Poisson rates


def test_probe_hessian_matches_exact_for_group_effects():
    # 100 groups > EXACT_HESSIAN_MAX: Rademacher probes, exact for a diagonal Hessian
    n = np.arange(1, 101)
    group = np.repeat(np.arange(100), n)
    with pm.Model() as m:
        tau = pm.HalfNormal("tau")
        x = pm.Normal("x", 0, tau, shape=100)
        pm.Normal("y", x[group], 1.0, observed=np.zeros(len(group)))
    draws = {"tau": np.ones(3), "x": np.zeros((3, 100))}
    np.testing.assert_allclose(information(m, ["x"], draws)["x"].information, n)


def test_low_quantile_of_scale_is_used():
    with pm.Model() as m:
        tau = pm.HalfNormal("tau")
        x = pm.Normal("x", 0, tau, shape=2)
        pm.Normal("y", x, 1.0, observed=[0.0, 0.0])
    draws = {"tau": np.linspace(0.1, 2.0, 20), "x": np.zeros((20, 2))}
    info = information(m, ["x"], draws, quantile=0.1)["x"]
    assert info.scale[0] == pytest.approx(np.quantile(draws["tau"], 0.1))
    assert info.scale[0] < np.median(draws["tau"])


def test_nested_child_passes_up_marginal_information():
    # region r -> districts d (2 per region) -> data; district k has n_k observations, sd 1
    n = np.array([1, 100, 4, 4])
    obs = np.repeat(np.arange(4), n)
    with pm.Model() as m:
        tau_r = pm.HalfNormal("tau_r")
        tau_d = pm.HalfNormal("tau_d")
        r = pm.Normal("r", 0, tau_r, shape=2)
        d = pm.Normal("d", r[[0, 0, 1, 1]], tau_d, shape=4)
        pm.Normal("y", d[obs], 1.0, observed=np.zeros(len(obs)))
    draws = {"tau_r": np.ones(2), "tau_d": np.ones(2), "r": np.zeros((2, 2)), "d": np.zeros((2, 4))}
    infos = information(m, ["r", "d"], draws)
    np.testing.assert_allclose(infos["d"].information, n)
    # Gaussian marginal: each district contributes 1 / (tau_d**2 + 1 / n_k)
    expected = [1 / (1 + 1 / 1) + 1 / (1 + 1 / 100), 2 / (1 + 1 / 4)]
    np.testing.assert_allclose(infos["r"].information, expected, rtol=1e-6)


def test_scale_family_is_judged_on_the_log_scale():
    # per-group noise scales sigma_g ~ HalfNormal(tau): lots of data per group -> centered
    group = np.repeat(np.arange(3), 200)
    with pm.Model() as m:
        tau = pm.HalfNormal("tau")
        s = pm.HalfNormal("s", tau, shape=3)
        pm.Normal("y", 0.0, s[group], observed=np.random.default_rng(0).normal(size=600))
    draws = {"tau": np.ones(5), "s": np.ones((5, 3))}
    info = information(m, ["s"], draws)["s"]
    np.testing.assert_allclose(info.scale, 1.0)
    np.testing.assert_allclose(info.information, 400.0, rtol=0.2)  # 2 n per group at sd 1
    assert np.all(info.lam == 1.0)


def test_no_candidates_needs_no_fit():
    with pm.Model() as m:
        pm.Normal("x", 0, 1)
    for strategy in ("auto", "pilot"):
        lams, units, notes, fit = choose_lams(m, decide(m), strategy=strategy)
        assert lams == {} and fit == {} and "nothing to fit" in notes[0]


# ---------------------------------------------------------------- the default: Laplace fit


@pytest.fixture(scope="module")
def mixed():
    m = _grouped_model([1, 2, 5, 20, 100, 400], tau=1.0)
    return m, decenter.plan(m)


def test_default_strategy_is_the_laplace_fit(mixed):
    _, p = mixed
    assert p.strategy == "auto"
    assert p.fit["method"] == "laplace" and p.fit["converged"]
    assert p.fit["evaluations"] > 0 and p.fit["seconds"] > 0
    text = "\n".join(p.notes)
    assert "Laplace fit" in text and "no sampling" in text and "theta: lam" in text


def test_default_lam_increases_with_group_size(mixed):
    _, p = mixed
    lam = np.asarray(p["theta"].lam, dtype=float)
    assert lam.shape == (6,)
    assert np.all(np.diff(lam) >= 0)
    assert lam[0] < 0.5 < lam[-1]


def test_default_is_deterministic(mixed):
    m, p = mixed
    again = decenter.plan(m)
    np.testing.assert_array_equal(np.asarray(p["theta"].lam), np.asarray(again["theta"].lam))
    assert p.fit["scale_used"] == again.fit["scale_used"]


def test_default_weak_data_gives_noncentered():
    # eight schools: one noisy observation per school
    from decenter.examples.eight_schools import centered_model

    d = decenter.plan(centered_model())["theta"]
    assert d.action == "rewrite" and d.lam is None
    assert d.new_name == "theta_offset"


def test_default_strong_data_gives_centered():
    m = _grouped_model([300] * 6, sigma_y=1.0, tau=1.0)
    d = decenter.plan(m)["theta"]
    # I s^2 is about 18 here (300 observations, s = 0.24): lam 0.947, just under the snap
    assert d.action == "keep" or np.min(d.lam) > 0.9


def test_a_variable_left_centered_has_no_new_name():
    # the fit names every candidate's offset in its helper model; a kept one makes none
    d = decenter.plan(_grouped_model([2000] * 6, sigma_y=1.0, tau=1.0))["theta"]
    assert d.action == "keep" and d.new_name is None and d.guard is None
    assert d.to_dict()["new_name"] is None


def test_default_hyperparameters_at_their_marginal_mode():
    # the joint mode of the non-centered model sends the group scale to its prior's tail
    # (about 29 on eight schools); the marginal correction keeps it near the posterior's bulk
    from decenter.examples.eight_schools import centered_model

    p = decenter.plan(centered_model())
    assert 1.0 < p.fit["scale_at_mode"]["theta"] < 10.0
    assert p.fit["scale_used"]["theta"] < p.fit["scale_at_mode"]["theta"]


def _nested_model(seed=0) -> pm.Model:
    """Schools in regions and a pupil-level covariate (a small chem97)."""
    rng = np.random.default_rng(seed)
    region_of_school = np.arange(40) % 8
    school = rng.integers(0, 40, size=400)
    x = rng.normal(size=400)
    region = 0.5 * rng.normal(size=8)
    effect = region[region_of_school] + 0.5 * rng.normal(size=40)
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 5)
        beta = pm.Normal("beta", 0, 1)
        u_region = pm.Normal("u_region", 0, pm.HalfNormal("sigma_region"), shape=8)
        u_school = pm.Normal(
            "u_school", u_region[region_of_school], pm.HalfNormal("sigma_school"), shape=40
        )
        y = 1.0 + 0.5 * x + effect[school] + rng.normal(size=400)
        pm.Normal("y", mu + beta * x + u_school[school], 1.0, observed=y)
    return m


def test_large_model_scale_spread_matches_the_full_hessian(monkeypatch):
    # above DENSE_HESSIAN_MAX dimensions the scales' covariance rows come from conjugate
    # gradients; they must give the full Hessian's answer. A diagonal stand-in for the group
    # effects (the previous method) gave 0 for the region scale here, and on chem97.
    import decenter.auto.laplace as laplace

    m = _nested_model()
    p = decenter.plan(m, strategy="noncentered")
    dense = laplace.laplace_fit(m, p)
    monkeypatch.setattr(laplace, "DENSE_HESSIAN_MAX", 0)
    large = laplace.laplace_fit(m, p)
    for name in ("u_region", "u_school"):
        assert np.all(dense.log_scale_sd[name] > 0.1)
        np.testing.assert_allclose(large.log_scale_sd[name], dense.log_scale_sd[name], rtol=0.02)


def test_fit_failure_falls_back_to_noncentered(monkeypatch):
    import decenter.auto.laplace

    def broken(*args, **kwargs):
        raise FloatingPointError("no mode")

    monkeypatch.setattr(decenter.auto.laplace, "laplace_fit", broken)
    m = _grouped_model([300] * 3)
    p = decenter.plan(m)
    assert p["theta"].action == "rewrite" and p["theta"].lam is None
    assert p.fit["converged"] is False
    assert "FloatingPointError: no mode" in p.notes[0] and "fallback" in p.notes[0]


def test_names_are_offset_under_every_strategy(mixed):
    m, p = mixed
    assert p["theta"].lam is not None  # partially centered ...
    assert p["theta"].new_name == "theta_offset"  # ... and still named x_offset
    for strategy in ("noncentered", 0.5, {"theta": np.linspace(0, 1, 6)}):
        assert decenter.plan(m, strategy=strategy)["theta"].new_name == "theta_offset"


def test_offset_name_collision_is_avoided():
    with pm.Model() as m:
        tau = pm.HalfNormal("tau")
        pm.Normal("theta_offset", 0, 1)
        pm.Normal("theta", 0, tau, shape=2)
    assert decenter.plan(m, strategy=0.5)["theta"].new_name == "theta_offset_1"


def test_base_plan_refuses_fit_strategies_with_a_pointer():
    m = _grouped_model([2, 2])
    with pytest.raises(ValueError, match="decenter.core.plan"):
        decide(m, strategy="auto")


def test_with_lams_applies_and_snaps_to_keep():
    m = _grouped_model([2, 2])
    p = with_lams(m, decide(m), {"theta": [1.0, 1.0]}, "test")
    assert p["theta"].action == "keep" and "lam = 1 (test)" in p["theta"].reason
    assert decide(m)["theta"].action == "rewrite"  # the base plan was not changed


# ---------------------------------------------------------------- the NUTS pilot (sampling)


@pytest.fixture(scope="module")
def mixed_pilot():
    m = _grouped_model([1, 2, 5, 20, 100, 400], tau=1.0)
    return m, decenter.plan(m, strategy="pilot", random_seed=7)


@pytest.mark.slow
def test_pilot_weak_balanced_data_gives_noncentered():
    m = _grouped_model([1] * 8, sigma_y=10.0, tau=0.5)
    d = decenter.plan(m, strategy="pilot", random_seed=1)["theta"]
    assert d.action == "rewrite"
    assert d.lam is None or np.max(d.lam) < 0.15


@pytest.mark.slow
def test_pilot_lam_increases_with_group_size(mixed_pilot):
    _, p = mixed_pilot
    lam = np.asarray(p["theta"].lam, dtype=float)
    assert lam.shape == (6,)
    assert np.all(np.diff(lam) >= 0)
    assert lam[0] < 0.5 < lam[-1]


@pytest.mark.slow
def test_pilot_notes_say_cost_and_lams(mixed_pilot):
    _, p = mixed_pilot
    text = "\n".join(p.notes)
    assert "pilot: nutpie NUTS" in text and "gradient evaluations" in text and " s," in text
    assert "theta: lam" in text
    assert p.fit["method"] == "pilot" and p.fit["gradients"] > 0


@pytest.mark.slow
def test_pilot_deterministic_given_seed(mixed_pilot):
    m, p = mixed_pilot
    again = decenter.plan(m, strategy="pilot", random_seed=7)
    np.testing.assert_array_equal(np.asarray(p["theta"].lam), np.asarray(again["theta"].lam))


def test_transform_twice_leaves_partially_centered_offsets(mixed):
    m, _ = mixed
    once, p = decenter.transform(m, return_plan=True)
    assert p["theta"].lam is not None  # theta_offset depends on mu, tau
    twice = decenter.plan(once)
    assert twice.rewrites == [] and twice.fit == {}
    assert "already reparameterized by decenter" in twice["theta_offset"].reason


def test_default_on_a_scalar_variable():
    with pm.Model() as m:
        tau = pm.HalfNormal("tau")
        x = pm.Normal("x", 0, tau)
        pm.Normal("y", x, 1.0, observed=np.zeros(50))
    d = decenter.plan(m)["x"]
    assert d.new_name == "x_offset"
    assert d.action == "keep" or 0 <= float(np.asarray(d.lam if d.lam is not None else 0)) <= 1


def test_partial_centering_is_in_units_of_the_chosen_scale():
    """The default's partial form does not depend on the data's units: with the data and
    every prior scaled by 1000, the lams are the same, the units 1000x, the offsets' prior
    the same (the map is applied to x / unit), and the rewrite still verifies."""
    import decenter

    def model(c):
        with pm.Model() as m:
            mu = pm.Normal("mu", 250 * c, 50 * c)
            tau = pm.HalfNormal("tau", 50 * c)
            theta = pm.Normal("theta", mu, tau, shape=3)
            noise = np.tile([-15.0, -5.0, 5.0, 15.0], 3)
            y = (np.repeat([235.0, 250.0, 265.0], 4) + noise) * c
            pm.Normal("y", theta[np.repeat([0, 1, 2], 4)], 20 * c, observed=y)
        return m

    d1, d1000 = decenter.plan(model(1.0))["theta"], decenter.plan(model(1000.0))["theta"]
    assert d1.lam is not None and np.min(d1.lam) > 0 and np.max(d1.lam) < 1
    np.testing.assert_allclose(d1.lam, d1000.lam, atol=1e-3)
    np.testing.assert_allclose(np.asarray(d1000.unit) / np.asarray(d1.unit), 1000, rtol=1e-2)
    t1, t1000 = decenter.transform(model(1.0)), decenter.transform(model(1000.0))
    at1 = {"mu": 250.0, "tau_log__": np.log(30.0), "theta_offset": np.full(3, 10.0)}
    at1000 = {"mu": 250e3, "tau_log__": np.log(30e3), "theta_offset": np.full(3, 10.0)}
    lp1 = t1.compile_logp(vars=[t1["theta_offset"]])(at1)
    lp1000 = t1000.compile_logp(vars=[t1000["theta_offset"]])(at1000)
    np.testing.assert_allclose(lp1, lp1000, rtol=1e-3)
    assert decenter.verify(model(1000.0), t1000).ok


def test_partial_form_has_no_constant_subexpressions_left_to_fold():
    """``lam / unit`` and ``lam * log(unit)`` enter the partially centered graph as single
    constants: arithmetic on constants only would be folded again by PyTensor in every
    compiled function (about 0.45 s more for nutpie to compile the radon example)."""
    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import ancestors
    from pytensor.tensor.elemwise import Elemwise

    from decenter.core.rewrite import apply_plan

    with pm.Model() as m:
        mu = pm.Normal("mu", 250, 50)
        tau = pm.HalfNormal("tau", 50)
        theta = pm.Normal("theta", mu, tau, shape=3)
        y = np.repeat([235.0, 250.0, 265.0], 4) + np.tile([-15.0, -5.0, 5.0, 15.0], 3)
        pm.Normal("y", theta[np.repeat([0, 1, 2], 4)], 20, observed=y)
    p = decenter.plan(m)
    d = p["theta"]
    assert d.unit is not None and np.min(d.lam) > 0 and np.max(d.lam) < 1  # partial, with a unit
    new = apply_plan(m, p)
    outs = [new["theta"], *new["theta_offset"].owner.inputs]
    folded = [
        v.owner
        for v in ancestors(outs, blockers=new.free_RVs)
        if v.owner is not None
        and isinstance(v.owner.op, Elemwise)  # arithmetic, not a broadcast of a literal
        and all(isinstance(i, Constant) for i in v.owner.inputs)
    ]
    assert folded == [], folded


def test_fit_objective_squares_without_the_generic_pow():
    """The fit's light PyTensor mode keeps ``local_pow_specialize``: without it every Normal's
    ``z ** 2`` runs C's generic ``pow``, which was 46 % of an evaluation of chem97's objective
    (the fit took about twice as long)."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.scalar import Pow

    from decenter.auto.laplace import FIT_MODE

    x = pt.vector("x")
    z = (x - 1.0) / 2.0
    fn = pytensor.function([x], [(z**2).sum(), pytensor.grad((z**2).sum(), x)], mode=FIT_MODE)
    scalar_ops = [getattr(n.op, "scalar_op", None) for n in fn.maker.fgraph.toposort()]
    assert not any(isinstance(op, Pow) for op in scalar_ops), fn.maker.fgraph.toposort()
    np.testing.assert_allclose(fn(np.array([3.0, -1.0]))[0], 2.0)


def test_symbolic_shape_is_read_in_plain_python_and_follows_set_dim():
    """A shape from mutable coords is evaluated in Python (``_SHAPE_MODE``, no JIT compile),
    at the model's current length."""
    from decenter.core.strategy import _SHAPE_MODE, _static_shape

    assert _SHAPE_MODE.linker.__class__.__name__ == "PerformLinker"
    with pm.Model() as m:
        m.add_coord("g", range(3))
        tau = pm.HalfNormal("tau")
        b = pm.Normal("b", 0, tau, dims="g")
    assert None in b.type.shape  # not static: the evaluation path is the one exercised
    assert _static_shape(b) == (3,)
    m.set_dim("g", 5, coord_values=range(5))
    assert _static_shape(b) == (5,)
