"""The verdict of the change-of-variables check from the numbers at the points.

Is ``logp_c - logp_o - log|det J|`` the same at every point? If not, which variables make it
vary? Where only one side is finite, the map leaves the support (or is singular).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor
from pytensor.graph.basic import Variable

from decenter.verify._common import fmt, is_float
from decenter.verify.jacobian import Block, block_summary
from decenter.verify.report import Check, unchecked

__all__ = ["judge", "too_large"]

NAME = "change_of_variables"


def too_large(
    o_free: list[Variable], bs: list[Block], big: list[Block], max_dense: int, per_row=False
) -> Check:
    """Could not check: a block is neither diagonal nor per-row and exceeds max_dense."""
    names = [rv.name for rv in o_free]
    which = "; ".join(f"{', '.join(names[i] for i in b.rows)} ({b.size} dimensions)" for b in big)
    what = "is not per-row" if per_row else "is neither diagonal nor per-row"
    return unchecked(
        NAME,
        f"could not verify: the Jacobian block of {which} {what} and exceeds "
        f"max_dense={max_dense}; raise max_dense to verify it densely",
        blocks=block_summary(bs),
    )


def _groups(original, candidate, o_free, u, bs, term_o, term_c, ld, triangular):
    """Groups of terms that should each differ by a constant (to name the culprit)."""
    names_o = [rv.name for rv in o_free]
    c_free = list(candidate.free_RVs)
    c_index = {rv.name: k for k, rv in enumerate(c_free)}
    val_owner = {candidate.rvs_to_values[rv]: k for k, rv in enumerate(c_free)}
    groups: list[tuple[str, np.ndarray]] = []
    if triangular:
        for bi, b in enumerate(bs):
            ks = sorted({val_owner[u[j]] for j in b.cols})
            r = term_o[:, b.rows].sum(axis=1) + ld[:, bi] - term_c[:, ks].sum(axis=1)
            label = ", ".join(names_o[i] for i in b.rows)
            via = ", ".join(c_free[k].name for k in ks)
            groups.append((label if via == label else f"{label} (candidate {via})", r))
    for i, rv in enumerate(o_free):
        if not is_float(original.rvs_to_values[rv]) and rv.name in c_index:
            groups.append((rv.name, term_o[:, i] - term_c[:, c_index[rv.name]]))
    n_free_o, n_free_c = len(o_free), len(c_free)
    obs_c = {rv.name: n_free_c + k for k, rv in enumerate(candidate.observed_RVs)}
    for k, rv in enumerate(original.observed_RVs):
        if rv.name in obs_c:
            groups.append((rv.name, term_o[:, n_free_o + k] - term_c[:, obs_c[rv.name]]))
    n_pot_o = n_free_o + len(original.observed_RVs)
    n_pot_c = n_free_c + len(candidate.observed_RVs)
    if term_o.shape[1] > n_pot_o or term_c.shape[1] > n_pot_c:
        groups.append(
            ("potentials", term_o[:, n_pot_o:].sum(axis=1) - term_c[:, n_pot_c:].sum(axis=1))
        )
    return groups


def _support_mismatch(lo, lc, ld, groups, details) -> Check | None:
    """Points where exactly one side is finite: the map leaves the support or is singular."""
    n_points = len(lo)
    fin_c, fin_o = np.isfinite(lc), np.isfinite(lo + ld)
    bad = fin_c != fin_o
    if not np.any(bad):
        return None
    p = int(np.flatnonzero(bad)[0])
    culprits = [name for name, r in groups if not np.isfinite(r[p])]
    where = f"; non-finite terms: {', '.join(culprits)}" if culprits else ""
    count = f"{int(bad.sum())} of {n_points} points"
    if fin_c[p] and np.isfinite(lo[p]):
        what = (
            f"the Jacobian of the map is singular or not finite (log|det J| = {ld[p]}) at "
            f"{count}: not a bijection"
        )
    elif fin_c[p]:
        what = f"the log density is finite for the candidate but not for the original at {count}"
    else:
        what = f"the log density is finite for the original but not for the candidate at {count}"
    return Check(NAME, False, None, what + where, details=details)


def judge(
    original: pm.Model,
    candidate: pm.Model,
    o_free: list[Variable],
    u: list[Variable],
    bs: list[Block],
    term_o: np.ndarray,
    term_c: np.ndarray,
    ld_blocks: np.ndarray,
    triangular: bool,
) -> Check:
    """Is logp_c - logp_o - log|det| the same at every point? If not, which variables vary?"""
    n_points = term_o.shape[0]
    lo, lc, ld = term_o.sum(axis=1), term_c.sum(axis=1), ld_blocks.sum(axis=1)
    rtol = 1e-6 if pytensor.config.floatX == "float64" else 1e-3
    summary = block_summary(bs)
    details: dict[str, Any] = {
        "points": n_points,
        "dimensions": int(sum(b.size for b in bs)),
        "blocks": summary,
        "triangular": triangular,
    }
    groups = _groups(original, candidate, o_free, u, bs, term_o, term_c, ld_blocks, triangular)
    mismatch = _support_mismatch(lo, lc, ld, groups, details)
    if mismatch is not None:
        return mismatch
    valid = np.isfinite(lc) & np.isfinite(lo + ld)
    if valid.sum() < 2:
        return unchecked(
            NAME,
            f"could not verify: the log density is finite at only {int(valid.sum())} of "
            f"{n_points} points",
            **details,
        )
    diff = (lc - lo - ld)[valid]
    offset = float(np.median(diff))
    # per-point tolerance: rounding grows with the size of the terms at that point
    scale = (1.0 + np.abs(lo) + np.abs(lc) + np.abs(ld))[valid]
    tols = rtol * (scale + float(np.median(scale)))
    deviation = np.abs(diff - offset)
    worst = int(np.argmax(deviation))
    spread, size = float(deviation[worst]), float(scale[worst])
    tol = float(np.min(tols))
    # the deviation in units of its own point's tolerance: what the pass and the failure quote
    relative = float(np.max(deviation / tols))
    details.update(
        spread=spread, size=size, tolerance=tol, offset=offset, relative=relative, rtol=rtol
    )
    what = f"{details['dimensions']} dimensions, Jacobian blocks: " + ", ".join(
        f"{n} {k}" for k, n in summary.items()
    )
    n_valid = int(valid.sum())
    if np.all(deviation <= tols):
        return _constant(offset, tol, n_valid, what, details)
    details["varying"] = _varying(groups, valid, tols)
    return _not_constant(offset, n_valid, what, details)


def _deviation(details: dict) -> str:
    """How far the difference strays from its constant, said the same way in a pass and a
    failure: the largest deviation and the size of the terms where it is (a deviation of 10 is
    rounding where the log density is 1e10), and the largest in units of the tolerance at its
    point."""
    return (
        f"deviation up to {fmt(details['spread'])} on terms of size {fmt(details['size'])}, up "
        f"to {fmt(details['relative'])} times the tolerance of {details['rtol']:g} x the size "
        "of the terms"
    )


def _constant(offset, tol, n_valid: int, what: str, details: dict) -> Check:
    """The pass: the difference is the same at every point, up to ``offset``."""
    msg = (
        f"logp_candidate = logp_original + log|det J| + ({fmt(offset)}) at {n_valid} "
        f"points ({_deviation(details)}); {what}"
    )
    if abs(offset) > tol:
        msg += (
            f"\nnote: the constant offset {fmt(offset)} is not 0; fine when a model has "
            "unnormalised terms (Potential, Flat, custom logp), otherwise a sign that the map "
            "is not one-to-one (-log k for k-to-one) or does not cover the support"
        )
    return Check(NAME, True, offset, msg, details=details)


def _not_constant(offset, n_valid: int, what: str, details: dict) -> Check:
    """The failure, with the groups of terms whose difference varies (``details["varying"]``)."""
    msg = (
        f"logp_candidate - logp_original - log|det J| is not constant around {fmt(offset)} "
        f"at {n_valid} points ({_deviation(details)}); {what}"
    )
    if details["varying"]:
        msg += "\nthe difference varies with: " + "; ".join(details["varying"])
    return Check(NAME, False, offset, msg, details=details)


def _varying(groups, valid: np.ndarray, tols: np.ndarray) -> list[str]:
    """The groups of terms whose difference is not constant: the culprits."""
    suspects = []
    for name, r in groups:
        rv_ = r[valid]
        if np.all(np.isfinite(rv_)) and np.any(np.abs(rv_ - np.median(rv_)) > tols):
            suspects.append(name)
    return suspects
