"""Every class of bad input is a 4xx naming the field, never a 500, and nothing is half-written."""

from __future__ import annotations

import pytest

from api.db import store
from tests.api.conftest import stored_review


def field_errors(response) -> dict[str | None, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def post_set(client, env, body, **kwargs):
    return client.post("/v1/assumption-sets", json=body, headers=env.headers("analyst"), **kwargs)


def test_malformed_json_is_400(client, env):
    response = client.post("/v1/assumption-sets", content=b'{"name": "x", "adjustments": [', headers={
        **env.headers("analyst"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "JSON" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("adjustment, field, words", [
    ({"demand": "high"}, "adjustments[0].demand", "number"),
    ({"demand": 0}, "adjustments[0].demand", "> 0"),
    ({"price": -1.5}, "adjustments[0].price", "> 0"),
    ({"markets": "nowhere"}, "adjustments[0].markets[0]", "unknown market"),
    ({"products": ["group:nope"]}, "adjustments[0].products[0]", "unknown product group"),
    ({"reps": ["R99"], "hours": 0.9}, "adjustments[0].reps[0]", "unknown rep"),
    ({"periods": {"from": "2027-01"}}, "adjustments[0].periods.from", "unknown period"),
    ({"demnd": 0.5}, "adjustments[0].demnd", "unknown key"),
])
def test_bad_assumptions_name_the_field(client, env, adjustment, field, words):
    response = post_set(client, env, {"name": "bad", "adjustments": [adjustment]})
    assert response.status_code == 422, response.text
    errors = field_errors(response)
    assert field in errors, errors
    assert words in errors[field]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_factors_are_refused(client, env, literal):
    body = '{"name": "x", "adjustments": [{"markets": ["south"], "demand": %s}]}' % literal
    response = client.post("/v1/assumption-sets", content=body.encode(), headers={
        **env.headers("analyst"), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert "adjustments[0].demand" in field_errors(response)


def test_wrong_body_type_and_missing_name(client, env):
    assert post_set(client, env, [1, 2]).status_code == 422
    response = post_set(client, env, {"adjustments": []})
    assert response.status_code == 422 and "name" in field_errors(response)


def test_oversized_body_is_413(env):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.api.conftest import settings_for

    with TestClient(create_app(settings_for(env.url, max_body_bytes=2_000))) as client:
        body = {"name": "big", "adjustments": [{"markets": ["south"], "reason": "x" * 5_000}]}
        response = post_set(client, env, body)
        assert response.status_code == 413
        chunked = client.post("/v1/assumption-sets", content=iter([b'{"name": "', b"y" * 3_000, b'"}']),
                              headers={**env.headers("analyst"), "Content-Type": "application/json"})
        assert chunked.status_code == 413


def test_bad_assumption_set_is_not_stored(client, env):
    post_set(client, env, {"name": "bad", "adjustments": [{"markets": ["south"]}, {"markets": ["atlantis"]}]})
    listing = client.get("/v1/assumption-sets", headers=env.headers("viewer")).json()
    assert listing["count"] == 0


def test_bad_actuals_name_the_row_and_write_nothing(client, env):
    h = env.headers("analyst")
    with env.sessions() as session:
        before = store.actuals_frame(session=session, dataset_id=1)
    rows = [
        {"rep_id": "R01", "product_id": "plc-classic", "period": "2026-01", "orders": 99},
        {"rep_id": "R99", "product_id": "plc-classic", "period": "2026-01"},
        {"rep_id": "R01", "product_id": "warp-drive", "period": "2026-01"},
        {"rep_id": "R01", "product_id": "plc-classic", "period": "2026-09"},
        {"rep_id": "R01", "product_id": "*", "period": "2026-01", "orders": 3},
    ]
    response = client.post("/v1/actuals", json={"rows": rows}, headers=h)
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {"rows[1].rep_id", "rows[2].product_id", "rows[3].period", "rows[4].orders"}
    negative = client.post("/v1/actuals", json={"rows": [{**rows[0], "orders": -1}]}, headers=h)
    assert negative.status_code == 422 and "rows[0].orders" in field_errors(negative)
    nan = client.post("/v1/actuals", content=b'{"rows": [{"rep_id": "R01", "product_id": "plc-classic", '
                      b'"period": "2026-01", "calls": NaN}]}', headers={**h, "Content-Type": "application/json"})
    assert nan.status_code == 422 and "rows[0].calls" in field_errors(nan)
    backwards = client.post("/v1/actuals", json={"current_period": "2026-01", "rows": rows[:1]}, headers=h)
    assert backwards.status_code == 422 and "current_period" in field_errors(backwards)
    with env.sessions() as session:
        after = store.actuals_frame(session=session, dataset_id=1)
        assert store.current_dataset(session=session).company["current_period"] == "2026-03"
    assert after.equals(before)


def test_bad_review_requests(client, env):
    h = env.headers("analyst")
    unknown = client.post("/v1/reviews", json={"assumption_set_id": 42}, headers=h)
    assert unknown.status_code == 422 and "assumption_set_id" in field_errors(unknown)
    set_id = post_set(client, env, {"name": "ok", "adjustments": [{"markets": ["south"], "demand": 0.5}]}).json()["id"]
    for limit in (-1, 0, "soon"):
        response = client.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": limit}, headers=h)
        assert response.status_code == 422 and "time_limit_s" in field_errors(response)
    too_long = client.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": 1e9}, headers=h)
    assert too_long.status_code == 422 and "time_limit_s" in field_errors(too_long)
    assert client.get("/v1/reviews", headers=h).json()["count"] == 0


def test_decision_errors(client, env):
    review_id = stored_review(env)
    h = env.headers("approver")
    bad = client.post(f"/v1/reviews/{review_id}/decision", json={"decision": "maybe", "reason": "x", "plan_version": 1},
                      headers=h)
    assert bad.status_code == 422 and "decision" in field_errors(bad)
    stale = client.post(f"/v1/reviews/{review_id}/decision", json={"decision": "accept", "reason": "x", "plan_version": 7},
                        headers=h)
    assert stale.status_code == 409
    assert client.get("/v1/plans", headers=h).json()["count"] == 1
    missing = client.post("/v1/reviews/999/decision", json={"decision": "accept", "reason": "x", "plan_version": 1},
                          headers=h)
    assert missing.status_code == 404


def test_results_of_an_unfinished_review_are_409(client, env):
    with env.sessions() as session:
        job = store.create_job(session=session, kind="review", created_by="t", time_limit_s=5, params={},
                               dataset_id=1, assumption_set_id=None, plan_version=1)
        session.commit()
    h = env.headers("viewer")
    assert client.get(f"/v1/reviews/{job.id}/adjustments", headers=h).status_code == 409
    assert client.get(f"/v1/reviews/{job.id}/explanation", headers=h).status_code == 409
    decision = client.post(f"/v1/reviews/{job.id}/decision", json={"decision": "reject", "reason": "x", "plan_version": 1},
                           headers=env.headers("approver"))
    assert decision.status_code == 409
