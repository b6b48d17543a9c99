"""The rule classes and the registry (the core of :mod:`decenter.families`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.basic import Constant, Variable
from pytensor.tensor.exceptions import NotScalarConstantError

from decenter._pymc import default_value_transform as _default_transform
from decenter._pymc import infer_rv_shape, rv_size_is_none
from decenter.families.guard import safe_scale
from decenter.families.positive import PositiveScaleNormalRV, positive_scale
from decenter.families.registry import RULES, find_rule, refusal, register

__all__ = [
    "LocScale",
    "Replacement",
    "Rule",
    "LocScaleRule",
    "ScaleRule",
    "register",
    "find_rule",
    "refusal",
    "RULES",
]


@dataclass
class LocScale:
    """What a rule reads off a random variable."""

    loc: Variable | None  # None for scale families
    scale: Variable  # for MvNormal, the covariance matrix
    extra: dict[str, Variable] = field(default_factory=dict)  # shape parameters kept as they are


@dataclass(frozen=True)
class Replacement:
    """What :meth:`Rule.rewrite` gives: the new standardized variable and the map back.

    ``forward(eta_var)`` is ``x`` from (the model variable made of) ``eta``; ``ok`` is the
    guard's scalar test (the original's scale is valid everywhere), None when unguarded.
    """

    eta: Variable
    forward: Callable[[Variable], Variable]
    ok: Variable | None = None


@dataclass(frozen=True)
class Rule:
    """Base rule: subclasses say how to read, standardize and map one family.

    The contract (as NumPyro's reparameterizers and PyTensor's node rewriters): a rule is
    found by its op's type (:func:`find_rule`, :attr:`op_types`), says :meth:`why_not` it
    cannot rewrite a variable (and :meth:`why_no_match` why a variable of its op type is not
    of its family), and gives the :meth:`rewrite`. What is specific to a family (a covariance
    for a scale, centering as a whole) is said by the rule, so the modules that use rules
    never test a family's name.
    """

    name: str
    rv_type: type
    has_loc: bool = True
    elementwise: bool = True  # False: one lam for the whole variable (see scalar_lam)
    #: with ``elementwise`` False: that one lam may be partial (ZeroSumNormal, a scale family
    #: whose offset keeps its zero-sum axes); without it, lam is 0 or 1 (Truncated, walks)
    scalar_lam: bool = False
    #: the scale read is a covariance matrix (MvNormal): proven or guarded positive definite
    covariance: bool = False
    #: a rewrite can carry a guard (:meth:`guarded`; decenter.families.guard)
    guardable: bool = False
    #: the forward map is ``loc + scale * eta`` (truncations and random walks build on these)
    affine: bool = False
    #: op types of the family besides ``rv_type`` (subclasses a rewrite itself draws with)
    also_types: tuple[type, ...] = ()

    @property
    def op_types(self) -> tuple[type, ...]:
        """The op types under which :func:`register` files the rule."""
        return (self.rv_type,)

    def matches(self, rv: Variable) -> bool:
        """Is ``rv`` (whose op is of one of :attr:`op_types`) of the family."""
        return rv.owner is not None and (
            type(rv.owner.op) is self.rv_type or type(rv.owner.op) in self.also_types
        )

    def read(self, rv: Variable) -> LocScale:
        raise NotImplementedError

    def make(self, ls: LocScale, loc: Any, scale: Any, size) -> Variable:
        """A fresh ``D(loc, scale; extra)`` of the given size."""
        raise NotImplementedError

    def why_not(self, rv: Variable) -> str | None:
        """Why this variable cannot be rewritten by the rule, or None."""
        return None

    def why_no_match(self, rv: Variable) -> str | None:
        """Why a variable of the rule's op type is not of its family (:func:`refusal`)."""
        return None

    def rewrite(
        self, rv: Variable, lam=None, unit=None, guard: bool = False, shift=None
    ) -> Replacement:
        """The rewrite of ``rv``: the standardized variable and the forward map (:meth:`standard`,
        :meth:`forward`), with ``guard`` on a safe scale and its test (decenter.families.guard).
        ``shift`` (affine rules with a location): terms moved into the location
        (decenter.core.hoist); the offset is centered at ``loc + shift`` and the map subtracts
        it again."""
        ls, ok = self.read(rv), None
        if guard:
            ls, ok = self.guarded(ls)
        if shift is None:
            return Replacement(
                self.standard(rv, ls, lam, unit), lambda v: self.forward(ls, v, lam, unit), ok
            )
        ls = replace(ls, loc=ls.loc + shift)
        eta = self.standard(rv, ls, lam, unit)
        return Replacement(eta, lambda v: self.forward(ls, v, lam, unit) - shift, ok)

    def guarded(self, ls: LocScale) -> tuple[LocScale, Variable]:
        """``ls`` with a safe scale, and the scalar test that the original's scale is valid
        (for :attr:`guardable` rules, whose maps read the scale only through ``ls.scale``)."""
        if not self.guardable:
            raise NotImplementedError(f"a rewrite by the {self.name} rule cannot carry a guard")
        safe, good = safe_scale(ls.scale)
        return replace(ls, scale=safe), pt.all(good)

    def value_scale(self, ls: LocScale, rv: Variable, transform=None) -> Variable:
        """The prior scale of each coordinate of the value (what the default's fit pairs with
        each coordinate's information), broadcast to the variable's shape. With a value
        ``transform`` (a bounded variable, pm.Truncated) the information is a curvature in the
        unconstrained coordinates, so the scale goes there too, through dx/dvalue."""
        scale = pt.broadcast_to(ls.scale, rv.shape)
        if transform is None:
            return scale
        value = transform.forward(rv, *rv.owner.inputs)
        return scale * pt.exp(-transform.log_jac_det(value, *rv.owner.inputs))

    def standard(self, rv: Variable, ls: LocScale, lam, unit=None) -> Variable:
        """The new free variable: ``D(0, 1)`` for ``lam=None``, else the partially centered
        ``D(lam * loc / unit, (scale / unit) ** lam)`` (``unit`` = 1 when None)."""
        size = full_size(rv)
        if lam is None:
            return self.make(ls, 0.0, 1.0, size)
        lam_per_unit, _ = _unit_terms(lam, unit)
        loc = None if ls.loc is None else lam_per_unit * ls.loc
        return self.make_partial(ls, loc, _power(ls.scale, lam, unit), size)

    def make_partial(self, ls: LocScale, loc: Any, scale: Variable, size) -> Variable:
        """:meth:`make` for the partially centered offset, whose scale ``exp(...)`` is
        positive by construction."""
        return self.make(ls, loc, scale, size)

    def forward(self, ls: LocScale, eta: Variable, lam, unit=None) -> Variable:
        """``x`` from the new variable: ``loc + scale * eta`` for ``lam=None``, else
        ``loc + unit * (scale / unit) ** (1 - lam) * (eta - lam * loc / unit)``, computed as
        ``loc * (1 - f lam / unit) + f eta`` with ``f = unit * (scale / unit) ** (1 - lam)``:
        the same value, but ``eta`` and ``loc`` enter once each, so PyTensor fuses a gathered
        ``x[group]`` and its gradient into one loop (chem97: 239 -> 174 us per logp and
        gradient, non-centered 124)."""
        if lam is None:
            shifted = ls.scale * eta
            return shifted if ls.loc is None else ls.loc + shifted
        # unit * (scale / unit) ** (1 - lam) = scale / (scale / unit) ** lam: the same power as
        # the standard draw's scale, which the compiled graph computes once (one exp per element)
        factor = ls.scale / _power(ls.scale, lam, unit)
        if ls.loc is None:
            return factor * eta
        lam_per_unit, _ = _unit_terms(lam, unit)
        return ls.loc * (1 - factor * lam_per_unit) + factor * eta


