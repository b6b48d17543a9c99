"""When partial centering pays: the default's plan against variants of it, per variable.

Samples a development-half corpus model (or a real-suite model) like ``decenter bench`` (nutpie, 4 chains x 500 draws
after 500 tune, seeds 1-3) under each given form and prints the median over seeds of the
min bulk ESS per gradient (x1000) over all original variables, its per-seed values, the
divergences per seed, and the median per variable. A form is ``centered``, ``noncentered``,
``auto`` (the default's plan), ``snap`` (the default's lams snapped at 0.5: below -> 0, at or
above -> 1), ``auto*F`` (the default's lams times ``F``, in the default's units),
``auto+a,b`` (the default's plan with variables ``a`` and ``b`` forced non-centered) or a
JSON dict ``{"name": lam}`` (``strategy=dict``; others non-centered). Model
``respiratory_loc`` is the corpus's ``respiratory`` with its patient-level covariates (sex,
age, centre) in the patient intercept's location instead of the linear predictor;
``epilepsy_loc`` is the real suite's ``epilepsy`` with its intercept and patient-level
covariates (log base, treatment, their product, log age) in the patient effect's location.

    PYTHONPATH=src python docs/partial_pays.py respiratory noncentered auto 'auto*0.5'
"""

from __future__ import annotations

import json
import sys
import warnings

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt

import decenter
from decenter.bench.prep import _compile, _sample_nutpie
from decenter.core.rewrite import apply_plan
from decenter.examples.corpus import CORPUS
from decenter.examples.real import REAL_SUITE


def respiratory_loc() -> pm.Model:
    from decenter.examples.corpus_glmm import _codes, _rdata, _std

    df = _rdata("HSAUR", "respiratory")
    patient, patients = _codes(df["centre"].astype(str) + ":" + df["subject"].astype(str))
    after = (df["month"] > 0).to_numpy(float)
    xo = np.column_stack([after, after * (df["treatment"] == "treatment").to_numpy(float)])
    cols = [(df["sex"] == "female"), _std(df["age"]), (df["centre"] == 2)]
    xp = np.zeros((len(patients), 3))
    xp[patient] = np.column_stack([np.asarray(c, float) for c in cols])
    with pm.Model(coords={"patient": patients}) as m:
        mu = pm.Normal("mu", 0, 2)
        beta = pm.Normal("beta", 0, 1, shape=2)
        gamma = pm.Normal("gamma", 0, 1, shape=3)
        sigma = pm.HalfNormal("sigma", 2)
        u = pm.Normal("u", mu + pt.dot(xp, gamma), sigma, dims="patient")
        good = (df["status"] == "good").to_numpy()
        pm.Bernoulli("good", logit_p=u[patient] + pt.dot(xo, beta), observed=good)
    return m


def epilepsy_loc() -> pm.Model:
    from decenter.examples.real import _codes, _rdata

    df = _rdata("HSAUR", "epilepsy").sort_values(["subject", "period"])
    subj, subjects = _codes(df["subject"])
    trt = (df["treatment"] == "Progabide").to_numpy(float)
    log_base = np.log(df["base"].to_numpy(float) / 4)
    log_age = np.log(df["age"].to_numpy(float))
    v4 = (df["period"].astype(int) == 4).to_numpy(float)
    x = np.column_stack([log_base, trt, trt * log_base, log_age, v4])
    x = x - x.mean(axis=0)
    xp = np.zeros((len(subjects), 4))
    xp[subj] = x[:, :4]
    coords = {"patient": subjects, "obs": range(len(df))}
    with pm.Model(coords=coords) as m:
        a0 = pm.Normal("a0", mu=0, sigma=5)
        beta = pm.Normal("beta", mu=0, sigma=2, shape=5)
        sigma_patient = pm.HalfNormal("sigma_patient", sigma=1)
        sigma_visit = pm.HalfNormal("sigma_visit", sigma=1)
        b1 = pm.Normal("b1", a0 + pt.dot(xp, beta[:4]), sigma_patient, dims="patient")
        b = pm.Normal("b", mu=0, sigma=sigma_visit, dims="obs")
        eta = beta[4] * x[:, 4] + b1[subj] + b
        pm.Poisson("seizures", mu=pt.exp(eta), observed=df["seizure.rate"], dims="obs")
    return m


def variant(m: pm.Model, form: str) -> pm.Model:
    if form == "centered":
        return m
    if form.startswith("{"):
        return decenter.transform(m, strategy=json.loads(form))
    if not (form.startswith(("auto", "snap"))):
        return decenter.transform(m, strategy=form)
    p = decenter.plan(m)
    for d in p.rewrites:
        lam = None if d.lam is None else np.asarray(d.lam, float)
        if form == "snap" and lam is not None:
            lam = np.where(lam >= 0.5, 1.0, 0.0)
        elif form.startswith("auto*") and lam is not None:
            lam = lam * float(form[5:])
        elif form.startswith("auto+") and d.name in form[5:].split(","):
            lam = None
        d.lam = lam
    return apply_plan(m, p)


def main(name: str, forms: list[str]) -> None:
    warnings.simplefilter("ignore")
    own = {"respiratory_loc": respiratory_loc, "epilepsy_loc": epilepsy_loc}
    make = {**REAL_SUITE, **CORPUS, **own}[name]
    for form in forms:
        m = make()
        orig = [rv.name for rv in m.free_RVs]
        compiled = _compile(variant(m, form), orig)
        rows, divs = [], []
        for seed in (1, 2, 3):
            tr = _sample_nutpie(compiled, seed=seed, draws=500, tune=500, chains=4)
            grads = int(tr.sample_stats["n_steps"].sum())
            divs.append(int(tr.sample_stats["diverging"].sum()))
            ess = az.ess(tr.posterior.to_dataset()[orig], method="bulk")
            rows.append({v: 1000 * float(np.nanmin(ess[v].values)) / grads for v in orig})
        mins = [min(r.values()) for r in rows]
        per_var = {v: round(float(np.median([r[v] for r in rows])), 2) for v in orig}
        print(
            name,
            form,
            "min",
            round(float(np.median(mins)), 2),
            [round(x, 2) for x in mins],
            "div",
            divs,
            per_var,
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
