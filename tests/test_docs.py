"""Documented figures match a fresh run (issue 18.6).

Every ``$ decenter ...`` block of docs/cli.md that does not sample is run again in process
(``decenter.cli.main``, as ``docs/refresh_cli_md.py`` runs it in a shell) and must print what
the page shows, up to timings. A change of output (a new note, a renamed column, another
threshold) fails here until ``python docs/refresh_cli_md.py`` is re-run. The sampling blocks
(check, demo, bench) are regenerated with ``--all`` after a sampler upgrade; their numbers
are not compared (they depend on the sampler's version and the machine).
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from decenter.cli import main

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
from refresh_cli_md import SAMPLING  # noqa: E402

DOC = ROOT / "docs" / "cli.md"


def _blocks() -> list[list[str]]:
    text = DOC.read_text().split("\n")
    blocks, i = [], 0
    while i < len(text):
        if text[i] == "```" and i + 1 < len(text) and text[i + 1].startswith("$ "):
            end = text.index("```", i + 1)
            blocks.append(text[i + 1 : end])
            i = end
        i += 1
    return blocks


def _commands(block: list[str]) -> list[tuple[str, list[str]]]:
    """``(command, documented output lines)`` for each ``$`` line of a block."""
    starts = [i for i, line in enumerate(block) if line.startswith("$ ")]
    ends = starts[1:] + [len(block)]
    return [(block[i][2:], block[i + 1 : j]) for i, j in zip(starts, ends, strict=True)]


STATIC = [
    block
    for block in _blocks()
    if not any(SAMPLING.match(command) for command, _ in _commands(block))
]

# timings and the platform's float noise are not part of what the page documents
_NOISE = [
    (re.compile(r"\d+(\.\d+)? s\b"), "N s"),
    (re.compile(r'"seconds": [0-9.e-]+'), '"seconds": N'),
    # the fit's per-step times, rounded to 3 decimals (0.2 loses its trailing zeros)
    (re.compile(r'"(compile|optimise|hessian)": [0-9.e-]+'), r'"\1": N'),
    (re.compile(r"\b\d+\.\d{3,}\b"), "X.XXX"),
]


def _normal(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, repl in _NOISE:
            line = pattern.sub(repl, line)
        out.append(line.rstrip())
    return out


@pytest.mark.parametrize("block", STATIC, ids=[_commands(b)[0][0][:60] for b in STATIC])
def test_documented_cli_output_matches_a_fresh_run(block, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setattr(sys, "path", list(sys.path))  # file targets may add their folder
    commands = _commands(block)
    rc = 0
    for k, (command, documented) in enumerate(commands):
        if command == "echo $?":
            assert documented == [str(rc)], command
            continue
        argv = shlex.split(command)
        assert argv[0] == "decenter", command
        capsys.readouterr()
        try:
            rc = main(argv[1:]) or 0
        except SystemExit as e:  # argparse
            rc = e.code or 0
        out, err = capsys.readouterr()
        # as refresh_cli_md.run: progress messages on stderr are not shown, errors are
        err = "".join(
            line
            for line in err.splitlines(keepends=True)
            if not line.startswith("decenter: ") or "error" in line
        )
        got = (out + err).rstrip("\n").splitlines()
        echoed = k + 1 < len(commands) and commands[k + 1][0] == "echo $?"
        if rc and not echoed:
            got.append(f"[exit {rc}]")
        assert _normal(got) == _normal(documented), (
            f"docs/cli.md is out of date for `{command}`: run python docs/refresh_cli_md.py"
        )
