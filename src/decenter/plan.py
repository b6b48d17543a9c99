"""Decisions with reasons: which free variables to rewrite, and how centered to leave them.

Examples
--------
>>> from decenter import plan
>>> from decenter.examples.radon import centered_model
>>> p = plan(centered_model())
>>> [d.name for d in p.rewrites]
['a', 'b']
>>> p["b"].reason
'scale depends on free variable sigma_b'
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pymc as pm
from pytensor.graph.basic import Variable

from decenter._args import RandomSeed, names_of, seed_int, var_names_arg
from decenter.families import Rule, default_transform, find_rule
from decenter.graph import free_parents, model_graph
from decenter.positivity import describe, scale_problem

__all__ = ["Decision", "Plan", "plan", "with_lams", "check_model", "STRATEGIES"]

#: Strategy names. "auto" (the default of decenter.plan/transform) and "pilot" choose lam
#: from a fit of the model to its data: decenter.auto resolves them, then calls this module.
STRATEGIES = ("auto", "pilot", "noncentered", "centered")
FIT_STRATEGIES = ("auto", "pilot")


@dataclass
class Decision:
    """What decenter does with one free variable, and why."""

    name: str
    family: str
    action: str  # "rewrite" or "keep"
    reason: str
    dims: tuple[str, ...] = ()
    loc_parents: list[str] = field(default_factory=list)
    scale_parents: list[str] = field(default_factory=list)
    new_name: str | None = None  # the standardized free variable that replaces it
    lam: Any = None  # None: fully non-centered (lam = 0); else a float or an array
    #: the constant scale in whose units the partial centering is done (None: 1); the fit's
    #: scale, so that lam means the same whatever the units of the data (see decenter.auto)
    unit: Any = None

    @property
    def rewrite(self) -> bool:
        return self.action == "rewrite"

    def lam_summary(self) -> str:
        if not self.rewrite:
            # a kept hierarchical variable stays centered (lam = 1); "-" where lam means nothing
            return "1" if self.loc_parents or self.scale_parents else "-"
        if self.lam is None:
            return "0"
        lam = np.asarray(self.lam, dtype=float)
        if lam.ndim == 0 or np.ptp(lam) == 0:
            return f"{float(lam.flat[0]):.2g}"
        return f"{lam.min():.2f}..{lam.max():.2f} (median {np.median(lam):.2f})"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dims"] = list(self.dims)
        for key in ("lam", "unit"):
            value = getattr(self, key)
            d[key] = None if value is None else np.asarray(value, dtype=float).tolist()
        return d


@dataclass
class Plan:
    """Every free variable with a decision, plus notes (e.g. the pilot used by ``auto``)."""

    decisions: list[Decision]
    strategy: str = "noncentered"
    notes: list[str] = field(default_factory=list)
    fit: dict = field(default_factory=dict)  # what a data-informed strategy computed, and its cost

    @property
    def rewrites(self) -> list[Decision]:
        return [d for d in self.decisions if d.rewrite]

    def __getitem__(self, name: str) -> Decision:
        for d in self.decisions:
            if d.name == name:
                return d
        raise KeyError(name)

    def __iter__(self):
        return iter(self.decisions)

    def __len__(self) -> int:
        return len(self.decisions)

    def to_dict(self) -> dict:
        return {
            "strategy": self.strategy,
            "decisions": [d.to_dict() for d in self.decisions],
            "notes": list(self.notes),
            "fit": dict(self.fit),
        }

    def __str__(self) -> str:
        rows = [("variable", "family", "action", "lam", "new variable", "reason")]
        for d in self.decisions:
            rows.append((d.name, d.family, d.action, d.lam_summary(), d.new_name or "", d.reason))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        lines = []
        for i, r in enumerate(rows):
            lines.append(
                "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)) + "  " + r[-1]
            )
            if i == 0:
                lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
        n = len(self.rewrites)
        lines.append(
            f"{n} of {len(self.decisions)} free variables rewritten (strategy={self.strategy!r})."
        )
        lines.extend(self.notes)
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))


def check_model(model: Any) -> pm.Model:
    """Raise a TypeError that says what to pass when ``model`` is not a ``pm.Model``."""
    if not isinstance(model, pm.Model):
        raise TypeError(
            f"expected a pymc.Model, got {type(model).__name__}; pass the model object, e.g. "
            "`with pm.Model() as model: ...` then `decenter.transform(model)`"
        )
    if model.parent is not None:
        raise ValueError(
            "this is a sub-model (pm.Model(name=...) inside another); pass the outermost model"
        )
    return model


def _words(names: list[str]) -> str:
    s = "s" if len(names) > 1 else ""
    return f"free variable{s} " + ", ".join(names)


def _family_name(rv: Variable) -> str:
    op = rv.owner.op
    rule = find_rule(rv)
    if rule is not None:
        return rule.name
    name = getattr(op, "name", None) or type(op).__name__
    return str(name).removesuffix("_rv")


def _unsupported_reason(rv: Variable) -> str:
    op = rv.owner.op
    cls = type(op).__name__
    if cls == "TruncatedRV":
        base = str(getattr(op.base_rv_op, "name", None) or "this base").removesuffix("_rv")
        return (
            f"Truncated {base}: only continuous location-scale and scale bases (Normal, StudentT, "
            "HalfNormal, ...) are rewritten; the bounds of other bases do not move with a scale"
        )
    if cls == "RandomWalkRV":
        return (
            "RandomWalk: rewritten only with location-scale innovations (Normal, StudentT, "
            "MvNormal, ...) and an unconstrained init_dist (one value holds init and offsets)"
        )
    for key, why in [
        ("Censored", "Censored: the censoring bounds do not commute with a location-scale map"),
        ("Mixture", "Mixture: a mixture has no single location and scale"),
        ("CustomDist", "CustomDist: decenter cannot read a location and scale from user code"),
        ("CustomSymbolic", "CustomDist: decenter cannot read a location and scale from user code"),
    ]:
        if key in cls:
            return why
    return f"no rewrite rule for {_family_name(rv)} (see decenter.families)"


def _same_transform(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (
        type(a) is type(b)
        and vars(a).keys() == vars(b).keys()
        and all(_same_attr(vars(a)[k], vars(b)[k]) for k in vars(a))
    )


def _same_attr(x, y) -> bool:
    # an Interval's bounds function is a closure made per call: same code, same captured values
    code = getattr(x, "__code__", None)
    if code is None or code is not getattr(y, "__code__", None):
        return bool(np.all(np.asarray(x == y)))
    cells = zip(x.__closure__ or (), y.__closure__ or (), strict=True)
    return all(_same_attr(c.cell_contents, d.cell_contents) for c, d in cells)


def _candidate(
    model: pm.Model, rv: Variable, include_loc_only: bool, graph
) -> tuple[Decision, Rule | None]:
    name = rv.name
    dims = tuple(model.named_vars_to_dims.get(name) or ())
    rule = find_rule(rv)
    keep = dict(name=name, family=_family_name(rv), action="keep", dims=dims)
    if rule is None:
        return Decision(**keep, reason=_unsupported_reason(rv)), None
    why = rule.check(rv)
    if why:
        return Decision(**keep, reason=why), None
    transform = model.rvs_to_transforms.get(rv)
    if not _same_transform(transform, default_transform(rv)):
        tname = type(transform).__name__ if transform is not None else "none"
        return Decision(**keep, reason=f"has a non-default value transform ({tname})"), None
    ls = rule.read(rv)
    loc_p = free_parents(model, ls.loc, graph) if ls.loc is not None else []
    scale_p = free_parents(model, ls.scale, graph)
    keep.update(loc_parents=loc_p, scale_parents=scale_p)
    if scale_p or (loc_p and include_loc_only):
        unsafe = _unsafe_scale(model, rule, ls)
        if unsafe:
            return Decision(**keep, reason=unsafe), None
    if scale_p:
        return Decision(
            **{**keep, "action": "rewrite"}, reason=f"scale depends on {_words(scale_p)}"
        ), rule
    if loc_p and include_loc_only:
        reason = f"location depends on {_words(loc_p)} (include_loc_only=True)"
        return Decision(**{**keep, "action": "rewrite"}, reason=reason), rule
    if loc_p:
        reason = f"scale is constant, only the location depends on {_words(loc_p)}; include_loc_only=True rewrites it"
        return Decision(**keep, reason=reason), None
    return Decision(**keep, reason="location and scale are constant (not hierarchical)"), None


def _unsafe_scale(model: pm.Model, rule: Rule, ls) -> str | None:
    """Why the rewrite could accept a point the original rejects (decenter.positivity)."""
    why = scale_problem(rule, ls, model)
    if why is None:
        return None
    text = describe(ls.scale)
    because = "" if why.startswith(f"{text} is not known") else f" ({why})"
    if rule.name == "MvNormal":
        return (
            f"covariance {text} is not provably positive definite{because}; rewriting it "
            "would accept covariances the original rejects"
        )
    return (
        f"scale {text} is not provably positive{because}; rewriting it would accept a scale "
        "<= 0, which the original rejects"
    )


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


def _apply_lam(
    d: Decision,
    rule: Rule,
    lam: np.ndarray,
    shape: tuple[int, ...] | None,
    source: str,
    unit: np.ndarray | None = None,
) -> None:
    """Set the decision's lam (and unit): all zeros -> None (non-centered), all ones -> keep."""
    if shape is not None and lam.ndim:
        try:
            np.broadcast_to(lam, shape)
        except ValueError:
            raise ValueError(
                f"strategy for {d.name!r}: lam of shape {lam.shape} does not match the variable's shape {shape}"
            ) from None
    if not rule.elementwise and not (np.all(lam == 0) or np.all(lam == 1)):
        rounded = float(np.mean(lam) >= 0.5)
        d.reason += f"; {d.family} is centered or not as a whole: lam rounded to {rounded:g}"
        lam = np.asarray(rounded)
    d.lam = d.unit = None
    if np.all(lam == 1):
        d.action = "keep"
        d.reason += f"; lam = 1 ({source}): left centered"
    elif not np.all(lam == 0):
        d.lam = lam if lam.ndim else float(lam)
        d.unit = None if unit is None or np.all(unit == 1) else _compact(unit)


