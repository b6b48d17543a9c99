"""How far the corpus median default / better fixed form is pinned down by six seeds.

    python docs/median_ci.py FILE ... [--reps N]     # the files of docs/corpus_table.py

The same rows as docs/corpus_table.py (a later file's run replaces an earlier one of the same
model, form and seed; ``summarize``'s ratios: the default's median min-ESS per gradient over
the better fixed form's median). A bootstrap over seeds: each replicate draws, per model, as
many seeds as it has with replacement (the same seeds for the three forms), and recomputes
every model's ratio and their median. Prints the median, its 90 % percentile interval, the
share of replicates at or above 1.3 (issue 28's target) and, per model, the interval of
default / original and default / better.
"""

from __future__ import annotations

import json
import sys

import numpy as np

FORMS = ("centered", "noncentered", "auto")


def load(paths: list[str]) -> dict[str, dict[str, dict[int, float]]]:
    """model -> form -> seed -> min ESS per gradient."""
    rows = load_rows(paths)
    return {
        m: {form: {seed: r["ess_per_grad"] for seed, r in by.items()} for form, by in f.items()}
        for m, f in rows.items()
    }


def load_rows(paths: list[str]) -> dict[str, dict[str, dict[int, dict]]]:
    """model -> form -> seed -> run row, for the models every form ran (a later file's run
    replaces an earlier one of the same model, form and seed)."""
    latest = {}
    for path in paths:
        with open(path) as f:
            latest.update({(r["model"], r["strategy"], r["seed"]): r for r in json.load(f)["runs"]})
    out: dict = {}
    for (model, form, seed), r in latest.items():
        if form in FORMS:
            out.setdefault(model, {}).setdefault(form, {})[seed] = r
    return {m: f for m, f in out.items() if all(k in f for k in FORMS)}


def ratios(ess: dict[str, dict[int, float]], seeds) -> tuple[float, float]:
    """(default / better, default / original) over ``seeds`` (medians per form)."""
    med = {form: np.median([ess[form][s] for s in seeds]) for form in FORMS}
    return med["auto"] / max(med["centered"], med["noncentered"]), med["auto"] / med["centered"]


def main(paths: list[str], reps: int = 2000) -> None:
    data = load(paths)
    rng = np.random.default_rng(28)
    seeds = {m: sorted(set.intersection(*(set(f[k]) for k in FORMS))) for m, f in data.items()}
    point = {m: ratios(data[m], seeds[m]) for m in data}
    boot = {m: [] for m in data}
    medians = []
    for _ in range(reps):
        row = []
        for m in data:
            r = ratios(data[m], rng.choice(seeds[m], size=len(seeds[m]), replace=True))
            boot[m].append(r)
            row.append(r[0])
        medians.append(np.median(row))
    lo, hi = np.percentile(medians, [5, 95])
    print(
        f"{len(data)} models, seeds per model {min(map(len, seeds.values()))}-"
        f"{max(map(len, seeds.values()))}: median default / better "
        f"{np.median([p[0] for p in point.values()]):.2f}, 90 % interval {lo:.2f}-{hi:.2f}, "
        f"replicates >= 1.3: {np.mean(np.asarray(medians) >= 1.3):.0%}"
    )
    for m in data:
        b = np.asarray(boot[m])
        (blo, bhi), (olo, ohi) = (np.percentile(b[:, i], [5, 95]) for i in (0, 1))
        print(
            f"  {m}: default / better {point[m][0]:.2f} ({blo:.2f}-{bhi:.2f}), "
            f"/ original {point[m][1]:.2f} ({olo:.2f}-{ohi:.2f})"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    reps = int(args[args.index("--reps") + 1]) if "--reps" in args else 2000
    files = [a for i, a in enumerate(args) if a != "--reps" and (i == 0 or args[i - 1] != "--reps")]
    main(files, reps)
