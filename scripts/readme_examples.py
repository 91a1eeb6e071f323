"""The README's example sessions, regenerated from the commands themselves.

Each example in README.md is a ```console block right after a `<!-- example -->` line; its first
line is `$ COMMAND`, the rest is what COMMAND prints on stdout. This script runs every such command
(from a scratch folder beside a link to the repository's `datasets/`, so `--out` writes nowhere in
the repository; `.venv/bin/comptune` is the comptune of the running interpreter; a fixed 120-column
terminal, no colour) and either rewrites the blocks (`--write`) or reports where the README differs
from the real output (the default; exit 1). Timings — a number followed by s or ms — are the only
thing ignored, since they change from run to run. tests/test_readme.py runs the check.

    python scripts/readme_examples.py --write   # after a change that alters an example's output
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARKER = "<!-- example -->"
BLOCK = re.compile(r"^<!-- example -->\n```console\n\$ (?P<command>[^\n]+)\n(?P<output>.*?)^```\n", re.M | re.S)
TIMING = re.compile(r"\d+(?:\.\d+)?(?= ?(?:s|ms)\b)")
WIDTH = 120


@dataclass
class Example:
    command: str
    output: str  # as the README has it
    start: int  # the output's span in the README
    end: int


def examples(text: str) -> list[Example]:
    return [Example(m["command"], m["output"], m.start("output"), m.end("output")) for m in BLOCK.finditer(text)]


def normalized(text: str) -> str:
    """The output with trailing blanks and timings taken out."""
    lines = [TIMING.sub("T", line.rstrip()) for line in text.rstrip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def run(command: str) -> str:
    """What the command prints on stdout, run as a user of a fresh clone would (see the module doc)."""
    bin_dir = Path(sys.executable).parent
    argv = shlex.split(command)
    if argv[0].endswith("comptune"):
        argv[0] = str(bin_dir / "comptune")
    env = {**os.environ, "COLUMNS": str(WIDTH), "LINES": "50", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("FORCE_COLOR", None)
    with tempfile.TemporaryDirectory(prefix="comptune-readme-") as scratch:
        (Path(scratch) / "datasets").symlink_to(REPO / "datasets")
        done = subprocess.run(argv, cwd=scratch, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"`{command}` exited {done.returncode}: {done.stderr[-2000:]}")
    return "\n".join(line.rstrip() for line in done.stdout.rstrip("\n").splitlines()) + "\n"


def differences(text: str) -> list[str]:
    """One unified diff per example whose README output is not the command's (timings aside)."""
    out = []
    for example in examples(text):
        real = run(example.command)
        if normalized(real) != normalized(example.output):
            out.append("".join(difflib.unified_diff(normalized(example.output).splitlines(True),
                                                    normalized(real).splitlines(True),
                                                    f"README: $ {example.command}", "the command's output now")))
    return out


def rewrite(text: str) -> str:
    for example in reversed(examples(text)):
        text = text[:example.start] + run(example.command) + text[example.end:]
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the README's example outputs")
    args = parser.parse_args()
    text = README.read_text()
    if not examples(text):
        print(f"no {MARKER} block in {README}", file=sys.stderr)
        return 1
    if args.write:
        README.write_text(rewrite(text))
        return 0
    found = differences(text)
    for diff in found:
        sys.stdout.write(diff + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
