"""``decenter bench``: centered vs. non-centered vs. default vs. ``auto`` (vs. VIP).

Suites: ``synthetic`` (:data:`decenter.examples.suite.SUITE`, simulated data), ``real``
(:data:`decenter.examples.real.REAL_SUITE`, public models and data) and ``corpus``
(:data:`decenter.examples.corpus.CORPUS`; its halves ``corpus-dev`` and ``corpus-heldout``). For every model,
strategy and seed, the model is transformed and sampled as a user samples it,
``pm.sample(nuts_sampler="nutpie")`` (``auto``: ``decenter.sample``, which calls it), every
form with the same seed and the same path: a default that keeps the model as written samples
the centered form's very draws. The run reports

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
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np

from decenter.bench.prep import (  # noqa: F401  (STRATEGIES, VIP_ADVI_STEPS re-exported)
    STRATEGIES,
    VIP_ADVI_STEPS,
    _compiled,
    _prepare,
    _sample_end_to_end,
    _sample_nutpie,
    _sample_pm,
    _vip_available,
)
from decenter.bench.table import format_table, summarize, targets

__all__ = [
    "run",
    "run_one",
    "run_suite",
    "suite_models",
    "summarize",
    "targets",
    "format_table",
]

SUITES = ("synthetic", "real", "corpus", "corpus-dev", "corpus-heldout", "corpus-fresh")


def suite_models(suite: str) -> dict:
    """The model functions of a suite by name.

    ``corpus`` is :data:`decenter.examples.corpus.CORPUS`; ``corpus-dev`` and
    ``corpus-heldout`` are its development and held-out halves (sorted by name);
    ``corpus-fresh`` is the second held-out set, :data:`decenter.examples.corpus.FRESH`.

    Examples
    --------
    >>> from decenter.bench import suite_models
    >>> "radon" in suite_models("synthetic"), "rail" in suite_models("corpus-heldout")
    (True, True)
    """
    if suite == "synthetic":
        from decenter.examples.suite import SUITE

        return SUITE
    if suite == "real":
        from decenter.examples.real import REAL_SUITE

        return REAL_SUITE
    if suite == "corpus-fresh":
        from decenter.examples.corpus import FRESH

        return FRESH
    if suite in ("corpus", "corpus-dev", "corpus-heldout"):
        from decenter.examples.corpus import CORPUS, DEVELOPMENT, HELD_OUT

        names = {"corpus": sorted(CORPUS), "corpus-dev": DEVELOPMENT}.get(suite, HELD_OUT)
        return {name: CORPUS[name] for name in names}
    raise ValueError(f"unknown suite {suite!r}; choose from {SUITES}")


#: the suites a model name is looked up in, in order (the halves are parts of ``corpus``)
_SEARCHED = ("synthetic", "real", "corpus", "corpus-fresh")


def _lookup(model_name: str, suite: str | None = None):
    """The model function of a name: in the given suite, else the synthetic, the real suite,
    then the corpus and the fresh held-out set."""
    for name in [suite] if suite else _SEARCHED:
        models = suite_models(name)
        if model_name in models:
            return models[model_name]
    known = sorted({m for name in _SEARCHED for m in suite_models(name)})
    raise ValueError(f"unknown model {model_name!r}; choose from {known}")


def _suite_models(suite: str) -> list[str]:
    return list(suite_models(suite))


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
    ``auto`` goes through ``decenter.sample``, the other strategies through ``pm.sample``
    (both with nutpie, the same seed and the warm-up kept). With a ``cache`` dict (the
    slow tests: per-gradient figures only), the seed-free strategies (centered, noncentered,
    default) are instead compiled once per model with ``nutpie.compile_pymc_model`` and
    sampled with ``nutpie.sample`` (the seed ``pm.sample`` would give it); later seeds count
    the first one's transform and compile seconds in ``seconds``.
    """
    model = _lookup(model_name, suite)()
    original = [rv.name for rv in model.free_RVs]
    t0 = time.perf_counter()
    if strategy == "auto":
        trace, pilot_grads, extra = _sample_end_to_end(
            model, seed=seed, draws=draws, tune=tune, chains=chains
        )
        t_transform = t_compile = float("nan")
        seconds = time.perf_counter() - t0
    elif cache is None:  # as a user samples a fixed form: pm.sample, the same path as auto's
        new, pilot_grads, extra = _prepare(model, strategy, seed)
        t_transform = time.perf_counter() - t0
        trace = _sample_pm(new, seed=seed, draws=draws, tune=tune, chains=chains)
        t_compile = float("nan")  # inside pm.sample
        seconds = time.perf_counter() - t0
    else:
        compiled, pilot_grads, extra, t_transform, t_compile = _compiled(
            model, original, model_name, strategy, seed=seed, cache=cache, t0=t0
        )
        t1 = time.perf_counter()
        trace = _sample_nutpie(compiled, seed=seed, draws=draws, tune=tune, chains=chains)
        seconds = t_transform + t_compile + time.perf_counter() - t1
    ess_min, rhat_max, grads, tune_grads, divergences = _trace_stats(trace, original, tune)
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
        "divergences": divergences,
        "rhat_max": rhat_max,
        **extra,
    }


def _trace_stats(trace, original: list[str], tune: int) -> tuple[float, float, int, int, int]:
    """Min bulk ESS and max R-hat over the original variables' elements, the gradient
    evaluations of sampling and of tuning, and the divergences of sampling."""
    import arviz as az

    post = trace.posterior.to_dataset()[original]
    ess = az.ess(post, method="bulk")
    rhat = az.rhat(post)
    ess_min = float(min(np.nanmin(ess[v].values) for v in original))
    rhat_max = float(max(np.nanmax(rhat[v].values) for v in original))
    grads = int(trace.sample_stats["n_steps"].sum())
    warm = getattr(trace, "warmup_sample_stats", None)
    tune_grads = int(warm["n_steps"].sum()) if tune and warm is not None else 0
    divergences = int(np.asarray(trace.sample_stats["diverging"]).sum())
    return ess_min, rhat_max, grads, tune_grads, divergences


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

    Every run transforms and compiles its model again, so each seed's end-to-end seconds are a
    measurement of their own: with one compile per model reused for every seed, one slow
    compile (chem97's default: 8.1 s once, 3.6 s re-measured) skewed all of them.
    ``on_result(results)`` is called after each run (for example to save JSON as it goes).
    """
    strategies = list(strategies)
    if "vip" in strategies and not _vip_available():
        print("vip: pymc-extras is not installed (or does not import); skipped", file=sys.stderr)
        strategies.remove("vip")
    from decenter.util.progress import stage

    results: list[dict] = []
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
    return results


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
