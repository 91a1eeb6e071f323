"""The service keeps the alarms table per state of its inputs: a repeated GET does not recompute it,
and changed actuals or a new plan in force are seen at once."""

from __future__ import annotations

from api.db import store
from tests.api.conftest import stored_review


def rep_alarms(client, env, rep="R01") -> dict:
    response = client.get("/v1/alarms", params={"level": "rep", "severity": ["critical", "warning", "watch", "ok"],
                                               "limit": 100_000}, headers=env.headers("viewer"))
    assert response.status_code == 200, response.text
    return {(a["kpi"], a["kind"]): a for a in response.json()["data"] if a["rep_id"] == rep}


def test_alarms_follow_actuals_and_plan_changes(client, env):
    cache = client.app.state.services.alarms
    before = rep_alarms(client, env)
    assert rep_alarms(client, env) == before and len(cache._tables) == 1  # served from the cache
    rows = [{"rep_id": "R01", "product_id": "plc-classic", "period": p, "orders": 40, "calls": 20, "meetings": 3,
             "quotes": 2} for p in ("2026-01", "2026-02", "2026-03")]
    posted = client.post("/v1/actuals", json={"rows": rows}, headers=env.headers("analyst"))
    assert posted.status_code == 200 and posted.json()["updated"] == 3, posted.text
    after = rep_alarms(client, env)
    changed = [key for key in before if key in after and before[key]["actual_to_date"] != after[key]["actual_to_date"]]
    assert changed, "the new actuals did not reach the alarms"
    assert len(cache._tables) == 2

    review_id = stored_review(env)
    decided = client.post(f"/v1/reviews/{review_id}/decision", headers=env.headers("approver"),
                          json={"decision": "accept", "reason": "test", "plan_version": 1})
    assert decided.status_code == 201, decided.text
    response = client.get("/v1/alarms", headers=env.headers("viewer")).json()
    assert response["plan_version"] == 2 and len(cache._tables) == 3
    with env.sessions() as session:
        assert store.current_dataset(session=session).plan_version == 2
