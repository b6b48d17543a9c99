"""The ``strategy`` argument and the values of lam, checked before any decision is made.

:func:`decenter.core.plan.decide` normalises ``strategy`` here once (a name, one lam for every
candidate, or a dict name -> lam) and checks every lam and unit it applies; the decisions
themselves are made in :mod:`decenter.plan`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pymc as pm
from pytensor.compile.mode import Mode
from pytensor.graph.basic import Variable

from decenter.core.hoist import find_terms
from decenter.families import find_rule

#: Strategy names. "auto" (the default of decenter.plan/transform) and "pilot" choose lam
#: from a fit of the model to its data: decenter.auto resolves them, then calls decenter.core.plan.decide.
STRATEGIES = ("auto", "pilot", "noncentered", "centered")
FIT_STRATEGIES = ("auto", "pilot")
#: Mode of a shape evaluation: plain Python, no compiler. PyTensor's default mode JIT-compiles
#: the few shape ops with numba, which costs most of a second in a new process.
_SHAPE_MODE = Mode(linker="py", optimizer="fast_compile")


def _normalize_strategy(model: pm.Model, strategy: Any) -> Any:
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise ValueError(
                f"strategy must be one of {STRATEGIES}, a number in [0, 1] or a dict name -> lam; got {strategy!r}"
            )
        if strategy in FIT_STRATEGIES:
            raise ValueError(
                f"strategy={strategy!r} fits the model to its data: call decenter.plan(model, "
                f"strategy={strategy!r}) (decenter.auto.plan), not decenter.core.plan.decide"
            )
        return strategy
    if isinstance(strategy, Mapping):
        out = {}
        for k, v in strategy.items():
            if not isinstance(k, str):
                raise TypeError(
                    f"strategy: dict keys must be variable names (str), got {type(k).__name__} {k!r}; e.g. strategy={{'theta': 0.5}}"
                )
            if k not in model.named_vars or model[k] not in model.free_RVs:
                raise ValueError(
                    f"strategy: {k!r} is not a free variable of this model; free variables are {[r.name for r in model.free_RVs]}"
                )
            out[k] = _check_lam(v, f"strategy[{k!r}]")
        return out
    if isinstance(strategy, bool) or not isinstance(strategy, int | float | np.number):
        raise TypeError(
            f"strategy must be 'noncentered', 'centered', 'auto', a number in [0, 1] or a dict; got {type(strategy).__name__}"
        )
    if not math.isfinite(float(strategy)) or not 0 <= float(strategy) <= 1:
        raise ValueError(
            f"strategy: lam must lie in [0, 1] (0 = non-centered, 1 = centered), got {strategy!r}"
        )
    return float(strategy)


def _check_lam(value: Any, where: str) -> Any:
    try:
        arr = None if isinstance(value, str) else np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is None:
        raise ValueError(
            f"{where}: lam must be a number or an array of numbers in [0, 1], got {value!r}"
        )
    if np.isnan(arr).any() or (arr < 0).any() or (arr > 1).any():
        raise ValueError(
            f"{where}: lam must lie in [0, 1] (0 = non-centered, 1 = centered), got {value!r}"
        )
    return arr


def _check_unit(value: Any, name: str) -> np.ndarray | None:
    if value is None:
        return None
    unit = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(unit) & (unit > 0)):
        raise ValueError(f"unit of {name!r} must be positive and finite, got {value!r}")
    return unit


def _static_shape(rv: Variable) -> tuple[int, ...] | None:
    """The variable's shape, from its type when known (no compilation), else evaluated."""
    if all(s is not None for s in rv.type.shape):
        return tuple(int(s) for s in rv.type.shape)
    for mode in (_SHAPE_MODE, None):  # None: PyTensor's default, for an op with no Python code
        try:
            return tuple(int(s) for s in rv.shape.eval(mode=mode))
        except Exception:  # shape depends on something that cannot be evaluated alone
            continue
    return None


#: how decenter.core.strategy ends the reason of a variable it keeps because lam = 1
LEFT_CENTERED = "left centered"