def _power(scale: Variable, lam, unit=None) -> Variable:
    """``(scale / unit) ** lam`` for a positive scale, as ``exp(lam * log(scale) - lam *
    log(unit))``: one log per scale element and one exp per offset element. A ``pow`` per
    element (and its gradient) made the partially centered radon model 2.8x slower per
    gradient than the non-centered one in nutpie (68 vs 24 us)."""
    _, lam_log_unit = _unit_terms(lam, unit)
    log_power = lam * pt.log(scale)
    return pt.exp(log_power if lam_log_unit is None else log_power - lam_log_unit)


def _unit_terms(lam, unit) -> tuple[Any, Any]:
    """``lam / unit`` and ``lam * log(unit)`` (``lam`` and None without a unit).

    Computed in NumPy when both are constants (as the rewrite passes them): PyTensor would
    fold them too, but only by rewriting them again in every compiled function, and the
    sampler's compile of the radon example took about 0.45 s longer with them symbolic
    (docs/benchmarks.md).
    """
    if unit is None:
        return lam, None
    if isinstance(lam, Constant) and isinstance(unit, Constant):
        lam_, unit_ = np.asarray(lam.data), np.asarray(unit.data)
        return pt.constant(lam_ / unit_), pt.constant(lam_ * np.log(unit_))
    return lam / unit, lam * pt.log(unit)


