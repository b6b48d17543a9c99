"""A partially centered rewrite written as its math, with ``lam`` and ``unit`` as names.

The rewrite of an elementwise family (``decenter.families``) with a degree of centering
``lam`` and a constant ``unit`` is::

    x_offset ~ D(lam * loc / unit, (scale / unit) ** lam)
    x        = loc + unit * (scale / unit) ** (1 - lam) * (x_offset - lam * loc / unit)

(the graph computes the same value arranged for speed, ``families.rules.Rule.forward``). Printed
from the graph, the per-element constants ``lam / unit`` and ``lam * log(unit)`` made lines
like ``Normal(<array (85,)> * mu_a, exp(<array (85,)> * log(sigma_a) - <array (85,)>))``; here
they are the names ``lam`` and ``unit``, summarised on a line of their own, and a ``lam`` equal
for every element is written as its number (``lam = 0`` is ``Normal(0, 1)``, ``loc + scale * x_offset``).

Examples
--------
>>> import decenter
>>> from decenter.cli._partial import lam_line
>>> from decenter.examples.eight_schools import centered_model
>>> p = decenter.plan(centered_model(), strategy={"theta": [0.0] * 4 + [0.5] * 4})
>>> lam_line(p["theta"], "lam", "unit")
'    lam: 0.00-0.50 (median 0.25) over 8 schools'
"""

from __future__ import annotations

import numpy as np
import pymc as pm

from decenter.cli._dists import dist_text
from decenter.cli._patterns import is_transpose_of, is_zero, strip_expand
from decenter.cli._printer import ATOM, Printer
from decenter.families import (
    LocScaleRule,
    LogNormalRule,
    ScaleRule,
    SkewNormalRule,
    find_rule,
)
from decenter.families.multivariate import MvNormalRule, ZeroSumNormalRule

__all__ = ["partial_texts", "lam_line"]

# forward maps written below (ZeroSumNormal's is a scale family's, with one lam)
_KNOWN = (LocScaleRule, SkewNormalRule, ScaleRule, LogNormalRule, ZeroSumNormalRule)


def partial_texts(
    before: pm.Model, after: pm.Model, d, printers: tuple[Printer, Printer], taken: set[str]
) -> tuple[str, ...] | None:
    """(offset distribution, forward map, lam line[, a line under the offset]) of a partially
    centered decision, or None
    when the graph prints it well (``lam`` None) or the rule's map is not one written here.
    ``taken``: the models' variable names (``lam`` and ``unit`` must not be one of them)."""
    if d.lam is None:
        return None
    rv = before[d.name]
    rule = find_rule(rv)
    if type(rule) not in (*_KNOWN, MvNormalRule):
        return None
    lam = np.asarray(d.lam, dtype=float)
    unit = None if d.unit is None else np.asarray(d.unit, dtype=float)
    lam_sym = _free_name("lam", d.name, taken)
    unit_sym = _free_name("unit", d.name, taken)
    L = f"{lam.flat[0]:.3g}" if np.ptp(lam) == 0 else lam_sym
    U = None if unit is None else unit_sym
    if isinstance(rule, MvNormalRule):
        dist, x, a_line = _mv_texts(rv, d.new_name, printers[0], L, U)
        return dist, x, _lam_text(d, lam_sym, unit_sym, L, U), a_line
    ls = rule.read(rv)
    p0, p1 = printers
    loc = None if ls.loc is None or is_zero(ls.loc) else p0.text(ls.loc)  # Normal(0, s): no 0 * 0.5
    s = _term(p0.text(ls.scale), U)
    # terms moved into the location (decenter.core.hoist): the offset is centered at loc + c
    c = _free_name("c", d.name, taken) if d.hoisted else None
    shifted = loc if c is None else (c, ATOM) if loc is None else (f"{loc[0]} + {c}", 1)
    m = None if shifted is None else _term(shifted, U)
    zero, one = L == "0", L == "1"
    # the offset: the new graph's draw, its location and scale written in lam and unit
    offset = after[d.new_name]
    new_ls = find_rule(offset).read(offset)
    scale_text = "1" if zero else s[0] if one else f"{_wrap(s, 5)} ** {L}"
    overrides = {new_ls.scale: (scale_text, ATOM if zero or one else 4)}
    if new_ls.loc is not None:
        loc_text = "0" if zero or m is None else m[0] if one else f"{L} * {_wrap(m, 2)}"
        overrides[new_ls.loc] = (loc_text, ATOM if zero else 2)
    with p1.overriding(overrides):
        dist = dist_text(p1, offset)
    x = _forward(loc, p0.text(ls.scale), s, m, d.new_name, L, U, c)
    if isinstance(rule, LogNormalRule):
        x = f"exp({x})"
    lines = [_lam_text(d, lam_sym, unit_sym, L, U)]
    if c is not None:
        lines.append(
            f"    {c} = {' + '.join(d.hoisted)}, one value per {_one(d)} (moved into the location)"
        )
    return dist, x, "\n".join(line for line in lines if line) or None


