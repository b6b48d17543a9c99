"""decenter in Jupyter (issue 30): ``_repr_html_`` of a plan, a verification report and a
comparison, and their ``to_dataframe()``. No sampling: the comparison is built from synthetic
draws, as in tests/test_compare.py."""

from __future__ import annotations

import dataclasses
import html
import math
from html.parser import HTMLParser

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest

import decenter
from decenter.diagnose.compare import Comparison, _agreement, _verdict, summarize_run
from decenter.verify import Check, VerificationReport
from decenter.verify.report import unchecked


class Tables(HTMLParser):
    """The text of every cell of every table, row by row; tags outside cells are counted."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None
        self.open: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag not in ("br",):
            self.open.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        assert self.open.pop() == tag, f"</{tag}> closes another element"
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def weird_model() -> pm.Model:
    """Names with HTML in them: every one must come out escaped."""
    with pm.Model() as m:
        mu = pm.Normal("mu<b>", 0, 1)
        sigma = pm.HalfNormal("s&<i>", 1)
        pm.Normal("theta<script>", mu, sigma, shape=3)
        pm.Normal("c", 0, 1)
    return m


def test_plan_html_has_a_row_per_variable_with_its_reason_escaped():
    p = decenter.plan(weird_model(), strategy=0.3)
    out = p._repr_html_()
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out
    assert "theta&lt;script&gt;" in out and "s&amp;&lt;i&gt;" in out
    (table,) = Tables(out).tables
    assert table[0] == ["variable", "family", "action", "lam", "new variable", "reason"]
    expected = [
        [d.name, d.family, d.action, d.lam_summary(), d.new_name or "", d.reason]
        for d in p.decisions
    ]
    assert table[1:] == expected
    rewritten = p["theta<script>"]
    assert rewritten.reason == "scale depends on free variable s&<i>"
    assert rewritten.lam_summary() == "0.3" and rewritten.new_name == "theta<script>_offset"
    assert "1 of 4 free variables rewritten (strategy=&#x27;partial&#x27;)." in out


def test_plan_to_dataframe_matches_the_decisions():
    p = decenter.plan(weird_model(), strategy={"theta<script>": [0.0, 0.5, 1.0]})
    df = p.to_dataframe()
    assert df.index.name == "variable"
    assert list(df.columns) == ["family", "action", "lam", "new_name", "reason"]
    assert list(df.index) == [d.name for d in p.decisions]
    for d in p.decisions:
        row = df.loc[d.name]
        assert (row["family"], row["action"], row["lam"], row["reason"]) == (
            d.family,
            d.action,
            d.lam_summary(),
            d.reason,
        )
        assert row["new_name"] == d.new_name if d.rewrite else pd.isna(row["new_name"])
    assert df.loc["theta<script>", "lam"] == "0.00..1.00 (median 0.50)"
    assert df.loc["c", "action"] == "keep" and pd.isna(df.loc["c", "new_name"])
    assert (df["action"] == "rewrite").sum() == len(p.rewrites) == 1


def test_verification_report_html():
    checks = [
        Check("structure", True, 0.0, "3 free variables kept by name"),
        Check("change_of_variables", False, 1.5, "not constant for <b>\nthe difference varies"),
        unchecked("distribution", "could not check: ValueError: x < 0"),
    ]
    checks[1].seconds = 2.25
    report = VerificationReport(checks)
    out = report._repr_html_()
    assert "<b>" not in out and "not constant for &lt;b&gt;" in out and "x &lt; 0" in out
    assert "decenter.verify: NOT equivalent (change_of_variables failed)" in out
    (table,) = Tables(out).tables
    assert table == [
        ["check", "status", "seconds", "message"],
        ["structure", "pass", "0.0", "3 free variables kept by name"],
        ["change_of_variables", "FAIL", "2.2", "not constant for <b>\nthe difference varies"],
        ["distribution", "skip", "0.0", "could not check: ValueError: x < 0"],
    ]
    ok = VerificationReport([checks[0]])._repr_html_()
    assert "decenter.verify: equivalent" in ok and "#1a7f37" in ok  # green


C, D = 4, 500


def _idata(seed: int, shift: float = 0.0):
    rng = np.random.default_rng(seed)
    post = {"mu": rng.normal(shift, 1, (C, D)), "theta": rng.normal(0, 1, (C, D, 3))}
    stats = {
        "diverging": np.zeros((C, D), bool),
        "energy": rng.normal(0, 1, (C, D)),
        "n_steps": np.full((C, D), 7),
    }
    return az.from_dict(
        {"posterior": post, "sample_stats": stats},
        dims={"theta": ["g"]},
        coords={"g": ["x", "y<z>", "w"]},
    )


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    names = ["mu", "theta"]
    o = summarize_run(_idata(0), names, label="original", wall_time=3.0)
    t = summarize_run(_idata(1, shift=1.0), names, label="transformed", wall_time=2.0)
    o.sampling_time, o.ess_per_second = None, None  # a sampler that does not report it
    agreement = _agreement(o, t, names)
    verdict, why, reasons = _verdict(o, t, agreement)
    settings = {"chains": C, "draws": D, "tune": 0, "random_seed": 1}
    return Comparison(o, t, names, agreement, verdict, reasons, settings, why=why)


def test_comparison_to_dataframe_by_statistic(comparison):
    df = comparison.to_dataframe()
    assert df.index.name == "statistic" and list(df.columns) == ["original", "transformed"]
    for stat in df.index:
        for model in df.columns:
            value = getattr(getattr(comparison, model), stat)
            if value is None:
                assert math.isnan(df.loc[stat, model])
            else:
                assert df.loc[stat, model] == value
    assert df.loc["grad_evals", "original"] == C * D * 7
    assert math.isnan(df.loc["ess_per_second", "original"])
    assert df.loc["min_ess_bulk", "transformed"] == comparison.transformed.min_ess_bulk
    assert df.dtypes.tolist() == [np.float64, np.float64]


def test_comparison_to_dataframe_by_variable(comparison):
    df = comparison.to_dataframe("variable")
    assert df.index.names == ["variable", "model"]
    assert list(df.columns) == ["ess_bulk", "ess_tail", "rhat"]
    assert len(df) == 2 * len(comparison.var_names)
    for (name, model), row in df.iterrows():
        assert row.to_dict() == getattr(comparison, model).per_var[name]
    wide = df.unstack("model")
    assert (
        wide.loc["theta", ("rhat", "transformed")]
        == comparison.transformed.per_var["theta"]["rhat"]
    )
    with pytest.raises(ValueError, match="by must be 'statistic' or 'variable'"):
        comparison.to_dataframe("element")


def test_comparison_html(comparison):
    out = comparison._repr_html_()
    summary, per_var = Tables(out).tables
    assert summary[1:] == [list(r) for r in comparison.rows()]
    assert per_var[1:] == [list(r) for r in comparison.var_rows()]
    assert [r[0] for r in per_var[1:]] == ["mu", "theta"]
    assert f">{comparison.verdict}</b>" in out
    assert any("posteriors disagree" in r for r in comparison.reasons)
    for r in comparison.reasons:
        assert f"<li>{html.escape(r)}</li>" in out
    assert f"posteriors: {html.escape(str(comparison.agreement))}" in out
    assert f"sampler={comparison.original.sampler}, chains={C}, draws={D}" in out


def test_comparison_html_escapes(comparison):
    # an element label holds a coordinate "y<z>": it must come out escaped
    c = dataclasses.replace(comparison, reasons=["worst at theta[y<z>]"])
    out = c._repr_html_()
    assert "<z>" not in out and "theta[y&lt;z&gt;]" in out