def full_size(rv: Variable):
    """The shape of ``rv`` as a size argument that does not refer to ``rv`` itself.

    A given ``size`` is reused (it may hold a mutable coordinate length); otherwise the shape
    implied by broadcasting the parameters is spelled out.
    """
    node = rv.owner
    op = node.op
    if all(s is not None for s in rv.type.shape):
        return tuple(int(s) for s in rv.type.shape)
    size = op.size_param(node)
    ndim_supp = getattr(op, "ndim_supp", 0)
    if not rv_size_is_none(size):
        if ndim_supp == 0:
            return tuple(size)
        return None  # multivariate with size: the rule passes size and support itself
    params = op.dist_params(node)
    if ndim_supp == 0:
        return tuple(pt.broadcast_shape(*params, arrays_are_shapes=False))
    return tuple(infer_rv_shape(op, size, params))


def _is_const(x: Variable, value: float) -> bool:
    try:
        return bool(np.all(pt.get_underlying_scalar_constant_value(x) == value))
    except NotScalarConstantError:
        return isinstance(x, Constant) and bool(np.all(x.data == value))


@dataclass(frozen=True)
class LocScaleRule(Rule):
    """Families ``D(loc, scale, *extra)`` whose PyTensor op takes ``(*extra, loc, scale)``."""

    guardable: bool = True
    affine: bool = True
    dist: Any = None  # the PyMC distribution to build the standard draw
    loc_kw: str = "mu"
    scale_kw: str = "sigma"
    extra_kws: tuple[str, ...] = ()
    #: the partially centered offset is a Normal, drawn without PyMC's per-element
    #: ``sigma > 0`` test of its scale, an exp (decenter.families.positive)
    positive_offset: bool = False

    def read(self, rv):
        params = rv.owner.op.dist_params(rv.owner)
        *extra, loc, scale = params
        return LocScale(loc, scale, dict(zip(self.extra_kws, extra, strict=True)))

    def make(self, ls, loc, scale, size):
        kw = {self.loc_kw: 0.0 if loc is None else loc, self.scale_kw: scale, **ls.extra}
        return self.dist.dist(**kw, size=size)

    def make_partial(self, ls, loc, scale, size):
        rv = self.make(ls, loc, scale, size)
        return positive_scale(rv) if self.positive_offset else rv


@dataclass(frozen=True)
class SkewNormalRule(LocScaleRule):
    """SkewNormal: ``x = mu + sigma * SkewNormal(0, 1, alpha)``; its op takes ``(mu, sigma, alpha)``."""

    def read(self, rv):
        loc, scale, alpha = rv.owner.op.dist_params(rv.owner)
        return LocScale(loc, scale, {"alpha": alpha})


