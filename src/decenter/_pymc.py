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

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache

import numpy as np
import pymc as pm

# PyMC 6.4: the ops of truncated variables and random walks, the base class of symbolic
# random variables (pymc/distributions/{continuous,distribution,timeseries,truncated}.py), and
# the ops of families no rule reads a location and scale from, for the reason a plan gives
# (pymc/distributions/{censored,custom,mixture}.py; a CustomDist's op is a subclass made per
# distribution).
from pymc.distributions.censored import CensoredRV  # noqa: F401  (re-exported)
from pymc.distributions.continuous import TruncatedNormalRV  # noqa: F401  (re-exported)
from pymc.distributions.custom import (  # noqa: F401  (re-exported)
    CustomDistRV,
    CustomSymbolicDistRV,
)
from pymc.distributions.distribution import (  # noqa: F401  (re-exported)
    Distribution,
    SymbolicRandomVariable,
)
from pymc.distributions.mixture import MixtureRV  # noqa: F401  (re-exported)

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

# PyMC 6.4: the value transforms whose values are positive (or bounded) by construction
# (pymc/distributions/transforms.py, pymc/logprob/transforms.py).
from pymc.distributions.transforms import (  # noqa: F401  (re-exported)
    IntervalTransform,
    LogExpM1,
    LogOddsTransform,
    LogTransform,
    SimplexTransform,
)
from pymc.distributions.truncated import TruncatedRV  # noqa: F401  (re-exported)
from pymc.logprob.basic import logp  # noqa: F401  (re-exported)

# PyMC 6.4: the op of the parameter checks in logp graphs (pymc/logprob/utils.py).
from pymc.logprob.utils import (
    CheckParameterValue,  # noqa: F401  (re-exported)
    local_check_parameter_to_ninf_switch,  # noqa: F401  (re-exported)
)