def _compact(x: np.ndarray) -> float | np.ndarray:
    """A float if every element is the same, else the array."""
    x = np.asarray(x, dtype=float)
    return float(x.flat[0]) if x.size == 1 or np.ptp(x) == 0 else x


def _static_shape(rv: Variable) -> tuple[int, ...] | None:
    """The variable's shape, from its type when known (no compilation), else evaluated."""
    if all(s is not None for s in rv.type.shape):
        return tuple(int(s) for s in rv.type.shape)
    try:
        return tuple(int(s) for s in rv.shape.eval())
    except Exception:  # shape depends on something that cannot be evaluated alone
        return None


def _unique_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    i = 1
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def plan(
    model: pm.Model,
    var_names: Iterable[str | Variable] | None = None,
    *,
    strategy: str | float | Mapping[str, Any] = "noncentered",
    include_loc_only: bool = False,
    random_seed: RandomSeed = None,
    vars: Iterable[str] | None = None,
) -> Plan:
    """Decide, for every free variable, whether to rewrite it and how centered to leave it.

    Parameters
    ----------
    model : pm.Model
        The model to analyse (not modified).
    var_names : list of str or model variables, optional
        Restrict rewrites to these free variables (names or the variables themselves, as in
        ``pm.do``); others are kept. ``vars=`` is the deprecated name of this argument.
    strategy : "noncentered", "centered", float or dict
        ``"noncentered"`` (default at this level) rewrites every candidate to
        ``loc + scale * offset``. A number ``lam`` in [0, 1] partially centers every
        candidate; a dict maps names to ``lam`` (a number, or an array over the variable's
        dims); candidates not in the dict are non-centered. The data-informed strategies
        ``"auto"`` and ``"pilot"`` need a fit of the model: :func:`decenter.plan` (that is,
        :func:`decenter.auto.plan`) resolves them and then calls this function with a dict.
    include_loc_only : bool
        Also rewrite variables whose scale is constant but whose location is random.
    random_seed : optional
        Unused at this level (kept so that both ``plan`` functions take the same arguments).

    Returns
    -------
    Plan
        One :class:`Decision` per free variable; ``print(plan)`` shows a table.

    Examples
    --------
    >>> import pymc as pm, decenter
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu")
    ...     tau = pm.HalfNormal("tau")
    ...     theta = pm.Normal("theta", mu, tau, shape=8)
    >>> from decenter.plan import plan
    >>> plan(m)["theta"].new_name
    'theta_offset'
    >>> plan(m, var_names=[m["mu"]])["theta"].action
    'keep'
    """
    check_model(model)
    names = set(model.named_vars)
    selected = names_of(model, var_names_arg(var_names, vars))
    for v in selected or ():
        if v not in names:
            raise ValueError(
                f"var_names: {v!r} is not a variable of this model; free variables are {[r.name for r in model.free_RVs]}"
            )
        if model[v] not in model.free_RVs:
            raise ValueError(
                f"var_names: {v!r} is not a free random variable (observed, Deterministic or data); only free variables can be rewritten"
            )
    random_seed = seed_int(random_seed)
    strategy = _normalize_strategy(model, strategy)

    decisions: list[Decision] = []
    rules: dict[str, Rule] = {}
    graph = model_graph(model)
    done = _offsets_of(model)  # a model decenter already rewrote
    for rv in model.free_RVs:
        d, rule = _candidate(model, rv, include_loc_only, graph)
        if d.rewrite and selected is not None and d.name not in selected:
            d.action, d.reason = "keep", f"not in vars ({d.reason})"
        if d.rewrite and d.name in done:  # partially centered offsets are hierarchical again
            d.action, d.reason = "keep", f"already reparameterized by decenter (of {done[d.name]})"
        if d.rewrite:
            rules[d.name] = rule
        decisions.append(d)

    result = Plan(decisions, strategy=strategy if isinstance(strategy, str) else "partial")
    _assign_lams(model, result, rules, strategy)
    _name_offsets(model, result)
    return result


