"""The ``decenter`` command line: diff, explain, verify, check, demo and bench.

A TARGET names a model: ``path/to/file.py:NAME`` or ``package.module:NAME``, where NAME is a
``pm.Model`` or a zero-argument function returning one; ``path/to/file.py`` alone works when
the file defines exactly one model at module level.

Exit codes: 0 success (and "equivalent"), 1 "not equivalent" (verify, check), 2 a usage or
input error (one line on stderr; ``--debug`` shows the traceback), 3 an unexpected error.

Examples
--------
>>> from decenter.cli import main
>>> main(["explain", "decenter.examples.radon:centered_model", "--format", "json"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
import traceback
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser", "load_target", "model_lines", "model_dot", "CliError"]

PROG = "decenter"
SAMPLERS = ("pymc", "nutpie", "numpyro", "blackjax")
STRATEGY_WORDS = ("noncentered", "centered", "auto")


class CliError(Exception):
    """An input error reported as one line on stderr with exit code 2."""


# --------------------------------------------------------------------------------------------
# argument parsing


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{PROG}: error: {message} (see {self.prog} -h)\n")
        raise SystemExit(2)


def _int_at_least(minimum: int, expected: str, too_small: str):
    """An argparse type for integers >= minimum, with the given wording of its two errors."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{too_small}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer", "must be at least 1")
_nonnegative_int = _int_at_least(0, "an integer >= 0", "must be >= 0")


