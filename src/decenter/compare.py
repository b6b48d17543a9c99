"""Sample a model and its rewrite with the same settings and compare how well NUTS did.

The statistics are taken over the *original* variables only: their names exist in both
models (a rewritten free variable survives as a Deterministic of the same name), so the two
rows of the table measure the same quantities.

Examples
--------
>>> import pymc as pm, decenter
>>> with pm.Model(coords={"school": range(8)}) as m:
...     mu = pm.Normal("mu", 0, 5)
...     tau = pm.HalfCauchy("tau", 5)
...     theta = pm.Normal("theta", mu, tau, dims="school")
...     y = pm.Normal("y", theta, 10.0, observed=[28, 8, -3, 7, -1, 1, 18, 12], dims="school")
>>> c = decenter.compare(m, draws=200, tune=200, chains=2, nuts_sampler="pymc",
...                      random_seed=1, progressbar=False)  # doctest: +SKIP
>>> c.var_names, c.transformed.divergences  # doctest: +SKIP
(['mu', 'tau', 'theta'], 0)
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm

from decenter._args import RandomSeed, seed_int
from decenter._json import jsonable
from decenter.plan import check_model
from decenter.plan import plan as make_plan
from decenter.rewrite import apply_plan

__all__ = ["Comparison", "RunSummary", "Agreement", "compare", "summarize_run"]

# Thresholds of Vehtari et al. (2021) and Betancourt (2016) for "this run can be trusted".
RHAT_MAX = 1.01
ESS_MIN_PER_CHAIN = 100
BFMI_MIN = 0.3
# Familywise error rate of the posterior agreement test (Bonferroni over all elements).
AGREEMENT_ALPHA = 0.01
# A ratio of efficiencies within [1 / EFFICIENCY_MARGIN, EFFICIENCY_MARGIN] counts as similar.
EFFICIENCY_MARGIN = 1.25

SAMPLERS = ("pymc", "nutpie", "numpyro", "blackjax")


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
            out.append(f"{self.divergences} divergences")
        if not self.converged:
            if not self.max_rhat <= RHAT_MAX:
                out.append(f"R-hat {_fmt(self.max_rhat, 3)} > {RHAT_MAX}")
            need = ESS_MIN_PER_CHAIN * self.chains
            if not self.min_ess_bulk >= need:
                out.append(f"bulk ESS {_fmt(self.min_ess_bulk, 0)} < {need}")
        if self.min_bfmi is not None and self.min_bfmi < BFMI_MIN:
            out.append(f"E-BFMI {self.min_bfmi:.2f} < {BFMI_MIN}")
        return out

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


@dataclass
class Agreement:
    """Do the two posteriors agree? Largest z-score of the differences of means and sds.

    ``z = (a - b) / sqrt(mcse_a**2 + mcse_b**2)`` for the posterior mean and sd of every
    element; the posteriors agree when ``max |z|`` stays under the Bonferroni threshold for a
    familywise error rate of 1 %. Only judged (``agree`` not None) when both runs converged.
    """

    agree: bool | None
    max_z: float
    where: str
    threshold: float
    n_tests: int
    reason: str

    def to_dict(self) -> dict:
        return {k: jsonable(v) for k, v in self.__dict__.items()}

    def __str__(self) -> str:
        if not self.n_tests:
            return f"not compared: {self.reason}"
        verdict = {True: "agree", False: "DISAGREE", None: "not judged"}[self.agree]
        s = f"{verdict}: max |z| = {self.max_z:.2f} at {self.where} (threshold {self.threshold:.2f}, {self.n_tests} tests)"
        return s if self.agree is not None else f"{s}; {self.reason}"


@dataclass
class Comparison:
    """The result of :func:`compare`: two :class:`RunSummary` rows, the posterior agreement and
    a verdict on the transformed model (``"better"``, ``"worse"`` or ``"similar"``).

    ``print(comparison)`` shows a table; ``comparison.to_dict()`` is JSON-serialisable; the
    sampled DataTrees are ``comparison.original.idata`` and ``comparison.transformed.idata``.
    """

    original: RunSummary
    transformed: RunSummary
    var_names: list[str]
    agreement: Agreement
    verdict: str
    reasons: list[str]
    settings: dict
    plan: Any = field(default=None, repr=False)
    original_model: Any = field(default=None, repr=False)
    transformed_model: Any = field(default=None, repr=False)

    def rows(self) -> list[tuple[str, str, str]]:
        """(statistic, original, transformed) rows of the summary table, formatted."""
        o, t = self.original, self.transformed
        return [
            ("status", o.status, t.status),
            ("divergences", str(o.divergences), str(t.divergences)),
            ("max R-hat", _fmt(o.max_rhat, 3), _fmt(t.max_rhat, 3)),
            (
                "min bulk ESS",
                f"{_fmt(o.min_ess_bulk, 0)} ({o.worst_ess})",
                f"{_fmt(t.min_ess_bulk, 0)} ({t.worst_ess})",
            ),
            ("min tail ESS", _fmt(o.min_ess_tail, 0), _fmt(t.min_ess_tail, 0)),
            ("min E-BFMI", _fmt(o.min_bfmi, 2), _fmt(t.min_bfmi, 2)),
            ("gradient evals", _fmt(o.grad_evals, 0), _fmt(t.grad_evals, 0)),
            ("ESS / gradient eval", _fmt(o.ess_per_grad, 4), _fmt(t.ess_per_grad, 4)),
            ("sampling time (s)", _fmt(o.sampling_time, 1), _fmt(t.sampling_time, 1)),
            ("ESS / s", _fmt(o.ess_per_second, 0), _fmt(t.ess_per_second, 0)),
            ("wall time (s)", _fmt(o.wall_time, 1), _fmt(t.wall_time, 1)),
        ]

    def var_rows(self) -> list[tuple[str, str, str, str]]:
        """(variable, bulk ESS, tail ESS, R-hat) rows, each cell ``original -> transformed``;
        the worst element of each variable."""
        out = []
        for name in self.var_names:
            po, pt_ = self.original.per_var.get(name, {}), self.transformed.per_var.get(name, {})
            cells = [
                f"{_fmt(po.get(k), d)} -> {_fmt(pt_.get(k), d)}"
                for k, d in (("ess_bulk", 0), ("ess_tail", 0), ("rhat", 3))
            ]
            out.append((name, *cells))
        return out

    def __str__(self) -> str:
        from decenter.render import comparison_text

        return comparison_text(self)

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))

    def to_dict(self) -> dict:
        return {
            "settings": jsonable(self.settings),
            "var_names": list(self.var_names),
            "original": self.original.to_dict(),
            "transformed": self.transformed.to_dict(),
            "agreement": self.agreement.to_dict(),
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "plan": None if self.plan is None else self.plan.to_dict(),
        }


def compare(
    original: pm.Model,
    transformed: pm.Model | None = None,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    nuts_sampler: str | None = None,
    random_seed: RandomSeed = None,
    progressbar: bool = True,
    sampler: str | None = None,
    **sample_kwargs: Any,
) -> Comparison:
    """Sample ``original`` and ``transformed`` with the same settings and compare the runs.

    Parameters
    ----------
    original : pm.Model
        The model as written.
    transformed : pm.Model, optional
        An equivalent model; defaults to ``decenter.transform(original)``. A hand-written
        reparameterization works too: the variables compared are the original free variables
        that ``transformed`` also defines (as free variables or Deterministics).
    draws, tune, chains : int
        Passed to ``pm.sample`` for both models.
    nuts_sampler : {"pymc", "nutpie", "numpyro", "blackjax"}, optional
        As in ``pm.sample``; None is PyMC's default. ``sampler=`` is its deprecated name.
    random_seed : int, np.random.Generator, RandomState or SeedSequence, optional
        What ``pm.sample`` accepts; it becomes one int used for both runs (kept in
        ``settings``). None draws one.
    progressbar : bool
        Show PyMC's progress bars (False also silences PyMC's log lines).
    **sample_kwargs
        Further keyword arguments for ``pm.sample`` (e.g. ``target_accept=0.9``, ``cores=1``).

    Returns
    -------
    Comparison
        Per run: divergences, max R-hat, min bulk/tail ESS, min E-BFMI, gradient evaluations,
        ESS per gradient evaluation and per second, times; the posterior agreement; a verdict.

    Examples
    --------
    >>> import pymc as pm
    >>> from decenter.compare import compare
    >>> with pm.Model() as m:
    ...     s = pm.HalfNormal("s")
    ...     x = pm.Normal("x", 0, s, shape=3)
    >>> c = compare(m, draws=100, tune=100, chains=2, nuts_sampler="pymc", random_seed=1,
    ...             progressbar=False, target_accept=0.9)
    >>> c.var_names, c.transformed_model["x"] in c.transformed_model.deterministics
    (['s', 'x'], True)
    >>> c.settings["nuts_sampler"], c.settings["target_accept"]
    ('pymc', 0.9)
    >>> c.original.grad_evals > 0 and c.transformed.ess_per_grad > 0
    True
    >>> c.verdict in ("better", "similar", "worse")
    True
    """
    check_model(original)
    nuts_sampler = _sampler_arg(nuts_sampler, sampler)
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
        if value < (0 if name == "tune" else 1):
            raise ValueError(f"{name} must be {'>= 0' if name == 'tune' else '>= 1'}, got {value}")
    if nuts_sampler is not None and nuts_sampler not in SAMPLERS:
        raise ValueError(f"nuts_sampler must be one of {SAMPLERS} or None, got {nuts_sampler!r}")
    random_seed = seed_int(random_seed)
    if random_seed is None:
        random_seed = int(np.random.default_rng().integers(2**31))
    plan = None
    if transformed is None:
        plan = make_plan(original)
        transformed = apply_plan(original, plan)
    else:
        check_model(transformed)

    names = [rv.name for rv in original.free_RVs]
    var_names = [n for n in names if n in transformed.named_vars]
    if not var_names:
        raise ValueError(
            "the transformed model defines none of the original free variables "
            f"{names}; compare needs the same names in both models"
        )

    settings = dict(
        draws=int(draws),
        tune=int(tune),
        chains=int(chains),
        nuts_sampler=nuts_sampler,
        random_seed=random_seed,
        missing=[n for n in names if n not in var_names],
        **{k: v for k, v in sample_kwargs.items() if _is_plain(v)},
    )
    runs = []
    for label, model in (("original", original), ("transformed", transformed)):
        idata, wall = _sample(
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            nuts_sampler=nuts_sampler,
            random_seed=random_seed,
            progressbar=progressbar,
            **sample_kwargs,
        )
        runs.append(
            summarize_run(idata, var_names, label=label, wall_time=wall, sampler=nuts_sampler)
        )
    agreement = _agreement(runs[0], runs[1], var_names)
    verdict, reasons = _verdict(runs[0], runs[1], agreement)
    return Comparison(
        original=runs[0],
        transformed=runs[1],
        var_names=var_names,
        agreement=agreement,
        verdict=verdict,
        reasons=reasons,
        settings=settings,
        plan=plan,
        original_model=original,
        transformed_model=transformed,
    )


def _sampler_arg(nuts_sampler: str | None, sampler: str | None) -> str | None:
    """``nuts_sampler``, or the deprecated ``sampler=``; both given is an error."""
    if sampler is None:
        return nuts_sampler
    if nuts_sampler is not None:
        raise TypeError(
            f"compare: give nuts_sampler= only (got nuts_sampler={nuts_sampler!r} and the "
            f"deprecated sampler={sampler!r})"
        )
    warnings.warn(
        "compare(sampler=...) is renamed nuts_sampler= (as in pm.sample); sampler= will be "
        "removed in the next release",
        DeprecationWarning,
        stacklevel=3,
    )
    return sampler


def _sample(model: pm.Model, *, progressbar: bool, **kwargs: Any):
    if kwargs.get("nuts_sampler") is None:
        kwargs.pop("nuts_sampler", None)
    kwargs.setdefault("compute_convergence_checks", False)  # we compute our own
    # Keep the warm-up to count its gradient evaluations; it is dropped from the result below.
    kwargs.setdefault("discard_tuned_samples", False)
    t0 = time.perf_counter()
    idata = pm.sample(model=model, progressbar=progressbar, quiet=not progressbar, **kwargs)
    return idata, time.perf_counter() - t0


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
    >>> from decenter.compare import summarize_run
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x")
    >>> idata = pm.sample(draws=100, tune=100, chains=2, nuts_sampler="pymc", model=m,
    ...                   progressbar=False, random_seed=1)  # doctest: +SKIP
    >>> summarize_run(idata, ["x"]).divergences  # doctest: +SKIP
    0
    """
    import arviz as az

    children = set(idata.children)
    warm = idata["warmup_sample_stats"] if "warmup_sample_stats" in children else None
    grad_warm = _sum_steps(warm) if warm is not None else None
    drop = [g for g in ("warmup_posterior", "warmup_sample_stats") if g in children]
    if drop:
        idata = idata.drop_nodes(drop)

    post = idata.posterior.to_dataset()
    stats = idata.sample_stats.to_dataset() if "sample_stats" in idata.children else None
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    library = str(post.attrs.get("inference_library", "") or sampler or "unknown")

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

    divergences = (
        int(stats["diverging"].values.sum()) if stats is not None and "diverging" in stats else 0
    )
    grad = _sum_steps(stats) if stats is not None else None
    min_bfmi = None
    if stats is not None and "energy" in stats:
        bfmi = az.bfmi(idata).to_dataset()["energy"].values
        min_bfmi = _nanreduce(np.nanmin, bfmi)
    t_sample = post.attrs.get("sampling_time")
    t_sample = float(t_sample) if t_sample is not None else None
    return RunSummary(
        label=label,
        sampler=library,
        chains=chains,
        draws=draws,
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


def _agreement(o: RunSummary, t: RunSummary, var_names: list[str]) -> Agreement:
    import arviz as az
    from scipy.stats import norm

    zs, where = [], []
    po, pt_ = o.idata.posterior.to_dataset(), t.idata.posterior.to_dataset()
    for stat, method in (("mean", "mean"), ("std", "sd")):
        mo = az.mcse(o.idata, var_names=var_names, method=method).to_dataset()
        mt = az.mcse(t.idata, var_names=var_names, method=method).to_dataset()
        for n in var_names:
            a = getattr(po[n], stat)(("chain", "draw"))
            b = getattr(pt_[n], stat)(("chain", "draw"))
            se = np.sqrt(mo[n].values.astype(float) ** 2 + mt[n].values.astype(float) ** 2)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.abs(a.values - b.values) / se
            # identical values with zero MCSE (e.g. a constant) agree perfectly
            z = np.where((se == 0) & (a.values == b.values), 0.0, z).reshape(-1)
            for i, zi in enumerate(z):
                zs.append(float(zi))
                where.append(f"{_element_label(a, i)} {method}")
    k = len(zs)
    if not k:
        return Agreement(None, math.nan, "-", math.nan, 0, "no variables to compare")
    threshold = float(norm.ppf(1 - AGREEMENT_ALPHA / (2 * k)))
    finite = [i for i, z in enumerate(zs) if not math.isnan(z)]
    if not finite:
        return Agreement(None, math.nan, "-", threshold, k, "the Monte Carlo errors are undefined")
    i = max(finite, key=lambda j: zs[j])
    max_z = zs[i]
    if not (o.converged and t.converged):
        who = [r.label for r in (o, t) if not r.converged]
        return Agreement(None, max_z, where[i], threshold, k, f"{' and '.join(who)} not converged")
    return Agreement(max_z <= threshold, max_z, where[i], threshold, k, "both runs converged")


def _efficiency(o: RunSummary, t: RunSummary) -> tuple[float | None, str]:
    if o.ess_per_grad and t.ess_per_grad:
        return t.ess_per_grad / o.ess_per_grad, "ESS per gradient evaluation"
    if o.ess_per_second and t.ess_per_second:
        return t.ess_per_second / o.ess_per_second, "ESS per second"
    return None, ""


def _verdict(o: RunSummary, t: RunSummary, agreement: Agreement) -> tuple[str, list[str]]:
    reasons = [f"{r.label}: {'; '.join(r.problems)}" for r in (o, t) if r.problems]
    if o.divergences != t.divergences:
        reasons.append(f"divergences {o.divergences} -> {t.divergences}")
    ratio, what = _efficiency(o, t)
    if ratio is not None:
        reasons.append(f"{what} x{ratio:.2f}")
    if agreement.agree is False:
        reasons.append(f"posteriors disagree (max |z| {agreement.max_z:.1f} at {agreement.where})")

    if t.ok != o.ok:
        return ("better" if t.ok else "worse"), reasons
    if not o.ok:
        # Both untrustworthy: fewer kinds of problem wins, then fewer divergences.
        score = (len(o.problems) - len(t.problems)) or int(np.sign(o.divergences - t.divergences))
        return ("better" if score > 0 else "worse" if score < 0 else "similar"), reasons
    if ratio is None or 1 / EFFICIENCY_MARGIN < ratio < EFFICIENCY_MARGIN:
        return "similar", reasons
    return ("better" if ratio > 1 else "worse"), reasons


def _fmt(x: Any, digits: int) -> str:
    if x is None:
        return "n/a"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}" if abs(x) >= 10 ** (-digits) or x == 0 else f"{x:.2g}"


def _is_plain(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)
