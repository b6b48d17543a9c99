"""Per-element information ``I_k`` and prior scale ``s_k`` behind data-informed centering.

``I_k`` is the curvature (negative diagonal Hessian, by automatic differentiation) of the
model's log density *without* the variable's own prior term, at given draws of the free
variables. For nested hierarchies a child variable's prior term is weighted by the child's
own ``lam``, which turns the child's curvature ``1 / tau**2`` into the information that the
child's data pass up, ``1 / (tau**2 + 1 / I_child)`` (the Gaussian marginal). Used by both
strategies of :mod:`decenter.auto` (at the Laplace mode, or at pilot draws).

Examples
--------
>>> import numpy as np, pymc as pm
>>> from decenter.auto.curvature import information
>>> with pm.Model() as m:
...     tau = pm.HalfNormal("tau")
...     x = pm.Normal("x", 0, tau, shape=2)
...     y = pm.Normal("y", x[[0, 0, 0, 1]], 1.0, observed=np.zeros(4))
>>> info = information(m, ["x"], {"tau": np.ones((5,)), "x": np.zeros((5, 2))})
>>> info["x"].information.tolist(), info["x"].lam_raw.round(2).tolist()
([3.0, 1.0], [0.75, 0.5])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.replace import vectorize_graph

from decenter._pymc import HELPER_MODE, LogTransform, initial_point
from decenter.families import Rule, find_rule
from decenter.util.linear import flat_function, graph_replace

__all__ = [
    "information",
    "InformationFn",
    "Info",
    "SCALE_QUANTILE",
    "SNAP",
    "CENTER_ABOVE",
    "snap",
    "EXACT_HESSIAN_MAX",
    "N_PROBES",
]

#: Quantile of the scale's pilot draws used as ``s_k`` by the pilot strategy.
SCALE_QUANTILE = 0.1
#: ``lam`` below SNAP becomes 0 (non-centered).
SNAP = 0.05
#: ``lam`` at or above CENTER_ABOVE becomes 1: the element is left centered (the data hold
#: 95 % of its information: the partial form's extra terms would buy nothing; the lower
#: thresholds measured are in docs/benchmarks.md).
CENTER_ABOVE = 0.95
#: Draws of a pilot at which the curvature is averaged.
CURVATURE_DRAWS = 40
#: Variables with more elements than this use Rademacher probes for the Hessian diagonal
#: (exact when the Hessian is diagonal, as for group effects); smaller ones the full Hessian.
EXACT_HESSIAN_MAX = 64
N_PROBES = 16


@dataclass
class Info:
    """Per-element quantities behind one variable's ``lam`` (arrays over its value shape)."""

    name: str
    information: np.ndarray  # I_k: curvature of the rest of the model
    scale: np.ndarray  # s_k: the (low) prior scale
    lam_raw: np.ndarray  # I s^2 / (1 + I s^2) before snapping

    @property
    def lam(self) -> np.ndarray:
        return snap(self.lam_raw)


def snap(lam_raw) -> np.ndarray:
    """``lam`` below :data:`SNAP` to 0, at or above :data:`CENTER_ABOVE` to 1 (a 0-d array for
    a scalar)."""
    lam = np.array(lam_raw, dtype=float)
    lam[lam < SNAP] = 0.0
    lam[lam >= CENTER_ABOVE] = 1.0
    return lam


def _to_values_fn(model: pm.Model):
    """Compiled map from constrained draws of the free RVs to the model's value variables."""
    rvs = list(model.free_RVs)
    holders = {rv: rv.type(name=rv.name) for rv in rvs}
    outs = []
    for rv in rvs:
        tr = model.rvs_to_transforms.get(rv)
        outs.append(rv if tr is None else tr.forward(rv, *rv.owner.inputs))
    outs = graph_replace(outs, holders, strict=False)
    return flat_function(list(holders.values()), outs, on_unused_input="ignore", mode=HELPER_MODE)


def _diag_hessian(cost, v, shape: tuple[int, ...], rng: np.random.Generator):
    """Diagonal of the Hessian of ``cost`` with respect to ``v`` (of numeric shape ``shape``)."""
    size = int(np.prod(shape))
    # disconnected: the rest of the model does not see v (no data, e.g. Neal's funnel)
    g = pt.grad(cost, v, disconnected_inputs="ignore")
    p = v.type()
    hvp = pt.grad((g * p).sum(), v, disconnected_inputs="ignore")  # Hessian-vector product
    if size <= EXACT_HESSIAN_MAX:
        probes = np.eye(size).reshape((size, *shape))
        hv = vectorize_graph(hvp, {p: pt.constant(probes, dtype=v.dtype)})
        return (hv * probes).sum(0)
    # Rademacher probes: E[p * Hp] = diag(H), exact for any probe when H is diagonal
    probes = rng.choice([-1.0, 1.0], size=(N_PROBES, *shape))
    hv = vectorize_graph(hvp, {p: pt.constant(probes, dtype=v.dtype)})
    return (hv * probes).mean(0)


