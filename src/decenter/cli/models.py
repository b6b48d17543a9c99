"""The model as text and pictures: one line per variable, a unified diff, Graphviz source.

Examples
--------
>>> import decenter
>>> from decenter.cli.models import unified_diff
>>> from decenter.examples.eight_schools import centered_model
>>> m = centered_model()
>>> [line for line in unified_diff(m, decenter.transform(m)) if line.startswith("+t")]
['+theta_offset ~ Normal(0, 1)  dims=(school,)', '+theta = mu + tau * theta_offset  dims=(school,)']
"""

from __future__ import annotations

import difflib

from decenter.cli._dists import dist_text
from decenter.cli._partial import partial_texts
from decenter.cli._printer import Printer

__all__ = ["model_lines", "model_dot", "unified_diff"]


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


def model_lines(model, *, plan=None, original=None) -> list[str]:
    """The model as one line per named variable, in definition order.

    With the ``plan`` that made ``model`` from ``original``, a partially centered variable is
    written in its math, ``lam`` and ``unit`` named and summarised on a line below it.

    Examples
    --------
    >>> import pymc as pm
    >>> from decenter.cli.models import model_lines
    >>> with pm.Model(coords={"g": range(3)}) as m:
    ...     s = pm.HalfNormal("s")
    ...     b = pm.Normal("b", 0, s, dims="g")
    ...     c = pm.Deterministic("c", 2 * b + 1, dims="g")
    >>> model_lines(m)
    ['s ~ HalfNormal(1)', 'b ~ Normal(0, s)  dims=(g,)', 'c = 2 * b + 1  dims=(g,)']
    """
    printer = Printer(model)
    partial = _partial_texts(model, plan, original)
    # kinds by set lookup (graph.var_kind scans the model's lists: quadratic over a model)
    kinds = {}
    for kind, group in (
        ("potential", model.potentials),
        ("deterministic", model.deterministics),
        ("observed", model.observed_RVs),
        ("free", model.free_RVs),
    ):
        kinds.update(dict.fromkeys(group, kind))
    lines = []
    for name, var in model.named_vars.items():
        kind = kinds.get(var, "data")
        suffix = _shape_suffix(model, name, var)
        text, lam_line = partial.get(name, (None, None))
        if kind in ("free", "observed"):
            line = f"{name} ~ {text or dist_text(printer, var)}{suffix}"
            if kind == "observed":
                line += "  observed"
        elif kind == "deterministic":
            line = f"{name} = {text or printer.definition(var)}{suffix}"
        elif kind == "potential":
            line = f"{name} = Potential({printer.definition(var)})"
        else:
            line = f"{name} = Data{suffix}"
        lines.append(line)
        if lam_line:  # the lam line, and the moved terms' line (decenter.core.hoist)
            lines.extend(lam_line.split("\n"))
    return lines


def _partial_texts(model, plan, original) -> dict[str, tuple[str, str | None]]:
    """name -> (the written text, the lam line under it) of each partially centered rewrite."""
    if plan is None or original is None:
        return {}
    printers = (Printer(original), Printer(model))
    taken = set(original.named_vars) | set(model.named_vars)
    out = {}
    for d in plan.rewrites:
        texts = partial_texts(original, model, d, printers, taken)
        if texts is not None:
            out[d.new_name] = (texts[0], texts[3] if len(texts) > 3 else None)
            out[d.name] = (texts[1], texts[2])
    return out


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
    from decenter.core.graph import model_graph

    rewritten = {d.name for d in plan.rewrites} if plan is not None else set()
    new = {d.new_name for d in plan.rewrites} if plan is not None else set()
    shapes = {
        "free": "shape=ellipse",
        "observed": 'shape=ellipse, style=filled, fillcolor="#d9d9d9"',
        "deterministic": "shape=box",
        "potential": "shape=octagon",
        "data": 'shape=box, style="rounded,filled", fillcolor="#f2f2f2"',
    }
    printers = {id(before): Printer(before), id(after): Printer(after)}
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
                text += "\n~ " + dist_text(printers[id(model)], var).split("(")[0]
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


def unified_diff(
    before, after, *, plan=None, names: tuple[str, str] = ("before", "after")
) -> list[str]:
    """The models as a unified diff of :func:`model_lines`, the whole model as context.

    ``plan`` (the plan that made ``after``) writes partially centered rewrites in their math.
    """
    a, b = model_lines(before), model_lines(after, plan=plan, original=before)
    return list(
        difflib.unified_diff(
            a, b, fromfile=names[0], tofile=names[1], n=max(len(a), len(b)), lineterm=""
        )
    )
