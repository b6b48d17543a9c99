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

from decenter.core.plan import check_model
from decenter.core.plan import decide as make_plan
from decenter.core.rewrite import apply_plan

# One run's diagnostics and the verdict on two live in their own modules; users import them
# from here, as before.
from decenter.diagnose.summary import (  # noqa: F401  (re-exported)
    BFMI_MIN,
    ESS_MIN_PER_CHAIN,
    RHAT_MAX,
    RunSummary,
    _fmt,
    _fmt_vs,
    summarize_run,
)
from decenter.diagnose.verdict import (  # noqa: F401  (re-exported)
    AGREEMENT_ALPHA,
    EFFICIENCY_MARGIN,
    Agreement,
    _agreement,
    _verdict,
)
from decenter.report.notebook import comparison_frame, comparison_html
from decenter.util.args import (
    SAMPLERS,
    RandomSeed,
    check_bool,
    check_int,
    check_sample_counts,
    seed_int,
)
from decenter.util.jsonable import jsonable

__all__ = ["Comparison", "RunSummary", "Agreement", "compare", "summarize_run"]


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
    #: the one line that decided the verdict, e.g. "the rewrite converged (...), the original
    #: did not (...)"
    why: str = ""

    def rows(self) -> list[tuple[str, str, str]]:
        """(statistic, original, transformed) rows of the summary table, formatted."""
        o, t = self.original, self.transformed
        return [
            ("status", o.status, t.status),
            ("divergences", str(o.divergences), str(t.divergences)),
            ("max R-hat", _fmt_vs(o.max_rhat, RHAT_MAX, 3), _fmt_vs(t.max_rhat, RHAT_MAX, 3)),
            (
                "min bulk ESS",
                f"{_fmt_vs(o.min_ess_bulk, o.ess_needed, 0)} ({o.worst_ess})",
                f"{_fmt_vs(t.min_ess_bulk, t.ess_needed, 0)} ({t.worst_ess})",
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
            limits = (
                ("ess_bulk", self.original.ess_needed, self.transformed.ess_needed, 0),
                ("ess_tail", math.nan, math.nan, 0),
                ("rhat", RHAT_MAX, RHAT_MAX, 3),
            )
            cells = [
                f"{_fmt_vs(po.get(k), lo, d)} -> {_fmt_vs(pt_.get(k), lt, d)}"
                for k, lo, lt, d in limits
            ]
            out.append((name, *cells))
        return out

    def __str__(self) -> str:
        from decenter.report.render import comparison_text

        return comparison_text(self)

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))

    def _repr_html_(self) -> str:  # Jupyter: the same tables and verdict as str()
        return comparison_html(self)

    def to_dataframe(self, by: str = "statistic"):
        """The numbers of both runs as a pandas DataFrame (NaN where a sampler does not report one).

        Parameters
        ----------
        by : "statistic" or "variable"
            ``"statistic"``: a row per statistic of the summary table (index ``statistic``:
            ``divergences``, ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``, ``min_bfmi``,
            ``grad_evals``, ``ess_per_grad``, ``sampling_time``, ``ess_per_second``,
            ``wall_time``; the :class:`RunSummary` fields), columns ``original`` and
            ``transformed``. ``"variable"``: a row per compared variable and model (index
            ``(variable, model)``, model ``"original"`` or ``"transformed"``), columns
            ``ess_bulk``, ``ess_tail`` (the smallest over the variable's elements) and ``rhat``
            (the largest); ``.unstack("model")`` sets the models side by side.

        Examples
        --------
        >>> import decenter
        >>> from decenter.examples.eight_schools import centered_model
        >>> c = decenter.compare(centered_model(), draws=500, tune=500, chains=2,
        ...                      nuts_sampler="pymc", random_seed=1)  # doctest: +SKIP
        >>> c.to_dataframe().loc["ess_per_grad"]  # doctest: +SKIP
        original       0.007612
        transformed    0.079016
        Name: ess_per_grad, dtype: float64
        >>> c.to_dataframe("variable").loc["tau"]  # doctest: +SKIP
                       ess_bulk    ess_tail      rhat
        model
        original     107.646566   98.814280  1.003630
        transformed  541.658063  505.391009  1.003934
        """
        return comparison_frame(self, by)

    def to_dict(self) -> dict:
        return {
            "settings": jsonable(self.settings),
            "var_names": list(self.var_names),
            "original": self.original.to_dict(),
            "transformed": self.transformed.to_dict(),
            "agreement": self.agreement.to_dict(),
            "verdict": self.verdict,
            "why": self.why,
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
    >>> from decenter.diagnose.compare import compare
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
    _check_run_args(draws=draws, tune=tune, chains=chains, nuts_sampler=nuts_sampler)
    check_bool(progressbar, "progressbar")
    check_sample_counts(sample_kwargs)  # cores
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
    var_names = _compared_names(names, transformed)
    run_args = dict(
        draws=draws, tune=tune, chains=chains, nuts_sampler=nuts_sampler, random_seed=random_seed
    )
    settings = _settings(run_args, [n for n in names if n not in var_names], sample_kwargs)
    runs = []
    for label, model in (("original", original), ("transformed", transformed)):
        idata, wall = _sample(model, progressbar=progressbar, **run_args, **sample_kwargs)
        runs.append(
            summarize_run(idata, var_names, label=label, wall_time=wall, sampler=nuts_sampler)
        )
    agreement = _agreement(runs[0], runs[1], var_names)
    verdict, why, reasons = _verdict(runs[0], runs[1], agreement)
    return Comparison(
        original=runs[0],
        transformed=runs[1],
        var_names=var_names,
        agreement=agreement,
        verdict=verdict,
        reasons=reasons,
        why=why,
        settings=settings,
        plan=plan,
        original_model=original,
        transformed_model=transformed,
    )


def _check_run_args(*, draws: Any, tune: Any, chains: Any, nuts_sampler: str | None) -> None:
    """Integers in range and a known sampler, checked before anything is built or sampled."""
    # compare needs draws to measure anything, and chains to fix the ESS it asks for
    check_sample_counts(dict(draws=draws, tune=tune), min_draws=1)
    check_int(chains, "chains", 1)
    if nuts_sampler is not None and nuts_sampler not in SAMPLERS:
        raise ValueError(f"nuts_sampler must be one of {SAMPLERS} or None, got {nuts_sampler!r}")


def _compared_names(names: list[str], transformed: pm.Model) -> list[str]:
    """The original free variables that ``transformed`` defines too: the ones compared."""
    var_names = [n for n in names if n in transformed.named_vars]
    if not var_names:
        raise ValueError(
            "the transformed model defines none of the original free variables "
            f"{names}; compare needs the same names in both models"
        )
    return var_names


def _settings(run_args: dict, missing: list[str], sample_kwargs: dict) -> dict:
    """The settings of both runs, as plain values (``Comparison.settings``)."""
    return dict(
        draws=int(run_args["draws"]),
        tune=int(run_args["tune"]),
        chains=int(run_args["chains"]),
        nuts_sampler=run_args["nuts_sampler"],
        random_seed=run_args["random_seed"],
        missing=missing,
        **{k: v for k, v in sample_kwargs.items() if _is_plain(v)},
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


def _is_plain(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)
