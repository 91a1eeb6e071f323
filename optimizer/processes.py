"""Process hygiene for worker subprocesses: a worker must not outlive the process that started it.

Long computations (benchmark paths, service jobs) run in child processes. On Linux a child asks the
kernel to kill it when its parent dies (`PR_SET_PDEATHSIG`), so that a parent killed with SIGKILL —
which runs no cleanup — leaves no orphan burning CPU and memory. The signal fires when the parent
*thread* that started the child exits, so start children from a long-lived thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None) -> None:
    """Have this process killed (SIGKILL) when its parent exits. Call first thing in a worker.

    `expected_parent` closes the race of a parent that died before the call: if the parent is no
    longer that pid, exit at once. Elsewhere than Linux this does nothing but that check.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            logger.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)  # the parent is gone already: nobody wants this result
