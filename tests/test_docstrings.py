"""The runnable examples in the public docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "decenter",
    "decenter.graph",
    "decenter.families",
    "decenter.families._extra",
    "decenter.families._guard",
    "decenter.plan",
    "decenter.examples.radon",
    "decenter.examples.eight_schools",
    "decenter.examples.suite",
    "decenter.examples.corpus",
    "decenter.examples.corpus_glmm",
    "decenter.examples.corpus_gauss",
    "decenter.examples.corpus_misc",
    "decenter.verify",
    "decenter.verify.report",
    "decenter.verify.distribution",
    "decenter.positivity",
    "decenter._exprtext",
    "decenter.compare",
    "decenter.plots",
    "decenter.cli",
    "decenter.cli.models",
    "decenter.cli._printer",
    "decenter.cli._patterns",
    "decenter.cli._dists",
    "decenter.cli._partial",
    "decenter.cli.targets",
    "decenter.render",
    "decenter._notebook",
    "decenter._pymc",
    "decenter._args",
    "decenter.bench",
    "decenter.rewrite",
    "decenter.scaling",
    "decenter._fingerprint",
    "decenter._structure",
    "decenter._progress",
    "decenter._covariance",
    "decenter._defaultcost",
    "decenter._watch",
]
# decenter.auto's examples run a pilot sampler (about 20 s): covered by tests/test_auto.py


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0
