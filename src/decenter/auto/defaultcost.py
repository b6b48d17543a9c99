"""What the default (``strategy="auto"``) costs as models grow: the fit against building the
model, against compiling it, and a given plan against making one (issue 29's targets).

* ``transform / build``: ``decenter.transform(model)`` (the Laplace fit included) over building
  the model with PyMC, on the scaling models without data (``mu_i ~ N(0, 1)``, ``tau_i ~
  HalfNormal(1)``, ``x_i ~ N(mu_i, tau_i)``, ``n`` vectors of ``size``); and its growth
  between consecutive sizes;
* ``given / plan``: ``transform(model, plan=p)`` over ``decenter.plan(model)``;
* radon: ``decenter.transform(model)`` over ``model.compile_logp()`` + ``model.compile_dlogp()``,
  both warm (a first call of each is made and not counted).

Every ratio is measured side by side in one process, the two steps alternating, as the median
of ``repeats`` rounds, each step after a full garbage collection (not timed).

Examples
--------
>>> from decenter.auto.defaultcost import default_costs
>>> from decenter.bench.scaling import wide_model
>>> r = default_costs(wide_model, [2, 4], size=3, repeats=1, radon=False, progressbar=False)
>>> [row["n"] for row in r["rows"]], "growth" in r["rows"][1]
([2, 4], True)
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from decenter.util.progress import stage

__all__ = ["default_costs", "format_default", "TARGETS"]

#: issue 29: transform <= 20x build at n = 600, growth 150 -> 600 <= 5.5x, radon <= 0.5x its
#: compile, a given plan <= 0.25x making it
TARGETS = {"transform_over_build": 20.0, "growth": 5.5, "radon": 0.5, "given_over_plan": 0.25}


def _rounds(steps: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median wall seconds of each step, the steps alternating in each of ``repeats`` rounds.

    Each step starts after a full garbage collection (not timed), so that it pays for the
    collections its own garbage causes and not for the previous step's (radon's compile took
    0.41-1.1 s collecting the fit's graphs; 0.40-0.44 s this way).
    """
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _plan(model):
    from decenter.auto import plan

    return plan(model, progressbar=False)


def _transform(model, p=None):
    """``decenter.transform(model)``, or ``(model, plan=p)``, from this pipeline level."""
    from decenter.core.fingerprint import check_plan
    from decenter.core.rewrite import apply_plan

    if p is None:
        return apply_plan(model, _plan(model))
    check_plan(model, p)
    return apply_plan(model, p)


def _one_size(wide_model, n: int, size: int, repeats: int) -> dict:
    model = wide_model(n, size, observed=False)
    p = _plan(model)
    t = _rounds(
        {
            "build": lambda: wide_model(n, size, observed=False),
            "transform": lambda: _transform(model),
            "plan": lambda: _plan(model),
            "given": lambda: _transform(model, p),
        },
        repeats,
    )
    return {
        "n": n,
        **t,
        "steps": dict(p.fit.get("steps", {})),
        "transform_over_build": t["transform"] / t["build"],
        "given_over_plan": t["given"] / t["plan"],
    }


def _radon(repeats: int) -> dict:
    from decenter.examples.radon import centered_model

    model = centered_model()

    def compile_both():
        model.compile_logp()
        model.compile_dlogp()

    compile_both()  # warm: PyTensor's caches, as for the fit below
    _transform(model)
    t = _rounds(
        {
            "compile": compile_both,
            "transform": lambda: _transform(model),
        },
        repeats,
    )
    return {**t, "ratio": t["transform"] / t["compile"]}


def default_costs(
    wide_model: Callable[..., Any],
    ns: Sequence[int] = (50, 150, 600),
    *,
    size: int = 40,
    repeats: int = 3,
    radon: bool = True,
    progressbar: bool = True,
) -> dict:
    """Times and ratios of the default at each size in ``ns`` (and on radon), on the models
    ``wide_model(n, size, observed=False)`` (:func:`decenter.bench.scaling.wide_model`).

    Returns
    -------
    dict
        ``rows`` (per n: median seconds of ``build``, ``transform``, ``plan`` and ``given``, the
        fit's own ``steps``, the ratios, ``growth`` from the previous size), ``radon``,
        ``targets``.
    """
    rows = []
    for n in sorted(ns):
        with stage(f"default at n={n}", progressbar):
            rows.append(_one_size(wide_model, n, size, repeats))
    for prev, row in zip(rows, rows[1:], strict=False):
        row["growth"] = row["transform"] / prev["transform"]
    result: dict[str, Any] = {"size": size, "repeats": repeats, "rows": rows}
    if radon:
        with stage("radon: default against compiling logp and gradient", progressbar):
            result["radon"] = _radon(repeats)
    result["targets"] = dict(TARGETS)
    return result


def format_default(result: dict) -> str:
    """A Markdown table of :func:`default_costs`'s result.

    Examples
    --------
    >>> from decenter.bench.scaling import wide_model
    >>> r = default_costs(wide_model, [2], size=3, repeats=1, radon=False, progressbar=False)
    >>> format_default(r).splitlines()[0].split(" | ")[:3]
    ['| n', 'build (s)', 'default transform (s)']
    """
    lines = [
        "| n | build (s) | default transform (s) | transform / build | growth | "
        "plan (s) | transform(plan=p) (s) | given / plan | fit: compile, optimise, spread (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        steps = ", ".join(f"{v:.2f}" for v in r["steps"].values())
        growth = f"x{r['growth']:.2f}" if "growth" in r else "-"
        lines.append(
            f"| {r['n']} | {r['build']:.2f} | {r['transform']:.2f} | "
            f"{r['transform_over_build']:.1f} | {growth} | {r['plan']:.2f} | {r['given']:.3f} | "
            f"{r['given_over_plan']:.3f} | {steps} |"
        )
    lines.append("")
    lines.append(f"wall seconds, medians of {result['repeats']} alternating rounds.")
    if "radon" in result:
        rd = result["radon"]
        lines.append(
            f"radon: default transform {rd['transform']:.2f} s, compile_logp + compile_dlogp "
            f"{rd['compile']:.2f} s (warm): ratio {rd['ratio']:.2f}."
        )
    t = result["targets"]
    lines.append(
        f"targets: transform / build <= {t['transform_over_build']:g} at n = 600, growth "
        f"150 -> 600 <= {t['growth']:g}, radon <= {t['radon']:g}, given / plan <= "
        f"{t['given_over_plan']:g}."
    )
    return "\n".join(lines)
