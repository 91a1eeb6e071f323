"""The article's month through a real `comptune serve` (uvicorn) process, on every backend:
load the sample as it stood before the month's actuals, post the actuals, see the alarms for
Southern Europe, submit the freeze assumptions, run a review, read the adjustments (JSON and CSV)
and the explanation, accept as approver, see plan version 2 in force and the audit entries."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from api.db import store
from api.db.session import make_engine, make_session_factory, migrate
from tests.api.conftest import SAMPLE, free_port, sample_without_actuals

COMPTUNE = str(Path(sys.executable).with_name("comptune"))


@contextmanager
def prepare_sessions(url: str):
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def server(database_url, tmp_path):
    env = {**os.environ, "COMPTUNE_DATABASE_URL": database_url, "COMPTUNE_WORKERS": "2"}
    dataset = sample_without_actuals(tmp_path)
    migrate(database_url)
    tokens = {}
    with prepare_sessions(database_url) as sessions, sessions() as session:
        store.load_dataset_folder(session=session, path=dataset, actor="cli")  # = `comptune load` (test_cli_service.py)
        for role in ("viewer", "analyst", "approver"):
            _, tokens[role] = store.create_token(session=session, role=role, name=f"{role}-user")
        session.commit()
    port = free_port()
    process = subprocess.Popen([COMPTUNE, "serve", "--port", str(port), "--log-level", "warning"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("comptune serve did not start:\n" + (process.stdout.read() if process.stdout else ""))
        time.sleep(0.1)
    yield url, tokens
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_the_articles_month(server):
    url, tokens = server

    def client(role):
        return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[role]}"}, timeout=60)

    analyst, viewer, approver = client("analyst"), client("viewer"), client("approver")

    # 1. post the month's actuals (twice: the second time changes nothing)
    actuals = pd.read_csv(SAMPLE / "actuals.csv").to_dict(orient="records")
    posted = analyst.post("/v1/actuals", json={"rows": actuals})
    assert posted.status_code == 200, posted.text
    assert posted.json()["inserted"] == len(actuals)
    assert analyst.post("/v1/actuals", json={"rows": actuals}).json()["unchanged"] == len(actuals)

    # 2. the alarms show Southern Europe behind plan
    alarms = viewer.get("/v1/alarms", params={"market": "south", "level": "market"}).json()
    south = [a for a in alarms["data"] if a["kpi"] == "revenue" and a["kind"] == "pace"]
    assert south and south[0]["severity"] == "critical" and south[0]["review_id"] is None
    assert viewer.get("/v1/alarms", params={"severity": "critical", "level": "market"}).json()["count"] >= 1

    # 3. submit the freeze assumptions
    body = yaml.safe_load((SAMPLE / "assumptions" / "south-freeze.yaml").read_text())
    created = analyst.post("/v1/assumption-sets", json=body)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]

    # 4. run a review and poll it to a terminal status
    started = analyst.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": 60})
    assert started.status_code == 202, started.text
    review_id = started.json()["id"]
    deadline = time.monotonic() + 240
    seen = []  # (phase, progress) while running: the worker's reports through GET /v1/reviews/{id}
    while True:
        review = viewer.get(f"/v1/reviews/{review_id}").json()
        if review["status"] == "running" and review["phase"] is not None:
            assert review["updated_at"] is not None
            seen.append((review["phase"], review["progress"]))
        if review["status"] in ("succeeded", "failed", "canceled") or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert review["status"] == "succeeded", review
    phases = {"plan_lp", "targets", "incentive_lp", "simulations", "selection"}
    assert len({phase for phase, _ in seen}) >= 2 and {phase for phase, _ in seen} <= phases, seen
    shares = [share for _, share in seen]
    assert shares == sorted(shares) and all(0 <= share <= 1 for share in shares), seen
    assert review["progress"] == 1.0
    assert review["started_at"] and review["finished_at"] and review["duration_s"] > 0
    summary = review["summary"]
    assert summary["solver_status"] in ("optimal", "feasible_time_limit")
    assert summary["plan_lp"]["method"] == "monolithic" and summary["plan_lp"]["warm"] is False  # the sample is small
    assert set(summary["effect"]) == {"margin", "revenue", "alignment_efficiency", "net_margin"}
    assert summary["pay_visible"] is False and summary["effect"]["net_margin"] is None  # margin − pay reveals pay
    assert all(row["pay_cost"] is None and row["net_margin"] is None for row in summary["comparison"])
    assert approver.get(f"/v1/reviews/{review_id}").json()["summary"]["pay_visible"] is True

    # the alarm now points at the review that addresses it
    alarms = viewer.get("/v1/alarms", params={"market": "south", "level": "market"}).json()
    assert all(a["review_id"] == review_id for a in alarms["data"])

    # 5. the adjustments, as JSON and as CSV
    adjustments = viewer.get(f"/v1/reviews/{review_id}/adjustments").json()
    assert adjustments["count"] == len(adjustments["data"]) > 0
    first = adjustments["data"][0]
    assert set(first) == {"rep_id", "market_id", "component_id", "period", "in_force", "recommended", "delta", "cause",
                          "reason"}
    assert adjustments["weight_changes"]
    as_csv = viewer.get(f"/v1/reviews/{review_id}/adjustments", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == adjustments["count"]
    assert list(rows[0]) == ["rep_id", "market_id", "component_id", "period", "in_force", "recommended", "delta", "cause",
                             "reason"]
    assert all(len(row["delta"].partition(".")[2]) <= 2 for row in rows)  # money to the cent
    by_accept = viewer.get(f"/v1/reviews/{review_id}/adjustments", headers={"Accept": "text/csv"})
    assert by_accept.text == as_csv.text
    explanation = viewer.get(f"/v1/reviews/{review_id}/explanation").json()
    assert explanation["binding"] and explanation["messages"]

    # 5b. what the committee signs: the rules kept, the frontier, every change, the attribution; pay only
    # for the approver
    signable = viewer.get(f"/v1/reviews/{review_id}/recommendation").json()
    assert signable["pay_impact"] is None and signable["rules"]["max_components"] == 4
    assert [row["components"] for row in signable["frontier"]] == sorted(row["components"] for row in signable["frontier"])
    assert any(m["market_id"] == "south" and "south-freeze" in m["sentence"] for m in signable["attribution"]["markets"])
    impact = approver.get(f"/v1/reviews/{review_id}/recommendation").json()["pay_impact"]
    assert impact["max_cut"] >= -0.05 - 1e-9 and len(impact["reps"]) == 50

    # 6. accept as approver: plan version 2 is in force
    assert analyst.post(f"/v1/reviews/{review_id}/decision",
                        json={"decision": "accept", "reason": "x", "plan_version": 1}).status_code == 403
    decided = approver.post(f"/v1/reviews/{review_id}/decision",
                            json={"decision": "accept", "reason": "South freeze confirmed", "plan_version": 1})
    assert decided.status_code == 201, decided.text
    assert decided.json()["new_plan_version"] == 2
    current = viewer.get("/v1/plans/current").json()
    assert current["version"] == 2 and current["review_id"] == review_id
    assert viewer.get("/v1/plans").json()["count"] == 2
    diff = viewer.get("/v1/plans/1/diff/2").json()
    recommended = {w["component_id"]: w["recommended"] for w in adjustments["weight_changes"]}
    for row in diff["components"]:  # the diff agrees with the review's weight changes
        if row["op"] != "removed":
            assert row["weight_b"] == pytest.approx(recommended[row["component_id"]], abs=1e-9)
    assert diff["targets_changed"] > 0 and diff["target_changes"]
    stale = approver.post(f"/v1/reviews/{review_id}/decision",
                          json={"decision": "accept", "reason": "again", "plan_version": 1})
    assert stale.status_code == 409

    # 7. the audit log tells who did what
    audit = approver.get("/v1/audit", params={"limit": 100}).json()
    actions = [(e["action"], e["actor"]) for e in audit["data"]]
    for expected in [("actuals.upsert", "analyst-user"), ("assumption_set.create", "analyst-user"),
                     ("review.create", "analyst-user"), ("review.succeeded", "service"),
                     ("decision.accept", "approver-user"), ("dataset.load", "cli")]:
        assert expected in actions, expected
    assert viewer.get("/v1/audit").status_code == 403
