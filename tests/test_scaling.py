"""decenter's passes stay linear in the model's size: guarded by counts, never by wall time."""

import numpy as np
import pymc as pm
import pytensor
import pytest
from pymc.model.fgraph import ModelFreeRV, fgraph_from_model
from pytensor.graph import FunctionGraph
from pytensor.graph.fg import Output

import decenter
import decenter.core.graph
import decenter.core.rewrite
from decenter.bench.scaling import format_table, main, run, wide_model


def _free_names(model):
    return [v.name for v in model.free_RVs]


def test_one_graph_replacement_per_transform(monkeypatch):
    calls = []
    original = decenter.core.rewrite.toposort_replace

    def recording(fgraph, replacements, reverse=False):
        calls.append(list(replacements))
        return original(fgraph, replacements, reverse=reverse)

    monkeypatch.setattr(decenter.core.rewrite, "toposort_replace", recording)
    # strategy="noncentered": the default ("auto") also rewrites once for its Laplace fit
    new = decenter.transform(wide_model(6, size=3), strategy="noncentered")
    rewriting = [
        c for c in calls if any(v.owner and isinstance(v.owner.op, ModelFreeRV) for v, _ in c)
    ]
    # one replacement pass carries all six rewrites (before: one pass per rewritten variable)
    assert len(rewriting) == 1
    assert len(rewriting[0]) == 6
    assert [v.name for v in new.free_RVs if v.name.endswith("_offset")] == [
        f"b_{i}_offset" for i in range(6)
    ]


def _whole_graph_toposorts(monkeypatch, n):
    model = wide_model(n, size=3)
    n_named = len(model.named_vars)
    counts = []
    original = FunctionGraph.toposort

    def counting(self):
        if len(self.outputs) >= n_named:  # the model's graph, not a small helper graph
            counts.append(1)
        return original(self)

    monkeypatch.setattr(FunctionGraph, "toposort", counting)
    decenter.transform(model, strategy="noncentered")
    monkeypatch.undo()
    return len(counts)


def test_whole_graph_walks_do_not_grow_with_the_number_of_rewrites(monkeypatch):
    small, large = (_whole_graph_toposorts(monkeypatch, n) for n in (2, 8))
    assert small == large
    assert small <= 4  # to fgraph, the replacement, back to a model (PyMC sorts twice there)


def test_planning_reads_the_model_once(monkeypatch):
    built = []
    original = decenter.core.graph._Index.__init__

    def counting(self, model):
        built.append(model)
        original(self, model)

    monkeypatch.setattr(decenter.core.graph._Index, "__init__", counting)
    m = wide_model(7, size=3)
    p = decenter.plan(m)
    assert len(p.rewrites) == 7
    # one index for the 21 free variables' ancestry questions (the fit reads its helper
    # model's once more, for its independent parts)
    assert sum(b is m for b in built) == 1


def _model_of_every_kind():
    with pm.Model(coords={"g": range(4)}) as m:
        x = pm.Data("x", np.arange(4.0), dims="g")
        mu = pm.Normal("mu")
        tau = pm.HalfNormal("tau")
        b = pm.Normal("b", mu, tau, dims="g")
        pm.Deterministic("b2", 2 * b, dims="g")
        pm.Potential("pen", -(mu**2))
        pm.Normal("y", b * x, 1.0, observed=np.ones(4), dims="g")
    return m


def test_linear_fgraph_conversion_builds_pymcs_graph():
    m = _model_of_every_kind()
    ours, our_memo = decenter._pymc.fgraph_from_model(m)
    theirs, their_memo = fgraph_from_model(m)
    assert pytensor.dprint(ours, file="str") == pytensor.dprint(theirs, file="str")

    def named(memo):
        return {k.name: v.name for k, v in memo.items() if getattr(k, "name", None)}

    assert named(our_memo) == named(their_memo)


def test_linear_fgraph_conversion_makes_few_output_nodes(monkeypatch):
    made = []
    original = Output.make_node

    def counting(self, inp):
        made.append(1)
        return original(self, inp)

    monkeypatch.setattr(Output, "make_node", counting)
    model = wide_model(20, size=3)
    decenter._pymc.fgraph_from_model(model)
    # 80 named variables and 80 value variables start as outputs; each named one gets a
    # second Output node when wrapped in its ModelVar: 240. PyMC's version re-makes one per
    # later output each time a value output is removed: ~80^2 / 2 = 3200 more
    assert len(made) <= 2 * (len(model.named_vars) + len(model.rvs_to_values))


def test_single_pass_handles_chains_of_rewritten_variables():
    # a three-level chain where a child's location and scale read rewritten variables, with
    # partial centering (the child's standardized draw itself depends on its parent)
    with pm.Model(coords={"a": range(2), "b": range(4), "c": range(8)}) as m:
        tau = pm.HalfNormal("tau")
        top = pm.Normal("top", 0.0, tau, dims="a")
        mid = pm.Normal("mid", top[np.arange(4) % 2], tau, dims="b")
        low = pm.Normal("low", mid[np.arange(8) % 4], pm.math.exp(mid[np.arange(8) % 4] / 4))
        pm.Normal("y", low, 1.0, observed=np.linspace(-1, 1, 8))
    for strategy in ("noncentered", 0.5):
        new = decenter.transform(m, strategy=strategy)
        names = _free_names(new)
        assert len(names) == len(set(names)) == 4  # no duplicated parent
        # one name whatever the strategy (issue 18)
        assert names == ["tau", "top_offset", "mid_offset", "low_offset"]
        assert {"top", "mid", "low"} <= {v.name for v in new.deterministics}
        report = decenter.verify(m, new, random_seed=2, draws=300)
        assert report.ok, str(report)


def test_run_reports_growth_per_doubling():
    r = run([2, 4, 6], size=3, repeats=1, verify=False, logp_n=None, progressbar=False)
    rows = r["rows"]
    assert [row["n"] for row in rows] == [2, 4, 6]
    for prev, row in zip(rows, rows[1:], strict=False):
        ratio = row["transform"]["cpu"] / prev["transform"]["cpu"]
        expected = ratio ** (1 / np.log2(row["n"] / prev["n"]))
        assert row["growth_transform"] == pytest.approx(expected)
    assert "growth_transform" not in rows[0]
    assert format_table(r).count("\n| ") == 3  # one row per size


def test_main_rejects_bad_sizes(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--ns", "0"])
    assert exc.value.code == 2
    assert "positive" in capsys.readouterr().err


def test_each_timed_step_of_the_default_cost_starts_after_a_collection(monkeypatch):
    # a step must not pay for collecting the previous step's garbage (radon's compile took
    # 0.41-1.1 s collecting the fit's graphs, which made the default look 0.3-0.6x of it)
    from decenter.auto import defaultcost

    events: list[str] = []
    monkeypatch.setattr(defaultcost.gc, "collect", lambda: events.append("gc"))
    steps = {"a": lambda: events.append("a"), "b": lambda: events.append("b")}
    times = defaultcost._rounds(steps, 2)
    assert events == ["gc", "a", "gc", "b", "gc", "a", "gc", "b"]
    assert set(times) == {"a", "b"} and all(t >= 0 for t in times.values())
