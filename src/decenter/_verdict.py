"""Two runs side by side: do their posteriors agree, and is the transformed one better?

The agreement test and the verdict of :func:`decenter.compare.compare`; :class:`Agreement` is
re-exported by :mod:`decenter.compare`, where users import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from decenter._json import jsonable
from decenter._summary import RunSummary, _element_label

__all__ = ["Agreement"]

# Familywise error rate of the posterior agreement test (Bonferroni over all elements).
AGREEMENT_ALPHA = 0.01
# A ratio of efficiencies within [1 / EFFICIENCY_MARGIN, EFFICIENCY_MARGIN] counts as similar.
EFFICIENCY_MARGIN = 1.25


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
        s = f"{verdict}: max |z| = {self.max_z:.2f} at {self.where} (threshold {self.threshold:.2f}, {self.n_tests} tests)"
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


def _verdict(o: RunSummary, t: RunSummary, agreement: Agreement) -> tuple[str, list[str]]:
    reasons = [f"{r.label}: {'; '.join(r.problems)}" for r in (o, t) if r.problems]
    if o.divergences != t.divergences:
        reasons.append(f"divergences {o.divergences} -> {t.divergences}")
    ratio, what = _efficiency(o, t)
    if ratio is not None:
        reasons.append(f"{what} x{ratio:.2f}")
    if agreement.agree is False:
        reasons.append(f"posteriors disagree (max |z| {agreement.max_z:.1f} at {agreement.where})")

    if t.ok != o.ok:
        return ("better" if t.ok else "worse"), reasons
    if not o.ok:
        # Both untrustworthy: fewer kinds of problem wins, then fewer divergences.
        score = (len(o.problems) - len(t.problems)) or int(np.sign(o.divergences - t.divergences))
        return ("better" if score > 0 else "worse" if score < 0 else "similar"), reasons
    if ratio is None or 1 / EFFICIENCY_MARGIN < ratio < EFFICIENCY_MARGIN:
        return "similar", reasons
    return ("better" if ratio > 1 else "worse"), reasons
