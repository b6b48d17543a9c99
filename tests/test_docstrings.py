"""The runnable examples in the public docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "decenter",
    "decenter.graph",
    "decenter.families",
    "decenter.plan",
    "decenter.examples.radon",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0
