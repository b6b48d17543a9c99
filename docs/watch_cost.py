"""What decenter.sample's check of the run (decenter.diagnose.watch) costs on radon, 4 x 1000 draws.

Run: PYTHONPATH=src python docs/watch_cost.py (about a minute: one nutpie run of radon).
Prints the check as sampled (divergences below the minimum: a sum) and the full test forced
with synthetic divergences (the scales evaluated on the draws and ranked), median of repeats.
"""

import time

import numpy as np

import decenter
from decenter.auto import plan as make_plan
from decenter.diagnose.watch import _tested, check, rank_tests
from decenter.examples.radon import centered_model


def median_time(f, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main():
    m = centered_model()
    p = make_plan(m, progressbar=False)
    idata = decenter.sample(
        m, plan=p, chains=4, draws=1000, tune=1000, random_seed=1, progressbar=False,
        nuts_sampler="nutpie", compute_convergence_checks=False,
    )  # fmt: skip
    print("record:", idata.posterior.attrs["decenter_watch"])

    def rerun(q):
        raise AssertionError("no second run expected")

    t = time.perf_counter()
    _tested(centered_model(), p, idata)
    print(f"full test, first call (compiles the scales): {1e3 * (time.perf_counter() - t):.1f} ms")
    as_sampled = median_time(lambda: check(m, p, idata, "", rerun, progressbar=False), 20)
    print(f"check as sampled: {1e3 * as_sampled:.2f} ms")
    div = np.zeros((4, 1000), bool)
    div[:, ::50] = True  # 80 divergences, past the minimum of 20

    def full():
        return rank_tests(div, _tested(m, p, idata)[2])

    print(f"full test (forced): {1e3 * median_time(full, 5):.1f} ms")


if __name__ == "__main__":
    main()
