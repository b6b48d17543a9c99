"""The outcome of :func:`decenter.verify`: one :class:`Check` per check, in a report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from decenter.report.notebook import report_html
from decenter.util.jsonable import jsonable

__all__ = ["Check", "VerificationReport", "PASS", "FAIL", "UNCHECKED"]

PASS, FAIL, UNCHECKED = "pass", "fail", "could not check"


@dataclass
class Check:
    """The outcome of one check.

    ``status`` is ``"pass"``, ``"fail"`` (the check found a difference) or ``"could not
    check"`` (it could not run: an exception while evaluating, a Jacobian block too large, no
    finite point; the cause is in ``message``). ``passed`` is True only for ``"pass"``.
    ``figure`` is the check's headline number: the number of problems (structure), the constant
    offset ``c`` (change_of_variables), the smallest Holm-adjusted p-value (distribution).
    ``details`` holds the rest (JSON-serialisable values).

    Examples
    --------
    >>> Check("structure", True, 0.0, "same names").status
    'pass'
    >>> unchecked("distribution", "could not check: ValueError: boom").passed
    False
    """

    name: str
    passed: bool
    figure: float | None
    message: str
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    status: str = ""

    def __post_init__(self) -> None:
        if not self.status:
            self.status = PASS if self.passed else FAIL
        self.passed = self.status == PASS

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "name": self.name,
                "passed": bool(self.passed),
                "status": self.status,
                "figure": None if self.figure is None else float(self.figure),
                "message": self.message,
                "seconds": round(float(self.seconds), 3),
                "details": self.details,
            }
        )


def unchecked(name: str, message: str, **details: Any) -> Check:
    """A check that could not run (never a verdict of "not equivalent")."""
    return Check(name, False, None, message, details=details, status=UNCHECKED)


_MARK = {PASS: "pass", FAIL: "FAIL", UNCHECKED: "skip"}


@dataclass
class VerificationReport:
    """All checks of one :func:`decenter.verify` call.

    ``ok`` when every check passed; ``verdict`` is ``"equivalent"``, ``"not equivalent"`` (a
    check found a difference: ``failed`` names it) or ``"could not check"`` (no check found a
    difference, but one could not run: ``unchecked`` names it).
    """

    checks: list[Check]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.status == PASS for c in self.checks)

    @property
    def failed(self) -> list[str]:
        """Names of the checks that found a difference."""
        return [c.name for c in self.checks if c.status == FAIL]

    @property
    def unchecked(self) -> list[str]:
        """Names of the checks that could not run."""
        return [c.name for c in self.checks if c.status == UNCHECKED]

    @property
    def verdict(self) -> str:
        if self.failed:
            return "not equivalent"
        return "could not check" if self.unchecked else "equivalent"

    def __getitem__(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.failed:
            head = "NOT equivalent (" + ", ".join(self.failed) + " failed)"
        elif self.unchecked:
            head = "could not check (" + ", ".join(self.unchecked) + " could not run)"
        else:
            head = "equivalent"
        lines = [f"decenter.verify: {head}"]
        width = max(len(c.name) for c in self.checks) if self.checks else 0
        for c in self.checks:
            first, *rest = c.message.splitlines() or [""]
            lines.append(f"  {_MARK[c.status]}  {c.name:<{width}}  {first}")
            lines += [" " * (width + 10) + line for line in rest]
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))

    def _repr_html_(self) -> str:  # Jupyter: the verdict and a row per check
        return report_html(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "verdict": self.verdict,
            "checks": [c.to_dict() for c in self.checks],
            "settings": jsonable(self.settings),
        }
