"""The diagnostics of one sampling run, as :func:`decenter.diagnose.compare.compare` reports them.

:func:`summarize_run` reads a DataTree from ``pm.sample`` (any NUTS sampler) into a
:class:`RunSummary`: divergences, R-hat, bulk and tail ESS, E-BFMI and the gradient
evaluations, over the compared variables only. Both are re-exported by
:mod:`decenter.compare`, where users import them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from decenter.report.render import plural
from decenter.util.jsonable import jsonable

__all__ = ["RunSummary", "summarize_run"]

# Thresholds of Vehtari et al. (2021) and Betancourt (2016) for "this run can be trusted".
RHAT_MAX = 1.01
ESS_MIN_PER_CHAIN = 100
BFMI_MIN = 0.3


@dataclass
class RunSummary:
    """Diagnostics of one sampling run, over the compared variables.

    ``None`` means "not available from this sampler" (shown as ``n/a``).
    """

    label: str
    sampler: str
    chains: int
    draws: int
    tune: int
    divergences: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    worst_ess: str  # the element with the smallest bulk ESS, e.g. "b[AITKIN]"
    min_bfmi: float | None
    wall_time: float  # seconds, including compilation
    sampling_time: float | None  # seconds spent in tuning and drawing, as the sampler reports
    ess_per_second: float | None  # min bulk ESS / sampling time
    grad_evals: int | None  # leapfrog steps (gradient evaluations) after warm-up
    grad_evals_warmup: int | None
    ess_per_grad: float | None  # min bulk ESS / grad_evals
    per_var: dict[str, dict[str, float]] = field(default_factory=dict)
    idata: Any = field(default=None, repr=False)

    @property
    def problems(self) -> list[str]:
        """What makes this run untrustworthy, in words; empty when the run is fine."""
        out = []
        if self.divergences:
            out.append(plural(self.divergences, "divergence"))
        if not self.converged:
            if math.isnan(self.max_rhat):  # not "R-hat nan > 1.01"
                out.append("R-hat undefined" + (" (one chain)" if self.chains == 1 else ""))
            elif not self.max_rhat <= RHAT_MAX:
                out.append(f"R-hat {_fmt_vs(self.max_rhat, RHAT_MAX, 3)} > {RHAT_MAX}")
            need = self.ess_needed
            if not self.min_ess_bulk >= need:
                out.append(f"bulk ESS {_fmt_vs(self.min_ess_bulk, need, 0)} < {_fmt(need, 0)}")
        if self.min_bfmi is not None and self.min_bfmi < BFMI_MIN:
            out.append(f"E-BFMI {self.min_bfmi:.2f} < {BFMI_MIN}")
        return out

    @property
    def ess_needed(self) -> int:
        """The bulk ESS a run of this many chains needs to count as converged."""
        return ESS_MIN_PER_CHAIN * self.chains

    @property
    def converged(self) -> bool:
        """R-hat at most 1.01 and bulk ESS at least 100 per chain for every element."""
        return bool(
            self.max_rhat <= RHAT_MAX and self.min_ess_bulk >= ESS_MIN_PER_CHAIN * self.chains
        )

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        """``"ok"``, or short flags: ``"divergences"``, ``"not converged"``, ``"low E-BFMI"``."""
        flags = []
        if self.divergences:
            flags.append("divergences")
        if not self.converged:
            flags.append("not converged")
        if self.min_bfmi is not None and self.min_bfmi < BFMI_MIN:
            flags.append("low E-BFMI")
        return ", ".join(flags) or "ok"

    def to_dict(self) -> dict:
        d = {k: jsonable(v) for k, v in self.__dict__.items() if k != "idata"}
        d.update(converged=self.converged, ok=self.ok, problems=self.problems, status=self.status)
        return d


def summarize_run(
    idata: Any,
    var_names: list[str],
    *,
    label: str = "",
    wall_time: float = math.nan,
    sampler: str | None = None,
) -> RunSummary:
    """Diagnostics of one run (a DataTree from ``pm.sample``) over ``var_names``.

    Warm-up groups, if present, are used to count warm-up gradient evaluations and then
    dropped from the returned ``.idata``.

    Examples
    --------
    >>> import pymc as pm
    >>> from decenter.diagnose.compare import summarize_run
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x")
    >>> idata = pm.sample(draws=100, tune=100, chains=2, nuts_sampler="pymc", model=m,
    ...                   progressbar=False, random_seed=1)  # doctest: +SKIP
    >>> summarize_run(idata, ["x"]).divergences  # doctest: +SKIP
    0
    """
    idata, grad_warm = _drop_warmup(idata)
    post = idata.posterior.to_dataset()
    stats = idata.sample_stats.to_dataset() if "sample_stats" in idata.children else None
    min_bulk, worst, min_tail, max_rhat, per_var = _convergence(idata, var_names)
    divergences, grad, min_bfmi = _sampler_stats(idata, stats)
    t_sample = post.attrs.get("sampling_time")
    t_sample = float(t_sample) if t_sample is not None else None
    return RunSummary(
        label=label,
        sampler=str(post.attrs.get("inference_library", "") or sampler or "unknown"),
        chains=int(post.sizes["chain"]),
        draws=int(post.sizes["draw"]),
        tune=int(post.attrs.get("tuning_steps", 0) or 0),
        divergences=divergences,
        max_rhat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        worst_ess=worst,
        min_bfmi=min_bfmi,
        wall_time=float(wall_time),
        sampling_time=t_sample,
        ess_per_second=min_bulk / t_sample if t_sample else None,
        grad_evals=grad,
        grad_evals_warmup=grad_warm,
        ess_per_grad=min_bulk / grad if grad else None,
        per_var=per_var,
        idata=idata,
    )


def _drop_warmup(idata: Any) -> tuple[Any, int | None]:
    """The run without its warm-up groups, and the warm-up's gradient evaluations."""
    children = set(idata.children)
    warm = idata["warmup_sample_stats"] if "warmup_sample_stats" in children else None
    grad_warm = _sum_steps(warm) if warm is not None else None
    drop = [g for g in ("warmup_posterior", "warmup_sample_stats") if g in children]
    if drop:
        idata = idata.drop_nodes(drop)
    return idata, grad_warm


