"""Measure decenter.verify's false alarms on generated equivalent pairs (docs/verification.md).

Every model drawn by ``strategies.model_specs`` (hierarchies of every registered scalar
family, with vague ``exp(Normal(0, 100))`` scales among others) is transformed by decenter,
which gives an equivalent pair; any verdict but "equivalent" is a false alarm (or a bug).
Run from the repository root (takes ~15 min on a busy 2-core machine)::

    PYTHONPATH=src:tests nice -n 10 python tests/measure_false_alarms.py 250 > false_alarms.jsonl

(``measure_false_alarms.py 250 125`` runs examples 125..249 only, to split the run in two.)

One JSON line per model, then a summary line.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

from hypothesis import HealthCheck, Phase, given, settings

import decenter
from strategies import build_model, fast_verify, model_specs

N = int(sys.argv[1]) if len(sys.argv) > 1 else 250
START = int(sys.argv[2]) if len(sys.argv) > 2 else 0  # skip the first examples (to split a run)
results: list[dict] = []
seen = [0]


@settings(
    max_examples=N,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(spec=model_specs())
def run(spec):
    i = seen[0]
    seen[0] += 1
    if i < START:
        return
    m = build_model(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = decenter.transform(m)
        t0 = time.perf_counter()
        with fast_verify() as verify:
            report = verify(m, new, random_seed=i, n_points=8, draws=1000)
    row = {
        "i": i,
        "verdict": report.verdict,
        "status": {c.name: c.status for c in report.checks},
        "p_min": report["distribution"].figure,
        "rewrites": len(decenter.plan(m).rewrites),
        "scales": sorted({lv.scale for lv in spec.levels}),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if report.verdict != "equivalent":
        row["report"] = str(report)
        row["spec"] = repr(spec)
    results.append(row)
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    run()
    n = len(results)
    summary = {
        "models": n,
        "distribution_false_alarms": sum(r["status"]["distribution"] == "fail" for r in results),
        "not_equivalent": sum(r["verdict"] == "not equivalent" for r in results),
        "could_not_check": sum(r["verdict"] == "could not check" for r in results),
        "with_wide_scales": sum("wide" in r["scales"] for r in results),
    }
    print(json.dumps({"summary": summary}), flush=True)
