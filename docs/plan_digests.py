"""The digest of the default's plan on every model the project has, to show that a change
to how the fit is built leaves every plan the same to the last bit.

    python docs/plan_digests.py before.json      # at the old commit
    python docs/plan_digests.py after.json       # at the new one
    python docs/plan_digests.py --compare before.json after.json

76 models: the 12 real ones, the 34 corpus models, the 12 corpus-fresh ones, the 6 of
docs/glmm_fresh.py and the 6 of docs/zsn_fresh.py, and the wide models of
``decenter.bench.scaling`` at n = 20, 70 and 150, with and without data.
``decenter.bench.prep.plan_digest`` hashes every decision's action, lam and unit.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def models() -> dict:
    import glmm_fresh
    import zsn_fresh

    from decenter.bench.scaling import wide_model
    from decenter.examples.corpus import CORPUS, FRESH
    from decenter.examples.real import REAL_SUITE

    out = {f"real/{k}": v for k, v in REAL_SUITE.items()}
    out.update({f"corpus/{k}": v for k, v in CORPUS.items()})
    out.update({f"fresh/{k}": v for k, v in FRESH.items()})
    out.update({f"glmm/{k}": v for k, v in glmm_fresh.MODELS.items()})
    out.update({f"zsn/{k}": v for k, v in zsn_fresh.MODELS.items()})
    for n in (20, 70, 150):
        out[f"wide/{n}"] = lambda n=n: wide_model(n, observed=False)
        out[f"wide_obs/{n}"] = lambda n=n: wide_model(n, observed=True)
    return out


def main(path: str) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    import decenter
    from decenter.bench.prep import plan_digest
    from decenter.diagnose.sample import _jsonable

    out = {}
    for name, make in models().items():
        t = time.perf_counter()
        plan = decenter.plan(make(), progressbar=False)
        digest = plan_digest(json.loads(json.dumps(plan.to_dict(), default=_jsonable)))
        out[name] = [digest, round(time.perf_counter() - t, 2)]
        print(name, *out[name], flush=True)
    Path(path).write_text(json.dumps(out, indent=0))


def compare(a: str, b: str) -> None:
    before, after = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    differ = [k for k in before if before[k][0] != after.get(k, [None])[0]]
    print(f"{len(before)} models; plans that differ: {differ or 'none'}")


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1])
