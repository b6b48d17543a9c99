"""Six hierarchical models on public data decenter was never developed on (written 2026-12-06,
after the default was last changed, and not changed for them): a fourth held-out set, with
the patterns of issue 28 (binary with 1-3 observations per unit, an observation-level effect,
crossed factors, varying slopes, nesting), written centered as a PyMC user writes them, and
sampled with every form by the bench's own path (``decenter.bench.run_one``).

    python docs/glmm_fresh.py OUT.json [--seeds 1 2 3] [--strategies centered noncentered auto]

``--models`` also takes the corpus' models and those of ``docs/zsn_fresh.py`` (the watch's
comparison in docs/benchmarks.md runs some of each).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import zsn_fresh
from zsn_fresh import run

from decenter.examples.corpus import CORPUS
from decenter.examples.real import _codes, _rdata


def _std(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return (x - x.mean()) / x.std()


def guprenat() -> pm.Model:
    """Modern prenatal care in Guatemala: births of mothers in communities, Bernoulli, 1-3
    births per mother; the two levels' effects added, zero-mean (``mlmRev guPrenat``: 2,449
    births, 1,558 mothers, 161 communities)."""
    df = _rdata("mlmRev", "guPrenat")
    mom, moms = _codes(df["mom"])
    cl, cls = _codes(df["cluster"])
    x = np.column_stack([(df["indig"] != "Ladino").to_numpy(float), _std(df["pcInd81"])])
    with pm.Model(coords={"coef": ["indig", "pc_ind81"], "cluster": cls, "mom": moms}) as model:
        alpha = pm.Normal("alpha", 0, 2)
        beta = pm.Normal("beta", 0, 1, dims="coef")
        u_cluster = pm.Normal("u_cluster", 0, pm.HalfNormal("sigma_cluster", 1), dims="cluster")
        u_mom = pm.Normal("u_mom", 0, pm.HalfNormal("sigma_mom", 1), dims="mom")
        eta = alpha + pm.math.dot(x, beta) + u_cluster[cl] + u_mom[mom]
        pm.Bernoulli("modern", logit_p=eta, observed=(df["prenat"] == "Modern").to_numpy(int))
    return model


def _slopes(df, group: str, x: np.ndarray, y: np.ndarray, mu_a: float, s: float) -> pm.Model:
    """Varying intercepts and slopes (independent) of ``y`` on ``x`` by ``group``."""
    g, labels = _codes(df[group])
    with pm.Model(coords={"group": labels}) as model:
        a = pm.Normal("a", pm.Normal("mu_a", mu_a, s), pm.HalfNormal("sigma_a", s), dims="group")
        b = pm.Normal("b", pm.Normal("mu_b", 0, s), pm.HalfNormal("sigma_b", s), dims="group")
        pm.Normal("y", a[g] + b[g] * x, pm.HalfNormal("sigma", s), observed=y)
    return model


def bdf() -> pm.Model:
    """Dutch pupils' language scores by school, varying intercepts and verbal-IQ slopes
    (``mlmRev bdf``: 2,287 pupils in 131 schools, 4-35 each)."""
    df = _rdata("mlmRev", "bdf")
    x = df["IQ.verb"].to_numpy(float) - df["IQ.verb"].mean()
    return _slopes(df, "schoolNR", x, df["langPOST"].to_numpy(float), 40, 10)


def dietox() -> pm.Model:
    """Pig weights over 12 weeks, varying intercepts and growth rates by pig (``geepack
    dietox``: 72 pigs, 861 weighings)."""
    df = _rdata("geepack", "dietox")
    x = df["Time"].to_numpy(float) - 6.5
    return _slopes(df, "Pig", x, df["Weight"].to_numpy(float), 60, 20)


def moths() -> pm.Model:
    """Moth counts on 41 transects in 8 habitats, Poisson with a habitat effect and a
    transect-level (observation) effect, transect length as exposure (``DAAG moths``)."""
    df = _rdata("DAAG", "moths")
    h, hs = _codes(df["habitat"])
    with pm.Model(coords={"habitat": hs, "transect": np.arange(len(df))}) as model:
        alpha = pm.Normal("alpha", 0, 2)
        u_hab = pm.Normal("u_habitat", 0, pm.HalfNormal("sigma_habitat", 1), dims="habitat")
        e = pm.Normal("e_transect", 0, pm.HalfNormal("sigma_transect", 1), dims="transect")
        log_mu = alpha + u_hab[h] + e + np.log(df["meters"].to_numpy(float) / 100)
        pm.Poisson("A", pm.math.exp(log_mu), observed=df["A"].to_numpy(int))
    return model


def assay() -> pm.Model:
    """A bioassay in 6 blocks: samples x dilutions crossed within blocks, each factor and the
    block x sample cells random (``nlme Assay``, 60 log densities)."""
    df = _rdata("nlme", "Assay")
    codes = {k: _codes(df[col]) for k, col in (("block", "Block"), ("sample", "sample"))}
    codes["dilut"] = _codes(df["dilut"])
    with pm.Model(coords={k: lab for k, (_, lab) in codes.items()}) as model:
        mean = pm.Normal("mu", 0, 1)
        for k, (c, _) in codes.items():
            mean = mean + pm.Normal(f"u_{k}", 0, pm.HalfNormal(f"sigma_{k}", 0.5), dims=k)[c]
        s_bs = pm.HalfNormal("sigma_block_sample", 0.5)
        u_bs = pm.Normal("u_block_sample", 0, s_bs, dims=("block", "sample"))
        mean = mean + u_bs[codes["block"][0], codes["sample"][0]]
        pm.Normal("log_dens", mean, pm.HalfNormal("sigma", 0.5), observed=df["logDens"])
    return model


def egsingle() -> pm.Model:
    """Math achievement of US pupils over school years: pupils nested in schools, school-level
    growth rates (``mlmRev egsingle``: 7,230 scores of 1,721 pupils in 60 schools)."""
    df = _rdata("mlmRev", "egsingle")
    school, schools = _codes(df["schoolid"])
    child, children = _codes(df["childid"])
    year = df["year"].to_numpy(float)
    with pm.Model(coords={"school": schools, "child": children}) as model:
        a = (
            pm.Normal("alpha", 0, 2)
            + pm.Normal("u_school", 0, pm.HalfNormal("sigma_school", 1), dims="school")[school]
        )
        rate = (
            pm.Normal("beta", 0, 1)
            + pm.Normal("v_school", 0, pm.HalfNormal("sigma_rate", 0.5), dims="school")[school]
        )
        u_child = pm.Normal("u_child", 0, pm.HalfNormal("sigma_child", 1), dims="child")
        mean = a + u_child[child] + rate * year
        pm.Normal("math", mean, pm.HalfNormal("sigma", 1), observed=df["math"].to_numpy(float))
    return model


MODELS = {f.__name__: f for f in (guprenat, bdf, dietox, moths, assay, egsingle)}

if __name__ == "__main__":
    run({**CORPUS, **zsn_fresh.MODELS, **MODELS}, default=list(MODELS))
