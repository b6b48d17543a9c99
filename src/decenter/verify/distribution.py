"""The distribution check: prior draws of every original variable agree between the models.

Two-sample Kolmogorov-Smirnov tests on a few projections of each variable (free,
Deterministic, observed): a few elements, the mean and the standard deviation over elements,
with Holm's correction at family-wise level ``alpha``. Draws that are not finite (overflows)
are counted, not compared: see :func:`_pvalues`. Its false-alarm rate on equivalent pairs
is measured in ``docs/verification.md``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import stats

from decenter._pymc import compile_pymc, rvs_in_graph, vectorize_over_posterior
from decenter.report.render import plural
from decenter.verify._common import cause, mode, seed_of, value_of
from decenter.verify.report import Check

__all__ = ["distribution_tests", "prior_draws", "distribution"]

NAME = "distribution"


def _projections(
    name: str, a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """A few one-dimensional summaries of a variable's draws: elements, mean, sd."""
    shape = a.shape[1:]
    fa, fb = a.reshape(len(a), -1), b.reshape(len(b), -1)
    size = fa.shape[1]
    if size == 0:
        return []
    if size == 1:
        return [(name, fa[:, 0], fb[:, 0])]
    idx = sorted({0, size - 1, *([int(rng.integers(1, size - 1))] if size > 2 else [])})
    out = []
    for i in idx:
        label = ",".join(str(int(k)) for k in np.unravel_index(i, shape))
        out.append((f"{name}[{label}]", fa[:, i], fb[:, i]))
    out.append((f"mean({name})", fa.mean(axis=1), fb.mean(axis=1)))
    out.append((f"sd({name})", fa.std(axis=1), fb.std(axis=1)))
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p)
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def _ks_pvalue(pa: np.ndarray, pb: np.ndarray, var_scale: float) -> float | None:
    """KS between the finite draws of both models (None with fewer than 2 on a side)."""
    if len(pa) < 2 or len(pb) < 2:
        return None
    if np.ptp(np.concatenate([pa, pb])) <= 1e-9 * var_scale:
        # a constant (up to rounding) projection, e.g. the mean of a zero-sum variable
        return 1.0 if abs(np.median(pa) - np.median(pb)) <= 1e-6 * var_scale else 0.0
    method = "asymp" if min(len(pa), len(pb)) >= 100 else "auto"
    return float(stats.ks_2samp(pa, pb, method=method).pvalue)


def _pvalues(
    label: str, pa: np.ndarray, pb: np.ndarray, var_scale: float
) -> list[tuple[str, float]]:
    """The tests of one projection: KS on the finite draws and, when either model has draws
    that are not finite, Fisher's exact test of how often that happens.

    A draw that is not finite overflowed float64 (no distribution puts mass at infinity):
    ``InverseGamma(0.001, 0.001)`` gives ``inf`` half the time, and a variable scaled by it is
    then ``mu + inf * z = -inf or inf`` in one form and ``inf / inf = nan`` in an equivalent
    one, depending only on how the arithmetic is written. So its value is not compared; how
    often a draw overflows is, and the finite draws must agree in distribution.
    """
    fa, fb = np.isfinite(pa), np.isfinite(pb)
    out = []
    if not (fa.all() and fb.all()):
        table = [[int((~fa).sum()), int(fa.sum())], [int((~fb).sum()), int(fb.sum())]]
        out.append((f"{label} non-finite rate", float(stats.fisher_exact(table).pvalue)))
    p = _ks_pvalue(pa[fa], pb[fb], var_scale)
    if p is not None:
        out.append((label, p))
    return out


def _all_pvalues(draws_o, draws_c, rng) -> tuple[list[str], list[float], list[str]]:
    labels, pvals, skipped = [], [], []
    for name, a in draws_o.items():
        if name not in draws_c:
            continue
        a, b = np.asarray(a), np.asarray(draws_c[name])
        if a.shape[1:] != b.shape[1:]:
            skipped.append(name)
            continue
        a, b = a.astype(float, copy=False), b.astype(float, copy=False)
        var_scale = max(
            1.0,
            *(float(np.max(np.abs(x), where=np.isfinite(x), initial=0.0)) for x in (a, b)),
        )
        for label, pa, pb in _projections(name, a, b, rng):
            for test, p in _pvalues(label, pa, pb, var_scale):
                labels.append(test)
                pvals.append(p)
    return labels, pvals, skipped