def _convergence(idata: Any, var_names: list[str]) -> tuple:
    """Min bulk ESS and where, min tail ESS, max R-hat, and the worst of each per variable."""
    import arviz as az

    ess_bulk = az.ess(idata, var_names=var_names, method="bulk").to_dataset()
    ess_tail = az.ess(idata, var_names=var_names, method="tail").to_dataset()
    rhat = az.rhat(idata, var_names=var_names).to_dataset()
    min_bulk, worst = _extreme(ess_bulk, var_names, np.nanargmin)
    min_tail, _ = _extreme(ess_tail, var_names, np.nanargmin)
    max_rhat, _ = _extreme(rhat, var_names, np.nanargmax)
    per_var = {
        n: {
            "ess_bulk": _nanreduce(np.nanmin, ess_bulk[n].values),
            "ess_tail": _nanreduce(np.nanmin, ess_tail[n].values),
            "rhat": _nanreduce(np.nanmax, rhat[n].values),
        }
        for n in var_names
    }
    return min_bulk, worst, min_tail, max_rhat, per_var


def _sampler_stats(idata: Any, stats: Any) -> tuple[int, int | None, float | None]:
    """Divergences, gradient evaluations and min E-BFMI (None: not reported by the sampler)."""
    import arviz as az

    divergences = (
        int(stats["diverging"].values.sum()) if stats is not None and "diverging" in stats else 0
    )
    grad = _sum_steps(stats) if stats is not None else None
    min_bfmi = None
    if stats is not None and "energy" in stats:
        bfmi = az.bfmi(idata).to_dataset()["energy"].values
        min_bfmi = _nanreduce(np.nanmin, bfmi)
    return divergences, grad, min_bfmi


def _sum_steps(stats) -> int | None:
    """Gradient evaluations: ``n_steps`` (pymc, nutpie, numpyro, blackjax), else 2**depth - 1."""
    for key in ("n_steps", "num_steps"):
        if key in stats:
            return int(np.asarray(stats[key].values, dtype=float).sum())
    for key in ("tree_depth", "depth"):
        if key in stats:  # a full trajectory of depth d has 2**d - 1 leapfrog steps (upper bound)
            return int((2.0 ** np.asarray(stats[key].values, dtype=float) - 1).sum())
    return None


def _nanreduce(fn, values) -> float:
    values = np.asarray(values, dtype=float)
    if values.size == 0 or np.all(np.isnan(values)):
        return math.nan
    return float(fn(values))


def _extreme(ds, var_names: list[str], argfn) -> tuple[float, str]:
    """The extreme value over all elements of all variables, and where it is, e.g. ``b[AITKIN]``."""
    best, where = math.nan, "-"
    for name in var_names:
        da = ds[name]
        values = np.asarray(da.values, dtype=float)
        if values.size == 0 or np.all(np.isnan(values)):
            continue
        flat = int(argfn(values.reshape(-1)))
        value = float(values.reshape(-1)[flat])
        better = argfn(np.array([best, value])) == 1 if not math.isnan(best) else True
        if better:
            best, where = value, _element_label(da, flat)
    return best, where


def _element_label(da, flat: int) -> str:
    if da.ndim == 0:
        return str(da.name)
    idx = np.unravel_index(flat, da.shape)
    labels = []
    for dim, i in zip(da.dims, idx, strict=True):
        coord = da.coords.get(dim)
        labels.append(str(coord.values[i]) if coord is not None else str(i))
    return f"{da.name}[{', '.join(labels)}]"


def _fmt(x: Any, digits: int) -> str:
    if x is None:
        return "n/a"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}" if abs(x) >= 10 ** (-digits) or x == 0 else f"{x:.2g}"


def _fmt_vs(x: Any, limit: float, digits: int) -> str:
    """``x`` as :func:`_fmt` writes it, with more digits where fewer would print it equal to
    ``limit``: an R-hat of 1.0104 is "1.0104 > 1.01", never "1.010 > 1.01"."""
    s = _fmt(x, digits)
    if x is None or not math.isfinite(float(x)) or float(x) == limit:
        return s
    while s == _fmt(limit, digits) and digits < 8:
        digits += 1
        s = _fmt(x, digits)
    return s