def _offsets_of(model: pm.Model) -> dict[str, str]:
    """Free ``x_offset`` variables beside a Deterministic ``x``: decenter's own rewrites."""
    dets = {v.name for v in model.deterministics}
    out = {}
    for rv in model.free_RVs:
        base = re.sub(r"_offset(_\d+)?$", "", rv.name)
        if base != rv.name and base in dets:
            out[rv.name] = base
    return out


def _name_offsets(model: pm.Model, result: Plan) -> None:
    """The standardized variable of ``x`` is ``x_offset`` whatever its lam (``x_offset_1``, ...
    if the model already has that name), so names do not change with the data or the seed."""
    taken = set(model.named_vars)
    for d in result.rewrites:
        d.new_name = _unique_name(d.name + "_offset", taken)
        taken.add(d.new_name)


def with_lams(
    model: pm.Model,
    base: Plan,
    lams: Mapping[str, Any],
    source: str,
    units: Mapping[str, Any] | None = None,
) -> Plan:
    """A copy of ``base`` (a non-centered plan) with ``lams[name]`` applied to its candidates.

    Used by :mod:`decenter.auto` once a fit has chosen the lams; ``source`` names the
    strategy in the reasons. Candidates missing from ``lams`` stay non-centered. ``units[name]``
    (positive, optional) is the scale in whose units a partially centered variable is
    parameterized (see :class:`decenter.families.Rule`); without it the unit is 1.

    Examples
    --------
    >>> import pymc as pm
    >>> from decenter.plan import plan, with_lams
    >>> with pm.Model() as m:
    ...     tau = pm.HalfNormal("tau")
    ...     theta = pm.Normal("theta", 0, tau, shape=2)
    >>> p = with_lams(m, plan(m), {"theta": [0.0, 1.0]}, "example")
    >>> p["theta"].lam.tolist(), p["theta"].new_name
    ([0.0, 1.0], 'theta_offset')
    """
    units = units or {}
    result = Plan([copy.copy(d) for d in base.decisions], strategy=source, notes=list(base.notes))
    for d in result.rewrites:
        if d.name in lams:
            lam = _check_lam(lams[d.name], f"lam of {d.name!r}")
            unit = _check_unit(units.get(d.name), d.name)
            rv = model[d.name]
            _apply_lam(d, find_rule(rv), lam, _static_shape(rv), source, unit)
    _name_offsets(model, result)
    return result


