"""PyTensor expressions as a PyMC user writes them: ``mu_b + sigma_b * b_offset``, ``a[idx]``.

The printer names every model variable, shows indexing as ``x[idx]``, the Cholesky factor of
an ``LKJCholeskyCov`` by its name and matrix products with ``@``, and looks through the
plumbing PyTensor adds (asserts, casts, broadcasts, scalar conversions). Printing is
canonical: an unnamed expression equal to a Deterministic's definition prints as its name, so a
model and its copy rebuilt by :func:`decenter.transform` print alike.

Examples
--------
>>> import pymc as pm
>>> from decenter.cli._printer import Printer
>>> with pm.Model(coords={"g": range(3)}) as m:
...     s = pm.HalfNormal("s")
...     b = pm.Normal("b", 0, s, dims="g")
>>> Printer(m).expr(2 * b[[0, 1]] + 1)
'2 * b[[0, 1]] + 1'
"""

from __future__ import annotations

from contextlib import contextmanager

import pytensor.scalar as ps
from pytensor.compile.ops import DeepCopyOp, ViewOp
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.raise_op import CheckAndRaise
from pytensor.tensor.basic import (
    Alloc,
    ExtractDiag,
    Join,
    MakeVector,
    ScalarFromTensor,
    TensorFromScalar,
)
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.extra_ops import CumOp
from pytensor.tensor.linalg import Cholesky
from pytensor.tensor.math import Dot
from pytensor.tensor.shape import Shape, Shape_i, SpecifyShape
from pytensor.tensor.subtensor import (
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    Subtensor,
    indices_from_subtensor,
)
from pytensor.tensor.type_other import NoneTypeT

from decenter._pymc import LKJCholeskyCovRV
from decenter.cli._dists import dist_text
from decenter.cli._patterns import (
    const_text,
    is_gram,
    is_nested_list,
    is_one,
    is_tril_fill,
    is_zero,
    isfinite_input,
    matvec,
    reciprocal_input,
    strip_expand,
    unexpand,
)
from decenter.families.guard import guard_test, safe_input

__all__ = ["Printer", "ATOM", "MATMUL"]

ATOM = 10  # the precedence of a name, a call or an indexed expression
# ``@`` binds like ``*`` in Python, but does not associate with it: a * (b @ c) keeps its
# parentheses (as does (a * b) @ c), so a product of either kind wraps it
MATMUL = 1.5
_BINARY = {
    ps.Add: (" + ", 1),
    ps.Sub: (" - ", 1),
    ps.Mul: (" * ", 2),
    ps.TrueDiv: (" / ", 2),
    ps.IntDiv: (" // ", 2),
    ps.Mod: (" % ", 2),
    ps.Pow: (" ** ", 4),
}
# between a comparison and a sum, as Python has them: (s > 0) & (t > 0) keeps its parentheses
_LOGICAL = {ps.AND: (" & ", 0.6), ps.XOR: (" ^ ", 0.4), ps.OR: (" | ", 0.2)}
_COMPARE = {ps.EQ: " == ", ps.NEQ: " != ", ps.LT: " < ", ps.LE: " <= ", ps.GT: " > ", ps.GE: " >= "}
# ops that only check, cast or re-label their first input
_TRANSPARENT = (
    CheckAndRaise,
    ScalarFromTensor,
    TensorFromScalar,
    SpecifyShape,
    ViewOp,
    DeepCopyOp,
    Alloc,
    Shape_i,
)
_SCALAR_CASTS = (ps.Cast, ps.Identity)