def _apply_lam(
    d: Any,
    rule: Any,
    lam: np.ndarray,
    shape: tuple[int, ...] | None,
    source: str,
    unit: np.ndarray | None = None,
) -> bool:
    """Set the :class:`decenter.core.plan.Decision`'s lam (and unit) for its rule: all zeros -> None (non-centered), all ones -> keep.
    Returns whether it was left centered (lam = 1 everywhere)."""
    if shape is not None and lam.ndim:
        try:
            np.broadcast_to(lam, shape)
        except ValueError:
            raise ValueError(
                f"strategy for {d.name!r}: lam of shape {lam.shape} does not match the variable's shape {shape}"
            ) from None
    if not rule.elementwise:
        lam = _whole_variable_lam(d, rule, lam)
    d.lam = d.unit = None
    if np.all(lam == 1):
        d.action = "keep"
        d.new_name = d.guard = None  # named for the fit's helper model; nothing new is made
        d.reason += f"; lam = 1 ({source}): {LEFT_CENTERED}"
        return True
    if not np.all(lam == 0):
        d.lam = lam if lam.ndim else float(lam)
        d.unit = None if unit is None or np.all(unit == 1) else _compact(unit)
    return False


def _whole_variable_lam(d: Any, rule: Any, lam: np.ndarray) -> np.ndarray:
    """One lam for a variable whose rule is not elementwise: the mean, kept partial where the
    rule takes a scalar lam (ZeroSumNormal), else rounded to 0 or 1; the reason says which."""
    mean = float(np.mean(lam))
    if rule.scalar_lam:
        if lam.ndim and np.ptp(lam) > 0:
            d.reason += (
                f"; {d.family} takes one lam for the whole variable: lam averaged to {mean:.2g}"
            )
        return np.asarray(mean)
    if np.all(lam == 0) or np.all(lam == 1):
        return lam
    rounded = float(mean >= 0.5)
    d.reason += f"; {d.family} is centered or not as a whole: lam rounded to {rounded:g}"
    return np.asarray(rounded)


def _compact(x: np.ndarray) -> float | np.ndarray:
    """A float if every element is the same, else the array."""
    x = np.asarray(x, dtype=float)
    return float(x.flat[0]) if x.size == 1 or np.ptp(x) == 0 else x


def _assign_lams(model: pm.Model, result: Any, strategy: Any) -> set[str]:
    """Apply a fixed strategy's lams; the names it left centered (lam = 1), which may still
    take terms into their location (``strategy="centered"`` leaves the model as written)."""
    if strategy == "noncentered":
        return set()
    if strategy == "centered":
        for d in result.rewrites:
            d.action, d.reason = "keep", d.reason + "; strategy='centered'"
        return set()
    if isinstance(strategy, dict):
        lams, source = strategy, "strategy dict"
        candidates = {d.name for d in result.rewrites}
        for name in lams:
            if name not in candidates:
                why = result[name].reason
                result.notes.append(f"strategy: {name!r} is kept ({why}); its lam is ignored")
    else:
        lams, source = {d.name: np.asarray(strategy) for d in result.rewrites}, "strategy"
    centered = set()
    for d in list(result.rewrites):
        if d.name in lams:
            lam = np.asarray(lams[d.name], dtype=float)
            if _apply_lam(d, d.rule, lam, _static_shape(model[d.name]), source):
                centered.add(d.name)
    return centered


def annotate(model: pm.Model, plan: Any, centered: set[str]) -> None:
    """Record on each partially centered decision of ``plan`` the terms that move into its
    location (``d.hoisted``, their texts) and say so in its reason. A variable the strategy
    left centered (``centered``: lam = 1 everywhere) that has terms to take is rewritten at
    lam = 1 around them."""
    for d in plan.decisions:
        d.hoisted = ()
    names = candidates(model, plan.decisions)
    if not names:
        return
    by_name = {d.name: d for d in plan.decisions}
    for name, terms in find_terms(model, names, plan.shapes).items():
        d = by_name[name]
        kept = name in centered
        if not terms or not (kept or (d.rewrite and d.lam is not None and np.max(d.lam) > 0)):
            continue  # at lam = 0 the shift cancels
        if kept:
            d.action, d.lam = "rewrite", 1.0
            d.reason = d.reason.removesuffix(LEFT_CENTERED) + "centered"
        d.hoisted = tuple(t.text for t in terms)
        d.reason += f"; location includes {' + '.join(d.hoisted)} (one value per group)"


def candidates(model: pm.Model, decisions: list) -> list[str]:
    """The hierarchical variables of an affine family with a location: those that may take
    terms. It depends on the model only (not on lam), so the terms found when a plan is
    made and when it is applied are the same (the crossed-factor rule looks at all of them)."""
    out = []
    for d in decisions:
        if not d.scale_parents:
            continue
        rule = d.rule or find_rule(model[d.name])  # a plan read back from JSON has no rule
        if rule is not None and rule.affine and rule.has_loc and rule.elementwise:
            out.append(d.name)
    return out
