"""Issue 12 through the HTTP API, on SQLite and PostgreSQL: each broken request of the issue now
gets a 4xx naming the field and its limit, writes nothing, and no stored data fails a later GET;
pay figures reach only the approver and admin roles."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from api.db import store
from api.db.tables import AssumptionSetRow, AuditRow
from api.main import create_app
from models.limits import (
    MAX_ADJUSTMENTS, MAX_FACTOR, MAX_ID, MAX_NAME_LENGTH, MAX_QUANTITY, MAX_REASON_LENGTH, MAX_SCOPE_IDS,
)
from tests.api.conftest import LiveServer, settings_for

BIG = 2**63  # one past the largest signed 64-bit integer (the 9223372036854775808)


def fields(response) -> dict[str | None, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def counts(env) -> tuple[int, int]:
    """(assumption sets, audit entries): what a refused request must not have changed."""
    from sqlalchemy import func, select

    with env.sessions() as session:
        return (session.scalar(select(func.count()).select_from(AssumptionSetRow)),
                session.scalar(select(func.count()).select_from(AuditRow)))


# ---------------------------------------------------------------------------------------------
# 1. integers past 64 bits


@pytest.mark.parametrize("method, url, body, field", [
    ("GET", "/v1/reviews/{n}", None, "review_id"),
    ("GET", "/v1/reviews/{n}/adjustments", None, "review_id"),
    ("GET", "/v1/reviews/{n}/explanation", None, "review_id"),
    ("POST", "/v1/reviews/{n}/cancel", None, "review_id"),
    ("POST", "/v1/reviews/{n}/decision", {"decision": "reject", "reason": "r", "plan_version": 1}, "review_id"),
    ("POST", "/v1/reviews/1/decision", {"decision": "reject", "reason": "r", "plan_version": "{n}"}, "plan_version"),
    ("GET", "/v1/reviews?offset={n}", None, "offset"),
    ("POST", "/v1/reviews", {"assumption_set_id": "{n}"}, "assumption_set_id"),
    ("GET", "/v1/assumption-sets/{n}", None, "set_id"),
    ("GET", "/v1/assumption-sets?offset={n}", None, "offset"),
    ("POST", "/v1/assumption-sets", {"name": "x", "parent": "{n}"}, "parent"),
    ("GET", "/v1/audit?offset={n}", None, "offset"),
    ("GET", "/v1/benchmarks/{n}", None, "benchmark_id"),
    ("GET", "/v1/benchmarks?offset={n}", None, "offset"),
    ("GET", "/v1/benchmarks/compare?ids={n}&ids=1", None, "ids[0]"),
    ("POST", "/v1/benchmarks", {"reps": 5, "products": 2, "seed": "{n}"}, "seed"),
    ("GET", "/v1/plans/{n}", None, "version"),
    ("GET", "/v1/plans/{n}/targets", None, "version"),
])
def test_integers_past_the_id_range_are_422_naming_the_field(client, env, method, url, body, field):
    for number in (BIG, -BIG - 1, MAX_ID + 1):
        sent = None if body is None else json.loads(json.dumps(body).replace('"{n}"', str(number)))
        response = client.request(method, url.replace("{n}", str(number)), json=sent, headers=env.headers("admin"))
        assert response.status_code == 422, (number, response.text)
        assert field in fields(response), (number, response.text)


def test_a_parent_named_by_a_long_digit_string_is_a_name_not_an_overflow(client, env):
    response = client.post("/v1/assumption-sets", json={"name": "x", "parent": str(BIG)},
                           headers=env.headers("analyst"))
    assert response.status_code == 422 and "no assumption set" in fields(response)["parent"]


# ---------------------------------------------------------------------------------------------
# 2. alarms filtered down to nothing


def test_alarm_filters_that_match_nothing_give_an_empty_list(client, env):
    response = client.get("/v1/alarms", params={"market": "zz", "product": "plc-classic", "level": "rep"},
                          headers=env.headers("viewer"))
    assert response.status_code == 422 and "unknown market 'zz'" in fields(response)["market"]
    response = client.get("/v1/alarms", params={"market": "south", "product": "plc-classic", "level": "company"},
                          headers=env.headers("viewer"))  # company alarms lie in no market
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 0 and response.json()["data"] == []


# ---------------------------------------------------------------------------------------------
# 3, 6, 11. factors: quoted, non-positive, non-finite, out of magnitude


@pytest.mark.parametrize("factor", ["demand", "price"])
def test_bad_factors_are_422_and_store_nothing(client, env, factor):
    before = counts(env)
    for value in ("0", "-1", "NaN", "inf", "0.5", 0, -1, 1e308, 1e-300, MAX_FACTOR * 2):
        response = client.post("/v1/assumption-sets", json={"name": "s", "adjustments": [{factor: value}]},
                               headers=env.headers("analyst"))
        assert response.status_code == 422, (value, response.text)
        assert f"adjustments[0].{factor}" in fields(response), value
    assert counts(env) == before


# ---------------------------------------------------------------------------------------------
# 4 and 14. text that cannot be stored: lone surrogates, NUL bytes


@pytest.mark.parametrize("body, field", [
    ('{"name": "s", "adjustments": [{"reason": "\\udfff"}]}', "adjustments[0].reason"),
    ('{"name": "s\\ud800", "adjustments": []}', "name"),
    ('{"name": "s\\u0000x", "adjustments": []}', "name"),
    ('{"name": "s", "adjustments": [{"markets": ["south\\u0000"]}]}', "adjustments[0].markets[0]"),
])
def test_unstorable_text_is_422_before_anything_is_written(client, env, body, field):
    before = counts(env)
    response = client.post("/v1/assumption-sets", content=body.encode(),
                           headers={**env.headers("analyst"), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert field in fields(response)
    assert counts(env) == before
    assert client.get("/v1/assumption-sets", headers=env.headers("viewer")).status_code == 200


def test_a_nul_byte_in_a_query_filter_is_422(client, env):
    response = client.get("/v1/assumption-sets", params={"name": "a\x00b"}, headers=env.headers("viewer"))
    assert response.status_code == 422 and "name" in fields(response)


def test_a_lone_surrogate_stored_earlier_cannot_fail_a_get(client, env):
    """Data stored before these checks existed: a JSON column holding a lone surrogate is sent
    \\u-escaped (valid JSON) instead of failing every page that lists it."""
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        session.add(AssumptionSetRow(dataset_id=dataset.id, name="old", version=1, parent_id=None,
                                     body={"name": "old", "adjustments": [{"reason": "\udfff"}]}, diff=[],
                                     created_by="test"))
        try:
            session.commit()
        except Exception as error:  # PostgreSQL itself may refuse to store it: then nothing can be poisoned
            pytest.skip(f"this database refuses a lone surrogate itself: {type(error).__name__}")
        set_id = session.scalars(AssumptionSetRow.__table__.select().with_only_columns(AssumptionSetRow.id)
                                 .where(AssumptionSetRow.name == "old")).first()
    listing = client.get("/v1/assumption-sets", headers=env.headers("viewer"))
    single = client.get(f"/v1/assumption-sets/{set_id}", headers=env.headers("viewer"))
    assert listing.status_code == 200 and single.status_code == 200
    assert single.json()["body"]["adjustments"][0]["reason"] == "\udfff"


# ---------------------------------------------------------------------------------------------
# 5. extra fields in a CSV row


def test_actuals_csv_with_extra_fields_in_the_first_row_is_422(client, env):
    before = counts(env)
    body = "rep_id,product_id,period,orders\nR01,plc-classic,2026-03,1,99\n"
    response = client.post("/v1/actuals/csv", content=body.encode(), headers={
        **env.headers("analyst"), "Content-Type": "text/csv"})
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["file"] == "actuals.csv" and error["line"] == 2 and "4" in error["message"]
    assert counts(env) == before


def test_actuals_csv_with_a_duplicated_column_is_422(client, env):
    body = "rep_id,product_id,period,orders,orders\nR01,plc-classic,2026-03,1,2\n"
    response = client.post("/v1/actuals/csv", content=body.encode(), headers={
        **env.headers("analyst"), "Content-Type": "text/csv"})
    assert response.status_code == 422 and "orders" in fields(response)


# ---------------------------------------------------------------------------------------------
# 6. huge actuals; alarms never fail on stored data


@pytest.mark.parametrize("orders", [1e308, MAX_QUANTITY * 10])
def test_huge_actuals_are_422_and_alarms_keep_answering(client, env, orders):
    before = counts(env)
    response = client.post("/v1/actuals", json={"rows": [
        {"rep_id": "R01", "product_id": "plc-classic", "period": "2026-03", "orders": orders}]},
        headers=env.headers("analyst"))
    assert response.status_code == 422, response.text
    assert str(int(MAX_QUANTITY)) in fields(response)["rows[0].orders"]
    assert counts(env) == before
    assert client.get("/v1/alarms", headers=env.headers("viewer")).status_code == 200


def test_actuals_stored_before_the_limits_make_alarms_409_not_500(client, env):
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        store.upsert_actuals(session=session, dataset_id=dataset.id, rows=[
            {"rep_id": "R01", "product_id": "plc-classic", "period": "2026-03", "orders": 1e308}])
        session.commit()
    response = client.get("/v1/alarms", headers=env.headers("viewer"))
    assert response.status_code == 409, response.text
    assert "comptune load" in response.json()["detail"] and "orders" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------
# 11. sizes of names, reasons, lists, adjustments


@pytest.mark.parametrize("body, field", [
    ({"name": "n" * 1_000_000}, "name"),
    ({"name": "n" * (MAX_NAME_LENGTH + 1)}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "s", "adjustments": [{"reason": "r" * (MAX_REASON_LENGTH + 1)}]}, "adjustments[0].reason"),
    ({"name": "s", "adjustments": [{"markets": ["south"] * 200_000}]}, "adjustments[0].markets"),
    ({"name": "s", "adjustments": [{"markets": []}]}, "adjustments[0].markets"),
    ({"name": "s", "adjustments": [{}] * 50_000}, "adjustments"),
])
def test_oversized_or_blank_inputs_are_422_naming_the_field(client, env, body, field):
    before = counts(env)
    response = client.post("/v1/assumption-sets", json=body, headers=env.headers("analyst"))
    assert response.status_code == 422, response.text[:500]
    assert field in fields(response), response.text[:500]
    assert counts(env) == before


def test_the_limits_are_the_documented_ones():
    assert (MAX_NAME_LENGTH, MAX_REASON_LENGTH, MAX_SCOPE_IDS, MAX_ADJUSTMENTS) == (200, 5_000, 10_000, 1_000)


def test_a_decision_reason_past_the_limit_is_422(client, env):
    response = client.post("/v1/reviews/1/decision", json={"decision": "reject", "reason": "r" * 6000,
                                                           "plan_version": 1}, headers=env.headers("approver"))
    assert response.status_code == 422 and "reason" in fields(response)


# ---------------------------------------------------------------------------------------------
# 13. pay figures only for approver and admin, in every text


def wait_for(client, env, review_id: int, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        review = client.get(f"/v1/reviews/{review_id}", headers=env.headers("viewer")).json()
        if review["status"] in ("succeeded", "failed", "canceled"):
            return review
        time.sleep(0.5)
    raise AssertionError(f"review {review_id} did not finish")


def test_soft_slack_pay_sentences_and_the_budget_dual_reach_only_approvers(client, env):
    created = client.post("/v1/assumption-sets", json={"name": "cheap", "adjustments": [{"price": 0.2}]},
                          headers=env.headers("analyst"))
    assert created.status_code == 201, created.text
    review = client.post("/v1/reviews", json={"assumption_set_id": created.json()["id"]},
                         headers=env.headers("analyst"))
    assert review.status_code == 202, review.text
    review_id = review.json()["id"]
    assert wait_for(client, env, review_id)["status"] == "succeeded"

    def texts(role: str) -> tuple[dict, dict, str]:
        summary = client.get(f"/v1/reviews/{review_id}", headers=env.headers(role)).json()["summary"]
        explanation = client.get(f"/v1/reviews/{review_id}/explanation", headers=env.headers(role)).json()
        listing = client.get("/v1/reviews", headers=env.headers(role)).text
        return summary, explanation, listing

    summary, explanation, _ = texts("approver")
    budget_rows = [s for s in explanation["soft_slacks"] if s.get("family") == "budget"]
    assert budget_rows, "price × 0.2 should push variable pay at target over the comp budget"
    amount = f"{budget_rows[0]['amount']:,.0f}"
    assert any("comp budget" in m and amount in m for m in explanation["messages"])
    assert any(s.get("family") == "budget" for s in summary["soft_slacks"])
    for role in ("viewer", "analyst"):
        summary, explanation, listing = texts(role)
        every_text = json.dumps(summary) + json.dumps(explanation) + listing
        assert "budget" not in every_text and amount not in every_text, role
        assert all(row.get("family") != "budget" for row in explanation["binding"] + explanation["soft_slacks"])
        assert all(row["pay_cost"] is None for row in summary["comparison"])
        adjustments = client.get(f"/v1/reviews/{review_id}/adjustments", headers=env.headers(role)).text
        assert amount not in adjustments


# ---------------------------------------------------------------------------------------------
# 14. concurrent versions of one name


def test_twenty_concurrent_posts_of_one_name_get_distinct_versions(env):
    app = create_app(settings_for(env.url))
    with LiveServer(app) as server:
        def post(_):
            return httpx.post(f"{server.url}/v1/assumption-sets", json={"name": "race", "adjustments": []},
                              headers=env.headers("analyst"), timeout=60)

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(post, range(20)))
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    assert sorted(r.json()["version"] for r in responses) == list(range(1, 21))


# ---------------------------------------------------------------------------------------------
# 16. the OpenAPI document describes what the service sends


def test_the_openapi_document_describes_the_real_error_bodies(client):
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "422" in responses:
                assert responses["422"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorPublic"}, (method, path)
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert "400" in responses and "413" in responses, (method, path)


@pytest.mark.parametrize("method, url, allowed", [("PUT", "/v1/reviews", "GET, HEAD, POST"),
                                                  ("DELETE", "/v1/assumption-sets", "GET, HEAD, POST"),
                                                  ("PUT", "/v1/reviews/1", "GET, HEAD")])
def test_405_names_every_allowed_method(client, env, method, url, allowed):
    response = client.request(method, url, headers=env.headers("admin"))
    assert response.status_code == 405 and response.headers["allow"] == allowed


def test_an_unknown_query_parameter_is_422(client, env):
    response = client.get("/v1/reviews", params={"limt": 5}, headers=env.headers("viewer"))
    assert response.status_code == 422 and "limt" in fields(response)


def test_the_migration_renumbers_versions_stored_twice_before_the_unique_key(database_url):
    """A database that already holds one name's version twice (PostgreSQL before this change)
    upgrades: the later duplicate takes the name's next free version."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from api.db.session import alembic_config

    command.upgrade(alembic_config(database_url), "0001")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO datasets (id, name, source, content_hash, company, is_current, loaded_at) "
                                "VALUES (1, 'd', 's', 'h', '{}', true, CURRENT_TIMESTAMP)"))
        for set_id, version in ((1, 1), (2, 2), (3, 2), (4, 1)):
            connection.execute(text("INSERT INTO assumption_sets (id, dataset_id, name, version, body, diff, "
                                    "created_by, created_at) VALUES (:id, 1, 'race', :v, '{}', '[]', 't', "
                                    "CURRENT_TIMESTAMP)"), {"id": set_id, "v": version})
    command.upgrade(alembic_config(database_url), "head")
    with engine.connect() as connection:
        versions = dict(connection.execute(text("SELECT id, version FROM assumption_sets")).all())
    engine.dispose()
    assert versions == {1: 1, 2: 2, 3: 3, 4: 4}
