"""The linear graph import (decenter.util.linear) and the initial point compiled with it:
the same functions and values as PyTensor's and PyMC's own, built without the quadratic
import (docs/auto.md, "At scale")."""

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest

from decenter._pymc import initial_point
from decenter.auto.laplace import FIT_MODE, LARGE_FIT_MODE
from decenter.examples import real, suite
from decenter.util.linear import LinearFunctionGraph, LinearMode, linear_mode


def _ops(fn) -> list[str]:
    return [str(node.op) for node in fn.maker.fgraph.toposort()]


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN"])
def test_a_linear_mode_compiles_the_same_function(mode):
    """Same rewritten graph (op by op, in order) and same values as the mode it copies, on
    radon's log density and gradient."""
    model = real.radon()
    logp = model.logp()
    outs = [logp, *pt.grad(logp, model.value_vars)]
    plain = pytensor.function(model.value_vars, outs, mode=mode)
    linear = pytensor.function(model.value_vars, outs, mode=linear_mode(mode))
    assert type(linear.maker.fgraph) is LinearFunctionGraph
    assert type(plain.maker.fgraph) is not LinearFunctionGraph
    assert _ops(linear) == _ops(plain)
    point = model.initial_point(random_seed=1)
    args = [point[v.name] + 0.3 for v in model.value_vars]
    for a, b in zip(linear(*args), plain(*args), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_fit_modes_are_linear_and_keep_their_rewrites():
    for mode in (FIT_MODE, LARGE_FIT_MODE):
        assert isinstance(mode, LinearMode)
    x = pt.vector("x")
    fn = pytensor.function([x], (x**2).sum(), mode=FIT_MODE)
    assert type(fn.maker.fgraph) is LinearFunctionGraph
    # local_pow_specialize is still there: x ** 2 is a sqr
    assert any("Sqr" in op or "sqr" in op for op in _ops(fn)), _ops(fn)


def test_an_update_keeps_pytensors_own_graph():
    """Functions with updates (none in the fit) are left to PyTensor's FunctionGraph."""
    s = pytensor.shared(np.float64(1.0))
    fn = pytensor.function([], s, updates={s: s + 1}, mode=linear_mode("FAST_COMPILE"))
    assert fn() == 1.0 and fn() == 2.0


@pytest.mark.parametrize(
    "make", [real.radon, real.eight_schools, real.sleepstudy, suite.stochastic_volatility]
)
@pytest.mark.parametrize("seed", [0, 4])
def test_initial_point_is_pymcs(make, seed):
    model = make()
    ours, pymcs = initial_point(model, seed), model.initial_point(random_seed=seed)
    assert ours.keys() == pymcs.keys()
    for name in pymcs:
        assert ours[name].dtype == pymcs[name].dtype
        np.testing.assert_array_equal(ours[name], pymcs[name])


def test_initial_point_follows_the_seed_for_prior_initvals():
    with pm.Model() as model:
        pm.Normal("x", 0, 1, shape=3, initval="prior")
        pm.HalfNormal("s", 1, initval=2.0)
    for seed in (0, 5):
        ours, pymcs = initial_point(model, seed), model.initial_point(random_seed=seed)
        np.testing.assert_array_equal(ours["x"], pymcs["x"])
        np.testing.assert_allclose(ours["s_log__"], np.log(2.0))
    assert not np.array_equal(initial_point(model, 0)["x"], initial_point(model, 5)["x"])


def test_logprob_graphs_built_linear_are_the_same_and_the_swap_is_undone():
    import pymc.logprob.rewriting as rewriting
    import pymc.pytensorf as pytensorf
    from pytensor.graph import FunctionGraph

    from decenter._pymc import linear_logprob

    def swapped() -> list[bool]:
        return [m.FunctionGraph is LinearFunctionGraph for m in (rewriting, pytensorf)]

    model = real.sleepstudy()
    point = model.initial_point(random_seed=2)
    plain = model.compile_logp(sum=False)(point)
    rvs = list(model.free_RVs)
    values_plain = pytensor.function(model.value_vars, model.replace_rvs_by_values(rvs))
    with linear_logprob():
        assert swapped() == [True, True]
        with linear_logprob():  # nested: still swapped after the inner one ends
            pass
        assert swapped() == [True, True]
        linear = model.compile_logp(sum=False)(point)
        values_linear = pytensor.function(model.value_vars, model.replace_rvs_by_values(rvs))
    assert swapped() == [False, False] and rewriting.FunctionGraph is FunctionGraph
    for a, b in zip(linear, plain, strict=True):
        np.testing.assert_array_equal(a, b)
    args = [point[v.name] + 0.1 for v in model.value_vars]
    for a, b in zip(values_linear(*args), values_plain(*args), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError), linear_logprob():
        raise RuntimeError
    assert swapped() == [False, False]


def test_the_linear_graph_replace_is_pytensors():
    """The fit's graph_replace: PyTensor's algorithm on the linear graph, the same graph
    (nested replacements, a replacement outside the graph, strict)."""
    from pytensor.graph.basic import equal_computations
    from pytensor.graph.replace import graph_replace as pytensors

    from decenter.util.linear import graph_replace

    x, y, z = pt.scalar("x"), pt.scalar("y"), pt.scalar("z")
    a = pt.exp(x) + y
    outs = [a * 2, pt.log(a) - x]
    for repl in ({x: z}, {a: z * 3, x: y}, {y: x + z}, {x: z, pt.scalar("w"): z}):
        ours, theirs = graph_replace(outs, repl, strict=False), pytensors(outs, repl, strict=False)
        assert equal_computations(ours, theirs)
    with pytest.raises(ValueError, match="not used"):
        graph_replace(outs, {pt.scalar("w"): z})


def test_a_tiny_models_fit_never_starts_the_c_backend():
    # eight schools (18 elements): the objective is evaluated in Python, so a process that
    # samples with numba never pays PyTensor's C start-up; rugby (46 elements) compiles C
    import subprocess
    import sys

    code = (
        "import warnings; warnings.filterwarnings('ignore')\n"
        "import decenter, pytensor.link.c.cmodule as cm\n"
        "from decenter.examples import real\n"
        "decenter.transform(real.eight_schools())\n"
        "print(cm._module_cache is None)\n"
        "decenter.plan(real.rugby())\n"
        "print(cm._module_cache is None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_the_python_objective_gives_the_c_objectives_plan(monkeypatch):
    import numpy as np

    import decenter
    import decenter.auto.laplace as laplace
    from decenter.examples import real

    m = real.surgical()  # 26 elements: below PY_FIT_MAX
    python = decenter.plan(m)
    monkeypatch.setattr(laplace, "PY_FIT_MAX", 0)
    c = decenter.plan(m)
    assert python.fit["evaluations"] == c.fit["evaluations"]
    for a, b in zip(python.rewrites, c.rewrites, strict=True):
        np.testing.assert_allclose(np.asarray(a.lam, float), np.asarray(b.lam, float), atol=1e-8)


def test_bare_mode_applies_its_rewriters_and_no_others():
    from pymc.logprob.utils import ParameterValueError

    from decenter._pymc import local_check_parameter_to_ninf_switch
    from decenter.util.linear import FAST_COMPILE, bare_mode

    s, x = pt.scalar("s"), pt.scalar("x")
    lp = pm.logp(pm.Normal.dist(0, s), x)
    switch = pytensor.function(
        [s, x], lp, mode=bare_mode("py", local_check_parameter_to_ninf_switch)
    )
    assert switch(-1.0, 0.0) == -np.inf  # the parameter check became -inf
    assert np.isclose(switch(1.0, 0.0), -0.5 * np.log(2 * np.pi))
    plain = pytensor.function([s, x], lp, mode=bare_mode("py"))
    with pytest.raises(ParameterValueError):
        plain(-1.0, 0.0)

    # no canonicalisation: the multiplications by one stay (FAST_COMPILE removes them)
    def nodes(mode):
        f = pytensor.function([x], pt.exp(x * 1.0) * 1.0, mode=mode)
        return len(f.maker.fgraph.apply_nodes)

    assert nodes(bare_mode("py")) == 3 and nodes(FAST_COMPILE) == 1


def test_the_helper_mode_gives_fast_compiles_curvature(monkeypatch):
    # the fit's helper functions lost PyTensor's canonicalisation (HELPER_MODE): the same
    # information per element, to rounding
    import decenter.auto.curvature as curvature
    from decenter.examples.radon import centered_model
    from decenter.util.linear import FAST_COMPILE

    m = centered_model()
    values = pm.draw(list(m.free_RVs), random_seed=1)  # one prior draw of every variable
    draws = {rv.name: np.asarray(v)[None] for rv, v in zip(m.free_RVs, values, strict=True)}
    helper = curvature.information(m, ["a", "b"], draws)
    monkeypatch.setattr(curvature, "HELPER_MODE", FAST_COMPILE)
    fast = curvature.information(m, ["a", "b"], draws)
    for name in ["a", "b"]:
        assert helper[name].information.shape == (85,)
        np.testing.assert_allclose(helper[name].information, fast[name].information, rtol=1e-9)
        np.testing.assert_allclose(helper[name].scale, fast[name].scale, rtol=1e-9)


def test_a_rewrite_handing_a_node_an_input_imports_it_as_pytensor_does():
    """``LinearFunctionGraph.import_var`` finds an input in a set (PyTensor scans the list of
    inputs: quadratic in a model's value variables); an undeclared one still raises."""
    from pytensor.graph import FunctionGraph
    from pytensor.graph.utils import MissingInputError

    xs = [pt.scalar(f"x{i}") for i in range(50)]
    for cls in (FunctionGraph, LinearFunctionGraph):
        out = sum(x * 2 for x in xs)
        fg = cls(xs, [out], clone=False)
        node = next(n for n in fg.apply_nodes if xs[0] in n.inputs)
        fg.change_node_input(node, node.inputs.index(xs[0]), xs[1])  # an input for an input
        assert xs[1] in fg.variables and (node, node.inputs.index(xs[1])) in fg.clients[xs[1]]
        with pytest.raises(MissingInputError):
            fg.change_node_input(node, node.inputs.index(xs[1]), pt.scalar("undeclared"))
        assert fg.inputs == xs


def test_an_input_imported_as_missing_is_added_once():
    from pytensor.graph import FunctionGraph

    x, y = pt.scalar("x"), pt.scalar("y")
    for cls in (FunctionGraph, LinearFunctionGraph):
        fg = cls([x], [x * 2], clone=False)
        node = next(iter(fg.apply_nodes))
        fg.change_node_input(node, node.inputs.index(x), y, import_missing=True)
        fg.change_node_input(node, node.inputs.index(y), y, import_missing=True)
        assert fg.inputs == [x, y] and y in fg.variables and fg.clients[y] == [(node, 0)]


def test_a_flat_function_returns_what_pytensors_function_returns():
    """Outputs of every rank and dtype (one an input itself), through one Flatten: the same
    values, shapes and dtypes as ``pytensor.function``'s, call after call."""
    from pytensor.compile.executor import Function

    from decenter.util.linear import FAST_COMPILE, Flatten, flat_function

    x, m = pt.vector("x"), pt.matrix("m", dtype="float32")
    outs = [x.sum(), m * 2, x > 0, pt.cast(x, "int64"), x, m.T[:0], pt.exp(x)[None, :, None]]
    plain = pytensor.function([x, m], outs, mode=FAST_COMPILE)
    flat = flat_function([x, m], outs, mode=FAST_COMPILE, above=2)
    assert not isinstance(flat, Function)
    unflat = flat_function([x, m], outs, mode=FAST_COMPILE, above=len(outs))
    assert isinstance(unflat, Function)
    rng = np.random.default_rng(0)
    for size in (3, 5):  # a second call with other shapes
        args = [rng.normal(size=size), rng.normal(size=(2, size)).astype("float32")]
        for a, b in zip(flat(*args), plain(*args), strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
    node = Flatten()(x, m)[0].owner
    assert [o.type.dtype for o in node.outputs] == ["float64", "int64"]


@pytest.mark.parametrize("undo", ["flat outputs", "unshared constants", "shadow nodes"])
def test_the_large_fits_function_building_leaves_the_fit_as_it_was(monkeypatch, undo):
    """A model of 25 vectors (75 free variables, 125 terms): its fit's helper functions have
    more outputs than FLAT_ABOVE and come through one Flatten, its objective (above
    TREE_SUM_ABOVE terms) has its shared constants copied per use, and its Elemwise nodes
    share shadow nodes. Undoing any one, the fit (mode, scales, their spread) is the same to
    the last bit."""
    import decenter
    import decenter.auto.laplace as laplace
    import decenter.util.linear as linear
    from decenter.bench.scaling import wide_model

    m = wide_model(25, size=6)
    nc = decenter.plan(m, strategy="noncentered")
    now = laplace.laplace_fit(m, nc)
    if undo == "flat outputs":
        monkeypatch.setattr(linear, "FLAT_ABOVE", 10**6)
    elif undo == "shadow nodes":
        monkeypatch.setattr(linear, "_shadow_node", linear._MAKE_SCALAR_NODE)
    else:
        monkeypatch.setattr(laplace, "unshare_constants", list)
    before = laplace.laplace_fit(m, nc)
    assert now.converged and now.evaluations == before.evaluations
    for field in ("point", "log_scale", "log_scale_sd"):
        a, b = getattr(now, field), getattr(before, field)
        assert a.keys() == b.keys() and len(a) >= 25
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    # a fit that moved: the scales are not where they started
    assert np.ptp([float(np.mean(v)) for v in now.log_scale.values()]) > 0.1


def test_building_graphs_shares_shadow_nodes_and_undoes_itself():
    """Inside ``building_graphs`` an Elemwise node of the same scalar op and input dtypes
    reuses one shadow node, the nodes built are the same as outside, the collector is paused;
    after the outermost use (or an error) PyTensor's method and the collector are back."""
    import gc

    from pytensor.tensor.elemwise import Elemwise

    from decenter.util.linear import building_graphs

    original = Elemwise.make_scalar_node
    x, y, i = pt.vector("x"), pt.matrix("y"), pt.ivector("i")

    def build():
        return [pt.exp(x), pt.exp(y), x * i, pt.exp(i), pt.sub(y, x)]

    plain = build()
    assert gc.isenabled()
    with building_graphs():
        assert not gc.isenabled() and Elemwise.make_scalar_node is not original
        with building_graphs():  # nested: still active after the inner one ends
            pass
        assert Elemwise.make_scalar_node is not original and not gc.isenabled()
        shared = build()
        op = shared[0].owner.op
        assert op.make_scalar_node(x) is op.make_scalar_node(y)  # float64 either way
        assert op.make_scalar_node(x) is not op.make_scalar_node(i)  # int32 -> another
    assert Elemwise.make_scalar_node is original and gc.isenabled()
    assert op.make_scalar_node(x) is not op.make_scalar_node(x)
    for a, b in zip(shared, plain, strict=True):
        assert a.type == b.type and a.owner.op == b.owner.op
        assert pytensor.graph.basic.equal_computations([a], [b])
    with pytest.raises(RuntimeError), building_graphs():
        raise RuntimeError
    assert Elemwise.make_scalar_node is original and gc.isenabled()
    gc.disable()
    try:
        with building_graphs():
            pass
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
