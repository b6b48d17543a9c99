"""Rules built on other rules: truncated location-scale variables and random walks.

``pm.Truncated(D(loc, scale), lower, upper)`` becomes a standardized truncated offset whose
bounds move with the location and scale::

    eta ~ Truncated(D(0, 1), (lower - loc) / scale, (upper - loc) / scale)
    x   = loc + scale * eta

A random walk ``x ~ RandomWalk(init, D(mu, sigma))`` (``GaussianRandomWalk``,
``MvGaussianRandomWalk``, or ``RandomWalk`` with any location-scale innovation) becomes a
standard walk of the same shape and dims, the original ``init_dist`` followed by ``D(0, 1)``
steps, whose increments are scaled back::

    eta ~ RandomWalk(init, D(0, 1))
    x   = cumsum([eta_0, mu + sigma * diff(eta)])      # = eta_0 + mu t + sigma (eta - eta_0)

The offset is a walk in level space, not its iid innovations: ``x = cumsum(sigma * z)`` over
iid ``z`` is the textbook form, but the cumulative sum makes its posterior ill-conditioned
when data inform every time point (condition number growing like ``T**2 sigma**2``; 200-390
divergences of 4000 on the 400-day stochastic volatility model where this form has none,
docs/benchmarks.md). The level-space walk has the centered walk's shape without its funnel.

Both are whole-variable rewrites: ``lam`` is 0 or 1 (plan rounds a fractional ``lam``).

Examples
--------
>>> import pymc as pm
>>> from decenter.families import find_rule
>>> find_rule(pm.Truncated.dist(pm.StudentT.dist(nu=4, mu=0, sigma=1), lower=0)).name
'Truncated'
>>> find_rule(pm.GaussianRandomWalk.dist(sigma=1.0, init_dist=pm.Normal.dist(), steps=5)).name
'RandomWalk'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.tensor.exceptions import NotScalarConstantError
from pytensor.tensor.variable import TensorConstant

from decenter._pymc import (
    AutoRegressiveRV,
    RandomWalkRV,
    TruncatedNormalRV,
    TruncatedRV,
    rv_size_is_none,
)
from decenter.families.rules import (
    LocScale,
    Rule,
    default_transform,
    find_rule,
    full_size,
    register,
)

__all__ = ["TruncatedRule", "RandomWalkRule", "AR1Rule", "standard_walk"]


def _affine_rule(rv: Variable) -> Rule | None:
    """The rule of ``rv`` if its forward map is ``loc + scale * eta`` (not LogNormal's exp)."""
    rule = find_rule(rv)
    if rule is not None and rule.affine and rule.why_not(rv) is None:
        return rule
    return None


def _infinite(bound: Variable, sign: float) -> bool:
    if isinstance(bound, TensorConstant):
        return bool(np.all(bound.data == sign * np.inf))
    # TruncatedNormal's parameters come wrapped (ExpandDims of a constant inf): an infinite
    # bound kept as (inf - loc) / scale has a NaN gradient in the scale
    try:
        return bool(pt.get_underlying_scalar_constant_value(bound) == sign * np.inf)
    except NotScalarConstantError:
        return False


def _truncated_parts(rv: Variable):
    """``(base rv, lower, upper, size)`` of a truncated variable (either PyMC op)."""
    node = rv.owner
    if isinstance(node.op, TruncatedNormalRV):
        mu, sigma, lower, upper = node.op.dist_params(node)
        return pm.Normal.dist(mu, sigma), lower, upper, full_size(rv)
    rng, size, *params, lower, upper = node.inputs
    base = node.op.base_rv_op.make_node(rng, size, *params).default_output()
    if all(s is not None for s in rv.type.shape):
        size = tuple(int(s) for s in rv.type.shape)
    elif rv_size_is_none(size):
        size = tuple(pt.broadcast_shape(*params, lower, upper, arrays_are_shapes=False))
    else:
        size = tuple(size)
    return base, lower, upper, size


@dataclass(frozen=True)
class TruncatedRule(Rule):
    """``pm.Truncated`` (and ``pm.TruncatedNormal``) over a location-scale or scale family."""

    elementwise: bool = False

    @property
    def op_types(self):
        return (TruncatedRV, TruncatedNormalRV)

    def matches(self, rv):
        op = rv.owner.op if rv.owner is not None else None
        if isinstance(op, TruncatedNormalRV):
            return True
        if not isinstance(op, TruncatedRV) or rv.type.dtype.startswith("int"):
            return False
        return _affine_rule(_truncated_parts(rv)[0]) is not None

    def why_no_match(self, rv):
        base_op = getattr(rv.owner.op, "base_rv_op", None)
        base = str(getattr(base_op, "name", None) or "this base").removesuffix("_rv")
        return (
            f"Truncated {base}: only continuous location-scale and scale bases (Normal, StudentT, "
            "HalfNormal, ...) are rewritten; the bounds of other bases do not move with a scale"
        )

    def read(self, rv):
        base, lower, upper, size = _truncated_parts(rv)
        rule = _affine_rule(base)
        base_ls = rule.read(base)
        extra = {"rule": rule, "base": base_ls, "lower": lower, "upper": upper, "size": size}
        extra["max_n_steps"] = getattr(rv.owner.op, "max_n_steps", 10_000)
        loc = base_ls.loc
        return LocScale(loc, base_ls.scale, extra)

    def standard(self, rv, ls, lam, unit=None):
        if lam is not None:
            raise ValueError("Truncated supports lam = 0 or 1 only")
        rule, base, size = ls.extra["rule"], ls.extra["base"], ls.extra["size"]
        bounds = []
        for bound, sign in ((ls.extra["lower"], -1.0), (ls.extra["upper"], 1.0)):
            if _infinite(bound, sign):
                bounds.append(None)  # keeps the normaliser and the transform one-sided
            else:
                shifted = bound if base.loc is None else bound - base.loc
                bounds.append(shifted / base.scale)
        return pm.Truncated.dist(
            rule.make(base, None if base.loc is None else 0.0, 1.0, size),
            lower=bounds[0],
            upper=bounds[1],
            max_n_steps=ls.extra["max_n_steps"],
            size=size,
        )

    def forward(self, ls, eta, lam, unit=None):
        return ls.extra["rule"].forward(ls.extra["base"], eta, None)


def standard_walk(init_dist, innovation_dist, steps):
    """A ``RandomWalkRV`` over already-sized ``init`` ``(1, B, S)`` and innovations ``(T-1, B, S)``.

    ``RandomWalkRV.rv_op`` resizes its inputs from their batch shapes; the inputs here come
    from an existing walk and already have the time axis, so the op is built directly.
    """
    ndim_supp = init_dist.owner.op.ndim_supp + 1
    init_ = pt.moveaxis(init_dist, 0, -ndim_supp)
    innov_ = pt.moveaxis(innovation_dist, 0, -ndim_supp)
    walk = pt.cumsum(pt.concatenate([init_, innov_], axis=-ndim_supp), axis=-ndim_supp)
    supp = ",".join(f"d{i}" for i in range(ndim_supp - 1))
    signature = f"({supp}),({supp}),(s),[rng]->({','.join(['t', *([supp] if supp else [])])}),[rng]"
    return RandomWalkRV([init_dist, innovation_dist, steps], [walk], extended_signature=signature)(
        init_dist, innovation_dist, steps
    )


@dataclass(frozen=True)
class RandomWalkRule(Rule):
    """Random walks whose innovations are a location-scale family; the init is kept as it is."""

    elementwise: bool = False

    def matches(self, rv):
        if rv.owner is None or type(rv.owner.op) is not RandomWalkRV:
            return False
        init, innov, _ = rv.owner.inputs
        rule = find_rule(innov)
        ok = rule is not None and (rule.affine or rule.covariance)
        # the standardized walk holds init and offsets in one unconstrained value
        return ok and rule.why_not(innov) is None and default_transform(init) is None

    def why_no_match(self, rv):
        return (
            "RandomWalk: rewritten only with location-scale innovations (Normal, StudentT, "
            "MvNormal, ...) and an unconstrained init_dist (one value holds init and offsets)"
        )

    def read(self, rv):
        init, innov, steps = rv.owner.inputs
        rule = find_rule(innov)
        ls = rule.read(innov)
        ndim_supp = rv.owner.op.ndim_supp
        # a per-step scale in the walk's layout (B, T, S), for plan and strategy="auto"
        scale = ls.scale
        if rule.covariance:
            scale = pt.sqrt(pt.diagonal(scale, axis1=-2, axis2=-1))
        scale = pt.moveaxis(pt.broadcast_to(scale, innov.shape), 0, -ndim_supp)
        first = pt.take(scale, [0], axis=scale.ndim - ndim_supp)
        scale = pt.concatenate([first, scale], axis=-ndim_supp)
        extra = {"rule": rule, "innov": ls, "init": init, "innov_rv": innov, "steps": steps}
        return LocScale(ls.loc, scale, extra)

    def standard(self, rv, ls, lam, unit=None):
        if lam is not None:
            raise ValueError("RandomWalk supports lam = 0 or 1 only")
        rule, innov = ls.extra["rule"], ls.extra["innov_rv"]
        if rule.covariance:  # MvNormal(0, I) so init and offsets have logps of one rank
            k = ls.extra["innov"].loc.shape[-1]
            size = tuple(innov.owner.op.size_param(innov.owner))
            z = pm.MvNormal.dist(pt.zeros(k), pt.eye(k), size=size)
        else:
            z = rule.standard(innov, ls.extra["innov"], None)
        return standard_walk(ls.extra["init"], z, ls.extra["steps"])

    def forward(self, ls, eta, lam, unit=None):
        # eta is a walk of unit steps: x keeps its first value and scales its increments
        axis = -(ls.extra["innov_rv"].owner.op.ndim_supp + 1)
        init = eta[(..., slice(0, 1)) + (slice(None),) * (-axis - 1)]
        z = pt.moveaxis(pt.diff(eta, axis=axis), axis, 0)
        steps = pt.moveaxis(ls.extra["rule"].forward(ls.extra["innov"], z, None), 0, axis)
        return pt.cumsum(pt.concatenate([init, steps], axis=axis), axis=axis)


@dataclass(frozen=True)
class AR1Rule(Rule):
    """``pm.AR`` of order 1, ``x_t = c + rho x_{t-1} + sigma e_t``; the init is kept as it is.

    As for random walks, the offset is the same process with unit innovations,
    ``eta ~ AR(rho, sigma=1)`` from the original init, and ``x`` has the same innovations scaled
    by ``sigma``: ``x_t - rho x_{t-1} - c = sigma (eta_t - rho eta_{t-1})`` with ``x_0 = eta_0``,
    which solves to ``x_t = sigma eta_t + rho**t (1 - sigma) eta_0 + c (1 + rho + ... +
    rho**(t-1))``: elementwise in ``t``, with Jacobian ``sigma`` per step. Higher orders have
    no closed form (they are kept, with the reason).
    """

    elementwise: bool = False

    def matches(self, rv):
        return rv.owner is not None and type(rv.owner.op) is AutoRegressiveRV

    def why_not(self, rv):
        op = rv.owner.op
        if op.ar_order != 1:
            return f"AR of order {op.ar_order}: only order 1 is rewritten (a closed-form map)"
        if default_transform(rv.owner.inputs[2]) is not None:
            return "AR with a constrained init_dist: init and offsets share one value variable"
        return None

    def read(self, rv):
        rhos, sigma, init, steps, _ = rv.owner.inputs
        constant = rv.owner.op.constant_term
        c = rhos[..., 0] if constant else None
        rho = rhos[..., -1]
        # a per-step scale in the variable's layout (..., T), for plan and strategy="auto"
        scale = pt.broadcast_to(pt.shape_padright(sigma), rv.shape)
        extra = {"rhos": rhos, "rho": rho, "sigma": sigma, "init": init, "steps": steps}
        return LocScale(None if c is None else pt.shape_padright(c), scale, extra)

    def standard(self, rv, ls, lam, unit=None):
        if lam is not None:
            raise ValueError("AR supports lam = 0 or 1 only")
        e = ls.extra
        rhos = e["rhos"][..., 1:] if rv.owner.op.constant_term else e["rhos"]
        # the batch shape from the (already sized) init, so the offset does not refer to sigma
        static = rv.type.shape[:-1]
        size = static if None not in static else tuple(e["init"].shape)[:-1]
        return AutoRegressiveRV.rv_op(
            rhos,
            pt.constant(1.0, dtype=rv.dtype),
            e["init"],
            e["steps"],
            ar_order=1,
            constant_term=False,
            size=size,
        )

    def forward(self, ls, eta, lam, unit=None):
        sigma = pt.shape_padright(ls.extra["sigma"])
        rho = pt.shape_padright(ls.extra["rho"])
        t = pt.arange(eta.shape[-1]).astype(eta.dtype)
        rho_t = rho**t
        x = sigma * eta + rho_t * (1 - sigma) * pt.shape_padright(eta[..., 0])
        if ls.loc is not None:  # c (1 - rho**t) / (1 - rho), or c t at rho = 1
            one = pt.eq(rho, 1)
            x = x + ls.loc * pt.switch(one, t, (1 - rho_t) / pt.switch(one, 1.0, 1 - rho))
        return x


register(TruncatedRule("Truncated", TruncatedRV))
register(RandomWalkRule("RandomWalk", RandomWalkRV))
register(AR1Rule("AR", AutoRegressiveRV))