def _check_unit(value: Any, name: str) -> np.ndarray | None:
    if value is None:
        return None
    unit = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(unit) & (unit > 0)):
        raise ValueError(f"unit of {name!r} must be positive and finite, got {value!r}")
    return unit


def _normalize_strategy(model: pm.Model, strategy: Any) -> Any:
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise ValueError(
                f"strategy must be one of {STRATEGIES}, a number in [0, 1] or a dict name -> lam; got {strategy!r}"
            )
        if strategy in FIT_STRATEGIES:
            raise ValueError(
                f"strategy={strategy!r} fits the model to its data: call decenter.plan(model, "
                f"strategy={strategy!r}) (decenter.auto.plan), not decenter.plan.plan"
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


def _assign_lams(model, result: Plan, rules: dict[str, Rule], strategy: Any) -> None:
    if strategy == "noncentered":
        return
    if strategy == "centered":
        for d in result.rewrites:
            d.action, d.reason = "keep", d.reason + "; strategy='centered'"
        return
    if isinstance(strategy, dict):
        lams, source = strategy, "strategy dict"
        candidates = {d.name for d in result.rewrites}
        for name in lams:
            if name not in candidates:
                why = result[name].reason
                result.notes.append(f"strategy: {name!r} is kept ({why}); its lam is ignored")
    else:
        lams, source = {d.name: np.asarray(strategy) for d in result.rewrites}, "strategy"
    for d in list(result.rewrites):
        if d.name in lams:
            lam = np.asarray(lams[d.name], dtype=float)
            _apply_lam(d, rules[d.name], lam, _static_shape(model[d.name]), source)
