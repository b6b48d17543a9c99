"""What a machine's first use costs: radon's default and its non-centered model, each in new
processes on an empty PyTensor compile directory (``PYTENSOR_FLAGS=base_compiledir=<empty>``),
then again on the now filled one; then other models' plans on the default's directory, first
and second time (docs/benchmarks.md, "Wall clock of the first call").

    PYTHONPATH=src python docs/cold_cache.py [MODEL ...]   # default: sleepstudy pastes
                                                           #   grouseticks mathach
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def _radon(form: str) -> None:
    t0 = time.perf_counter()
    warnings.simplefilter("ignore")
    import nutpie

    import decenter
    from decenter.examples.real import radon

    model = radon()
    t1 = time.perf_counter()
    kwargs = {"progressbar": False} if form == "auto" else {"strategy": "noncentered"}
    new = decenter.transform(model, **kwargs)
    t2 = time.perf_counter()
    nutpie.compile_pymc_model(new)
    t3 = time.perf_counter()
    print(
        f"  import and build {t1 - t0:.1f} s, transform {t2 - t1:.1f} s, "
        f"nutpie compile {t3 - t2:.1f} s",
        flush=True,
    )


def _plans(names: list[str]) -> None:
    warnings.simplefilter("ignore")
    import decenter
    from decenter.examples.corpus import CORPUS
    from decenter.examples.real import REAL_SUITE

    for name in names:
        model = (CORPUS.get(name) or REAL_SUITE[name])()
        t = time.perf_counter()
        decenter.plan(model, progressbar=False)
        print(f"  {name}: plan {time.perf_counter() - t:.1f} s", flush=True)


def _child(directory: str, *args: str) -> None:
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={directory}"}
    subprocess.run([sys.executable, __file__, *args], env=env, check=True)


def _modules(directory: str) -> int:
    return sum(1 for _ in Path(directory).rglob("*.so"))


def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as auto, tempfile.TemporaryDirectory() as nc:
        for form, directory in (("auto", auto), ("noncentered", nc)):
            for when in ("empty compile directory", "the same directory again"):
                print(f"radon, {form}, {when}:", flush=True)
                _child(directory, "--radon", form)
        before = _modules(auto)
        print("other models' plans on the default's directory, first time:", flush=True)
        _child(auto, "--plans", *names)
        print(f"  C modules {before} -> {_modules(auto)}; second time:", flush=True)
        _child(auto, "--plans", *names)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--radon"]:
        _radon(sys.argv[2])
    elif sys.argv[1:2] == ["--plans"]:
        _plans(sys.argv[2:])
    else:
        main(sys.argv[1:] or ["sleepstudy", "pastes", "grouseticks", "mathach"])
