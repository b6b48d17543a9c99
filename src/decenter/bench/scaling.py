"""How decenter's cost grows with the model: the scaling benchmark on wide hierarchical models.

A wide model has ``n`` independent hierarchical vectors of ``size`` elements, each with its
own hyperpriors and observed data::

    mu_i ~ Normal(0, 1); sigma_i ~ HalfNormal(1)
    b_i ~ Normal(mu_i, sigma_i, dims="g"); y_i ~ Normal(b_i, 1, observed=...)

For every ``n``, :func:`run` times building the model with PyMC, ``decenter.plan``,
``decenter.transform`` (plan included) and ``decenter.verify``, and reports the growth per
doubling of ``n`` (``(t(n) / t(m)) ** (1 / log2(n / m))`` between consecutive sizes: 2.0 is
linear, 4.0 quadratic). It also compares the logp+gradient time of the transformed model with
the hand-written non-centered model's. Times are medians of ``repeats`` runs, wall clock and
process CPU time (the CPU time is the steadier figure on a shared machine).

Examples
--------
>>> from decenter.bench.scaling import wide_model
>>> m = wide_model(3, size=4)
>>> len(m.free_RVs), len(m.observed_RVs)
(9, 3)
>>> [v.name for v in wide_model(1, size=4, noncentered=True).free_RVs]
['mu_0', 'sigma_0', 'b_0_offset']

From the shell: ``python -m decenter.bench.scaling --ns 100 200 400``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pymc as pm

from decenter.util.progress import stage

__all__ = ["wide_model", "time_call", "logp_ratio", "run", "format_table", "main"]

NS = (100, 200, 400, 600, 800, 1000)
#: the issue's targets: transform <= 2x PyMC's build at n = 600, <= 2.2x per doubling,
#: logp+gradient <= 1.05x the hand-written non-centered model's
TARGETS = {"transform_over_build": 2.0, "growth_per_doubling": 2.2, "logp_ratio": 1.05}


def wide_model(
    n: int, size: int = 40, seed: int = 0, noncentered: bool = False, observed: bool = True
) -> pm.Model:
    """A model of ``n`` hierarchical vectors of ``size`` elements with their own hyperpriors.

    Parameters
    ----------
    n : int
        Number of hierarchical vectors (each adds 3 free and 1 observed variable).
    size : int
        Elements per vector (the coordinate ``g``).
    seed : int
        Seed of the simulated observations.
    noncentered : bool
        Write the vectors non-centered by hand (``b_i_offset`` and a Deterministic ``b_i``),
        the model ``decenter.transform`` should produce.
    observed : bool
        With the observations ``y_i`` (False: the hierarchy alone, as in issue 29's models).

    Returns
    -------
    pm.Model

    Examples
    --------
    >>> wide_model(2, size=5)["b_1"].eval().shape
    (5,)
    """
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, size))
    with pm.Model(coords={"g": range(size)}) as model:
        for i in range(n):
            mu = pm.Normal(f"mu_{i}", 0.0, 1.0)
            sigma = pm.HalfNormal(f"sigma_{i}", 1.0)
            if noncentered:
                offset = pm.Normal(f"b_{i}_offset", 0.0, 1.0, dims="g")
                b = pm.Deterministic(f"b_{i}", mu + sigma * offset, dims="g")
            else:
                b = pm.Normal(f"b_{i}", mu, sigma, dims="g")
            if observed:
                pm.Normal(f"y_{i}", b, 1.0, observed=data[i], dims="g")
    return model


def time_call(fn: Callable[[], Any], repeats: int = 3) -> tuple[dict[str, float], Any]:
    """Median wall and CPU seconds of ``fn()`` over ``repeats`` calls, and the last result.

    Examples
    --------
    >>> times, out = time_call(lambda: sum(range(1000)), repeats=2)
    >>> out, sorted(times)
    (499500, ['cpu', 'wall'])
    """
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        out = None  # let the previous result go before timing the next call
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}, out


def logp_ratio(n: int = 100, size: int = 40, rounds: int = 15, evals: int = 200) -> dict:
    """logp+gradient time of ``transform(wide_model(n))`` over the hand-written model's.

    Both functions are compiled once; ``rounds`` alternating rounds of ``evals`` evaluations
    at the initial point are timed in process CPU time (alternating spreads the machine's
    noise over both) and the ratio of the median rounds is returned with the per-evaluation
    times.

    Examples
    --------
    >>> r = logp_ratio(n=2, size=3, rounds=1, evals=2)
    >>> sorted(r)
    ['handwritten_us', 'n', 'ratio', 'transformed_us']
    """
    fns = []
    for model in (_transform(wide_model(n, size)), wide_model(n, size, noncentered=True)):
        f = model.logp_dlogp_function(ravel_inputs=True)
        f.set_extra_values({})
        point = model.initial_point()
        x = np.concatenate([np.ravel(point[v.name]) for v in model.value_vars])
        f(x)  # warm up
        fns.append((f, x))
    times: list[list[float]] = [[], []]
    for _ in range(rounds):
        for k, (f, x) in enumerate(fns):
            t0 = time.process_time()  # CPU time: wall time on a shared machine is mostly waiting
            for _ in range(evals):
                f(x)
            times[k].append((time.process_time() - t0) / evals)
    tr, hw = (statistics.median(t) for t in times)
    return {"n": n, "transformed_us": tr * 1e6, "handwritten_us": hw * 1e6, "ratio": tr / hw}


def _transform(model: pm.Model) -> pm.Model:
    """``decenter.transform(model)`` (plan, then apply), from this pipeline level."""
    from decenter.core.plan import decide
    from decenter.core.rewrite import apply_plan

    return apply_plan(model, decide(model))


def _one_size(n: int, size: int, repeats: int, verify: bool, progressbar: bool) -> dict:
    from decenter.core.plan import decide
    from decenter.verify import verify as verify_models

    row: dict[str, Any] = {"n": n}
    with stage(f"n={n}: build", progressbar):
        row["build"], model = time_call(lambda: wide_model(n, size), repeats)
    with stage(f"n={n}: plan", progressbar):
        row["plan"], _ = time_call(lambda: decide(model), repeats)
    with stage(f"n={n}: transform", progressbar):
        row["transform"], new = time_call(lambda: _transform(model), repeats)
    if verify:
        with stage(f"n={n}: verify", progressbar):
            row["verify"], report = time_call(lambda: verify_models(model, new, random_seed=1), 1)
        row["verified"] = bool(report.ok)
    return row


def _growth(rows: list[dict], step: str, clock: str) -> None:
    """Set ``growth_<step>`` on each row: time ratio to the previous row, per doubling of n."""
    for prev, row in zip(rows, rows[1:], strict=False):
        if step in row and step in prev and prev[step][clock] > 0:
            ratio = row[step][clock] / prev[step][clock]
            row[f"growth_{step}"] = ratio ** (1 / math.log2(row["n"] / prev["n"]))


def run(
    ns: Sequence[int] = NS,
    *,
    size: int = 40,
    repeats: int = 3,
    verify: bool = True,
    verify_max: int | None = None,
    logp_n: int | None = 100,
    clock: str = "cpu",
    progressbar: bool = True,
    on_row: Callable[[dict], None] | None = None,
) -> dict:
    """Time build, plan, transform and verify on wide models of each size in ``ns``.

    Parameters
    ----------
    ns : sequence of int
        Numbers of hierarchical vectors, increasing.
    size : int
        Elements per vector.
    repeats : int
        Timed calls per step (medians are reported); verify runs once per size.
    verify : bool
        Also time ``decenter.verify`` (up to ``verify_max``).
    verify_max : int, optional
        Largest ``n`` at which to verify (verify compiles the model: the slowest step).
    logp_n : int, optional
        Size of the model for the logp+gradient comparison (None skips it).
    clock : "cpu" or "wall"
        The clock used for the growth and ratio columns.
    progressbar : bool
        Show each step on stderr.
    on_row : callable, optional
        Called with each size's row as soon as it is measured (long runs report as they go).

    Returns
    -------
    dict
        ``rows`` (one dict per n: seconds per step as ``{"wall", "cpu"}``, ``growth_*`` per
        doubling, ``transform_over_build``), ``logp`` (see :func:`logp_ratio`), ``targets``.

    Examples
    --------
    >>> r = run([2, 4], size=3, repeats=1, verify=False, logp_n=None, progressbar=False)
    >>> [row["n"] for row in r["rows"]], "growth_transform" in r["rows"][1]
    ([2, 4], True)
    """
    ns = sorted(int(n) for n in ns)
    rows = []
    for n in ns:
        do_verify = verify and (verify_max is None or n <= verify_max)
        row = _one_size(n, size, repeats, do_verify, progressbar)
        row["transform_over_build"] = row["transform"][clock] / row["build"][clock]
        rows.append(row)
        if on_row is not None:
            on_row(row)
    for step in ("build", "plan", "transform", "verify"):
        _growth(rows, step, clock)
    result: dict[str, Any] = {"clock": clock, "size": size, "repeats": repeats, "rows": rows}
    if logp_n:
        with stage(f"logp+grad at n={logp_n}", progressbar):
            result["logp"] = logp_ratio(logp_n, size)
    result["targets"] = dict(TARGETS)
    return result


def format_table(result: dict) -> str:
    """A Markdown table of :func:`run`'s result (seconds, growth per doubling in brackets).

    Examples
    --------
    >>> r = run([2, 4], size=3, repeats=1, verify=False, logp_n=None, progressbar=False)
    >>> format_table(r).splitlines()[0]
    '| n | build (s) | plan (s) | transform (s) | transform / build | verify (s) |'
    """
    clock = result["clock"]
    lines = [
        "| n | build (s) | plan (s) | transform (s) | transform / build | verify (s) |",
        "|---|---|---|---|---|---|",
    ]

    def cell(row, step):
        if step not in row:
            return "-"
        g = row.get(f"growth_{step}")
        return f"{row[step][clock]:.2f}" + (f" (x{g:.2f})" if g is not None else "")

    for row in result["rows"]:
        cells = [cell(row, s) for s in ("build", "plan", "transform")]
        cells.append(f"{row['transform_over_build']:.2f}")
        cells.append(cell(row, "verify"))
        lines.append(f"| {row['n']} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"{clock} seconds, medians of {result['repeats']} runs; (xG): growth per doubling of n."
    )
    if "logp" in result:
        lp = result["logp"]
        lines.append(
            f"logp+gradient at n={lp['n']}: transformed {lp['transformed_us']:.0f} us, "
            f"hand-written {lp['handwritten_us']:.0f} us, ratio {lp['ratio']:.3f}."
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m decenter.bench.scaling [--ns N ...] [--repeats R] [--no-verify] [--json FILE]``."""
    p = argparse.ArgumentParser(
        prog="python -m decenter.bench.scaling", description=__doc__.split("\n")[0]
    )
    p.add_argument("--ns", type=int, nargs="+", default=list(NS), help="model sizes n")
    p.add_argument("--size", type=int, default=40, help="elements per hierarchical vector")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per step (median)")
    p.add_argument("--no-verify", action="store_true", help="do not time decenter.verify")
    p.add_argument("--verify-max", type=int, default=None, help="largest n to verify")
    p.add_argument(
        "--logp-n", type=int, default=100, help="n of the logp+grad comparison (0: skip)"
    )
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    p.add_argument("--json", default=None, help="also write the full result to this file")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--default-ns", type=int, nargs="*", default=[50, 150, 600],
        help="sizes at which to time the default (strategy='auto'); none: skip",
    )  # fmt: skip
    args = p.parse_args(argv)
    if any(n < 1 for n in args.ns) or args.size < 1 or args.repeats < 1:
        p.error("--ns, --size and --repeats must be positive integers")
    result = run(
        args.ns,
        size=args.size,
        repeats=args.repeats,
        verify=not args.no_verify,
        verify_max=args.verify_max,
        logp_n=args.logp_n or None,
        clock=args.clock,
        progressbar=not args.no_progress,
        on_row=lambda row: print(json.dumps(row), file=sys.stderr, flush=True),
    )
    print(format_table(result))
    if args.default_ns:
        from decenter.auto.defaultcost import default_costs, format_default

        result["default"] = default_costs(
            wide_model,
            args.default_ns,
            size=args.size,
            repeats=args.repeats,
            progressbar=not args.no_progress,
        )
        print()
        print(format_default(result["default"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
