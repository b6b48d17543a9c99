"""Guards: rewrite a variable whose scale is not provably positive, and still reject what the
original rejects.

``b ~ Normal(mu, s)`` has log density -inf wherever ``s <= 0`` (or ``s`` is not finite); the
non-centered ``b = mu + s * b_offset`` would accept those points. A guarded rewrite computes

* ``ok``: every element of the scale is > 0 and finite (MvNormal: the Cholesky factor of the
  covariance exists, i.e. is finite with a positive diagonal, the test PyMC's MvNormal applies);
* a *safe* scale ``switch(ok_element, scale, 1)`` (MvNormal: ``switch(ok, L, I)``) that the
  standard draw and the forward map use, so that no other term turns NaN where ``ok`` fails;
* a ``pm.Potential`` ``<x>_guard = switch(ok, 0, -inf)``.

Why a Potential, and not ``check_parameters`` on the offset's density: the Potential is part of
``model.logp()`` whatever the sampler (PyMC's NUTS, nutpie, numpyro, blackjax all compile that
graph) and whatever ``check_bounds`` says, its gradient is 0 (a switch between constants), and
where ``ok`` holds it adds exactly 0, so the initial-point check of ``pm.sample`` sees the
same finite value. Parameter checks instead are removed with ``check_bounds=False``, and a
guard inside the offset's parameters would make the offset look hierarchical to a second pass.
Where ``ok`` fails the model's log density is -inf, as the original's (the safe scale keeps the
other terms finite: ``-inf + NaN`` would be NaN, not -inf).

Examples
--------
>>> import pymc as pm
>>> from decenter.families import find_rule
>>> from decenter.families._guard import can_guard, guarded
>>> s = pm.Normal.dist(1.0, 1.0)
>>> b = pm.Normal.dist(0.0, s)
>>> rule = find_rule(b)
>>> can_guard(rule)
True
>>> ls, ok = guarded(rule, rule.read(b))
>>> ok.dtype
'bool'
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from decenter.families._core import (
    LocScale,
    LocScaleRule,
    LogNormalRule,
    MvNormalRule,
    Rule,
    ScaleRule,
    SkewNormalRule,
    ZeroSumNormalRule,
)

__all__ = ["can_guard", "guarded", "guard_logp"]

# rules whose forward map and standard draw read the scale only through ``ls.scale`` (or, for
# MvNormal, the Cholesky factor): a safe scale there guards the whole rewrite
_GUARDABLE = (LocScaleRule, SkewNormalRule, LogNormalRule, ScaleRule, ZeroSumNormalRule)


def can_guard(rule: Rule) -> bool:
    """True when a rewrite by ``rule`` can carry a guard (see the module docstring)."""
    return type(rule) in (*_GUARDABLE, MvNormalRule)


def guarded(rule: Rule, ls: LocScale) -> tuple[LocScale, Variable]:
    """``ls`` with a safe scale (MvNormal: a safe Cholesky factor in ``extra["chol"]``), and
    the scalar ``ok``: the original's scale is valid everywhere."""
    if isinstance(rule, MvNormalRule):
        chol = pt.linalg.cholesky(ls.scale, lower=True)  # on_error="nan": NaN where it fails
        diag = pt.diagonal(chol, axis1=-2, axis2=-1)
        ok = pt.all(pt.isfinite(chol)) & pt.all(diag > 0)
        eye = pt.eye(chol.shape[-1], dtype=chol.dtype)
        return replace(ls, extra={**ls.extra, "chol": pt.switch(ok, chol, eye)}), ok
    scale = ls.scale
    good = (scale > 0) & pt.isfinite(scale)
    safe = pt.switch(good, scale, np.array(1.0, dtype=scale.dtype))
    return replace(ls, scale=safe), pt.all(good)


def guard_logp(ok: Variable) -> Variable:
    """The guard's log density: 0 where ``ok``, -inf elsewhere."""
    return pt.switch(ok, np.array(0.0), np.array(-np.inf))
