"""The "Real-model corpus" table of docs/benchmarks.md from a ``decenter bench --json`` file.

Per model: the default (``auto``, ``decenter.sample`` end to end) against the original
(centered) and the better fixed form, min bulk ESS per gradient, medians over seeds (with
``--per-second``, also against the better fixed form in ESS per second end to end, compile
and the default's fit included: meaningful only when all rows come from one run);
divergences summed over seeds per form; whether the issue-28 targets hold (default / original
>= 0.9, default / better >= 0.8, default divergences <= the fixed forms' fewer + 5 per three
seeds: + 10 when the files hold six seeds).

    python docs/corpus_table.py docs/corpus_dev_baseline.json
    python docs/corpus_table.py docs/corpus_dev_now.json docs/corpus_heldout.json  # both halves
    python docs/corpus_table.py docs/corpus_fresh.json --per-second  # the second held-out set
    python docs/corpus_table.py docs/corpus_paired_dev.json --per-second  # all 46 in one run:
    #   also corpus_paired_heldout.json, corpus_paired_fresh.json (paired seeds, one path)
    python docs/corpus_table.py docs/corpus_paired_dev.json docs/corpus_seeds456_dev.json
    #   seeds 1-6: medians over six seeds (the same code, two runs)
    python docs/corpus_table.py docs/corpus_seeds456_dev.json docs/corpus_mvn_seeds456_dev.json
    #   a later file's runs replace the earlier's of the same model, form and seed
"""

from __future__ import annotations

import json
import sys

import numpy as np

from decenter.bench import summarize
from decenter.examples.corpus import FRESH_PATTERN, PATTERN

PATTERNS = {**PATTERN, **FRESH_PATTERN}


def main(*paths: str, per_second: bool = False) -> None:
    latest = {}  # a later file's run replaces an earlier one of the same model, form and seed
    for path in paths:
        with open(path) as f:
            latest.update({(r["model"], r["strategy"], r["seed"]): r for r in json.load(f)["runs"]})
    runs = list(latest.values())
    by = {(r["model"], r["strategy"]): r for r in summarize(runs)}
    print(
        "| model | pattern | ESS/grad x1000 C / NC / default | default / original "
        "| default / better | divergences C / NC / default | targets |"
        + (" default / better, ESS/s end to end |" if per_second else "")
    )
    print("|---|---|---|---|---|---|---|" + ("---|" if per_second else ""))
    ratios, per_s = [], []
    for model in dict.fromkeys(r["model"] for r in runs):
        c, nc, d = (by.get((model, s)) for s in ("centered", "noncentered", "auto"))
        if not (c and nc and d):
            continue
        ess = " / ".join(f"{1000 * r['ess_per_grad']:.2f}" for r in (c, nc, d))
        div = [r["divergences_total"] for r in (c, nc, d)]
        fewer = min(div[:2])
        allowed = fewer + 5 * d["n"] / 3  # the target's + 5 is per three seeds
        ok = d["vs_original"] >= 0.9 and d["vs_best"] >= 0.8 and div[2] <= allowed
        why = [] if ok else _misses(d, div[2], allowed)
        ratios.append(d["vs_best"])
        best = "C" if d["best"] == "centered" else "NC"
        print(
            f"| {model} | {PATTERNS.get(model, "fresh")} | {ess} | {d['vs_original']:.2f} | "
            f"{d['vs_best']:.2f} ({best}) | {' / '.join(map(str, div))} | "
            f"{'met' if ok else 'missed: ' + ', '.join(why)} |"
            + (f" {d['ess_per_s_vs_best']:.2f} |" if per_second else "")
        )
        per_s.append(d["ess_per_s_vs_best"])
    print(f"\nmedian default / better over {len(ratios)} models: {np.median(ratios):.2f}")
    if per_second:
        print(
            f"end to end (ESS per second, compile and fit included): default >= the better "
            f"fixed form on {sum(r >= 1 for r in per_s)} of {len(per_s)}, median "
            f"{np.median(per_s):.2f}"
        )


def _misses(d: dict, div: int, allowed: float) -> list[str]:
    out = []
    if d["vs_original"] < 0.9:
        out.append("vs original")
    if d["vs_best"] < 0.8:
        out.append("vs better")
    if div > allowed:
        out.append("divergences")
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    main(*(a for a in args if a != "--per-second"), per_second="--per-second" in args)
