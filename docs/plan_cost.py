"""Warm wall clock of ``decenter.plan`` on the real suite, two checkouts side by side.

    python docs/plan_cost.py /path/to/old/src src            # every model of the real suite
    python docs/plan_cost.py /path/to/old/src src radon rugby

For each model, one new process per checkout (alternated, so that both see the same machine)
builds the model, plans it once (warm: PyTensor's caches), then times ``repeats`` more plans
and prints their median; the first checkout is "before", the second "after". Also prints the
largest change of any lam between the two plans (same model, same data: only the fit's
arithmetic differs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

REPEATS = 5


def _child(name: str) -> None:
    import time
    import warnings

    warnings.filterwarnings("ignore")
    import decenter
    from decenter.examples.real import REAL_SUITE

    model = REAL_SUITE[name]()
    decenter.plan(model)
    seconds = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        p = decenter.plan(model)
        seconds.append(time.perf_counter() - t)
    # lam None: fully non-centered (lam 0)
    lams = {
        d.name: np.ravel(np.asarray(0.0 if d.lam is None else d.lam, float)).tolist()
        for d in p.rewrites
    }
    fit = p.fit.get("evaluations", "failed")  # no count: the fit failed (fallback)
    print(json.dumps({"seconds": seconds, "lams": lams, "evaluations": fit}))


def _run(src: str, name: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": src},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(before: str, after: str, names: list[str]) -> None:
    if not names:
        sys.path.insert(0, after)
        from decenter.examples.real import REAL_SUITE

        names = list(REAL_SUITE)
    print("| model | before s | after s | after / before | evaluations | max abs(d lam) |")
    print("|---|---|---|---|---|---|")
    for name in names:
        a, b = _run(before, name), _run(after, name)
        ta, tb = np.median(a["seconds"]), np.median(b["seconds"])
        dl = max(
            (np.max(np.abs(np.subtract(a["lams"][k], b["lams"][k]))) for k in a["lams"]),
            default=0.0,
        )
        ev = f"{a['evaluations']} / {b['evaluations']}"
        print(f"| {name} | {ta:.3f} | {tb:.3f} | {tb / ta:.2f} | {ev} | {dl:.1e} |", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2], sys.argv[3:])
