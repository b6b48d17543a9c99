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


def _effects(factors: dict[str, np.ndarray], scale: float):
    """A ZeroSumNormal effect per factor (codes), each with its own HalfNormal scale."""
    total = 0
    for name, codes in factors.items():
        sigma = pm.HalfNormal(f"sigma_{name}", scale)
        total = total + pm.ZeroSumNormal(f"{name}_eff", sigma=sigma, dims=name)[codes]
    return total


def _one_way(data, factor, y, mu, scale, noise) -> pm.Model:
    """One factor (``(column, dim)``) as a ZeroSumNormal effect with a HalfNormal(``scale``)
    scale around ``Normal(*mu)``; the observed ``y = (column, name)`` with a
    ``HalfNormal(noise)`` residual scale."""
    df = _rdata(*data)
    codes, labels = _codes(df[factor[0]])
    with pm.Model(coords={factor[1]: labels}) as model:
        mean = pm.Normal("mu", *mu) + _effects({factor[1]: codes}, scale)
        obs = df[y[0]].to_numpy(float)
        pm.Normal(y[1], mean, pm.HalfNormal("sigma", noise), observed=obs)
    return model


def morley() -> pm.Model:
    """Michelson's speed of light: 5 experiments x 20 runs (``datasets morley``)."""
    return _one_way(
        ("datasets", "morley"), ("Expt", "expt"), ("Speed", "speed"), (850, 100), 50, 100
    )


def _two_way(data, a, b, y, mu, scale, noise) -> pm.Model:
    """Two factors (``(column, dim)`` each) with their interaction, all ZeroSumNormal effects
    with their own HalfNormal scales (``scale``), around ``Normal(*mu)``; the observed
    ``y = (column, name)`` with a ``HalfNormal(noise)`` residual scale."""
    df = _rdata(*data)
    (ca, la), (cb, lb) = _codes(df[a[0]]), _codes(df[b[0]])
    with pm.Model(coords={a[1]: la, b[1]: lb}) as model:
        mean = pm.Normal("mu", *mu) + _effects({a[1]: ca, b[1]: cb}, scale)
        s_int = pm.HalfNormal("sigma_inter", scale)
        inter = pm.ZeroSumNormal("inter_eff", sigma=s_int, dims=(a[1], b[1]), n_zerosum_axes=2)
        obs = df[y[0]].to_numpy(float)
        pm.Normal(y[1], mean + inter[ca, cb], pm.HalfNormal("sigma", noise), observed=obs)
    return model


def genotype() -> pm.Model:
    """Rat litter weights, litter genotype x mother genotype, 61 litters (``MASS genotype``)."""
    return _two_way(("MASS", "genotype"), ("Litter", "litter"), ("Mother", "mother"),
                    ("Wt", "wt"), (50, 10), 5, 10)  # fmt: skip


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
    return _two_way(("MASS", "cabbages"), ("Cult", "cult"), ("Date", "date"),
                    ("HeadWt", "head_wt"), (3, 2), 1, 2)  # fmt: skip


def weightgain() -> pm.Model:
    """Rat weight gain, protein source x amount with interaction, 40 rats (``HSAUR
    weightgain``)."""
    return _two_way(("HSAUR", "weightgain"), ("source", "source"), ("type", "type"),
                    ("weightgain", "gain"), (90, 20), 10, 20)  # fmt: skip


def painters() -> pm.Model:
    """De Piles' scores of 54 painters in 8 schools, composition score (``MASS painters``)."""
    return _one_way(("MASS", "painters"), ("School", "school"), ("Composition", "composition"),
                    (10, 5), 5, 5)  # fmt: skip


MODELS = {f.__name__: f for f in (morley, genotype, npk, cabbages, weightgain, painters)}


def run(models: dict, argv: list[str] | None = None, default: list[str] | None = None) -> None:
    """Sample ``models`` (name -> builder; ``--models``, else ``default``, else all) with each
    strategy and seed by the bench's path (``decenter.bench.run_one``, 4 chains x 500 draws
    after 500 tune) and write the rows."""
    import decenter.bench as bench

    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--strategies", nargs="+", default=["centered", "noncentered", "auto"])
    p.add_argument("--models", nargs="+", default=default or list(models))
    args = p.parse_args(argv)
    bench._lookup = lambda name, suite=None: models[name]  # these models, by the bench's path
    runs = []
    for name in args.models:
        for strategy in args.strategies:
            for seed in args.seeds:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row = bench.run_one(name, strategy, seed=seed, draws=500, tune=500, chains=4)
                runs.append(row)
                watch = f"{row.get('watch')} ({row.get('watch_side')})" if row.get("watch") else ""
                ess = round(row["ess_per_grad"] * 1000, 2)
                print(name, strategy, seed, ess, row["divergences"], watch, flush=True)
    with open(args.out, "w") as f:
        json.dump({"runs": runs}, f, default=str, indent=1)


if __name__ == "__main__":
    run(MODELS)
