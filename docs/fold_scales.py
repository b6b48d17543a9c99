"""Folded scales: hierarchical scales sampled on the whole line (issue 28's stretch).

    python docs/fold_scales.py OUT.json SUITE [SUITE ...]   # e.g. corpus-dev real:radon,rugby
    python docs/fold_scales.py --forms signed OUT2.json SUITE ...     # these forms only
    python docs/fold_scales.py --table OUT.json [OUT2.json ...]      # docs/benchmarks.md's table
    python docs/fold_scales.py --radon [SEEDS ...]                   # radon per draw, seeds 1-6
    python docs/fold_scales.py --criterion OUT.json OUT2.json         # gains by the fit's spread
    python docs/fold_scales.py --where ships warpbreaks               # where the folds diverge

An experiment, not a rewrite decenter makes (docs/benchmarks.md, "Radon's ESS per draw and
the scale's own map"). A scale ``s`` whose prior is finite and positive at 0 (HalfNormal,
HalfCauchy, HalfStudentT, Exponential) is sampled as ``s = |u|``, ``u`` on the whole line with
density ``p(|u|) / 2``: the same model and the same ``s`` in the trace, but a posterior that
piles up near ``s = 0`` is no longer a long left tail of ``log s``. The forms (``--forms``,
all but the last two by default):

* ``noncentered``: ``transform(model, strategy="noncentered")``;
* ``folded``: that model with the scales of its rewrites given the value transform
  :class:`Fold` (``|u|`` everywhere; PyMC's ``change_value_transforms``);
* ``signed``: ``s`` a Deterministic ``|u|`` of a new free variable ``{s}_signed`` and each
  product ``s * z`` of a standard Normal offset written ``u * z`` (:func:`fold_signed`: the
  same model since ``z`` is symmetric, and smooth through ``u = 0``);
* ``default``, ``default_signed``: the default's plan, and with ``signed`` applied to the
  scales whose every child the plan non-centers fully (a partially centered child's offset
  has scale ``s ** lam``, which brings a funnel back at ``u = 0``).

Each form is compiled once with nutpie and sampled at seeds 1-3, 4 chains x 500 draws after 500
tune, with the seed ``pm.sample`` gives nutpie (the corpus bench's settings: the
``noncentered`` rows reproduce docs/corpus_paired_*.json to the last digit); min bulk ESS
over the original free variables per gradient, and divergences. JSON lines in OUT.json.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import arviz as az
import numpy as np
import pytensor.tensor as pt
from pymc.logprob.transforms import Transform
from pymc.model.fgraph import (
    ModelFreeRV,
    fgraph_from_model,
    model_deterministic,
    model_free_rv,
    model_from_fgraph,
)
from pymc.model.transform.conditioning import change_value_transforms
from pytensor.scalar.basic import Mul
from pytensor.tensor.elemwise import DimShuffle

import decenter
from decenter.bench import _trace_stats, suite_models
from decenter.bench.prep import _compile, _sample_nutpie

FOLDABLE = ("halfnormal", "halfcauchy", "halfstudentt", "exponential")  # op names
SEEDS, DRAWS, TUNE, CHAINS = (1, 2, 3), 500, 500, 4
FORMS = ["noncentered", "folded", "signed"]


class Fold(Transform):
    """``s = |u|``: the value ``u`` on the whole line, density ``p(|u|) / 2`` (two to one)."""

    name = "fold"
    ndim_supp = 0

    def forward(self, value, *inputs):
        return value  # the positive one of the two preimages

    def backward(self, value, *inputs):
        return pt.abs(value)

    def log_jac_det(self, value, *inputs):
        return pt.zeros_like(value) - np.log(2.0)


def _symmetric(rv):
    """The symmetric distribution on the line whose density at ``u`` is half ``rv``'s at ``|u|``."""
    import pymc as pm

    op, params = rv.owner.op, rv.owner.op.dist_params(rv.owner)
    if op.name == "halfnormal":
        return pm.Normal.dist(0.0, params[1])
    if op.name == "halfcauchy":
        return pm.Cauchy.dist(0.0, params[0])
    if op.name == "halfstudentt":
        return pm.StudentT.dist(nu=params[0], mu=0.0, sigma=params[1])
    return pm.Laplace.dist(0.0, params[-1])  # exponential: its op's parameter is the scale


def _through_views(var):
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var


def _rebuild_views(view, base):
    """``view``'s chain of DimShuffles applied to ``base`` instead of the variable under it."""
    ops = []
    while view.owner is not None and isinstance(view.owner.op, DimShuffle):
        ops.append(view.owner.op)
        view = view.owner.inputs[0]
    for op in reversed(ops):
        base = op(base)
    return base


