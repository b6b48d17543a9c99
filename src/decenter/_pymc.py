"""Every use of PyMC / PyTensor internals, behind one door.

decenter works on PyMC's model FunctionGraph and reads a few private helpers. Each is
imported or wrapped here, with the version it was read from, so that a new PyMC release is
a change to this file only. Everything else in decenter imports these names from here and
uses only PyMC's public API (``pm.Model``, ``pm.sample``, ``pm.draw``, ...).

Read from PyMC 6.4.0 and PyTensor 3.3 (the versions pinned by the test environment).

Examples
--------
>>> import pymc as pm
>>> from decenter._pymc import default_value_transform, dist_name
>>> x = pm.HalfNormal.dist(1.0)
>>> type(default_value_transform(x.owner.op, x)).__name__, dist_name(x.owner.op)
('LogTransform', 'HalfNormal')
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache

import pymc as pm

# PyMC 6.4: the ops of truncated variables and random walks, the base class of symbolic
# random variables and the dispatchers that give a new op its logp and its support point
# (pymc/distributions/{continuous,distribution,timeseries,truncated}.py, pymc/logprob/).
from pymc.distributions.continuous import TruncatedNormalRV  # noqa: F401  (re-exported)
from pymc.distributions.distribution import (  # noqa: F401  (re-exported)
    Distribution,
    SymbolicRandomVariable,
    _support_point,
    support_point,
)

# PyMC 6.4: the ops of LKJCholeskyCov (a private class: the function builds no Distribution)
# and ZeroSumNormal (pymc/distributions/multivariate.py).
from pymc.distributions.multivariate import (  # noqa: F401  (re-exported)
    ZeroSumNormalRV,
)
from pymc.distributions.multivariate import (  # noqa: F401  (re-exported)
    _LKJCholeskyCovRV as LKJCholeskyCovRV,
)

# PyMC 6.4: whether a RandomVariable node was built without an explicit size.
from pymc.distributions.shape_utils import rv_size_is_none  # noqa: F401  (re-exported)
from pymc.distributions.timeseries import AutoRegressiveRV, RandomWalkRV  # noqa: F401  (re-exported)
from pymc.distributions.truncated import TruncatedRV  # noqa: F401  (re-exported)
from pymc.logprob.abstract import _logprob  # noqa: F401  (re-exported)
from pymc.logprob.basic import logp  # noqa: F401  (re-exported)

# PyMC 6.4: the op of the parameter checks in logp graphs (pymc/logprob/utils.py).
from pymc.logprob.utils import CheckParameterValue  # noqa: F401  (re-exported)

# PyMC 6.4: the model <-> FunctionGraph conversion (pymc/model/fgraph.py), the dummy ops that
# mark free variables and Deterministics in it, and a toposorting replace (pymc/pytensorf.py).
from pymc.model.fgraph import (  # noqa: F401  (re-exported)
    fgraph_from_model,
    model_deterministic,
    model_free_rv,
    model_from_fgraph,
)
from pymc.pytensorf import compile as compile_pymc  # noqa: F401  (re-exported)
from pymc.pytensorf import (  # noqa: F401  (re-exported)
    rvs_in_graph,
    toposort_replace,
)

# PyMC 6.4: posterior-vectorized forward graphs (pymc/sampling/forward.py).
from pymc.sampling.forward import vectorize_over_posterior  # noqa: F401  (re-exported)

# PyMC 6.4: the value variable's name ("x_log__") and the list type of Model.free_RVs.
from pymc.util import get_transformed_name, treelist  # noqa: F401  (re-exported)

__all__ = [
    "default_value_transform",
    "dist_name",
    "rv_size_is_none",
    "initvals_hidden",
    "reorder_model",
    "fgraph_from_model",
    "model_from_fgraph",
    "model_free_rv",
    "model_deterministic",
    "toposort_replace",
    "get_transformed_name",
    "treelist",
    "compile_pymc",
    "rvs_in_graph",
    "vectorize_over_posterior",
]


def default_value_transform(op, rv):
    """The value transform PyMC gives ``rv`` by default (None when there is none).

    PyMC 6.4: the private single-dispatch ``pymc.distributions.transforms._default_transform``.
    """
    from pymc.distributions.transforms import _default_transform

    return _default_transform(op, rv)


def dist_name(op) -> str:
    """A random variable op's distribution name, as a PyMC user writes it (``"MvNormal"``).

    The PyMC distribution whose ``rv_type`` the op is (or derives from); PyMC 6.4's
    ``LKJCholeskyCov`` is a function over the private ``_LKJCholeskyCovRV``. Else the op's
    private ``RandomVariable._print_name`` = (plain, LaTeX), else the class name.

    Examples
    --------
    >>> import pymc as pm
    >>> dist_name(pm.MvNormal.dist([0, 0], [[1, 0], [0, 1]]).owner.op)
    'MvNormal'
    """
    names = _distribution_names()
    for cls in type(op).__mro__:
        if cls in names:
            return names[cls]
    print_name = getattr(op, "_print_name", None)
    return print_name[0] if print_name else type(op).__name__.removesuffix("RV")


@cache
def _distribution_names() -> dict[type, str]:
    names: dict[type, str] = {LKJCholeskyCovRV: "LKJCholeskyCov"}
    # sorted: "LogNormal" before its alias "Lognormal"
    for name in sorted(pm.distributions.__all__):
        cls = getattr(pm.distributions, name, None)
        if isinstance(cls, type) and issubclass(cls, Distribution):
            rv_type = getattr(cls, "rv_type", None)
            if isinstance(rv_type, type):
                names.setdefault(rv_type, name)
    return names


@contextmanager
def initvals_hidden(model: pm.Model) -> Iterator[dict]:
    """``fgraph_from_model`` refuses models with initial values: hide them for the conversion.

    PyMC 6.4: ``Model.rvs_to_initial_values`` (a dict rv -> initval) is swapped for a copy
    with every value None, and put back, so the user's model ends as it began. Yields the
    initial values by variable name.
    """
    original = model.rvs_to_initial_values
    model.rvs_to_initial_values = dict.fromkeys(original)
    try:
        yield {rv.name: iv for rv, iv in original.items() if iv is not None}
    finally:
        model.rvs_to_initial_values = original


def reorder_model(model: pm.Model, names: Sequence[str]) -> None:
    """Put the model's variables in the order of ``names`` (every name of the model).

    PyMC 6.4: ``model_from_fgraph`` orders variables by the graph; the lists
    ``free_RVs``, ``deterministics``, ... are ``treelist``s and ``named_vars`` a dict.
    """
    rank = {n: i for i, n in enumerate(names)}
    for attr in ("free_RVs", "deterministics", "data_vars", "potentials", "observed_RVs"):
        ordered = sorted(getattr(model, attr), key=lambda v: rank[v.name])
        setattr(model, attr, treelist(ordered))
    items = {n: model.named_vars[n] for n in names}
    model.named_vars.clear()
    model.named_vars.update(items)
