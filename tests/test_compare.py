"""decenter.compare and decenter.report.plots: the numbers reported are the numbers in the traces."""

from __future__ import annotations

import json
import math
import sys

import arviz as az
import numpy as np
import pymc as pm
import pytest

import decenter
from decenter.diagnose.compare import (
    Agreement,
    Comparison,
    RunSummary,
    _agreement,
    _verdict,
    compare,
    summarize_run,
)

Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
NAMES = ["mu", "tau", "theta"]


def schools() -> pm.Model:
    with pm.Model(coords={"school": list("ABCDEFGH")}) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, dims="school")
        pm.Normal("y", theta, SIGMA, observed=Y, dims="school")
    return model


SETTINGS = dict(draws=150, tune=150, chains=2, progressbar=False)


@pytest.fixture(scope="module")
def by_pymc(module_seed) -> Comparison:
    return compare(schools(), sampler="pymc", random_seed=module_seed, **SETTINGS)


@pytest.fixture(scope="module")
def by_nutpie(module_seed) -> Comparison:
    return compare(schools(), sampler="nutpie", random_seed=module_seed, **SETTINGS)


def _check_against_traces(c: Comparison, sampler: str, seed: int) -> None:
    for run, model_free in ((c.original, NAMES), (c.transformed, ["mu", "tau", "theta_offset"])):
        idata = run.idata
        stats = idata.sample_stats
        assert run.sampler == sampler
        assert (run.chains, run.draws) == (2, 150)
        assert idata.posterior.sizes["draw"] == 150
        # warm-up groups were counted, then dropped
        assert not {"warmup_posterior", "warmup_sample_stats"} & set(idata.children)
        assert run.grad_evals_warmup is not None and run.grad_evals_warmup > 0
        # every variable compared exists in both posteriors
        assert set(NAMES) <= set(idata.posterior.data_vars)
        assert set(model_free) <= set(idata.posterior.data_vars)
        assert run.divergences == int(stats["diverging"].values.sum())
        steps = int(stats["n_steps"].values.sum())
        assert run.grad_evals == steps
        ess = az.ess(idata, var_names=NAMES).to_dataset()
        min_ess = min(float(np.nanmin(ess[n].values)) for n in NAMES)
        assert run.min_ess_bulk == pytest.approx(min_ess)
        assert run.ess_per_grad == pytest.approx(min_ess / steps)
        assert run.ess_per_grad > 0
        rhat = az.rhat(idata, var_names=NAMES).to_dataset()
        assert run.max_rhat == pytest.approx(max(float(np.nanmax(rhat[n].values)) for n in NAMES))
        assert run.per_var["tau"]["ess_bulk"] == pytest.approx(float(ess["tau"].values))
        assert run.sampling_time and run.sampling_time > 0
        assert run.ess_per_second == pytest.approx(min_ess / run.sampling_time)
        assert run.wall_time >= run.sampling_time * 0.5  # wall time includes compilation
        assert 0 < run.min_bfmi < 5
    assert c.var_names == NAMES
    assert c.settings["random_seed"] == seed
    # the non-centered run has no funnel: (almost) no divergences, a better use of gradients.
    # Measured at DECENTER_TEST_SEED 0-11 (min / median / max): transformed divergences
    # 0 / 0 / 1 (pymc), 0 / 0 / 0 (nutpie); centered 1 / 4.5 / 49 and 0 / 0.5 / 10.
    # ESS per gradient, transformed over centered: 3.9 / 24 / 94 (pymc), 5.6 / 9.5 / 431 (nutpie).
    assert c.transformed.divergences <= 3
    assert c.transformed.ess_per_grad >= 2 * c.original.ess_per_grad
    assert c.verdict in ("better", "similar", "worse")
    d = json.loads(json.dumps(c.to_dict()))
    assert d["original"]["divergences"] == c.original.divergences
    assert d["plan"]["decisions"][2]["new_name"] == "theta_offset"
    assert "idata" not in d["original"]
    text = str(c)
    assert f"sampler={sampler}" in text and "ESS / gradient eval" in text and "verdict:" in text
    assert any(line.startswith("tau ") and "->" in line for line in text.splitlines())


@pytest.mark.slow
def test_compare_pymc(by_pymc, module_seed):
    _check_against_traces(by_pymc, "pymc", module_seed)


@pytest.mark.slow
def test_compare_nutpie(by_nutpie, module_seed):
    _check_against_traces(by_nutpie, "nutpie", module_seed)


