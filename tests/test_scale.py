"""Issue 29: a plan is computed once, the fit's cost is linear in the number of hierarchies,
and a long fit says how far it is."""

import types

import numpy as np
import pymc as pm
import pytest

import decenter
import decenter.auto.laplace as laplace
import decenter.util.progress as progress
from decenter.auto.covariance import log_scale_sd
from decenter.auto.structure import components
from decenter.bench.scaling import wide_model


def _schools(n=8, seed=0):
    y = np.random.default_rng(seed).normal(size=n) * 10
    with pm.Model(coords={"school": range(n)}) as m:
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfNormal("tau", 5)
        theta = pm.Normal("theta", mu, tau, dims="school")
        pm.Normal("y", theta, 3.0, observed=y, dims="school")
    return m


@pytest.fixture
def count_fits(monkeypatch):
    calls = []
    real = laplace.laplace_fit

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(laplace, "laplace_fit", counted)
    return calls


def _logps(model, seed=3):
    rng = np.random.default_rng(seed)
    f = model.compile_logp()
    ip = model.initial_point()
    return [f({k: rng.normal(size=np.shape(v)) for k, v in ip.items()}) for _ in range(3)]


# --- a plan is computed once -----------------------------------------------------------


def test_given_plan_is_applied_exactly_without_a_second_fit(count_fits):
    m = _schools()
    p = decenter.plan(m)
    assert len(count_fits) == 1
    assert np.all((p["theta"].lam > 0) & (p["theta"].lam < 1))  # partially centered
    new = decenter.transform(m, plan=p)
    assert len(count_fits) == 1  # not fitted again
    again = decenter.transform(m)
    assert len(count_fits) == 2
    assert [v.name for v in new.free_RVs] == [v.name for v in again.free_RVs]
    np.testing.assert_allclose(_logps(new), _logps(again), rtol=1e-12)
    out = decenter.transform(m, plan=p, return_plan=True)
    assert out.plan is p


def test_plan_of_another_model_is_refused_with_what_to_do():
    p = decenter.plan(_schools(8), strategy="noncentered")
    with pytest.raises(
        ValueError,
        match=r"made for another model: .*'theta' has shape \(8,\).*\(9,\).*decenter\.plan\(model\)",
    ):
        decenter.transform(_schools(9), plan=p)
    with pm.Model() as other:
        pm.Normal("z")
    with pytest.raises(ValueError, match="free variables differ"):
        decenter.transform(other, plan=p)


def test_plan_of_a_model_with_other_parents_is_refused():
    m = _schools()
    p = decenter.plan(m, strategy="noncentered")
    with pm.Model(coords={"school": range(8)}) as changed:
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfNormal("tau", 5)
        pm.Normal("theta", 0.0, tau, dims="school")  # no longer uses mu
    with pytest.raises(ValueError, match="'theta' has parents"):
        decenter.transform(changed, plan=p)
    assert mu is not None


def test_plan_with_strategy_or_not_a_plan_is_refused():
    m = _schools()
    p = decenter.plan(m, strategy="noncentered")
    with pytest.raises(ValueError, match="either plan= or"):
        decenter.transform(m, plan=p, strategy="noncentered")
    with pytest.raises(TypeError, match="decenter.Plan"):
        decenter.transform(m, plan={"theta": 0.5})


def test_sample_fits_once_and_applies_a_given_plan(monkeypatch, count_fits):
    sampled = []

    def fake_sample(model=None, **kwargs):
        sampled.append(model)
        return types.SimpleNamespace(posterior=types.SimpleNamespace(attrs={}))

    monkeypatch.setattr(decenter.sample.__globals__["pm"], "sample", fake_sample)
    m = _schools()
    decenter.sample(m, progressbar=False)
    assert len(count_fits) == 1
    p = decenter.plan(m)
    idata = decenter.sample(m, plan=p, progressbar=False)
    assert len(count_fits) == 2  # the plan's own fit only
    assert [v.name for v in sampled[-1].free_RVs] == ["mu", "tau", "theta_offset"]
    assert "theta -> theta_offset" in idata.posterior.attrs["decenter_summary"]
    with pytest.raises(ValueError, match="another model"):
        decenter.sample(_schools(9), plan=p, progressbar=False)


# --- linear cost ---------------------------------------------------------------------------


def test_independent_hierarchies_are_separate_components():
    m = wide_model(3, size=4)
    assert components(m) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pm.Model() as shared:  # one observation ties two hierarchies together
        a = pm.Normal("a", 0, pm.HalfNormal("sa"), shape=2)
        b = pm.Normal("b", 0, pm.HalfNormal("sb"), shape=2)
        pm.Normal("y", a + b, 1.0, observed=[0.0, 1.0])
    assert components(shared) == [[0, 1, 2, 3]]
    assert components(shared, joined=[]) == components(shared)


