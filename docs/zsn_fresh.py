"""Six ZeroSumNormal models on public data decenter was never developed on (written 2026-12-06,
after the change to one partial lam per ZeroSumNormal, as bambi users write categorical
effects: each factor a ``ZeroSumNormal`` with its own ``HalfNormal`` scale), sampled with
every form by the bench's own path (``decenter.bench.run_one``).

    python docs/zsn_fresh.py OUT.json [--seeds 1 2 3] [--strategies centered noncentered auto]

Run from an older checkout (``PYTHONPATH=<old>/src``) it measures that checkout's default on
the same models (docs/benchmarks.md, "ZeroSumNormal partially centered with one lam").
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import pymc as pm

from decenter.examples.real import _codes, _rdata


def _effects(factors: dict[str, np.ndarray], scale: float) -> tuple[dict, object]:
    """A ZeroSumNormal effect per factor (codes), each with its own HalfNormal scale."""
    total = 0
    for name, codes in factors.items():
        sigma = pm.HalfNormal(f"sigma_{name}", scale)
        total = total + pm.ZeroSumNormal(f"{name}_eff", sigma=sigma, dims=name)[codes]
    return total


def morley() -> pm.Model:
    """Michelson's speed of light: 5 experiments x 20 runs (``datasets morley``)."""
    df = _rdata("datasets", "morley")
    expt, expts = _codes(df["Expt"])
    y = df["Speed"].to_numpy(float)
    with pm.Model(coords={"expt": expts}) as model:
        mu = pm.Normal("mu", 850, 100)
        mean = mu + _effects({"expt": expt}, 50)
        pm.Normal("speed", mean, pm.HalfNormal("sigma", 100), observed=y)
    return model


def genotype() -> pm.Model:
    """Rat litter weights, litter genotype x mother genotype, 61 litters (``MASS genotype``)."""
    df = _rdata("MASS", "genotype")
    lit, lits = _codes(df["Litter"])
    mom, moms = _codes(df["Mother"])
    y = df["Wt"].to_numpy(float)
    with pm.Model(coords={"litter": lits, "mother": moms}) as model:
        mu = pm.Normal("mu", 50, 10)
        mean = mu + _effects({"litter": lit, "mother": mom}, 5)
        s_int = pm.HalfNormal("sigma_inter", 5)
        inter = pm.ZeroSumNormal(
            "inter_eff", sigma=s_int, dims=("litter", "mother"), n_zerosum_axes=2
        )
        pm.Normal("wt", mean + inter[lit, mom], pm.HalfNormal("sigma", 10), observed=y)
    return model


def npk() -> pm.Model:
    """N, P, K factorial in 6 blocks of 4 plots (``datasets npk``): blocks and each nutrient
    as ZeroSumNormal effects."""
    df = _rdata("datasets", "npk")
    codes = {k: _codes(df[col]) for k, col in (("block", "block"), ("N", "N"), ("P", "P"))}
    codes["K"] = _codes(df["K"])
    y = df["yield"].to_numpy(float)
    with pm.Model(coords={k: labels for k, (_, labels) in codes.items()}) as model:
        mu = pm.Normal("mu", 55, 10)
        mean = mu + _effects({k: c for k, (c, _) in codes.items()}, 5)
        pm.Normal("yield", mean, pm.HalfNormal("sigma", 10), observed=y)
    return model


def cabbages() -> pm.Model:
    """Cabbage head weights, 2 cultivars x 3 planting dates with interaction, 60 heads
    (``MASS cabbages``)."""
    df = _rdata("MASS", "cabbages")
    cult, cults = _codes(df["Cult"])
    date, dates = _codes(df["Date"])
    y = df["HeadWt"].to_numpy(float)
    with pm.Model(coords={"cult": cults, "date": dates}) as model:
        mu = pm.Normal("mu", 3, 2)
        mean = mu + _effects({"cult": cult, "date": date}, 1)
        s_int = pm.HalfNormal("sigma_inter", 1)
        inter = pm.ZeroSumNormal("inter_eff", sigma=s_int, dims=("cult", "date"), n_zerosum_axes=2)
        pm.Normal("head_wt", mean + inter[cult, date], pm.HalfNormal("sigma", 2), observed=y)
    return model


def weightgain() -> pm.Model:
    """Rat weight gain, protein source x amount with interaction, 40 rats (``HSAUR
    weightgain``)."""
    df = _rdata("HSAUR", "weightgain")
    src, srcs = _codes(df["source"])
    typ, typs = _codes(df["type"])
    y = df["weightgain"].to_numpy(float)
    with pm.Model(coords={"source": srcs, "type": typs}) as model:
        mu = pm.Normal("mu", 90, 20)
        mean = mu + _effects({"source": src, "type": typ}, 10)
        s_int = pm.HalfNormal("sigma_inter", 10)
        inter = pm.ZeroSumNormal(
            "inter_eff", sigma=s_int, dims=("source", "type"), n_zerosum_axes=2
        )
        pm.Normal("gain", mean + inter[src, typ], pm.HalfNormal("sigma", 20), observed=y)
    return model


def painters() -> pm.Model:
    """De Piles' scores of 54 painters in 8 schools, composition score (``MASS painters``)."""
    df = _rdata("MASS", "painters")
    school, schools = _codes(df["School"])
    y = df["Composition"].to_numpy(float)
    with pm.Model(coords={"school": schools}) as model:
        mu = pm.Normal("mu", 10, 5)
        mean = mu + _effects({"school": school}, 5)
        pm.Normal("composition", mean, pm.HalfNormal("sigma", 5), observed=y)
    return model


MODELS = {f.__name__: f for f in (morley, genotype, npk, cabbages, weightgain, painters)}


def main() -> None:
    import decenter.bench as bench

    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--strategies", nargs="+", default=["centered", "noncentered", "auto"])
    p.add_argument("--models", nargs="+", default=list(MODELS))
    args = p.parse_args()
    bench._lookup = lambda name, suite=None: MODELS[name]  # these models, by the bench's path
    runs = []
    for name in args.models:
        for strategy in args.strategies:
            for seed in args.seeds:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row = bench.run_one(name, strategy, seed=seed, draws=500, tune=500, chains=4)
                runs.append(row)
                print(
                    name,
                    strategy,
                    seed,
                    round(row["ess_per_grad"] * 1000, 2),
                    row["divergences"],
                    flush=True,
                )
    with open(args.out, "w") as f:
        json.dump({"runs": runs}, f, default=str, indent=1)


if __name__ == "__main__":
    main()
