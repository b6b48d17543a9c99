"""The fit's objective in C (``FIT_MODE``) or in Python (``PY_FIT_MODE``, which never starts
PyTensor's C backend): a first ``decenter.plan`` in a fresh process, compile cache warm, for
every corpus model, one process per model and form; prints JSON lines (docs/benchmarks.md,
"Wall clock of the first call"; the Python form is what models of at most
``decenter.auto.laplace.PY_FIT_MAX`` elements already get).

    PYTHONPATH=src python docs/py_fit_size.py [MODEL ...] > docs/py_fit_size_1206.jsonl
    PYTHONPATH=src python docs/py_fit_size.py --warm MODEL ...

``--warm``: in one process that has already started C (radon's plan first), each model's plan
in both forms, alternating, median of 5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings


def _one(name: str, form: str) -> dict:
    warnings.simplefilter("ignore")
    import numpy as np

    import decenter
    import decenter.auto.laplace as laplace
    from decenter.examples.corpus import CORPUS

    if form == "python":
        laplace.PY_FIT_MAX = 10**12
    model = CORPUS[name]()
    # the fit's count: free values' sizes and observed data sizes
    free = sum(np.size(v) for v in model.initial_point().values())
    data = sum(int(np.size(model.rvs_to_values[o].data)) for o in model.observed_RVs)
    t = time.perf_counter()
    decenter.plan(model, progressbar=False)
    seconds = round(time.perf_counter() - t, 3)
    return {"model": name, "form": form, "elements": int(free + data), "plan_s": seconds}


def warm(names: list[str]) -> None:
    warnings.simplefilter("ignore")
    import numpy as np

    import decenter
    import decenter.auto.laplace as laplace
    from decenter.examples.corpus import CORPUS
    from decenter.examples.real import radon

    bound = laplace.PY_FIT_MAX
    decenter.plan(radon(), progressbar=False)
    for name in names:
        model = CORPUS[name]()
        seconds = {"c": [], "python": []}
        for _ in range(5):
            for form in seconds:
                laplace.PY_FIT_MAX = 10**12 if form == "python" else bound
                t = time.perf_counter()
                decenter.plan(model, progressbar=False)
                seconds[form].append(time.perf_counter() - t)
        medians = {f: round(float(np.median(v)), 3) for f, v in seconds.items()}
        print(json.dumps({"model": name, "warm": True, **medians}), flush=True)
    laplace.PY_FIT_MAX = bound


def main(names: list[str]) -> None:
    if not names:
        from decenter.examples.corpus import CORPUS

        names = list(CORPUS)
    for name in names:
        for form in ("c", "python"):
            out = subprocess.run(
                [sys.executable, __file__, "--one", name, form],
                capture_output=True,
                text=True,
                check=True,
                env=os.environ,
            )
            print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(_one(sys.argv[2], sys.argv[3])))
    elif sys.argv[1:2] == ["--warm"]:
        warm(sys.argv[2:])
    else:
        main(sys.argv[1:])
