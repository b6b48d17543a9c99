"""Prove that a reparameterized model is the same model as the original.

:func:`verify` runs three checks and returns a :class:`VerificationReport`:

``structure`` (:mod:`decenter.verify.structure`)
    Same observed variables with identical data, same dims and coordinates for the names both
    models share, the same number of unconstrained dimensions, and every free variable of the
    original present in the candidate under the same name (free or Deterministic) with the
    same shape.
``change_of_variables`` (:mod:`decenter.verify.identity`, :mod:`~decenter.verify.jacobian`,
:mod:`~decenter.verify.judge`)
    The exact check: at random points ``u`` of the candidate's unconstrained space,
    ``logp_candidate(u) = logp_original(y(u)) + log|det dy/du| + c`` with one constant ``c``;
    and at probe points (:mod:`~decenter.verify.probes`) the candidate rejects (log density
    -inf) wherever the original does.
``distribution`` (:mod:`decenter.verify.distribution`)
    Prior draws of every original variable (free, Deterministic, observed) agree between the
    two models: two-sample Kolmogorov-Smirnov tests on a few projections of each variable,
    with Holm's correction at family-wise level ``alpha``.

A check that cannot run (an exception while evaluating, no finite point, a Jacobian block too
large) says "could not check" with the cause: never "not equivalent", never a crash. See
``docs/verification.md`` for what each check proves, what it cannot, and its cost.

Examples
--------
>>> import decenter
>>> from decenter.examples.eight_schools import centered_model, noncentered_model
>>> report = decenter.verify(centered_model(), noncentered_model(), random_seed=0)
>>> report.ok, report.failed, report.verdict
(True, [], 'equivalent')
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pymc as pm

from decenter.util.args import RandomSeed, check_int, seed_int
from decenter.verify._common import cause
from decenter.verify.distribution import distribution, distribution_tests, prior_draws
from decenter.verify.identity import change_of_variables
from decenter.verify.report import Check, VerificationReport, unchecked
from decenter.verify.structure import structure

__all__ = ["Check", "VerificationReport", "verify", "distribution_tests", "prior_draws"]

CHECKS = ("structure", "change_of_variables", "distribution")

#: Compilation mode of every function verify compiles. Each candidate is a new graph: the
#: default numba backend would JIT-compile each for seconds, and the C backend compiles C code
#: for every new constant; FAST_COMPILE runs the ops' Python implementations at once.
MODE: Any = "FAST_COMPILE"


def verify(
    original: pm.Model,
    candidate: pm.Model,
    *,
    n_points: int = 20,
    random_seed: RandomSeed = None,
    draws: int = 1000,
    alpha: float = 1e-3,
    max_dense: int = 500,
) -> VerificationReport:
    """Check that ``candidate`` is a reparameterization of ``original`` (the same model).

    The candidate must keep every free variable of the original under the same name, as a free
    variable or a Deterministic; its other variables (offsets) may have any names. Three checks
    run (see the module docstring and ``docs/verification.md``): ``structure``,
    ``change_of_variables`` (exact, at ``n_points`` random points) and ``distribution``
    (KS tests on ``draws`` prior draws at family-wise level ``alpha``).

    Parameters
    ----------
    original, candidate
        PyMC models. Neither is modified.
    n_points
        Random points of the candidate's unconstrained space for the change-of-variables check
        (two thirds at unit scale around the initial point, one third three times wider; a
        point where nothing is finite is redrawn closer).
    random_seed
        Seeds the points and the prior draws (what ``pm.sample`` takes: an int, a
        ``np.random.Generator``, ...); None draws fresh entropy.
    draws
        Prior draws per model for the distribution check.
    alpha
        Family-wise false-alarm rate of the distribution check (on a truly equivalent pair the
        check fails with probability at most ``alpha``).
    max_dense
        Largest Jacobian block computed densely when it has no diagonal or per-row structure.

    Returns
    -------
    VerificationReport
        ``.ok``, ``.verdict`` ("equivalent", "not equivalent" or "could not check"),
        ``.checks`` (a list of :class:`Check` with ``name``, ``status``, ``passed``, ``figure``,
        ``message``), ``.failed``, ``.unchecked``, ``report["distribution"]``, ``str(report)``,
        ``.to_dict()``.

    Examples
    --------
    >>> import pymc as pm, decenter
    >>> from decenter.examples.eight_schools import centered_model, noncentered_model
    >>> report = decenter.verify(centered_model(), noncentered_model(), random_seed=0)
    >>> report.ok
    True
    >>> [c.name for c in report.checks]
    ['structure', 'change_of_variables', 'distribution']
    >>> from decenter.examples.eight_schools import COORDS, SIGMA, Y
    >>> with pm.Model(coords=COORDS) as wrong:  # theta = mu + z: the scale tau is missing
    ...     mu = pm.Normal("mu", 0, 5)
    ...     tau = pm.HalfCauchy("tau", 5)
    ...     z = pm.Normal("z", 0, 1, dims="school")
    ...     theta = pm.Deterministic("theta", mu + z, dims="school")
    ...     y = pm.Normal("y", theta, SIGMA, observed=Y, dims="school")
    >>> report = decenter.verify(centered_model(), wrong, random_seed=0)
    >>> report.failed
    ['change_of_variables', 'distribution']
    >>> report["change_of_variables"].details["varying"]
    ['theta (candidate z)']
    """
    for which, m in (("original", original), ("candidate", candidate)):
        if not isinstance(m, pm.Model):
            raise TypeError(
                f"verify: {which} must be a pymc.Model, got {type(m).__name__}; "
                "call decenter.verify(original_model, candidate_model)"
            )
    random_seed = seed_int(random_seed)
    for name, value in (("n_points", n_points), ("draws", draws), ("max_dense", max_dense)):
        check_int(value, name, 1)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.number):
        raise TypeError(f"alpha must be a number in (0, 1), got {type(alpha).__name__}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    settings = {
        "n_points": n_points,
        "random_seed": random_seed,
        "draws": draws,
        "alpha": alpha,
        "max_dense": max_dense,
    }
    with np.errstate(all="ignore"):  # -inf log densities are findings, not warnings
        checks = _run(original, candidate, n_points, random_seed, draws, alpha, max_dense)
    return VerificationReport(checks, settings)


def _timed(name: str, f, *args) -> tuple[Any, Check]:
    """Run one check; an exception is "could not check" with its cause, never a crash."""
    t0 = time.perf_counter()
    try:
        out = f(*args)
    except Exception as err:
        out = None
        check = unchecked(name, f"could not check: {cause(err)}")
    else:
        check = out.check if hasattr(out, "check") else out
    check.seconds = time.perf_counter() - t0
    return out, check


def _run(original, candidate, n_points, random_seed, draws, alpha, max_dense) -> list[Check]:
    ss = np.random.SeedSequence(random_seed)
    s_points, s_dist = ss.spawn(2)
    st, st_check = _timed("structure", structure, original, candidate)
    checks = [st_check]
    if st is not None and st.mappable:
        rng = np.random.default_rng(s_points)
        args = (original, candidate, st, n_points, rng, max_dense)
        checks.append(_timed("change_of_variables", change_of_variables, *args)[1])
    else:
        checks.append(
            unchecked(
                "change_of_variables",
                "not run: the original's free variables cannot all be read off the candidate "
                "with the same shapes and dimension (see structure)",
            )
        )
    checks.append(
        _timed("distribution", distribution, original, candidate, draws, alpha, s_dist)[1]
    )
    return checks
