"""The default with a skew-aware lowering of each scale, measured as docs/z_sweep.py measures Z.

The default lowers a candidate's scale at the fit's mode, ``s*``, by ``Z`` Laplace standard
deviations of its log (``decenter.auto.lowered_scales``). The Laplace spread is quadratic;
the marginal of a hierarchical scale is not: a Gaussian hierarchy with per-element information
``I_k`` has, with the data at their expectation, the log marginal drop

    D(delta) = 1/2 sum_k f(1 - lam*_k + lam*_k exp(-2 delta)),   f(r) = 1/r - 1 + log r,

at ``log s = log s* - delta``, with ``lam*_k = I_k s*^2 / (1 + I_k s*^2)``. Near the mode it
is ``J delta^2 / 2`` with ``J = 2 sum_k lam*_k^2``; it flattens where the data cannot keep
the scale away from 0 (small ``lam*``). The candidate keeps the fit's spread ``sd`` and this
shape: ``delta`` solves ``D(delta) / (J sd^2) = Z^2 / 2``, so ``delta = Z sd`` where the drop
is quadratic and more where it flattens (no solution: the scale goes to 0, every lam to 0).
Elements that share one spread (a variable, an MvNormal column) shift together; the shift is at
most ``CAP * Z * sd``.

    python docs/skew_spread.py zeff NAME ...            # plans only: Z_eff = delta / sd
    python docs/skew_spread.py run SET OUT.json [SEED ...]   # as docs/z_sweep.py, Z = 2

Decision rule: docs/skew_spread/RULE.txt (written before any run).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np

import decenter
import decenter.auto

BIG = 50.0  # a shift of log s that takes every lam to 0
CAP = 2.0  # delta at most CAP * Z * sd (a scale at 0 misleads the nested information)


def marginal_drop(lam: np.ndarray, delta: float) -> float:
    """``D(delta)`` of the module docstring for the mode's lams ``lam``."""
    r = 1.0 - lam + lam * np.exp(-2.0 * delta)
    return 0.5 * float(np.sum(1.0 / r - 1.0 + np.log(r)))


def shift(lam: np.ndarray, sd: float, z: float) -> float:
    """``delta`` with ``D(delta) / (J sd^2) = z^2 / 2`` (bisection), ``BIG`` without one."""
    lam = np.clip(np.asarray(lam, float).ravel(), 0.0, 1.0 - 1e-9)
    j = 2.0 * float(np.sum(lam**2))
    if j <= 0.0 or sd <= 0.0:
        return z * sd
    target = 0.5 * z**2 * j * sd**2
    if marginal_drop(lam, BIG) < target:
        return BIG
    lo, hi = 0.0, BIG
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if marginal_drop(lam, mid) < target else (lo, mid)
    return 0.5 * (lo + hi)


LAST: dict[str, tuple[float, float]] = {}  # name -> (sd, delta) of the last plan


def skew_scales(fit, names) -> dict[str, np.ndarray]:
    """Drop-in for ``decenter.auto.lowered_scales``: the elements that share one spread of
    their log scale (all of a variable's, or an MvNormal column's) shift together."""
    z = decenter.auto.Z
    base = {n: np.exp(fit.log_scale[n] - z * fit.log_scale_sd[n]) for n in names}
    infos = fit.info_fn({k: v[None] for k, v in fit.point.items()}, scales=base)
    out = {}
    for n in names:
        info = np.asarray(infos[n].information, float)
        log_s = np.broadcast_to(np.asarray(fit.log_scale[n], float), info.shape)
        sd = np.broadcast_to(np.asarray(fit.log_scale_sd[n], float), info.shape)
        a = info * np.exp(2.0 * log_s)
        lam_star = a / (1.0 + a)
        delta = np.empty(info.shape)
        groups = np.unique(np.round(sd, 12), return_inverse=True)[1].reshape(info.shape)
        for g in np.unique(groups):
            here = groups == g
            sd_g = float(sd[here].ravel()[0])
            delta[here] = min(shift(lam_star[here], sd_g, z), CAP * z * sd_g)
            LAST[f"{n}[{g}]" if groups.max() > 0 else n] = (sd_g, float(delta[here].ravel()[0]))
        out[n] = np.exp(log_s - delta)
    return out


def _model(name: str):
    from decenter.examples.corpus import CORPUS, FRESH
    from decenter.examples.suite import SUITE

    for table in (CORPUS, FRESH, SUITE):
        if name in table:
            return table[name]()
    raise SystemExit(f"unknown model {name!r}")


def zeff(names: list[str]) -> None:
    for name in names:
        model = _model(name)
        LAST.clear()
        decenter.auto.lowered_scales = _BASE
        before = decenter.plan(model)
        decenter.auto.lowered_scales = skew_scales
        after = decenter.plan(model)
        for key, (sd, delta) in LAST.items():
            n = key.split("[")[0]
            lb, la = _lams(before[n]), _lams(after[n])
            print(
                f"{name} {key}: sd {sd:.3f}, Z_eff {delta / sd if sd else float('nan'):.2f}; "
                f"lam median {np.median(lb):.2f} -> {np.median(la):.2f}, "
                f"mean {np.mean(lb):.2f} -> {np.mean(la):.2f}, "
                f"0s {int(np.sum(lb == 0))} -> {int(np.sum(la == 0))} of {lb.size}",
                flush=True,
            )


def _lams(d) -> np.ndarray:
    """A decision's lams: 1 where it keeps the variable centered, 0 where wholly non-centered."""
    if d.lam is not None:
        return np.asarray(d.lam, float)
    return np.array([1.0 if d.action == "keep" else 0.0])


_BASE = decenter.auto.lowered_scales

if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "zeff":
        zeff(rest)
    else:
        which, out, *seeds = rest
        decenter.auto.lowered_scales = skew_scales
        here = Path(__file__).parent
        sys.argv = ["z_sweep.py", "2", which, out, *seeds]
        runpy.run_path(str(here / "z_sweep.py"), run_name="__main__")
