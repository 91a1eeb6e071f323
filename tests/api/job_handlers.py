"""Job handlers for the tests of the job machinery, importable by the worker processes.

They stand in for the solve so that a job can be held `running` for as long as a test needs: the
worker writes `started-<kind>-<id>` (holding its pid) into the folder named by
`COMPTUNE_TEST_GATE_DIR`, reports a phase, and waits until a file `release` appears there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SUMMARY = {"solver_status": "optimal", "currency": "EUR", "effect": {}, "comparison": [], "adjustments": 0}


def gate_dir() -> Path:
    return Path(os.environ["COMPTUNE_TEST_GATE_DIR"])


def gated(job, session_factory, settings, progress):
    folder = gate_dir()
    (folder / f"started-{job.kind}-{job.id}").write_text(str(os.getpid()))
    progress("gate", 0.5)
    deadline = time.monotonic() + 120
    while not (folder / "release").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the test never released the gate")
        time.sleep(0.05)
    return SUMMARY, {"done": True}


def broken(job, session_factory, settings, progress):
    raise RuntimeError("solver exploded")


def crashing(job, session_factory, settings, progress):
    os._exit(3)  # a worker that dies without storing anything (segfault, OOM kill, ...)


def gated_with_child(job, session_factory, settings, progress):
    """Like `gated`, with a child process of its own (as a benchmark's paths are), whose pid it
    writes to `child-<kind>-<id>`."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    (gate_dir() / f"child-{job.kind}-{job.id}").write_text(str(child.pid))
    return gated(job, session_factory, settings, progress)
