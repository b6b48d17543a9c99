"""A random variable as the PyMC call that makes it: ``Exponential(10)``, ``MvNormal(mu, chol=chol)``.

PyTensor's ops take their own parameters (a scale where PyMC takes a rate, a covariance
where the user gave a Cholesky factor, a support shape PyMC derives from the dims); this
module writes them back in PyMC's words, by op type, and positionally otherwise.

Examples
--------
>>> import pymc as pm
>>> from decenter.cli._dists import dist_text
>>> from decenter.cli._printer import Printer
>>> with pm.Model() as m:
...     lam = pm.Exponential("lam", 10)
...     s = pm.HalfNormal("s", 2)
...     g = pm.Gamma("g", 2, lam)
>>> p = Printer(m)
>>> [dist_text(p, v) for v in (lam, s, g)]
['Exponential(10)', 'HalfNormal(2)', 'Gamma(2, lam)']
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pytensor.graph.basic import Constant, Variable
from pytensor.tensor.elemwise import DimShuffle
from pytensor.tensor.random.basic import (
    ExponentialRV,
    GammaRV,
    HalfNormalRV,
    MvNormalRV,
    NormalRV,
)
from pytensor.tensor.random.type import RandomType
from pytensor.tensor.type_other import NoneTypeT

from decenter._pymc import (
    LKJCholeskyCovRV,
    RandomWalkRV,
    TruncatedNormalRV,
    TruncatedRV,
    ZeroSumNormalRV,
    dist_name,
)
from decenter.cli._patterns import is_transpose_of, reciprocal_input, strip_expand

__all__ = ["dist_text"]


class Printer(Protocol):
    """What the text of a distribution needs of :class:`decenter.cli._printer.Printer` (which
    imports this module for the distributions inside formulas)."""

    overrides: dict

    def expr(self, var: Variable) -> str: ...

    def wrap(self, var: Variable, min_prec: int) -> str: ...


def dist_text(p: Printer, rv: Variable) -> str:
    """``Family(params)`` of a random variable, in PyMC's parameter names where they differ."""
    op = rv.owner.op
    params = _params(rv)
    name = dist_name(op)
    if isinstance(op, HalfNormalRV) and _is_const(params[0], 0):
        params = params[1:]  # PyMC's HalfNormal has no location
    elif isinstance(op, ExponentialRV | GammaRV):
        *shape, scale = params
        rate = None if scale in p.overrides else _reciprocal_of(scale)
        if rate is not None:  # PyMC takes the rate: Exponential(lam), Gamma(alpha, beta)
            return _call(name, [p.expr(x) for x in [*shape, rate]])
        kw = "scale" if isinstance(op, ExponentialRV) else "beta"
        value = p.wrap(scale, 3) if kw == "scale" else f"1 / {p.wrap(scale, 3)}"
        return _call(name, [*map(p.expr, shape), f"{kw}={value}"])
    elif isinstance(op, MvNormalRV):
        mu, cov = params
        cov = strip_expand(cov)
        if cov.owner is not None and is_transpose_of(cov.owner.inputs[-1], cov.owner.inputs[0]):
            return _call(name, [p.expr(mu), f"chol={p.expr(cov.owner.inputs[0])}"])
        return _call(name, [p.expr(mu), f"cov={p.expr(cov)}"])
    elif isinstance(op, ZeroSumNormalRV):
        # the support shape comes from the dims; more than one zero-sum axis is said
        axes = op.ndim_supp
        return _call(name, [p.expr(params[0]), *([f"n_zerosum_axes={axes}"] if axes > 1 else [])])
    elif isinstance(op, LKJCholeskyCovRV):
        n, eta, sd = params
        return _call(name, [f"n={p.expr(n)}", f"eta={p.expr(eta)}", f"sd_dist={p.expr(sd)}"])
    elif isinstance(op, RandomWalkRV):
        return _walk_text(p, rv)
    elif isinstance(op, TruncatedNormalRV | TruncatedRV):
        return _truncated_text(p, rv, params)
    return _call(name, [p.expr(x) for x in params])


def _params(rv: Variable) -> list[Variable]:
    node = rv.owner
    try:
        return list(node.op.dist_params(node))
    except Exception:  # a SymbolicRandomVariable without an extended signature
        return [x for x in node.inputs if not isinstance(x.type, RandomType | NoneTypeT)]


def _call(name: str, args: list[str]) -> str:
    return f"{name}({', '.join(args)})"


def _walk_text(p: Printer, rv: Variable) -> str:
    """``GaussianRandomWalk(sigma=s, init_dist=...)`` or ``RandomWalk(init_dist=, innovation_dist=)``;
    the steps come from the dims."""
    init, innov, _ = rv.owner.inputs
    init_text = f"init_dist={dist_text(p, init)}"
    iop = innov.owner.op
    if isinstance(iop, NormalRV):
        mu, sigma = _params(innov)
        mu_kw = [] if _is_const(mu, 0) else [f"mu={p.expr(mu)}"]
        return _call("GaussianRandomWalk", [*mu_kw, f"sigma={p.expr(sigma)}", init_text])
    if isinstance(iop, MvNormalRV):
        inner = dist_text(p, innov).removeprefix(dist_name(iop) + "(")[:-1]
        return f"MvGaussianRandomWalk({inner}, {init_text})"
    return _call("RandomWalk", [init_text, f"innovation_dist={dist_text(p, innov)}"])


def _truncated_text(p: Printer, rv: Variable, params: list[Variable]) -> str:
    """``TruncatedNormal(mu, sigma, lower=...)`` / ``Truncated(D(...), upper=...)``: an infinite
    bound is left out, as the user leaves it out."""
    if isinstance(rv.owner.op, TruncatedNormalRV):
        *inner, lower, upper = params
        head, name = [p.expr(x) for x in inner], "TruncatedNormal"
    else:  # pm.Truncated(base): its inputs are (rng, size, *base params, lower, upper)
        node = rv.owner
        rng, size, *inner, lower, upper = node.inputs
        base = node.op.base_rv_op.make_node(rng, size, *inner).default_output()
        head, name = [dist_text(p, base)], "Truncated"
    bounds = [
        f"{kw}={p.expr(b)}"
        for kw, b, sign in (("lower", lower, -1), ("upper", upper, 1))
        if not _is_const(b, sign * np.inf)
    ]
    return _call(name, head + bounds)


def _is_const(x: Variable, value: float) -> bool:
    while x.owner is not None and isinstance(x.owner.op, DimShuffle):
        x = x.owner.inputs[0]
    return isinstance(x, Constant) and bool(np.all(x.data == value))


def _reciprocal_of(x: Variable) -> Variable | None:
    """``r`` when ``x`` is ``1 / r`` (PyMC builds a scale from a rate so)."""
    return reciprocal_input(x)
