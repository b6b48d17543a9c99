"""Wall clock of the first call in a new Python process, as a user running a script sees it.

    python docs/wall_clock_fresh.py radon 4

For each repetition, two fresh processes (alternated): one times
``decenter.sample(model, nuts_sampler="nutpie")`` on the model as written, the other
``pm.sample(model=nc, nuts_sampler="nutpie")`` on the non-centered model ``nc`` (built
before the clock starts: it stands for one the user wrote). 4 chains x 1000 draws after 1000
tune, 2 cores. Imports are not timed; everything after them is (PyTensor's and numba's
on-disk caches are warm, as on any machine after the first run). Prints the median seconds
(range) and the ratio.
"""

from __future__ import annotations

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
    import pymc as pm

    import decenter
    from decenter.examples.real import REAL_SUITE

    model = REAL_SUITE[name]()
    nc = decenter.transform(REAL_SUITE[name](), strategy="noncentered")
    t = time.perf_counter()
    if how == "decenter.sample":
        decenter.sample(model, nuts_sampler="nutpie", random_seed=seed, **KW)
    else:
        pm.sample(model=nc, nuts_sampler="nutpie", random_seed=seed, **KW)
    print(time.perf_counter() - t)


def main(names: list[str], reps: int) -> None:
    for name in names:
        times: dict[str, list[float]] = {"decenter.sample": [], "pm.sample NC": []}
        for rep in range(reps):
            for how, runs in times.items():
                out = subprocess.run(
                    [sys.executable, __file__, "--child", name, how, str(rep + 1)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(float(out.stdout.strip().splitlines()[-1]))
        med = {how: float(np.median(runs)) for how, runs in times.items()}
        cells = [f"{how} {med[how]:.2f} s ({min(r):.2f}-{max(r):.2f})" for how, r in times.items()]
        ratio = med["decenter.sample"] / med["pm.sample NC"]
        print(f"{name}: " + ", ".join(cells) + f"; ratio {ratio:.2f}")


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main(sys.argv[1].split(","), int(sys.argv[2]) if len(sys.argv) > 2 else 3)
