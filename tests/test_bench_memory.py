"""A benchmark path reports its own peak memory, not that of the process that started it (issue 13:
every path read the server's 349.9 MB, because Linux carries `ru_maxrss` over from the parent)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_path_reports_its_own_peak_memory_not_its_parents():
    ballast = bytearray(600 * 2**20)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1  # resident, not just reserved
    child = subprocess.run([sys.executable, "-c", "from optimizer.bench import _peak_rss_mb; print(_peak_rss_mb())"],
                           cwd=REPO, capture_output=True, text=True, check=True)
    peak = float(child.stdout)
    assert 5 < peak < 400, peak  # numpy, scipy and pyomo imported: well under the parent's 600 MB ballast
    del ballast
