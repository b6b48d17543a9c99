"""The runnable examples in the public docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "decenter",
    "decenter.core.graph",
    "decenter.families",
    "decenter.families.composite",
    "decenter.families.guard",
    "decenter.core.plan",
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
    "decenter.core.positivity",
    "decenter.core.exprtext",
    "decenter.diagnose.compare",
    "decenter.report.plots",
    "decenter.cli",
    "decenter.cli.models",
    "decenter.cli._printer",
    "decenter.cli._patterns",
    "decenter.cli._dists",
    "decenter.cli._partial",
    "decenter.cli.targets",
    "decenter.report.render",
    "decenter.report.notebook",
    "decenter._pymc",
    "decenter.util.args",
    "decenter.bench",
    "decenter.core.rewrite",
    "decenter.bench.scaling",
    "decenter.core.fingerprint",
    "decenter.auto.structure",
    "decenter.util.progress",
    "decenter.auto.covariance",
    "decenter.auto.defaultcost",
    "decenter.diagnose.watch",
]
# decenter.auto's examples run a pilot sampler (about 20 s): covered by tests/test_auto.py


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0
