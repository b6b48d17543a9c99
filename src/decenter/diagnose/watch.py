"""The sampler checks the choice: divergences at small (or large) values of one variable's scale.

A funnel shows itself where the scale is small: a hierarchical variable left (partly)
centered while its scale is weakly identified makes NUTS diverge at the funnel's neck. The
non-centered form has the mirror image, a funnel whose neck is at large values of the scale,
where the data pin each element down and the offset ``(x - loc) / scale`` is squeezed. After
``pm.sample`` returns, :func:`check` counts the post-warm-up divergences and, if there are at
least :func:`minimum` of them, tests for every variable the plan left centered or partly
centered whether the divergent draws sit at smaller values of its log scale than the other
draws, and for every variable it rewrote (lam < 1 somewhere) whether they sit at larger
values: one-sided Mann-Whitney U tests. The test with the smallest p-value re-plans its
variable, fully non-centered (lam 0) for a small scale and left centered (lam 1) for a large
one, the rest of the plan unchanged, and the model is sampled once more, if that p-value is
below :data:`ALPHA` divided by the number of tests (Bonferroni). Once only: there is no loop.

When nothing is wrong the check costs a sum over the ``diverging`` statistic: below the
minimum nothing else is computed.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> log_tau = rng.normal(size=(4, 500))
>>> diverging = log_tau < -1.8  # divergences gather at small tau
>>> tests = rank_tests(diverging, {"theta": log_tau})
>>> bool(tests["theta"]["p_value"] < ALPHA)
True
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pymc as pm

from decenter.util.progress import stage

__all__ = [
    "ALPHA",
    "MIN_DIVERGENCES",
    "MIN_FRACTION",
    "enabled",
    "minimum",
    "rank_tests",
    "check",
    "skipped",
]

#: Family-wise false-alarm rate of the test (Bonferroni over the variables tested), for
#: independent draws. MCMC draws are autocorrelated, which makes the rank test optimistic;
#: the minimum count below is the second guard.
ALPHA = 0.01
#: Act only on at least this many divergences, and at least this fraction of the draws: a
#: handful of divergences says little about where they gather.
MIN_DIVERGENCES = 5
MIN_FRACTION = 0.005

Rerun = Callable[[Any], tuple[Any, str]]


def enabled(watch: bool | None, strategy: Any, plan_given: bool) -> tuple[bool, str]:
    """Whether to check, and why: None means on for a data-informed choice, off for a fixed one.

    Examples
    --------
    >>> enabled(None, "auto", False)[0], enabled(None, "noncentered", False)[0]
    (True, False)
    """
    if watch is not None:
        return bool(watch), f"watch={bool(watch)}"
    if plan_given or (isinstance(strategy, str) and strategy in ("auto", "pilot")):
        return True, "watch=None: on for a data-informed choice"
    return False, f"watch=None: off for the fixed strategy={strategy!r} (the user's choice)"


def minimum(n_draws: int) -> int:
    """The fewest divergences acted on: max(:data:`MIN_DIVERGENCES`, MIN_FRACTION of draws)."""
    return max(MIN_DIVERGENCES, int(np.ceil(MIN_FRACTION * n_draws)))


def rank_tests(
    diverging: np.ndarray, log_scales: Mapping[str, np.ndarray], larger: bool = False
) -> dict[str, dict]:
    """Per variable: are the divergent draws' log scales smaller than the others' (``larger``:
    larger)? One-sided Mann-Whitney U; ``diverging`` and each log scale are arrays over
    (chain, draw).

    The U statistic is a sum over draws of label times rank; when both the labels and the
    ranks are autocorrelated (divergences come in runs, a scale mixes slowly) its variance
    grows by ``1 + 2 sum_k rho_div(k) rho_rank(k)`` (Bartlett's formula for the covariance of
    two independent stationary series), so the normal score is divided by its square root.
    """
    from scipy.stats import mannwhitneyu, norm, rankdata

    div = np.atleast_2d(np.asarray(diverging, dtype=bool))
    flat = div.ravel()
    out = {}
    for name, ls in log_scales.items():
        ls = np.atleast_2d(np.asarray(ls, dtype=float))
        u = mannwhitneyu(ls.ravel()[flat], ls.ravel()[~flat],
                         alternative="greater" if larger else "less",
                         method="asymptotic", use_continuity=False)  # fmt: skip
        inflation = _inflation(div, rankdata(ls.ravel()).reshape(ls.shape))
        out[name] = {
            "p_value": float(norm.cdf(norm.ppf(u.pvalue) / np.sqrt(inflation))),
            "variance_inflation": float(inflation),
            "median_log_scale_divergent": float(np.median(ls.ravel()[flat])),
            "median_log_scale_other": float(np.median(ls.ravel()[~flat])),
        }
    return out


def _inflation(a: np.ndarray, b: np.ndarray, max_lag: int = 200) -> float:
    """``1 + 2 sum_k rho_a(k) rho_b(k)`` over lags up to where ``b``'s autocorrelation (the
    ranks') first falls below 0.05, averaged over chains; at least 1."""
    ra, rb = _autocorr(a, max_lag), _autocorr(b, max_lag)
    below = np.flatnonzero(rb[1:] < 0.05)
    stop = below[0] + 1 if below.size else len(rb)
    return max(1.0, 1.0 + 2.0 * float(np.sum(ra[1:stop] * rb[1:stop])))