def fold_signed(nc, scales: list[str]):
    """``s = |u|`` with ``u`` a new free variable ``{s}_signed`` on the line, and each
    non-centered product ``s * z`` of a standard Normal offset ``z`` written ``u * z``: the same
    model (``z`` is symmetric), smooth through ``u = 0``."""
    fg, _ = fgraph_from_model(nc, inlined_views=True)
    nodes = {n.op.name: n for n in fg.apply_nodes if isinstance(n.op, ModelFreeRV)}
    offsets = {
        n.outputs[0] for n in nodes.values()
        if n.inputs[0].owner.op.name == "normal" and n.op.name.endswith("_offset")
    }  # fmt: skip
    for s in scales:
        node = nodes[s]
        u_rv = _symmetric(node.inputs[0])
        u = model_free_rv(u_rv, u_rv.type(name=f"{s}_signed"), None, f"{s}_signed")
        det = model_deterministic(pt.abs(u), s)
        fg.replace(node.outputs[0], det, import_missing=True)
        for mul in [n for n in fg.apply_nodes if isinstance(getattr(n.op, "scalar_op", None), Mul)]:
            ins = [_through_views(i) for i in mul.inputs]
            if len(ins) == 2 and det in ins and any(i in offsets for i in ins):
                k = ins.index(det)
                new_in = list(mul.inputs)
                new_in[k] = _rebuild_views(new_in[k], u)
                fg.replace(mul.outputs[0], mul.op(*new_in), import_missing=True)
    return model_from_fgraph(fg, mutate_fgraph=True)


def _family(rv) -> str:
    return getattr(rv.owner.op, "name", type(rv.owner.op).__name__)


def _foldable(model, names) -> list[str]:
    """The scales of ``names`` that are scalar free variables of a :data:`FOLDABLE` family."""
    return [
        s for s in names
        if s in model.named_vars and model[s] in model.free_RVs and model[s].ndim == 0
        and _family(model[s]) in FOLDABLE
    ]  # fmt: skip


def _all_noncentered(plan) -> list[str]:
    """The scales whose every hierarchical child the plan non-centers fully (a child partially
    centered or kept would bring a funnel back at ``u = 0``)."""
    children: dict[str, list[bool]] = {}
    for d in plan.decisions:
        nc = d.rewrite and (d.lam is None or bool(np.all(np.asarray(d.lam) == 0)))
        for scale in d.scale_parents:
            children.setdefault(scale, []).append(nc)
    return sorted(s for s, nc in children.items() if all(nc))


def run_model(name: str, fn) -> list[dict]:
    model = fn()
    original = [rv.name for rv in model.free_RVs]
    forms = {}
    if {"noncentered", "folded", "signed"} & set(FORMS):
        plan = decenter.plan(model, strategy="noncentered")
        nc = decenter.transform(model, plan=plan)
        scales = _foldable(nc, sorted({s for d in plan.rewrites for s in d.scale_parents}))
        forms["noncentered"] = scales, lambda: nc
        forms["folded"] = scales, lambda: change_value_transforms(nc, dict.fromkeys(scales, Fold()))
        forms["signed"] = scales, lambda: fold_signed(nc, scales)
    if {"default", "default_signed"} & set(FORMS):
        dplan = decenter.plan(model, progressbar=False)
        default = decenter.transform(model, plan=dplan)
        dscales = _foldable(default, _all_noncentered(dplan))
        forms["default"] = dscales, lambda: default
        forms["default_signed"] = dscales, lambda: fold_signed(default, dscales)
    rows = []
    for form in FORMS:
        scales, make = forms[form]
        if not scales:
            rows.append({"model": name, "form": form, "scales": [], "skipped": "no scale"})
            continue
        try:
            m = make()
        except NotImplementedError as e:  # PyMC's fgraph refuses models with initvals
            rows.append({"model": name, "form": form, "scales": scales, "skipped": str(e)})
            continue
        t0 = time.perf_counter()
        compiled = _compile(m, original)
        t_compile = time.perf_counter() - t0
        for seed in SEEDS:
            trace = _sample_nutpie(compiled, seed=seed, draws=DRAWS, tune=TUNE, chains=CHAINS)
            ess, rhat, grads, tune_grads, div = _trace_stats(trace, original, TUNE)
            rows.append(
                {"model": name, "form": form, "seed": seed, "scales": scales,
                 "ess_min": ess, "grads": grads, "ess_per_grad": ess / grads,
                 "divergences": div, "rhat_max": rhat, "compile_seconds": t_compile}
            )  # fmt: skip
    return rows


#: the default's rows of the corpus bench at these settings, later files overriding earlier
#: ones: the three sets at 371a3a7, then the ZeroSumNormal models since their default changed
#: (docs/benchmarks.md, "ZeroSumNormal partially centered with one lam")
PAIRED = ("docs/corpus_paired_dev.json", "docs/corpus_paired_heldout.json",
          "docs/corpus_paired_fresh.json", "docs/corpus_zsn_seeds123.json",
          "docs/corpus_zsn_fresh_seeds123.json")  # fmt: skip


