"""``decenter bench``: centered vs. non-centered vs. ``auto`` (vs. VIP) on the example suite.

For every model of :data:`decenter.examples.suite.SUITE`, strategy and seed, the model is
transformed, compiled and sampled with nutpie, and the run reports

* ``ess_per_grad``: minimum bulk ESS over the original variables (every element) divided by
  the gradient evaluations of the sampling phase (``n_steps``), the hardware-free efficiency;
* ``ess_per_s``: the same ESS per wall-clock second of transform (pilot included), compile
  and sampling;
* ``divergences`` (sampling phase), ``rhat_max``, and the gradient counts of tuning and of
  the ``auto`` pilot.

The summary gives the median and range over seeds, and for ``auto`` the ratio to the better
of centered and non-centered.

Examples
--------
>>> from decenter.bench import run_one
>>> r = run_one("eight_schools", "noncentered", seed=1, draws=200, tune=200, chains=2)
>>> sorted(r)[:4]
['chains', 'divergences', 'draws', 'ess_min']

From the shell: ``decenter bench --models eight_schools --seeds 1 2`` (or
``python -m decenter.bench ...``, the same command).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np

__all__ = ["run", "run_one", "summarize", "format_table"]

STRATEGIES = ("centered", "noncentered", "auto", "vip")
#: ADVI steps of the VIP fit (pm.fit's default, as in the pymc-extras example)
VIP_ADVI_STEPS = 10_000


def _vip_available() -> bool:
    try:
        import pymc_extras.model.transforms.autoreparam  # noqa: F401
    except Exception:
        return False
    return True


def _prepare(model, strategy: str, seed: int):
    """The model to sample for a strategy, and the pilot gradient count."""
    import decenter

    if strategy == "centered":
        return model, 0, {}
    if strategy == "noncentered":
        return decenter.transform(model), 0, {}
    if strategy == "auto":
        new, plan = decenter.transform(model, strategy="auto", random_seed=seed, return_plan=True)
        notes = plan.notes
        m = re.search(r"(\d+) gradient evaluations", " ".join(notes))
        return new, int(m.group(1)) if m else 0, {"notes": notes}
    if strategy == "vip":
        from pymc_extras.model.transforms.autoreparam import vip_reparametrize

        # VIP needs the names from the user: give it decenter's candidates
        names = [d.name for d in decenter.plan(model).rewrites]
        new, vip = vip_reparametrize(model, names)
        with new, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vip.set_all_lambda(0.5)  # as in the pymc-extras docs
            vip.fit(n=VIP_ADVI_STEPS, random_seed=seed, progressbar=False)
        lam = {k: np.asarray(v).round(2).tolist() for k, v in vip.get_lambda().items()}
        # ADVI draws one Monte Carlo sample per step: one gradient each
        return new, VIP_ADVI_STEPS, {"vip_lambda": lam}
    raise ValueError(f"unknown strategy {strategy!r}; choose from {STRATEGIES}")


def run_one(
    model_name: str, strategy: str, *, seed: int, draws: int, tune: int, chains: int
) -> dict:
    """Transform, compile and sample one suite model with one strategy; return the metrics."""
    import arviz as az
    import nutpie

    from decenter.examples.suite import SUITE

    model = SUITE[model_name]()
    original = [rv.name for rv in model.free_RVs]
    t0 = time.perf_counter()
    new, pilot_grads, extra = _prepare(model, strategy, seed)
    t_transform = time.perf_counter() - t0
    compiled = nutpie.compile_pymc_model(new, var_names=original)
    trace = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=min(chains, 2),
        seed=seed,
        progress_bar=False,
        save_warmup=True,
    )
    seconds = time.perf_counter() - t0
    post = trace.posterior.to_dataset()[original]
    ess = az.ess(post, method="bulk")
    rhat = az.rhat(post)
    ess_min = float(min(np.nanmin(ess[v].values) for v in original))
    rhat_max = float(max(np.nanmax(rhat[v].values) for v in original))
    grads = int(trace.sample_stats["n_steps"].sum())
    tune_grads = int(trace.warmup_sample_stats["n_steps"].sum()) if tune else 0
    return {
        "model": model_name,
        "strategy": strategy,
        "seed": seed,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "ess_min": ess_min,
        "grads": grads,
        "tune_grads": tune_grads,
        "pilot_grads": pilot_grads,
        "ess_per_grad": ess_min / grads,
        "ess_per_grad_total": ess_min / (grads + tune_grads + pilot_grads),
        "seconds": seconds,
        "transform_seconds": t_transform,
        "ess_per_s": ess_min / seconds,
        "divergences": int(np.asarray(trace.sample_stats["diverging"]).sum()),
        "rhat_max": rhat_max,
        **extra,
    }


def summarize(results: Sequence[dict]) -> list[dict]:
    """Median and range over seeds per (model, strategy), with auto's ratio to the better one."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["model"], r["strategy"]), []).append(r)
    rows = []
    for (model, strategy), rs in groups.items():
        row = {"model": model, "strategy": strategy, "n": len(rs)}
        for key in (
            "ess_per_grad",
            "ess_per_grad_total",
            "ess_per_s",
            "divergences",
            "rhat_max",
            "seconds",
        ):
            vals = np.array([r[key] for r in rs], dtype=float)
            row[key] = float(np.median(vals))
            row[key + "_range"] = (float(vals.min()), float(vals.max()))
        rows.append(row)
    by = {(r["model"], r["strategy"]): r for r in rows}
    for row in rows:
        c, nc = by.get((row["model"], "centered")), by.get((row["model"], "noncentered"))
        if c and nc:
            best = max(c, nc, key=lambda r: r["ess_per_grad"])
            row["vs_best"] = row["ess_per_grad"] / best["ess_per_grad"]
            row["best"] = best["strategy"]
            row["extra_divergences"] = row["divergences"] - best["divergences"]
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """A Markdown table of :func:`summarize` rows (drawn by :mod:`decenter.render`)."""
    from decenter.render import table_text

    head = [
        "model",
        "strategy",
        "ESS/grad x1000 (range)",
        "x best of C/NC",
        "ESS/grad incl. tune+pilot x1000",
        "ESS/s (range)",
        "seconds",
        "divergences (max)",
        "max R-hat",
    ]
    body = []
    for r in rows:
        lo, hi = r["ess_per_grad_range"]
        slo, shi = r["ess_per_s_range"]
        body.append(
            [
                r["model"],
                r["strategy"],
                f"{1000 * r['ess_per_grad']:.1f} ({1000 * lo:.1f}-{1000 * hi:.1f})",
                f"{r['vs_best']:.2f}" if "vs_best" in r else "",
                f"{1000 * r['ess_per_grad_total']:.1f}",
                f"{r['ess_per_s']:.0f} ({slo:.0f}-{shi:.0f})",
                f"{r['seconds']:.1f}",
                f"{r['divergences']:.0f} ({r['divergences_range'][1]:.0f})",
                f"{r['rhat_max']:.3f}",
            ]
        )
    return table_text(head, body, markdown=True)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark (options checked by ``decenter bench``); print a Markdown table."""
    from decenter._progress import stage

    strategies = list(args.strategies)
    if "vip" in strategies and not _vip_available():
        print("vip: pymc-extras is not installed (or does not import); skipped", file=sys.stderr)
        strategies.remove("vip")
    show = not getattr(args, "no_progress", False)
    results: list[dict] = []
    total, done = len(args.models) * len(args.seeds) * len(strategies), 0
    for model in args.models:
        for seed in args.seeds:
            for strategy in strategies:
                done += 1
                with (
                    stage(f"[{done}/{total}] {model} {strategy} seed={seed}", enabled=show),
                    warnings.catch_warnings(),
                ):
                    warnings.simplefilter("ignore")
                    r = run_one(
                        model,
                        strategy,
                        seed=seed,
                        draws=args.draws,
                        tune=args.tune,
                        chains=args.chains,
                    )
                results.append(r)
                print(
                    f"{model:14s} {strategy:12s} seed={seed} ess/grad={1000 * r['ess_per_grad']:.1f}e-3 "
                    f"ess/s={r['ess_per_s']:.0f} div={r['divergences']} rhat={r['rhat_max']:.3f} "
                    f"t={r['seconds']:.1f}s",
                    file=sys.stderr,
                    flush=True,
                )
                if args.json:
                    _dump(args.json, args, results)
    rows = summarize(results)
    print(format_table(rows))
    if args.json:
        _dump(args.json, args, results, rows)
    return 0


def _dump(
    path: str, args: argparse.Namespace, results: list[dict], rows: list[dict] | None = None
) -> None:
    with open(path, "w") as f:
        json.dump(
            {
                "args": {k: v for k, v in vars(args).items() if not callable(v)},
                "runs": results,
                "summary": rows or summarize(results),
            },
            f,
            indent=1,
        )


if __name__ == "__main__":  # `python -m decenter.bench ...` is `decenter bench ...`
    from decenter.cli import main

    raise SystemExit(main(["bench", *sys.argv[1:]]))
