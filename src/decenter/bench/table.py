"""The benchmark's table: medians and ratios over seeds, the issue-12 targets, Markdown.

Pure functions of :func:`decenter.bench.run_one`'s results (plain dicts); re-exported by
:mod:`decenter.bench`, where users import them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["summarize", "targets", "format_table"]

_KEYS = ("ess_min", "ess_per_grad", "ess_per_grad_total", "ess_per_s", "divergences")
_KEYS += ("rhat_max", "seconds")


def summarize(results: Sequence[dict]) -> list[dict]:
    """Median and range over seeds per (model, strategy), with ratios to the fixed forms.

    Every row has the median and ``_range`` of each metric and ``divergences_total`` (sum over
    seeds). Rows of a model that has centered and non-centered runs also get ``best`` (the
    better fixed form by ESS/grad), ``vs_best`` (ESS/grad ratio), ``vs_original`` (ESS/grad
    ratio to centered), ``ess_per_s_vs_best`` (ESS/s ratio), ``seconds_vs_noncentered`` (wall
    ratio) and ``extra_divergences`` (total over seeds minus the better fixed form's).
    """
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["model"], r["strategy"]), []).append(r)
    rows = []
    for (model, strategy), rs in groups.items():
        row = {"model": model, "strategy": strategy, "n": len(rs)}
        for key in _KEYS:
            vals = np.array([r[key] for r in rs], dtype=float)
            row[key] = float(np.median(vals))
            row[key + "_range"] = (float(vals.min()), float(vals.max()))
        row["divergences_total"] = int(sum(r["divergences"] for r in rs))
        rows.append(row)
    by = {(r["model"], r["strategy"]): r for r in rows}
    for row in rows:
        c, nc = by.get((row["model"], "centered")), by.get((row["model"], "noncentered"))
        if c and nc:
            best = max(c, nc, key=lambda r: r["ess_per_grad"])
            row["best"] = best["strategy"]
            row["vs_best"] = row["ess_per_grad"] / best["ess_per_grad"]
            row["vs_original"] = row["ess_per_grad"] / c["ess_per_grad"]
            row["ess_per_s_vs_best"] = row["ess_per_s"] / max(c["ess_per_s"], nc["ess_per_s"])
            row["seconds_vs_noncentered"] = row["seconds"] / nc["seconds"]
            row["extra_divergences"] = row["divergences_total"] - best["divergences_total"]
    return rows


def targets(rows: Sequence[dict], large: Sequence[str] = ("chem97",)) -> list[dict]:
    """The issue-12 targets per model, as plain data (``None`` where a run is missing).

    * ``default_vs_original`` >= 0.9 and ``default_vs_best`` >= 0.8 (median ESS/grad);
    * ``default_extra_divergences`` <= 5 (total over seeds, vs. the better fixed form);
    * small models: ``auto_seconds_vs_nc`` <= 1.6 (end-to-end wall, vs. non-centered);
    * large models: ``auto_ess_per_s_vs_best`` >= 2.
    """
    by = {(r["model"], r["strategy"]): r for r in rows}
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        d, a = by.get((model, "default"), {}), by.get((model, "auto"), {})
        t = {
            "model": model,
            "default_vs_original": d.get("vs_original"),
            "default_vs_best": d.get("vs_best"),
            "default_extra_divergences": d.get("extra_divergences"),
            "auto_vs_best": a.get("vs_best"),
            "auto_seconds_vs_nc": a.get("seconds_vs_noncentered"),
            "auto_ess_per_s_vs_best": a.get("ess_per_s_vs_best"),
        }
        ok = [
            _at_least(t["default_vs_original"], 0.9),
            _at_least(t["default_vs_best"], 0.8),
            None if t["default_extra_divergences"] is None else t["default_extra_divergences"] <= 5,
        ]
        if model in large:
            ok.append(_at_least(t["auto_ess_per_s_vs_best"], 2.0))
        else:
            sec = t["auto_seconds_vs_nc"]
            ok.append(None if sec is None else sec <= 1.6)
        t["met"] = None if None in ok else all(ok)
        out.append(t)
    return out


def _at_least(value, threshold):
    return None if value is None else value >= threshold


def format_table(rows: Sequence[dict]) -> str:
    """A Markdown table of :func:`summarize` rows (drawn by :mod:`decenter.report.render`)."""
    from decenter.report.render import table_text

    head = [
        "model",
        "strategy",
        "ESS/grad x1000 (range)",
        "x best of C/NC",
        "ESS/grad incl. tune+pilot x1000",
        "ESS/s (range)",
        "seconds",
        "divergences (max)",
        "max R-hat",
    ]
    body = []
    for r in rows:
        lo, hi = r["ess_per_grad_range"]
        slo, shi = r["ess_per_s_range"]
        body.append(
            [
                r["model"],
                r["strategy"],
                f"{1000 * r['ess_per_grad']:.1f} ({1000 * lo:.1f}-{1000 * hi:.1f})",
                f"{r['vs_best']:.2f}" if "vs_best" in r else "",
                f"{1000 * r['ess_per_grad_total']:.1f}",
                f"{r['ess_per_s']:.0f} ({slo:.0f}-{shi:.0f})",
                f"{r['seconds']:.1f}",
                f"{r['divergences']:.0f} ({r['divergences_range'][1]:.0f})",
                f"{r['rhat_max']:.3f}",
            ]
        )
    return table_text(head, body, markdown=True)