def distribution_tests(
    draws_original: Mapping[str, np.ndarray],
    draws_candidate: Mapping[str, np.ndarray],
    *,
    alpha: float = 1e-3,
    random_seed: int | np.random.Generator | None = None,
) -> Check:
    """Two-sample KS tests of prior draws, per variable and projection, with Holm's correction.

    Parameters
    ----------
    draws_original, draws_candidate
        Draws by variable name, with the draws along the first axis. Names in both are tested.
    alpha
        Family-wise error rate: the probability that two samples of the same distribution are
        declared different (at most ``alpha``; lower in practice since the tests are dependent).
    random_seed
        Picks the random element tested besides the first and the last.

    Returns
    -------
    Check
        ``figure`` is the smallest Holm-adjusted p-value; ``details["tests"]`` lists them all.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(500, 3)), rng.normal(size=(500, 3))
    >>> distribution_tests({"x": a}, {"x": b}, random_seed=0).passed
    True
    >>> distribution_tests({"x": a}, {"x": 2 * b}, random_seed=0).details["rejected"][0]
    'sd(x)'
    """
    with np.errstate(invalid="ignore", over="ignore"):  # the mean of +-inf draws is nan
        labels, pvals, skipped = _all_pvalues(
            draws_original, draws_candidate, np.random.default_rng(random_seed)
        )
    if not pvals:
        return Check(NAME, True, None, "no variables to compare", details={"tests": {}})
    adj = _holm(np.asarray(pvals))
    rejected = sorted(
        ((lab, q) for lab, q in zip(labels, adj, strict=True) if q <= alpha), key=lambda t: t[1]
    )
    n = len(next(iter(draws_original.values())))
    details = {
        "alpha": alpha,
        "draws": n,
        "tests": dict(zip(labels, adj.tolist(), strict=True)),
        "skipped": skipped,
    }
    k = int(np.argmin(adj))
    if rejected:
        msg = (
            f"prior draws differ ({len(rejected)} of {len(labels)} KS tests rejected at family-wise "
            f"alpha={alpha:g}, Holm): "
            + ", ".join(f"{lab} (p={q:.2g})" for lab, q in rejected[:8])
            + (", ..." if len(rejected) > 8 else "")
        )
        details["rejected"] = [lab for lab, _ in rejected]
        return Check(NAME, False, float(adj[k]), msg, details=details)
    msg = (
        f"{plural(len(labels), 'KS test')} on {plural(n, 'prior draw')} per model agree "
        "(smallest Holm-adjusted "
        f"p={adj[k]:.2g} for {labels[k]}, family-wise alpha={alpha:g})"
    )
    if skipped:
        msg += f"; shapes differ, not compared: {', '.join(skipped)}"
    return Check(NAME, True, float(adj[k]), msg, details=details)


def _size_guess(model: pm.Model, name: str) -> int:
    """The number of elements of a variable, from its static shape or its dims, without
    compiling anything (an overestimate when unknown: it only bounds memory)."""
    var = model[name]
    shape = list(var.type.shape)
    dims = model.named_vars_to_dims.get(name) or ()
    for k, dim in enumerate(dims):
        if shape[k] is None and dim in model.dim_lengths:
            length = model.dim_lengths[dim]
            with contextlib.suppress(Exception):
                shape[k] = int(length.get_value() if hasattr(length, "get_value") else length.data)
    if var in model.observed_RVs:
        return int(np.size(value_of(model.rvs_to_values[var])))
    return int(np.prod([10_000 if s is None else s for s in shape]))