class Printer:
    """Model variables as short formulas; ``overrides`` maps variables to (text, precedence)."""

    def __init__(self, model, overrides: dict | None = None):
        self.names = {var: name for name, var in model.named_vars.items()}
        self.overrides = dict(overrides or {})
        self.lkj = {v for v in self.names if v.owner and isinstance(v.owner.op, LKJCholeskyCovRV)}
        self.defs: dict[str, str] = {}  # a Deterministic's definition -> its name
        self._def_of: dict[str, str] = {}  # and back
        self._memo: dict[Variable, tuple[str, int]] = {}  # texts of shared sub-expressions
        for det in model.deterministics:
            text, name = self.definition(det), self.names[det]
            if not text.isidentifier() and text not in self.defs:
                self.defs[text], self._def_of[name] = name, text

    def expr(self, var: Variable) -> str:
        return self._expr(var)[0]

    def text(self, var: Variable) -> tuple[str, int]:
        """The text and its precedence (``ATOM`` for a name; 1 for a sum, 2 a product)."""
        return self._expr(var)

    @contextmanager
    def overriding(self, overrides: dict):
        """Print the given variables as the given (text, precedence) meanwhile."""
        saved, self._memo = self.overrides, {}
        self.overrides = {**saved, **overrides}
        try:
            yield self
        finally:
            self.overrides, self._memo = saved, {}

    def definition(self, var: Variable) -> str:
        """The formula of a named variable itself (not just its name)."""
        name = self.names.pop(var, None)
        own = self._def_of.get(name)  # its own definition is not printed as its name
        if own is not None:
            del self.defs[own]
        self._memo = {}
        try:
            return self.expr(var)
        finally:
            if name is not None:
                self.names[var] = name
            if own is not None:
                self.defs[own] = name
            self._memo = {}

    def wrap(self, var: Variable, min_prec: int) -> str:
        text, prec = self._expr(var)
        return f"({text})" if prec < min_prec else text

    def _expr(self, var: Variable) -> tuple[str, int]:
        if var in self.overrides:
            return self.overrides[var]
        if var in self.names:
            return self.names[var], ATOM
        if isinstance(var, Constant):
            return const_text(var.data), ATOM
        if isinstance(var, SharedVariable) or var.owner is None:
            return var.name or "<input>", ATOM
        if var not in self._memo:
            text, prec = self._node(var)
            name = self.defs.get(text)
            self._memo[var] = (name, ATOM) if name is not None else (text, prec)
        return self._memo[var]

    def _node(self, var: Variable) -> tuple[str, int]:
        op, inputs = var.owner.op, var.owner.inputs
        if isinstance(op, Blockwise):
            op = op.core_op
        if isinstance(op, _TRANSPARENT):
            return self._transparent(op, inputs)
        if getattr(op, "ndim_supp", None) is not None and var.name is None:
            return dist_text(self, var), ATOM  # an unnamed .dist() inside a formula
        if isinstance(op, Elemwise):
            return self._known(var) or self._elemwise(op.scalar_op, inputs)
        if isinstance(op, DimShuffle):
            return self._dimshuffle(op, inputs[0])
        if isinstance(op, Subtensor | AdvancedSubtensor):
            return self._subtensor(var)
        if isinstance(op, AdvancedIncSubtensor | IncSubtensor):
            return self._incsubtensor(op, var)
        if isinstance(op, Dot):
            return f"{self.wrap(inputs[0], 3)} @ {self.wrap(inputs[1], 3)}", MATMUL
        if isinstance(op, Cholesky) and is_gram(inputs[0], self.lkj):
            return self._expr(strip_expand(inputs[0]).owner.inputs[0])  # cholesky(L @ L.T) = L
        return self._call(op, inputs)

    def _known(self, var: Variable) -> tuple[str, int] | None:
        """A guard's safe scale (its value at every valid point: the scale), the guard's
        Potential (``decenter.families.guard``), ``isfinite(x)``."""
        x = safe_input(var)
        if x is not None:
            return self._expr(x)
        test = guard_test(var)
        if test is not None:
            kind, x = test
            if kind == "chol":
                cond = f"{self.wrap(x, ATOM)} succeeds"
            else:  # NaN fails both comparisons
                cond = f"0 < {self.wrap(x, 1)} < inf"
                cond = cond if strip_expand(x).ndim == 0 else f"all({cond})"
            return f"0 if {cond} else -inf", -1
        x = isfinite_input(var)
        return None if x is None else (f"isfinite({self.expr(x)})", ATOM)

    def _transparent(self, op, inputs) -> tuple[str, int]:
        if isinstance(op, Shape_i):
            return f"{self.wrap(inputs[0], ATOM)}.shape[{op.i}]", ATOM
        return self._expr(inputs[0])  # Alloc: the value, broadcast (numpy does it implicitly)

    def _call(self, op, inputs) -> tuple[str, int]:
        args = [self.expr(x) for x in inputs if hasattr(x.type, "ndim")]
        if isinstance(op, CumOp):
            name = {"add": "cumsum", "mul": "cumprod"}.get(op.mode, f"cum{op.mode}")
            return f"{name}({args[0]}{'' if op.axis in (None, 0) else f', axis={op.axis}'})", ATOM
        if isinstance(op, Join):
            return self._join(op, inputs), ATOM
        if isinstance(op, MakeVector):
            return f"[{', '.join(args)}]", ATOM
        if isinstance(op, ExtractDiag):
            return f"diagonal({args[0]})", ATOM
        if isinstance(op, Shape):
            return f"{self.wrap(inputs[0], ATOM)}.shape", ATOM
        name = getattr(op, "name", None) or type(op).__name__
        return f"{str(name).lower()}({', '.join(args)})", ATOM

    def _join(self, op: Join, inputs: list[Variable]) -> str:
        """``concatenate``; ``stack`` when every part gained the joined axis; a nested list
        ``[[a, b], [c, d]]`` when the parts are lists (``pt.stack`` of ``pt.stack``)."""
        axis = f", axis={op.axis}" if op.axis != 0 else ""
        parts = [unexpand(x, op.axis) for x in inputs]
        if any(x is None for x in parts):
            return f"concatenate([{', '.join(map(self.expr, inputs))}]{axis})"
        listed = "[" + ", ".join(map(self.expr, parts)) + "]"
        return (
            listed if op.axis == 0 and all(map(is_nested_list, parts)) else f"stack({listed}{axis})"
        )

    def _elemwise(self, sop, inputs) -> tuple[str, int]:
        if isinstance(sop, _SCALAR_CASTS):
            return self._expr(inputs[0])
        if isinstance(sop, ps.Second):  # fill: the value, broadcast
            return self._expr(inputs[1])
        if isinstance(sop, ps.Neg):
            return "-" + self.wrap(inputs[0], 3), 3
        if isinstance(sop, ps.Reciprocal) or (isinstance(sop, ps.TrueDiv) and is_one(inputs[0])):
            inner = reciprocal_input(inputs[-1])
            if inner is not None:  # 1 / (1 / x): a rate made a scale and back (Gamma's beta)
                return self._expr(inner)
            return "1 / " + self.wrap(inputs[-1], 3), 2
        if isinstance(sop, ps.Sqr):
            return self.wrap(inputs[0], 5) + " ** 2", 4
        if isinstance(sop, ps.Invert):
            return "~" + self.wrap(inputs[0], 3), 3
        if type(sop) in _LOGICAL:
            sym, prec = _LOGICAL[type(sop)]
            return sym.join(self.wrap(x, prec + 0.01) for x in inputs), prec
        if type(sop) in _COMPARE:
            return _COMPARE[type(sop)].join(self.wrap(x, 1) for x in inputs), 0
        if type(sop) in _BINARY:
            if isinstance(sop, ps.Add):
                inputs = [x for x in inputs if not is_zero(x)] or inputs[:1]
                if len(inputs) == 1:
                    return self._expr(inputs[0])
            sym, prec = _BINARY[type(sop)]
            parts = [self.wrap(inputs[0], prec + isinstance(sop, ps.Pow))]
            # the right operand of -, /, //, % binds tighter: a - (b - c)
            right = prec + (not isinstance(sop, ps.Add | ps.Mul | ps.Pow))
            parts += [self.wrap(x, right) for x in inputs[1:]]
            return sym.join(parts), prec
        fname = type(sop).__name__.lower()  # exp, log, sigmoid, switch, ...
        return f"{fname}({', '.join(self.expr(x) for x in inputs)})", ATOM

    def _dimshuffle(self, op: DimShuffle, x: Variable) -> tuple[str, int]:
        order = list(op.new_order)
        kept = [i for i in order if i != "x"]
        if kept != sorted(kept):
            n = x.ndim
            if order == [*range(n - 2), n - 1, n - 2]:
                return f"{self.wrap(x, ATOM)}.T" if n == 2 else f"{self.wrap(x, ATOM)}.mT", ATOM
            return f"transpose({self.expr(x)}, {tuple(kept)})", ATOM
        inner = order[next((k for k, i in enumerate(order) if i != "x"), len(order)) :]
        if "x" not in inner:  # axes added on the left (or dropped): numpy broadcasts alike
            return self._expr(x)
        idx = ", ".join("None" if i == "x" else ":" for i in inner)
        return f"{self.wrap(x, ATOM)}[{idx}]", ATOM

    def _subtensor(self, var: Variable) -> tuple[str, int]:
        pair = matvec(var)
        if pair is not None:
            a, b = strip_expand(pair[0]), pair[1]
            if b.ndim == 1:
                return f"{self.wrap(a, 3)} @ {self.wrap(b, 3)}", MATMUL
            # a matrix broadcast over batch axes is the user's matrix: .T
            t = ".T" if all(n == 1 for n in a.type.shape[:-2]) else ".mT"
            return f"{self.wrap(b, 3)} @ {self.wrap(a, ATOM)}{t}", MATMUL
        return f"{self.wrap(var.owner.inputs[0], ATOM)}[{self._indices(var)}]", ATOM

    def _incsubtensor(self, op, var: Variable) -> tuple[str, int]:
        base, value, *idx = var.owner.inputs
        if value in self.lkj and is_tril_fill(base, idx):
            return self.names[value], ATOM  # the Cholesky factor of an LKJCholeskyCov
        if is_tril_fill(base, idx):
            return f"expand_packed_triangular({base.type.shape[-1]}, {self.expr(value)})", ATOM
        fn = "set_subtensor" if getattr(op, "set_instead_of_inc", False) else "inc_subtensor"
        return f"{fn}({self.wrap(base, ATOM)}[...], {self.expr(value)})", ATOM

    def _indices(self, var: Variable) -> str:
        op, inputs = var.owner.op, var.owner.inputs
        idx = (
            indices_from_subtensor(inputs[1:], op.idx_list)
            if isinstance(op, Subtensor)
            else inputs[1:]
        )
        out = []
        for i in idx:
            if isinstance(i, slice):
                parts = ["" if _is_none(p) else self.expr(p) if hasattr(p, "type") else str(p)
                         for p in (i.start, i.stop, i.step)]  # fmt: skip
                out.append(":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else ""))
            elif _is_none(i):
                out.append(":")
            else:
                out.append(self.expr(i) if hasattr(i, "type") else str(i))
        return ", ".join(out)


def _is_none(x) -> bool:
    return x is None or isinstance(getattr(x, "type", None), NoneTypeT)
