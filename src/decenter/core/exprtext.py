"""Readable text of PyTensor expressions, for plan reasons (``sigma_b * z``)."""

from __future__ import annotations

import numpy as np
import pytensor.scalar as ps
from pytensor.compile.ops import DeepCopyOp, ViewOp
from pytensor.graph.basic import Constant, Variable
from pytensor.tensor.basic import Alloc
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.math import Dot
from pytensor.tensor.shape import Reshape, SpecifyShape
from pytensor.tensor.subtensor import AdvancedSubtensor, Subtensor

__all__ = ["describe"]

_SHAPE_OPS = (
    DimShuffle,
    Subtensor,
    AdvancedSubtensor,
    Alloc,
    Reshape,
    SpecifyShape,
    ViewOp,
    DeepCopyOp,
)


_INFIX = {ps.Add: " + ", ps.Sub: " - ", ps.Mul: " * ", ps.TrueDiv: " / ", ps.Pow: "**"}


def describe(var: Variable, depth: int = 4) -> str:
    """A short readable text of an expression, for messages (``sigma_b * z``).

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> s, z = pt.scalar("s"), pt.scalar("z")
    >>> describe(pt.exp(s) * z - 1)
    'exp(s) * z - 1'
    >>> a, b = pt.matrix("a"), pt.matrix("b")
    >>> describe(pt.matmul(a + 1, b)), describe(pt.dot(a, b))
    ('(a + 1) @ b', 'a @ b')
    """
    if var.name:
        return var.name
    if isinstance(var, Constant):
        return _const_text(var)
    node = var.owner
    if node is None or depth == 0:
        return "..."
    op = node.op
    args = [describe(x, depth - 1) for x in node.inputs]
    if isinstance(op, Elemwise):
        sop = op.scalar_op
        if type(sop) in _INFIX:
            loose = not isinstance(sop, ps.Add)  # a sum inside needs parentheses
            parts = [
                f"({a})" if loose and (k or not isinstance(sop, ps.Sub)) and _is_sum(a) else a
                for k, a in enumerate(args)
            ]
            return _INFIX[type(sop)].join(parts)
        if isinstance(sop, ps.Neg):
            return f"-{args[0]}"
        if isinstance(sop, ps.Reciprocal):
            return f"1 / {args[0]}"
        if isinstance(sop, ps.Second | ps.Identity | ps.Cast):
            return args[-1]
        return f"{type(sop).__name__.lower()}({', '.join(args)})"
    if isinstance(op, _SHAPE_OPS):
        return args[0] + ("[...]" if isinstance(op, Subtensor | AdvancedSubtensor) else "")
    if _transposed(node.inputs[0], var):
        return f"{args[0]}.T"
    if isinstance(op, Dot) or _is_blockwise_matmul(op):
        return " @ ".join(f"({a})" if _is_sum(a) else a for a in args)
    return f"{type(op).__name__.lower()}({', '.join(args)})"


def _is_sum(text: str) -> bool:
    return " + " in text or " - " in text


def _const_text(var: Constant) -> str:
    v = np.asarray(var.data)
    return f"{v.item():g}" if v.size == 1 else f"array of shape {v.shape}"


def _is_blockwise_matmul(op) -> bool:
    """``pt.matmul``: a Blockwise of Dot."""
    return isinstance(getattr(op, "core_op", None), Dot)


def _transposed(a: Variable, b: Variable) -> bool:
    """b is a.T: a DimShuffle swapping the last two axes (``pt.matrix_transpose`` makes one)."""
    node = b.owner
    if node is None or node.inputs[0] is not a:
        return False
    op = node.op
    n = a.ndim
    return (
        isinstance(op, DimShuffle)
        and n >= 2
        and tuple(op.new_order) == (*range(n - 2), n - 1, n - 2)
    )
