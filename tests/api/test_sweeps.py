"""POST /v1/sweeps: a job like a review — 202, poll, the robust choice, tables as JSON and CSV;
a bad sweep is a 422 naming the key and stores nothing; an unreachable Dask scheduler fails the job
with the address named."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from api.db.tables import JobRow
from tests.review.test_sweep import GRID


def wait(client, env, sweep_id, timeout=120) -> dict:
    deadline = time.monotonic() + timeout
    while (sweep := client.get(f"/v1/sweeps/{sweep_id}", headers=env.headers("viewer")).json())["status"] in (
            "queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return sweep


def test_sweep_job_end_to_end(client, env):
    response = client.post("/v1/sweeps", json={"sweep": GRID}, headers=env.headers("analyst"))
    assert response.status_code == 202, response.text
    sweep = wait(client, env, response.json()["id"])
    assert sweep["status"] == "succeeded", sweep["error"]
    assert sweep["summary"]["n_scenarios"] == 4 and sweep["summary"]["choice"]["criterion"] == "worst"
    full = client.get(f"/v1/sweeps/{sweep['id']}", params={"full": True}, headers=env.headers("viewer")).json()
    candidates = {row["candidate"]: row for row in full["result"]["candidates"]}
    best = max(candidates.values(), key=lambda row: row["worst_margin"])
    assert sweep["summary"]["choice"]["candidate"] == best["candidate"]
    as_csv = client.get(f"/v1/sweeps/{sweep['id']}/scores", params={"format": "csv"}, headers=env.headers("viewer"))
    assert as_csv.status_code == 200 and as_csv.text.startswith("candidate,scenario,margin,efficiency")
    assert len(as_csv.text.strip().splitlines()) == 1 + 5 * 4


def test_bad_sweep_is_422_naming_the_key(client, env):
    with env.sessions() as session:
        before = session.scalar(select(func.count()).select_from(JobRow))
    for body, field in (({"sweep": {**GRID, "factors": [{"markets": ["atlantis"], "factor": "demand", "values": [1]}]}},
                         "factors[0].markets[0]"),
                        ({"sweep": {"mode": "monte_carlo", "draws": 1.5, "factors": [{"factor": "price", "range": [1, 2]}]}},
                         "draws"),
                        ({"sweep": {**GRID, "factors": [{"factor": "price", "values": [0]}]}}, "factors[0].values[0]"),
                        ({"sweep": {"mode": "monte_carlo", "draws": 1000, "factors": [{"factor": "price", "range": [1, 2]}]}},
                         "draws")):
        response = client.post("/v1/sweeps", json=body, headers=env.headers("analyst"))
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    with env.sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobRow)) == before  # nothing stored


def test_unreachable_scheduler_fails_the_job_naming_it(client, env, monkeypatch):
    from optimizer import executor as executor_module

    monkeypatch.setenv("COMPTUNE_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    monkeypatch.setattr(executor_module, "CONNECT_TIMEOUT_SECONDS", 1.0)
    response = client.post("/v1/sweeps", json={"sweep": GRID}, headers=env.headers("analyst"))
    sweep = wait(client, env, response.json()["id"])
    assert sweep["status"] == "failed" and "tcp://127.0.0.1:9" in sweep["error"]
    assert sweep["summary"] is None
    tables = client.get(f"/v1/sweeps/{sweep['id']}/candidates", headers=env.headers("viewer"))
    assert tables.status_code == 409
