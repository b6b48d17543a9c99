"""Prove that a scale is positive, so that a rewrite never opens a region the model forbids.

``b ~ Normal(mu, s)`` rejects every point with ``s <= 0`` (its log density is -inf there).
Its non-centered form ``b = mu + s * b_offset`` accepts them all: a sampler would wander into
a region the user's model forbids, and the posterior would change. :func:`plan` therefore
rewrites a variable only when this module *proves* its scale positive (a covariance positive
definite, for MvNormal); otherwise the variable is kept, with the reason.

The proof is a small recursive analysis of the PyTensor graph. Proven positive are:

* constants whose every value is > 0;
* ``pm.Data`` / shared variables whose *current* values are all > 0 (a caveat: a later
  ``pm.set_data`` with values <= 0 makes the proof stale; such data also makes the original
  model reject every point, so no posterior is lost, but the transformed model would not say so);
* random variables whose support is positive (HalfNormal, HalfCauchy, HalfStudentT, Exponential,
  Gamma, InverseGamma, LogNormal, Weibull, ChiSquared, Beta, Pareto, Wald, Uniform or a
  truncation with a lower bound >= 0, ...: any whose default transform is ``log``), and
  variables whose value transform keeps them positive (``transform=log`` on a Normal);
  observed variables whose data are > 0;
* ``exp``, ``softplus``, ``sigmoid``, ``cosh``, ``erfc``, ``exp2`` of anything; ``sqrt``,
  ``expm1``, ``1/x`` of a positive; ``abs`` and ``sqr`` of a nonzero (a positive, or a
  continuous random variable, zero only on a null set); ``x**p`` with a positive base, or an
  even integer ``p`` and a nonzero base; ``+ * /`` and ``minimum`` of positives; ``maximum``
  with one positive argument; ``clip`` with a positive lower bound; ``switch`` of positives;
  sums, products and maxima over axes of a positive;
* broadcasting, ``DimShuffle``, indexing, ``Alloc`` / ``broadcast_to``, reshape, join and
  stack, ``second``, casts to float, and every named intermediate (Deterministic): the proof
  looks through them.

Anything else (an unknown op, a Normal variable, a difference) is *not proven*: the analysis is
conservative, and the answer names the first piece of the expression it could not prove.

Examples
--------
>>> import pymc as pm, pytensor.tensor as pt
>>> from decenter.core.positivity import is_positive, why_not_positive
>>> with pm.Model() as m:
...     log_s = pm.Normal("log_s")
...     tau = pm.HalfNormal("tau")
...     z = pm.Normal("z")
>>> is_positive(pt.exp(log_s) * tau + 0.1, m)
True
>>> why_not_positive(tau * z, m)
'z is Normal, whose support includes values <= 0'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.scalar as ps
import pytensor.tensor as pt
from pytensor.compile.ops import DeepCopyOp, ViewOp
from pytensor.graph.basic import Constant, Variable
from pytensor.tensor.basic import Alloc, AllocDiag, ExtractDiag, Join, MakeVector, Split
from pytensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from pytensor.tensor.math import Dot
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.shape import Reshape, SpecifyShape
from pytensor.tensor.subtensor import AdvancedSubtensor, Subtensor
from pytensor.tensor.variable import TensorConstant

from decenter._pymc import (
    IntervalTransform,
    LogExpM1,
    LogOddsTransform,
    LogTransform,
    SimplexTransform,
    dist_name,
)
from decenter.core.exprtext import _const_text, _is_blockwise_matmul, _transposed, describe

__all__ = ["why_not_positive", "is_positive", "why_not_posdef", "scale_problem", "describe"]

# elementwise ops positive whatever their (real) input
_ALWAYS = (ps.Exp, ps.Exp2, ps.Cosh, ps.Softplus, ps.Sigmoid, ps.Erfc, ps.Erfcx)
# positive when every input is
_ALL = (ps.Add, ps.Mul, ps.TrueDiv, ps.Minimum, ps.Sqrt, ps.Expm1, ps.Reciprocal, ps.Gamma)
_ALL = (*_ALL, ps.Identity)
# shape-only ops: positive when their data input (the first) is
_LOOK_THROUGH = (
    DimShuffle,
    Subtensor,
    AdvancedSubtensor,
    Alloc,
    Reshape,
    SpecifyShape,
    ViewOp,
    DeepCopyOp,
)


def _kind(rv: Variable) -> str:
    return dist_name(rv.owner.op)  # PyMC's name: "MvNormal", "LKJCholeskyCov"


def _label(var: Variable) -> str:
    return var.name or describe(var)


class _Prover:
    """Memoized recursion: ``why(var)`` is None when ``var > 0`` elementwise is proven."""

    def __init__(self, model: Any = None):
        self.model = model
        self.memo: dict[Variable, str | None] = {}

    def why(self, var: Variable) -> str | None:
        if var not in self.memo:
            self.memo[var] = None  # a cycle cannot occur in a DAG; this only guards recursion
            self.memo[var] = self._why(var)
        return self.memo[var]

    def nonzero(self, var: Variable) -> str | None:
        """None when ``var != 0`` except on a null set."""
        if self.why(var) is None:
            return None
        if self._continuous_rv(var):
            return None
        node = var.owner
        if (
            node is not None
            and isinstance(node.op, Elemwise)
            and isinstance(node.op.scalar_op, ps.Neg)
        ):
            return self.nonzero(node.inputs[0])
        return self.why(var)

    def _continuous_rv(self, var: Variable) -> bool:
        return (
            var.owner is not None
            and isinstance(var.owner.op, RandomVariable)
            and var.dtype.startswith("float")
        )

    def _why(self, var: Variable) -> str | None:
        if isinstance(var, Constant):
            return _values_positive(np.asarray(var.data), f"the constant {_const_text(var)}")
        if var.owner is None:
            if hasattr(var, "get_value"):  # pm.Data / shared: its current values
                return _values_positive(np.asarray(var.get_value()), f"data {var.name}")
            return f"{_label(var)} is an input of unknown sign"
        model = self.model
        if model is not None and var in getattr(model, "observed_RVs", ()):
            data = model.rvs_to_values[var]
            values = data.data if isinstance(data, Constant) else data.get_value()
            return _values_positive(np.asarray(values), f"observed {var.name}")
        op = var.owner.op
        if isinstance(op, RandomVariable) or hasattr(op, "dist_params"):
            return self._rv(var)
        if isinstance(op, Elemwise):
            return self._elemwise(var)
        if isinstance(op, _LOOK_THROUGH):
            return self.why(var.owner.inputs[0])
        if isinstance(op, Join):
            return self._all(var.owner.inputs[1:])
        if isinstance(op, MakeVector | Split):
            return self._all(var.owner.inputs[:1] if isinstance(op, Split) else var.owner.inputs)
        if _is_reduction(op):
            return self.why(var.owner.inputs[0])
        if isinstance(op, ExtractDiag) and _main_diagonal(op, var.owner.inputs[0].ndim):
            # the diagonal of a positive definite matrix (LKJCholeskyCov's stds), or of a
            # positive one
            inner = var.owner.inputs[0]
            return self.why(inner) and _posdef(inner, self)
        return f"{_label(var)} is not known to be positive ({type(op).__name__})"

    def _all(self, inputs) -> str | None:
        for x in inputs:
            why = self.why(x)
            if why is not None:
                return why
        return None

    def _rv(self, rv: Variable) -> str | None:
        from decenter.families import default_transform

        model = self.model
        transforms = getattr(model, "rvs_to_transforms", {}) if model is not None else {}
        for tr in (transforms.get(rv), _safe(default_transform, rv)):
            if tr is not None and self._positive_transform(tr, rv):
                return None
        return f"{_label(rv)} is {_kind(rv)}, whose support includes values <= 0"

    def _positive_transform(self, tr: Any, rv: Variable) -> bool:
        if isinstance(tr, LogTransform | LogExpM1 | LogOddsTransform | SimplexTransform):
            return True  # values in (0, inf) or (0, 1)
        if isinstance(tr, IntervalTransform):
            bounds = _safe(lambda: tr.args_fn(*rv.owner.inputs))
            return bounds is not None and bounds[0] is not None and _nonneg(bounds[0], self)
        return False

    def _elemwise(self, var: Variable) -> str | None:
        node = var.owner
        sop = node.op.scalar_op
        inputs = node.inputs
        if isinstance(sop, ps.Cast):
            if not var.dtype.startswith("float"):  # rounding to an integer can reach 0
                return f"{_label(var)} casts to {var.dtype}"
            return self.why(inputs[0])
        if isinstance(sop, _ALWAYS):
            return None
        if isinstance(sop, _ALL):
            return self._all(inputs)
        if isinstance(sop, ps.Second):
            return self.why(inputs[1])
        if isinstance(sop, ps.Maximum):
            whys = [self.why(x) for x in inputs]
            return None if any(w is None for w in whys) else whys[0]
        if isinstance(sop, ps.Switch):
            return self._all(inputs[1:])
        if isinstance(sop, ps.Clip):
            return self.why(inputs[1])
        if isinstance(sop, ps.Abs | ps.Sqr):
            return self.nonzero(inputs[0])
        if isinstance(sop, ps.Pow):
            base, power = inputs
            if self.why(base) is None:
                return None
            if _even_integer(power):
                return self.nonzero(base)
            return self.why(base)
        return f"{_label(var)} is not known to be positive"


def _safe(f, *args):
    try:
        return f(*args)
    except Exception:  # an unexpected op layout: no proof, never a crash
        return None


def _is_reduction(op) -> bool:
    """sum, prod, max, min over axes: positive when the reduced tensor is."""
    kinds = ps.Add | ps.Mul | ps.Maximum | ps.Minimum
    return isinstance(op, CAReduce) and isinstance(op.scalar_op, kinds)


def _main_diagonal(op, ndim: int) -> bool:
    axes = (getattr(op, "axis1", None), getattr(op, "axis2", None))
    return getattr(op, "offset", 1) == 0 and axes == (ndim - 2, ndim - 1)


def _even_integer(x: Variable) -> bool:
    if not isinstance(x, TensorConstant):
        return False
    v = np.asarray(x.data)
    return bool(np.all(np.mod(v, 2) == 0))


def _nonneg(x: Variable, prover: _Prover) -> bool:
    if isinstance(x, Constant):
        v = np.asarray(x.data)
        return v.size > 0 and bool(np.all(v >= 0))
    return prover.why(x) is None


def _values_positive(v: np.ndarray, what: str) -> str | None:
    if v.size == 0 or not np.issubdtype(v.dtype, np.number):
        return f"{what} is empty or not numeric"
    if np.all(v > 0):
        return None
    return f"{what} has values <= 0 (smallest {v.min():.3g})"


def why_not_positive(expr: Any, model: Any = None) -> str | None:
    """Why ``expr > 0`` elementwise cannot be proven, or None when it is.

    Parameters
    ----------
    expr : TensorVariable or number
        An expression of the model's graph (random variables, not value variables).
    model : pm.Model, optional
        Lets the proof read observed data and the value transforms the user chose.

    Returns
    -------
    str or None
        None: proven positive. Otherwise a sentence naming the first piece of ``expr`` the
        proof could not handle.

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model() as m:
    ...     s = pm.Normal("s", 1, 1)
    >>> why_not_positive(s, m)
    's is Normal, whose support includes values <= 0'
    >>> why_not_positive(pm.math.exp(s), m) is None
    True
    """
    return _Prover(model).why(pt.as_tensor(expr))


def is_positive(expr: Any, model: Any = None) -> bool:
    """True when ``expr > 0`` elementwise is proven (see :func:`why_not_positive`).

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model() as m:
    ...     tau = pm.HalfCauchy("tau", 1)
    >>> is_positive(tau + 1, m), is_positive(tau - 1, m)
    (True, False)
    """
    return why_not_positive(expr, model) is None


def why_not_posdef(cov: Any, model: Any = None) -> str | None:
    """Why the matrix ``cov`` cannot be proven positive definite (almost everywhere), or None.

    Proven: constant or data matrices with positive eigenvalues; ``A @ A.T`` (and ``A.T @ A``)
    for a square ``A`` (positive definite unless ``A`` is singular, a null set; this covers
    ``chol=`` from ``LKJCholeskyCov``); ``diag(v)`` for a positive ``v``; a positive scalar times,
    or a sum of, proven matrices.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> with pm.Model() as m:
    ...     L = pm.Normal("L", shape=(2, 2))
    >>> why_not_posdef(L @ L.T, m) is None
    True
    >>> why_not_posdef(L, m)
    'L is Normal, not known to be positive definite'
    """
    prover = _Prover(model)
    return _posdef(pt.as_tensor(cov), prover)


def _posdef(var: Variable, prover: _Prover) -> str | None:
    if isinstance(var, Constant) or (var.owner is None and hasattr(var, "get_value")):
        value = np.asarray(var.data if isinstance(var, Constant) else var.get_value())
        if value.ndim >= 2 and value.shape[-1] == value.shape[-2]:
            sym = np.allclose(value, np.swapaxes(value, -1, -2))
            if sym and np.all(np.linalg.eigvalsh(value) > 0):
                return None
        return f"the matrix {var.name or 'constant'} is not positive definite"
    node = var.owner
    if node is None:
        return f"{_label(var)} is an input of unknown sign"
    op = node.op
    if isinstance(op, ViewOp | DeepCopyOp | SpecifyShape | Alloc):
        return _posdef(node.inputs[0], prover)
    if isinstance(op, DimShuffle) and _keeps_core(op, node.inputs[0].ndim):
        return _posdef(node.inputs[0], prover)  # batch dims added in front
    if isinstance(op, Dot) or _is_blockwise_matmul(op):
        a, b = node.inputs
        if _transposed(a, b) or _transposed(b, a):
            return None
    if isinstance(op, Elemwise):
        sop = op.scalar_op
        if isinstance(sop, ps.Add):
            return _first([_posdef(x, prover) for x in node.inputs])
        if isinstance(sop, ps.Mul) and len(node.inputs) == 2:
            for m_, s_ in (node.inputs, node.inputs[::-1]):
                if all(s_.type.broadcastable):  # a scalar times a matrix
                    return prover.why(s_) or _posdef(m_, prover)
    if isinstance(op, AllocDiag):
        return prover.why(node.inputs[0])
    if hasattr(op, "dist_params"):
        return f"{_label(var)} is {_kind(var)}, not known to be positive definite"
    return f"{_label(var)} is not known to be positive definite"


def _keeps_core(op: DimShuffle, ndim: int) -> bool:
    order = [k for k in op.new_order if k != "x"]
    return order == list(range(ndim)) and tuple(op.new_order[-2:]) == (ndim - 2, ndim - 1)


def _first(whys: list[str | None]) -> str | None:
    return next((w for w in whys if w is not None), None)


def scale_problem(rule: Any, ls: Any, model: Any = None) -> str | None:
    """Why rewriting with ``rule`` could accept a point the original rejects, or None.

    The rewrite maps a standard draw by the scale; it is faithful only where the original's
    scale parameter is valid, so the scale must be proven positive (positive definite for a
    covariance). Shape parameters kept in the standard draw (``nu``, ``alpha``) guard
    themselves: the standard draw rejects what the original rejects.

    Examples
    --------
    >>> import pymc as pm
    >>> from decenter.families import find_rule
    >>> with pm.Model() as m:
    ...     s = pm.Normal("s", 1, 1)
    ...     b = pm.Normal("b", 0, s)
    >>> rule = find_rule(b)
    >>> scale_problem(rule, rule.read(b), m)
    's is Normal, whose support includes values <= 0'
    """
    scale = ls.scale
    if getattr(rule, "covariance", False):
        return why_not_posdef(scale, model)
    return why_not_positive(scale, model)
