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

from collections.abc import Iterable, Mapping
from typing import Any

import pymc as pm

from decenter.auto import plan
from decenter.plan import Decision, Plan
from decenter.rewrite import apply_plan
from decenter.sample import sample

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
]
__version__ = "0.1.0"


class EquivalenceError(Exception):
    """The transformed model failed decenter.verify; ``.report`` holds the VerificationReport."""

    def __init__(self, report):
        self.report = report
        super().__init__(f"the rewritten model is not equivalent to the original:\n{report}")


def transform(
    model: pm.Model,
    vars: Iterable[str] | None = None,
    *,
    strategy: str | float | Mapping[str, Any] = "auto",
    include_loc_only: bool = False,
    random_seed: int | None = None,
    verify: bool = False,
) -> pm.Model:
    """Return a new, equivalent model with hierarchical location-scale variables reparameterized.

    Every free variable ``x ~ D(loc, scale)`` whose scale depends on another free variable
    becomes a standardized ``x_offset`` and ``x = Deterministic(loc + scale * x_offset)`` with
    the original name and dims; by default (``strategy="auto"``) each element is left as
    centered as its data warrant (see :mod:`decenter.auto`). The input model is not modified. See :func:`decenter.plan` for
    the parameters; ``verify=True`` checks the result with :func:`decenter.verify` and raises
    :class:`EquivalenceError` if it fails.

    Examples
    --------
    >>> import decenter
    >>> from decenter.examples.radon import centered_model
    >>> new = decenter.transform(centered_model())
    >>> sorted(v.name for v in new.free_RVs)
    ['a_offset', 'b_offset', 'eps', 'mu_a', 'mu_b', 'sigma_a', 'sigma_b']
    """
    p = plan(
        model, vars, strategy=strategy, include_loc_only=include_loc_only, random_seed=random_seed
    )
    new = apply_plan(model, p)
    new._decenter_plan = p  # kept for reports (decenter diff / check)
    if verify:
        # the parameter shadows the function decenter.verify, bound at the bottom of this module
        report = globals()["verify"](model, new, random_seed=random_seed)
        if not report.ok:
            raise EquivalenceError(report)
    return new


# Imported after EquivalenceError exists. Binding the functions here also keeps
# `decenter.verify` and `decenter.compare` the functions: a submodule import only sets the
# package attribute the first time, which is this one.
from decenter.compare import Comparison, compare  # noqa: E402
from decenter.verify import VerificationReport, verify  # noqa: E402