def _lam_text(d, lam_sym: str, unit_sym: str, L: str, U: str | None) -> str | None:
    unit_used = U is not None and L != "0"  # lam = 0 is the non-centered map, in any unit
    lam_text = lam_line(d, lam_sym, unit_sym if unit_used else None)
    return lam_text if lam_sym == L or unit_used else None


def _mv_texts(rv, eta: str, p0: Printer, L: str, U: str | None) -> tuple[str, str, str]:
    """MvNormal's partial form (``families.MvNormalRule``), conditional scale by scale:
    ``eta ~ MvNormal(lam * mu / unit, chol=A)``, ``x = mu + solve(A, eta - lam * mu / unit) @
    chol.T`` and the line defining ``A`` (one row of ``A`` per element of ``lam``)."""
    mu, cov = rv.owner.op.dist_params(rv.owner)
    cov = strip_expand(cov)
    if cov.owner is not None and is_transpose_of(cov.owner.inputs[-1], cov.owner.inputs[0]):
        chol = p0.wrap(cov.owner.inputs[0], ATOM)
    else:
        chol = f"cholesky({p0.expr(cov)})"
    diag = f"diagonal({chol})" if U is None else f"(diagonal({chol}) / {U})"
    if U is not None:
        row = f"({L} / {U})[..., None]"
    else:  # one row of A per element of lam
        row = L if L.replace(".", "", 1).isdigit() else f"{L}[..., None]"
    a_line = f"    A = diag({diag} ** {L}) + {row} * tril({chol}, -1)"
    loc = None if is_zero(mu) else p0.text(mu)
    m = None if loc is None else _term(loc, U)
    shift = None if m is None else f"{L} * {_wrap(m, 2)}"
    centred = eta if shift is None else f"{eta} - {shift}"
    x = f"solve(A, {centred}) @ {chol}.T"
    dist = f"MvNormal({shift or 0}, chol=A)"
    return dist, x if loc is None else f"{loc[0]} + {x}", a_line


def _forward(loc, scale, s, m, eta: str, L: str, U: str | None, c: str | None = None) -> str:
    """``loc + unit * (scale / unit) ** (1 - lam) * (eta - lam * loc / unit)``, simplified;
    with terms ``c`` moved into the location, ``m`` is ``loc + c`` and ``loc`` stays."""
    if L == "0":
        term = f"{_wrap(scale, 2)} * {eta}"
        return term if loc is None else f"{loc[0]} + {term}"
    factors = [U] if U else []
    if L != "1":
        factors.append(f"{_wrap(s, 5)} ** {_one_minus(L)}")
    if m is None:
        return " * ".join([*factors, eta])
    if L == "1" and U is None:
        return eta if c is None else f"{eta} - {c}"  # loc + (x_offset - (loc + c))
    shift = _wrap(m, 2) if L == "1" else f"{L} * {_wrap(m, 2)}"
    scaled = " * ".join([*factors, f"({eta} - {shift})"])
    return scaled if loc is None else f"{loc[0]} + {scaled}"


def _one(d) -> str:
    """The group a variable has one element per (its first dim), for the line defining c."""
    return d.dims[0] if d.dims else "element"


def _term(text: tuple[str, int], unit: str | None) -> tuple[str, int]:
    return text if unit is None else (f"{_wrap(text, 3)} / {unit}", 2)


def _wrap(text: tuple[str, int], prec: int) -> str:
    return f"({text[0]})" if text[1] < prec else text[0]


def _one_minus(L: str) -> str:
    try:
        return f"{1 - float(L):.3g}"
    except ValueError:
        return f"(1 - {L})"


def _free_name(base: str, var: str, taken: set[str]) -> str:
    return base if base not in taken else f"{base}_{var}"


def lam_line(d, lam_sym: str, unit_sym: str | None) -> str:
    """``    lam: 0.11-0.94 (median 0.38) over 85 counties; unit = 0.245`` (no unit: None)."""
    lam = np.asarray(d.lam, dtype=float)
    parts = []
    if np.ptp(lam) > 0:
        where = _over(lam.shape, d.dims)
        parts.append(
            f"{lam_sym}: {lam.min():.2f}-{lam.max():.2f} (median {np.median(lam):.2f}) {where}"
        )
    if d.unit is not None and unit_sym is not None:
        unit = np.asarray(d.unit, dtype=float)
        value = (
            f"{unit.flat[0]:.3g}"
            if np.ptp(unit) == 0
            else (f"{unit.min():.3g}-{unit.max():.3g} {_over(unit.shape, d.dims)}")
        )
        parts.append(f"{unit_sym} = {value}")
    return "    " + "; ".join(parts)


def _over(shape: tuple[int, ...], dims: tuple[str, ...]) -> str:
    if len(shape) == 1 and len(dims) == 1:
        return f"over {shape[0]} {_plural(str(dims[0]))}"
    if dims and len(dims) == len(shape):
        return f"over {' x '.join(map(str, shape))} ({', '.join(map(str, dims))})"
    return f"over shape {shape}"


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    return word + "s"
