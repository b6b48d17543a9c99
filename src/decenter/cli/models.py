"""The model as text and pictures: one line per variable, a unified diff, Graphviz source.

Examples
--------
>>> import decenter
>>> from decenter.cli.models import unified_diff
>>> from decenter.examples.eight_schools import centered_model
>>> m = centered_model()
>>> [line for line in unified_diff(m, decenter.transform(m)) if line.startswith("+t")]
['+theta_offset ~ Normal(0, 1)  dims=(school,)', '+theta = Deterministic(mu + tau * theta_offset)  dims=(school,)']
"""

from __future__ import annotations

import difflib
from typing import Any

from decenter._pymc import dist_name

__all__ = ["model_lines", "model_dot", "unified_diff"]


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
        return f"{dist_name(op)}({', '.join(self.expr(p) for p in params)})"

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
    >>> from decenter.cli.models import model_lines
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
