"""Wall clock of ``decenter.sample`` against sampling a hand-written non-centered model.

    python docs/wall_clock.py eight_schools,radon 3

In one process, after a warm-up (``decenter.bench._warm_up``), for each model of
``decenter.examples.real.REAL_SUITE`` and each repetition, three runs on a fresh model with
nutpie, 4 chains x 1000 draws after 1000 tune, 2 cores:

* ``decenter.sample``: ``decenter.sample(model, nuts_sampler="nutpie")`` on the model as
  written (the Laplace fit, the rewrite, PyMC's nutpie compile and the sampling);
* ``pm.sample NC``: ``pm.sample(model=nc, nuts_sampler="nutpie")`` on the non-centered model;
* ``nutpie NC``: ``nutpie.sample(nutpie.compile_pymc_model(nc))``, without PyMC's wrapper.

The non-centered model ``nc`` stands for one the user wrote by hand: building it is not timed.
Prints the median seconds (range) and the ratios of ``decenter.sample`` to both baselines.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings

import numpy as np
import nutpie
import pymc as pm

import decenter
from decenter.bench import _warm_up
from decenter.examples.real import REAL_SUITE

KW = dict(draws=1000, tune=1000, chains=4, cores=2)


def _one(how: str, model, nc, seed: int) -> float:
    t = time.perf_counter()
    if how == "decenter.sample":
        decenter.sample(model, nuts_sampler="nutpie", random_seed=seed, progressbar=False, **KW)
    elif how == "pm.sample NC":
        pm.sample(model=nc, nuts_sampler="nutpie", random_seed=seed, progressbar=False, **KW)
    else:
        nutpie.sample(nutpie.compile_pymc_model(nc), seed=seed, progress_bar=False, **KW)
    return time.perf_counter() - t


def main(names: list[str], reps: int) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    _warm_up()
    for name in names:
        times: dict[str, list[float]] = {
            "decenter.sample": [],
            "pm.sample NC": [],
            "nutpie NC": [],
        }
        for rep in range(reps):
            for how, runs in times.items():
                model = REAL_SUITE[name]()
                nc = decenter.transform(model, strategy="noncentered")
                runs.append(_one(how, model, nc, seed=rep + 1))
        med = {how: float(np.median(runs)) for how, runs in times.items()}
        cells = [f"{how} {med[how]:.2f} s ({min(r):.2f}-{max(r):.2f})" for how, r in times.items()]
        ratio_pm = med["decenter.sample"] / med["pm.sample NC"]
        ratio_nutpie = med["decenter.sample"] / med["nutpie NC"]
        print(f"{name}: " + ", ".join(cells), end="; ")
        print(f"decenter.sample / pm.sample NC {ratio_pm:.2f}, / nutpie NC {ratio_nutpie:.2f}")


if __name__ == "__main__":
    main(sys.argv[1].split(","), int(sys.argv[2]) if len(sys.argv) > 2 else 3)
