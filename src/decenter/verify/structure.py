"""The structure check: the candidate keeps the original's names, data, dims and dimension.

Same observed variables with identical data, same dims and coordinates for the names both
models share, the same number of unconstrained dimensions, and every free variable of the
original present in the candidate under the same name (free or Deterministic) with the same
shape. The exact check needs this (``mappable``) to read ``x(u)`` off the candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
from pytensor.graph.basic import Variable

from decenter.core.graph import var_kind
from decenter.report.render import plural
from decenter.verify._common import compile_fn, dims, same_array, value_of
from decenter.verify.report import Check

__all__ = ["Structure", "structure"]


@dataclass
class Structure:
    """What the structure check learnt; the exact check needs ``mappable``."""

    check: Check
    mappable: bool  # every original free variable has a same-shape counterpart, same dimension
    ip_original: dict[str, np.ndarray]
    ip_candidate: dict[str, np.ndarray]


def evaluate(model: pm.Model, exprs: list[Variable], point: dict) -> list[np.ndarray]:
    """The expressions at a point of the model's value variables."""
    if not exprs:
        return []
    outs = model.replace_rvs_by_values(exprs)
    fn = compile_fn(model.value_vars, outs, model.check_bounds)
    return [np.asarray(v) for v in fn(*[point[v.name] for v in model.value_vars])]


def _observed_problems(original: pm.Model, candidate: pm.Model) -> list[str]:
    problems = []
    obs_o = [rv.name for rv in original.observed_RVs]
    obs_c = [rv.name for rv in candidate.observed_RVs]
    for name in obs_o:
        if name not in obs_c:
            kind = var_kind(candidate, candidate[name]) if name in candidate.named_vars else None
            where = f"is {kind} in the candidate" if kind else "is missing from the candidate"
            problems.append(f"observed variable {name} {where}")
            continue
        a = value_of(original.rvs_to_values[original[name]])
        b = value_of(candidate.rvs_to_values[candidate[name]])
        if a.shape != b.shape:
            problems.append(f"observed variable {name}: data shape {a.shape} vs {b.shape}")
        elif not same_array(a, b):
            same = a == b
            if a.dtype.kind == "f" and b.dtype.kind == "f":
                same |= np.isnan(a) & np.isnan(b)
            n = int(np.sum(~same))
            problems.append(f"observed variable {name}: data differ ({n} of {a.size} values)")
    for name in obs_c:
        if name not in obs_o:
            problems.append(
                f"observed variable {name} of the candidate is not observed in the original"
            )
    return problems


def _free_problems(
    original: pm.Model, candidate: pm.Model, ip_o: dict, ip_c: dict
) -> tuple[list[str], bool]:
    """Free variables present by name, as free or Deterministic, same shape and dtype kind."""
    problems, mappable, present = [], True, []
    o_free = [rv.name for rv in original.free_RVs]
    for name in o_free:
        if name not in candidate.named_vars:
            problems.append(f"{name}: free variable of the original is missing from the candidate")
            mappable = False
            continue
        kind = var_kind(candidate, candidate[name])
        if kind not in ("free", "deterministic"):
            problems.append(f"{name}: free in the original but {kind} in the candidate")
            mappable = False
            continue
        present.append(name)
    values_o = dict(
        zip(o_free, evaluate(original, [original[n] for n in o_free], ip_o), strict=True)
    )
    try:
        values_c = evaluate(candidate, [candidate[n] for n in present], ip_c)
    except Exception as err:  # a broken candidate graph is a finding, not a crash
        problems.append(f"the candidate's variables cannot be evaluated: {err}")
        return problems, False
    for name, v in zip(present, values_c, strict=True):
        ref = values_o[name]
        if v.shape != ref.shape:
            problems.append(
                f"{name}: shape {ref.shape} in the original, {v.shape} in the candidate"
            )
            mappable = False
        elif (v.dtype.kind in "iub") != (ref.dtype.kind in "iub"):
            problems.append(
                f"{name}: dtype {ref.dtype} in the original, {v.dtype} in the candidate"
            )
            mappable = False
    return problems, mappable


def _dims_problems(original: pm.Model, candidate: pm.Model) -> list[str]:
    """Dims and coordinates of the names both models use; data containers of the same name."""
    problems = []
    used_dims: set = set()
    for name in original.named_vars:
        if name not in candidate.named_vars:
            continue
        do, dc = dims(original, name), dims(candidate, name)
        if do != dc:
            problems.append(f"{name}: dims {do} in the original, {dc} in the candidate")
        used_dims.update(d for d in do + dc if d is not None)
    for dim in sorted(used_dims, key=str):
        co, cc = original.coords.get(dim), candidate.coords.get(dim)
        if co is not None and cc is not None and tuple(co) != tuple(cc):
            problems.append(f"coordinate {dim!r} differs ({len(co)} vs {len(cc)} values)")
    for var in original.data_vars:
        other = candidate.named_vars.get(var.name)
        if (
            other is not None
            and other in candidate.data_vars
            and not same_array(value_of(var), value_of(other))
        ):
            problems.append(f"data {var.name} differs between the models")
    return problems


def structure(original: pm.Model, candidate: pm.Model) -> Structure:
    """Run the structure check (see the module docstring)."""
    ip_o = original.initial_point()
    ip_c = candidate.initial_point()
    problems = _observed_problems(original, candidate)
    free, mappable = _free_problems(original, candidate, ip_o, ip_c)
    problems += free + _dims_problems(original, candidate)
    # a bijection needs as many unconstrained dimensions on both sides
    dim_o = sum(int(np.size(v)) for v in ip_o.values())
    dim_c = sum(int(np.size(v)) for v in ip_c.values())
    if dim_o != dim_c:
        problems.append(
            f"unconstrained dimensions: {dim_o} in the original, {dim_c} in the candidate"
        )
        mappable = False
    if problems:
        message = "\n".join(problems)
    else:
        message = (
            f"{plural(len(original.free_RVs), 'free variable')} kept by name "
            f"({plural(dim_o, 'unconstrained dimension')}), {len(original.observed_RVs)} observed "
            "with identical data, same dims"
        )
    check = Check(
        "structure",
        not problems,
        float(len(problems)),
        message,
        details={"problems": problems, "dimensions": [dim_o, dim_c]},
    )
    return Structure(check, mappable, ip_o, ip_c)
