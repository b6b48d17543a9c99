"""Two runs side by side: do their posteriors agree, and is the transformed one better?

The agreement test and the verdict of :func:`decenter.diagnose.compare.compare`; :class:`Agreement` is
re-exported by :mod:`decenter.compare`, where users import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from decenter.diagnose.summary import RHAT_MAX, RunSummary, _element_label, _fmt, _fmt_vs
from decenter.report.render import plural
from decenter.util.jsonable import jsonable

__all__ = ["Agreement"]

# Familywise error rate of the posterior agreement test (Bonferroni over all elements).
AGREEMENT_ALPHA = 0.01
# A ratio of efficiencies within [1 / EFFICIENCY_MARGIN, EFFICIENCY_MARGIN] counts as similar.
EFFICIENCY_MARGIN = 1.25
# Of two runs that did not converge, one is clearly closer when its min bulk ESS is this factor
# larger, or its R-hat this factor nearer 1 (ESS and R-hat of a stuck run are rough: a wide margin).
CONVERGENCE_MARGIN = 1.5
# Of two runs equal on convergence, one with fewer than half the other's divergences wins.
DIVERGENCE_MARGIN = 2.0


@dataclass
class Agreement:
    """Do the two posteriors agree? Largest z-score of the differences of means and sds.

    ``z = (a - b) / sqrt(mcse_a**2 + mcse_b**2)`` for the posterior mean and sd of every
    element; the posteriors agree when ``max |z|`` stays under the Bonferroni threshold for a
    familywise error rate of 1 %. Only judged (``agree`` not None) when both runs converged.
    """

    agree: bool | None
    max_z: float
    where: str
    threshold: float
    n_tests: int
    reason: str

    def to_dict(self) -> dict:
        return {k: jsonable(v) for k, v in self.__dict__.items()}

    def __str__(self) -> str:
        if not self.n_tests:
            return f"not compared: {self.reason}"
        verdict = {True: "agree", False: "DISAGREE", None: "not judged"}[self.agree]
        s = f"{verdict}: max |z| = {self.max_z:.2f} at {self.where} (threshold {self.threshold:.2f}, {plural(self.n_tests, 'test')})"
        return s if self.agree is not None else f"{s}; {self.reason}"


def _agreement(o: RunSummary, t: RunSummary, var_names: list[str]) -> Agreement:
    import arviz as az
    from scipy.stats import norm

    zs, where = [], []
    po, pt_ = o.idata.posterior.to_dataset(), t.idata.posterior.to_dataset()
    for stat, method in (("mean", "mean"), ("std", "sd")):
        mo = az.mcse(o.idata, var_names=var_names, method=method).to_dataset()
        mt = az.mcse(t.idata, var_names=var_names, method=method).to_dataset()
        for n in var_names:
            a = getattr(po[n], stat)(("chain", "draw"))
            b = getattr(pt_[n], stat)(("chain", "draw"))
            se = np.sqrt(mo[n].values.astype(float) ** 2 + mt[n].values.astype(float) ** 2)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.abs(a.values - b.values) / se
            # identical values with zero MCSE (e.g. a constant) agree perfectly
            z = np.where((se == 0) & (a.values == b.values), 0.0, z).reshape(-1)
            for i, zi in enumerate(z):
                zs.append(float(zi))
                where.append(f"{_element_label(a, i)} {method}")
    k = len(zs)
    if not k:
        return Agreement(None, math.nan, "-", math.nan, 0, "no variables to compare")
    threshold = float(norm.ppf(1 - AGREEMENT_ALPHA / (2 * k)))
    finite = [i for i, z in enumerate(zs) if not math.isnan(z)]
    if not finite:
        return Agreement(None, math.nan, "-", threshold, k, "the Monte Carlo errors are undefined")
    i = max(finite, key=lambda j: zs[j])
    max_z = zs[i]
    if not (o.converged and t.converged):
        who = [r.label for r in (o, t) if not r.converged]
        return Agreement(None, max_z, where[i], threshold, k, f"{' and '.join(who)} not converged")
    return Agreement(max_z <= threshold, max_z, where[i], threshold, k, "both runs converged")


def _efficiency(o: RunSummary, t: RunSummary) -> tuple[float | None, str]:
    if o.ess_per_grad and t.ess_per_grad:
        return t.ess_per_grad / o.ess_per_grad, "ESS per gradient evaluation"
    if o.ess_per_second and t.ess_per_second:
        return t.ess_per_second / o.ess_per_second, "ESS per second"
    return None, ""


def _verdict(o: RunSummary, t: RunSummary, agreement: Agreement) -> tuple[str, str, list[str]]:
    """``(verdict, why, reasons)``: the verdict on ``t``, the one line that decided it, the facts.

    Evidence is weighed in order, the first that tells the runs apart decides: convergence
    (R-hat and bulk ESS: a run that has not converged cannot be trusted at all), then how
    close to converging when neither has, then trust (divergences, E-BFMI), then efficiency.
    """
    reasons = [f"{r.label}: {'; '.join(r.problems)}" for r in (o, t) if r.problems]
    if o.divergences != t.divergences:
        reasons.append(f"divergences {o.divergences} -> {t.divergences}")
    ratio, what = _efficiency(o, t)
    if ratio is not None:
        reasons.append(f"{what} x{ratio:.2f}")
    if agreement.agree is False:
        reasons.append(f"posteriors disagree (max |z| {agreement.max_z:.1f} at {agreement.where})")
    for weigh in (_by_convergence, _by_closeness, _by_trust):
        found = weigh(o, t)
        if found is not None:
            return found[0], found[1], reasons
    return (*_by_efficiency(o, t, ratio, what), reasons)


def _side(score: float) -> str:
    return "better" if score > 0 else "worse" if score < 0 else "similar"


def _convergence(r: RunSummary) -> str:
    return f"R-hat {_fmt_vs(r.max_rhat, RHAT_MAX, 3)}, min bulk ESS {_fmt(r.min_ess_bulk, 0)}"


def _by_convergence(o: RunSummary, t: RunSummary) -> tuple[str, str] | None:
    """One run converged and the other did not: that decides, whatever the divergences."""
    if o.converged == t.converged:
        return None
    if t.converged:
        return (
            "better",
            f"the rewrite converged ({_convergence(t)}), the original did not ({_convergence(o)})",
        )
    return (
        "worse",
        f"the original converged ({_convergence(o)}), the rewrite did not ({_convergence(t)})",
    )


def _by_closeness(o: RunSummary, t: RunSummary) -> tuple[str, str] | None:
    """Neither converged: the one clearly closer (more bulk ESS, R-hat nearer 1) is better."""
    if o.converged or t.converged:
        return None
    m = CONVERGENCE_MARGIN
    excess = [max(r.max_rhat - 1, 0.0) for r in (o, t)]
    score = _grows(o.min_ess_bulk, t.min_ess_bulk, m) - _grows(*excess, m)
    if not score:
        return None
    closer = "rewrite" if score > 0 else "original"
    why = (
        f"neither run converged, the {closer} is clearly closer: R-hat "
        f"{_fmt(o.max_rhat, 3)} -> {_fmt(t.max_rhat, 3)}, min bulk ESS "
        f"{_fmt(o.min_ess_bulk, 0)} -> {_fmt(t.min_ess_bulk, 0)}"
    )
    return _side(score), why


def _grows(before: float, after: float, margin: float) -> int:
    """+1 when ``after`` exceeds ``before`` by more than the factor ``margin``, -1 when it falls
    short by as much, else 0 (also when either is undefined)."""
    if not (math.isfinite(before) and math.isfinite(after)):
        return 0
    return int(after > margin * before) - int(before > margin * after)


def _by_trust(o: RunSummary, t: RunSummary) -> tuple[str, str] | None:
    """Equal on convergence: a run free of divergences and low E-BFMI beats one with them; of
    two runs with divergences, one with fewer than half the other's wins."""
    if o.ok != t.ok:
        r, who = (o, "original") if t.ok else (t, "rewrite")
        return _side(1 if t.ok else -1), f"only the {who} has {'; '.join(r.problems)}"
    if o.ok:
        return None
    score = -_grows(o.divergences, t.divergences, DIVERGENCE_MARGIN)
    if not score:
        return None
    return _side(score), f"divergences {o.divergences} -> {t.divergences}, on equal convergence"


def _by_efficiency(o, t, ratio: float | None, what: str) -> tuple[str, str]:
    """Equally trustworthy: ESS per gradient evaluation (else per second) decides."""
    if o.ok:
        both = "both runs are trustworthy"
    elif not o.converged:
        both = "neither run converged nor is clearly closer"
    else:
        both = "both runs have divergences or low E-BFMI in like measure"
    if ratio is None:
        return "similar", f"{both}; their efficiency is not reported"
    if 1 / EFFICIENCY_MARGIN < ratio < EFFICIENCY_MARGIN:
        return "similar", f"{both}; {what} x{ratio:.2f}, within x{EFFICIENCY_MARGIN:g} either way"
    return _side(ratio - 1), f"{both}; {what} x{ratio:.2f}"
