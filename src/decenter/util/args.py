"""Arguments as PyMC takes them: ``random_seed`` and ``var_names``, normalised in one place;
flags and counts checked before any work (``check_bool``, ``check_int``).

``random_seed`` accepts what ``pm.sample`` accepts (None, an int, a ``np.random.Generator``,
a ``RandomState`` or a ``SeedSequence``) and becomes one int (or None), so a seed can be
reused for two runs (compare) and recorded in a report. ``var_names`` accepts names or the
model's variables, as ``pm.do`` and ``pm.observe`` do.

Examples
--------
>>> import numpy as np
>>> from decenter.util.args import seed_int
>>> seed_int(None) is None, seed_int(7)
(True, 7)
>>> seed_int(np.random.default_rng(1)) == seed_int(np.random.default_rng(1))
True
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pymc as pm

__all__ = [
    "RandomSeed",
    "SAMPLERS",
    "seed_int",
    "var_names_arg",
    "names_of",
    "check_bool",
    "check_int",
    "check_sample_counts",
]

#: The ``nuts_sampler`` values of ``pm.sample``.
SAMPLERS = ("pymc", "nutpie", "numpyro", "blackjax")

RandomSeed = int | np.random.Generator | np.random.RandomState | np.random.SeedSequence | None
SEED_HELP = "None, an int >= 0, a np.random.Generator, RandomState or SeedSequence"
_MAX_SEED = 2**32


def seed_int(random_seed: Any, where: str = "random_seed") -> int | None:
    """One int in [0, 2**32) from anything ``pm.sample`` accepts as ``random_seed``, or None.

    A Generator or RandomState is advanced by one draw, as PyMC does when it seeds chains.
    """
    if random_seed is None:
        return None
    if isinstance(random_seed, bool):
        raise TypeError(f"{where} must be {SEED_HELP}; got bool {random_seed!r}")
    if isinstance(random_seed, int | np.integer):
        if not 0 <= int(random_seed) < _MAX_SEED:
            raise ValueError(
                f"{where} must lie in [0, 2**32) (or be {SEED_HELP}); got {random_seed}"
            )
        return int(random_seed)
    if isinstance(random_seed, np.random.Generator):
        return int(random_seed.integers(_MAX_SEED))
    if isinstance(random_seed, np.random.RandomState):
        return int(random_seed.randint(_MAX_SEED, dtype=np.int64))
    if isinstance(random_seed, np.random.SeedSequence):
        return int(random_seed.generate_state(1, dtype=np.uint32)[0])
    raise TypeError(f"{where} must be {SEED_HELP}; got {type(random_seed).__name__}")


def var_names_arg(var_names: Any, vars: Any, *, stacklevel: int = 3) -> Any:
    """``var_names``, or the deprecated ``vars=`` with a DeprecationWarning; both is an error."""
    if vars is None:
        return var_names
    if var_names is not None:
        raise TypeError("give var_names or the deprecated vars, not both (vars= is var_names=)")
    warnings.warn(
        "decenter: `vars=` is renamed `var_names=` (as in PyMC and ArviZ); "
        "`vars=` will be removed in the next release",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return vars


def names_of(model: Any, var_names: Any) -> list[str] | None:
    """Names from names or model variables (``pm.do`` style), each a variable of ``model``."""
    if var_names is None:
        return None
    if isinstance(var_names, str) or hasattr(var_names, "type"):
        var_names = [var_names]
    if not isinstance(var_names, Iterable):
        raise TypeError(
            "var_names must be a list of free variable names or variables, e.g. "
            f"var_names=['theta'] or [model['theta']]; got {type(var_names).__name__}"
        )
    by_var = {id(v): name for name, v in model.named_vars.items()}
    out = []
    for v in var_names:
        if isinstance(v, str):
            out.append(v)
        elif id(v) in by_var:
            out.append(by_var[id(v)])
        elif hasattr(v, "type"):
            raise ValueError(
                f"var_names: the variable {getattr(v, 'name', None)!r} is not a variable of this "
                "model (a variable of another model, or an unnamed expression); pass a name"
            )
        else:
            raise TypeError(
                "var_names must hold variable names (str) or the model's variables, got "
                f"{type(v).__name__} {v!r}"
            )
    return out


def check_bool(value: Any, name: str) -> None:
    """``value`` must be True or False (numpy's bool too): ``include_loc_only="yes"`` is not."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def check_int(value: Any, name: str, minimum: int, *, none: bool = False) -> None:
    """``value`` must be an int (not a bool) of at least ``minimum``, or None if ``none``."""
    if value is None and none:
        return
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        what = "an integer" + (" or None" if none else "")
        raise TypeError(f"{name} must be {what}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def check_sample_counts(kwargs: Mapping[str, Any], *, min_draws: int = 0) -> None:
    """``draws``, ``tune``, ``chains`` and ``cores`` among ``pm.sample`` keywords, as PyMC
    needs them (draws and tune >= 0, chains and cores >= 1 or None), before any work."""
    for name, minimum, none in (
        ("draws", min_draws, False),
        ("tune", 0, False),
        ("chains", 1, True),
        ("cores", 1, True),
    ):
        if name in kwargs:
            check_int(kwargs[name], name, minimum, none=none)


def check_model(model: Any) -> pm.Model:
    """Raise a TypeError that says what to pass when ``model`` is not a ``pm.Model``."""
    if not isinstance(model, pm.Model):
        raise TypeError(
            f"expected a pymc.Model, got {type(model).__name__}; pass the model object, e.g. "
            "`with pm.Model() as model: ...` then `decenter.transform(model)`"
        )
    if model.parent is not None:
        raise ValueError(
            "this is a sub-model (pm.Model(name=...) inside another); pass the outermost model"
        )
    return model