def _term_users(terms, values) -> dict[int, list[int]]:
    """For each value variable (by position), the positions of the terms that use it."""
    from decenter.auto.structure import dependencies

    users: dict[int, list[int]] = {}
    for j, used in enumerate(dependencies(terms, values)):
        for i in used:
            users.setdefault(i, []).append(j)
    return users


def _curvature_and_scale(model: pm.Model, name: str, rest, value, shape, rng, rule=None):
    """-(diagonal Hessian) of ``rest`` in ``value``, and the candidate's prior scale on the
    model's values; an error if they cannot be built or do not pair up."""
    shape = tuple(int(d) for d in shape)
    out = -_diag_hessian(rest, value, shape, rng)
    scale = model.replace_rvs_by_values([_scale_expr(model, model[name], rule)])[0]
    if scale.type.ndim != len(shape):
        raise ValueError(f"its scale has {scale.type.ndim} axes, its value {len(shape)}")
    return out, scale


def _scale_expr(model: pm.Model, rv, rule=None) -> pt.TensorVariable:
    """The prior scale of ``rv`` broadcast to the shape of its value (1 for scale families on a
    log scale), so that ``I_k s_k**2`` pairs each value coordinate with its own scale;
    ``rule``: the variable's, if known (a plan's decisions carry it)."""
    rule = find_rule(rv) if rule is None else rule
    ls = rule.read(rv)
    tr = model.rvs_to_transforms.get(rv)
    if not rule.has_loc and isinstance(tr, LogTransform):
        # scale family on a log transform: log x = log scale + log(standard draw)
        return pt.ones(rv.shape)
    return rule.value_scale(ls, rv, tr)


def information(
    model: pm.Model,
    names: Sequence[str],
    draws: dict[str, np.ndarray],
    *,
    quantile: float | None = None,
    scales: Mapping[str, np.ndarray] | None = None,
    random_seed: int | None = None,
    max_draws: int = CURVATURE_DRAWS,
) -> dict[str, Info]:
    """Per-element information ``I_k``, robust scale ``s_k`` and raw ``lam`` for each variable.

    Parameters
    ----------
    model : pm.Model
        The original (centered) model.
    names : list of str
        Free variables to analyse (candidates of a plan).
    draws : dict
        Constrained draws of every free variable, ``(n_draws, *shape)`` (see :func:`pilot_draws`).
    quantile : float
        Quantile of the scale draws used as ``s_k`` (default :data:`SCALE_QUANTILE`).
    scales : dict, optional
        ``s_k`` per variable (broadcast to its shape), instead of a quantile of the draws.
    random_seed : int, optional
        Seed of the Rademacher probes (variables with more than 64 elements).
    max_draws : int
        At most this many draws (evenly spaced) are used.

    Returns
    -------
    dict
        Variable name -> :class:`Info`.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> from decenter.auto import information
    >>> with pm.Model() as m:
    ...     tau = pm.HalfNormal("tau")
    ...     x = pm.Normal("x", 0, tau, shape=2)
    ...     y = pm.Normal("y", x[[0, 0, 0, 1]], 1.0, observed=np.zeros(4))
    >>> info = information(m, ["x"], {"tau": np.ones((5,)), "x": np.zeros((5, 2))})
    >>> info["x"].information.tolist(), info["x"].lam_raw.round(2).tolist()
    ([3.0, 1.0], [0.75, 0.5])
    """
    fn = InformationFn(model, names, random_seed=random_seed)
    return fn(draws, quantile=quantile, scales=scales, max_draws=max_draws)


