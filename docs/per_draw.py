"""The default's gain per gradient over the better fixed form, split into a gain per draw and
a gain in steps per draw.

    python docs/per_draw.py FILE ...     # the files of docs/corpus_table.py

The same rows as docs/corpus_table.py (a later file's run replaces an earlier one of the same
model, form and seed). Per model, over the seeds all three forms have: default / better fixed
form in min ESS per gradient (``summarize``'s ratio), in min ESS per draw, and the better
form's leapfrog steps per draw over the default's (the product of the last two is about the
first). ESS per draw is what a user feels where the compile, not the sampling, sets the
seconds (small models); ESS per gradient where the sampling does.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from median_ci import FORMS, load_rows  # noqa: E402


def split(runs: dict[str, dict[int, dict]]) -> tuple[str, float, float, float]:
    """(better form, per gradient, per draw, steps): medians over the common seeds."""
    seeds = sorted(set.intersection(*(set(runs[f]) for f in FORMS)))

    def med(form, key):
        return float(np.median([key(runs[form][s]) for s in seeds]))

    def per_draw(r):
        return r["ess_min"] / (r["chains"] * r["draws"])

    def steps(r):
        return r["grads"] / (r["chains"] * r["draws"])

    grad = {f: med(f, lambda r: r["ess_per_grad"]) for f in FORMS}
    best = max(("centered", "noncentered"), key=grad.get)
    return (
        best,
        grad["auto"] / grad[best],
        med("auto", per_draw) / med(best, per_draw),
        med(best, steps) / med("auto", steps),
    )


def main(paths: list[str]) -> None:
    rows = sorted(((m, *split(f)) for m, f in load_rows(paths).items()), key=lambda r: r[2])
    print("| model | better form | per gradient | per draw | steps, better / default |")
    print("|---|---|---|---|---|")
    for m, best, grad, draw, steps in rows:
        print(f"| {m} | {best} | {grad:.2f} | {draw:.2f} | {steps:.2f} |")
    cols = np.array([r[2:] for r in rows])
    med = np.median(cols, axis=0)
    print(
        f"\n{len(rows)} models; medians: per gradient {med[0]:.2f}, per draw {med[1]:.2f}, "
        f"steps {med[2]:.2f}; per draw below 0.9: {int((cols[:, 1] < 0.9).sum())}, "
        f"at 1.3 or more: {int((cols[:, 1] >= 1.3).sum())}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
