"""Jobs are owned by the process that runs them (issue 12, case 15), with two real service processes
on one database (SQLite file and PostgreSQL): the second leaves the first one's running review
alone and the first stores its result; when a service is killed (-9), its worker dies with it and
the surviving service fails the orphaned job once its lease has expired — not before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from api.db import store
from tests.api.conftest import REPO, free_port
from tests.api.latency import wait_until_healthy
from tests.api.test_jobs import gone, wait_for

LEASE = {"COMPTUNE_LEASE_TTL_S": "4", "COMPTUNE_HEARTBEAT_S": "0.5", "COMPTUNE_POLL_S": "0.2"}


@contextmanager
def gated_server(url: str, gate: Path, log: Path):
    """tests/api/serve_gated.py as its own process; yields (base URL, process)."""
    port = free_port()
    env = {**os.environ, "COMPTUNE_DATABASE_URL": url, "COMPTUNE_TEST_GATE_DIR": str(gate), **LEASE}
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "tests.api.serve_gated", "--port", str(port)],
                                   cwd=REPO, env=env, stdout=out, stderr=out)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, process, log=log)
            yield base, process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def test_a_second_server_leaves_live_jobs_alone_and_fails_a_dead_servers_jobs(env, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    analyst, viewer = env.headers("analyst"), env.headers("viewer")
    with gated_server(env.url, gate, tmp_path / "a.log") as (first, first_process):
        a = httpx.Client(base_url=first, timeout=30)
        set_id = a.post("/v1/assumption-sets", headers=analyst, json={
            "name": "s", "adjustments": [{"markets": ["south"], "demand": 0.5}]}).json()["id"]
        review = a.post("/v1/reviews", headers=analyst, json={"assumption_set_id": set_id}).json()["id"]
        wait_for(lambda: (gate / f"started-review-{review}").exists())

        with gated_server(env.url, gate, tmp_path / "b.log") as (second, second_process):
            b = httpx.Client(base_url=second, timeout=30)
            time.sleep(2 * 4 + 1)  # twice the lease: the first process keeps renewing it
            status = b.get(f"/v1/reviews/{review}", headers=viewer).json()
            assert status["status"] == "running", status
            (gate / "release").touch()
            wait_for(lambda: b.get(f"/v1/reviews/{review}", headers=viewer).json()["status"] == "succeeded")
            assert b.get(f"/v1/reviews/{review}", headers=viewer).json()["summary"] is not None  # not dropped
            audit = b.get("/v1/audit", params={"action": "job.interrupted"}, headers=env.headers("admin")).json()
            assert audit["count"] == 0

            # Now a review runs under one of them (either may claim it); kill that one with -9.
            (gate / "release").unlink()
            orphan = b.post("/v1/reviews", headers=analyst, json={"assumption_set_id": set_id}).json()["id"]
            marker = gate / f"started-review-{orphan}"
            wait_for(lambda: marker.exists() and marker.read_text() != "")
            worker = int(marker.read_text())
            owner = psutil.Process(worker).ppid()
            victim, survivor = ((first_process, b) if owner == first_process.pid else (second_process, a))
            assert owner == victim.pid
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            killed_at = time.monotonic()
            wait_for(lambda: gone(worker), timeout=5)  # the worker died with its service
            assert survivor.get(f"/v1/reviews/{orphan}", headers=viewer).json()["status"] == "running"
            wait_for(lambda: survivor.get(f"/v1/reviews/{orphan}", headers=viewer).json()["status"] == "failed",
                     timeout=30)
            assert time.monotonic() - killed_at >= 2.0  # not before the lease could have expired
            failed = survivor.get(f"/v1/reviews/{orphan}", headers=viewer).json()
            assert failed["error"].startswith("interrupted"), failed
            audit = survivor.get("/v1/audit", params={"action": "job.interrupted"}, headers=env.headers("admin")).json()
            assert audit["count"] == 1 and audit["data"][0]["target"] == f"review:{orphan}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_graceful_stop_fails_its_running_jobs_at_once_and_stops_their_workers(env, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    with gated_server(env.url, gate, tmp_path / "a.log") as (base, process):
        client = httpx.Client(base_url=base, timeout=30)
        set_id = client.post("/v1/assumption-sets", headers=env.headers("analyst"), json={
            "name": "s", "adjustments": [{"markets": ["south"], "demand": 0.5}]}).json()["id"]
        review = client.post("/v1/reviews", headers=env.headers("analyst"), json={"assumption_set_id": set_id}).json()["id"]
        marker = gate / f"started-review-{review}"
        wait_for(lambda: marker.exists() and marker.read_text() != "")
        worker = int(marker.read_text())
        process.terminate()
        process.wait(timeout=30)
    assert gone(worker)
    with env.sessions() as session:
        job = store.get_job(session=session, job_id=review)
        assert job.status == "failed" and job.error.startswith("interrupted")  # no lease to wait for
