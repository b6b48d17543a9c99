"""The shape of the code (issue 14): data flows one way, rooms stay of a readable size, and
PyMC's internals are used in one place only.

The import graph is read statically (``ast``), function-level imports included: a lazy
import is still a dependency. Imports inside an ``if __name__ == "__main__":`` block are an
entry point (like the CLI), not a dependency, and are skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "decenter"

# The pipeline's levels: a module imports only modules of a lower level, or of its own level
# without a cycle. Sub-packages count as one module (decenter.cli, decenter.verify, ...).
LEVELS = {
    # 0: the model graph, the family rules, PyMC's internals, small shared helpers
    "decenter._pymc": 0,
    "decenter._progress": 0,
    "decenter._args": 0,
    "decenter._json": 0,
    "decenter.render": 0,
    "decenter._notebook": 0,
    "decenter.graph": 0,
    "decenter.families": 0,
    "decenter.positivity": 0,
    "decenter._exprtext": 0,
    "decenter.examples": 0,
    # 1: the decisions (and what they are made from: the reasons, the strategy argument)
    "decenter.plan": 1,
    "decenter._reasons": 1,
    "decenter._strategy": 1,
    "decenter._fingerprint": 1,
    # 2: applying them
    "decenter.rewrite": 2,
    "decenter._recenter": 2,
    # 3: the work on a plan or a rewritten model
    "decenter.auto": 3,
    "decenter.curvature": 3,
    "decenter.laplace": 3,
    "decenter._covariance": 3,
    "decenter._structure": 3,
    "decenter._defaultcost": 3,
    "decenter.pilot": 3,
    "decenter.verify": 3,
    "decenter.compare": 3,
    "decenter._summary": 3,
    "decenter._verdict": 3,
    "decenter.sampling": 3,
    "decenter.sample": 3,
    "decenter._watch": 3,
    "decenter.scaling": 3,
    # 4: the public API and the tools on top
    "decenter": 4,
    "decenter.plots": 4,
    "decenter.bench": 4,
    "decenter._benchprep": 4,
    "decenter._benchtable": 4,
    "decenter.cli": 4,
    "decenter.__main__": 4,
}

# Known exceptions, each with its reason; remove an entry when its reason is gone.
ALLOWED_IMPORTS: dict[tuple[str, str], str] = {}
ALLOWED_LONG_MODULES: dict[str, str] = {}
ALLOWED_LONG_FUNCTIONS: dict[str, str] = {}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = ("decenter", *path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _unit(module: str) -> str:
    """The module as the architecture sees it: a sub-package is one unit."""
    for unit in sorted(LEVELS, key=len, reverse=True):
        if module == unit or module.startswith(unit + "."):
            return unit
    return module


def _is_main_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return (
        isinstance(node, ast.If)
        and isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


def _imports(tree: ast.AST, known: set[str]) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_main_block(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:  # `from decenter.cli import common` imports a submodule
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in known else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m == "decenter" or m.startswith("decenter.")}


def import_graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    for name, path in modules.items():
        src = _unit(name)
        g.add_node(src)
        for target in _imports(ast.parse(path.read_text()), set(modules)):
            dst = _unit(target)
            if dst != src:
                g.add_edge(src, dst)
    return g


def test_every_module_has_a_level():
    missing = sorted(n for n in import_graph() if n not in LEVELS)
    assert not missing, f"give these modules a level in tests/test_architecture.py: {missing}"


def test_imports_flow_one_way():
    g = import_graph()
    upward = [
        f"{a} (level {LEVELS[a]}) imports {b} (level {LEVELS[b]})"
        for a, b in g.edges
        if a in LEVELS and b in LEVELS and LEVELS[b] > LEVELS[a] and (a, b) not in ALLOWED_IMPORTS
    ]
    assert not upward, "imports against the pipeline:\n" + "\n".join(upward)
    g.remove_edges_from(ALLOWED_IMPORTS)
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import cycles: {cycles}"


def test_the_allow_list_is_still_needed():
    g = import_graph()
    stale = [pair for pair in ALLOWED_IMPORTS if not g.has_edge(*pair)]
    assert not stale, f"remove from ALLOWED_IMPORTS, the import is gone: {stale}"


def test_the_checker_sees_lazy_imports_and_skips_main_blocks():
    tree = ast.parse(
        "import decenter.plan\n"
        "def f():\n    from decenter.rewrite import apply_plan\n"
        "if __name__ == '__main__':\n    from decenter.cli import main\n"
    )
    assert _imports(tree, set(_modules())) == {"decenter.plan", "decenter.rewrite"}


def _rel(path: Path) -> str:
    return str(path.relative_to(SRC.parent))


def test_modules_are_of_a_readable_size():
    too_long = {
        _rel(p): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) >= MAX_MODULE_LINES
        and _rel(p) not in ALLOWED_LONG_MODULES
    }
    assert not too_long, f"modules of {MAX_MODULE_LINES}+ lines (split them): {too_long}"


def _function_lengths(path: Path):
    """(name, lines) of every function, its docstring not counted."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            n = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if ast.get_docstring(node) is not None:
                n -= first.end_lineno - first.lineno + 1
            yield node.name, n


def test_functions_are_of_a_readable_length():
    too_long = [
        f"{_rel(p)}:{name} ({n} lines)"
        for p in SRC.rglob("*.py")
        if _rel(p) not in ALLOWED_LONG_FUNCTIONS
        for name, n in _function_lengths(p)
        if n >= MAX_FUNCTION_LINES
    ]
    assert not too_long, f"functions of {MAX_FUNCTION_LINES}+ lines: {too_long}"


@pytest.mark.parametrize(
    "pattern",
    [
        "from pymc.",
        "import pymc.",
        "import _default_transform",
        "rvs_to_initial_values",
        "._print_name",
    ],
)
def test_pymc_internals_only_in_the_pymc_module(pattern):
    """PyMC's internals (its submodules, private names) are used in decenter/_pymc.py only."""
    allowed = {"decenter/_pymc.py"} | set(ALLOWED_PYMC)
    users = sorted(
        _rel(p)
        for p in SRC.rglob("*.py")
        if _rel(p) not in allowed
        and any(
            pattern in line and not line.lstrip().startswith((">>>", "...", "#"))
            for line in p.read_text().splitlines()
        )
    )
    assert not users, f"{pattern!r} outside decenter/_pymc.py: {users}"


ALLOWED_PYMC = {
    "decenter/verify.py": "imports pymc.pytensorf / pymc.sampling.forward; _pymc re-exports "
    "them (compile_pymc, rvs_in_graph, vectorize_over_posterior) for the verify split (safety)",
    "decenter/rewrite.py": "its linear copy of fgraph_from_model imports the pieces of "
    "pymc.model.fgraph it is made of (initvals_hidden / reorder_model come from _pymc)",
    "decenter/_recenter.py": "folds decenter's offsets back on the same FunctionGraph as "
    "rewrite.py (model_free_rv, model_from_fgraph, ModelDeterministic)",
}
