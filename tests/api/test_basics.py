"""Health, access control (401/403), assumption sets, plans, actuals and alarms through the app."""

from __future__ import annotations

import math

import pandas as pd
import yaml

from tests.api.conftest import SAMPLE


def test_healthz_needs_no_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["dataset_loaded"] is True


def test_docs_need_no_token(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ("/v1/assumption-sets", "/v1/reviews", "/v1/reviews/{review_id}/decision", "/v1/alarms",
                 "/v1/actuals", "/v1/plans/current", "/v1/audit"):
        assert path in spec["paths"]


def test_no_token_is_401_and_bad_token_is_401(client):
    assert client.get("/v1/plans/current").status_code == 401
    response = client.get("/v1/plans/current", headers={"Authorization": "Bearer ct_nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_role_is_403(client, env):
    body = {"name": "x", "adjustments": []}
    assert client.post("/v1/assumption-sets", json=body, headers=env.headers("viewer")).status_code == 403
    assert client.get("/v1/audit", headers=env.headers("analyst")).status_code == 403
    response = client.post("/v1/reviews/1/decision", json={"decision": "accept", "reason": "x", "plan_version": 1},
                           headers=env.headers("analyst"))
    assert response.status_code == 403


def test_missing_ids_are_404(client, env):
    h = env.headers("admin")
    for path in ("/v1/assumption-sets/999", "/v1/reviews/999", "/v1/reviews/999/adjustments",
                 "/v1/reviews/999/explanation", "/v1/plans/99"):
        response = client.get(path, headers=h)
        assert response.status_code == 404, path
        assert "999" in response.json()["detail"] or "99" in response.json()["detail"]
    assert client.post("/v1/reviews/999/cancel", headers=h).status_code == 404


def test_assumption_set_versions_parent_and_diff(client, env):
    h = env.headers("analyst")
    body = yaml.safe_load((SAMPLE / "assumptions" / "south-freeze.yaml").read_text())
    first = client.post("/v1/assumption-sets", json=body, headers=h)
    assert first.status_code == 201, first.text
    first = first.json()
    assert first["version"] == 1 and first["parent_id"] is None
    assert first["diff"][0]["op"] == "added"
    body["adjustments"][0]["demand"] = 0.4
    second = client.post("/v1/assumption-sets", json=body, headers=h).json()
    assert second["version"] == 2 and second["parent_id"] == first["id"]
    assert second["diff"] == [{"op": "changed", "path": "adjustments[0].demand", "old": 0.5, "new": 0.4}]
    listing = client.get("/v1/assumption-sets", headers=env.headers("viewer")).json()
    assert listing["count"] == 2
    assert client.get(f"/v1/assumption-sets/{first['id']}", headers=h).json()["body"]["adjustments"][0]["demand"] == 0.5


def test_plans_current_and_history(client, env):
    h = env.headers("viewer")
    current = client.get("/v1/plans/current", headers=h).json()
    assert current["version"] == 1 and current["in_force"] is True
    assert [c["component_id"] for c in current["components"]] == list(pd.read_csv(SAMPLE / "plan" / "components.csv")["component_id"])
    assert current["targets"] is None
    with_targets = client.get("/v1/plans/current?targets=true", headers=h).json()
    assert len(with_targets["targets"]) == len(pd.read_csv(SAMPLE / "plan" / "targets.csv"))
    history = client.get("/v1/plans", headers=h).json()
    assert history["count"] == 1 and history["in_force"] == 1
    csv = client.get("/v1/plans/1/targets?format=csv", headers=h)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "rep_id,component_id,period,target"


def test_actuals_upsert_is_idempotent(client, env):
    h = env.headers("analyst")
    rows = [{"rep_id": "R01", "product_id": "plc-classic", "period": "2026-03", "orders": 2, "calls": 30}]
    first = client.post("/v1/actuals", json={"rows": rows}, headers=h).json()
    assert first == {"inserted": 0, "updated": 1, "unchanged": 0, "current_period": "2026-03",
                     "missing_reps": {}, "warnings": []}
    again = client.post("/v1/actuals", json={"rows": rows}, headers=h).json()
    assert again == {"inserted": 0, "updated": 0, "unchanged": 1, "current_period": "2026-03",
                     "missing_reps": {}, "warnings": []}
    closing = client.post("/v1/actuals", json={"current_period": "2026-04", "rows": [
        {"rep_id": "R01", "product_id": "plc-classic", "period": "2026-04", "orders": 1}]}, headers=h).json()
    assert closing["inserted"] == 1 and closing["current_period"] == "2026-04"


def test_alarms_point_at_southern_europe(client, env):
    response = client.get("/v1/alarms", params={"market": "south", "level": "market", "kind": "pace"},
                          headers=env.headers("viewer"))
    assert response.status_code == 200
    data = response.json()
    assert data["thresholds"]["critical_below"] == 0.70
    revenue = [a for a in data["data"] if a["kpi"] == "revenue"]
    assert revenue and revenue[0]["severity"] == "critical"
    assert 0.55 < revenue[0]["pace"] < 0.70
    assert revenue[0]["suggested_adjustment"]["markets"] == ["south"]
    assert all(math.isfinite(a["forecast_year"]) for a in data["data"])
    by_product = client.get("/v1/alarms", params={"product": "twin-cloud", "severity": ["critical"]},
                            headers=env.headers("viewer")).json()
    assert by_product["count"] > 0
    assert all("twin-cloud" in a["product_ids"] and a["severity"] == "critical" for a in by_product["data"])
    assert client.get("/v1/alarms", params={"severity": "bogus"}, headers=env.headers("viewer")).status_code == 422


def test_actuals_as_csv(client, env):
    h = {**env.headers("analyst"), "Content-Type": "text/csv"}
    csv = (SAMPLE / "actuals.csv").read_text()
    same = client.post("/v1/actuals/csv", content=csv.encode(), headers=h)
    assert same.status_code == 200, same.text
    assert same.json()["unchanged"] == len(csv.splitlines()) - 1 and same.json()["inserted"] == 0
    bad = "rep_id,product_id,period,orders\nR01,plc-classic,2026-02,-1\nR77,plc-classic,2026-02,1\n"
    response = client.post("/v1/actuals/csv", content=bad.encode(), headers=h)
    assert response.status_code == 422
    assert {(e["line"], e["field"]) for e in response.json()["errors"]} == {(2, "orders")}
    unknown = client.post("/v1/actuals/csv", content=bad.replace("-1", "1").encode(), headers=h)
    assert {(e["line"], e["field"]) for e in unknown.json()["errors"]} == {(3, "rep_id")}
    closing = client.post("/v1/actuals/csv", params={"current_period": "2026-04"}, headers=h,
                          content=b"rep_id,product_id,period,orders\nR01,plc-classic,2026-04,2\n")
    answer = closing.json()
    assert {k: answer[k] for k in ("inserted", "updated", "unchanged", "current_period")} == {
        "inserted": 1, "updated": 0, "unchanged": 0, "current_period": "2026-04"}
    # closing 2026-04 with one rep's row names every other rep as missing
    assert "R01" not in answer["missing_reps"]["2026-04"] and "R02" in answer["missing_reps"]["2026-04"]
    assert "2026-04" in answer["warnings"][0] and "R02" in answer["warnings"][0]