# PyMC 6.4: the model <-> FunctionGraph conversion (pymc/model/fgraph.py), the dummy ops that
# mark free variables and Deterministics in it, and a toposorting replace (pymc/pytensorf.py).
from pymc.model.fgraph import (  # noqa: F401  (re-exported)
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
from pymc.util import get_random_generator, get_transformed_name, treelist  # noqa: F401  (re-exported)

__all__ = [
    "default_value_transform",
    "dist_name",
    "rv_size_is_none",
    "infer_rv_shape",
    "initvals_hidden",
    "reorder_model",
    "fgraph_from_model",
    "model_from_fgraph",
    "model_free_rv",
    "model_deterministic",
    "toposort_replace",
    "get_random_generator",
    "get_transformed_name",
    "treelist",
    "compile_pymc",
    "rvs_in_graph",
    "vectorize_over_posterior",
    "initial_point",
    "linear_logprob",
    "HELPER_MODE",
    "register_logprob",
]


def infer_rv_shape(op, size, params):
    """The shape a random variable op gives ``params`` and ``size`` (PyTensor 3.3's private
    ``RandomVariable._infer_shape``: the support shape of a multivariate op)."""
    return op._infer_shape(size, params)


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


# PyMC 6.4's model <-> FunctionGraph conversion (pymc/model/fgraph.py), the pieces decenter
# builds graphs from, and a linear copy of fgraph_from_model (below).
from pymc.initial_point import make_initial_point_expression  # noqa: E402
from pymc.model.fgraph import (  # noqa: E402, F401  (re-exported)
    ModelDeterministic,
    ModelNamed,
    deepcopy_shared_variable,
    model_named,
    model_observed_rv,
    model_potential,
    remove_view_rewrite,
)
from pymc.pytensorf import find_rng_nodes, replace_rng_nodes, reseed_rngs  # noqa: E402, F401
from pytensor.compile import SharedVariable, view_op  # noqa: E402
from pytensor.graph import FunctionGraph  # noqa: E402

from decenter.util.linear import (  # noqa: E402
    FAST_COMPILE,
    LinearFunctionGraph,
    Swap,
    bare_mode,
    flat_function,
)

#: Python thunks, no canonicalisation, a parameter check outside its support -inf (not an
#: error): the fit's helper functions (curvature, maps between parameterisations), evaluated a
#: few times each. Warm plans 7-34 % faster than in ``FAST_COMPILE`` on 11 of the 12 real
#: models, chem97 (31,022 observations) 4 % slower (docs/auto.md, "What it costs").
#: (Intermediates are freed: kept between calls, as the large models' objective keeps them,
#: InstEval's plan took 3.0 s instead of 2.0 s and 243 MB of Python memory instead of 33 MB.)
HELPER_MODE = bare_mode("py", local_check_parameter_to_ninf_switch)


def initial_point(model: pm.Model, random_seed: int = 0) -> dict[str, np.ndarray]:
    """``model.initial_point(random_seed)`` (PyMC 6.4, ``pymc/initial_point.py``), compiled in
    ``decenter.util.linear.FAST_COMPILE``: PyMC's compile of it grows with the square of the
    model's size."""
    exprs = make_initial_point_expression(
        free_rvs=model.free_RVs,
        rvs_to_transforms=model.rvs_to_transforms,
        initval_strategies=dict(model.rvs_to_initial_values),
        return_transformed=True,
    )
    exprs = replace_rng_nodes(exprs)
    # not PyMC's compile: it makes a plain Mode of the mode, and adds the RNG updates and the
    # in-place draws of a function called many times, whose destroy handler then checks every
    # output at each rewrite (quadratic: 13 s at 1,800 variables); this one is called once
    # FAST_COMPILE, as PyMC: the same values to the last bit (HELPER_MODE is 1 ulp off on some)
    mode = FAST_COMPILE.including("local_check_parameter_to_ninf_switch")
    fn = flat_function([], exprs, mode=mode)
    reseed_rngs(find_rng_nodes(fn.maker.fgraph.outputs), random_seed)
    return {
        model.rvs_to_values[rv].name: np.asarray(v)
        for rv, v in zip(model.free_RVs, fn(), strict=True)
    }


def _logprob_graphs(cls) -> None:
    import pymc.logprob.rewriting as rewriting
    import pymc.pytensorf as pytensorf

    rewriting.FunctionGraph = pytensorf.FunctionGraph = cls


# nested or concurrent fits: the class is restored when the last ends
_logprob_swap = Swap(
    lambda: _logprob_graphs(LinearFunctionGraph), lambda: _logprob_graphs(FunctionGraph)
)


@contextmanager
def linear_logprob() -> Iterator[None]:
    """PyMC's logprob graphs (``model.logp()``) and its replacement of RVs by values
    (``model.replace_rvs_by_values``) built on :class:`LinearFunctionGraph`.

    PyMC 6.4's ``pymc/logprob/rewriting.py`` builds and cleans the measurable IR of every
    term on PyTensor's ``FunctionGraph``, whose imports are quadratic in the model's size
    (docs/auto.md, "At scale"), and ``pymc/pytensorf.py`` replaces RVs on one; the fit builds
    two logp graphs and maps every value back. The class is swapped in those modules only
    while the fit builds them; the graphs are the same.
    """
    with _logprob_swap():
        yield


def fgraph_from_model(model: pm.Model) -> tuple[FunctionGraph, dict]:
    """``pymc.model.fgraph.fgraph_from_model`` (PyMC 6.4, ``inlined_views=False``), linear.

    A fork, not a call: PyMC's version is quadratic in the number of variables (see
    docs/upstream_fgraph_issue.md, proposed upstream), and decenter converts every model it
    rewrites, and again for the default's fit and for a second pass.

    PyMC's version removes the trailing value-variable outputs from the front, re-indexing
    every later output each time (quadratic: 4000 value variables cost about a minute), and
    tests membership in lists; this one removes them from the back and uses sets. The graph
    built is the same.
    """
    _check_convertible(model)
    rvs = list(model.rvs_to_values)
    old_values = list(model.rvs_to_values.values())
    data_vars = set(model.data_vars)
    value_set = set(old_values)
    dets = [view_op(det, name=det.name) for det in model.deterministics]
    unnamed_values = [v for v in old_values if v not in data_vars]
    named_values = [view_op(v, name=v.name) for v in old_values if v in data_vars]
    other_named = [view_op(v, name=v.name) for v in model.data_vars if v not in value_set]
    model_vars = rvs + model.potentials + dets + other_named + named_values + unnamed_values
    fgraph, memo = _cloned_fgraph(model, model_vars)

    replacements = _model_var_replacements(model, fgraph, memo, dets, other_named + named_values)
    toposort_replace(fgraph, replacements, reverse=True)

    inverse_memo = {v: k for k, v in memo.items()}
    for var, model_var in replacements:
        if model_var.owner and isinstance(model_var.owner.op, ModelDeterministic | ModelNamed):
            var = var.owner.inputs[0]  # skip the View removed below
        memo[inverse_memo[var]] = model_var
    # The unnamed value variables are graph inputs now: drop their outputs, last first
    for idx in reversed(range(len(fgraph.outputs) - len(unnamed_values), len(fgraph.outputs))):
        fgraph.remove_output(idx)
    remove_view_rewrite.apply(fgraph)
    return fgraph, memo


def _check_convertible(model: pm.Model) -> None:
    """The refusals and the warning of PyMC's ``fgraph_from_model``, word for word."""
    if any(v is not None for v in model.rvs_to_initial_values.values()):
        raise NotImplementedError("Cannot convert models with non-default initial_values")
    if model.parent is not None:
        raise ValueError("Nested sub-models cannot be converted to fgraph")
    if any(("_rotated_" in n or "_hsgp_coeffs_" in n) for n in model.named_vars):
        warnings.warn(
            "Detected variables likely created by GP objects. Further use of these old GP "
            "objects should be avoided as it may reintroduce variables from the old model. "
            "See issue: https://github.com/pymc-devs/pymc/issues/6883",
            UserWarning,
            stacklevel=4,  # the caller of apply_plan
        )


def _cloned_fgraph(model: pm.Model, model_vars: list) -> tuple[FunctionGraph, dict]:
    """A FunctionGraph of a copy of ``model_vars``, and the memo original -> copy."""
    # Fresh copies of RNGs, data and symbolic coordinate lengths
    shared = find_rng_nodes(model_vars)
    shared += [v for v in model.dim_lengths.values() if isinstance(v, SharedVariable)]
    shared += [v for v in model.named_vars.values() if isinstance(v, SharedVariable)]
    memo = {var: deepcopy_shared_variable(var) for var in shared}
    fgraph = LinearFunctionGraph(
        outputs=model_vars, clone=True, memo=memo, copy_orphans=True, copy_inputs=True
    )
    fgraph._coords = model._coords.copy()
    fgraph._dim_lengths = {k: memo.get(v, v) for k, v in model._dim_lengths.items()}
    return fgraph, memo


def _model_var_replacements(
    model: pm.Model, fgraph: FunctionGraph, memo: dict, dets: list, named_vars: list
) -> tuple:
    """(output, the output wrapped in its model op: ModelFreeRV, ModelDeterministic, ...)."""
    free, observed = set(model.free_RVs), set(model.observed_RVs)
    to_value = {memo[k]: memo[v] for k, v in model.rvs_to_values.items()}
    transforms = {memo[k]: tr for k, tr in model.rvs_to_transforms.items()}
    potentials = {memo[k] for k in model.potentials}
    deterministics = {memo[k] for k in dets}
    named = {memo[k] for k in named_vars}
    free = {memo[k] for k in free}
    observed = {memo[k] for k in observed}
    dims_of = model.named_vars_to_dims
    new_vars = []
    for var in fgraph.outputs:
        name, dims = var.name, dims_of.get(var.name, ())
        if var in free:
            new_var = model_free_rv(var, to_value[var], transforms[var], name, *dims)
        elif var in observed:
            new_var = model_observed_rv(var, to_value[var], name, *dims)
        elif var in potentials:
            new_var = model_potential(var, name, *dims)
        elif var in deterministics:
            new_var = model_deterministic(var, name, *dims)
        elif var in named:
            new_var = model_named(var, name, *dims)
        else:  # unnamed value variables
            new_var = var
        new_vars.append(new_var)
    return tuple(zip(fgraph.outputs, new_vars, strict=True))


def register_logprob(op_type: type, density) -> None:
    """Make ``density(value, *dist_params)`` the log density of ``op_type``'s variables (PyMC
    6.4: the private single-dispatch ``pymc.logprob.abstract._logprob``, as PyMC's
    ``Distribution`` classes register theirs, with ``maybe_resize`` for an explicit size)."""
    from pymc.distributions.shape_utils import maybe_resize
    from pymc.logprob.abstract import _logprob

    @_logprob.register(op_type)
    def _logp(op, values, rng, size, *params, **kwargs):
        [value] = values
        return maybe_resize(density(value, *params), size)
