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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pymc as pm
from pytensor.graph.basic import Variable

from decenter.core.fingerprint import fingerprint
from decenter.core.graph import free_parents, model_graph
from decenter.core.reasons import (
    _family_name,
    _guard_note,
    _offsets_of,
    _same_transform,
    _unsafe_scale,
    _unsupported_reason,
    _words,
)
from decenter.core.strategy import (  # noqa: F401  (FIT_STRATEGIES re-exported for decenter.auto)
    FIT_STRATEGIES,
    STRATEGIES,
    _apply_lam,
    _assign_lams,
    _check_lam,
    _check_unit,
    _compact,
    _normalize_strategy,
    _static_shape,
    annotate,
)
from decenter.families import Rule, default_transform, find_rule
from decenter.families.guard import can_guard
from decenter.report.notebook import plan_frame, plan_html
from decenter.util.args import (  # noqa: F401  (check_model re-exported)
    RandomSeed,
    check_bool,
    check_model,
    names_of,
    seed_int,
    var_names_arg,
)

__all__ = ["Decision", "Plan", "decide", "with_lams", "check_model", "lam_text", "STRATEGIES"]


def lam_text(lam: float, kind: str = "f") -> str:
    """Two digits, more where two would show a partial lam as 0 or 1 or as a snap threshold
    (0.9496 is "0.9496", not "0.95", which the default would have left centered)."""
    for digits in (2, 3, 4):
        text = f"{float(lam):.{digits}{kind}}"
        if float(text) == lam or float(text) not in (0.0, 0.05, 0.95, 1.0):
            return text
    return text


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
    guard: str | None = None  # the Potential of an unproven scale (decenter.families.guard)
    #: terms of a likelihood moved into the location (decenter.core.hoist), as text
    hoisted: tuple[str, ...] = ()
    #: the family's rule (decenter.families), found once when the plan is made; not part of
    #: the plan's JSON, its equality or its repr (None for a plan read back from JSON)
    rule: Any = field(default=None, repr=False, compare=False)

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
            return lam_text(lam.flat[0], "g")
        return f"{lam_text(lam.min())}..{lam_text(lam.max())} (median {np.median(lam):.2f})"

    def to_dict(self) -> dict:
        """Plain values; ``lam`` as the table shows it: 0 non-centered, 1 a kept hierarchical
        variable, None where lam means nothing (not hierarchical)."""
        d = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name != "rule"}
        d["dims"] = list(self.dims)
        d["hoisted"] = list(self.hoisted)
        for key in ("lam", "unit"):
            value = getattr(self, key)
            d[key] = None if value is None else np.asarray(value, dtype=float).tolist()
        if d["lam"] is None and self.lam_summary() in ("0", "1"):
            d["lam"] = float(self.lam_summary())
        return d


