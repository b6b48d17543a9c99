"""Probe points: does the candidate reject every point the original rejects?

The random points of the change-of-variables check lie around the candidate's initial point,
where a scale with a prior far from zero (``s ~ Normal(10, 1)``) is never negative: a rewrite
that lost its guard (:mod:`decenter.families.guard`) would pass there. The probes push one
unconstrained value at a time to a few fixed values on both sides of zero (a scale below
zero, a correlation beyond +-1), the others at the initial point, and ask: wherever the
original's log density is -inf (and the map ``x(u)`` is finite), is the candidate's -inf too?
"""

from __future__ import annotations

import numpy as np

from decenter.verify._common import is_float
from decenter.verify.report import Check

__all__ = ["PROBE_VALUES", "MAX_PROBED", "probe", "probe_points", "accepted_rejections"]

#: values each probed variable is set to (all its elements): below zero, between 0 and 1 and
#: beyond 1 on both sides
PROBE_VALUES = (-3.0, -1.5, -0.5, 0.5, 1.5, 3.0)
#: at most this many value variables are probed (the first ones, in the model's order)
MAX_PROBED = 40


def probe(fn, w_val, c_vals, ip: dict, n_o: int, n_c: int) -> Check | None:
    """A failed ``change_of_variables`` check when the candidate accepts a probe point that
    the original rejects, else None. ``fn`` is the check's first compiled function (the
    original's ``n_o`` log-density terms, the candidate's ``n_c``, "x(u) is finite")."""
    bad, rejected = accepted_rejections(fn, w_val, probe_points(c_vals, ip), n_o, n_c)
    if not bad:
        return None
    shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
    return Check(
        "change_of_variables",
        False,
        None,
        "the candidate accepts points the original rejects: its log density is finite where "
        f"the original's is -inf at {len(bad)} of {rejected} such probe points ({shown}, the "
        "other values at the initial point); a missing or wrong guard?",
        details={"accepts_rejected": bad},
    )


def probe_points(c_vals, ip: dict) -> list[tuple[str, list[np.ndarray]]]:
    """``(label, point)`` for each probed variable and value."""
    base = [np.asarray(ip[v.name]) for v in c_vals]
    probed = [k for k, v in enumerate(c_vals) if is_float(v)][:MAX_PROBED]
    out = []
    for k in probed:
        for c in PROBE_VALUES:
            point = list(base)
            point[k] = np.full_like(base[k], c)
            out.append((f"{c_vals[k].name} = {c:g}", point))
    return out


def accepted_rejections(fn, w_val, probes, n_o: int, n_c: int) -> tuple[list[str], int]:
    """The probes where the original rejects and the candidate accepts, and how many of the
    probes the original rejects (those that say something)."""
    bad, rejected = [], 0
    for label, point in probes:
        try:
            r = fn(*point, *w_val)
        except Exception:  # e.g. a Cholesky that raises: no verdict at this point
            continue
        if not bool(r[n_o + n_c]):  # the map x(u) is not finite: nothing to compare
            continue
        lo = sum(float(x) for x in r[:n_o])
        lc = sum(float(x) for x in r[n_o : n_o + n_c])
        if lo == -np.inf:
            rejected += 1
            if np.isfinite(lc):
                bad.append(label)
    return bad, rejected
