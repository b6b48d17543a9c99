"""What one log density and gradient costs in each form, as nutpie evaluates it (numba).

    python docs/grad_cost.py                      # the 34 corpus models
    python docs/grad_cost.py guprenat egsingle    # or named ones (corpus, real suite, glmm_fresh)

For each model: the centered model as written, the non-centered one and the default's
(``decenter.plan`` applied), each compiled with PyTensor's NUMBA mode and called at its
initial point: 15 rounds of about 20 ms per form, the three forms alternating within each
round, the median in microseconds per call, and the default's cost over the non-centered and
the centered one. The machine must be otherwise idle.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
import warnings

import pytensor

import decenter


def compiled(model):
    """The log density and gradient of ``model`` in numba, and its initial point."""
    logp = model.logp()
    f = pytensor.function(
        model.value_vars, [logp, *pytensor.grad(logp, model.value_vars)], mode="NUMBA"
    )
    point = model.initial_point()
    args = [point[v.name] for v in model.value_vars]
    f(*args)
    return f, args


def costs(functions: dict, rounds: int = 15) -> dict[str, float]:
    """Microseconds per call of each function: rounds of about 20 ms, the forms alternating
    within each round (so that all see the same machine), median over rounds."""
    calls = {}
    for key, (f, args) in functions.items():
        t = time.perf_counter()
        f(*args)
        calls[key] = max(10, min(2000, int(0.02 / max(time.perf_counter() - t, 1e-7))))
    seconds = {key: [] for key in functions}
    for _ in range(rounds):
        for key, (f, args) in functions.items():
            t = time.perf_counter()
            for _ in range(calls[key]):
                f(*args)
            seconds[key].append((time.perf_counter() - t) / calls[key])
    return {key: 1e6 * statistics.median(v) for key, v in seconds.items()}


def models() -> dict:
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import glmm_fresh

    from decenter.examples.corpus import CORPUS
    from decenter.examples.real import REAL_SUITE

    return {**REAL_SUITE, **glmm_fresh.MODELS, **CORPUS}


def main(names: list[str]) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    from decenter.examples.corpus import CORPUS

    known = models()
    for name in names or list(CORPUS):
        model = known[name]()
        plan = decenter.plan(model, progressbar=False)
        forms = {
            "C": model,
            "NC": decenter.transform(model, strategy="noncentered", progressbar=False),
            "default": decenter.transform(model, plan=plan, progressbar=False),
        }
        us = costs({key: compiled(m) for key, m in forms.items()})
        print(
            f"{name}: C {us['C']:.1f} / NC {us['NC']:.1f} / default {us['default']:.1f} us; "
            f"default / NC {us['default'] / us['NC']:.2f}, default / C {us['default'] / us['C']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