@dataclass
class Plan:
    """Every free variable with a decision, plus notes (e.g. the pilot used by ``auto``)."""

    decisions: list[Decision]
    strategy: str = "noncentered"
    notes: list[str] = field(default_factory=list)
    fit: dict = field(default_factory=dict)  # what a data-informed strategy computed, and its cost
    #: the model it was made for (decenter.core.fingerprint), checked before it is applied
    fingerprint: tuple = field(default=(), repr=False, compare=False)

    @property
    def rewrites(self) -> list[Decision]:
        return [d for d in self.decisions if d.rewrite]

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each variable's shape, as recorded when the plan was made (empty for a plan read
        back from JSON)."""
        return {v.name: v.shape for v in self.fingerprint}

    def rules(self, model: pm.Model) -> dict[str, Rule]:
        """The rule of each rewritten variable: its decision's, found when the plan was made
        (found again only for a plan read back from JSON, whose decisions carry none)."""
        return {d.name: d.rule or find_rule(model[d.name]) for d in self.rewrites}

    @property
    def guard_notes(self) -> list[str]:  # a line naming the guarded variables, if any
        return _guard_note(self.rewrites)

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
        lines.extend(self.guard_notes + self.notes)
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))

    def _repr_html_(self) -> str:  # Jupyter
        return plan_html(self)

    def to_dataframe(self):
        """A pandas DataFrame, a row per free variable: see :func:`decenter.report.notebook.plan_frame`."""
        return plan_frame(self)


def _candidate(
    model: pm.Model, rv: Variable, include_loc_only: bool, graph
) -> tuple[Decision, Rule | None]:
    name = rv.name
    dims = tuple(model.named_vars_to_dims.get(name) or ())
    rule = find_rule(rv)  # once per free variable: the decision carries it
    family = rule.name if rule is not None else _family_name(rv)
    keep = dict(name=name, family=family, action="keep", dims=dims, rule=rule)
    if rule is None:
        return Decision(**keep, reason=_unsupported_reason(rv)), None
    why = rule.why_not(rv)
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
    unsafe = None
    if scale_p or (loc_p and include_loc_only):
        unsafe = _unsafe_scale(model, rule, ls, guarded=can_guard(rule))
        if unsafe and not can_guard(rule):
            return Decision(**keep, reason=unsafe), None
    rewrite = {**keep, "action": "rewrite", "guard": "" if unsafe else None}
    guarded = f"; {unsafe}" if unsafe else ""
    if scale_p:
        return Decision(**rewrite, reason=f"scale depends on {_words(scale_p)}{guarded}"), rule
    if loc_p and include_loc_only:
        reason = f"location depends on {_words(loc_p)} (include_loc_only=True){guarded}"
        return Decision(**rewrite, reason=reason), rule
    if loc_p:
        reason = f"scale is constant, only the location depends on {_words(loc_p)}; include_loc_only=True rewrites it"
        return Decision(**keep, reason=reason), None
    return Decision(**keep, reason="location and scale are constant (not hierarchical)"), None


def _unique_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    i = 1
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def decide(
    model: pm.Model,
    var_names: Iterable[str | Variable] | None = None,
    *,
    strategy: str | float | Mapping[str, Any] = "noncentered",
    include_loc_only: bool = False,
    random_seed: RandomSeed = None,
    vars: Iterable[str] | None = None,
) -> Plan:
    """The data-free step of :func:`decenter.plan`: for every free variable, its candidate
    rule and reason, and a lam from a fixed strategy (there is one ``plan``, the public one;
    it calls this, then chooses lam from the data for ``"auto"`` and ``"pilot"``).

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
        Unused at this level (kept so that it takes :func:`decenter.plan`'s arguments).

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
    >>> from decenter.core.plan import decide
    >>> decide(m)["theta"].new_name
    'theta_offset'
    >>> decide(m, var_names=[m["mu"]])["theta"].action
    'keep'
    """
    check_model(model)
    check_bool(include_loc_only, "include_loc_only")
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
    graph = model_graph(model)
    done = _offsets_of(model)  # a model decenter already rewrote
    for rv in model.free_RVs:
        d, _ = _candidate(model, rv, include_loc_only, graph)
        if d.rewrite and selected is not None and d.name not in selected:
            d.action, d.reason = "keep", f"not in vars ({d.reason})"
        # partially centered offsets are hierarchical again; a small MvNormal's is a CustomDist
        if d.name in done and (d.rewrite or find_rule(rv) is None):
            d.action, d.reason = "keep", f"already reparameterized by decenter (of {done[d.name]})"
        decisions.append(d)

    result = Plan(decisions, strategy=strategy if isinstance(strategy, str) else "partial")
    result.fingerprint = fingerprint(model, graph, {d.name: d.family for d in decisions})
    centered = _assign_lams(model, result, strategy)
    annotate(model, result, centered)
    _name_offsets(model, result)
    return result


def _name_offsets(model: pm.Model, result: Plan) -> None:
    """The standardized variable of ``x`` is ``x_offset`` whatever its lam (``x_offset_1``, ...
    if the model already has that name), so names do not change with the data or the seed.
    Named once: a decision that has its names (a copy made by :func:`with_lams`) keeps them."""
    named = [n for d in result.rewrites for n in (d.new_name, d.guard) if n]
    taken = {*model.named_vars, *named}
    for d in result.rewrites:  # and the guard's Potential (see decenter.families.guard)
        if d.new_name is None:
            d.new_name = _unique_name(d.name + "_offset", taken)
            taken.add(d.new_name)
        if d.guard == "":  # to be guarded, not yet named
            d.guard = _unique_name(d.name + "_guard", taken)
            taken.add(d.guard)
    for d in result.decisions:
        d.guard = d.guard if d.rewrite else None


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
    >>> from decenter.core.plan import decide, with_lams
    >>> with pm.Model() as m:
    ...     tau = pm.HalfNormal("tau")
    ...     theta = pm.Normal("theta", 0, tau, shape=2)
    >>> p = with_lams(m, decide(m), {"theta": [0.0, 1.0]}, "example")
    >>> p["theta"].lam.tolist(), p["theta"].new_name
    ([0.0, 1.0], 'theta_offset')
    """
    units = units or {}
    shapes = base.shapes  # known: no shape evaluated again
    result = Plan([copy.copy(d) for d in base.decisions], strategy=source, notes=list(base.notes))
    result.fingerprint = base.fingerprint
    centered = set()
    for d in result.rewrites:
        if d.name in lams:
            lam = _check_lam(lams[d.name], f"lam of {d.name!r}")
            unit = _check_unit(units.get(d.name), d.name)
            rv = model[d.name]
            rule = d.rule or find_rule(rv)  # a plan read back from JSON has no rule
            if _apply_lam(d, rule, lam, shapes.get(d.name) or _static_shape(rv), source, unit):
                centered.add(d.name)
    annotate(model, result, centered)
    _name_offsets(model, result)
    return result