def test_component_hessian_gives_the_full_hessians_spread():
    # the block-diagonal shortcut must give what the full Hessian gives
    m = wide_model(4, size=5, seed=2)
    base = decenter.plan(m, strategy="noncentered")
    ncp = decenter.transform(m, strategy="noncentered")
    names = [d.name for d in base.rewrites]
    ip = ncp.initial_point(random_seed=0)
    f_lg, f_rest, x0, orig, blocks, deps = laplace._compile(m, ncp, names, ip)
    info = [np.ones(5) for _ in names]
    rng = np.random.default_rng(0)
    x = x0 + rng.normal(scale=0.3, size=x0.size)

    def lg(y):
        return f_lg(y, *info)

    def scales(y):
        return f_rest(y)[len(orig) :]

    log_scale = {n: np.asarray(s) for n, s in zip(names, scales(x), strict=True)}
    comps = [np.concatenate([blocks[i] for i in c]) for c in components(ncp, deps)]
    assert len(comps) == 4
    fast, calls = log_scale_sd(lg, scales, x, log_scale, blocks, 1500, deps=deps, components=comps)
    full, full_calls = log_scale_sd(lg, scales, x, log_scale, blocks, 1500)
    for n in names:
        assert np.all(full[n] > 0)
        np.testing.assert_allclose(fast[n], full[n], rtol=1e-6)
    assert calls < full_calls / 3  # one gradient pair per coordinate of one component


def test_fit_graph_has_no_node_that_grows_with_the_model(monkeypatch):
    # a node with one input per variable has C code specific to the model's size: compiled
    # anew for every size (minutes at a few hundred hierarchies). Models above
    # TREE_SUM_ABOVE terms avoid them (here every model is "above"); their outputs are joined
    # by one Flatten, which has no C code (NumPy only)
    import pytensor
    from pytensor.link.c.op import COp

    from decenter.util.linear import Flatten

    assert not issubclass(Flatten, COp) and not hasattr(Flatten, "c_code")

    monkeypatch.setattr(laplace, "TREE_SUM_ABOVE", 0)
    widest = []
    for n in (2, 5):
        m = wide_model(n, size=3)
        ncp = decenter.transform(m, strategy="noncentered")
        names = [d.name for d in decenter.plan(m, strategy="noncentered").rewrites]
        seen = []
        real = pytensor.function

        def spy(*args, real=real, seen=seen, **kwargs):
            f = real(*args, **kwargs)
            seen.append(f)
            return f

        monkeypatch.setattr(laplace.pytensor, "function", spy)
        laplace._compile(m, ncp, names, ncp.initial_point(random_seed=0))
        monkeypatch.setattr(laplace.pytensor, "function", real)
        objective = max(seen, key=lambda f: len(f.maker.fgraph.apply_nodes))
        nodes = objective.maker.fgraph.apply_nodes
        assert sum(isinstance(nd.op, Flatten) for nd in nodes) == 1
        widest.append(max(len(nd.inputs) for nd in nodes if not isinstance(nd.op, Flatten)))
    assert widest[0] == widest[1] <= 3


# --- progress ------------------------------------------------------------------------------


def test_long_fit_reports_counts_and_is_silent_when_asked(monkeypatch, capsys):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.0)
    m = _schools()
    decenter.plan(m, progressbar=False)
    assert capsys.readouterr().err == ""
    p = decenter.plan(m)
    err = capsys.readouterr().err
    assert "round 1 of at most" in err
    assert "spread of the scales" in err
    final = [line for line in err.splitlines() if line.endswith(" s")][-1]
    evaluations = int(final.split(" evaluations")[0].split()[-1])
    assert evaluations == p.fit["evaluations"]


def test_ticker_prints_at_most_every_interval(capsys):
    with progress.Ticker("work", delay=0.0, every=3600.0) as tick:
        for i in range(5):
            tick(f"{i + 1} of 5 done")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "decenter: work: 1 of 5 done ..."  # the first, then none for an hour
    assert lines[-1].startswith("decenter: work: 5 of 5 done, ")
    assert len(lines) == 2


def test_ticker_inside_a_stage_uses_the_stages_display(monkeypatch, capsys):
    # rich allows one live display: a fit inside decenter.sample's stage must not start another
    shown = []

    class Status:
        status = "stage text"

        def update(self, text):
            shown.append(text)

    monkeypatch.setattr(progress, "_LIVE", [Status()])
    with progress.Ticker("fit", delay=0.0) as tick:
        tick("3 evaluations")
    assert shown == ["decenter: fit: 3 evaluations ...", "stage text"]
    assert capsys.readouterr().err.startswith("decenter: fit: 3 evaluations, ")
