"""nutpie's compile time of the four corpus models with a partially centered MvNormal, for two
source trees side by side (docs/benchmarks.md, "The MvNormal partial form as a terminating
series").

    git worktree add /tmp/old 64eec8c
    python docs/mvn_compile.py 3 /tmp/old/src src > docs/mvn_series/compile.jsonl
    python docs/mvn_compile.py --table docs/mvn_series/compile.jsonl

Each repetition runs, for each model, one new process per form: the default's model built by
each tree (``default@<tree>``), then the non-centered model (built by the last tree). A
process times ``nutpie.compile_pymc_model`` (PyTensor's and numba's caches are warm after
the first repetition). The price per gradient is ``docs/grad_cost.py --nutpie``'s, run
with each tree on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

MODELS = {
    "chickweight": "corpus-dev",
    "mathach": "corpus-dev",
    "orthodont": "corpus-heldout",
    "loblolly": "corpus-fresh",
}


def child(name: str, form: str) -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    import nutpie

    import decenter
    from decenter.bench import suite_models

    model = suite_models(MODELS[name])[name]()
    if form == "noncentered":
        model = decenter.transform(model, strategy="noncentered")
    elif form.startswith("default"):
        model = decenter.transform(model)
    t = time.perf_counter()
    nutpie.compile_pymc_model(model)
    seconds = time.perf_counter() - t
    print(json.dumps(dict(model=name, form=form, compile_s=seconds)), flush=True)


def run(reps: int, trees: list[str]) -> None:
    for _ in range(reps):
        for name in MODELS:
            jobs = [(f"default@{t}", t) for t in trees]
            jobs.append(("noncentered", trees[-1]))
            for form, tree in jobs:
                env = {**os.environ, "PYTHONPATH": tree}
                cmd = [sys.executable, __file__, "--child", name, form]
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                print(out.stdout.strip().splitlines()[-1], flush=True)


def table(path: str) -> str:
    """Median compile seconds over the repetitions (range)."""
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    forms = list(dict.fromkeys(r["form"] for r in rows))
    out = ["| model | " + " | ".join(forms) + " |", "|---|" + "---|" * len(forms)]
    for name in MODELS:
        cells = []
        for form in forms:
            mine = [r for r in rows if r["model"] == name and r["form"] == form]
            s = [r["compile_s"] for r in mine]
            cells.append(f"{statistics.median(s):.2f} ({min(s):.2f}-{max(s):.2f})")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--table":
        print(table(sys.argv[2]))
    else:
        run(int(sys.argv[1]), sys.argv[2:])
