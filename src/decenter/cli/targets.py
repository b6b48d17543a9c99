"""Loading a TARGET: ``path/to/file.py:NAME``, ``package.module:NAME`` or ``file.py`` alone.

NAME is a ``pm.Model`` or a zero-argument function returning one. Every failure is a
:class:`CliError` that says what is wrong and what to pass instead.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

from decenter.cli.options import CliError

__all__ = ["load_target", "describe"]


def _split_target(spec: str) -> tuple[str, str | None]:
    """("path/or.module", "NAME" or None); a Windows drive colon is not a separator."""
    source, sep, name = spec.rpartition(":")
    if sep and re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name) and source:
        return source, name
    return spec, None


def _is_path(source: str) -> bool:
    return source.endswith(".py") or os.sep in source or "/" in source or os.path.exists(source)


def _load_file(path_text: str) -> types.ModuleType:
    path = Path(path_text)
    if not path.exists():
        raise CliError(f"no such file: {path_text}")
    if path.is_dir():
        raise CliError(f"{path_text} is a directory; pass a Python file (path/to/file.py)")
    try:
        source = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"cannot read {path_text}: {e}") from e
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        raise CliError(f"syntax error in {path_text}, line {e.lineno}: {e.msg}") from e
    # A module of its own (not __main__): an `if __name__ == "__main__":` block does not run.
    name = "_decenter_target_" + re.sub(r"\W", "_", path.stem)
    module = types.ModuleType(name)
    module.__file__ = str(path.resolve())
    sys.modules[name] = module  # dataclasses and pickling look the module up
    sys.path.insert(0, str(path.resolve().parent))  # its own imports of sibling files
    try:
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for our output (json, dot)
            exec(code, module.__dict__)
    except SystemExit as e:
        raise CliError(f"{path_text} called sys.exit({e.code!r}) while loading") from e
    except Exception as e:
        raise CliError(f"running {path_text} raised {describe(e)}") from e
    return module


def _load_module(modname: str) -> types.ModuleType:
    if os.getcwd() not in sys.path:  # like `python -m`: modules in the working directory
        sys.path.insert(0, os.getcwd())
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name and (modname == e.name or modname.startswith(e.name + ".")):
            raise CliError(f"no such file or module: {modname} (a file needs a .py suffix)") from e
        raise CliError(f"importing {modname} raised {describe(e)}") from e
    except SyntaxError as e:
        raise CliError(f"syntax error in {e.filename}, line {e.lineno}: {e.msg}") from e
    except Exception as e:
        raise CliError(f"importing {modname} raised {describe(e)}") from e


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def describe(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def load_target(spec: str) -> tuple[Any, str]:
    """The model named by ``spec`` and a label for it; :class:`CliError` says what is wrong.

    Examples
    --------
    >>> from decenter.cli.targets import load_target
    >>> model, label = load_target("decenter.examples.radon:centered_model")
    >>> label, len(model.free_RVs)
    ('centered_model', 7)
    """
    import pymc as pm

    source, name = _split_target(spec)
    module = _load_file(source) if _is_path(source) else _load_module(source)
    if name is None:
        return _the_model(module, source)
    obj = _attribute(module, source, name)
    if isinstance(obj, pm.Model):
        return obj, name
    return _call(obj, name), name


def _the_model(module: types.ModuleType, source: str) -> tuple[Any, str]:
    """The one ``pm.Model`` at the module's top level (``file.py`` without ``:NAME``)."""
    import pymc as pm

    models: dict[int, str] = {}
    for key, value in vars(module).items():
        if isinstance(value, pm.Model) and not key.startswith("_"):
            models.setdefault(id(value), key)
    if len(models) == 1:
        key = next(iter(models.values()))
        return getattr(module, key), key
    if not models:
        funcs = [
            k
            for k, v in vars(module).items()
            if inspect.isfunction(v) and v.__module__ == module.__name__ and not k.startswith("_")
        ]
        hint = f" (functions there: {', '.join(funcs)})" if funcs else ""
        raise CliError(
            f"no pm.Model at module level in {source}; name one as {source}:NAME, NAME a "
            f"model or a function returning one{hint}"
        )
    names = sorted(models.values())
    raise CliError(
        f"{source} defines several models ({', '.join(names)}); choose one, "
        f"e.g. {source}:{names[0]}"
    )


def _attribute(module: types.ModuleType, source: str, name: str) -> Any:
    """``module.NAME``, NAME dotted (``Class.attr``)."""
    import pymc as pm

    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            models = [k for k, v in vars(module).items() if isinstance(v, pm.Model)]
            hint = f" (models there: {', '.join(models)})" if models else ""
            raise CliError(f"{source} has no attribute {name!r}{hint}")
        obj = getattr(obj, part)
    return obj


def _call(obj: Any, name: str) -> Any:
    """The model a zero-argument function NAME returns."""
    import pymc as pm

    if not callable(obj):
        raise CliError(
            f"{name} is {_a(type(obj).__name__)}, not a pm.Model or a function returning one"
        )
    try:
        required = [
            p.name
            for p in inspect.signature(obj).parameters.values()
            if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
    except (TypeError, ValueError):
        required = []
    if required:
        raise CliError(
            f"{name}() needs arguments ({', '.join(required)}); NAME must be a pm.Model or a "
            "function that takes none"
        )
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = obj()
    except Exception as e:
        raise CliError(f"calling {name}() raised {describe(e)}") from e
    if not isinstance(result, pm.Model):
        raise CliError(f"{name}() returned {_a(type(result).__name__)}, not a pm.Model")
    return result