@dataclass(frozen=True)
class LogNormalRule(LocScaleRule):
    """LogNormal: the Normal rewrite inside exp."""

    affine: bool = False

    def forward(self, ls, eta, lam, unit=None):
        return pt.exp(super().forward(ls, eta, lam, unit))


@dataclass(frozen=True)
class ScaleRule(Rule):
    """Positive scale families ``x = scale * standard draw``; the op's last parameter is the scale."""

    dist: Any = None
    scale_kw: str = "sigma"
    invert: bool = False  # the PyMC keyword is 1 / scale (a rate)
    zero_loc: bool = False  # the op's first parameter is a location, rewritten only at 0
    extra_kws: tuple[str, ...] = ()
    has_loc: bool = False
    guardable: bool = True
    affine: bool = True

    def read(self, rv):
        *params, scale = rv.owner.op.dist_params(rv.owner)
        if self.zero_loc:
            params = []  # its constant loc=0 (see check) is not a shape parameter
        return LocScale(None, scale, dict(zip(self.extra_kws, params, strict=True)))

    def why_not(self, rv):
        if self.zero_loc and not _is_const(rv.owner.op.dist_params(rv.owner)[0], 0):
            return f"{self.name} with a non-zero location"
        return None

    def make(self, ls, loc, scale, size):
        kw = 1 / scale if self.invert else scale
        return self.dist.dist(**{self.scale_kw: kw}, **ls.extra, size=size)


def default_transform(rv: Variable):
    """PyMC's default value transform for this random variable (None if unconstrained)."""
    return _default_transform(rv.owner.op, rv)


for _rule in [
    LocScaleRule(
        "Normal",
        pm.Normal.rv_type,
        dist=pm.Normal,
        positive_offset=True,
        also_types=(PositiveScaleNormalRV,),  # its own partially centered offsets
    ),
    LocScaleRule("StudentT", pm.StudentT.rv_type, dist=pm.StudentT, extra_kws=("nu",)),
    LocScaleRule("Cauchy", pm.Cauchy.rv_type, dist=pm.Cauchy, loc_kw="alpha", scale_kw="beta"),
    LocScaleRule("Laplace", pm.Laplace.rv_type, dist=pm.Laplace, scale_kw="b"),
    LocScaleRule("Logistic", pm.Logistic.rv_type, dist=pm.Logistic, scale_kw="s"),
    LocScaleRule("Gumbel", pm.Gumbel.rv_type, dist=pm.Gumbel, scale_kw="beta"),
    LogNormalRule("LogNormal", pm.LogNormal.rv_type, dist=pm.Normal, positive_offset=True),
    ScaleRule("HalfNormal", pm.HalfNormal.rv_type, dist=pm.HalfNormal, zero_loc=True),
    ScaleRule("HalfCauchy", pm.HalfCauchy.rv_type, dist=pm.HalfCauchy, scale_kw="beta"),
    ScaleRule("Exponential", pm.Exponential.rv_type, dist=pm.Exponential, scale_kw="scale"),
    ScaleRule("HalfStudentT", pm.HalfStudentT.rv_type, dist=pm.HalfStudentT, extra_kws=("nu",)),
    # x = beta * Weibull(alpha, 1) and x = beta * InverseGamma(alpha, 1): beta is a scale
    ScaleRule(
        "Weibull", pm.Weibull.rv_type, dist=pm.Weibull, scale_kw="beta", extra_kws=("alpha",)
    ),
    ScaleRule(
        "InverseGamma",
        pm.InverseGamma.rv_type,
        dist=pm.InverseGamma,
        scale_kw="beta",
        extra_kws=("alpha",),
    ),
    SkewNormalRule("SkewNormal", pm.SkewNormal.rv_type, dist=pm.SkewNormal),
    ScaleRule(
        "Gamma",
        pm.Gamma.rv_type,
        dist=pm.Gamma,
        scale_kw="beta",
        invert=True,
        extra_kws=("alpha",),
    ),
]:
    register(_rule)
