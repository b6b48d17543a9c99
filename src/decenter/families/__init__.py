"""One small rewrite rule per distribution family, in a registry.

A rule reads the location, scale and shape parameters of a random variable, builds the
standardized variable, and maps it forward. With ``lam`` the degree of centering
(Gorinova, Moore & Hoffman 2020)::

    eta ~ D(lam * loc, scale**lam)                       # standard(...)
    x   = loc + scale**(1 - lam) * (eta - lam * loc)     # forward(...)

``lam = 0`` is the non-centered form (``eta ~ D(0, 1)``, ``x = loc + scale * eta``) and
``lam = 1`` the original one. With a constant ``unit`` the same map is applied to ``x / unit``
(``loc / unit``, ``scale / unit``), so that ``lam`` means the same in any units of the data. Scale families (HalfNormal, Exponential, ...) have no location.
Adding a family is adding one rule and calling :func:`register`.

Examples
--------
>>> import pymc as pm
>>> from decenter.families import find_rule
>>> x = pm.StudentT.dist(nu=4, mu=1.0, sigma=2.0)
>>> find_rule(x).name
'StudentT'
"""

from decenter.families.composite import AR1Rule, RandomWalkRule, TruncatedRule, standard_walk
from decenter.families.multivariate import MvNormalRule, ZeroSumNormalRule
from decenter.families.rules import (
    RULES,
    LocScale,
    LocScaleRule,
    LogNormalRule,
    Replacement,
    Rule,
    ScaleRule,
    SkewNormalRule,
    default_transform,
    find_rule,
    full_size,
    refusal,
    register,
)

__all__ = [
    "LocScale",
    "Replacement",
    "Rule",
    "LocScaleRule",
    "LogNormalRule",
    "ScaleRule",
    "SkewNormalRule",
    "MvNormalRule",
    "ZeroSumNormalRule",
    "TruncatedRule",
    "RandomWalkRule",
    "AR1Rule",
    "standard_walk",
    "register",
    "find_rule",
    "refusal",
    "default_transform",
    "full_size",
    "RULES",
]
