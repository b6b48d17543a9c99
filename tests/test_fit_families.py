"""strategy="auto" fits every family the rewrite covers, and a variable it cannot fit falls back
alone, with a warning (issue 28, item 2).

Each model has a well-informed variable of the family (many observations per element against a
wide scale: lam near 1, left centered) and a poorly informed one (no signal, few observations:
lam near 0, non-centered); the fit must tell them apart, in one fit of the whole model.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import decenter
import decenter.auto.curvature

# lam_mean of the informed / uninformed variable over data seeds 0-19 (measured): see each model
INFORMED, UNINFORMED = 0.6, 0.4


def _zsn(seed: int) -> pm.Model:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, 300)  # 3 groups, ~100 observations each, effects of size 1
    k = rng.integers(0, 30, 300)  # 30 items, ~10 observations each, no effect
    y = np.array([-1.0, 0.0, 1.0])[g] + rng.normal(size=300)
    with pm.Model(coords={"grp": list("abc"), "item": range(30)}) as m:
        s = pm.HalfNormal("s", 1)
        eff = pm.ZeroSumNormal("eff", sigma=s, dims="grp")
        t = pm.HalfNormal("t", 1)
        item = pm.ZeroSumNormal("item_eff", sigma=t, dims="item")
        pm.Normal("y", eff[g] + item[k], 1, observed=y)
    return m


def _mvn(seed: int) -> pm.Model:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 6, 600)  # 6 groups, ~100 observations each, effects of size 2
    k = rng.integers(0, 40, 80)  # 40 groups, ~2 observations each, no effect
    with pm.Model() as m:
        chol, _, _ = pm.LKJCholeskyCov("chol", n=2, eta=2, sd_dist=pm.HalfNormal.dist(2, size=2))
        b = pm.MvNormal("b", mu=np.zeros(2), chol=chol, shape=(6, 2))
        sd = pm.HalfNormal("sd", 1, shape=2)
        c = pm.MvNormal("c", mu=np.zeros(2), cov=pt.diag(sd**2), shape=(40, 2))
        truth = 2 * rng.normal(size=(6, 2))
        pm.Normal("y", b[g], 1, observed=truth[g] + rng.normal(size=(600, 2)))
        pm.Normal("z", c[k], 1, observed=rng.normal(size=(80, 2)))
    return m


def _truncated(seed: int) -> pm.Model:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 8, 480)  # ~60 observations per group, effects spread by 1.5
    k = rng.integers(0, 40, 80)  # ~2 per group, no spread
    with pm.Model() as m:
        tau = pm.HalfNormal("tau", 2)
        b = pm.Truncated("b", pm.Normal.dist(3, tau), lower=0, shape=8)
        sig = pm.HalfNormal("sig", 1)
        c = pm.Truncated("c", pm.StudentT.dist(nu=4, mu=2, sigma=sig), lower=0, upper=10, shape=40)
        truth = np.clip(3 + 1.5 * rng.normal(size=8), 1, None)  # away from the bound (see docs)
        pm.Normal("y", b[g], 1, observed=truth[g] + rng.normal(size=480))
        pm.Normal("z", c[k], 1, observed=2 + rng.normal(size=80))
    return m


def _walks(kind: str, seed: int) -> pm.Model:
    """A walk observed with little noise (informed) and one observed with much (uninformed)."""
    rng = np.random.default_rng(seed)
    t = 40
    with pm.Model() as m:
        walks = []
        for name, noise, step in (("w", 0.05, 0.5), ("v", 2.0, 0.02)):
            s = pm.HalfNormal(f"s_{name}", 1)
            if kind == "MvGaussianRandomWalk":
                init = pm.MvNormal.dist(np.zeros(2), 25 * np.eye(2))
                cov = pt.diag(pt.stack([s, s]) ** 2)
                x = pm.MvGaussianRandomWalk(
                    name, mu=np.zeros(2), cov=cov, init_dist=init, steps=t - 1
                )
                truth = np.cumsum(step * rng.normal(size=(t, 2)), axis=0)
            else:
                init = pm.Normal.dist(0, 5)
                if kind == "GaussianRandomWalk":
                    x = pm.GaussianRandomWalk(name, sigma=s, init_dist=init, steps=t - 1)
                else:
                    innov = pm.StudentT.dist(nu=5, mu=0, sigma=s)
                    x = pm.RandomWalk(name, init_dist=init, innovation_dist=innov, steps=t - 1)
                truth = np.cumsum(step * rng.normal(size=t))
            pm.Normal(f"y_{name}", x, noise, observed=truth + noise * rng.normal(size=truth.shape))
            walks.append(x)
    return m


def _ar(seed: int) -> pm.Model:
    """An AR(1) observed closely (informed) and AR(1) log volatilities (uninformed)."""
    rng = np.random.default_rng(seed)
    t = 60
    h, a = np.zeros(t), np.zeros(t)
    for i in range(1, t):
        h[i] = 0.9 * h[i - 1] + 0.2 * rng.normal()
        a[i] = 0.5 * a[i - 1] + 1.0 * rng.normal()
    with pm.Model() as m:
        s = pm.HalfNormal("s", 1)
        x = pm.AR("x", rho=[0.5], sigma=s, init_dist=pm.Normal.dist(0, 2), steps=t - 1)
        pm.Normal("y", x, 0.05, observed=a + 0.05 * rng.normal(size=t))
        mu = pm.Normal("mu", 0, 2)
        phi = pm.Uniform("phi", -1, 1)
        sv = pm.HalfNormal("sv", 1)
        vol = pm.AR(
            "h",
            rho=[mu * (1 - phi), phi],
            sigma=sv,
            constant=True,
            init_dist=pm.Normal.dist(mu, 1),
            steps=t - 1,
        )
        pm.Normal("r", 0, pm.math.exp(vol / 2), observed=rng.normal(0, np.exp(h / 2)))
    return m


# (model of a data seed, informed variable, uninformed variable, the family in the plan)
CASES = {
    "ZeroSumNormal": (_zsn, "eff", "item_eff", "ZeroSumNormal"),
    "MvNormal": (_mvn, "b", "c", "MvNormal"),
    "Truncated": (_truncated, "b", "c", "Truncated"),
    "GaussianRandomWalk": (lambda s: _walks("GaussianRandomWalk", s), "w", "v", "RandomWalk"),
    "RandomWalk": (lambda s: _walks("RandomWalk", s), "w", "v", "RandomWalk"),
    "MvGaussianRandomWalk": (lambda s: _walks("MvGaussianRandomWalk", s), "w", "v", "RandomWalk"),
    "AR": (_ar, "x", "h", "AR"),
}


@pytest.mark.parametrize("family", list(CASES))
def test_fit_tells_informed_from_uninformed(family, seed):
    make, informed, uninformed, shown = CASES[family]
    m = make(seed % 20)
    p = decenter.plan(m)
    assert p.fit["converged"], p.notes
    assert p.fit["fallback"] == {}  # no whole-model and no per-variable fallback
    assert p[informed].family == p[uninformed].family == shown
    lam = p.fit["lam_mean"]
    assert lam[informed] > INFORMED, (lam, p.notes)
    assert lam[uninformed] < UNINFORMED, (lam, p.notes)
    # left centered, and non-centered (Truncated and the walks: lam rounded to 0; MvNormal is
    # partially centered element by element, ZeroSumNormal with one lam, mostly 0 here); an
    # informed MvNormal can keep a few elements just below CENTER_ABOVE (data seed 16 of
    # 0-19: 0.93-0.94), so partial
    partial = shown in ("MvNormal", "ZeroSumNormal")
    if partial and p[informed].action == "rewrite":
        assert np.mean(p[informed].lam) > INFORMED, p.notes
    else:
        assert p[informed].action == "keep" and "lam = 1 (auto)" in p[informed].reason
    assert p[uninformed].action == "rewrite"
    lam_u = 0.0 if p[uninformed].lam is None else np.mean(p[uninformed].lam)
    assert lam_u < UNINFORMED and (p[uninformed].lam is None or partial)
    if shown == "ZeroSumNormal":
        for name in (informed, uninformed):
            (note,) = [n for n in p.notes if n.startswith(f"auto: {name}: ")]
            d = p[name]
            lam = 1.0 if d.action == "keep" else 0.0 if d.lam is None else d.lam
            assert np.ndim(lam) == 0, lam  # one lam for the variable, and the note says which
            said = float(note.rsplit("their mean: ", 1)[1])
            assert said == pytest.approx(lam, abs=0.005), (note, lam)


def _fail_for(monkeypatch, name: str) -> None:
    """The fit cannot build the scale of ``name`` (as for a family it does not know)."""
    real = decenter.auto.curvature._scale_expr

    def scale_expr(model, rv, rule=None):
        if rv.name == name:
            raise NotImplementedError(f"no scale for {name}")
        return real(model, rv, rule)

    monkeypatch.setattr(decenter.auto.curvature, "_scale_expr", scale_expr)


def test_a_variable_the_fit_cannot_handle_falls_back_alone(monkeypatch, seed):
    m = _zsn(seed % 20)
    whole = decenter.plan(m)["eff"]
    _fail_for(monkeypatch, "item_eff")
    p = decenter.plan(m)
    assert p.fit["converged"]
    assert list(p.fit["fallback"]) == ["item_eff"]
    assert "no scale for item_eff" in p["item_eff"].reason
    assert "fallback" in p["item_eff"].reason
    assert p["item_eff"].action == "rewrite" and p["item_eff"].lam is None
    # the other variable keeps the lam of the fit without the failure
    assert p.fit["lam_mean"]["eff"] > INFORMED
    assert _same_choice(p["eff"], whole)
    assert "item_eff" in str(p)
    with pytest.warns(UserWarning, match=r"'item_eff' \(the fit could not handle it"):
        new = decenter.transform(m)
    assert "item_eff_offset" in new.named_vars
    assert ("eff_offset" in new.named_vars) == (whole.action == "rewrite")


def _same_choice(d, other) -> bool:
    """The same action and lam, to the fit's tolerance (the fit without the failed variable
    stops at a slightly different point)."""
    if d.action != other.action or (d.lam is None) != (other.lam is None):
        return False
    return d.lam is None or np.allclose(d.lam, other.lam, atol=0.02)


def test_an_overflowed_information_falls_back_alone(monkeypatch, seed):
    # one element's curvature overflows (inf) wherever it is taken: it used to make the
    # fit's objective -inf and the whole model fall back; now that variable alone does
    m = _zsn(seed % 20)
    whole = decenter.plan(m)["eff"]
    real = decenter.auto.curvature.InformationFn.__call__

    def overflowing(self, draws, **kwargs):
        out = real(self, draws, **kwargs)
        if "item_eff" in out:  # its first element (of its ZeroSumNormal subspace)
            info = out["item_eff"]
            info.information, info.lam_raw = info.information.copy(), info.lam_raw.copy()
            info.information.flat[0], info.lam_raw.flat[0] = np.inf, np.nan
        return out

    monkeypatch.setattr(decenter.auto.curvature.InformationFn, "__call__", overflowing)
    p = decenter.plan(m)
    assert p.fit["converged"]
    assert list(p.fit["fallback"]) == ["item_eff"]
    assert "not finite" in p["item_eff"].reason and p["item_eff"].lam is None
    assert p.fit["lam_mean"]["eff"] > INFORMED and _same_choice(p["eff"], whole)


def test_whole_fit_failure_warns_for_every_candidate(monkeypatch, seed):
    import decenter.auto.laplace

    def broken(*args, **kwargs):
        raise RuntimeError("broken fit")

    monkeypatch.setattr(decenter.auto.laplace, "laplace_fit", broken)
    m = _zsn(seed % 20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decenter.transform(m)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    for name in ("eff", "item_eff"):
        assert any(f"{name!r} (the fit failed (RuntimeError: broken fit)" in t for t in messages)


def test_sample_warns_and_records_the_fallback(monkeypatch, seed):
    m = _zsn(seed % 20)
    _fail_for(monkeypatch, "item_eff")
    with pytest.warns(UserWarning, match="'item_eff'"):
        idata = decenter.sample(
            m,
            draws=20,
            tune=20,
            chains=1,
            random_seed=seed,
            progressbar=False,
            nuts_sampler="pymc",
            compute_convergence_checks=False,
        )
    attrs = idata.posterior.attrs
    assert list(json.loads(attrs["decenter_fallback"])) == ["item_eff"]
    assert "item_eff" in attrs["decenter_summary"] and "fallback" in attrs["decenter_summary"]
    decisions = {d["name"]: d for d in json.loads(attrs["decenter_plan"])["decisions"]}
    assert "fallback" in decisions["item_eff"]["reason"]
    assert "fallback" not in decisions["eff"]["reason"]  # the other variable keeps its lam
