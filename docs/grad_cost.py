"""What one log density and gradient costs in each form, as nutpie evaluates it (numba).

    python docs/grad_cost.py                      # the 34 corpus models
    python docs/grad_cost.py guprenat egsingle    # named ones: corpus, fresh, real, glmm_fresh
    python docs/grad_cost.py --nutpie radon        # nutpie's own compiled function, no Python call

For each model: the centered model as written, the non-centered one and the default's
(``decenter.plan`` applied), each compiled with PyTensor's NUMBA mode and called at its
initial point: 15 rounds of about 20 ms per form, the three forms alternating within each
round, the median in microseconds per call, and the default's cost over the non-centered and
the centered one. The machine must be otherwise idle.

A call of a PyTensor function from Python has a fixed cost of its own (12-14 us here, more
than radon's whole log density and gradient), which compresses these ratios. ``--nutpie``
times what nutpie's sampler calls instead: the C callback ``nutpie.compile_pymc_model`` builds
(log density and gradient at a flat vector of 0.1), called through ctypes, minus the cost of
calling an empty callback of the same signature the same way; the same rounds, the median.
Its fourth form, ``default, no checks``, is the default's model with ``check_bounds=False``
(no parameter checks): a diagnostic of how much of the default's extra cost is PyMC's
``sigma > 0`` test of a partially centered variable's per-element scale (decenter never turns
the user's checks off).
"""

from __future__ import annotations

import ctypes
import logging
import statistics
import sys
import time
import warnings

import numpy as np
import pytensor

import decenter

#: nutpie's log density callback: (dim, x, gradient out, logp out, user data) -> status
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int64,
    ctypes.c_uint64,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
)


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


def _callback(address: int, n_dim: int, user_data: int | None):
    """A call without arguments of nutpie's callback at ``address``, at x = 0.1 everywhere."""
    f = _CALLBACK(address)
    x, grad, logp = np.full(n_dim, 0.1), np.zeros(n_dim), np.zeros(())
    args = (n_dim, x.ctypes.data, grad.ctypes.data, logp.ctypes.data, user_data)

    def call(keep=(x, grad, logp)):  # the arrays must live as long as the call
        return f(*args)

    status = call()
    if status != 0:
        raise RuntimeError(f"nutpie's callback returned {status} at x = 0.1")
    return call


def _empty_callback():
    import numba

    double = numba.types.CPointer(numba.types.double)
    sig = numba.types.int64(numba.types.uint64, double, double, double, numba.types.voidptr)
    return numba.cfunc(sig)(lambda dim, x, grad, logp, data: 0)


def nutpie_costs(forms: dict) -> dict[str, float]:
    """Microseconds per log density and gradient of each model in ``forms`` as nutpie's
    sampler calls it (see the module docstring)."""
    import nutpie

    alive = [_empty_callback()]  # the compiled code must outlive the calls
    calls = {"empty": _callback(alive[0].address, 1, None)}
    for key, model in forms.items():
        c = nutpie.compile_pymc_model(model)
        alive.append(c)
        calls[key] = _callback(c.compiled_logp_func.address, c.n_dim, c.user_data.ctypes.data)
    us = costs({key: (call, ()) for key, call in calls.items()})
    return {key: v - us["empty"] for key, v in us.items() if key != "empty"}


def models() -> dict:
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import glmm_fresh

    from decenter.examples.corpus import CORPUS, FRESH
    from decenter.examples.real import REAL_SUITE

    return {**REAL_SUITE, **glmm_fresh.MODELS, **FRESH, **CORPUS}


def main(names: list[str]) -> None:
    in_nutpie = "--nutpie" in names
    names = [n for n in names if n != "--nutpie"]
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
        if in_nutpie:
            unchecked = decenter.transform(model, plan=plan, progressbar=False)
            unchecked.check_bounds = False
            us = nutpie_costs({**forms, "unchecked": unchecked})
            print(
                f"{name} (nutpie): C {us['C']:.2f} / NC {us['NC']:.2f} / default "
                f"{us['default']:.2f} / default, no checks {us['unchecked']:.2f} us; default / NC "
                f"{us['default'] / us['NC']:.2f}, default / C {us['default'] / us['C']:.2f}, "
                f"no checks / NC {us['unchecked'] / us['NC']:.2f}",
                flush=True,
            )
            continue
        us = costs({key: compiled(m) for key, m in forms.items()})
        print(
            f"{name}: C {us['C']:.1f} / NC {us['NC']:.1f} / default {us['default']:.1f} us; "
            f"default / NC {us['default'] / us['NC']:.2f}, default / C {us['default'] / us['C']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
