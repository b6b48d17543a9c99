"""Helpers shared by the checks: compilation, data values, messages."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.logprob.utils import CheckParameterValue
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors


def mode() -> Any:
    """The compilation mode: ``decenter.verify.MODE`` (read at call time, so tests can set it)."""
    return sys.modules["decenter.verify"].MODE


def checks_to_ninf(outputs: list[Variable], check_bounds: bool = True) -> list[Variable]:
    """Replace PyMC's parameter checks by ``switch(ok, logp, -inf)`` (or drop them when the
    model has ``check_bounds=False``), as ``pymc.compile`` does with graph rewrites, so that
    every mode (even one without rewrites) gives -inf where a parameter is invalid instead of
    raising ParameterValueError."""
    for _ in range(100):  # checks nested inside checks are replaced one level per round
        nodes = {
            v.owner
            for v in ancestors(outputs)
            if v.owner is not None and isinstance(v.owner.op, CheckParameterValue)
        }
        if not nodes:
            return outputs
        repl = {}
        for node in nodes:
            logp, *conds = node.inputs
            if check_bounds and node.op.can_be_replaced_by_ninf:
                cond = conds[0] if len(conds) == 1 else pt.all(conds)
                logp = pt.switch(cond, logp, -np.inf)
            repl[node.outputs[0]] = pt.cast(logp, node.outputs[0].dtype)
        outputs = graph_replace(outputs, repl, strict=False)
    return outputs


def compile_fn(inputs: list[Variable], outputs: list[Variable], check_bounds: bool = True):
    """A compiled function of the outputs, parameter checks giving -inf (see above)."""
    outputs = checks_to_ninf(list(outputs), check_bounds)
    return pytensor.function(inputs, outputs, on_unused_input="ignore", mode=mode())


def dims(model: pm.Model, name: str) -> tuple:
    return tuple(model.named_vars_to_dims.get(name) or ())


def value_of(var: Variable) -> np.ndarray:
    """The numbers behind observed data or a pm.Data variable."""
    if isinstance(var, Constant):
        return np.asarray(var.data)
    if hasattr(var, "get_value"):
        return np.asarray(var.get_value())
    return np.asarray(var.eval())


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def is_float(var: Variable) -> bool:
    return var.dtype.startswith("float")


def seed_of(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def fmt(x: float) -> str:
    return f"{x:.3g}"


def cause(err: BaseException) -> str:
    """The exception's type and first line, for a "could not check" message."""
    first = (str(err).strip().splitlines() or [""])[0][:200]
    return f"{type(err).__name__}: {first}" if first else type(err).__name__
