"""Graph patterns the printer recognises: a broadcast, ``1 / x``, ``L @ L.T``, ``A @ b[..., None]``,
an unpacked triangular factor; and constants as a user writes them.

Examples
--------
>>> import pytensor.tensor as pt
>>> from decenter.cli._patterns import is_transpose_of
>>> a = pt.matrix("a")
>>> is_transpose_of(a.T, a), is_transpose_of(a, a)
(True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.scalar as ps
import pytensor.tensor as pt
from pytensor.graph.basic import Constant, Variable, equal_computations
from pytensor.tensor.basic import Alloc, Join, MakeVector
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.math import Dot
from pytensor.tensor.subtensor import AdvancedIncSubtensor, Subtensor, indices_from_subtensor

__all__ = [
    "const_text",
    "strip_expand",
    "is_zero",
    "is_one",
    "reciprocal_input",
    "is_tril_fill",
    "is_gram",
    "is_transpose_of",
    "matvec",
    "unexpand",
    "is_nested_list",
    "isfinite_input",
]


def const_text(value: Any) -> str:
    """A constant as a user writes it: ``5``, ``[1, 2]``, ``[28, 8, -3, ..., 12]``.

    Examples
    --------
    >>> const_text(5.0), const_text(np.arange(3)), const_text(np.zeros(85)), const_text(np.ones((2, 3)))
    ('5', '[0, 1, 2]', 'zeros(85)', 'ones((2, 3))')
    >>> const_text(np.arange(10.0))
    '[0, 1, 2, ..., 9] (10 values)'
    """
    a = np.asarray(value)
    if a.dtype.kind == "b":
        return str(bool(a)) if a.size == 1 else f"<{a.size} booleans>"
    if a.size == 1:
        return f"{a.reshape(-1)[0]:.4g}"
    shape = str(a.shape[0]) if a.ndim == 1 else str(a.shape)
    first = a.reshape(-1)[0]
    if np.all(a == first):
        name = {0: "zeros", 1: "ones"}.get(float(first))
        return f"{name}({shape})" if name else f"full({shape}, {first:.4g})"
    if a.ndim == 1 and a.size <= 8:
        return "[" + ", ".join(f"{v:.4g}" for v in a) + "]"
    if a.ndim == 1:
        head = ", ".join(f"{v:.4g}" for v in a[:3])
        return f"[{head}, ..., {a[-1]:.4g}] ({a.size} values)"
    return f"constant of shape {a.shape}"


def strip_expand(x: Variable) -> Variable:
    """``x`` without the axes a DimShuffle added on its left (numpy broadcasts them)."""
    while x.owner is not None and isinstance(x.owner.op, DimShuffle):
        order = tuple(x.owner.op.new_order)
        n = x.owner.inputs[0].ndim
        if order[len(order) - n :] != tuple(range(n)) or len(order) < n:
            break
        x = x.owner.inputs[0]
    return x


def is_zero(x: Variable) -> bool:
    return _is_scalar_const(x, 0.0)


def is_one(x: Variable) -> bool:
    return _is_scalar_const(x, 1.0)


def _is_scalar_const(x: Variable, value: float) -> bool:
    x = strip_expand(x)
    node = x.owner
    if (
        node is not None
        and isinstance(node.op, Elemwise)
        and isinstance(node.op.scalar_op, ps.Second)
    ):
        x = strip_expand(node.inputs[1])  # fill(shape_of, value): the value, broadcast
    return isinstance(x, Constant) and x.data.size == 1 and float(x.data.reshape(-1)[0]) == value


def reciprocal_input(x: Variable) -> Variable | None:
    """``y`` when ``x`` is ``1 / y``."""
    x = strip_expand(x)
    if x.owner is None or not isinstance(x.owner.op, Elemwise):
        return None
    sop, inputs = x.owner.op.scalar_op, x.owner.inputs
    if isinstance(sop, ps.Reciprocal):
        return inputs[0]
    if isinstance(sop, ps.TrueDiv) and is_one(inputs[0]):
        return inputs[1]
    return None


def is_tril_fill(base: Variable, idx: list) -> bool:
    """``zeros((n, n))[tril_indices(n)] = packed``: ``expand_packed_triangular``."""
    if base.owner is None or not isinstance(base.owner.op, Alloc) or len(idx) != 2:
        return False
    if not (is_zero(base.owner.inputs[0]) and all(isinstance(i, Constant) for i in idx)):
        return False
    n = base.type.shape[-1]
    rows, cols = (np.asarray(i.data) for i in idx)
    return n is not None and np.array_equal(np.stack([rows, cols]), np.tril_indices(n))


def is_gram(cov: Variable, factors: set) -> bool:
    """``cov`` is ``L @ L.T`` with ``L`` an LKJCholeskyCov factor (a positive diagonal)."""
    node = strip_expand(cov).owner
    if node is None or not isinstance(getattr(node.op, "core_op", node.op), Dot):
        return False
    a, b = node.inputs
    inc = a.owner
    ok = inc is not None and isinstance(inc.op, AdvancedIncSubtensor) and inc.inputs[1] in factors
    return ok and is_transpose_of(b, a)


def is_transpose_of(b: Variable, a: Variable) -> bool:
    """``b`` is ``a`` with its last two axes swapped."""
    node = b.owner
    if node is None or not isinstance(node.op, DimShuffle) or node.inputs[0] is not a:
        return False
    n = a.ndim
    return n >= 2 and tuple(node.op.new_order) == (*range(n - 2), n - 1, n - 2)


def matvec(var: Variable) -> tuple[Variable, Variable] | None:
    """``(A @ b[..., None])[..., 0]`` as ``(A, b)``: a matrix times a batch of vectors."""
    op, inputs = var.owner.op, var.owner.inputs
    if not isinstance(op, Subtensor):
        return None
    prod = inputs[0].owner
    if prod is None or not isinstance(getattr(prod.op, "core_op", prod.op), Dot):
        return None
    idx = indices_from_subtensor(inputs[1:], op.idx_list)
    col = prod.inputs[1].owner
    if col is None or not isinstance(col.op, DimShuffle) or col.op.new_order[-1] != "x":
        return None
    last = idx[-1] if len(idx) == inputs[0].ndim else None
    if last is None or any(not (isinstance(i, slice) and i == slice(None)) for i in idx[:-1]):
        return None
    try:
        if int(pt.get_underlying_scalar_constant_value(last)) not in (0, -1):
            return None
    except Exception:
        return None
    return prod.inputs[0], col.inputs[0]


def unexpand(x: Variable, axis: int) -> Variable | None:
    """``y`` when ``x`` is ``y`` with a new axis at ``axis`` (a part of ``pt.stack``)."""
    node = x.owner
    if node is None or not isinstance(node.op, DimShuffle):
        return None
    n = node.inputs[0].ndim
    want = (*range(axis), "x", *range(axis, n))
    return node.inputs[0] if tuple(node.op.new_order) == want else None


def is_nested_list(x: Variable) -> bool:
    """``x`` is ``pt.stack([a, b])`` of scalars, or a stack along axis 0 of such."""
    node = x.owner
    if node is None:
        return False
    if isinstance(node.op, MakeVector):
        return True
    if not isinstance(node.op, Join) or node.op.axis != 0:
        return False
    parts = [unexpand(i, 0) for i in node.inputs]
    return all(p is not None and is_nested_list(p) for p in parts)


def isfinite_input(var: Variable) -> Variable | None:
    """``x`` when ``var`` is ``pt.isfinite(x)`` (PyTensor writes it with ``isnan`` and ``isinf``)."""
    node = var.owner
    if (
        node is None
        or not isinstance(node.op, Elemwise)
        or not isinstance(node.op.scalar_op, ps.AND)
    ):
        return None
    x = node.inputs[0]
    for _ in range(2):  # invert(isnan(x))
        if x.owner is None or not isinstance(x.owner.op, Elemwise):
            return None
        x = x.owner.inputs[0]
    return x if equal_computations([var], [pt.isfinite(x)]) else None
