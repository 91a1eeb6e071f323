"""POST /v1/calibrations: a job like a review — 202, poll, the report, the estimates as JSON and CSV; bad
bodies are 422 naming the key and store nothing; a review names a succeeded calibration and uses it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from api.db import store
from api.db.tables import JobRow
from models.assumptions import parse_assumptions


def wait(client, env, path: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while (job := client.get(path, headers=env.headers("viewer")).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


def jobs(env) -> int:
    with env.sessions() as session:
        return session.scalar(select(func.count()).select_from(JobRow))


@pytest.fixture
def calibration(client, env) -> dict:
    response = client.post("/v1/calibrations", json={"holdout": 1, "polish_rounds": 0}, headers=env.headers("analyst"))
    assert response.status_code == 202, response.text
    assert response.json()["params"]["plans"] == [{"periods": ["2026-01", "2026-02", "2026-03"], "plan_version": 1}]
    job = wait(client, env, f"/v1/calibrations/{response.json()['id']}")
    assert job["status"] == "succeeded", job["error"]
    return job


def test_a_calibration_runs_as_a_job_and_reports(client, env, calibration):
    summary = calibration["summary"]
    assert summary["history"]["months"] == 3 and summary["history"]["orders"] > 0
    assert summary["effort_aversion"]["status"].startswith("not identified")
    assert summary["holdout"]["test_periods"] == ["2026-03"]
    assert set(summary["holdout"]["wape"]) == {"calibrated", "uncalibrated", "average_mix", "last_month"}
    assert sum(summary["comfort_status"].values()) == 400  # every rep × product of the sample
    full = client.get(f"/v1/calibrations/{calibration['id']}", params={"full": True}, headers=env.headers("viewer")).json()
    assert len(full["result"]["rep_products"]) == 400 and "calibrated" not in full["result"]
    table = client.get(f"/v1/calibrations/{calibration['id']}/rep_products", params={"rep_id": "R01", "limit": 3},
                       headers=env.headers("viewer")).json()
    assert table["count"] == 8 and len(table["data"]) == 3 and {r["rep_id"] for r in table["data"]} == {"R01"}
    as_csv = client.get(f"/v1/calibrations/{calibration['id']}/funnel", params={"format": "csv"},
                        headers=env.headers("viewer"))
    assert as_csv.status_code == 200 and as_csv.text.startswith("market_id,product_id,call_to_meeting")
    assert len(as_csv.text.strip().splitlines()) == 1 + 6 * 8
    listed = client.get("/v1/calibrations", headers=env.headers("viewer")).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == calibration["id"]


def test_only_analysts_and_up_calibrate(client, env):
    response = client.post("/v1/calibrations", json={}, headers=env.headers("viewer"))
    assert response.status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"holdout": 3}, "holdout"),
    ({"plans": [{"periods": {"from": "2026-01", "to": "2026-01"}, "plan_version": 1},
                {"periods": {"from": "2026-03"}, "plan_version": 1}]}, "plans"),
    ({"plans": [{"periods": {"from": "2026-01", "to": "2026-02"}, "plan_version": 1},
                {"periods": {"from": "2026-02"}, "plan_version": 1}]}, "plans[1].periods"),
    ({"plans": [{"periods": {"from": "2026-01"}, "plan_version": 7}]}, "plans[0].plan_version"),
    ({"plans": [{"periods": {"from": "2025-12"}, "plan_version": 1}]}, "plans[0].periods.from"),
    ({"plans": [{"periods": {"from": "2026-01", "to": "2026-06"}, "plan_version": 1}]}, "plans[0].periods"),
    ({"plans": [{"periods": {"since": "2026-01"}, "plan_version": 1}]}, "plans[0].periods.since"),
    ({"holdout": -1}, "holdout"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_calibration_bodies_are_422_naming_the_key(client, env, body, field):
    before = jobs(env)
    response = client.post("/v1/calibrations", json=body, headers=env.headers("analyst"))
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert jobs(env) == before


def assumption_set(client, env) -> int:
    sets = client.get("/v1/assumption-sets", headers=env.headers("viewer")).json()["data"]
    return sets[0]["id"] if sets else client.post(
        "/v1/assumption-sets", json={"name": "calm", "adjustments": []}, headers=env.headers("analyst")).json()["id"]


def test_a_review_names_its_calibration(client, env, calibration):
    response = client.post("/v1/reviews", json={"assumption_set_id": assumption_set(client, env),
                                                "calibration_id": calibration["id"]}, headers=env.headers("analyst"))
    assert response.status_code == 202, response.text
    assert response.json()["calibration_id"] == calibration["id"]
    with env.sessions() as session:
        assert store.get_job(session=session, job_id=response.json()["id"]).params["calibration_id"] == calibration["id"]
    assert client.post(f"/v1/reviews/{response.json()['id']}/cancel", headers=env.headers("analyst")).status_code == 200


@pytest.mark.slow
def test_a_review_uses_a_succeeded_calibration(client, env, calibration):
    set_id = assumption_set(client, env)
    reviews = {}
    for name, extra in (("plain", {}), ("calibrated", {"calibration_id": calibration["id"]})):
        response = client.post("/v1/reviews", json={"assumption_set_id": set_id, **extra}, headers=env.headers("analyst"))
        assert response.status_code == 202, response.text
        reviews[name] = wait(client, env, f"/v1/reviews/{response.json()['id']}")
        assert reviews[name]["status"] == "succeeded", reviews[name]["error"]
    assert reviews["calibrated"]["calibration_id"] == calibration["id"] and reviews["plain"]["calibration_id"] is None
    in_force = {name: next(row for row in review["summary"]["comparison"] if row["plan"] == "in_force")
                for name, review in reviews.items()}
    # the calibrated reps answer the plan in force differently from the typed-in ones
    assert in_force["calibrated"]["margin"] != pytest.approx(in_force["plain"]["margin"], rel=1e-6)


def test_a_review_naming_an_unknown_or_unfinished_calibration_is_refused(client, env):
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        queued = store.create_job(session=session, kind=store.CALIBRATION, created_by="test", time_limit_s=10,
                                  params={"holdout": 0, "plans": []}, dataset_id=dataset.id, plan_version=1)
        aset = store.create_assumption_set(session=session, dataset_id=dataset.id, created_by="test",
                                           assumptions=parse_assumptions({"name": "calm", "adjustments": []}))
        session.commit()
        queued_id, set_id = queued.id, aset.id
    before = jobs(env)
    unknown = client.post("/v1/reviews", json={"assumption_set_id": set_id, "calibration_id": 999},
                          headers=env.headers("analyst"))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "calibration_id"
    unfinished = client.post("/v1/reviews", json={"assumption_set_id": set_id, "calibration_id": queued_id},
                             headers=env.headers("analyst"))
    assert unfinished.status_code == 409, unfinished.text
    assert jobs(env) == before
    tables = client.get(f"/v1/calibrations/{queued_id}/rep_products", headers=env.headers("viewer"))
    assert tables.status_code == 409


def test_a_dataset_without_actuals_cannot_be_calibrated(database_url, tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.api.conftest import prepare, sample_without_actuals, settings_for

    env = prepare(database_url, sample_without_actuals(tmp_path))
    try:
        with TestClient(create_app(settings_for(env.url))) as client:
            response = client.post("/v1/calibrations", json={}, headers=env.headers("analyst"))
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert error["file"] == "actuals" and "no rows" in error["message"]
        assert jobs(env) == 0
    finally:
        env.sessions.kw["bind"].dispose()