class InformationFn:
    """:func:`information` compiled once for a model and candidates, callable at many draws.

    A candidate whose curvature or scale cannot be built is left out (``names`` lists the
    others) with the reason in ``failed``: the fit then leaves it non-centered, alone.
    """

    def __init__(
        self,
        model: pm.Model,
        names: Sequence[str],
        random_seed: int | None = None,
        shapes: Mapping[str, tuple[int, ...]] | None = None,
        rules: Mapping[str, Rule] | None = None,
    ):
        """``shapes`` (optional): the candidates' value shapes by name, if known (else the
        model's initial point is computed for them: seconds on a model of hundreds of
        variables); ``rules`` (optional): their rules by name (:meth:`Plan.rules`), if known."""
        rng = np.random.default_rng(random_seed)
        self.to_values = _to_values_fn(model)
        self.rvs = rvs = list(model.free_RVs)
        values = [model.rvs_to_values[rv] for rv in rvs]
        terms = model.logp(sum=False)
        self.pos = pos = {rv.name: i for i, rv in enumerate(rvs)}
        weights = {
            name: pt.tensor(f"w_{name}", shape=(None,) * terms[pos[name]].ndim) for name in names
        }
        weighted = [
            (weights[rv.name] * terms[i]).sum() if rv.name in weights else terms[i].sum()
            for i, rv in enumerate(rvs)
        ]
        weighted += [pt.as_tensor(t).sum() for t in terms[len(rvs) :]]
        if shapes is None:
            ip = initial_point(model)
            shapes = {n_: np.shape(ip[values[pos[n_]].name]) for n_ in names}
        # the rest of the model, as far as x sees it: only the terms that use x's value (the
        # others add nothing to its curvature), so that each graph stays the size of x's
        # neighbourhood, not of the model (all terms for each of k variables: k^2)
        users = _term_users(weighted, values)
        self.names, self.failed, outs, scale_exprs = [], {}, [], []
        for name in names:
            i = pos[name]
            mine = [weighted[j] for j in users.get(i, []) if j != i]
            rest = pt.add(*mine) if mine else pt.zeros(())
            try:
                rule = (rules or {}).get(name)
                out, scale = _curvature_and_scale(
                    model, name, rest, values[i], shapes[name], rng, rule
                )
            except Exception as err:  # this variable only: it falls back, the others are fitted
                self.failed[name] = f"{type(err).__name__}: {err}"
                continue
            self.names.append(name)
            outs.append(out)
            scale_exprs.append(scale)
        # a term has its value's shape, or fewer axes
        self.term_ndim = {n_: terms[pos[n_]].ndim for n_ in self.names}
        # a variable left out weighs its prior term fully (as a centered child)
        fixed = {weights[n_]: pt.ones(terms[pos[n_]].shape) for n_ in self.failed}
        outs = graph_replace(outs, fixed, strict=False) if fixed and outs else outs
        self.fn = flat_function(
            [*values, *(weights[n_] for n_ in self.names)],
            outs + scale_exprs,
            on_unused_input="ignore",
            mode=HELPER_MODE,
        )

    def __call__(
        self,
        draws: Mapping[str, np.ndarray],
        *,
        quantile: float | None = None,
        scales: Mapping[str, np.ndarray] | None = None,
        max_draws: int = CURVATURE_DRAWS,
    ) -> dict[str, Info]:
        quantile = SCALE_QUANTILE if quantile is None else quantile
        names = self.names
        n = len(next(iter(draws.values())))
        idx = np.unique(np.linspace(0, n - 1, min(n, max_draws)).round().astype(int))
        points = [self.to_values(*[draws[rv.name][i] for rv in self.rvs]) for i in idx]
        # weights start at 1 (children centered)
        w_now = {
            n_: np.ones(np.shape(points[0][self.pos[n_]])[: self.term_ndim[n_]]) for n_ in names
        }
        result: dict[str, Info] = {}
        for _ in range(len(names) + 1):  # one pass per nesting level
            outs = [self.fn(*p, *[w_now[n_] for n_ in names]) for p in points]
            new = {}
            for j, name in enumerate(names):
                info_k = np.mean([np.maximum(o[j], 0.0) for o in outs], axis=0)
                s_draws = np.stack([o[len(names) + j] for o in outs])
                if scales is not None and name in scales:
                    s_k = np.broadcast_to(np.asarray(scales[name], float), s_draws.shape[1:])
                else:
                    s_k = np.quantile(s_draws, quantile, axis=0)
                lam = info_k * s_k**2 / (1.0 + info_k * s_k**2)
                new[name] = Info(name, info_k, s_k, lam)
            changed = not result or any(
                not np.allclose(new[n_].lam_raw, result[n_].lam_raw, atol=1e-3) for n_ in names
            )
            result = new
            for name in names:
                shape = w_now[name].shape
                lam = result[name].lam_raw
                w_now[name] = (
                    lam.reshape(shape) if lam.shape == shape else np.full(shape, lam.mean())
                )
            if not changed:
                break
        return result
