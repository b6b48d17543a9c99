"""``decenter bench``: centered vs. non-centered vs. default vs. ``auto`` (vs. VIP).

Two suites: ``synthetic`` (:data:`decenter.examples.suite.SUITE`, simulated data) and ``real``
(:data:`decenter.examples.real.REAL_SUITE`, public models and data). For every model,
strategy and seed, the model is transformed, compiled and sampled with nutpie (``auto``:
``decenter.sample`` end to end when it exists), and the run reports

* ``ess_per_grad``: minimum bulk ESS over the original variables (every element) divided by
  the gradient evaluations of the sampling phase (``n_steps``), the hardware-free efficiency;
* ``ess_per_s``: the same ESS per wall-clock second of transform (pilot included), compile
  and sampling;
* ``divergences`` (sampling phase), ``rhat_max``, and the gradient counts of tuning and of
  the ``auto`` pilot.

The summary gives the median and range over seeds and the ratios to the original (centered)
and to the better of centered and non-centered; :func:`targets` checks issue 12's targets.

Examples
--------
>>> from decenter.bench import run_one
>>> r = run_one("eight_schools", "noncentered", seed=1, draws=200, tune=200, chains=2)
>>> r["strategy"], r["divergences"] >= 0, r["ess_per_grad"] > 0
('noncentered', True, True)

From the shell: ``decenter bench --models eight_schools --seeds 1 2`` or
``decenter bench --suite real --seeds 1 2 3 --json real.json`` (``python -m decenter.bench``
is the same command).
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

__all__ = [
    "run",
    "run_one",
    "run_suite",
    "summarize",
    "targets",
    "format_table",
]

STRATEGIES = ("centered", "noncentered", "default", "auto", "vip")
SUITES = ("synthetic", "real")
#: ADVI steps of the VIP fit (pm.fit's default, as in the pymc-extras example)
VIP_ADVI_STEPS = 10_000


def _vip_available() -> bool:
    try:
        import pymc_extras.model.transforms.autoreparam  # noqa: F401
    except Exception:
        return False
    return True


def _lookup(model_name: str, suite: str | None = None):
    """The model function of a name: in the given suite, else the synthetic then the real suite."""
    from decenter.examples.real import REAL_SUITE
    from decenter.examples.suite import SUITE

    suites = {"synthetic": SUITE, "real": REAL_SUITE}
    if suite is not None and suite not in suites:
        raise ValueError(f"unknown suite {suite!r}; choose from {SUITES}")
    for name in [suite] if suite else list(suites):
        if model_name in suites[name]:
            return suites[name][model_name]
    known = sorted(set(SUITE) | set(REAL_SUITE))
    raise ValueError(f"unknown model {model_name!r}; choose from {known}")


def _suite_models(suite: str) -> list[str]:
    from decenter.examples.real import REAL_SUITE
    from decenter.examples.suite import SUITE

    return list(REAL_SUITE if suite == "real" else SUITE)


def _pilot_grads(notes) -> int:
    m = re.search(r"(\d+) gradient evaluations", " ".join(str(n) for n in notes))
    return int(m.group(1)) if m else 0


def _prepare(model, strategy: str, seed: int):
    """The model to sample for a strategy, and the pilot gradient count."""
    import decenter

    if strategy == "centered":
        return model, 0, {}
    if strategy == "noncentered":
        return decenter.transform(model, strategy="noncentered"), 0, {}
    if strategy in ("default", "auto"):
        # "default": transform with no options, as a new user calls it
        kw = {} if strategy == "default" else {"strategy": "auto", "random_seed": seed}
        new, plan = decenter.transform(model, return_plan=True, **kw)
        notes = list(plan.notes)
        extra = {"notes": notes, "plan_strategy": plan.strategy}
        return new, _pilot_grads(notes), extra
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


def _compile(model, original):
    import nutpie

    return nutpie.compile_pymc_model(model, var_names=original)


def _sample_nutpie(compiled, *, seed, draws, tune, chains):
    """Sample a nutpie-compiled model; the trace keeps the warm-up statistics."""
    import nutpie

    return nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=min(chains, 2),
        seed=seed,
        progress_bar=False,
        save_warmup=True,
    )


#: strategies whose transformed model does not depend on the seed: compiled once per model
_SEED_FREE = ("centered", "noncentered", "default")


def _sample_end_to_end(model, *, seed, draws, tune, chains):
    """``decenter.sample(model, strategy="auto")`` with nutpie: pilot, transform and sampling."""
    import decenter

    idata = decenter.sample(
        model,
        strategy="auto",
        random_seed=seed,
        nuts_sampler="nutpie",
        draws=draws,
        tune=tune,
        chains=chains,
        cores=min(chains, 2),
        progressbar=False,
    )
    # the plan is recorded in the posterior's attributes (or the top level's)
    attrs = {**getattr(idata, "attrs", {}), **idata.posterior.attrs}
    text = json.dumps({k: v for k, v in attrs.items() if "decenter" in k}, default=str)
    m = re.search(r"(\d+) gradient evaluations", text)
    extra = {"end_to_end": True, "summary": attrs.get("decenter_summary")}
    return idata, (int(m.group(1)) if m else 0), extra


def run_one(
    model_name: str,
    strategy: str,
    *,
    seed: int,
    draws: int,
    tune: int,
    chains: int,
    suite: str | None = None,
    cache: dict | None = None,
) -> dict:
    """Transform, compile and sample one suite model with one strategy; return the metrics.

    ``seconds`` is end to end: transform (pilot or fit included), compile and sampling.
    ``auto`` goes through ``decenter.sample`` when the package has it. With a ``cache`` dict,
    the seed-free strategies (centered, noncentered, default) transform and compile once per
    model; later seeds count the first one's transform and compile seconds in ``seconds``.
    """
    import arviz as az

    import decenter

    model = _lookup(model_name, suite)()
    original = [rv.name for rv in model.free_RVs]
    t0 = time.perf_counter()
    if strategy == "auto" and hasattr(decenter, "sample"):
        trace, pilot_grads, extra = _sample_end_to_end(
            model, seed=seed, draws=draws, tune=tune, chains=chains
        )
        t_transform = t_compile = float("nan")
        seconds = time.perf_counter() - t0
    else:
        key = (model_name, strategy)
        if cache is not None and strategy in _SEED_FREE and key in cache:
            compiled, pilot_grads, extra, t_transform, t_compile = cache[key]
        else:
            new, pilot_grads, extra = _prepare(model, strategy, seed)
            t_transform = time.perf_counter() - t0
            compiled = _compile(new, original)
            t_compile = time.perf_counter() - t0 - t_transform
            if cache is not None and strategy in _SEED_FREE:
                cache[key] = (compiled, pilot_grads, extra, t_transform, t_compile)
        t1 = time.perf_counter()
        trace = _sample_nutpie(compiled, seed=seed, draws=draws, tune=tune, chains=chains)
        seconds = t_transform + t_compile + time.perf_counter() - t1
    post = trace.posterior.to_dataset()[original]
    ess = az.ess(post, method="bulk")
    rhat = az.rhat(post)
    ess_min = float(min(np.nanmin(ess[v].values) for v in original))
    rhat_max = float(max(np.nanmax(rhat[v].values) for v in original))
    grads = int(trace.sample_stats["n_steps"].sum())
    warm = getattr(trace, "warmup_sample_stats", None)
    tune_grads = int(warm["n_steps"].sum()) if tune and warm is not None else 0
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
        "compile_seconds": t_compile,
        "ess_per_s": ess_min / seconds,
        "divergences": int(np.asarray(trace.sample_stats["diverging"]).sum()),
        "rhat_max": rhat_max,
        **extra,
    }


_KEYS = ("ess_min", "ess_per_grad", "ess_per_grad_total", "ess_per_s", "divergences")
_KEYS += ("rhat_max", "seconds")


def summarize(results: Sequence[dict]) -> list[dict]:
    """Median and range over seeds per (model, strategy), with ratios to the fixed forms.

    Every row has the median and ``_range`` of each metric and ``divergences_total`` (sum over
    seeds). Rows of a model that has centered and non-centered runs also get ``best`` (the
    better fixed form by ESS/grad), ``vs_best`` (ESS/grad ratio), ``vs_original`` (ESS/grad
    ratio to centered), ``ess_per_s_vs_best`` (ESS/s ratio), ``seconds_vs_noncentered`` (wall
    ratio) and ``extra_divergences`` (total over seeds minus the better fixed form's).
    """
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["model"], r["strategy"]), []).append(r)
    rows = []
    for (model, strategy), rs in groups.items():
        row = {"model": model, "strategy": strategy, "n": len(rs)}
        for key in _KEYS:
            vals = np.array([r[key] for r in rs], dtype=float)
            row[key] = float(np.median(vals))
            row[key + "_range"] = (float(vals.min()), float(vals.max()))
        row["divergences_total"] = int(sum(r["divergences"] for r in rs))
        rows.append(row)
    by = {(r["model"], r["strategy"]): r for r in rows}
    for row in rows:
        c, nc = by.get((row["model"], "centered")), by.get((row["model"], "noncentered"))
        if c and nc:
            best = max(c, nc, key=lambda r: r["ess_per_grad"])
            row["best"] = best["strategy"]
            row["vs_best"] = row["ess_per_grad"] / best["ess_per_grad"]
            row["vs_original"] = row["ess_per_grad"] / c["ess_per_grad"]
            row["ess_per_s_vs_best"] = row["ess_per_s"] / max(c["ess_per_s"], nc["ess_per_s"])
            row["seconds_vs_noncentered"] = row["seconds"] / nc["seconds"]
            row["extra_divergences"] = row["divergences_total"] - best["divergences_total"]
    return rows


def targets(rows: Sequence[dict], large: Sequence[str] = ("chem97",)) -> list[dict]:
    """The issue-12 targets per model, as plain data (``None`` where a run is missing).

    * ``default_vs_original`` >= 0.9 and ``default_vs_best`` >= 0.8 (median ESS/grad);
    * ``default_extra_divergences`` <= 5 (total over seeds, vs. the better fixed form);
    * small models: ``auto_seconds_vs_nc`` <= 1.6 (end-to-end wall, vs. non-centered);
    * large models: ``auto_ess_per_s_vs_best`` >= 2.
    """
    by = {(r["model"], r["strategy"]): r for r in rows}
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        d, a = by.get((model, "default"), {}), by.get((model, "auto"), {})
        t = {
            "model": model,
            "default_vs_original": d.get("vs_original"),
            "default_vs_best": d.get("vs_best"),
            "default_extra_divergences": d.get("extra_divergences"),
            "auto_vs_best": a.get("vs_best"),
            "auto_seconds_vs_nc": a.get("seconds_vs_noncentered"),
            "auto_ess_per_s_vs_best": a.get("ess_per_s_vs_best"),
        }
        ok = [
            _at_least(t["default_vs_original"], 0.9),
            _at_least(t["default_vs_best"], 0.8),
            None if t["default_extra_divergences"] is None else t["default_extra_divergences"] <= 5,
        ]
        if model in large:
            ok.append(_at_least(t["auto_ess_per_s_vs_best"], 2.0))
        else:
            sec = t["auto_seconds_vs_nc"]
            ok.append(None if sec is None else sec <= 1.6)
        t["met"] = None if None in ok else all(ok)
        out.append(t)
    return out


def _at_least(value, threshold):
    return None if value is None else value >= threshold


def _warm_up() -> None:
    """Compile and sample a one-variable model first, so that the one-time costs of a process
    (imports, numba's and PyTensor's first compilations) are not charged to whichever
    strategy happens to run first (eight schools' non-centered run took 7.5 s first, 2.1 s
    after other runs)."""
    import pymc as pm

    try:
        import nutpie
    except ImportError:  # run_one says what to install
        return
    with pm.Model() as tiny:
        pm.Normal("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = nutpie.compile_pymc_model(tiny)
        nutpie.sample(compiled, draws=10, tune=10, chains=1, progress_bar=False)


def run_suite(
    models: Sequence[str],
    strategies: Sequence[str],
    seeds: Sequence[int],
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    suite: str | None = None,
    progressbar: bool = True,
    on_result=None,
) -> list[dict]:
    """Every (model, seed, strategy) run of :func:`run_one`; a line per run on stderr.

    ``on_result(results)`` is called after each run (for example to save JSON as it goes).
    """
    strategies = list(strategies)
    if "vip" in strategies and not _vip_available():
        print("vip: pymc-extras is not installed (or does not import); skipped", file=sys.stderr)
        strategies.remove("vip")
    from decenter._progress import stage

    results: list[dict] = []
    cache: dict = {}
    total = len(models) * len(seeds) * len(strategies)
    _warm_up()
    for model in models:
        for seed in seeds:
            for strategy in strategies:
                label = f"[{len(results) + 1}/{total}] {model} {strategy} seed={seed}"
                with stage(label, enabled=progressbar), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = run_one(
                        model,
                        strategy,
                        seed=seed,
                        draws=draws,
                        tune=tune,
                        chains=chains,
                        suite=suite,
                        cache=cache,
                    )
                results.append(r)
                if progressbar:
                    print(
                        f"{model:14s} {strategy:12s} seed={seed} "
                        f"ess/grad={1000 * r['ess_per_grad']:.1f}e-3 ess/s={r['ess_per_s']:.0f} "
                        f"div={r['divergences']} rhat={r['rhat_max']:.3f} t={r['seconds']:.1f}s",
                        file=sys.stderr,
                        flush=True,
                    )
                if on_result is not None:
                    on_result(results)
        cache.clear()  # one model's compiled functions at a time
    return results


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

    def save(results):
        if args.json:
            _dump(args.json, args, results)

    suite = getattr(args, "suite", None)
    models = args.models or list(_suite_models(suite or "synthetic"))
    results = run_suite(
        models,
        args.strategies,
        args.seeds,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        suite=suite,
        progressbar=not getattr(args, "no_progress", False),
        on_result=save,
    )
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
                "targets": targets(rows or summarize(results)),
            },
            f,
            indent=1,
        )


if __name__ == "__main__":  # `python -m decenter.bench ...` is `python -m decenter bench ...`
    import runpy

    # run the command line as a program rather than importing decenter.cli from this lower
    # level (which would make a bench -> cli -> bench import cycle)
    sys.argv = ["decenter", "bench", *sys.argv[1:]]
    runpy.run_module("decenter", run_name="__main__", alter_sys=True)