def _vectorized_draws(model, names, draws, random_seed, max_elements) -> list[np.ndarray]:
    outs = [model[n] for n in names]
    per_draw = max(1, sum(_size_guess(model, n) for n in names))
    chunk = max(1, min(draws, max_elements // per_draw))
    posterior = xr.Dataset(coords={"draw": np.arange(chunk)})
    # copies: an output that is itself a root random variable must still be resized
    copies = [pt.as_tensor(o).copy() for o in outs]
    vec = vectorize_over_posterior(copies, posterior, input_rvs=[], sample_dims=("draw",))
    fn = compile_pymc([], vec, random_seed=random_seed, mode=mode())
    parts: list[list[np.ndarray]] = [[] for _ in outs]
    for _ in range(-(-draws // chunk)):  # the random generators advance between calls
        for k, (out, v, x) in enumerate(zip(outs, vec, fn(), strict=True)):
            x = np.asarray(x)
            if v.type.ndim == out.type.ndim:
                if rvs_in_graph([out]):
                    raise ValueError(f"{out.name} was not vectorized")
                x = np.broadcast_to(x, (chunk, *x.shape))  # not random: the same every draw
            if x.shape[:1] != (chunk,) or x.ndim != out.type.ndim + 1:
                raise ValueError(f"vectorized draws of {out.name} have shape {x.shape}")
            parts[k].append(x)
    return [np.concatenate(p)[:draws] for p in parts]


def prior_draws(
    model: pm.Model,
    names: Sequence[str],
    draws: int,
    *,
    random_seed: int | None = None,
    max_elements: int = 2**23,
) -> list[np.ndarray]:
    """``draws`` independent prior (predictive) draws of the named variables, draws first.

    The graph is vectorized over a chunk of draws (PyMC's ``vectorize_over_posterior`` with no
    conditioning variables: every root random variable gets a leading batch dimension) and
    evaluated once per chunk, a chunk holding at most ``max_elements`` numbers. When the graph
    cannot be vectorized it falls back to :func:`pymc.draw`, one call per draw.

    Examples
    --------
    >>> from decenter.examples.eight_schools import centered_model
    >>> [d.shape for d in prior_draws(centered_model(), ["tau", "y"], 100, random_seed=0)]
    [(100,), (100, 8)]
    """
    try:
        return _vectorized_draws(model, names, draws, random_seed, max_elements)
    except Exception:  # the fast path failed: draw one at a time
        outs = [model[n] for n in names]
        return pm.draw(outs, draws=draws, random_seed=random_seed, mode=mode())


def _draw_both(original, candidate, names, draws, seeds) -> tuple[dict, dict, dict]:
    seed_o, seed_c = seeds
    try:
        d_o = prior_draws(original, names, draws, random_seed=seed_o)
        d_c = prior_draws(candidate, names, draws, random_seed=seed_c)
        return dict(zip(names, d_o, strict=True)), dict(zip(names, d_c, strict=True)), {}
    except Exception:  # e.g. a CustomDist without a random function: draw what can be drawn
        draws_o, draws_c, undrawable = {}, {}, {}
        for name in names:  # the tests are marginal: one variable at a time is enough
            try:
                draws_o[name] = prior_draws(original, [name], draws, random_seed=seed_o)[0]
                draws_c[name] = prior_draws(candidate, [name], draws, random_seed=seed_c)[0]
            except Exception as err:
                draws_o.pop(name, None)
                undrawable[name] = cause(err)[:120]
        return draws_o, draws_c, undrawable


def distribution(
    original: pm.Model,
    candidate: pm.Model,
    draws: int,
    alpha: float,
    ss: np.random.SeedSequence,
) -> Check:
    """Run the distribution check on every original variable the candidate also has."""
    every = [*original.free_RVs, *original.deterministics, *original.observed_RVs]
    names = [v.name for v in every if v.name in candidate.named_vars]
    missing = [v.name for v in every if v.name not in candidate.named_vars]
    s_o, s_c, s_t = ss.spawn(3)
    if not names:
        return Check(NAME, True, None, "no variables to compare")
    seeds = (seed_of(s_o), seed_of(s_c))
    draws_o, draws_c, undrawable = _draw_both(original, candidate, names, draws, seeds)
    if draws_o:
        check = distribution_tests(draws_o, draws_c, alpha=alpha, random_seed=seed_of(s_t))
    else:
        check = Check(NAME, True, None, "not run: no variable can be drawn")
    if missing:
        check.message += f"; not in the candidate, not compared: {', '.join(missing)}"
        check.details["missing"] = missing
    if undrawable:
        check.message += f"; cannot draw, not compared: {', '.join(undrawable)}"
        check.details["undrawable"] = undrawable
    return check
