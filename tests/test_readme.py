"""The README's example sessions are what the commands print now (timings aside): each
`<!-- example -->` block's command is run by scripts/readme_examples.py and its stdout compared
with the block. After a change that alters an output: `python scripts/readme_examples.py --write`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("readme_examples", REPO / "scripts" / "readme_examples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_the_readme_examples_are_the_commands_real_output():
    script = load_script()
    text = (REPO / "README.md").read_text()
    assert [e.command.split()[1] for e in script.examples(text)] == ["solve", "recommend"]
    differences = script.differences(text)
    assert not differences, "README examples differ from the commands' output (run scripts/readme_examples.py --write):\n" + "\n".join(differences)


def test_only_timings_are_ignored():
    script = load_script()
    assert script.normalized("time  build 0.022 s, solve 12 ms, 2076 simplex iterations  \n") == \
        "time  build T s, solve T ms, 2076 simplex iterations\n"
    assert script.normalized("objective 38,579,361.62 EUR") != script.normalized("objective 38,579,361.63 EUR")
