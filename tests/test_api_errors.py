"""Bad input to the public API (issue 7): clear TypeError / ValueError messages that say what
to do, raised before any work is done, and the user's model left as it was."""

from __future__ import annotations

import importlib

import numpy as np
import pymc as pm
import pytest

import decenter
from decenter.examples.eight_schools import centered_model

ENTRY_POINTS = [decenter.transform, decenter.plan]


@pytest.fixture(scope="module")
def schools():
    return centered_model()


# --- not a model ----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", ENTRY_POINTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "obj",
    [None, "model", {"mu": 0.0}, pm.Model, pm.Normal.dist(), np.zeros(3)],
    ids=["None", "str", "dict", "Model-class", "tensor", "array"],
)
def test_not_a_model_is_a_type_error_that_says_what_to_pass(fn, obj):
    with pytest.raises(TypeError) as err:
        fn(obj)
    msg = str(err.value)
    assert "expected a pymc.Model" in msg
    assert "pass the model object" in msg and "with pm.Model() as model" in msg


def test_inference_data_instead_of_model(schools):
    """A common slip: passing the trace of a model."""
    idata = pm.sample_prior_predictive(draws=5, model=schools, random_seed=0)
    with pytest.raises(TypeError, match="expected a pymc.Model, got DataTree"):
        decenter.transform(idata)


