"""Wall clock of the first call in a new Python process, as a user running a script sees it.

    python docs/wall_clock_fresh.py radon 4      # seeds 1-4
    python docs/wall_clock_fresh.py chem97 4 5   # seeds 5-8

For each repetition, two fresh processes (alternated): one times
``decenter.sample(model, nuts_sampler="nutpie")`` on the model as written, the other
``pm.sample(model=nc, nuts_sampler="nutpie")`` on the non-centered model ``nc`` (built
before the clock starts: it stands for one the user wrote). 4 chains x 1000 draws after 1000
tune, 2 cores. Imports are not timed; everything after them is (PyTensor's and numba's
on-disk caches are warm, as on any machine after the first run). Prints the median seconds
(range) and their ratio, then the min bulk ESS over the original free variables (every
element) per second of each process, and the ratio of those ESS/s (median over the
repetitions; each repetition is a seed, the same for both), and where the seconds went:
the median seconds of each step (``fit``: decenter's choice; ``rewrite``; ``pm checks``:
``pm.sample``'s step assignment, a gradient of the model's log density per variable;
``nutpie compile``; ``nutpie sample``; ``rest``: everything else, decenter's watch and
record and PyMC's post-processing included).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

KW = dict(draws=1000, tune=1000, chains=4, cores=2, progressbar=False)


def _child(name: str, how: str, seed: int) -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    import arviz as az
    import pymc as pm

    import decenter
    from decenter.examples.real import REAL_SUITE

    model = REAL_SUITE[name]()
    nc = decenter.transform(REAL_SUITE[name](), strategy="noncentered")
    steps = _timed_steps()
    t = time.perf_counter()
    if how == "decenter.sample":
        idata = decenter.sample(model, nuts_sampler="nutpie", random_seed=seed, **KW)
    else:
        idata = pm.sample(model=nc, nuts_sampler="nutpie", random_seed=seed, **KW)
    seconds = time.perf_counter() - t
    names = [rv.name for rv in model.free_RVs]
    ess = az.ess(idata.posterior.to_dataset()[names], method="bulk")
    steps["rest"] = seconds - sum(steps.values())
    print(seconds, min(float(np.nanmin(ess[n].values)) for n in names), json.dumps(steps))


def _timed_steps() -> dict[str, float]:
    """Time the steps of the call by wrapping the functions that do them (where looked up at
    call time: attributes of their modules)."""
    import nutpie
    import pymc.sampling.mcmc

    import decenter.auto
    import decenter.core.rewrite

    steps: dict[str, float] = {}
    where = [
        (decenter.auto, "plan", "fit"),
        (decenter.core.rewrite, "apply_plan", "rewrite"),
        (pymc.sampling.mcmc, "assign_step_methods", "pm checks"),
        (nutpie, "compile_pymc_model", "nutpie compile"),
        (nutpie, "sample", "nutpie sample"),
    ]
    for module, attr, key in where:
        steps[key] = 0.0
        setattr(module, attr, _timer(getattr(module, attr), key, steps))
    return steps


def _timer(f, key, steps):
    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            steps[key] += time.perf_counter() - t

    return timed


def main(names: list[str], reps: int, first_seed: int = 1) -> None:
    for name in names:
        times: dict[str, list[float]] = {"decenter.sample": [], "pm.sample NC": []}
        ess_per_s: dict[str, list[float]] = {how: [] for how in times}
        split: dict[str, list[dict]] = {how: [] for how in times}
        for rep in range(reps):
            for how, runs in times.items():
                out = subprocess.run(
                    [sys.executable, __file__, "--child", name, how, str(first_seed + rep)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                seconds, ess, steps = out.stdout.strip().splitlines()[-1].split(" ", 2)
                seconds, ess = float(seconds), float(ess)
                split[how].append(json.loads(steps))
                runs.append(seconds)
                ess_per_s[how].append(ess / seconds)
        med = {how: float(np.median(runs)) for how, runs in times.items()}
        cells = [f"{how} {med[how]:.2f} s ({min(r):.2f}-{max(r):.2f})" for how, r in times.items()]
        ratio = med["decenter.sample"] / med["pm.sample NC"]
        print(f"{name}: " + ", ".join(cells) + f"; ratio {ratio:.2f}")
        per_seed = np.array(ess_per_s["decenter.sample"]) / np.array(
            ess_per_s["pm.sample NC"]
        )
        cells = [
            f"{how} {np.median(v):.1f} ({min(v):.1f}-{max(v):.1f})" for how, v in ess_per_s.items()
        ]
        print(
            f"{name} min bulk ESS/s: "
            + ", ".join(cells)
            + "; ratio per seed "
            + " / ".join(f"{r:.2f}" for r in per_seed)
            + f" (median {np.median(per_seed):.2f})"
        )
        for how, runs in split.items():
            cells = [f"{k} {np.median([r[k] for r in runs]):.2f}" for k in runs[0]]
            print(f"{name} {how} seconds: " + ", ".join(cells))


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
        main(sys.argv[1].split(","), reps, int(sys.argv[3]) if len(sys.argv) > 3 else 1)
