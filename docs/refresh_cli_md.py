"""Re-run the commands shown in docs/cli.md and put their real output under them.

    python docs/refresh_cli_md.py            # every block that does not sample (seconds)
    python docs/refresh_cli_md.py --all      # also `check` and `demo` (minutes; after a
                                             # sampler upgrade, so the figures match it)

A block is a fenced block whose first line starts with ``$ ``. Each ``$ command`` line is run
from the repository root with ``COLUMNS=120`` (piped: no colours); its output replaces the
lines up to the next ``$ `` line. ``$ echo $?`` prints the previous exit code; a non-zero exit
code is written as ``[exit N]`` when the block does not echo it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cli.md"
SAMPLING = re.compile(r"^decenter (check|demo|bench)\b")


def run(command: str) -> tuple[str, int]:
    bindir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "COLUMNS": "120",
        "PYTHONWARNINGS": "ignore",
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "src"),
    }
    r = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True)
    # stderr after stdout: the docs show progress messages only where they matter
    out = r.stdout + "".join(
        line
        for line in r.stderr.splitlines(keepends=True)
        if not line.startswith("decenter: ") or "error" in line
    )
    return out.rstrip("\n"), r.returncode


def refresh_block(lines: list[str], everything: bool) -> list[str]:
    commands = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    if any(SAMPLING.match(lines[i][2:]) for i in commands) and not everything:
        return lines
    out: list[str] = []
    rc = 0
    for k, i in enumerate(commands):
        command = lines[i][2:]
        out.append(lines[i])
        if command == "echo $?":
            out.append(str(rc))
            continue
        text, rc = run(command)
        out += text.splitlines()
        echoed = k + 1 < len(commands) and lines[commands[k + 1]] == "$ echo $?"
        if rc and not echoed:
            out.append(f"[exit {rc}]")
    return out


def main(argv: list[str]) -> int:
    everything = "--all" in argv
    text = DOC.read_text().split("\n")
    result, i = [], 0
    while i < len(text):
        line = text[i]
        result.append(line)
        i += 1
        if line == "```" and i < len(text) and text[i].startswith("$ "):
            end = text.index("```", i)
            result += refresh_block(text[i:end], everything)
            i = end
    DOC.write_text("\n".join(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
