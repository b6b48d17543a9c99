"""The ``decenter`` command line: exit codes, stdout, one-line errors.

Driven in process through ``decenter.cli.main(argv)`` (fast: no interpreter start-up and no
re-import of PyMC per case); a few subprocess smoke tests check the installed entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from decenter.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
ENV = {**os.environ, "COLUMNS": "200", "PYTHONWARNINGS": "ignore"}


def subprocess_decenter(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "decenter", *args],
        capture_output=True,
        text=True,
        cwd=FIXTURES,
        env=ENV,
        timeout=timeout,
    )


@pytest.fixture
def decenter(capsys, monkeypatch):
    """Run ``decenter ARGS`` in this process, from the fixtures folder; return what a
    subprocess would: the exit code, stdout and stderr."""
    monkeypatch.chdir(FIXTURES)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "path", list(sys.path))  # file targets may add their folder

    def run(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()  # start clean
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse errors exit from the parser
            code = e.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


def assert_one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("decenter: error: "), r.stderr
    assert "Traceback" not in r.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# -- subprocess smoke tests: the installed command, its exit code and its help -----------------


def test_subprocess_error_is_one_line_exit_2():
    assert_one_line_error(subprocess_decenter("diff", "nothere.py"), "no such file: nothere.py")


def test_subprocess_help_and_no_command():
    r = subprocess_decenter("--help")
    assert r.returncode == 0, r.stderr
    for command in ("diff", "explain", "verify", "check", "demo", "bench"):
        assert command in r.stdout
    r = subprocess_decenter()
    assert r.returncode == 2
    assert "choose a command" in r.stderr and "Traceback" not in r.stderr


def test_subprocess_diff_runs():
    r = subprocess_decenter("diff", "schools.py")
    assert r.returncode == 0, r.stderr
    assert "+theta_offset ~ Normal(0, 1)  dims=(school,)" in r.stdout.splitlines()


# -- errors: one line on stderr, exit code 2 --------------------------------------------------

ERRORS = {
    "missing file": (["diff", "nothere.py"], ["no such file: nothere.py"]),
    "syntax error": (["diff", "{tmp}/broken.py"], ["syntax error in", "broken.py, line 2"]),
    "no model": (["diff", "{tmp}/empty.py"], ["no pm.Model at module level", "functions there: f"]),
    "several models": (
        ["explain", "several.py"],
        ["several models (first, second)", "several.py:first"],
    ),
    "missing attribute": (
        ["diff", "schools.py:nope"],
        ["has no attribute 'nope'", "models there: schools"],
    ),
    "not a model": (["diff", "several.py:number"], ["number is an int, not a pm.Model"]),
    "factory raises": (
        ["diff", "several.py:raises"],
        ["calling raises() raised RuntimeError: the factory failed"],
    ),
    "import fails": (["diff", "import_error.py"], ["running import_error.py raised RuntimeError"]),
    "chains 0": (["check", "schools.py", "--chains", "0"], ["--chains: must be at least 1, got 0"]),
    "bogus strategy": (["diff", "schools.py", "--strategy", "bogus"], ["invalid strategy 'bogus'"]),
    "decenter ValueError": (
        ["diff", "schools.py", "--vars", "y"],
        ["ValueError", "'y' is not a free random variable"],
    ),
}


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("targets")
    (tmp / "broken.py").write_text("import pymc as pm\ndef f(:\n    pass\n")
    (tmp / "empty.py").write_text("x = 1\n\n\ndef f():\n    return x\n")
    return tmp


@pytest.mark.parametrize("case", list(ERRORS))
def test_error_is_one_line_exit_2(decenter, targets, case):
    args, needles = ERRORS[case]
    r = decenter(*(a.replace("{tmp}", str(targets)) for a in args))
    assert_one_line_error(r, *needles)


MORE_ERRORS = {
    "needs arguments": (
        ["diff", "several.py:needs_arguments"],
        ["needs_arguments() needs arguments (n)"],
    ),
    "returns non-model": (["diff", "several.py:not_a_model"], ["not_a_model() returned an int"]),
    "no module": (["diff", "no_such_pkg.models:m"], ["no such file or module: no_such_pkg.models"]),
    "draws text": (
        ["check", "schools.py", "--draws", "many"],
        ["--draws: expected a positive integer"],
    ),
    "tune negative": (["check", "schools.py", "--tune", "-1"], ["--tune: must be >= 0"]),
    "lam out of range": (
        ["explain", "schools.py", "--strategy", "1.5"],
        ["lam must lie in [0, 1]"],
    ),
    "bogus sampler": (["check", "schools.py", "--sampler", "stan"], ["invalid choice: 'stan'"]),
    "unknown option": (
        ["diff", "schools.py", "--frobnicate"],
        ["unrecognized arguments: --frobnicate"],
    ),
    "no target": (["verify"], ["required: TARGET"]),
    "strategy dict bad name": (
        ["diff", "schools.py", "--strategy", "nope=0.5"],
        ["'nope' is not a free variable"],
    ),
    "bad format": (["explain", "schools.py", "--format", "dot"], ["invalid choice: 'dot'"]),
}


@pytest.mark.parametrize("case", list(MORE_ERRORS))
def test_more_errors_are_one_line_exit_2(decenter, case):
    args, needles = MORE_ERRORS[case]
    assert_one_line_error(decenter(*args), *needles)


def test_no_command_exits_2(decenter):
    r = decenter()
    assert r.returncode == 2
    assert "choose a command" in r.stderr and "Traceback" not in r.stderr


def test_debug_shows_the_traceback(decenter):
    r = decenter("--debug", "diff", "several.py:raises")
    assert r.returncode == 2
    assert "Traceback" in r.stderr and "the factory failed" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("decenter: error: calling raises()")
    # --debug after the command works too
    r = decenter("diff", "several.py:raises", "--debug")
    assert r.returncode == 2 and "Traceback" in r.stderr


# -- diff, explain -------------------------------------------------------------------------------


def test_diff_text_shows_removed_and_added_lines(decenter):
    # the file defines one model: no :NAME needed
    r = decenter("diff", "schools.py", "--no-progress")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert "-theta ~ Normal(mu, tau)  dims=(school,)" in out
    assert "+theta_offset ~ Normal(0, 1)  dims=(school,)" in out
    assert "+theta = mu + tau * theta_offset  dims=(school,)" in out
    assert " tau ~ HalfCauchy(5)" in out  # unchanged lines are context
    assert " y ~ Normal(theta, [15, 10, 16, 11, 9, 11, 10, 18])  dims=(school,)  observed" in out
    assert out[0] == "--- schools" and out[1] == "+++ schools (decenter)"
    # the plan follows the diff
    plan_rows = [line.split() for line in out if line.startswith("theta ")]
    assert plan_rows and plan_rows[0][:3] == ["theta", "Normal", "rewrite"]
    assert "1 of 3 free variables rewritten (strategy='auto')." in out
    assert r.stderr.strip() == ""  # the file's own output (none here) and logs stay off stdout


def test_diff_json_has_the_plan(decenter):
    r = decenter("diff", "schools.py:schools", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["target"] == "schools.py:schools"
    rewrites = [d for d in data["plan"]["decisions"] if d["action"] == "rewrite"]
    assert [(d["name"], d["new_name"], d["scale_parents"]) for d in rewrites] == [
        ("theta", "theta_offset", ["tau"])
    ]
    assert "-theta ~ Normal(mu, tau)  dims=(school,)" in data["diff"]
    assert "theta_offset ~ Normal(0, 1)  dims=(school,)" in data["after"]
    assert len(data["after"]) == len(data["before"]) + 1


def test_diff_dot_is_graphviz_source_of_both_models(decenter):
    r = decenter("diff", "schools.py", "--format", "dot")
    assert r.returncode == 0, r.stderr
    src = r.stdout
    assert src.startswith("digraph decenter {") and src.rstrip().endswith("}")
    assert src.count("{") == src.count("}")
    assert "subgraph cluster_0" in src and "subgraph cluster_1" in src
    assert '"m1:theta_offset"' in src and '"m0:theta_offset"' not in src
    assert '"m0:tau" -> "m0:theta";' in src and '"m1:theta_offset" -> "m1:theta";' in src


def test_diff_with_nothing_to_rewrite(decenter):
    r = decenter("diff", "schools.py", "--strategy", "centered")
    assert r.returncode == 0, r.stderr
    assert "no change" in r.stdout and "+theta_offset" not in r.stdout


def test_explain_module_target_json(decenter):
    r = decenter(
        "explain", "decenter.examples.radon:centered_model", "--format", "json", "--vars", "b"
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)["plan"]
    actions = {d["name"]: d["action"] for d in plan["decisions"]}
    assert actions == {
        "mu_a": "keep", "sigma_a": "keep", "mu_b": "keep", "sigma_b": "keep",
        "a": "keep", "b": "rewrite", "eps": "keep",
    }  # fmt: skip
    assert "not in vars" in next(d["reason"] for d in plan["decisions"] if d["name"] == "a")


def test_explain_text_table(decenter):
    r = decenter("explain", "schools.py", "--strategy", "0.3")
    assert r.returncode == 0, r.stderr
    row = next(line.split() for line in r.stdout.splitlines() if line.startswith("theta "))
    assert row[:5] == ["theta", "Normal", "rewrite", "0.3", "theta_offset"]
    assert "scale depends on free variable tau" in r.stdout


# -- verify, check ---------------------------------------------------------------------------------


def test_verify_equivalent_exits_0(decenter):
    r = decenter("verify", "schools.py", "--points", "5", "--seed", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "schools and its rewrite: equivalent" in r.stdout


def test_verify_against_a_different_model_exits_1(decenter):
    r = decenter("verify", "schools.py", "--against", "schools.py:wrong", "--points", "5",
                 "--seed", "1", "--format", "json")  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    data = json.loads(r.stdout)
    assert data["ok"] is False and data["against"] == "schools.py:wrong"
    assert "change_of_variables" in [c["name"] for c in data["report"]["checks"] if not c["passed"]]


def test_check_not_equivalent_exits_1_without_sampling(decenter):
    r = decenter("check", "schools.py", "--against", "schools.py:wrong", "--seed", "1")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "not sampling" in r.stdout and "ESS" not in r.stdout


@pytest.mark.slow
def test_check_samples_and_writes_json_and_pictures(decenter, tmp_path, seed):
    r = decenter(
        "check", "schools.py", "--draws", "100", "--tune", "100", "--chains", "2",
        "--sampler", "pymc", "--seed", str(seed), "--plot", str(tmp_path / "pics"),
        "--json", str(tmp_path / "check.json"),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "schools and its rewrite: equivalent" in r.stdout
    assert "divergences" in r.stdout and "verdict:" in r.stdout
    assert "Traceback" not in r.stderr
    data = json.loads((tmp_path / "check.json").read_text())
    cmp = data["comparison"]
    assert cmp["var_names"] == ["mu", "tau", "theta"]
    assert cmp["settings"]["chains"] == 2 and cmp["settings"]["draws"] == 100
    assert cmp["original"]["sampler"] == "pymc" == cmp["transformed"]["sampler"]
    assert data["verify"]["ok"] is True and data["plan"]["strategy"] == "auto"
    pics = sorted(p.name for p in (tmp_path / "pics").iterdir())
    assert pics == ["funnel_theta.png", "trace_tau.png"]
    assert all((tmp_path / "pics" / p).read_bytes()[:4] == b"\x89PNG" for p in pics)


def test_check_plot_follows_the_run_strategy_and_writes_json_first(decenter, tmp_path):
    """issue 30: the pictures re-planned with strategy="auto", which keeps ``a`` centered, and
    failed after sampling (exit 2) before the JSON was written."""
    pics, out = tmp_path / "pics", tmp_path / "check.json"
    r = decenter(
        "check", "precise.py:model", "--strategy", "noncentered", "--var-names", "a",
        "--draws", "50", "--tune", "50", "--chains", "2", "--sampler", "pymc", "--seed", "1",
        "--no-progress", "--plot", str(pics), "--json", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(out.read_text())
    assert data["plan"]["strategy"] == "noncentered" and data["comparison"]["verdict"]
    assert sorted(p.name for p in pics.iterdir()) == ["funnel_a.png", "trace_sa.png"]
    lines = r.stdout.splitlines()
    assert lines.index(f"saved {out}") < lines.index(f"saved {pics / 'funnel_a.png'}")


def test_check_plot_without_a_funnel_says_so_before_sampling(monkeypatch):
    """A rewritten variable whose scale is constant has no funnel: one line, before sampling;
    a missing matplotlib is an error before sampling too."""
    import argparse
    import importlib.util

    import decenter
    from decenter.cli import check
    from decenter.cli.targets import load_target
    from decenter.report.render import console

    m, _ = load_target(f"{FIXTURES / 'precise.py'}:model")
    args = argparse.Namespace(plot="pics", against=None)
    loc_only = decenter.plan(m, ["c"], strategy="noncentered", include_loc_only=True)
    con = console()
    with con.capture() as cap:
        assert check.picture_plan(con, args, m, m, loc_only) is None
    assert cap.get() == "no pictures: the scale of 'c' depends on no free variable: no funnel\n"
    p = decenter.plan(m, strategy="noncentered")
    with con.capture() as cap:
        assert check.picture_plan(con, args, m, m, p) is p
    assert cap.get() == ""
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(check.CliError, match=r"--plot needs matplotlib"):
        check.picture_plan(con, args, m, m, p)


# -- bench ---------------------------------------------------------------------------------------


def test_bench_delegates_its_options(decenter):
    r = decenter("bench", "-h")
    assert r.returncode == 0, r.stderr
    assert "usage: decenter bench" in r.stdout and "--models" in r.stdout
    # bench's own parser rejects its own bad options
    r = decenter("bench", "--models", "no_such_model")
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("decenter: error: argument --models")
