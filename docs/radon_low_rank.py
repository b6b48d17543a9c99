"""Radon's min ESS per draw under nutpie's diagonal and low-rank mass matrices (issue 28's stretch).

    python docs/radon_low_rank.py [SEEDS ...]      # default seeds 1 2 3; a table on stdout

The model as written (centered), ``transform(model, strategy="noncentered")`` and the default
(``transform(model)``), each compiled once with nutpie and sampled with ``adaptation="diag"``
(nutpie's default) and ``"low_rank"`` (a diagonal mass matrix modified by the leading
eigenvectors of the draws' and gradients' covariance), 4 chains x 1000 draws after 1000 tune.
Min bulk ESS over every element of radon's original free variables, per draw (of 4,000) and
per gradient evaluation; divergences; the variable with the smallest ESS. docs/benchmarks.md,
"Radon's ESS per draw and the mass matrix".
"""

from __future__ import annotations

import sys
import warnings

import arviz as az
import numpy as np

import decenter
from decenter.examples import radon

warnings.filterwarnings("ignore")


def _min_ess(idata, names: list[str]) -> tuple[float, str]:
    ess = az.ess(idata, var_names=names, method="bulk").to_dataset()
    per_var = {n: float(np.min(ess[n].values)) for n in names}
    worst = min(per_var, key=per_var.get)
    return per_var[worst], worst


def main(seeds: list[int]) -> None:
    import nutpie

    model = radon.centered_model()
    names = [rv.name for rv in model.free_RVs]
    forms = {
        "centered": model,
        "noncentered": decenter.transform(model, strategy="noncentered"),
        "default": decenter.transform(model),
    }
    print("| form | mass matrix | min ESS per draw (seeds) | ESS/grad x1000 (median) | divergences | worst |")
    print("|---|---|---|---|---|---|")
    for form, m in forms.items():
        compiled = nutpie.compile_pymc_model(m)
        for adaptation in ("diag", "low_rank"):
            per_draw, per_grad, div, worst = [], [], 0, []
            for seed in seeds:
                idata = nutpie.sample(
                    compiled, draws=1000, tune=1000, chains=4, seed=seed,
                    adaptation=adaptation, progress_bar=False,
                )  # fmt: skip
                ess, w = _min_ess(idata, names)
                grads = float(idata.sample_stats["n_steps"].sum())
                per_draw.append(ess / 4000)
                per_grad.append(1000 * ess / grads)
                div += int(idata.sample_stats["diverging"].sum())
                worst.append(w)
            draws = " / ".join(f"{v:.2f}" for v in per_draw)
            print(
                f"| {form} | {adaptation} | {draws} | {np.median(per_grad):.1f} | {div} | "
                f"{', '.join(sorted(set(worst)))} |"
            )


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [1, 2, 3])
