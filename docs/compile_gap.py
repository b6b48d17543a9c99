"""How much longer nutpie takes to compile the default's model than the non-centered one.

    python docs/compile_gap.py radon 8

In one process, after a warm-up, ``reps`` pairs: nutpie compiles the non-centered model, then
the default's (partially centered) model, each built fresh; prints the median of the paired
differences of process CPU seconds (pairs cancel the machine's slow drifts, not its spikes).
Then, as a count that does not depend on the machine's load, the Python function calls of
nutpie's PyTensor stage (``nutpie.compile_pymc._make_functions``, under cProfile) for each
form.
"""

from __future__ import annotations

import cProfile
import logging
import pstats
import sys
import time
import warnings

import numpy as np
import nutpie
import nutpie.compile_pymc

import decenter
from decenter.bench import _warm_up
from decenter.core.rewrite import apply_plan
from decenter.examples.real import REAL_SUITE

FORMS = {"non-centered": "noncentered", "default": "auto"}


def _model(name: str, strategy: str):
    m = REAL_SUITE[name]()
    return apply_plan(m, decenter.plan(m, strategy=strategy))


def _calls(model) -> int:
    prof = cProfile.Profile()
    prof.enable()
    nutpie.compile_pymc._make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=lambda seed: None,
    )
    prof.disable()
    return sum(v[1] for v in pstats.Stats(prof).stats.values())


def main(name: str, reps: int) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    _warm_up()
    diffs = []
    for _ in range(reps):
        t = {}
        for form, strategy in FORMS.items():
            model = _model(name, strategy)
            t0 = time.process_time()
            nutpie.compile_pymc_model(model)
            t[form] = time.process_time() - t0
        diffs.append(t["default"] - t["non-centered"])
    print(f"{name}: default - non-centered compile, median {np.median(diffs):.2f} s", end="")
    print(f" (pairs {np.min(diffs):.2f} to {np.max(diffs):.2f})")
    for form, strategy in FORMS.items():
        print(f"{name}: {form} PyTensor stage, {_calls(_model(name, strategy)):,} Python calls")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8)
