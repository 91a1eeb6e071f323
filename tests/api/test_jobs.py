"""The job machinery: bounded pool of worker processes, cancel while queued or running (the worker
is stopped), time and memory limits, a crashing worker, restart recovery by lease, progress.

A gated handler (tests/api/job_handlers.py) stands in for the solve here so that a job can be held
`running` for as long as a test needs; the review pipeline itself runs in test_end_to_end.py.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from fastapi.testclient import TestClient

from api.db import store
from api.db.tables import utcnow
from api.main import create_app
from tests.api.conftest import settings_for, stored_review

GATED = "tests.api.job_handlers:gated"


@pytest.fixture
def gate(tmp_path, monkeypatch) -> Path:
    """The folder the gated handler signals through (the workers inherit the variable)."""
    folder = tmp_path / "gate"
    folder.mkdir()
    monkeypatch.setenv("COMPTUNE_TEST_GATE_DIR", str(folder))
    return folder


def submit(client, env) -> int:
    h = env.headers("analyst")
    set_id = client.post("/v1/assumption-sets", json={"name": "s", "adjustments": [{"markets": ["south"], "demand": 0.5}]},
                         headers=h).json()["id"]
    response = client.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": 5}, headers=h)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return response.json()["id"]


def status_of(client, env, review_id) -> dict:
    return client.get(f"/v1/reviews/{review_id}", headers=env.headers("viewer")).json()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def started(gate: Path, review_id: int) -> int:
    """Wait until the review's worker runs the handler; its pid."""
    marker = gate / f"started-review-{review_id}"
    wait_for(marker.exists)
    wait_for(lambda: marker.read_text() != "")
    return int(marker.read_text())


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_cancel_running_and_queued_jobs(env, gate):
    app = create_app(settings_for(env.url, workers=1), job_handlers={"review": GATED})
    with TestClient(app) as client:
        running = submit(client, env)
        worker = started(gate, running)
        queued = submit(client, env)  # the single worker is busy: this one waits
        wait_for(lambda: status_of(client, env, running)["phase"] == "gate")
        shown = status_of(client, env, running)
        assert shown["status"] == "running" and shown["started_at"] is not None
        assert shown["progress"] == 0.5 and shown["updated_at"] is not None  # the worker's progress report
        assert status_of(client, env, queued)["status"] == "queued"
        for review_id in (queued, running):
            response = client.post(f"/v1/reviews/{review_id}/cancel", headers=env.headers("analyst"))
            assert response.status_code == 200 and response.json()["status"] == "canceled"
        wait_for(lambda: gone(worker), timeout=5)  # the gate was never opened: the worker was stopped
        app.state.services.runner.wait(running, timeout=20)
        time.sleep(1.0)
        assert not (gate / f"started-review-{queued}").exists()  # the canceled queued job never started
        done = status_of(client, env, running)
        assert done["status"] == "canceled" and done["summary"] is None and done["error"] == "canceled on request"
        again = client.post(f"/v1/reviews/{running}/cancel", headers=env.headers("analyst"))
        assert again.status_code == 409
        audit = client.get("/v1/audit", params={"action": "review.cancel"}, headers=env.headers("admin")).json()
        assert audit["count"] == 2


def test_pool_is_bounded(env, gate):
    app = create_app(settings_for(env.url, workers=2), job_handlers={"review": GATED})
    with TestClient(app) as client:
        ids = [submit(client, env) for _ in range(4)]
        wait_for(lambda: len(list(gate.glob("started-*"))) >= 2)
        time.sleep(1.0)
        statuses = [status_of(client, env, i)["status"] for i in ids]
        assert statuses.count("running") == 2 and statuses.count("queued") == 2
        assert len(list(gate.glob("started-*"))) == 2
        (gate / "release").touch()
        wait_for(lambda: all(status_of(client, env, i)["status"] == "succeeded" for i in ids), timeout=60)
        assert len(list(gate.glob("started-*"))) == 4
        assert all(status_of(client, env, i)["progress"] == 1.0 for i in ids)


