"""Why a free variable is rewritten or kept: the words of :class:`decenter.core.plan.Decision`.

:mod:`decenter.plan` asks these helpers what a variable's family is called, why no rule
rewrites it, whether its value transform is PyMC's default, whether its scale is provably
positive, and whether decenter already rewrote it; the decisions are made there.
"""

from __future__ import annotations

import re

import numpy as np
import pymc as pm
from pytensor.graph.basic import Variable

from decenter._pymc import CensoredRV, CustomDistRV, CustomSymbolicDistRV, MixtureRV, dist_name
from decenter.core.positivity import describe, scale_problem
from decenter.families import Rule, find_rule, refusal

# the families no rule can read a location and scale from, and why
_NO_RULE = [
    (CensoredRV, "Censored: the censoring bounds do not commute with a location-scale map"),
    (MixtureRV, "Mixture: a mixture has no single location and scale"),
    (
        (CustomDistRV, CustomSymbolicDistRV),
        "CustomDist: decenter cannot read a location and scale from user code",
    ),
]


def _words(names: list[str]) -> str:
    s = "s" if len(names) > 1 else ""
    return f"free variable{s} " + ", ".join(names)


def _family_name(rv: Variable) -> str:
    op = rv.owner.op
    rule = find_rule(rv)
    if rule is not None:
        return rule.name
    return dist_name(op)  # PyMC's name ("LKJCholeskyCov", "Mixture"), not the op's class


def _unsupported_reason(rv: Variable) -> str:
    why = refusal(rv)  # a rule registered for this op type says why it does not match
    if why is not None:
        return why
    for op_types, why in _NO_RULE:
        if isinstance(rv.owner.op, op_types):
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


def _unsafe_scale(model: pm.Model, rule: Rule, ls, guarded: bool = False) -> str | None:
    """Why the rewrite could accept a point the original rejects (decenter.core.positivity); with
    ``guarded``, the same fact and what the guard does about it."""
    why = scale_problem(rule, ls, model)
    if why is None:
        return None
    text = describe(ls.scale)
    because = "" if why.startswith(f"{text} is not known") else f" ({why})"
    mv = rule.covariance
    what = "covariance" if mv else "scale"
    proof = "positive definite" if mv else "positive"
    if guarded:
        rejects = "a covariance without a Cholesky factor" if mv else "a scale <= 0"
        return (
            f"{what} {text} is not provably {proof}{because}: guarded, the new model rejects "
            f"{rejects} as the original does"
        )
    if mv:
        return (
            f"covariance {text} is not provably positive definite{because}; rewriting it "
            "would accept covariances the original rejects"
        )
    return (
        f"scale {text} is not provably positive{because}; rewriting it would accept a scale "
        "<= 0, which the original rejects"
    )


def _offsets_of(model: pm.Model) -> dict[str, str]:
    """Free ``x_offset`` variables beside a Deterministic ``x``: decenter's own rewrites."""
    dets = {v.name for v in model.deterministics}
    out = {}
    for rv in model.free_RVs:
        base = re.sub(r"_offset(_\d+)?$", "", rv.name)
        if base != rv.name and base in dets:
            out[rv.name] = base
    return out


def _guard_note(rewrites) -> list[str]:
    """The line under the plan's table that names the guarded variables and their Potentials."""
    guarded = [f"{d.name} ({d.guard})" for d in rewrites if d.guard]
    if not guarded:
        return []
    why = "guarded (scale not provably positive; a Potential rejects what the original rejects)"
    return [f"{why}: " + ", ".join(guarded)]
