"""The registry of rules, keyed by the type of a random variable's op.

As PyTensor's node rewriters track the ops they rewrite, a rule is filed under its op types
(:attr:`decenter.families.Rule.op_types`) and :func:`find_rule` asks only the rules filed
under the variable's op type (then its base classes), not every rule in turn.
"""

from __future__ import annotations

from typing import Protocol

from pytensor.graph.basic import Variable


class Rule(Protocol):
    """What the registry needs of a rule (:class:`decenter.families.rules.Rule`, which imports
    this module to register itself)."""

    @property
    def op_types(self) -> tuple[type, ...]: ...

    def matches(self, rv: Variable) -> bool: ...

    def why_no_match(self, rv: Variable) -> str | None: ...


__all__ = ["RULES", "register", "find_rule", "refusal"]

#: every registered rule, the latest first
RULES: list[Rule] = []
#: the rules by op type (:attr:`Rule.op_types`), the latest first
_BY_OP: dict[type, list[Rule]] = {}


def register(rule: Rule) -> Rule:
    """Add a rule to the registry (a later rule for the same op type wins)."""
    RULES.insert(0, rule)
    for op_type in rule.op_types:
        _BY_OP.setdefault(op_type, []).insert(0, rule)
    return rule


def _candidates(rv: Variable) -> list[Rule]:
    """The rules filed under the op's type, then under its base classes (as ``isinstance``)."""
    if rv.owner is None:
        return []
    return [rule for t in type(rv.owner.op).__mro__ for rule in _BY_OP.get(t, ())]


def find_rule(rv: Variable) -> Rule | None:
    """The rule for this random variable's family, or None: looked up by the op's type (as
    PyTensor's node rewriters track ops), then asked whether it matches."""
    return next((rule for rule in _candidates(rv) if rule.matches(rv)), None)


def refusal(rv: Variable) -> str | None:
    """Why no rule rewrites ``rv`` though one is registered for its op type, or None.

    Examples
    --------
    >>> import pymc as pm
    >>> import decenter.families
    >>> walk = pm.RandomWalk.dist(
    ...     init_dist=pm.Beta.dist(1, 1), innovation_dist=pm.Normal.dist(), steps=3
    ... )
    >>> find_rule(walk) is None, refusal(walk)[:30]
    (True, 'RandomWalk: rewritten only wit')
    """
    return next(filter(None, (rule.why_no_match(rv) for rule in _candidates(rv))), None)