def test_a_failing_or_crashing_job_is_failed_with_its_reason(env, gate):
    handlers = {"review": "tests.api.job_handlers:broken"}
    with TestClient(create_app(settings_for(env.url), job_handlers=handlers)) as client:
        review_id = submit(client, env)
        wait_for(lambda: status_of(client, env, review_id)["status"] == "failed")
        assert "solver exploded" in status_of(client, env, review_id)["error"]
        assert client.get(f"/v1/reviews/{review_id}/adjustments", headers=env.headers("viewer")).status_code == 409
    handlers = {"review": "tests.api.job_handlers:crashing"}
    with TestClient(create_app(settings_for(env.url), job_handlers=handlers)) as client:
        review_id = submit(client, env)
        wait_for(lambda: status_of(client, env, review_id)["status"] == "failed")
        assert "the worker exited with status 3" in status_of(client, env, review_id)["error"]


def test_time_and_memory_limits_stop_the_worker(env, gate):
    # time_limit_s 5 × 1.6 + 0 s grace: an 8-second wall-clock limit (the worker's start-up counts)
    settings = settings_for(env.url, review_wall_factor=1.6, job_grace_s=0.0)
    with TestClient(create_app(settings, job_handlers={"review": GATED})) as client:
        review_id = submit(client, env)
        worker = started(gate, review_id)
        wait_for(lambda: status_of(client, env, review_id)["status"] == "failed")
        assert status_of(client, env, review_id)["error"].startswith("time limit: the job ran past its wall-clock "
                                                                     "limit of 8 s")
        wait_for(lambda: gone(worker), timeout=5)
    settings = settings_for(env.url, job_memory_limit_mb=5.0)  # a Python process alone holds more
    with TestClient(create_app(settings, job_handlers={"review": GATED})) as client:
        review_id = submit(client, env)
        wait_for(lambda: status_of(client, env, review_id)["status"] == "failed")
        assert "memory limit: the job's processes held" in status_of(client, env, review_id)["error"]


def test_restart_fails_only_jobs_whose_owner_lease_expired(env, gate):
    with env.sessions() as session:
        jobs = [store.create_job(session=session, kind="review", created_by="t", time_limit_s=5, params={},
                                 dataset_id=1, assumption_set_id=None, plan_version=1) for _ in range(3)]
        session.flush()
        interrupted, alive, waiting = (job.id for job in jobs)
        assert store.mark_running(session=session, job_id=interrupted, owner="host:1:gone")
        assert store.mark_running(session=session, job_id=alive, owner="host:2:alive")
        session.execute(store.update(store.JobRow).where(store.JobRow.id == interrupted)
                        .values(heartbeat_at=utcnow() - timedelta(seconds=31)))
        session.commit()
    (gate / "release").touch()
    with TestClient(create_app(settings_for(env.url, lease_ttl_s=30.0), job_handlers={"review": GATED})) as client:
        failed = status_of(client, env, interrupted)
        assert failed["status"] == "failed"
        assert failed["error"].startswith("interrupted")
        assert failed["finished_at"] is not None
        wait_for(lambda: status_of(client, env, waiting)["status"] == "succeeded")
        assert status_of(client, env, alive)["status"] == "running"  # a live owner's job is left alone
        audit = client.get("/v1/audit", params={"action": "job.interrupted"}, headers=env.headers("admin")).json()
        assert audit["count"] == 1 and audit["data"][0]["target"] == f"review:{interrupted}"


def test_listing_reviews_does_not_read_results(client, env):
    review_id = stored_review(env)
    with env.sessions() as session:
        rows, count = store.list_jobs(session=session, kind="review")
        assert count == 1 and rows[0].id == review_id
        assert "result_row" not in rows[0].__dict__  # the result was not loaded with the page
        assert rows[0].result["recommended_plan"]  # ... it is there when asked for
    listing = client.get("/v1/reviews", headers=env.headers("viewer")).json()
    assert listing["count"] == 1 and listing["data"][0]["summary"]["adjustments"] == 0


def test_viewer_sees_no_pay_figures(client, env):
    review_id = stored_review(env)
    viewer = client.get(f"/v1/reviews/{review_id}", headers=env.headers("viewer")).json()["summary"]
    approver = client.get(f"/v1/reviews/{review_id}", headers=env.headers("approver")).json()["summary"]
    assert viewer["pay_visible"] is False and viewer["comparison"][0]["pay_cost"] is None
    assert approver["pay_visible"] is True and approver["comparison"][0]["pay_cost"] == 4.0
    assert viewer["comparison"][0]["margin"] == approver["comparison"][0]["margin"]
