"""Data-informed centering: the default ``strategy="auto"`` and the NUTS-based ``"pilot"``.

For a hierarchical variable ``x_k ~ D(loc_k, s_k)`` the centered form mixes well when the
information ``I_k`` that the rest of the model carries about ``x_k`` dominates the prior
precision ``1 / s_k**2``, and the non-centered form when it does not (Papaspiliopoulos,
Roberts & Skold 2007). Following Gorinova, Moore & Hoffman (2020), decenter partially
centers each element with::

    lam_k = I_k s_k**2 / (1 + I_k s_k**2)        (< 0.05 -> 0, >= 0.95 -> 1)

``I_k`` is the curvature of the model's log density without the variable's own prior term
(:mod:`decenter.auto.curvature`). The two strategies differ in where they evaluate it:

* ``"auto"`` (the default): at the mode of a deterministic Laplace fit of the fully
  non-centered model, with the hyperparameters at their approximate *marginal* mode
  (:mod:`decenter.auto.laplace`). ``s_k`` is the scale at that mode lowered by its Laplace spread,
  ``s_k = exp(log s_mode - Z * sd(log s))`` with ``Z`` = :data:`Z` (= 2, a low quantile of
  the Laplace approximation): in a funnel over-centering costs more than under-centering.
  No sampling, no randomness; cost: one fast-compiled log density and ~1000 evaluations.
* ``"pilot"``: averaged over draws of a short NUTS run of the non-centered model
  (:mod:`decenter.auto.pilot`), ``s_k`` the 10 % quantile of the scale's draws. Costs a compile
  and a few thousand gradients; the choice varies with the pilot's seed.

Examples
--------
>>> import pymc as pm, decenter
>>> with pm.Model() as m:
...     mu = pm.Normal("mu")
...     tau = pm.HalfNormal("tau")
...     theta = pm.Normal("theta", mu, tau, shape=2)
...     y = pm.Normal("y", theta[[0] * 50 + [1]], 0.5, observed=[3.0] * 50 + [-3.0])
>>> p = decenter.plan(m)  # strategy="auto"
>>> lam = p["theta"].lam
>>> bool(lam[0] > lam[1])  # 50 observations vs. 1: more centered
True
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pymc as pm

from decenter.auto.curvature import (
    CENTER_ABOVE,
    SCALE_QUANTILE,
    SNAP,
    Info,
    InformationFn,
    information,
    snap,
)
from decenter.core.plan import FIT_STRATEGIES, Plan, lam_text, with_lams
from decenter.core.plan import decide as _base_plan
from decenter.core.recenter import fit_target
from decenter.report.render import plural
from decenter.util.progress import Ticker

__all__ = [
    "plan",
    "choose_lams",
    "warn_fallback",
    "information",
    "Info",
    "Z",
    "SCALE_QUANTILE",
    "SNAP",
    "CENTER_ABOVE",
]

#: ``s_k`` of the default is the scale at the mode lowered by Z Laplace standard deviations
#: of its log. A Gaussian in log-scale misses the left tail of a hierarchical scale's
#: posterior (toward the funnel's neck), so Z = 2 (2.3 % Gaussian quantile) stands in for the
#: pilot's empirical 10 % quantile: a scale chosen too high centers too much where the
#: sampler meets the neck (the measurements: docs/auto.md, Z = 1.28 against Z = 2).
Z = 2.0


def plan(
    model: pm.Model,
    var_names: Iterable[Any] | None = None,
    *,
    strategy: str | float | Mapping[str, Any] = "auto",
    include_loc_only: bool = False,
    random_seed: Any = None,
    vars: Iterable[str] | None = None,
    progressbar: bool = True,
) -> Plan:
    """Decide, for every free variable, whether to rewrite it and how centered to leave it.

    Parameters
    ----------
    model : pm.Model
        The model to analyse (not modified).
    var_names : list of str or model variables, optional
        Restrict rewrites to these free variables; others are kept. ``vars=`` is the
        deprecated name of this argument.
    strategy : "auto", "pilot", "noncentered", "centered", float or dict
        ``"auto"`` (default) picks ``lam`` per element from a deterministic Laplace fit of the
        model to its data (a few seconds, no sampling); ``"pilot"`` from a short NUTS run
        (seeded by ``random_seed``). ``"noncentered"`` rewrites every candidate to
        ``loc + scale * offset``, ``"centered"`` keeps them all. A number ``lam`` in [0, 1]
        partially centers every candidate; a dict maps names to ``lam`` (a number or an
        array over the variable's dims); candidates not in the dict are non-centered.
    include_loc_only : bool
        Also rewrite variables whose scale is constant but whose location is random.
    random_seed : int, np.random.Generator, RandomState or SeedSequence, optional
        Seed of the pilot (``"pilot"``), or of the jittered restarts of the Laplace fit,
        used only if the fit from the model's initial point fails (``"auto"``).
    progressbar : bool
        Show the fit's counts (rounds, evaluations, scales) on stderr once it has run a few
        seconds (:data:`decenter.util.progress.DELAY`); ``False``: nothing.

    Returns
    -------
    Plan
        One :class:`Decision` per free variable; ``print(plan)`` shows a table, ``plan.notes``
        and ``plan.fit`` say what the fit found and what it cost.

    Examples
    --------
    >>> import pymc as pm, decenter
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu")
    ...     tau = pm.HalfNormal("tau")
    ...     theta = pm.Normal("theta", mu, tau, shape=8)
    >>> p = decenter.plan(m)
    >>> p["theta"].action, p["theta"].new_name, p.fit["converged"]
    ('rewrite', 'theta_offset', True)
    """
    from decenter.util.args import seed_int

    kw = dict(include_loc_only=include_loc_only, vars=vars)
    if not (isinstance(strategy, str) and strategy in FIT_STRATEGIES):
        return _base_plan(model, var_names, strategy=strategy, **kw)
    base = _base_plan(model, var_names, strategy="noncentered", **kw)
    random_seed = seed_int(random_seed)
    fit_model, fit_plan = fit_target(model, base, include_loc_only)
    with Ticker(f"{strategy}: fitting the model", progressbar) as tick:
        lams, units, notes, fit = choose_lams(
            fit_model, fit_plan, strategy=strategy, random_seed=random_seed, progress=tick
        )
    mine = {d.name for d in base.rewrites}  # the fit's own names may include recentered ones
    lams, units = _only(lams, mine), _only(units, mine)
    result = with_lams(model, base, lams, strategy, units)
    for name, why in fit.get("fallback", {}).items():
        if name in mine:
            result[name].reason += f"; {strategy} fallback, left non-centered: {why}"
    result.notes = notes + result.notes
    result.fit = fit
    return result


def _only(values: dict | None, names: set[str]) -> dict | None:
    return None if values is None else {k: v for k, v in values.items() if k in names}


def warn_fallback(p: Plan, stacklevel: int = 2) -> None:
    """Warn, once per variable, that the fit could not handle it and left it non-centered.

    Examples
    --------
    >>> import warnings
    >>> from decenter.core.plan import Plan
    >>> p = Plan([], strategy="auto", fit={"fallback": {"x": "the fit did not converge"}})
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_fallback(p)
    >>> print(w[0].message)
    decenter: strategy='auto' could not choose lam for 'x' (the fit did not converge); it is left non-centered (lam = 0)
    """
    import warnings

    for name, why in (p.fit or {}).get("fallback", {}).items():
        warnings.warn(
            f"decenter: strategy={p.strategy!r} could not choose lam for {name!r} ({why}); "
            "it is left non-centered (lam = 0)",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


def choose_lams(
    model: pm.Model,
    plan: Plan,
    *,
    strategy: str = "auto",
    random_seed: int | None = None,
    progress=None,
    **pilot_settings,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[str], dict]:
    """Choose ``lam`` per element for every candidate of ``plan`` (see the module docstring).

    Returns ``(lams, units, notes, fit)``: ``lams[name]`` has the variable's shape (a scalar
    for ZeroSumNormal and the walks, which take one lam; the plan rounds the walks'), ``units[name]`` is
    the scale ``s_k`` at which it was chosen (the partial centering is done in its units), ``notes`` say what was fitted, what it cost and how the lams came out,
    ``fit`` holds the same as numbers. A candidate the fit cannot handle is left out of
    ``lams`` (non-centered) alone, the others keep theirs; if the whole fit fails, ``lams`` is
    empty. Either way ``fit["fallback"]`` maps each such candidate to the reason (see
    :func:`warn_fallback`). ``progress`` (a callable
    taking a text, e.g. a :class:`decenter.util.progress.Ticker`) receives the Laplace fit's counts
    as it goes.

    Examples
    --------
    >>> import decenter
    >>> from decenter.auto import choose_lams
    >>> from decenter.examples.eight_schools import centered_model
    >>> m = centered_model()
    >>> lams, units, notes, fit = choose_lams(m, decenter.plan(m, strategy="noncentered"))
    >>> float(lams["theta"].max()), fit["method"]
    (0.0, 'laplace')
    """
    if not plan.rewrites:
        return {}, {}, [f"{strategy}: no hierarchical variable to rewrite; nothing to fit"], {}
    if strategy == "pilot":
        return _pilot_lams(model, plan, random_seed, **pilot_settings)
    return _laplace_lams(model, plan, random_seed, progress)


def _laplace_lams(
    model, plan: Plan, random_seed, progress=None
) -> tuple[dict, dict, list[str], dict]:
    from decenter.auto.laplace import laplace_fit

    t0 = time.perf_counter()
    names = [d.name for d in plan.rewrites]
    try:
        fit = laplace_fit(model, plan, random_seed=random_seed, progress=progress)
        failed = None if fit.converged else f"the fit did not converge ({fit.message})"
    except Exception as err:  # a model the fit cannot handle: the safe fallback below
        fit, failed = None, f"the fit failed ({type(err).__name__}: {err})"
    if failed:
        seconds = time.perf_counter() - t0
        note = f"auto: {failed}; every candidate left non-centered (fallback), {seconds:.1f} s"
        info = {"method": "laplace", "converged": False, "seconds": seconds}
        return {}, {}, [note], {**info, "fallback": dict.fromkeys(names, failed)}
    names = [n for n in names if n not in fit.failed]
    scales = lowered_scales(fit, names)
    infos = fit.info_fn({k: v[None] for k, v in fit.point.items()}, scales=scales)
    seconds = time.perf_counter() - t0
    fallback = {n: f"the fit could not handle it ({why})" for n, why in fit.failed.items()}
    names, infos, fallback = _finite(names, infos, fallback)
    lams, units = _lams_and_units(model, plan, names, infos)
    info = {
        "method": "laplace",
        "converged": True,
        "seconds": round(seconds, 3),
        "evaluations": fit.evaluations,
        "steps": {k: round(v, 3) for k, v in fit.seconds.items()},
        "dimensions": fit.n_dim,
        "scale_at_mode": {n: _round(np.exp(fit.log_scale[n])) for n in names},
        "scale_used": {n: _round(scales[n]) for n in names},
        "lam_mean": {n: round(float(np.mean(infos[n].lam_raw)), 4) for n in names},
        "fallback": fallback,
    }
    notes = [
        f"auto: Laplace fit of the non-centered model ({plural(fit.n_dim, 'dimension')}, "
        f"{fit.message}): "
        f"{seconds:.1f} s, {fit.evaluations} log-density evaluations, no sampling",
        f"auto: lam = I s^2 / (1 + I s^2) at the mode, s = prior scale at the mode x "
        f"exp(-{Z:.2f} sd of its log); lam < {SNAP:g} -> 0, >= {CENTER_ABOVE:g} -> 1",
    ]
    notes += _fit_notes("auto", names, infos, fallback, lams)
    return lams, units, notes, info


def lowered_scales(fit, names) -> dict[str, np.ndarray]:
    """``s_k`` per candidate: its prior scale at the fit's mode lowered by :data:`Z` Laplace
    standard deviations of its log."""
    return {n: np.exp(fit.log_scale[n] - Z * fit.log_scale_sd[n]) for n in names}


def _fit_notes(
    source: str, names, infos: dict[str, Info], fallback: dict[str, str], lams: dict
) -> list[str]:
    notes = [f"{source}: {n}: {_summary(infos[n])}{_one_lam(infos[n], lams[n])}" for n in names]
    return notes + [
        f"{source}: {n}: left non-centered (fallback): {w}" for n, w in fallback.items()
    ]


def _finite(names, infos: dict[str, Info], fallback: dict[str, str]):
    """Move the variables whose information or scale is not finite to ``fallback``."""
    fallback = dict(fallback)
    for n in names:
        info = infos[n]
        if not (np.all(np.isfinite(info.lam_raw)) and np.all(np.isfinite(info.scale))):
            fallback[n] = "its information or scale at the fit's point is not finite"
    kept = [n for n in names if n not in fallback]
    return kept, {n: infos[n] for n in kept}, fallback


def _lams_and_units(model, plan: Plan, names, infos: dict[str, Info]) -> tuple[dict, dict]:
    rules = plan.rules(model)
    lams = {n: _to_var_shape(rules[n], infos[n]) for n in names}
    # partially centered in units of s_k: lam = I s^2 / (1 + I s^2) decouples the offset from
    # the scale and the location only where scale / s_k is about 1, whatever the data's units
    units = {n: _unit(infos[n].scale, rules[n].elementwise) for n in names}
    return lams, units


def _unit(scale: np.ndarray, elementwise: bool = True) -> np.ndarray:
    """``s_k`` as the unit; 1 where it is 0 or not finite (there lam is 0 and needs none).
    One unit (the geometric mean) for a variable with one lam."""
    scale = np.asarray(scale, dtype=float)
    unit = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    return unit if elementwise else np.asarray(np.exp(np.mean(np.log(unit))))


def _pilot_lams(
    model, plan: Plan, random_seed, **pilot_settings
) -> tuple[dict, dict, list[str], dict]:
    from decenter.auto.pilot import pilot_draws

    draws, pinfo = pilot_draws(model, plan, random_seed=random_seed, **pilot_settings)
    t0 = time.perf_counter()
    names = [d.name for d in plan.rewrites]
    fn = InformationFn(model, names, random_seed=random_seed, rules=plan.rules(model))
    infos = fn(draws)
    t_curv = time.perf_counter() - t0
    fallback = {n: f"the fit could not handle it ({why})" for n, why in fn.failed.items()}
    names, infos, fallback = _finite(fn.names, infos, fallback)
    lams, units = _lams_and_units(model, plan, names, infos)
    notes = [
        f"pilot: {pinfo['sampler']} NUTS on the non-centered model, "
        f"{plural(pinfo['chains'], 'chain')} x ({pinfo['tune']} tune + "
        f"{plural(pinfo['draws'], 'draw')}): {pinfo['seconds']:.1f} s, "
        f"{plural(pinfo['gradients'], 'gradient evaluation')} "
        f"({plural(pinfo['divergences'], 'divergence')}); "
        f"curvature: {t_curv:.1f} s",
        f"pilot: lam = I s^2 / (1 + I s^2), I = curvature of the rest of the model, "
        f"s = {SCALE_QUANTILE:g} quantile of the prior scale; lam < {SNAP:g} -> 0, "
        f">= {CENTER_ABOVE:g} -> 1",
    ]
    notes += _fit_notes("pilot", names, infos, fallback, lams)
    fit = {"method": "pilot", "converged": True, **pinfo, "fallback": fallback}
    fit["seconds"] = round(pinfo["seconds"] + t_curv, 3)
    return lams, units, notes, fit


def _one_lam(info: Info, lam: np.ndarray) -> str:
    """What a variable with one lam (ZeroSumNormal, walks) takes of its elements' lams."""
    if np.ndim(lam) or np.size(info.lam_raw) == 1:
        return ""
    return f"; one lam for the variable, their mean: {lam_text(float(lam), 'g')}"


def _round(x: np.ndarray) -> float | list:
    x = np.asarray(x, dtype=float)
    if x.size == 1 or np.ptp(x) == 0:
        return round(float(x.flat[0]), 4)
    return np.round(x, 4).tolist()


def _summary(info: Info) -> str:
    lam = np.asarray(info.lam, dtype=float)
    n0, n1 = int((lam == 0).sum()), int((lam == 1).sum())
    if lam.size == 1 or np.ptp(lam) == 0:
        text = f"lam {lam_text(lam.flat[0], 'g')}"
    else:
        text = (
            f"lam {lam_text(lam.min())}..{lam_text(lam.max())} (median {np.median(lam):.2f}; "
            f"{n0} non-centered, {n1} centered, {lam.size - n0 - n1} partial of {lam.size})"
        )
    partial = (lam > 0) & (lam < 1)
    scale = np.broadcast_to(np.asarray(info.scale, dtype=float), lam.shape)[partial]
    if partial.any() and not np.all(scale == 1):
        unit = (
            f"{scale.min():.3g}" if np.ptp(scale) == 0 else f"{scale.min():.3g}..{scale.max():.3g}"
        )
        text += f", in units of s = {unit}"
    return text


def _to_var_shape(rule, info: Info) -> np.ndarray:
    """The lam of each element; one lam for a rule that is not elementwise: the mean of the
    snapped lams (rounded to 0 or 1 by the plan), or for a scalar-lam rule (ZeroSumNormal) the
    mean of the raw lams, snapped as one element is."""
    if rule.elementwise:
        return info.lam
    if rule.scalar_lam:
        return snap(np.mean(info.lam_raw))
    return np.asarray(float(np.mean(info.lam)))
