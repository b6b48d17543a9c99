"""Why the same model and seed can sample differently: numba's first compile against its cache.

    PYTHONPATH=src python docs/numba_cache_bits.py

Compiles the non-centered moths model's log density and gradient (PyTensor's NUMBA mode,
nutpie's backend) in two new processes that share an empty compile directory: the first
compiles it, the second loads it from the on-disk cache. Both evaluate it at the same 200
points; the script prints how many of the values differ and by how much. Any model shows it
(moths is small); the functions are the same graph, so this is numba's code generation, not
decenter. A last-bit difference in the gradient sends NUTS' trajectories elsewhere, so the
first run of a graph on a machine and every later run differ (divergence counts included).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np


def _child(out: str) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import pytensor

    import decenter

    sys.path.insert(0, os.path.dirname(__file__))
    import glmm_fresh

    model = decenter.transform(glmm_fresh.moths(), strategy="noncentered", progressbar=False)
    logp = model.logp()
    f = pytensor.function(
        model.value_vars, [logp, *pytensor.grad(logp, model.value_vars)], mode="NUMBA"
    )
    point, rng = model.initial_point(), np.random.default_rng(0)
    rows = []
    for _ in range(200):
        args = [
            point[v.name] + 0.5 * rng.normal(size=np.shape(point[v.name])) for v in model.value_vars
        ]
        rows.append(np.concatenate([np.ravel(np.asarray(o, dtype=float)) for o in f(*args)]))
    np.save(out, np.array(rows))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp}/compiledir"}
        runs = []
        for label in ("first compile", "from the cache"):
            out = os.path.join(tmp, f"{len(runs)}.npy")
            subprocess.run([sys.executable, __file__, "--child", out], env=env, check=True)
            runs.append(np.load(out))
            print(f"{label}: done")
        a, b = runs
        rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-300)
        print(
            f"values differing: {int((a != b).sum())} of {a.size}; largest relative difference {rel.max():.2g}"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2])
    else:
        main()
