"""The job machinery: bounded pool, cancel while queued or running, restart recovery.

A gated handler stands in for the solve here so that a job can be held `running` for as long as a
test needs; the review pipeline itself runs in test_end_to_end.py.
"""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from api.db import store
from api.main import create_app
from tests.api.conftest import settings_for, stored_review


SUMMARY = {"solver_status": "optimal", "currency": "EUR", "effect": {}, "comparison": [], "adjustments": 0}


class GatedHandler:
    """Counts calls and holds each job until `release` is set."""

    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.calls = 0

    def __call__(self, job, session_factory, settings):
        self.calls += 1
        self.started.release()
        assert self.release.wait(timeout=30)
        return SUMMARY, {"done": True}


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


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_cancel_running_and_queued_jobs(env):
    handler = GatedHandler()
    app = create_app(settings_for(env.url, workers=1), job_handlers={"review": handler})
    with TestClient(app) as client:
        running = submit(client, env)
        assert handler.started.acquire(timeout=20)
        queued = submit(client, env)  # the single worker is busy: this one waits
        assert status_of(client, env, running)["status"] == "running"
        assert status_of(client, env, running)["started_at"] is not None
        assert status_of(client, env, queued)["status"] == "queued"
        for review_id in (queued, running):
            response = client.post(f"/v1/reviews/{review_id}/cancel", headers=env.headers("analyst"))
            assert response.status_code == 200 and response.json()["status"] == "canceled"
        handler.release.set()
        app.state.services.runner.wait(running, timeout=20)
        time.sleep(0.2)
        assert handler.calls == 1  # the canceled queued job never started
        done = status_of(client, env, running)
        assert done["status"] == "canceled" and done["summary"] is None  # the late result is dropped
        again = client.post(f"/v1/reviews/{running}/cancel", headers=env.headers("analyst"))
        assert again.status_code == 409
        audit = client.get("/v1/audit", params={"action": "review.cancel"}, headers=env.headers("admin")).json()
        assert audit["count"] == 2


def test_pool_is_bounded(env):
    handler = GatedHandler()
    app = create_app(settings_for(env.url, workers=2), job_handlers={"review": handler})
    with TestClient(app) as client:
        ids = [submit(client, env) for _ in range(4)]
        assert handler.started.acquire(timeout=20) and handler.started.acquire(timeout=20)
        time.sleep(0.2)
        statuses = [status_of(client, env, i)["status"] for i in ids]
        assert statuses.count("running") == 2 and statuses.count("queued") == 2
        handler.release.set()
        wait_for(lambda: all(status_of(client, env, i)["status"] == "succeeded" for i in ids))
        assert handler.calls == 4


def test_a_failing_job_is_failed_with_its_reason(env):
    def broken(job, session_factory, settings):
        raise RuntimeError("solver exploded")

    with TestClient(create_app(settings_for(env.url), job_handlers={"review": broken})) as client:
        review_id = submit(client, env)
        wait_for(lambda: status_of(client, env, review_id)["status"] == "failed")
        assert "solver exploded" in status_of(client, env, review_id)["error"]
        assert client.get(f"/v1/reviews/{review_id}/adjustments", headers=env.headers("viewer")).status_code == 409


def test_restart_marks_interrupted_jobs_failed_and_requeues_queued_ones(env):
    with env.sessions() as session:
        interrupted = store.create_job(session=session, kind="review", created_by="t", time_limit_s=5, params={},
                                       dataset_id=1, assumption_set_id=None, plan_version=1)
        waiting = store.create_job(session=session, kind="review", created_by="t", time_limit_s=5, params={},
                                   dataset_id=1, assumption_set_id=None, plan_version=1)
        session.flush()
        assert store.mark_running(session=session, job_id=interrupted.id)
        session.commit()
    handler = GatedHandler()
    handler.release.set()
    with TestClient(create_app(settings_for(env.url), job_handlers={"review": handler})) as client:
        failed = status_of(client, env, interrupted.id)
        assert failed["status"] == "failed"
        assert failed["error"].startswith("interrupted")
        assert failed["finished_at"] is not None
        wait_for(lambda: status_of(client, env, waiting.id)["status"] == "succeeded")
        audit = client.get("/v1/audit", params={"action": "job.interrupted"}, headers=env.headers("admin")).json()
        assert audit["count"] == 1 and audit["data"][0]["target"] == f"job:{interrupted.id}"


def test_viewer_sees_no_pay_figures(client, env):
    review_id = stored_review(env)
    viewer = client.get(f"/v1/reviews/{review_id}", headers=env.headers("viewer")).json()["summary"]
    approver = client.get(f"/v1/reviews/{review_id}", headers=env.headers("approver")).json()["summary"]
    assert viewer["pay_visible"] is False and viewer["comparison"][0]["pay_cost"] is None
    assert approver["pay_visible"] is True and approver["comparison"][0]["pay_cost"] == 4.0
    assert viewer["comparison"][0]["margin"] == approver["comparison"][0]["margin"]