@pytest.mark.slow
def test_compare_is_the_package_function(by_pymc):
    # importing the submodule must not replace the function decenter.compare
    import decenter.diagnose.compare  # noqa: F401
    from decenter.diagnose.compare import Comparison, compare

    assert decenter.compare is compare
    assert isinstance(by_pymc, Comparison) and decenter.Comparison is Comparison


@pytest.mark.slow
def test_notebook_views_of_a_sampled_comparison(by_pymc):
    """to_dataframe and _repr_html_ on a real run (tests/test_notebook.py: synthetic runs)."""
    df = by_pymc.to_dataframe()
    assert df.loc["divergences"].tolist() == [
        by_pymc.original.divergences,
        by_pymc.transformed.divergences,
    ]
    assert df.loc["ess_per_grad", "transformed"] == by_pymc.transformed.ess_per_grad
    per_var = by_pymc.to_dataframe("variable")
    assert per_var.loc[("tau", "original"), "rhat"] == by_pymc.original.per_var["tau"]["rhat"]
    out = by_pymc._repr_html_()
    assert all(f">{n}</td>" in out for n in NAMES) and f">{by_pymc.verdict}</b>" in out


@pytest.mark.slow
def test_plots(by_pymc, tmp_path):
    from decenter.report.plots import save_plots

    paths = save_plots(by_pymc, tmp_path / "pics")
    assert [p.name for p in paths] == ["trace_tau.png", "funnel_theta.png"]
    for p in paths:
        assert p.read_bytes()[:4] == b"\x89PNG" and p.stat().st_size > 10_000
    pair = (by_pymc.original.idata, by_pymc.transformed.idata)
    paths = save_plots(pair, tmp_path / "pair", var="theta", scale="tau", element="C")
    assert [p.name for p in paths] == ["trace_tau.png", "funnel_theta.png"]
    with pytest.raises(ValueError, match="not a coordinate"):
        save_plots(pair, tmp_path / "bad", var="theta", scale="tau", element="Z")


def test_plots_without_matplotlib(monkeypatch):
    from decenter.report import plots

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install decenter\[plot\]"):
        plots.trace_figure(None, None, "tau")