def _default_rows() -> dict:
    """The default's ESS per gradient and divergences by (model, seed), from the corpus bench
    at the same seeds and settings (:data:`PAIRED`)."""
    out = {}
    for path in PAIRED:
        with open(path) as f:
            for r in json.load(f)["runs"]:
                if r["strategy"] == "auto":
                    out[(r["model"], r["seed"])] = r
    return out


#: (numerator, denominator) of the ratios the table shows
RATIOS = {
    "abs / NC": ("folded", "noncentered"),
    "signed / NC": ("signed", "noncentered"),
    "signed / default": ("signed", "paired default"),
    "default signed / default": ("default_signed", "default"),
}


def table(paths: list[str]) -> str:
    """One row per model: the median ESS per gradient of each form run, and the ratios."""
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f]
    paired = _default_rows()
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r["model"], []).append(r)
    forms = [f for f in [*FORMS, "default", "default_signed"] if any(r["form"] == f for r in rows)]
    forms.append("paired default")
    used = [k for k, (a, b) in RATIOS.items() if a in forms and b in forms]
    lines = [
        f"| model | set | ESS/grad x1000 {' / '.join(forms)} | {' | '.join(used)} | "
        f"divergences {' / '.join(forms)} |",
        "|---|---|---|" + "---|" * len(used) + "---|",
    ]
    ratios: dict[str, list] = {k: [] for k in used}
    for model, rs in by.items():
        done = [r for r in rs if not r.get("skipped")]
        if not any(r["form"] != "noncentered" for r in done):
            continue  # nothing folded here
        for seed in SEEDS:
            if (model, seed) in paired:
                done.append({**paired[(model, seed)], "form": "paired default"})
        med = {
            f: float(np.median([r["ess_per_grad"] for r in done if r["form"] == f]))
            for f in forms if any(r["form"] == f for r in done)
        }  # fmt: skip
        div = {f: sum(r["divergences"] for r in done if r["form"] == f) for f in med}
        cells = []
        for k in used:
            a, b = RATIOS[k]
            if a in med and b in med:
                ratios[k].append(med[a] / med[b])
                cells.append(f"{med[a] / med[b]:.2f}")
            else:
                cells.append("-")
        ess = " / ".join(f"{1000 * med[f]:.2f}" if f in med else "-" for f in forms)
        divs = " / ".join(str(div[f]) if f in div else "-" for f in forms)
        lines.append(
            f"| {model} | {done[0].get('suite', '')} | {ess} | {' | '.join(cells)} | {divs} |"
        )
    lines.append("")
    for k, rs in ratios.items():
        if rs:
            lines.append(
                f"{k}: {len(rs)} models, median {np.median(rs):.2f}, >= 1 on "
                f"{sum(r >= 1 for r in rs)}, >= 1.2 on {sum(r >= 1.2 for r in rs)}, <= 0.8 on "
                f"{sum(r <= 0.8 for r in rs)}"
            )
    return "\n".join(lines)


def radon(seeds: list[int]) -> str:
    """Radon's min ESS per draw (issue 28's stretch), as docs/radon_low_rank.py measures it:
    4 chains x 1000 draws after 1000 tune, ``nutpie.sample(seed=s)``, per draw of 4,000."""
    import nutpie

    from decenter.examples.radon import centered_model

    model = centered_model()
    names = [rv.name for rv in model.free_RVs]
    nc = decenter.transform(model, strategy="noncentered")
    scales = ["sigma_a", "sigma_b"]
    forms = {
        "noncentered": nc,
        "default": decenter.transform(model),
        "noncentered, scales folded (abs)": change_value_transforms(
            nc, dict.fromkeys(scales, Fold())
        ),
        "noncentered, scales folded (signed)": fold_signed(nc, scales),
    }
    lines = [
        "| form | min ESS per draw (seeds) | ESS/grad x1000 (median) | divergences | worst |",
        "|---|---|---|---|---|",
    ]
    for form, m in forms.items():
        compiled = nutpie.compile_pymc_model(m, var_names=names)
        per_draw, per_grad, div, worst = [], [], 0, set()
        for seed in seeds:
            trace = nutpie.sample(
                compiled, draws=1000, tune=1000, chains=4, seed=seed, progress_bar=False
            )
            by_var = az.ess(trace.posterior.to_dataset()[names], method="bulk")
            least = {n: float(np.nanmin(by_var[n].values)) for n in names}
            worst.add(min(least, key=least.get))
            ess, grads = min(least.values()), int(trace.sample_stats["n_steps"].sum())
            per_draw.append(ess / 4000)
            per_grad.append(1000 * ess / grads)
            div += int(np.asarray(trace.sample_stats["diverging"]).sum())
        lines.append(
            f"| {form} | {' / '.join(f'{v:.2f}' for v in per_draw)} | "
            f"{np.median(per_grad):.1f} | {div} | {', '.join(sorted(worst))} |"
        )
    return "\n".join(lines)


