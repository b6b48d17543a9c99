"""The partially centered Normal offset's op: a Normal whose scale is positive by construction.

The offset of a partially centered Normal (or LogNormal: a Normal inside ``exp``) has the
scale ``(s / unit) ** lam = exp(lam * log(s / unit))`` per element (decenter.families.rules).
PyMC's ``Normal.logp`` tests ``sigma > 0``, and PyTensor's rewrites cannot see that an ``exp``
is positive, so the test costs one more ``exp`` per element in every gradient: radon's
default model in nutpie cost 1.66x the non-centered one per gradient with it, 1.44-1.51x
without (two runs; docs/benchmarks.md, "What the default's model costs per gradient inside
nutpie"). Where that ``exp`` is not positive (its argument is not finite, or below about -745
where ``exp`` underflows to 0) the log density is not finite either, and every sampler
rejects the point as it rejects PyMC's ``-inf``. Everything else (draws, ``logcdf``, the
samplers' backends, ``isinstance`` tests, how the model prints) is the Normal's. The log
density is PyMC 6.4's formula written again without its test (one line), rather than PyMC's
graph with the test node unwrapped, which would read PyMC's internals.

Examples
--------
>>> import pymc as pm
>>> from decenter.families.positive import PositiveScaleNormalRV, positive_scale
>>> x = positive_scale(pm.Normal.dist(0.0, 2.0, size=3))
>>> isinstance(x.owner.op, PositiveScaleNormalRV), float(pm.logp(x, 0.0).eval()[0]) == float(
...     pm.logp(pm.Normal.dist(0.0, 2.0), 0.0).eval())
(True, True)
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.tensor.random.basic import NormalRV

from decenter._pymc import register_logprob

__all__ = ["PositiveScaleNormalRV", "positive_scale"]


class PositiveScaleNormalRV(NormalRV):
    """A Normal drawn with a scale that is positive by construction: no ``sigma > 0`` test."""


def _logp(value, mu, sigma):
    # PyMC 6.4's Normal.logp without check_parameters(sigma > 0)
    return -0.5 * pt.pow((value - mu) / sigma, 2) - np.log(np.sqrt(2.0 * np.pi)) - pt.log(sigma)


register_logprob(PositiveScaleNormalRV, _logp)
_OP = PositiveScaleNormalRV()


def positive_scale(rv: Variable) -> Variable:
    """``rv`` (a Normal draw, as ``pm.Normal.dist`` builds it) drawn by
    :class:`PositiveScaleNormalRV` from the same inputs."""
    return _OP.make_node(*rv.owner.inputs).default_output()
