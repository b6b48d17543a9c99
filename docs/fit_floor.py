"""The part of the default's fit that any fit compiling the log density and its gradient pays.

    python docs/fit_floor.py radon 7          # against compile_logp + compile_dlogp (warm)
    python docs/fit_floor.py 150 3 600 1      # wide models: against building the model

In one process, warm (a first transform and compile not counted), ``repeats`` rounds each of
the default's ``decenter.transform`` and of the yardstick (radon: ``model.compile_logp()`` +
``model.compile_dlogp()``; a wide model of ``n`` vectors, no data: building it), each after a
full garbage collection (not timed). Inside each transform, three steps are timed where the
fit calls them (``decenter.auto.laplace._objective``): PyMC building the helper model's log
density (``Model.logp``), PyTensor building its gradient (``pytensor.grad``) and compiling the
objective (``pytensor.function``). Their sum is the floor: what remains if every other step
of the fit (the helper model, the curvature, L-BFGS, the scales' spread, the rewrite, the
garbage) cost nothing. Prints medians (wall seconds) and the ratios.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import warnings
from collections import defaultdict

import pymc as pm
import pytensor

import decenter.auto.laplace as laplace

STEPS = {"logp": (pm.Model, "logp"), "grad": (laplace.pt, "grad")}


def _timed(owner, attr, name, record):
    """Wrap ``owner.attr`` to add its wall time to ``record[name]`` when the fit's objective
    calls it (the caller's frame is ``_objective``)."""
    inner = getattr(owner, attr)

    def wrapper(*args, **kwargs):
        if sys._getframe(1).f_code is not laplace._objective.__code__:
            return inner(*args, **kwargs)
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            record[name] += time.perf_counter() - t

    setattr(owner, attr, wrapper)


def measure(model, yardstick, repeats: int) -> dict:
    from decenter.core.rewrite import apply_plan

    def transform():
        return apply_plan(model, laplace_plan(model))

    yardstick()
    transform()
    record: dict[str, float] = defaultdict(float)
    for name, (owner, attr) in STEPS.items():
        _timed(owner, attr, name, record)
    _timed(pytensor, "function", "compile", record)
    times = defaultdict(list)
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        yardstick()
        times["yardstick"].append(time.perf_counter() - t)
        gc.collect()
        record.clear()
        t = time.perf_counter()
        transform()
        times["transform"].append(time.perf_counter() - t)
        for k in ("logp", "grad", "compile"):
            times[k].append(record[k])
        times["floor"].append(record["logp"] + record["grad"] + record["compile"])
    return {k: statistics.median(v) for k, v in times.items()}


def laplace_plan(model):
    from decenter.auto import plan

    return plan(model, progressbar=False)


def main(argv: list[str]) -> None:
    warnings.filterwarnings("ignore")
    pairs = list(zip(argv[::2], map(int, argv[1::2]), strict=True))
    for what, repeats in pairs:
        if what == "radon":
            from decenter.examples.radon import centered_model

            model = centered_model()

            def yardstick(model=model):
                model.compile_logp()
                model.compile_dlogp()

            label = "compile_logp + compile_dlogp"
        else:
            from decenter.bench.scaling import wide_model

            n = int(what)
            model = wide_model(n, 40, observed=False)

            def yardstick(n=n):
                wide_model(n, 40, observed=False)

            label = "building the model"
        r = measure(model, yardstick, repeats)
        y = r["yardstick"]
        print(
            f"{what}: {label} {y:.3f} s; default transform {r['transform']:.3f} s "
            f"({r['transform'] / y:.2f}x); floor {r['floor']:.3f} s ({r['floor'] / y:.2f}x: "
            f"logp {r['logp']:.3f}, gradient {r['grad']:.3f}, compile {r['compile']:.3f}); "
            f"floor / transform {r['floor'] / r['transform']:.2f}; median of {repeats}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