def criterion(paths: list[str], threshold: float = 0.6) -> str:
    """How far each model's scales reach toward 0 by the default's Laplace fit, against what
    the signed fold gained on the non-centered model: ``q = exp(-2 sd(log s))``, the fit's
    ``scale_used / scale_at_mode`` (the smallest over the model's variables), split at
    ``threshold`` (chosen on the development half), each set reported on its own."""
    from decenter.bench import suite_models as models_of

    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if '"skipped"' not in line]
    ess: dict[str, dict] = {}
    for r in rows:
        ess.setdefault(r["model"], {"suite": r["suite"]}).setdefault(r["form"], []).append(
            r["ess_per_grad"]
        )
    fns = {**models_of("corpus"), **models_of("corpus-fresh"), **models_of("real")}
    split: dict[tuple[str, bool], list[float]] = {}
    for name, d in ess.items():
        if "signed" not in d or "noncentered" not in d:
            continue
        fit = decenter.plan(fns[name](), progressbar=False).fit
        q = min(fit["scale_used"][k] / fit["scale_at_mode"][k] for k in fit["scale_used"])
        gain = float(np.median(d["signed"]) / np.median(d["noncentered"]))
        split.setdefault((d["suite"], bool(q < threshold)), []).append(gain)
    lines = [
        f"| set | q < {threshold}: models, median signed / NC, <= 0.8 | q >= {threshold}: models, "
        "median, <= 0.8 |",
        "|---|---|---|",
    ]
    for suite in dict.fromkeys(r["suite"] for r in rows):
        cells = []
        for low in (True, False):
            g = split.get((suite, low), [])
            cells.append(f"{len(g)}, {np.median(g):.2f}, {sum(x <= 0.8 for x in g)}" if g else "-")
        lines.append(f"| {suite} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def where(names: list[str]) -> str:
    """Where the divergences of the default with its folds sit: the watch's rank tests
    (:func:`decenter.diagnose.watch.rank_tests`) of the divergent draws against the log of each
    folded ``|u|`` and each other ``sigma*`` free variable, at small and at large values."""
    from decenter.diagnose.watch import rank_tests

    fns = {**suite_models("corpus"), **suite_models("corpus-fresh")}
    lines = []
    for name in names:
        model = fns[name]()
        original = [rv.name for rv in model.free_RVs]
        plan = decenter.plan(model, progressbar=False)
        default = decenter.transform(model, plan=plan)
        scales = _foldable(default, _all_noncentered(plan))
        signed = [f"{s}_signed" for s in scales]
        compiled = _compile(fold_signed(default, scales), original + signed)
        for seed in SEEDS:
            trace = _sample_nutpie(compiled, seed=seed, draws=DRAWS, tune=TUNE, chains=CHAINS)
            div = np.asarray(trace.sample_stats["diverging"].values, dtype=bool)
            post = trace.posterior
            logs = {s: np.log(np.abs(post[f"{s}_signed"].values)) for s in scales}
            logs |= {v: np.log(post[v].values) for v in original if v.startswith("sigma")}
            tests = {
                side: rank_tests(div, logs, larger=big)
                for side, big in (("small", False), ("large", True))
            }
            cells = [
                f"{k} {side} p = {t['p_value']:.2g}"
                for side, ts in tests.items() for k, t in ts.items() if t["p_value"] < 0.01
            ]  # fmt: skip
            lines.append(f"{name} seed {seed}: {int(div.sum())} divergences; {'; '.join(cells)}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[0] == "--table":
        print(table(argv[1:]))
        return
    if argv[0] == "--criterion":
        warnings.filterwarnings("ignore")
        print(criterion(argv[1:]))
        return
    if argv[0] == "--where":
        warnings.filterwarnings("ignore")
        print(where(argv[1:]))
        return
    if argv[0] == "--radon":
        warnings.filterwarnings("ignore")
        print(radon([int(s) for s in argv[1:]] or [1, 2, 3, 4, 5, 6]))
        return
    warnings.filterwarnings("ignore")
    if argv[0] == "--forms":  # e.g. --forms signed: only that form (others in another file)
        FORMS[:] = argv[1].split(",")
        argv = argv[2:]
    out, suites = argv[0], argv[1:]
    with open(out, "a") as f:
        for suite in suites:
            suite, _, only = suite.partition(":")  # "real:radon,eight_schools": those only
            models = suite_models(suite)
            for name in only.split(",") if only else models:
                fn = models[name]
                for row in run_model(name, fn):
                    f.write(json.dumps({"suite": suite, **row}) + "\n")
                    f.flush()
                print(name, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
