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
>>> from decenter.families.guard import can_guard, guarded
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

from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Constant, Variable, equal_computations
from pytensor.scalar import Switch
from pytensor.tensor.elemwise import Elemwise

__all__ = [
    "can_guard",
    "guarded",
    "guard_logp",
    "safe_scale",
    "safe_chol",
    "safe_input",
    "guard_test",
]


def can_guard(rule: Any) -> bool:
    """True when a rewrite by ``rule`` can carry a guard (see the module docstring): its
    forward map and standard draw read the scale only through ``ls.scale`` (or, for MvNormal,
    the Cholesky factor), so a safe scale there guards the whole rewrite."""
    return rule.guardable


def guarded(rule: Any, ls: Any) -> tuple[Any, Variable]:
    """``ls`` with a safe scale (MvNormal: a safe Cholesky factor in ``extra["chol"]``), and
    the scalar ``ok``: the original's scale is valid everywhere (``rule.guarded``)."""
    return rule.guarded(ls)


def safe_scale(scale: Variable) -> tuple[Variable, Variable]:
    """``switch(good, scale, 1)`` and ``good``, elementwise: ``scale`` > 0 and finite."""
    good = (scale > 0) & pt.isfinite(scale)
    return pt.switch(good, scale, np.array(1.0, dtype=scale.dtype)), good


def safe_chol(chol: Variable) -> tuple[Variable, Variable]:
    """``switch(ok, chol, I)`` and ``ok``: the factor is finite with a positive diagonal."""
    diag = pt.diagonal(chol, axis1=-2, axis2=-1)
    ok = pt.all(pt.isfinite(chol)) & pt.all(diag > 0)
    return pt.switch(ok, chol, pt.eye(chol.shape[-1], dtype=chol.dtype)), ok


def guard_logp(ok: Variable) -> Variable:
    """The guard's log density: 0 where ``ok``, -inf elsewhere."""
    return pt.switch(ok, np.array(0.0), np.array(-np.inf))


# Reading a guard back (``decenter diff`` prints the safe scale ``s`` as ``s``). A candidate
# taken from the graph is accepted only if building the guard from it gives the same graph:
# the match cannot drift from the construction above.


def safe_input(var: Variable) -> Variable | None:
    """``x`` when ``var`` is the safe scale (or safe Cholesky factor) built from ``x``.

    Examples
    --------
    >>> s = pt.scalar("s")
    >>> safe, _ = safe_scale(s)
    >>> safe_input(safe) is s, safe_input(s * 2)
    (True, None)
    """
    if not _is_switch(var):
        return None
    x = var.owner.inputs[1]
    if not _is_float(x):
        return None
    if _same(var, safe_scale(x)[0]) or (x.ndim >= 2 and _same(var, safe_chol(x)[0])):
        return x
    return None


def guard_test(var: Variable) -> tuple[str, Variable] | None:
    """``("scale", s)`` when ``var`` is the guard of the scale ``s``, ``("chol", L)`` when it is
    the guard of the Cholesky factor ``L`` (``guard_logp`` of ``guarded``'s ``ok``); else None.

    Examples
    --------
    >>> s = pt.vector("s")
    >>> guard_test(guard_logp(pt.all(safe_scale(s)[1])))[0]
    'scale'
    """
    if not _is_switch(var) or not all(isinstance(x, Constant) for x in var.owner.inputs[1:]):
        return None
    ok = var.owner.inputs[0]
    for x in filter(_is_float, _ancestors(ok, depth=6)):
        if _same(var, guard_logp(pt.all(safe_scale(x)[1]))):
            return "scale", x
        if x.ndim >= 2 and _same(var, guard_logp(safe_chol(x)[1])):
            return "chol", x
    return None


def _is_switch(var: Variable) -> bool:
    node = var.owner
    return (
        node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Switch)
    )


def _is_float(x: Variable) -> bool:
    return str(getattr(x.type, "dtype", "")).startswith("float")


def _same(a: Variable, b: Variable) -> bool:
    return a.type.dtype == b.type.dtype and equal_computations([a], [b])


def _ancestors(var: Variable, depth: int) -> list[Variable]:
    """The variables within ``depth`` applies above ``var`` (the guard's candidates)."""
    out, seen, frontier = [], set(), [var]
    for _ in range(depth):
        frontier = [x for v in frontier if v.owner is not None for x in v.owner.inputs]
        frontier = [x for x in frontier if x not in seen and not seen.add(x)]
        out += [x for x in frontier if not isinstance(x, Constant)]
    return out
