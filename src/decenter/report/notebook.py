"""The tables of :mod:`decenter.report.render` for Jupyter: HTML and pandas DataFrames.

The ``_repr_html_`` of a :class:`~decenter.core.plan.Plan`, a
:class:`~decenter.verify.VerificationReport` and a :class:`~decenter.diagnose.compare.Comparison`, and
their ``to_dataframe()``, call these functions; the objects compute, this module only draws.
The HTML is plain tables with inline styles (no CSS classes, no scripts), so they look the same
in JupyterLab, VS Code and a saved notebook; every text is escaped.

Examples
--------
>>> from decenter import plan
>>> from decenter.examples.eight_schools import centered_model
>>> p = plan(centered_model())
>>> "theta_offset" in plan_html(p)
True
>>> plan_frame(p).loc["theta", "action"]
'rewrite'
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from decenter.report.render import PLAN_COLUMNS, _is_number

__all__ = [
    "html_table",
    "plan_html",
    "plan_frame",
    "report_html",
    "comparison_html",
    "comparison_frame",
    "STATISTICS",
]

# Jupyter's own stylesheet right-aligns cells: text columns say text-align: left.

GREEN, RED, ORANGE, GREY = "#1a7f37", "#cf222e", "#9a6700", "#6e7781"
_CELL = "padding: 2px 10px; vertical-align: top; white-space: pre-wrap; text-align: {}"


def _cell(tag: str, cell: Any, align: str) -> str:
    """One cell; a ``(text, css)`` pair adds a style (a colour) to it."""
    text, css = cell if isinstance(cell, tuple) else (cell, "")
    style = _CELL.format(align) + (f"; {css}" if css else "")
    return f'<{tag} style="{style}">{html.escape(str(text))}</{tag}>'


def html_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[int] = (),
    caption: str = "",
) -> str:
    """A ``<table>`` with every text escaped; numeric columns (or those in ``right``) align right.

    A cell is its text, or a ``(text, css)`` pair to style it.

    Examples
    --------
    >>> out = html_table(["variable", "ESS"], [["b<1>", 812], [("a", "color: red"), 95]])
    >>> "b&lt;1&gt;" in out and "<b<1>" not in out
    True
    >>> out.count("<tr>"), "text-align: right" in out
    (3, True)
    """

    def text(c: Any) -> Any:
        return c[0] if isinstance(c, tuple) else c

    numeric = set(right) | {
        i for i in range(len(header)) if rows and all(_is_number(text(r[i])) for r in rows)
    }
    align = ["right" if i in numeric else "left" for i in range(len(header))]
    head = "".join(_cell("th", h, a) for h, a in zip(header, align, strict=True))
    body = "".join(
        "<tr>" + "".join(_cell("td", c, a) for c, a in zip(row, align, strict=True)) + "</tr>"
        for row in rows
    )
    cap = (
        f'<caption style="caption-side: top; text-align: left; padding: 4px 0">'
        f"{html.escape(caption)}</caption>"
        if caption
        else ""
    )
    return (
        f'<table style="border-collapse: collapse">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _lines_html(lines: Sequence[str]) -> str:
    return "".join(
        f'<p style="margin: 2px 0; white-space: pre-wrap">{html.escape(s)}</p>' for s in lines
    )


def plan_html(plan) -> str:
    """The plan as in :func:`plan_table`: a row per free variable, rewrites in green, the count
    and the notes below."""
    rows = [
        [
            d.name,
            d.family,
            (d.action, f"color: {GREEN}; font-weight: bold" if d.rewrite else f"color: {GREY}"),
            d.lam_summary(),
            d.new_name or "",
            d.reason,
        ]
        for d in plan.decisions
    ]
    n = len(plan.rewrites)
    lines = [f"{n} of {len(plan.decisions)} free variables rewritten (strategy={plan.strategy!r})."]
    table = html_table(PLAN_COLUMNS, rows, right=(), caption="decenter plan")
    return f"<div>{table}{_lines_html([*lines, *plan.notes])}</div>"


def plan_frame(plan):
    """The plan as a pandas DataFrame: one row per free variable, indexed by ``variable``.

    Columns: ``family`` (PyMC's distribution), ``action`` (``"rewrite"`` or ``"keep"``),
    ``lam`` (the degree of centering as in the printed table: ``"0"`` non-centered, ``"1"``
    centered, a range over the elements, ``"-"`` for a variable that is not hierarchical),
    ``new_name`` (the new free variable, missing when kept) and ``reason``.

    Examples
    --------
    >>> from decenter import plan
    >>> from decenter.examples.radon import centered_model
    >>> df = plan_frame(plan(centered_model()))
    >>> list(df.columns)
    ['family', 'action', 'lam', 'new_name', 'reason']
    >>> df.loc["b", ["action", "new_name"]].tolist()
    ['rewrite', 'b_offset']
    """
    import pandas as pd

    rows = [
        {
            "variable": d.name,
            "family": d.family,
            "action": d.action,
            "lam": d.lam_summary(),
            "new_name": d.new_name,
            "reason": d.reason,
        }
        for d in plan.decisions
    ]
    columns = ["variable", "family", "action", "lam", "new_name", "reason"]
    return pd.DataFrame(rows, columns=columns).set_index("variable")


_STATUS_CSS = {"pass": f"color: {GREEN}", "fail": f"color: {RED}; font-weight: bold"}


def report_html(report) -> str:
    """A verification report: the verdict, then a row per check (status, seconds, message)."""
    mark = {"pass": "pass", "fail": "FAIL"}
    rows = [
        [
            c.name,
            (mark.get(c.status, "skip"), _STATUS_CSS.get(c.status, f"color: {ORANGE}")),
            f"{c.seconds:.1f}",
            c.message,
        ]
        for c in report.checks
    ]
    head = str(report).splitlines()[0]
    color = {"equivalent": GREEN, "not equivalent": RED}.get(report.verdict, ORANGE)
    verdict = f'<p style="margin: 2px 0; color: {color}; font-weight: bold">{html.escape(head)}</p>'
    table = html_table(["check", "status", "seconds", "message"], rows, right=(2,))
    return f"<div>{verdict}{table}</div>"


def comparison_html(cmp) -> str:
    """A comparison: the settings, the summary and per-variable tables, and the verdict."""
    s = cmp.settings
    head = (
        f"sampler={cmp.original.sampler}, chains={s.get('chains')}, draws={s.get('draws')}, "
        f"tune={s.get('tune')}, random_seed={s.get('random_seed')}"
    )
    rows = []
    for i, (k, a, b) in enumerate(cmp.rows()):
        if i == 0:  # the status row, coloured
            a, b = ((x, f"color: {GREEN if x == 'ok' else RED}") for x in (a, b))
        rows.append([k, a, b])
    summary = html_table(["", "original", "transformed"], rows, right=(1, 2), caption=head)
    per_var = html_table(
        ["variable", "bulk ESS", "tail ESS", "R-hat"], cmp.var_rows(), right=(1, 2, 3)
    )
    color = {"better": GREEN, "worse": RED}.get(cmp.verdict, "inherit")
    verdict = (
        f'<p style="margin: 2px 0">verdict: <b style="color: {color}">'
        f"{html.escape(cmp.verdict)}</b>"
        + (f": {html.escape(cmp.why)}" if cmp.why else "")
        + "</p>"
    )
    lines = _lines_html([f"posteriors: {cmp.agreement}"])
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in cmp.reasons)
    return f"<div>{summary}<br>{per_var}{lines}{verdict}<ul>{reasons}</ul></div>"


#: The rows of ``Comparison.to_dataframe()``: RunSummary fields, in the printed order.
STATISTICS = (
    "divergences",
    "max_rhat",
    "min_ess_bulk",
    "min_ess_tail",
    "min_bfmi",
    "grad_evals",
    "ess_per_grad",
    "sampling_time",
    "ess_per_second",
    "wall_time",
)


def comparison_frame(cmp, by: str = "statistic"):
    """A comparison's numbers as a pandas DataFrame (see ``Comparison.to_dataframe``)."""
    import pandas as pd

    runs = {"original": cmp.original, "transformed": cmp.transformed}
    if by == "statistic":
        data = {
            label: [_number(getattr(run, k)) for k in STATISTICS] for label, run in runs.items()
        }
        return pd.DataFrame(data, index=pd.Index(STATISTICS, name="statistic"))
    if by == "variable":
        rows = [
            {"variable": n, "model": label, **_per_var(run, n)}
            for n in cmp.var_names
            for label, run in runs.items()
        ]
        columns = ["variable", "model", "ess_bulk", "ess_tail", "rhat"]
        return pd.DataFrame(rows, columns=columns).set_index(["variable", "model"])
    raise ValueError(f"by must be 'statistic' or 'variable', got {by!r}")


def _number(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _per_var(run, name: str) -> dict[str, float]:
    stats = run.per_var.get(name, {})
    return {k: _number(stats.get(k)) for k in ("ess_bulk", "ess_tail", "rhat")}
