"""decenter: automatic non-centering of hierarchical PyMC models.

Examples
--------
>>> import pymc as pm, decenter
>>> with pm.Model(coords={"school": range(8)}) as m:
...     mu = pm.Normal("mu", 0, 5)
...     tau = pm.HalfCauchy("tau", 5)
...     theta = pm.Normal("theta", mu, tau, dims="school")
...     y = pm.Normal("y", theta, 10.0, observed=[28, 8, -3, 7, -1, 1, 18, 12], dims="school")
>>> new = decenter.transform(m)
>>> [v.name for v in new.free_RVs]
['mu', 'tau', 'theta_offset']
>>> new.named_vars_to_dims["theta"]
('school',)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import pymc as pm

from decenter.auto import plan, warn_fallback
from decenter.core.plan import Decision, Plan
from decenter.core.rewrite import apply_plan
from decenter.diagnose.sample import sample
from decenter.util.args import RandomSeed, check_bool, seed_int, var_names_arg

__all__ = [
    "transform",
    "plan",
    "sample",
    "Plan",
    "Decision",
    "EquivalenceError",
    "verify",
    "VerificationReport",
    "compare",
    "Comparison",
    "Transformed",
]
__version__ = "0.1.0"


class EquivalenceError(Exception):
    """The transformed model failed decenter.verify; ``.report`` holds the VerificationReport."""

    def __init__(self, report):
        self.report = report
        super().__init__(f"the rewritten model is not equivalent to the original:\n{report}")


class Transformed(NamedTuple):
    """What ``transform(..., return_plan=True)`` returns: the new model and the plan applied."""

    model: pm.Model
    plan: Plan


def transform(
    model: pm.Model,
    var_names: Iterable[str | Any] | None = None,
    *,
    strategy: str | float | Mapping[str, Any] = "auto",
    include_loc_only: bool = False,
    random_seed: RandomSeed = None,
    verify: bool = False,
    return_plan: bool = False,
    vars: Iterable[str] | None = None,
    plan: Plan | None = None,
    progressbar: bool = True,
) -> pm.Model | Transformed:
    """Return a new, equivalent model with hierarchical location-scale variables reparameterized.

    Every free variable ``x ~ D(loc, scale)`` whose scale depends on another free variable
    becomes a standardized ``x_offset`` and ``x = Deterministic(loc + scale * x_offset)`` with
    the original name and dims; by default (``strategy="auto"``) each element is left as
    centered as its data warrant (see :mod:`decenter.auto`). The input model is not modified. Apply ``pm.do`` and
    ``pm.observe`` to the original model, before ``transform`` (see docs/limitations.md).

    Parameters
    ----------
    model : pm.Model
        The model as written (the outermost model, not a sub-model).
    var_names : list of str or model variables, optional
        Rewrite only these free variables, given by name or as the model's variables (as in
        ``pm.do``). ``vars=`` is the deprecated name of this argument.
    strategy : "auto", "pilot", "noncentered", "centered", float or dict
        How centered to leave each rewritten variable; see :func:`decenter.plan`.
    include_loc_only : bool
        Also rewrite variables whose scale is constant but whose location is random.
    random_seed : int, np.random.Generator, RandomState or SeedSequence, optional
        Seed of the ``strategy="pilot"`` pilot (and of the Laplace fit's restarts) and of
        ``verify=True`` (what ``pm.sample`` takes).
    verify : bool
        Check the result with :func:`decenter.verify`; raise :class:`EquivalenceError` if
        the check fails.
    return_plan : bool
        Also return the :class:`Plan` that was applied, as ``Transformed(model, plan)``.
    plan : Plan, optional
        Apply this plan, made by :func:`decenter.plan` for this model, instead of making one:
        nothing is fitted again. A plan made for another model (other free variables,
        shapes, families or parents) is refused with a ValueError. Give it without
        ``var_names``, ``strategy`` or ``include_loc_only``, which made the plan.
    progressbar : bool
        Show the fit's progress on stderr once it runs past a few seconds.

    Returns
    -------
    pm.Model or Transformed
        The new model; with ``return_plan=True`` a named pair ``(model, plan)``.

    Examples
    --------
    >>> import decenter
    >>> from decenter.examples.radon import centered_model
    >>> m = centered_model()
    >>> new = decenter.transform(m)
    >>> sorted(v.name for v in new.free_RVs)
    ['a_offset', 'b_offset', 'eps', 'mu_a', 'mu_b', 'sigma_a', 'sigma_b']
    >>> new, p = decenter.transform(m, var_names=[m["b"]], return_plan=True)
    >>> [d.new_name for d in p.rewrites]
    ['b_offset']
    >>> p = decenter.plan(m)  # fit once, look at it, then apply it
    >>> sorted(v.name for v in decenter.transform(m, plan=p).free_RVs)[:2]
    ['a_offset', 'b_offset']
    """
    var_names = var_names_arg(var_names, vars)
    random_seed = seed_int(random_seed)
    check_bool(verify, "verify")
    check_bool(return_plan, "return_plan")
    if plan is None:
        p = globals()["plan"](  # the parameter shadows the function decenter.plan
            model,
            var_names,
            strategy=strategy,
            include_loc_only=include_loc_only,
            random_seed=random_seed,
            progressbar=progressbar,
        )
    else:
        p = _given_plan(model, plan, var_names, strategy, include_loc_only)
    warn_fallback(p, stacklevel=2)
    new = apply_plan(model, p)
    if verify:
        # the parameter shadows the function decenter.verify, bound at the bottom of this module
        report = globals()["verify"](model, new, random_seed=random_seed)
        if report.verdict == "not equivalent":
            raise EquivalenceError(report)
        if not report.ok:  # "could not check": say why, but a failed check is not a finding
            warnings.warn(f"decenter.verify could not check the rewrite:\n{report}", stacklevel=2)
    return Transformed(new, p) if return_plan else new


def _given_plan(model, p, var_names, strategy, include_loc_only) -> Plan:
    """``plan=p`` of :func:`transform`, checked: a Plan, alone, made for this model."""
    from decenter.core.fingerprint import check_plan
    from decenter.core.plan import check_model

    check_model(model)
    if not isinstance(p, Plan):
        raise TypeError(
            f"plan must be a decenter.Plan (from decenter.plan(model)), got {type(p).__name__}"
        )
    if var_names is not None or strategy != "auto" or include_loc_only:
        raise ValueError(
            "plan= already says what to rewrite and how: give either plan= or "
            "var_names/strategy/include_loc_only, not both"
        )
    check_plan(model, p)
    return p


# Imported after EquivalenceError exists. Binding the functions here also keeps
# `decenter.verify` and `decenter.compare` the functions: a submodule import only sets the
# package attribute the first time, which is this one.
from decenter.diagnose.compare import Comparison, compare  # noqa: E402
from decenter.verify import VerificationReport, verify  # noqa: E402
