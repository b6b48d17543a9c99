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

SRC = Path(__file__).resolve().parents[1] / "src" / "decenter"

# The pipeline's levels: a module imports only modules of a lower level, or of its own level
# without a cycle. A name here covers its sub-modules unless they have a level of their own
# (``decenter.auto`` covers laplace, curvature, ...; ``decenter.core`` is split by level).
LEVELS = {
    # 0: PyMC's internals, small shared helpers, the family rules, the model graph, what can
    # be proven positive, the tables
    "decenter._pymc": 0,
    "decenter.util": 0,
    "decenter.families": 0,
    "decenter.examples": 0,
    "decenter.core": 0,  # the package's docstring only
    "decenter.core.graph": 0,
    "decenter.core.positivity": 0,
    "decenter.core.exprtext": 0,
    "decenter.core.hoist": 0,  # finds the terms; plan records them, rewrite applies them
    "decenter.report": 0,
    "decenter.report.render": 0,
    "decenter.report.notebook": 0,
    # 1: the decisions (and what they are made from: the reasons, the strategy argument)
    "decenter.core.plan": 1,
    "decenter.core.reasons": 1,
    "decenter.core.strategy": 1,
    "decenter.core.fingerprint": 1,
    # 2: applying them (and, for a second pass, folding them back)
    "decenter.core.rewrite": 2,
    "decenter.core.recenter": 2,
    # 3: the work on a plan or a rewritten model: choosing lam, verifying, sampling
    "decenter.auto": 3,
    "decenter.verify": 3,
    "decenter.diagnose": 3,
    "decenter.diagnose.runs": 3,  # compile and sample: used by auto (the pilot) too
    "decenter.bench.scaling": 3,
    # 4: the public API and the tools on top
    "decenter": 4,
    "decenter.report.plots": 4,
    "decenter.bench": 4,
    "decenter.cli": 4,
    "decenter.__main__": 4,
}
#: what the top of the package may hold (modules and sub-packages; issue 32: at most 16)
MAX_TOP_LEVEL = 16

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
        "import decenter.core.plan\n"
        "def f():\n    from decenter.core.rewrite import apply_plan\n"
        "if __name__ == '__main__':\n    from decenter.cli import main\n"
    )
    assert _imports(tree, set(_modules())) == {"decenter.core.plan", "decenter.core.rewrite"}


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


#: PyMC attributes that are public by name but internal by use (read and written by PyMC's
#: own model code); checked as attributes, like the private ones
INTERNAL_ATTRIBUTES = {"rvs_to_initial_values"}
INTERNALS_MODULE = "decenter/_pymc.py"


def _own_private_names() -> set[str]:
    """Private names decenter defines itself: functions, classes, module-level names,
    ``self._x`` attributes, and names imported under a private alias."""
    own: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                own.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("decenter"):
                own.update(a.asname or a.name for a in node.names)
    return {n for n in own if n.startswith("_")}


def internals_used(tree: ast.AST, own: set[str]) -> list[str]:
    """PyMC/PyTensor internals in a module: imports of PyMC's submodules, private names
    imported from PyMC or PyTensor, and private (or internal) attributes that decenter does
    not define, read or written on anything but ``self``/``cls``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.startswith("pymc.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            if node.module.startswith("pymc."):
                found.append(f"from {node.module} import ...")
            elif top in ("pymc", "pytensor"):
                found += [
                    f"from {node.module} import {a.name}" for a in node.names if a.name[0] == "_"
                ]
        elif isinstance(node, ast.Attribute):
            private = node.attr.startswith("_") and not node.attr.startswith("__")
            on_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if (private and node.attr not in own and not on_self) or (
                node.attr in INTERNAL_ATTRIBUTES
            ):
                found.append(f".{node.attr} (line {node.lineno})")
    return found


def test_pymc_internals_only_in_the_pymc_module():
    """PyMC's internals (its submodules, private names and attributes) are used in
    decenter/_pymc.py only, read from the syntax tree (not substrings: a comment or a
    docstring mentioning one is not a use)."""
    own = _own_private_names()
    users = {
        _rel(p): used
        for p in SRC.rglob("*.py")
        if _rel(p) != INTERNALS_MODULE and (used := internals_used(ast.parse(p.read_text()), own))
    }
    assert not users, f"PyMC/PyTensor internals outside {INTERNALS_MODULE}: {users}"


def test_the_internals_checker_catches_what_it_should():
    planted = ast.parse(
        "from pymc.model.fgraph import fgraph_from_model\n"
        "import pymc.logprob\n"
        "from pytensor.graph.utils import _private\n"
        "def f(fgraph, model, op, self):\n"
        "    fgraph._coords = model._coords\n"
        "    self._mine = op._infer_shape()\n"
        "    return model.rvs_to_initial_values, _helper()\n"
        "'a docstring naming op._infer_shape and from pymc.util import x'\n"
    )
    found = internals_used(planted, own={"_helper"})
    assert found == [
        "from pymc.model.fgraph import ...",
        "import pymc.logprob",
        "from pytensor.graph.utils import _private",
        "._coords (line 5)",
        "._coords (line 5)",
        "._infer_shape (line 6)",
        ".rvs_to_initial_values (line 7)",
    ], found
    # and the real internals module does use them (the checker is not blind to it)
    assert internals_used(ast.parse((SRC / "_pymc.py").read_text()), _own_private_names())


def test_the_top_level_shows_the_pipeline():
    """At most MAX_TOP_LEVEL modules and sub-packages at the top (issue 32), and no exported
    type defined in an underscore module (a user reading a type's module sees its home)."""
    top = sorted(
        p.stem if p.suffix == ".py" else p.name
        for p in SRC.iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"
    )
    assert len(top) <= MAX_TOP_LEVEL, top
    public = set()  # the names a package exports (its __init__'s __all__)
    for init in SRC.rglob("__init__.py"):
        for node in ast.parse(init.read_text()).body:
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "__all__" for t in node.targets
            ):
                public.update(ast.literal_eval(node.value))
    public_in_private = [
        f"{_rel(p)}:{node.name}"
        for p in SRC.rglob("_*.py")
        if not p.name.startswith("__") and _rel(p) != INTERNALS_MODULE
        for node in ast.parse(p.read_text()).body
        if isinstance(node, ast.ClassDef) and node.name in public
    ]
    assert not public_in_private, public_in_private