def test_pictures_without_a_directory_are_matplotlib_figures(tmp_path):
    """issue 30: in a notebook the pictures are wanted as figures, not files."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from decenter.report.plots import figures, save_plots

    before, after = _fake_idata(0), _fake_idata(1)
    after.sample_stats["diverging"].values[0, :1] = True
    figs = save_plots((before, after), var="theta", scale="mu", element="y")
    assert len(figs) == 2 and all(isinstance(f, Figure) for f in figs)
    assert [a.get_title(loc="left") for a in figs[0].axes[::2]] == [
        "original: 0 divergences",
        "transformed: 1 divergence",
    ]
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert list(figures((before, after), var="theta", scale="mu")) == [
        "trace_mu.png",
        "funnel_theta.png",
    ]


def test_funnel_target_follows_the_plan():
    from decenter.report.plots import funnel_target

    p = decenter.plan(schools())
    assert funnel_target(p) == ("theta", "tau", "theta_offset")
    with pytest.raises(ValueError, match="not rewritten"):
        funnel_target(p, "mu")


def test_bad_arguments():
    m = schools()
    with pytest.raises(ValueError, match="chains"):
        compare(m, chains=0)
    with pytest.raises(ValueError, match="sampler"):
        compare(m, sampler="stan")
    with pytest.raises(TypeError, match="pymc.Model"):
        compare("not a model")
    with pm.Model() as other:
        pm.Normal("z")
    with pytest.raises(ValueError, match="none of the original free variables"):
        compare(m, other)


# -- without sampling: a synthetic run ----------------------------------------------------------


C, D = 4, 500  # iid draws: R-hat within 1.01 and ESS near C * D


def _fake_idata(seed: int, *, shift: float = 0.0, stats: dict | None = None):
    rng = np.random.default_rng(seed)
    post = {"mu": rng.normal(shift, 1, (C, D)), "theta": rng.normal(0, 1, (C, D, 3))}
    if stats is None:
        stats = {
            "diverging": np.zeros((C, D), bool),
            "energy": rng.normal(0, 1, (C, D)),
            "tree_depth": np.full((C, D), 3),
        }
    return az.from_dict({"posterior": post, "sample_stats": stats}, dims={"theta": ["g"]},
                        coords={"g": ["x", "y", "z"]})  # fmt: skip


def test_summary_of_a_run_without_step_counts():
    idata = _fake_idata(0)
    run = summarize_run(idata, ["mu", "theta"], label="x", wall_time=2.0)
    assert run.grad_evals == C * D * 7  # 2**depth - 1 leapfrog steps per draw
    assert run.ess_per_second is None  # no sampling time: n/a, not an error
    assert run.grad_evals_warmup is None
    assert run.divergences == 0 and run.converged
    assert run.worst_ess.startswith(("mu", "theta["))
    bare = summarize_run(_fake_idata(0, stats={"diverging": np.zeros((C, D), bool)}), ["mu"])
    assert bare.grad_evals is None and bare.ess_per_grad is None and bare.min_bfmi is None
    assert bare.to_dict()["ess_per_grad"] is None
    assert "ESS / gradient eval  n/a" in "\n".join("  ".join(r) for r in _rows(bare))


def _rows(run: RunSummary) -> list[tuple[str, str, str]]:
    c = Comparison(run, run, ["mu"], _agreement(run, run, ["mu"]), "similar", [], {})
    return c.rows()


def test_agreement_and_verdict():
    a = summarize_run(_fake_idata(0), ["mu", "theta"], label="original")
    b = summarize_run(_fake_idata(1), ["mu", "theta"], label="transformed")
    agree = _agreement(a, b, ["mu", "theta"])
    assert agree.n_tests == 2 * 4  # means and sds of mu and 3 thetas
    assert agree.agree is True and agree.max_z < agree.threshold
    far = summarize_run(_fake_idata(1, shift=1.0), ["mu", "theta"], label="transformed")
    disagree = _agreement(a, far, ["mu", "theta"])
    assert disagree.agree is False and disagree.where == "mu mean"
    verdict, _, reasons = _verdict(a, far, disagree)
    assert any("posteriors disagree" in r for r in reasons)
    # divergences make a run untrustworthy: the other one is better
    div = _fake_idata(2)
    div.sample_stats["diverging"].values[0, :5] = True  # 5 divergent draws
    bad = summarize_run(div, ["mu", "theta"], label="original")
    assert bad.divergences == 5 and bad.status == "divergences"
    verdict, why, reasons = _verdict(bad, b, _agreement(bad, b, ["mu", "theta"]))
    assert verdict == "better" and "divergences 5 -> 0" in reasons
    assert why == "only the original has 5 divergences"
    verdict, why, _ = _verdict(b, bad, _agreement(b, bad, ["mu", "theta"]))
    assert verdict == "worse" and why == "only the rewrite has 5 divergences"
    assert math.isfinite(agree.max_z)


# -- the verdict weighs evidence: synthetic runs, no sampling ----------------------------------


def _run(label: str, *, div: int = 0, rhat: float = 1.002, ess: float = 1500.0, bfmi=0.9,
         ess_per_grad: float | None = 0.01, chains: int = 4) -> RunSummary:  # fmt: skip
    return RunSummary(
        label=label, sampler="nutpie", chains=chains, draws=1000, tune=1000, divergences=div,
        max_rhat=rhat, min_ess_bulk=ess, min_ess_tail=ess, worst_ess="x[0]", min_bfmi=bfmi,
        wall_time=1.0, sampling_time=1.0, ess_per_second=ess, grad_evals=None,
        grad_evals_warmup=None, ess_per_grad=ess_per_grad,
    )  # fmt: skip


NOT_JUDGED = Agreement(None, 1.0, "x[0] mean", 3.5, 8, "not converged")


def _judge(o: RunSummary, t: RunSummary) -> tuple[str, str]:
    verdict, why, _ = _verdict(o, t, NOT_JUDGED)
    return verdict, why


@pytest.mark.parametrize(
    "o, t",
    [
        # issue 30, the Poisson GLMM: a stuck original without divergences, a rewrite far closer
        (_run("original", rhat=1.460, ess=4, ess_per_grad=0.0001),
         _run("transformed", div=3, rhat=1.067, ess=65, ess_per_grad=0.00083)),
        # issue 30, the hierarchical logistic regression
        (_run("original", rhat=1.142, ess=21, ess_per_grad=0.0001),
         _run("transformed", div=2, rhat=1.013, ess=295, ess_per_grad=0.0022)),
    ],
    ids=["glmm", "logistic"],
)  # fmt: skip
def test_a_rewrite_much_closer_to_converging_is_better_despite_a_few_divergences(o, t):
    verdict, why = _judge(o, t)
    assert verdict == "better"
    assert why.startswith("neither run converged, the rewrite is clearly closer: R-hat ")
    assert f"{o.max_rhat:.3f} -> {t.max_rhat:.3f}" in why
    # the same pair the other way round is worse, for the same reason
    verdict, why = _judge(t, o)
    assert verdict == "worse" and "the original is clearly closer" in why


@pytest.mark.parametrize("div", [1, 12, 200])
def test_a_rewrite_that_converges_where_the_original_does_not_is_never_worse(div):
    o = _run("original", rhat=1.2, ess=30, ess_per_grad=0.5)  # stuck, no divergences, "fast"
    t = _run("transformed", div=div, rhat=1.004, ess=900, ess_per_grad=0.001, bfmi=0.2)
    verdict, why = _judge(o, t)
    assert verdict == "better"
    assert why == (
        "the rewrite converged (R-hat 1.004, min bulk ESS 900), "
        "the original did not (R-hat 1.200, min bulk ESS 30)"
    )
    assert _judge(t, o)[0] == "worse"


def test_neither_converged_nor_clearly_closer_then_divergences_then_efficiency():
    o = _run("original", rhat=1.05, ess=200)
    # R-hat and ESS within the margin of 1.5: divergences decide (fewer than half wins)
    assert _judge(o, _run("transformed", rhat=1.04, ess=250, div=3))[0] == "worse"
    assert _judge(_run("original", rhat=1.05, ess=200, div=3), o)[0] == "better"
    # equal divergences: ESS per gradient evaluation decides
    verdict, why = _judge(o, _run("transformed", rhat=1.045, ess=220, ess_per_grad=0.03))
    assert verdict == "better" and why.startswith("neither run converged nor is clearly closer")
    # R-hat clearly better but ESS clearly worse: no side wins on convergence
    assert _judge(o, _run("transformed", rhat=1.01 + 0.02, ess=100))[1].startswith(
        "neither run converged nor is clearly closer"
    )


def test_both_converged_trust_then_efficiency():
    ok = _run("original")
    # divergences in a converged run: the run without them wins
    assert _judge(_run("original", div=40), ok) == (
        "better",
        "only the original has 40 divergences",
    )
    assert _judge(ok, _run("transformed", div=1)) == ("worse", "only the rewrite has 1 divergence")
    # both with divergences: clearly fewer wins, else efficiency
    verdict, why = _judge(_run("original", div=40), _run("transformed", div=3))
    assert (verdict, why) == ("better", "divergences 40 -> 3, on equal convergence")
    assert _judge(_run("original", div=4), _run("transformed", div=3))[0] == "similar"
    # both trustworthy: efficiency with a margin of 1.25 either way
    assert _judge(ok, _run("transformed", ess_per_grad=0.02)) == (
        "better", "both runs are trustworthy; ESS per gradient evaluation x2.00"
    )  # fmt: skip
    assert _judge(ok, _run("transformed", ess_per_grad=0.011))[0] == "similar"
    assert _judge(ok, _run("transformed", ess_per_grad=0.005))[0] == "worse"


def test_numbers_at_the_threshold_are_printed_with_the_digits_that_tell_them_apart():
    """issue 30: "R-hat 1.010 > 1.01" and "bulk ESS 400 < 400" contradicted themselves."""
    r = _run("original", div=1, rhat=1.0104, ess=399.6)
    assert r.problems == ["1 divergence", "R-hat 1.0104 > 1.01", "bulk ESS 399.6 < 400"]
    c = Comparison(r, _run("transformed"), ["x"], NOT_JUDGED, "better", [], {})
    rows = dict((k, (a, b)) for k, a, b in c.rows())
    assert rows["max R-hat"] == ("1.0104", "1.002")
    assert rows["min bulk ESS"][0] == "399.6 (x[0])"
    many = _run("original", div=3, rhat=1.2, ess=3999.6, chains=40)
    assert many.problems == ["3 divergences", "R-hat 1.200 > 1.01", "bulk ESS 3,999.6 < 4,000"]
    one = _run("original", rhat=math.nan, ess=50, chains=1)
    assert one.problems == ["R-hat undefined (one chain)", "bulk ESS 50 < 100"]


def test_the_verdict_line_says_why():
    o = _run("original", rhat=1.142, ess=21)
    t = _run("transformed", div=2, rhat=1.013, ess=295)
    verdict, why, reasons = _verdict(o, t, NOT_JUDGED)
    c = Comparison(o, t, ["x"], NOT_JUDGED, verdict, reasons, dict(
        chains=4, draws=1000, tune=1000, random_seed=1), why=why)  # fmt: skip
    lines = str(c).splitlines()
    assert f"verdict: better: {why}" in lines
    assert "  - transformed: 2 divergences; R-hat 1.013 > 1.01; bulk ESS 295 < 400" in lines
    assert c.to_dict()["why"] == why