def _lam(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{where}: {text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{where}: lam must lie in [0, 1], got {value:g}")
    return value


def _strategy(text: str) -> str | float | dict[str, float]:
    """noncentered | centered | auto | LAM | NAME=LAM[,NAME=LAM...]."""
    if text in STRATEGY_WORDS:
        return text
    if "=" in text:
        out = {}
        for item in text.split(","):
            name, _, lam = item.partition("=")
            if not name.strip() or not lam.strip():
                raise argparse.ArgumentTypeError(f"expected NAME=LAM in {text!r}")
            out[name.strip()] = _lam(lam.strip(), name.strip())
        return out
    try:
        return _lam(text, "strategy")
    except argparse.ArgumentTypeError:
        if re.fullmatch(r"[-+.\deE]+", text):
            raise
    raise argparse.ArgumentTypeError(
        f"invalid strategy {text!r}: use noncentered, centered, auto, a number in [0, 1] "
        "or NAME=LAM[,NAME=LAM]"
    )


def _add_debug(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: a subcommand must not reset a --debug given before it
    p.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )


def _add_transform_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("transform options")
    g.add_argument(
        "--strategy",
        type=_strategy,
        default="noncentered",
        help="noncentered (default), centered, auto, a lam in [0, 1], or NAME=LAM,...",
    )
    g.add_argument(
        "--vars",
        action="append",
        metavar="NAME[,NAME]",
        help="rewrite only these free variables (repeatable or comma-separated)",
    )
    g.add_argument(
        "--include-loc-only",
        action="store_true",
        help="also rewrite variables whose scale is constant but location random",
    )


def _add_sampling_options(p: argparse.ArgumentParser, *, draws: int = 1000) -> None:
    g = p.add_argument_group("sampling options")
    g.add_argument("--draws", type=_positive_int, default=draws, help=f"draws per chain ({draws})")
    g.add_argument(
        "--tune", type=_nonnegative_int, default=1000, help="tuning steps per chain (1000)"
    )
    g.add_argument("--chains", type=_positive_int, default=4, help="chains (4)")
    g.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=None,
        help="NUTS implementation (default: PyMC's choice, nutpie when installed)",
    )
    g.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``decenter`` command (see ``decenter -h``)."""
    parser = _Parser(
        prog=PROG,
        description="Automatic non-centering of hierarchical PyMC models.",
        epilog="TARGET: path/to/file.py:NAME, package.module:NAME, or path/to/file.py when it "
        "defines one model. NAME: a pm.Model or a zero-argument function returning one.",
    )
    parser.add_argument(
        "--debug", action="store_true", default=False, help="show the traceback of an error"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "diff",
        help="the model before and after the rewrite, and the plan",
        description="Show the model before and after the rewrite as a unified "
        "diff, followed by the plan.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument(
        "--format",
        choices=("text", "json", "dot"),
        default="text",
        help="text (default), json, or dot (graphviz source of both graphs)",
    )
    _add_transform_options(p)
    p.add_argument("--seed", type=int, default=None, help="seed of the auto strategy's pilot")
    _add_debug(p)
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser(
        "explain",
        help="every free variable, the decision and its reason",
        description="Print the plan: every free variable, whether it is rewritten, and why.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _add_transform_options(p)
    p.add_argument("--seed", type=int, default=None, help="seed of the auto strategy's pilot")
    _add_debug(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser(
        "verify",
        help="check that the rewrite is equivalent (exit 1 if not)",
        description="Check that TARGET and its rewrite (or --against OTHER) are "
        "the same model. Exit 0 if equivalent, 1 if not.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--against", metavar="OTHER", help="compare with this model, not the rewrite")
    p.add_argument("--points", type=_positive_int, default=20, help="test points (20)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _add_transform_options(p)
    _add_debug(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "check",
        help="verify, then sample both models and compare",
        description="Verify the rewrite, then sample the model and its rewrite "
        "with the same settings and compare divergences, R-hat, ESS and speed. "
        "Exit 1 if the models are not equivalent (nothing is sampled then).",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--against", metavar="OTHER", help="compare with this model, not the rewrite")
    _add_sampling_options(p)
    p.add_argument("--seed", type=int, default=None, help="random seed (both runs use it)")
    p.add_argument("--points", type=_positive_int, default=20, help="test points of verify (20)")
    p.add_argument("--plot", metavar="DIR", help="save trace and funnel pictures (PNG) in DIR")
    p.add_argument("--json", metavar="FILE", help="write plan, verification and comparison as JSON")
    _add_transform_options(p)
    _add_debug(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "demo",
        help="the radon example end to end (what `make demo` runs)",
        description="The Minnesota radon model: diff, verification, sampling "
        "before and after, and pictures.",
    )
    _add_sampling_options(p)
    p.add_argument("--seed", type=int, default=1, help="random seed (1)")
    p.add_argument(
        "--out",
        metavar="DIR",
        default="decenter-demo",
        help="where to save pictures and comparison.json (./decenter-demo)",
    )
    _add_debug(p)
    p.set_defaults(func=cmd_demo)

    # decenter.bench defines its own options: they are parsed in cmd_bench, so that the
    # module is imported only when bench runs (and a missing module is one error line).
    p = sub.add_parser(
        "bench",
        add_help=False,
        help="benchmark strategies on the example suite (decenter bench -h for its options)",
    )
    p.set_defaults(func=cmd_bench)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("decenter")
    except Exception:
        return "unknown"


# --------------------------------------------------------------------------------------------
# targets


def _split_target(spec: str) -> tuple[str, str | None]:
    """("path/or.module", "NAME" or None); a Windows drive colon is not a separator."""
    source, sep, name = spec.rpartition(":")
    if sep and re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name) and source:
        return source, name
    return spec, None


def _is_path(source: str) -> bool:
    return source.endswith(".py") or os.sep in source or "/" in source or os.path.exists(source)


def _load_file(path_text: str) -> types.ModuleType:
    path = Path(path_text)
    if not path.exists():
        raise CliError(f"no such file: {path_text}")
    if path.is_dir():
        raise CliError(f"{path_text} is a directory; pass a Python file (path/to/file.py)")
    try:
        source = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"cannot read {path_text}: {e}") from e
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        raise CliError(f"syntax error in {path_text}, line {e.lineno}: {e.msg}") from e
    # A module of its own (not __main__): an `if __name__ == "__main__":` block does not run.
    name = "_decenter_target_" + re.sub(r"\W", "_", path.stem)
    module = types.ModuleType(name)
    module.__file__ = str(path.resolve())
    sys.modules[name] = module  # dataclasses and pickling look the module up
    sys.path.insert(0, str(path.resolve().parent))  # its own imports of sibling files
    try:
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for our output (json, dot)
            exec(code, module.__dict__)
    except SystemExit as e:
        raise CliError(f"{path_text} called sys.exit({e.code!r}) while loading") from e
    except Exception as e:
        raise CliError(f"running {path_text} raised {_describe(e)}") from e
    return module


def _load_module(modname: str) -> types.ModuleType:
    if os.getcwd() not in sys.path:  # like `python -m`: modules in the working directory
        sys.path.insert(0, os.getcwd())
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name and (modname == e.name or modname.startswith(e.name + ".")):
            raise CliError(f"no such file or module: {modname} (a file needs a .py suffix)") from e
        raise CliError(f"importing {modname} raised {_describe(e)}") from e
    except SyntaxError as e:
        raise CliError(f"syntax error in {e.filename}, line {e.lineno}: {e.msg}") from e
    except Exception as e:
        raise CliError(f"importing {modname} raised {_describe(e)}") from e


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _describe(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def load_target(spec: str) -> tuple[Any, str]:
    """The model named by ``spec`` and a label for it; :class:`CliError` says what is wrong.

    Examples
    --------
    >>> from decenter.cli import load_target
    >>> model, label = load_target("decenter.examples.radon:centered_model")
    >>> label, len(model.free_RVs)
    ('centered_model', 7)
    """
    import pymc as pm

    source, name = _split_target(spec)
    module = _load_file(source) if _is_path(source) else _load_module(source)
    if name is None:
        models: dict[int, str] = {}
        for key, value in vars(module).items():
            if isinstance(value, pm.Model) and not key.startswith("_"):
                models.setdefault(id(value), key)
        if len(models) == 1:
            key = next(iter(models.values()))
            return getattr(module, key), key
        if not models:
            funcs = [
                k
                for k, v in vars(module).items()
                if inspect.isfunction(v)
                and v.__module__ == module.__name__
                and not k.startswith("_")
            ]
            hint = f" (functions there: {', '.join(funcs)})" if funcs else ""
            raise CliError(
                f"no pm.Model at module level in {source}; name one as {source}:NAME, NAME a "
                f"model or a function returning one{hint}"
            )
        names = sorted(models.values())
        raise CliError(
            f"{source} defines several models ({', '.join(names)}); choose one, "
            f"e.g. {source}:{names[0]}"
        )
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            models = [k for k, v in vars(module).items() if isinstance(v, pm.Model)]
            hint = f" (models there: {', '.join(models)})" if models else ""
            raise CliError(f"{source} has no attribute {name!r}{hint}")
        obj = getattr(obj, part)
    if isinstance(obj, pm.Model):
        return obj, name
    if not callable(obj):
        raise CliError(
            f"{name} is {_a(type(obj).__name__)}, not a pm.Model or a function returning one"
        )
    try:
        required = [
            p.name
            for p in inspect.signature(obj).parameters.values()
            if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
    except (TypeError, ValueError):
        required = []
    if required:
        raise CliError(
            f"{name}() needs arguments ({', '.join(required)}); NAME must be a pm.Model or a "
            "function that takes none"
        )
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = obj()
    except Exception as e:
        raise CliError(f"calling {name}() raised {_describe(e)}") from e
    if not isinstance(result, pm.Model):
        raise CliError(f"{name}() returned {_a(type(result).__name__)}, not a pm.Model")
    return result, name


# --------------------------------------------------------------------------------------------
# printing models


_BINARY = {
    "Add": (" + ", 1),
    "Sub": (" - ", 1),
    "Mul": (" * ", 2),
    "TrueDiv": (" / ", 2),
    "IntDiv": (" // ", 2),
    "Mod": (" % ", 2),
    "Pow": (" ** ", 4),
}
_ATOM = 10


def _const(value: Any) -> str:
    import numpy as np

    a = np.asarray(value)
    if a.size == 1:
        v = a.reshape(-1)[0]
        return str(bool(v)) if a.dtype.kind == "b" else f"{v:.4g}"
    if a.ndim == 1 and a.size <= 4:
        return "[" + ", ".join(f"{v:.4g}" for v in a) + "]"
    return f"<array {tuple(a.shape)}>"


class _Printer:
    """Model variables as short formulas: ``mu_b + sigma_b * b_offset``, ``a[county_idx]``."""

    def __init__(self, model):
        self.names = {var: name for name, var in model.named_vars.items()}

    def dist(self, rv) -> str:
        from pytensor.tensor.random.type import RandomType
        from pytensor.tensor.type_other import NoneTypeT

        op = rv.owner.op
        try:
            params = list(op.dist_params(rv.owner))
        except Exception:
            params = [x for x in rv.owner.inputs if not isinstance(x.type, RandomType | NoneTypeT)]
        print_name = getattr(op, "_print_name", None)
        dname = print_name[0] if print_name else type(op).__name__.removesuffix("RV")
        return f"{dname}({', '.join(self.expr(p) for p in params)})"

    def expr(self, var) -> str:
        return self._expr(var)[0]

    def definition(self, var) -> str:
        """The formula of a named variable itself (not just its name)."""
        name = self.names.pop(var, None)
        try:
            return self.expr(var)
        finally:
            if name is not None:
                self.names[var] = name

    def _wrap(self, var, min_prec: int) -> str:
        text, prec = self._expr(var)
        return f"({text})" if prec < min_prec else text

    def _expr(self, var) -> tuple[str, int]:
        from pytensor.compile.sharedvalue import SharedVariable
        from pytensor.graph.basic import Constant
        from pytensor.tensor.elemwise import DimShuffle, Elemwise

        if var in self.names:
            return self.names[var], _ATOM
        if isinstance(var, Constant):
            return _const(var.data), _ATOM
        if isinstance(var, SharedVariable):
            return var.name or "<shared>", _ATOM
        if var.owner is None:
            return var.name or "?", _ATOM
        op, inputs = var.owner.op, var.owner.inputs
        opname = type(op).__name__
        if isinstance(op, DimShuffle):
            inner = self._expr(inputs[0])
            order = [i for i in op.new_order if i != "x"]
            return (f"transpose({inner[0]})", _ATOM) if order != sorted(order) else inner
        if opname in ("SpecifyShape", "SpecifyBroadcastable", "Unbroadcast", "ViewOp",
                      "OutputGuard", "DeepCopyOp"):  # fmt: skip
            return self._expr(inputs[0])
        if opname == "Blockwise":  # a batched core op: print the core op
            op, opname = op.core_op, type(op.core_op).__name__
        if hasattr(op, "dist_params") and var.name is None:  # an unnamed .dist() inside a formula
            return self.dist(var), _ATOM
        if isinstance(op, Elemwise):
            sname = type(op.scalar_op).__name__
            if sname in ("Cast", "Identity") or sname.startswith("Convert"):
                return self._expr(inputs[0])
            if sname == "Second":  # fill: the value, broadcast
                return self._expr(inputs[1])
            if sname == "Neg":
                return "-" + self._wrap(inputs[0], 3), 3
            if sname in _BINARY:
                sym, prec = _BINARY[sname]
                parts = [self._wrap(inputs[0], prec + (sname == "Pow"))]
                # the right operand of -, /, //, % binds tighter: a - (b - c)
                right = prec + (sname not in ("Add", "Mul", "Pow"))
                parts += [self._wrap(x, right) for x in inputs[1:]]
                return sym.join(parts), prec
            fname = sname.lower()
            return f"{fname}({', '.join(self.expr(x) for x in inputs)})", _ATOM
        if "Subtensor" in opname and "Inc" not in opname:
            return f"{self._wrap(inputs[0], _ATOM)}[{self._indices(var)}]", _ATOM
        if opname in ("Dot", "Matmul") and len(inputs) == 2:
            return f"{self._wrap(inputs[0], 3)} @ {self._wrap(inputs[1], 3)}", 2
        name = getattr(op, "name", None) or opname.lower()
        args = [x for x in inputs if hasattr(x.type, "ndim")]
        return f"{name}({', '.join(self.expr(x) for x in args)})", _ATOM

    def _indices(self, var) -> str:
        from pytensor.tensor.subtensor import Subtensor, indices_from_subtensor

        op, inputs = var.owner.op, var.owner.inputs
        if isinstance(op, Subtensor):
            idx = indices_from_subtensor(inputs[1:], op.idx_list)
        else:
            idx = inputs[1:]
        out = []
        for i in idx:
            if isinstance(i, slice):
                parts = [
                    "" if p is None else self.expr(p) if hasattr(p, "type") else str(p)
                    for p in (i.start, i.stop, i.step)
                ]
                out.append(":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else ""))
            elif (
                hasattr(i, "owner")
                and i.owner is not None
                and type(i.owner.op).__name__ == "MakeSlice"
            ):
                parts = [self.expr(p) if not _is_none(p) else "" for p in i.owner.inputs]
                out.append(":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else ""))
            elif _is_none(i):
                out.append(":")
            else:
                out.append(self.expr(i) if hasattr(i, "type") else str(i))
        return ", ".join(out)


def _is_none(x) -> bool:
    from pytensor.tensor.type_other import NoneTypeT

    return x is None or isinstance(getattr(x, "type", None), NoneTypeT)


def _shape_suffix(model, name: str, var) -> str:
    dims = model.named_vars_to_dims.get(name)
    if dims:
        dims = tuple(dims)
        return f"  dims=({', '.join(map(str, dims))}{',' if len(dims) == 1 else ''})"
    shape = getattr(var.type, "shape", ())
    if hasattr(var, "get_value"):  # data: the shape of the current value
        shape = var.get_value(borrow=True).shape
    if shape and all(s is not None for s in shape):
        return f"  shape={tuple(int(s) for s in shape)}"
    return ""


def model_lines(model) -> list[str]:
    """The model as one line per named variable, in definition order.

    Examples
    --------
    >>> import pymc as pm
    >>> from decenter.cli import model_lines
    >>> with pm.Model(coords={"g": range(3)}) as m:
    ...     s = pm.HalfNormal("s")
    ...     b = pm.Normal("b", 0, s, dims="g")
    ...     c = pm.Deterministic("c", 2 * b + 1, dims="g")
    >>> model_lines(m)
    ['s ~ HalfNormal(0, 1)', 'b ~ Normal(0, s)  dims=(g,)', 'c = Deterministic(2 * b + 1)  dims=(g,)']
    """
    from decenter.graph import var_kind

    printer = _Printer(model)
    lines = []
    for name, var in model.named_vars.items():
        kind = var_kind(model, var)
        suffix = _shape_suffix(model, name, var)
        if kind in ("free", "observed"):
            line = f"{name} ~ {printer.dist(var)}{suffix}"
            if kind == "observed":
                line += "  observed"
        elif kind == "deterministic":
            line = f"{name} = Deterministic({printer.definition(var)}){suffix}"
        elif kind == "potential":
            line = f"{name} = Potential({printer.definition(var)})"
        else:
            line = f"{name} = Data{suffix}"
        lines.append(line)
    return lines


def model_dot(before, after, *, plan=None, labels: tuple[str, str] = ("before", "after")) -> str:
    """Graphviz source showing both models side by side; rewritten variables in colour.

    Examples
    --------
    >>> import decenter
    >>> from decenter.examples.radon import centered_model
    >>> m = centered_model()
    >>> model_dot(m, decenter.transform(m)).splitlines()[0]
    'digraph decenter {'
    """
    from decenter.graph import model_graph

    rewritten = {d.name for d in plan.rewrites} if plan is not None else set()
    new = {d.new_name for d in plan.rewrites} if plan is not None else set()
    shapes = {
        "free": "shape=ellipse",
        "observed": 'shape=ellipse, style=filled, fillcolor="#d9d9d9"',
        "deterministic": "shape=box",
        "potential": "shape=octagon",
        "data": 'shape=box, style="rounded,filled", fillcolor="#f2f2f2"',
    }
    printers = {id(before): _Printer(before), id(after): _Printer(after)}
    out = ["digraph decenter {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];']
    for i, (model, label) in enumerate(zip((before, after), labels, strict=True)):
        g = model_graph(model)
        prefix = f"m{i}:"
        out.append(f"  subgraph cluster_{i} {{")
        out.append(f"    label={_q(label)};")
        for name, data in g.nodes(data=True):
            var = model.named_vars[name]
            text = name
            if data["kind"] in ("free", "observed"):
                text += "\n~ " + printers[id(model)].dist(var).split("(")[0]
            if data["dims"]:
                text += "\n(" + ", ".join(map(str, data["dims"])) + ")"
            attrs = shapes.get(data["kind"], "")
            if i == 0 and name in rewritten:
                attrs += ', color="#d62728", penwidth=2'
            if i == 1 and (name in new or name in rewritten):
                attrs += ', color="#2ca02c", penwidth=2'
            out.append(f"    {_q(prefix + name)} [label={_q(text)}, {attrs}];")
        for u, v in g.edges:
            out.append(f"    {_q(prefix + u)} -> {_q(prefix + v)};")
        out.append("  }")
    out.append("}")
    return "\n".join(out)


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def unified_diff(before, after, *, names: tuple[str, str] = ("before", "after")) -> list[str]:
    """The models as a unified diff of :func:`model_lines`, the whole model as context."""
    a, b = model_lines(before), model_lines(after)
    return list(
        difflib.unified_diff(
            a, b, fromfile=names[0], tofile=names[1], n=max(len(a), len(b)), lineterm=""
        )
    )


# --------------------------------------------------------------------------------------------
# output


def _console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output is not cut at 80 columns: tables stay one row per line.
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", 0) or 120)
    return Console(file=stream, width=width, highlight=False, soft_wrap=True)


def _print_table(console, table) -> None:
    """Print a rich table; piped output loses the padding at the end of each line."""
    if console.is_terminal:
        console.print(table)
        return
    with console.capture() as cap:
        console.print(table)
    console.file.write("\n".join(line.rstrip() for line in cap.get().splitlines()) + "\n")


def _plan_table(plan):
    from rich.box import SIMPLE_HEAD
    from rich.table import Table
    from rich.text import Text

    table = Table(box=SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    for col in ("variable", "family", "action", "lam", "new variable", "reason"):
        table.add_column(col, overflow="fold")
    for d in plan.decisions:
        action = Text(d.action, style="bold green" if d.rewrite else "dim")
        table.add_row(
            Text(d.name),
            Text(d.family),
            action,
            Text(d.lam_summary()),
            Text(d.new_name or ""),
            Text(d.reason),
        )
    return table


def _print_plan(console, plan) -> None:
    from rich.text import Text

    _print_table(console, _plan_table(plan))
    n = len(plan.rewrites)
    console.print(
        Text(f"{n} of {len(plan.decisions)} free variables rewritten (strategy={plan.strategy!r}).")
    )
    for note in plan.notes:
        console.print(Text(note))


def _print_diff(console, lines: list[str]) -> None:
    from rich.text import Text

    for line in lines:
        style = None
        if line.startswith(("---", "+++")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("+"):
            style = "green"
        console.print(Text(line, style=style or ""), soft_wrap=True)


def _comparison_tables(console, cmp) -> None:
    from rich.box import SIMPLE_HEAD
    from rich.table import Table
    from rich.text import Text

    def status_text(s: str) -> Text:
        return Text(s, style="green" if s == "ok" else "bold red")

    table = Table(box=SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("")
    table.add_column("original", justify="right")
    table.add_column("transformed", justify="right")
    for i, (k, a, b) in enumerate(cmp.rows()):
        if i == 0:
            table.add_row(Text(k), status_text(a), status_text(b))
        else:
            table.add_row(Text(k), Text(a), Text(b))
    _print_table(console, table)
    console.print()
    vt = Table(box=SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    for col in ("variable", "bulk ESS", "tail ESS", "R-hat"):
        vt.add_column(col, justify="left" if col == "variable" else "right")
    for row in cmp.var_rows():
        vt.add_row(*(Text(c) for c in row))
    _print_table(console, vt)
    console.print()
    console.print(Text(f"posteriors: {cmp.agreement}"))
    color = {"better": "bold green", "worse": "bold red"}.get(cmp.verdict, "bold")
    console.print(Text("verdict: ") + Text(cmp.verdict, style=color))
    for r in cmp.reasons:
        console.print(Text(f"  - {r}"))


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


# --------------------------------------------------------------------------------------------
# commands


def _vars(args) -> list[str] | None:
    if not getattr(args, "vars", None):
        return None
    return [v.strip() for item in args.vars for v in item.split(",") if v.strip()]


def _transform(model, args):
    """(new model, plan)."""
    import decenter

    return decenter.transform(
        model,
        _vars(args),
        strategy=args.strategy,
        include_loc_only=args.include_loc_only,
        random_seed=args.seed,
        return_plan=True,
    )


def cmd_diff(args) -> int:
    model, label = load_target(args.target)
    new, plan = _transform(model, args)
    if args.format == "dot":
        sys.stdout.write(
            model_dot(model, new, plan=plan, labels=(label, f"{label} (decenter)")) + "\n"
        )
        return 0
    lines = unified_diff(model, new, names=(label, f"{label} (decenter)"))
    if args.format == "json":
        _print_json(
            {
                "target": args.target,
                "before": model_lines(model),
                "after": model_lines(new),
                "diff": lines,
                "plan": plan.to_dict(),
            }
        )
        return 0
    console = _console()
    if lines:
        _print_diff(console, lines)
    else:
        console.print(f"no change: {label} has nothing to rewrite")
    console.print()
    _print_plan(console, plan)
    return 0


def cmd_explain(args) -> int:
    import decenter

    model, _ = load_target(args.target)
    plan = decenter.plan(
        model,
        _vars(args),
        strategy=args.strategy,
        include_loc_only=args.include_loc_only,
        random_seed=args.seed,
    )
    if args.format == "json":
        _print_json({"target": args.target, "plan": plan.to_dict()})
    else:
        _print_plan(_console(), plan)
    return 0


def _verify(model, other, *, n_points: int = 20, seed: int | None = None):
    try:
        from decenter.verify import verify
    except ModuleNotFoundError as e:
        if e.name == "decenter.verify":
            raise CliError(
                "verification is not available: the module decenter.verify is missing"
            ) from e
        raise
    return verify(model, other, n_points=n_points, random_seed=seed)


def _other(args, model):
    """The model to compare with and the plan that made it (None for --against)."""
    if args.against:
        other, _ = load_target(args.against)
        return other, None
    return _transform(model, args)


def cmd_verify(args) -> int:
    model, label = load_target(args.target)
    other, _ = _other(args, model)
    report = _verify(model, other, n_points=args.points, seed=args.seed)
    if args.format == "json":
        _print_json(
            {
                "target": args.target,
                "against": args.against,
                "ok": bool(report.ok),
                "report": report.to_dict(),
            }
        )
    else:
        from rich.text import Text

        console = _console()
        console.print(Text(str(report)))
        verdict = "equivalent" if report.ok else "NOT equivalent"
        what = args.against or "its rewrite"
        console.print(
            Text(f"{label} and {what}: ")
            + Text(verdict, style="bold green" if report.ok else "bold red")
        )
    return 0 if report.ok else 1


def _check_sampler(name: str | None) -> None:
    if name in ("nutpie", "numpyro", "blackjax") and importlib.util.find_spec(name) is None:
        raise CliError(f"sampler {name!r} is not installed: pip install {name}")


def _sample_and_report(console, model, other, args):
    from rich.text import Text

    from decenter.compare import compare

    progress = not args.no_progress and sys.stdout.isatty()
    console.print(
        Text(
            f"sampling the original and the transformed model: {args.chains} chains x "
            f"{args.draws} draws, {args.tune} tuning steps"
        )
    )
    cmp = compare(
        model,
        other,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        nuts_sampler=args.sampler,
        random_seed=args.seed,
        progressbar=progress,
    )
    console.print(
        Text(f"sampler: {cmp.original.sampler}, random seed: {cmp.settings['random_seed']}")
    )
    console.print()
    _comparison_tables(console, cmp)
    return cmp


def cmd_check(args) -> int:
    from rich.text import Text

    _check_sampler(args.sampler)
    model, label = load_target(args.target)
    other, plan = _other(args, model)
    console = _console()
    report = _verify(model, other, n_points=args.points, seed=args.seed)
    ok = bool(report.ok)
    console.print(
        Text(f"{label} and {args.against or 'its rewrite'}: ")
        + Text("equivalent" if ok else "NOT equivalent", style="bold green" if ok else "bold red")
    )
    if not ok:
        console.print(Text(str(report)))
        console.print(Text("not sampling: the models are not equivalent"))
        if args.json:
            _write_json(
                args.json, {"target": args.target, "verify": report.to_dict(), "comparison": None}
            )
        return 1
    cmp = _sample_and_report(console, model, other, args)
    if args.plot:
        from decenter.plots import save_plots

        for path in save_plots(cmp, args.plot):
            console.print(Text(f"saved {path}"))
    if args.json:
        _write_json(
            args.json,
            {
                "target": args.target,
                "against": args.against,
                "plan": None if plan is None else plan.to_dict(),
                "verify": report.to_dict(),
                "comparison": cmp.to_dict(),
            },
        )
        console.print(Text(f"saved {args.json}"))
    return 0


def _write_json(path: str, obj: Any) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, default=_json_default)
        f.write("\n")


def cmd_demo(args) -> int:
    import time

    from rich.rule import Rule
    from rich.text import Text

    import decenter
    from decenter.examples.radon import centered_model, load_radon

    _check_sampler(args.sampler)
    t0 = time.perf_counter()
    console = _console()
    df = load_radon()
    console.print(Rule("decenter demo: Minnesota radon, varying intercepts and slopes by county"))
    console.print(
        Text(
            f"{len(df)} homes in {df['county'].nunique()} counties; the centered model "
            "has a funnel between the county slopes b and their scale sigma_b."
        )
    )
    model = centered_model(df)
    new, plan = decenter.transform(model, return_plan=True)

    console.print(Rule("1. the model before and after (decenter diff)"))
    _print_diff(console, unified_diff(model, new, names=("radon (centered)", "radon (decenter)")))
    console.print()
    _print_plan(console, plan)

    console.print(Rule("2. equivalence (decenter verify)"))
    report = _verify(model, new, seed=args.seed)
    console.print(Text(str(report)))
    if not report.ok:
        console.print(Text("the rewrite is NOT equivalent; stopping", style="bold red"))
        return 1

    console.print(Rule("3. sampling before and after (decenter check)"))
    cmp = _sample_and_report(console, model, new, args)
    o, t = cmp.original, cmp.transformed
    sb_o, sb_t = o.per_var["sigma_b"], t.per_var["sigma_b"]
    console.print(
        Text(
            f"sigma_b: divergences {o.divergences} -> {t.divergences}, bulk ESS "
            f"{sb_o['ess_bulk']:.0f} -> {sb_t['ess_bulk']:.0f}, tail ESS {sb_o['ess_tail']:.0f} -> "
            f"{sb_t['ess_tail']:.0f}",
            style="bold",
        )
    )

    console.print(Rule("4. pictures"))
    out = Path(args.out)
    try:
        from decenter.plots import save_plots

        paths = save_plots(cmp, out, var="b")
    except ImportError as e:
        console.print(Text(f"no pictures: {e}"))
        paths = []
    _write_json(
        str(out / "comparison.json"),
        {"plan": plan.to_dict(), "verify": report.to_dict(), "comparison": cmp.to_dict()},
    )
    for path in [*paths, out / "comparison.json"]:
        console.print(Text(f"saved {path}"))
    console.print(Text(f"demo done in {time.perf_counter() - t0:.0f} s"))
    return 0


def cmd_bench(args, extra: list[str]) -> int:
    try:
        bench = importlib.import_module("decenter.bench")
    except ModuleNotFoundError as e:
        if e.name == "decenter.bench":
            raise CliError(
                "decenter bench is not available: the module decenter.bench is missing"
            ) from e
        raise
    parser = _Parser(
        prog=f"{PROG} bench", description="Benchmark the strategies on the example suite."
    )
    bench.add_arguments(parser)
    return int(bench.run(parser.parse_args(extra)) or 0)


# --------------------------------------------------------------------------------------------
# entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``decenter`` command; return the exit code.

    Examples
    --------
    >>> from decenter.cli import main
    >>> main(["explain", "decenter.examples.radon:centered_model"])  # doctest: +SKIP
    0
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, extra = parser.parse_known_args(argv)
    debug = bool(getattr(args, "debug", False))
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write(
            f"{PROG}: error: choose a command: diff, explain, verify, check, demo, bench\n"
        )
        return 2
    if extra and args.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "bench":
            return cmd_bench(args, extra)
        return int(args.func(args))
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except (CliError, ValueError, TypeError, ImportError, OSError) as e:
        if debug:
            traceback.print_exc()
        msg = " ".join(str(e).split()) if isinstance(e, CliError) else _describe(e)
        sys.stderr.write(f"{PROG}: error: {msg}\n")
        return 2
    except Exception as e:
        if debug:
            traceback.print_exc()
        sys.stderr.write(
            f"{PROG}: unexpected error: {_describe(e)} (run with --debug for the traceback)\n"
        )
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