def _autocorr(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation at lags 0..max_lag of (chain, draw) series, averaged over chains."""
    x = np.asarray(x, dtype=float)
    x = x - x.mean(axis=1, keepdims=True)
    n = x.shape[1]
    f = np.fft.rfft(x, 2 * n, axis=1)
    acov = np.fft.irfft(f * np.conj(f), axis=1)[:, : min(max_lag, n - 1) + 1].mean(axis=0)
    return acov / acov[0] if acov[0] > 0 else np.zeros_like(acov)


def pick(tests: Mapping[str, dict], alpha: float = ALPHA) -> str | None:
    """The variable with the smallest p-value, if below ``alpha`` / the number tested."""
    return side(tests, {}, alpha)[0]


def side(
    small: Mapping[str, dict], large: Mapping[str, dict], alpha: float = ALPHA
) -> tuple[str | None, str | None]:
    """(variable, ``"small"`` or ``"large"``) of the smallest p-value over both kinds of test,
    if below ``alpha`` / the number of tests; else (None, None)."""
    found = _smallest(small, large)
    if found is None or found[0] >= alpha / (len(small) + len(large)):
        return None, None
    return found[1], found[2]


def _smallest(small: Mapping[str, dict], large: Mapping[str, dict]):
    """(p-value, variable, side) of the smallest p-value of both kinds of test, or None."""
    found = [(t["p_value"], k, "small") for k, t in small.items()]
    found += [(t["p_value"], k, "large") for k, t in large.items()]
    return min(found, default=None)


def _diverging(idata) -> np.ndarray | None:
    try:
        return np.asarray(idata.sample_stats["diverging"].values, dtype=bool)
    except (AttributeError, KeyError):  # no NUTS statistics (another step method)
        return None


def suspects(model: pm.Model, p) -> tuple[dict[str, Any], list[str]]:
    """The variables whose choice the divergences may point at (not those the user left out
    with ``var_names``/``rewrite``): those tested at small scales, each with its non-centered
    decision (rewritten with lam > 0 somewhere, or candidates kept centered), and those tested
    at large scales (rewritten: lam < 1 somewhere)."""
    from decenter.core.plan import decide as base_plan

    nc = base_plan(model, strategy="noncentered")
    small, large = {}, []
    for d in nc.rewrites:
        mine = p[d.name]
        if not d.scale_parents or mine.reason.startswith("not in vars"):
            continue
        if not mine.rewrite or (mine.lam is not None and np.any(np.asarray(mine.lam) > 0)):
            small[d.name] = d
        if mine.rewrite:
            large.append(d.name)
    return small, large


def log_scale(model: pm.Model, name: str, posterior) -> np.ndarray:
    """The mean over elements of the log of ``name``'s scale, per draw (chain, draw): the scale
    expression of the model evaluated on the posterior draws of its free parents."""
    from decenter._pymc import vectorize_over_posterior
    from decenter.families import find_rule

    rv = model[name]
    scale = find_rule(rv).read(rv).scale
    ds = posterior.to_dataset() if hasattr(posterior, "to_dataset") else posterior
    (vec,) = vectorize_over_posterior(
        [pm.math.log(scale)], ds, input_rvs=list(model.free_RVs), allow_rvs_in_graph=False
    )
    values = np.asarray(vec.eval(mode="FAST_COMPILE"), dtype=float)
    shape = (ds.sizes["chain"], ds.sizes["draw"])
    return values.reshape(shape + (-1,)).mean(axis=-1)


def _tested(model, p, idata) -> tuple[dict[str, Any], list[str], dict, dict[str, str]]:
    """The suspects (:func:`suspects`), their log scales on the draws, and those not tested."""
    small, large = suspects(model, p)
    scales, untested = {}, {}
    for name in dict.fromkeys([*small, *large]):
        try:
            scales[name] = log_scale(model, name, idata.posterior)
        except Exception as err:  # a parent not in the trace (var_names), or not evaluable
            untested[name] = f"scale not evaluated on the draws ({type(err).__name__}: {err})"
            continue
        if not np.all(np.isfinite(scales[name])):
            untested[name] = "scale not finite on every draw"
            del scales[name]
    return small, large, scales, untested


def replan(p, name: str, decision, why: str, centered: bool = False):
    """A copy of ``p`` with ``name`` fully non-centered (``decision``: its non-centered form),
    or left centered (``centered``)."""
    q = copy.copy(p)
    q.decisions = [copy.copy(d) for d in p.decisions]
    q.notes = list(p.notes)
    i = next(i for i, d in enumerate(q.decisions) if d.name == name)
    d = copy.copy(decision if not q.decisions[i].rewrite else q.decisions[i])
    d.lam = d.unit = None
    if centered:
        d.action, d.new_name, d.guard, d.hoisted = "keep", None, None, ()
    form = "centered" if centered else "non-centered"
    d.reason = f"{q.decisions[i].reason}; watch: {why}, re-planned {form}"
    q.decisions[i] = d
    return q


def check(model, p, idata, summary: str, rerun: Rerun, progressbar: bool = True):
    """Check a run; re-plan and sample once more (``rerun(plan) -> (idata, summary)``) if its
    divergences gather at small values of one (partly) centered variable's scale, or at large
    values of one rewritten variable's. Returns (idata, plan, summary) and writes
    ``decenter_watch`` into ``idata.posterior.attrs``."""
    div = _diverging(idata)
    record: dict[str, Any] = {"checked": div is not None, "replanned": None}
    if div is None:
        record["reason"] = "no divergence statistic in sample_stats"
        return _write(idata, record), p, summary
    n, need = int(div.sum()), minimum(div.size)
    record.update(divergences=n, draws=int(div.size), min_divergences=need, alpha=ALPHA)
    if n < need:
        return _write(idata, record), p, summary
    small, large, scales, untested = _tested(model, p, idata)
    tests = rank_tests(div, {k: scales[k] for k in small if k in scales})
    tests_large = rank_tests(div, {k: scales[k] for k in large if k in scales}, larger=True)
    name, where = side(tests, tests_large)
    record.update(tested=tests, tested_large=tests_large, untested=untested, variable=name)
    if name is None:
        p.notes.append(
            f"watch: {n} divergences; {_nowhere(tests, tests_large)}; nothing re-planned"
        )
        return _write(idata, record), p, summary
    centered = where == "large"
    decision = small.get(name) or p[name]
    of = ", ".join(decision.scale_parents)
    p_value = (tests_large if centered else tests)[name]["p_value"]
    why = (
        f"{n} of {div.size} draws diverged at {where} values of {name}'s scale "
        f"({of}; p = {p_value:.2g})"
    )
    form, lam = ("centered", 1) if centered else ("non-centered", 0)
    with stage(f"watch: {why}; re-planning {name} {form}", progressbar):
        q = replan(p, name, decision, why, centered=centered)
        q.notes.append(f"watch: {why}; re-planned {name} {form} and sampled again")
    second, second_summary = rerun(q)
    again = _diverging(second)
    record.update(replanned=name, side=where, p_value=p_value, action=f"{name} -> lam {lam}")
    record["second_run_divergences"] = None if again is None else int(again.sum())
    # both runs sample the same posterior: the one with fewer divergences is returned (the
    # re-plan can be wrong too: where a divergence sits is evidence, not proof)
    keep_second = again is not None and int(again.sum()) <= n
    record["returned"] = "second" if keep_second else "first"
    # what the run not returned cost, so that a benchmark can count it (warm-up where recorded)
    record["discarded_gradients"] = _gradients(idata if keep_second else second)
    warnings.warn(
        f"decenter: {why}; {name} was re-planned {form} (lam = {lam}) and the model sampled "
        f"a second time ({record['second_run_divergences']} divergences); the "
        f"{record['returned']} run is returned (watch=False turns this off)",
        UserWarning,
        stacklevel=3,
    )
    if not keep_second:
        p.notes.append(
            f"watch: {why}; re-planning {name} {form} gave "
            f"{record['second_run_divergences']} divergences: the first run is kept"
        )
        return _write(idata, record), p, summary
    return _write(second, record), q, second_summary


def _nowhere(small: Mapping[str, dict], large: Mapping[str, dict]) -> str:
    """Why nothing was re-planned, for the plan's notes."""
    found = _smallest(small, large)
    if found is None:
        return "no variable to test"
    p_value, name, where = found
    return (
        f"not gathered at small values of a (partly) centered variable's scale or large values "
        f"of a rewritten one's (smallest p = {p_value:.2g}, {name}, {where} values)"
    )


def _gradients(idata) -> int:
    from decenter.diagnose.summary import _sum_steps

    total = 0
    for group in ("sample_stats", "warmup_sample_stats"):
        try:
            total += _sum_steps(getattr(idata, group)) or 0
        except (AttributeError, KeyError):
            continue
    return total


def skipped(idata, why: str):
    """Record that the run was not checked, and why."""
    return _write(idata, {"checked": False, "replanned": None, "reason": why})


def _write(idata, record: dict):
    idata.posterior.attrs["decenter_watch"] = json.dumps(record)
    return idata
