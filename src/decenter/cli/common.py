"""What several commands share: transform and verify with the command's options, progress,
sampler checks, JSON output."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from decenter.cli.options import CliError
from decenter.cli.targets import load_target
from decenter.util.progress import stage

__all__ = ["progress", "var_names", "transform", "verify", "other", "check_sampler"]

# The extra that installs each optional sampler (pyproject [project.optional-dependencies]).
SAMPLER_EXTRAS = {"nutpie": "nutpie", "numpyro": "jax", "blackjax": "jax"}


def progress(args) -> bool:
    """Progress messages unless --no-progress (PyMC's progressbar=False)."""
    return not getattr(args, "no_progress", False)


def var_names(args) -> list[str] | None:
    if not getattr(args, "var_names", None):
        return None
    return [v.strip() for item in args.var_names for v in item.split(",") if v.strip()]


def _what(strategy) -> str:
    """What the strategy spends its seconds on, for the progress line."""
    if strategy == "pilot":
        return "strategy=pilot samples the non-centered model briefly"
    return "strategy=auto fits the model to its data"


def transform(model, args):
    """(new model, plan) with the command's transform options."""
    import decenter

    slow = args.strategy in ("auto", "pilot")  # the fit or the pilot takes seconds
    with stage(f"transforming ({_what(args.strategy)})", enabled=slow and progress(args)):
        return decenter.transform(
            model,
            var_names(args),
            strategy=args.strategy,
            include_loc_only=args.include_loc_only,
            random_seed=args.seed,
            return_plan=True,
            progressbar=progress(args),
        )


def verify(model, other, args, *, n_points: int = 20):
    try:
        from decenter import verify as verify_fn
    except ImportError as e:  # pragma: no cover - only when the module is missing
        raise CliError("verification is not available: decenter.verify does not import") from e
    with stage("verifying", enabled=progress(args)):
        return verify_fn(model, other, n_points=n_points, random_seed=args.seed)


def other(args, model):
    """The model to compare with and the plan that made it (None for --against)."""
    if getattr(args, "against", None):
        found, _ = load_target(args.against)
        return found, None
    return transform(model, args)


def check_sampler(name: str | None) -> None:
    extra = SAMPLER_EXTRAS.get(name or "")
    if extra and importlib.util.find_spec(name) is None:
        raise CliError(f'sampler {name!r} is not installed: pip install "decenter[{extra}]"')


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=json_default) + "\n")


def write_json(path: str | Path, obj: Any) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, default=json_default)
        f.write("\n")


def json_default(o: Any) -> Any:
    from decenter.util.jsonable import jsonable

    value = jsonable(o)
    return value if value is not o else str(o)