@pytest.mark.parametrize("fn", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_sub_model_asks_for_the_outer_model(fn):
    with pm.Model() as outer, pm.Model(name="sub") as sub:
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        pm.Normal("b", mu, tau, shape=2)
    with pytest.raises(ValueError, match="sub-model .* pass the outermost model"):
        fn(sub)
    assert [d.name for d in decenter.plan(outer).rewrites] == ["sub::b"]


# --- vars ----------------------------------------------------------------------------------


def test_unknown_name_in_vars_lists_the_free_variables(schools):
    with pytest.raises(ValueError) as err:
        decenter.transform(schools, var_names=["thetaa"])
    msg = str(err.value)
    assert "'thetaa' is not a variable of this model" in msg
    assert "free variables are ['mu', 'tau', 'theta']" in msg


@pytest.mark.parametrize("name", ["y"])
def test_observed_name_in_vars(schools, name):
    with pytest.raises(
        ValueError, match="'y' is not a free random variable .* only free variables"
    ):
        decenter.plan(schools, var_names=[name])


def test_deterministic_and_data_names_in_vars():
    with pm.Model() as m:
        x = pm.Data("x", np.ones(3))
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        b = pm.Normal("b", mu, tau, shape=3)
        pm.Deterministic("b2", 2 * b)
        pm.Normal("y", b * x, 1.0, observed=np.zeros(3))
    for name in ["b2", "x", "y"]:
        with pytest.raises(ValueError, match=f"'{name}' is not a free random variable"):
            decenter.transform(m, var_names=[name])
    # a name that was rewritten before (an offset's target) is a Deterministic afterwards
    new = decenter.transform(m)
    with pytest.raises(ValueError, match="'b' is not a free random variable"):
        decenter.plan(new, var_names=["b"])
    assert [d.name for d in decenter.plan(new, var_names=["b_offset"]).rewrites] == []


def test_var_names_must_be_names_or_variables(schools):
    with pytest.raises(
        TypeError, match=r"var_names must be a list of free variable names or variables.*got int"
    ):
        decenter.plan(schools, var_names=3)
    with pytest.raises(
        TypeError, match=r"var_names must hold variable names \(str\) or the model's variables"
    ):
        decenter.plan(schools, var_names=[3.5])
    # a variable of another model is named in the message
    other = centered_model()
    with pytest.raises(ValueError, match=r"variable 'theta' is not a variable of this model"):
        decenter.plan(schools, var_names=[other["theta"]])


@pytest.mark.parametrize("given", ["name", "variable", "single variable", "mixed"])
def test_var_names_as_variables_like_pm_do(schools, given):
    """pm.do / pm.observe take variables or names: so do plan and transform."""
    arg = {
        "name": ["theta"],
        "variable": [schools["theta"]],
        "single variable": schools["theta"],
        "mixed": [schools["mu"], "theta"],
    }[given]
    new, p = decenter.transform(schools, arg, return_plan=True)
    assert [d.name for d in p.rewrites] == ["theta"]
    assert [v.name for v in new.free_RVs] == ["mu", "tau", "theta_offset"]
    kept = decenter.plan(schools, var_names=[schools["tau"]])
    assert kept.rewrites == [] and kept["theta"].reason.startswith("not in vars")


def test_vars_keyword_is_deprecated_but_works(schools):
    with pytest.warns(DeprecationWarning, match="renamed `var_names=`"):
        p = decenter.plan(schools, vars=["theta"])
    assert [d.name for d in p.rewrites] == ["theta"]
    with pytest.warns(DeprecationWarning):
        new = decenter.transform(schools, vars=["mu"])
    assert "theta" in [v.name for v in new.free_RVs]
    with pytest.raises(TypeError, match="not both"):
        decenter.transform(schools, ["theta"], vars=["theta"])


def test_vars_single_string_empty_and_duplicates(schools):
    assert [d.name for d in decenter.plan(schools, var_names="theta").rewrites] == ["theta"]
    assert [d.name for d in decenter.plan(schools, var_names=("theta", "theta")).rewrites] == [
        "theta"
    ]
    p = decenter.plan(schools, var_names=[])
    assert p.rewrites == []
    assert p["theta"].reason.startswith("not in vars")


def test_vars_naming_a_non_hierarchical_variable_keeps_it_with_a_reason(schools):
    p = decenter.plan(schools, var_names=["mu", "tau"])
    assert p.rewrites == []
    assert p["mu"].reason == "location and scale are constant (not hierarchical)"
    assert p["theta"].reason == "not in vars (scale depends on free variable tau)"


# --- strategy ------------------------------------------------------------------------------


@pytest.mark.parametrize("typo", ["noncenterd", "non-centered", "Noncentered", "", "partial"])
def test_strategy_typo_lists_the_choices(schools, typo):
    with pytest.raises(ValueError) as err:
        decenter.transform(schools, strategy=typo)
    msg = str(err.value)
    assert "'auto', 'pilot', 'noncentered', 'centered'" in msg
    assert "a number in [0, 1]" in msg and "a dict" in msg
    assert repr(typo) in msg


@pytest.mark.parametrize("lam", [1.5, -0.1, float("nan"), float("inf"), -float("inf"), 2])
def test_lam_outside_unit_interval(schools, lam):
    with pytest.raises(
        ValueError, match=r"lam must lie in \[0, 1\] \(0 = non-centered, 1 = centered\)"
    ):
        decenter.plan(schools, strategy=lam)


@pytest.mark.parametrize(
    "bad", [None, True, [0.5], (0.0, 1.0), np.array(0.5), object()], ids=lambda b: type(b).__name__
)
def test_strategy_of_the_wrong_type(schools, bad):
    with pytest.raises(TypeError) as err:
        decenter.plan(schools, strategy=bad)
    msg = str(err.value)
    assert "strategy must be 'noncentered', 'centered', 'auto', a number in [0, 1] or a dict" in msg
    assert type(bad).__name__ in msg


def test_numeric_strategies_of_any_numeric_type(schools):
    assert decenter.plan(schools, strategy=np.float32(0.5))["theta"].lam == 0.5
    assert decenter.plan(schools, strategy=0)["theta"].lam is None  # 0: fully non-centered
    p = decenter.plan(schools, strategy=1)
    assert p.rewrites == [] and "lam = 1" in p["theta"].reason


def test_strategy_dict_unknown_or_not_free_name(schools):
    with pytest.raises(ValueError) as err:
        decenter.plan(schools, strategy={"thet": 0.5})
    assert "'thet' is not a free variable of this model" in str(err.value)
    assert "free variables are ['mu', 'tau', 'theta']" in str(err.value)
    with pytest.raises(ValueError, match="'y' is not a free variable"):
        decenter.plan(schools, strategy={"y": 0.5})
    with pytest.raises(TypeError, match=r"dict keys must be variable names \(str\).*'theta': 0.5"):
        decenter.plan(schools, strategy={schools["theta"]: 0.5})


@pytest.mark.parametrize(
    "lam, match",
    [
        (2.0, r"strategy\['theta'\]: lam must lie in \[0, 1\]"),
        (float("nan"), r"strategy\['theta'\]: lam must lie in \[0, 1\]"),
        (np.array([0.5] * 7 + [1.2]), r"strategy\['theta'\]: lam must lie in \[0, 1\]"),
        ("half", r"strategy\['theta'\]: lam must be a number or an array of numbers"),
        (None, r"strategy\['theta'\]: lam must"),
        (np.full(3, 0.5), r"lam of shape \(3,\) does not match the variable's shape \(8,\)"),
        (np.full((8, 2), 0.5), r"lam of shape \(8, 2\) does not match the variable's shape \(8,\)"),
    ],
    ids=["2", "nan", "array-out-of-range", "str", "None", "short", "too-many-dims"],
)
def test_strategy_dict_bad_lam(schools, lam, match):
    with pytest.raises(ValueError, match=match):
        decenter.transform(schools, strategy={"theta": lam})


def test_strategy_dict_good_values(schools):
    lam = np.linspace(0, 1, 8)
    p = decenter.plan(schools, strategy={"theta": lam})
    np.testing.assert_array_equal(p["theta"].lam, lam)
    assert p["theta"].new_name == "theta_offset"
    # a dict entry for a variable that is not rewritten changes nothing; the reason says why
    p = decenter.plan(schools, strategy={"mu": 0.5})
    assert p["mu"].action == "keep" and "not hierarchical" in p["mu"].reason
    assert p["theta"].lam is None  # candidates not in the dict: non-centered


def test_errors_leave_the_model_usable(schools):
    before = [v.name for v in schools.free_RVs]
    for kw in [{"var_names": ["nope"]}, {"strategy": "nope"}, {"strategy": {"theta": 3.0}}]:
        with pytest.raises(ValueError):
            decenter.transform(schools, **kw)
    assert [v.name for v in schools.free_RVs] == before
    assert np.isfinite(schools.compile_logp()(schools.initial_point()))


def test_keyword_only_options(schools):
    with pytest.raises(TypeError, match="positional"):
        decenter.transform(schools, None, "centered")
    with pytest.raises(TypeError, match="unexpected keyword argument 'strategie'"):
        decenter.transform(schools, strategie="centered")


def test_empty_and_observed_only_models():
    empty = pm.Model()
    assert len(decenter.plan(empty)) == 0
    assert decenter.transform(empty).free_RVs == []
    with pm.Model() as obs_only:
        pm.Normal("y", 0.0, 1.0, observed=[0.1, 0.2])
    new = decenter.transform(obs_only)
    assert [v.name for v in new.observed_RVs] == ["y"] and new.free_RVs == []


def test_vars_and_strategy_dict_together(schools):
    """vars decides what may be rewritten; the dict only sets lam for those."""
    p = decenter.plan(schools, var_names=["tau"], strategy={"theta": 0.5})
    assert p.rewrites == []
    assert p["theta"].reason.startswith("not in vars")
    p = decenter.plan(schools, var_names=["theta"], strategy={"theta": 0.5})
    assert p["theta"].lam == 0.5 and p["theta"].new_name == "theta_offset"


@pytest.mark.parametrize("args", [(None, "m"), ("m", "x")])
def test_verify_rejects_non_models_with_a_type_error(args):
    with pm.Model() as m:
        pm.Normal("x")
    original, candidate = (m if a == "m" else a for a in args)
    with pytest.raises(TypeError, match="must be a pymc.Model"):
        decenter.verify(original, candidate)


# --- the plan is returned, never stored on a model ------------------------------------------


def test_return_plan_gives_the_plan_and_stores_nothing_on_the_models(schools):
    before = dict(vars(schools))
    new, p = decenter.transform(schools, return_plan=True)
    assert isinstance(new, pm.Model) and isinstance(p, decenter.Plan)
    assert [d.name for d in p.rewrites] == ["theta"] and p["theta"].new_name == "theta_offset"
    assert not any("decenter" in k for k in vars(new))
    assert vars(schools).keys() == before.keys()
    plain = decenter.transform(schools)
    assert isinstance(plain, pm.Model)


# --- random_seed as pm.sample takes it -------------------------------------------------------


@pytest.mark.parametrize(
    "seed",
    [
        np.random.default_rng(1),
        np.random.RandomState(1),
        np.random.SeedSequence(1),
        np.int64(3),
        None,
    ],
    ids=["Generator", "RandomState", "SeedSequence", "np.int64", "None"],
)
def test_random_seed_accepts_what_pm_sample_accepts(seed):
    from decenter.util.args import seed_int

    value = seed_int(seed)
    assert value is None if seed is None else 0 <= value < 2**32


def test_random_seed_generator_is_reproducible():
    from decenter.util.args import seed_int

    assert seed_int(np.random.default_rng(5)) == seed_int(np.random.default_rng(5))
    assert seed_int(np.random.SeedSequence(5)) == seed_int(np.random.SeedSequence(5))


@pytest.mark.parametrize(
    "seed, err, match",
    [
        (-1, ValueError, r"random_seed must lie in \[0, 2\*\*32\)"),
        (2**40, ValueError, r"random_seed must lie in"),
        (True, TypeError, "got bool"),
        ("1", TypeError, "random_seed must be None, an int >= 0, a np.random.Generator"),
        (1.5, TypeError, "got float"),
    ],
)
def test_bad_random_seed_is_a_clear_error(schools, seed, err, match):
    for fn in (decenter.plan, decenter.transform):
        with pytest.raises(err, match=match):
            fn(schools, random_seed=seed)


def test_verify_takes_a_generator_seed(schools):
    """issue 18: verify(..., random_seed=np.random.default_rng(1)) raised a raw TypeError."""
    new = decenter.transform(schools)
    a = decenter.verify(schools, new, random_seed=np.random.default_rng(1), n_points=3)
    b = decenter.verify(schools, new, random_seed=np.random.default_rng(1), n_points=3)
    assert a.ok and b.ok
    assert a.to_dict()["settings"]["random_seed"] == b.to_dict()["settings"]["random_seed"]
    assert decenter.verify.__doc__ and "Parameters" in decenter.verify.__doc__


def test_transform_and_plan_take_a_generator_seed_for_auto(schools):
    rng_seed = decenter.util.args.seed_int(np.random.default_rng(2))
    a = decenter.plan(schools, strategy="auto", random_seed=np.random.default_rng(2))
    b = decenter.plan(schools, strategy="auto", random_seed=rng_seed)
    np.testing.assert_array_equal(
        np.asarray(a["theta"].lam, dtype=float), np.asarray(b["theta"].lam, dtype=float)
    )


# --- compare: nuts_sampler and pm.sample keywords ---------------------------------------------


class _Stop(Exception):
    pass


@pytest.fixture
def sample_spy(monkeypatch):
    """Record pm.sample's keyword arguments and stop before sampling."""
    calls = []

    def fake_sample(**kwargs):
        calls.append(kwargs)
        raise _Stop

    monkeypatch.setattr(pm, "sample", fake_sample)
    return calls


def test_compare_passes_nuts_sampler_and_sample_kwargs_to_pm_sample(schools, sample_spy):
    with pytest.raises(_Stop):
        decenter.compare(
            schools,
            nuts_sampler="pymc",
            random_seed=np.random.default_rng(3),
            target_accept=0.95,
            cores=1,
            progressbar=False,
        )
    (kw,) = sample_spy
    assert kw["nuts_sampler"] == "pymc" and kw["target_accept"] == 0.95 and kw["cores"] == 1
    assert kw["random_seed"] == decenter.util.args.seed_int(np.random.default_rng(3))


def test_compare_sampler_is_a_deprecated_alias(schools, sample_spy):
    with pytest.warns(DeprecationWarning, match="renamed nuts_sampler"), pytest.raises(_Stop):
        decenter.compare(schools, sampler="pymc", progressbar=False)
    assert sample_spy[0]["nuts_sampler"] == "pymc"


def test_compare_with_both_sampler_names_is_an_error(schools, sample_spy):
    with pytest.raises(
        TypeError, match=r"give nuts_sampler= only .*nuts_sampler='pymc'.*sampler='nutpie'"
    ):
        decenter.compare(schools, nuts_sampler="pymc", sampler="nutpie")
    assert sample_spy == []  # checked before any sampling
    with pytest.raises(ValueError, match="nuts_sampler must be one of"):
        decenter.compare(schools, nuts_sampler="stan")


# --- flags and counts of every public function, checked before any work ----------------------

API_CASES = [
    # (function, keyword arguments, error, what the message says)
    ("sample", dict(draws=-5), ValueError, r"^draws must be >= 0, got -5$"),
    ("sample", dict(draws=1.5), TypeError, r"^draws must be an integer, got float 1.5$"),
    ("sample", dict(draws=True), TypeError, r"^draws must be an integer, got bool True$"),
    ("sample", dict(tune=-1), ValueError, r"^tune must be >= 0, got -1$"),
    ("sample", dict(chains=0), ValueError, r"^chains must be >= 1, got 0$"),
    ("sample", dict(chains="4"), TypeError, r"^chains must be an integer or None, got str '4'$"),
    ("sample", dict(cores=0), ValueError, r"^cores must be >= 1, got 0$"),
    ("sample", dict(progressbar="no"), TypeError, r"^progressbar must be True or False"),
    ("compare", dict(draws=0), ValueError, r"^draws must be >= 1, got 0$"),
    ("compare", dict(tune=-3), ValueError, r"^tune must be >= 0, got -3$"),
    ("compare", dict(chains=2.0), TypeError, r"^chains must be an integer, got float 2.0$"),
    ("compare", dict(cores=-1), ValueError, r"^cores must be >= 1, got -1$"),
    ("compare", dict(progressbar=1), TypeError, r"^progressbar must be True or False, got int 1$"),
    ("transform", dict(include_loc_only="yes"), TypeError,
     r"^include_loc_only must be True or False, got str 'yes'$"),
    ("transform", dict(verify="yes"), TypeError, r"^verify must be True or False, got str"),
    ("transform", dict(return_plan=1), TypeError, r"^return_plan must be True or False, got int"),
    ("plan", dict(include_loc_only=None), TypeError,
     r"^include_loc_only must be True or False, got NoneType None$"),
    ("plan", dict(include_loc_only="no", strategy="noncentered"), TypeError, "include_loc_only"),
    ("verify", dict(n_points=0), ValueError, r"^n_points must be >= 1, got 0$"),
    ("verify", dict(n_points=2.5), TypeError, r"^n_points must be an integer, got float 2.5$"),
    ("verify", dict(draws=-1), ValueError, r"^draws must be >= 1, got -1$"),
    ("verify", dict(max_dense="big"), TypeError, r"^max_dense must be an integer, got str"),
    ("verify", dict(alpha=2.0), ValueError, r"^alpha must be a number in \(0, 1\), got 2.0$"),
    ("verify", dict(alpha="0.01"), TypeError, r"^alpha must be a number in \(0, 1\), got str$"),
]  # fmt: skip


@pytest.mark.parametrize(
    "fn, kwargs, err, match",
    API_CASES,
    ids=[f"{fn} {next(iter(kw))}={kw[next(iter(kw))]!r}" for fn, kw, _, _ in API_CASES],
)
def test_bad_flags_and_counts_are_clear_errors_before_any_work(
    schools, sample_spy, monkeypatch, fn, kwargs, err, match
):
    """issue 30: draws=-5 failed inside nutpie with an OverflowError, and include_loc_only="yes"
    was taken as True."""
    import decenter.auto

    def no_fit(*args, **kw):
        raise AssertionError("the plan was made before the arguments were checked")

    monkeypatch.setattr(decenter.auto, "choose_lams", no_fit)
    args = (schools, schools) if fn == "verify" else (schools,)
    with pytest.raises(err, match=match):
        getattr(decenter, fn)(*args, **kwargs)
    assert sample_spy == []


def test_numpy_flags_and_counts_are_accepted(schools, sample_spy):
    p = decenter.plan(schools, strategy="noncentered", include_loc_only=np.bool_(False))
    assert [d.name for d in p.rewrites] == ["theta"]
    with pytest.raises(_Stop):
        decenter.compare(schools, draws=np.int64(10), chains=np.int32(2), progressbar=False)
    assert sample_spy[0]["draws"] == 10


# --- the command line: every option checked before any work, for every command --------------

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"
TARGETED = {"diff", "explain", "verify", "check"}
SEED_RANGE = "(an integer in [0, 4294967295])"
CLI_CASES = [
    # (commands, option and value, what the one line says)
    (["diff", "explain", "verify", "check", "demo", "bench"], ["--seed", "-1"], SEED_RANGE),
    (["diff", "explain", "verify", "check", "demo", "bench"], ["--seed", "4294967296"], SEED_RANGE),
    (["diff", "explain", "verify", "check"], ["--strategy", "bogus"], "invalid strategy 'bogus'"),
    (
        ["check", "demo", "bench"],
        ["--draws", "-5"],
        "must be at least 1, got -5 (an integer in [1, ",
    ),
    (["check", "demo", "bench"], ["--draws", "many"], "expected a positive integer, got 'many'"),
    (["check", "demo", "bench"], ["--tune", "-1"], "must be >= 0, got -1 (an integer in [0, "),
    (
        ["check", "demo", "bench"],
        ["--chains", "0"],
        "must be at least 1, got 0 (an integer in [1, 1000])",
    ),
    (
        ["check", "demo", "bench"],
        ["--chains", "99999999999999999999"],
        "must be at most 1000, got 99999999999999999999",
    ),
    (["bench"], ["--seeds", "1", "-1"], "must be >= 0, got -1"),
    (["verify", "check"], ["--points", "0"], "must be at least 1, got 0"),
    (["check", "demo"], ["--sampler", "stan"], "invalid choice: 'stan'"),
    (["check"], ["--plot", "/proc/nope"], "cannot write to /proc/nope"),
    (["check", "bench"], ["--json", "/proc/nope.json"], "cannot write to /proc/nope.json"),
    (["demo"], ["--out", "/proc/forbidden"], "cannot write to /proc/forbidden"),
    (["bench"], ["--models", "no_such_model"], "invalid choice: 'no_such_model'"),
    (["bench"], ["--strategies", "bogus"], "invalid choice: 'bogus'"),
    (["bench"], ["--suite", "bogus"], "invalid choice: 'bogus'"),
]
CLI_TABLE = [
    pytest.param(cmd, opt, needle, id=f"{cmd} {' '.join(opt)}")
    for cmds, opt, needle in CLI_CASES
    for cmd in cmds
]


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if anything is sampled, verified or transformed."""

    def boom(*args, **kwargs):
        raise AssertionError("work started before the options were checked")

    compare_module = importlib.import_module("decenter.diagnose.compare")
    monkeypatch.setattr(pm, "sample", boom)
    monkeypatch.setattr(decenter, "transform", boom)
    monkeypatch.setattr(decenter, "verify", boom)
    monkeypatch.setattr(compare_module, "compare", boom)
    monkeypatch.chdir(FIXTURES)


def run_cli(argv, capsys):
    from decenter.cli import main

    try:
        code = main(argv)
    except SystemExit as e:  # argparse's usage errors exit from the parser, as in argparse
        code = e.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("cmd, option, needle", CLI_TABLE)
def test_every_command_checks_its_options_first(cmd, option, needle, capsys, no_work):
    argv = [cmd, *(["schools.py"] if cmd in TARGETED else []), *option]
    code, err = run_cli(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"decenter: error: argument {option[0]}"), lines[0]
    assert needle in lines[0], lines[0]


@pytest.mark.parametrize("cmd", ["diff", "explain", "verify", "check", "demo", "bench"])
def test_every_command_has_no_progress_seed_and_debug(cmd, capsys):
    code, _ = run_cli([cmd, "-h"], capsys)
    assert code == 0
    from decenter.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices[cmd]
    options = {o for a in sub._actions for o in a.option_strings}
    assert {"--no-progress", "--seed", "--debug"} <= options, options


def test_bench_options_are_the_cli_parser(capsys):
    """bench's options, defaults and checks come from the one CLI parser."""
    from decenter.cli import build_parser

    args = build_parser().parse_args(["bench", "--seeds", "4", "5", "--draws", "10"])
    assert args.seeds == [4, 5] and args.draws == 10 and args.chains == 4
    assert args.suite == "synthetic" and args.scaling is False and args.no_progress is False


def test_missing_sampler_names_the_extra(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "numpyro" else real(name, *a)
    )
    monkeypatch.chdir(FIXTURES)
    code, err = run_cli(["check", "schools.py", "--sampler", "numpyro"], capsys)
    assert code == 2
    assert err.strip() == (
        "decenter: error: sampler 'numpyro' is not installed: pip install \"decenter[jax]\""
    )


def test_check_with_nothing_to_rewrite_does_not_sample(capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("sampled a model with nothing to rewrite")

    monkeypatch.setattr(pm, "sample", boom)
    monkeypatch.setattr(importlib.import_module("decenter.diagnose.compare"), "compare", boom)
    monkeypatch.chdir(FIXTURES)
    from decenter.cli import main

    assert main(["check", "schools.py", "--var-names", "mu", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "nothing to rewrite: schools and its rewrite are the same model" in out
    assert "not sampling it twice" in out
