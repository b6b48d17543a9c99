"""The default's runs at another ``Z`` (``decenter.auto.Z``: how many Laplace standard
deviations of a scale's log the default lowers it by before choosing lam), by the bench's path,
the default only. One process per ``Z`` and set; the fixed forms' rows come from the stored
paired runs (docs/benchmarks.md, "The default's Z, measured on the corpus").

    python docs/z_sweep.py Z SET OUT.json [SEED ...]   # seeds 1-6 unless given

SET: ``corpus-dev``, ``corpus-heldout``, ``corpus-fresh`` (``decenter bench --suite SET
--strategies auto --draws 500 --tune 500``), ``glmm-fresh`` (``docs/glmm_fresh.py``'s six
models, 500 + 500), ``synthetic`` (the suite of docs/benchmarks.md's first table) or ``real``
(the real suite without verbagg and chem97; both 1000 + 1000, ``decenter bench``'s defaults).
Then, e.g.:

    python docs/corpus_table.py docs/corpus_paired_dev.json docs/corpus_seeds456_dev.json \\
        docs/z_sweep/dev_z3.json
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import decenter.auto
from decenter.cli import main

REAL = "eight_schools radon rugby surgical sleepstudy penicillin cbpp epilepsy exam dax_volatility"


def run(z: float, which: str, out: str, seeds: list[str]) -> int:
    decenter.auto.Z = z  # read at each plan (decenter.auto.choose_lams)
    seeds = seeds or [str(s) for s in range(1, 7)]
    if which == "glmm-fresh":
        here = Path(__file__).parent
        sys.path.insert(0, str(here))
        sys.argv = ["glmm_fresh.py", out, "--strategies", "auto", "--seeds", *seeds]
        runpy.run_path(str(here / "glmm_fresh.py"), run_name="__main__")
        return 0
    if which in ("real", "synthetic"):
        models = ["--models", *REAL.split()] if which == "real" else []
        args = ["--suite", which, *models, "--seeds", *seeds]
    else:
        args = ["--suite", which, "--seeds", *seeds, "--draws", "500", "--tune", "500"]
    return main(["bench", *args, "--strategies", "auto", "--json", out, "--no-progress"])


if __name__ == "__main__":
    z, which, out, *seeds = sys.argv[1:]
    raise SystemExit(run(float(z), which, out, seeds))
