"""Multivariate families: MvNormal (a covariance for a scale) and ZeroSumNormal (zero-sum axes)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from decenter._pymc import rv_size_is_none
from decenter.families.guard import safe_chol
from decenter.families.registry import register
from decenter.families.rules import LocScale, Rule, _power, _unit_terms, full_size

__all__ = ["MvNormalRule", "ZeroSumNormalRule", "TRI_UNROLL_MAX"]

#: Up to this many elements per row (a static length) the partial offset's triangular solves
#: are written out (:func:`_solve_lower`), and its density is a ``CustomDist``: PyMC's MvNormal
#: with a factor per row solves and factorises one small matrix per row in a loop (a Python
#: loop in PyTensor's C backend, a LAPACK call per row in numba): chickweight's default form
#: took 130 us per gradient against 12.5 us for the original model (docs/benchmarks.md).
TRI_UNROLL_MAX = 8


@dataclass(frozen=True)
class MvNormalRule(Rule):
    """MvNormal given cov or chol: ``x = mu + L w``, ``L = cholesky(cov)``, w iid Normal(0, 1).

    Partially centered element by element on the conditional scales: given the elements
    before it, ``x_j`` is Normal with scale ``L_jj`` around ``mu_j + sum_i<j L_ji w_i``, and it
    is partially centered there as the elementwise families are (``lam_j``, ``unit``). The
    offset is then ``eta ~ MvNormal(lam mu / unit, chol=A)`` with ``A = diag((L_jj / unit) **
    lam_j) + (lam_j / unit) * (strictly lower part of L)`` and ``x = mu + L A^-1 (eta - lam mu
    / unit)``: lam = 1 is the original (``A = L``), lam = 0 the whitened ``x = mu + L w``
    (``A = I``), a triangular map in between. Up to :data:`TRI_UNROLL_MAX` elements per row
    both solves are written out (:func:`_solve_lower`), and the offset is a ``CustomDist`` shown
    as MvNormal with that density.
    """

    covariance: bool = True
    guardable: bool = True

    def read(self, rv):
        mu, cov = rv.owner.op.dist_params(rv.owner)
        return LocScale(mu, cov)

    def guarded(self, ls):
        """A safe Cholesky factor in ``extra["chol"]``, and the test that the factor exists."""
        safe, ok = safe_chol(pt.linalg.cholesky(ls.scale, lower=True))  # NaN where it fails
        return replace(ls, extra={**ls.extra, "chol": safe}), ok

    def value_scale(self, ls, rv, transform=None):
        """The standard deviations ``sqrt(diag(cov))`` (an MvNormal's value has no transform)."""
        return pt.broadcast_to(pt.sqrt(pt.diagonal(ls.scale, axis1=-2, axis2=-1)), rv.shape)

    def standard(self, rv, ls, lam, unit=None):
        size = full_size(rv)
        if size is None:  # size given: batch size plus the support length
            size = (*tuple(rv.owner.op.size_param(rv.owner)), ls.loc.shape[-1])
        if lam is None:
            return pm.Normal.dist(0.0, 1.0, size=size)
        chol = self._chol(ls)
        lam_per_unit, _ = _unit_terms(lam, unit)
        mean = pt.broadcast_to(lam_per_unit * ls.loc, size)
        if _small(chol):
            return pm.CustomDist.dist(
                mean,
                *_parts(chol, lam, unit),
                dist=_triangular_draw,
                logp=_triangular_logp,
                signature="(k),(k),(k),(k,k)->(k)",
                class_name="MvNormal",
            )
        return pm.MvNormal.dist(mean, chol=_factor(chol, lam, unit))

    def forward(self, ls, eta, lam, unit=None):
        chol = self._chol(ls)
        if lam is None:
            return ls.loc + pt.matmul(chol, eta[..., None])[..., 0]
        lam_per_unit, _ = _unit_terms(lam, unit)
        r = eta - lam_per_unit * ls.loc
        if _small(chol):
            return ls.loc + _times_lower(chol, _solve_lower(*_parts(chol, lam, unit), r))
        w = pt.linalg.solve_triangular(_factor(chol, lam, unit), r[..., None], lower=True)
        return ls.loc + pt.matmul(chol, w)[..., 0]

    @staticmethod
    def _chol(ls):
        chol = ls.extra.get("chol")  # a guarded rewrite's factor (decenter.families.guard)
        return pt.linalg.cholesky(ls.scale, lower=True) if chol is None else chol


def _small(chol) -> bool:
    k = chol.type.shape[-1]
    return k is not None and k <= TRI_UNROLL_MAX


def _parts(chol, lam, unit) -> tuple:
    """The offset's factor ``A = diag(d) + c * S`` (the class docstring) as ``d``, ``c`` (both
    of the batch shape and ``k``) and ``S``, the strictly lower part of ``L``."""
    lam_per_unit, _ = _unit_terms(lam, unit)
    d = _power(pt.diagonal(chol, axis1=-2, axis2=-1), lam, unit)
    k = chol.shape[-1]
    strict = pt.tril(chol, -1) if chol.ndim == 2 else chol * pt.tril(pt.ones((k, k)), -1)
    return d, pt.broadcast_to(pt.as_tensor(lam_per_unit), d.shape), strict


def _factor(chol, lam, unit):
    """``A`` as a matrix (per row where ``lam`` or ``L`` differs by row)."""
    d, c, strict = _parts(chol, lam, unit)
    return d[..., None] * pt.eye(chol.shape[-1], dtype=chol.dtype) + c[..., None] * strict


def _times_lower(lower, t):
    """``lower @ t`` for each row ``t`` (one matrix product where ``lower`` is shared)."""
    if lower.ndim == 2:
        return t @ lower.T
    return pt.matmul(lower, t[..., None])[..., 0]


def _solve_lower(d, c, strict, r):
    """``A^-1 r`` for ``A = diag(d) + c * S`` with ``S`` strictly lower triangular (a static
    ``k``), without a solve: ``A = D (I + M)`` with ``M = (c / d) * S`` nilpotent, so ``A^-1 =
    sum_{n<k} (-M)^n D^-1`` ends after ``k`` terms. The same numbers as forward substitution
    (to rounding), in ``k - 1`` matrix products instead of ``k^2 / 2`` single-column
    expressions, whose indexing nutpie compiled 1-3 s slower on the corpus's four models with
    a partially centered MvNormal (docs/benchmarks.md)."""
    ratio = c / d
    term = total = r / d
    for _ in range(strict.type.shape[-1] - 1):
        term = -ratio * _times_lower(strict, term)
        total = total + term
    return total


def _triangular_logp(value, mean, d, c, strict):
    """``MvNormal(mean, chol=A)``'s log density, ``A = diag(d) + c * S`` (no solve)."""
    w = _solve_lower(d, c, strict, value - mean)
    k = strict.type.shape[-1]
    log_diag = pt.sum(pt.log(d), axis=-1)
    return -0.5 * pt.sum(w**2, axis=-1) - log_diag - 0.5 * k * np.log(2 * np.pi)


def _triangular_draw(mean, d, c, strict, size):
    """A draw of ``MvNormal(mean, chol=A)``: ``mean + A z``, z iid Normal(0, 1)."""
    mean = mean + pt.zeros_like(d)  # the batch of every parameter
    if not rv_size_is_none(size):  # a resized model (PyMC's change_dist_size)
        mean = pt.broadcast_to(mean, pt.concatenate([size, mean.shape[-1:]]))
    z = pm.Normal.dist(0.0, 1.0, size=mean.shape)
    return mean + d * z + c * _times_lower(strict, z)


@dataclass(frozen=True)
class ZeroSumNormalRule(Rule):
    """ZeroSumNormal: ``x = sigma * ZeroSumNormal(1)``; a scale family with zero-sum axes.

    Partially centered with one ``lam`` for the whole variable: ``eta ~ ZeroSumNormal((sigma
    / unit) ** lam)`` and ``x = unit * (sigma / unit) ** (1 - lam) * eta``, a scalar multiple
    of ``eta`` on the zero-sum subspace, so the offset keeps the zero-sum axes (a lam per
    element would not: the constraint couples the elements).
    """

    has_loc: bool = False
    elementwise: bool = False
    scalar_lam: bool = True
    guardable: bool = True

    def read(self, rv):
        sigma, support_shape = rv.owner.op.dist_params(rv.owner)
        return LocScale(None, sigma, {"support_shape": support_shape})

    def value_scale(self, ls, rv, transform=None):
        """sigma in the zero-sum subspace: the value (and the rewrite's offset) lives in an
        orthonormal basis with one coordinate fewer per zero-sum axis, where the prior is
        N(0, sigma**2) per coordinate and sigma is constant along those axes."""
        scale = pt.broadcast_to(ls.scale, rv.shape)
        return scale[(..., *[slice(1, None)] * rv.owner.op.ndim_supp)]

    def standard(self, rv, ls, lam, unit=None):
        op = rv.owner.op
        if lam is not None:
            if getattr(lam, "ndim", 0):
                raise ValueError("ZeroSumNormal takes one lam for the whole variable")
            scale = _power(ls.scale, lam, unit)
        elif all(s is not None for s in ls.scale.type.shape):
            # a unit scale of the scale's shape that does not refer to the scale (ones_like
            # would leave a second(sigma, 1) behind, and the offset would look hierarchical)
            scale = pt.constant(np.ones(ls.scale.type.shape, dtype=ls.scale.dtype))
        else:
            scale = pt.ones(tuple(ls.scale.shape), dtype=ls.scale.dtype)  # shape-only use
        return type(op).rv_op(scale, ls.extra["support_shape"], size=op.size_param(rv.owner))


register(MvNormalRule("MvNormal", pm.MvNormal.rv_type))
register(ZeroSumNormalRule("ZeroSumNormal", pm.ZeroSumNormal.rv_type))
