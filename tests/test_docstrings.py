"""The runnable examples in the public docstrings run and print what they claim."""

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "decenter"


def _modules_with_examples() -> list[str]:
    """Every module of the package whose source holds a ``>>>`` example."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        if ">>>" not in path.read_text():
            continue
        parts = ("decenter", *path.relative_to(SRC).with_suffix("").parts)
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


#: examples that sample (a pilot run, decenter.sample, a comparison): the slow tier runs them
SLOW = {
    "decenter.auto",
    "decenter.auto.pilot",
    "decenter.diagnose.sample",
    "decenter.diagnose.runs",
}
MODULES = [
    pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
    for name in _modules_with_examples()
]


def test_every_module_with_examples_is_collected():
    """The discovery finds modules at every level of the package (a path change that hid them
    would leave their examples untested)."""
    names = set(_modules_with_examples())
    assert {"decenter", "decenter.core.rewrite", "decenter.auto.laplace", "decenter.cli._printer",
            "decenter.families.guard", "decenter.diagnose.watch"} <= names  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0
