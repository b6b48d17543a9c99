"""Every table decenter shows, drawn by one renderer (rich): on a terminal, as plain text for
``str(...)`` and pipes, and as Markdown for docs/benchmarks.md; in Jupyter, the same tables
as HTML and pandas DataFrames are drawn by :mod:`decenter.report.notebook` beside it.

The report objects compute (:mod:`decenter.compare`, :mod:`decenter.plan`,
:mod:`decenter.bench`); this module only draws them.

Examples
--------
>>> from decenter.report.render import table_text
>>> print(table_text(["model", "ESS"], [["radon", "812"], ["eight_schools", "95"]]))
model           ESS
───────────────────
radon           812
eight_schools    95
>>> print(table_text(["model", "ESS"], [["radon", "812"]], markdown=True))
| model | ESS |
|-------|-----|
| radon | 812 |
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "console",
    "print_table",
    "make_table",
    "table_text",
    "plan_table",
    "print_plan",
    "comparison_tables",
    "print_comparison",
    "comparison_text",
    "plural",
]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the word in the number it takes: "1 divergence", "3 divergences", "0 points".

    Examples
    --------
    >>> plural(1, "point"), plural(2, "point"), plural(1000, "draw"), plural(2, "child", "children")
    ('1 point', '2 points', '1000 draws', '2 children')
    """
    return f"{n} {word if n == 1 else many or word + 's'}"


def console(stderr: bool = False):
    """A rich Console on stdout (or stderr); piped output is not cut at 80 columns."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", 0) or 120)
    return Console(file=stream, width=width, highlight=False, soft_wrap=True)


def make_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[int] = (),
    markdown: bool = False,
):
    """A rich Table; columns whose index is in ``right`` (or that hold numbers) align right."""
    from rich.box import MARKDOWN, SIMPLE_HEAD
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=MARKDOWN if markdown else SIMPLE_HEAD,
        show_edge=markdown,
        header_style="" if markdown else "bold",
        pad_edge=markdown,
    )
    numeric = set(right) | {
        i for i in range(len(header)) if rows and all(_is_number(r[i]) for r in rows)
    }
    for i, col in enumerate(header):
        table.add_column(col, justify="right" if i in numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(c if isinstance(c, Text) else Text(str(c)) for c in row))
    return table


def _is_number(cell: Any) -> bool:
    text = str(cell).replace(",", "").split(" ")[0]
    try:
        float(text)
    except ValueError:
        return False
    return True


def _plain(renderable) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=10_000, color_system=None, highlight=False).print(renderable)
    lines = [line.rstrip() for line in buf.getvalue().splitlines()]
    return "\n".join(lines).strip("\n")


def table_text(header, rows, *, right: Sequence[int] = (), markdown: bool = False) -> str:
    """The table as plain text (or Markdown), without colours or trailing spaces."""
    return _plain(make_table(header, rows, right=right, markdown=markdown))


def print_table(con, table) -> None:
    """Print a rich table; piped output loses the padding at the end of each line."""
    if con.is_terminal:
        con.print(table)
        return
    with con.capture() as cap:
        con.print(table)
    con.file.write("\n".join(line.rstrip() for line in cap.get().splitlines()) + "\n")


# --- the plan ---------------------------------------------------------------------------------

PLAN_COLUMNS = ("variable", "family", "action", "lam", "new variable", "reason")


def plan_table(plan):
    """The plan's decisions, one row each; rewritten variables in green."""
    from rich.text import Text

    rows = [
        [
            d.name,
            d.family,
            Text(d.action, style="bold green" if d.rewrite else "dim"),
            d.lam_summary(),
            d.new_name or "",
            d.reason,
        ]
        for d in plan.decisions
    ]
    return make_table(PLAN_COLUMNS, rows, right=())


def print_plan(con, plan) -> None:
    from rich.text import Text

    print_table(con, plan_table(plan))
    n = len(plan.rewrites)
    con.print(
        Text(f"{n} of {len(plan.decisions)} free variables rewritten (strategy={plan.strategy!r}).")
    )
    for note in [*getattr(plan, "guard_notes", []), *plan.notes]:
        con.print(Text(note))


# --- a comparison -----------------------------------------------------------------------------


def comparison_tables(cmp) -> tuple[Any, Any]:
    """The summary table (statistic, original, transformed) and the per-variable table."""
    from rich.text import Text

    rows = []
    for i, (k, a, b) in enumerate(cmp.rows()):
        if i == 0:  # the status row, coloured
            a, b = (Text(s, style="green" if s == "ok" else "bold red") for s in (a, b))
        rows.append([k, a, b])
    summary = make_table(["", "original", "transformed"], rows, right=(1, 2))
    per_var = make_table(
        ["variable", "bulk ESS", "tail ESS", "R-hat"], cmp.var_rows(), right=(1, 2, 3)
    )
    return summary, per_var


def _verdict_lines(cmp) -> list:
    from rich.text import Text

    color = {"better": "bold green", "worse": "bold red"}.get(cmp.verdict, "bold")
    return [
        Text(f"posteriors: {cmp.agreement}"),
        Text("verdict: ")
        + Text(cmp.verdict, style=color)
        + Text(f": {cmp.why}" if cmp.why else ""),
        *(Text(f"  - {r}") for r in cmp.reasons),
    ]


def print_comparison(con, cmp) -> None:
    summary, per_var = comparison_tables(cmp)
    print_table(con, summary)
    con.print()
    print_table(con, per_var)
    con.print()
    for line in _verdict_lines(cmp):
        con.print(line)


def comparison_text(cmp) -> str:
    """``str(comparison)``: the settings, both tables and the verdict, as plain text."""
    s = cmp.settings
    head = (
        f"sampler={cmp.original.sampler}, chains={s['chains']}, draws={s['draws']}, "
        f"tune={s['tune']}, random_seed={s['random_seed']}"
    )
    summary, per_var = comparison_tables(cmp)
    parts = [head, "", _plain(summary), "", _plain(per_var), ""]
    parts += [line.plain for line in _verdict_lines(cmp)]
    return "\n".join(parts)
