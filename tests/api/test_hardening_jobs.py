"""Issue 20 (cases 1, 2, 4, 5, 10, 11, 12) through the HTTP API, on SQLite and PostgreSQL: no
retroactive pay change, no request whose work is unbounded, a quota on the jobs one caller may queue,
sweeps validated at the request, listed and canceled, and actors the audit log can tell apart."""

from __future__ import annotations

from sqlalchemy import func, select, update

from api.db import store
from api.db.tables import AuditRow, DecisionRow, JobResultRow, JobRow, PlanVersionRow
from api.serialize import frame_from_json, frame_to_json


def fields(response) -> dict[str | None, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def count(env, table) -> int:
    with env.sessions() as session:
        return session.scalar(select(func.count()).select_from(table))


# ---------------------------------------------------------------------------------------------
# 1. a review computed before a period closed is not accepted after it closed


def close_april(client, env) -> None:
    response = client.post("/v1/actuals", headers=env.headers("analyst"), json={
        "current_period": "2026-04",
        "rows": [{"rep_id": "R01", "product_id": "plc-classic", "period": "2026-04", "orders": 1}]})
    assert response.status_code == 200, response.text


def retarget(env, review_id: int, period: str, factor: float = 1.1) -> None:
    """The stored review's recommended targets of `period` moved (what a review of an open month does)."""
    with env.sessions() as session:
        row = session.get(JobResultRow, review_id)
        result = dict(row.result)
        plan = dict(result["recommended_plan"])
        targets = frame_from_json(plan["targets"])
        targets.loc[targets["period"] == period, "target"] *= factor
        plan["targets"] = frame_to_json(targets)
        row.result = {**result, "recommended_plan": plan}
        session.commit()


def accept(client, env, review_id: int, plan_version: int = 1):
    return client.post(f"/v1/reviews/{review_id}/decision", headers=env.headers("approver"),
                       json={"decision": "accept", "reason": "before the close", "plan_version": plan_version})


def test_a_review_submitted_before_a_period_closed_is_409_naming_it(client, env):
    from tests.api.conftest import stored_review

    review_id = stored_review(env)
    with env.sessions() as session:  # what create_review records: the period the review was computed at
        session.execute(update(JobRow).where(JobRow.id == review_id).values(params={"current_period": "2026-03"}))
        session.commit()
    retarget(env, review_id, "2026-04")
    close_april(client, env)
    response = accept(client, env, review_id)
    assert response.status_code == 409, response.text
    assert "2026-04" in response.json()["detail"] and "closed" in response.json()["detail"]
    assert count(env, PlanVersionRow) == 1 and count(env, DecisionRow) == 0  # nothing written
    # rejecting it is still possible: a stale recommendation can be turned down
    rejected = client.post(f"/v1/reviews/{review_id}/decision", headers=env.headers("approver"),
                           json={"decision": "reject", "reason": "stale", "plan_version": 1})
    assert rejected.status_code == 201, rejected.text


def test_an_older_review_without_its_period_is_409_when_it_retargets_a_closed_month(client, env):
    from tests.api.conftest import stored_review

    review_id = stored_review(env)  # params {}: stored before reviews recorded their period
    retarget(env, review_id, "2026-04")
    close_april(client, env)
    response = accept(client, env, review_id)
    assert response.status_code == 409 and "2026-04" in response.json()["detail"], response.text
    assert count(env, PlanVersionRow) == 1


def test_a_review_computed_after_the_close_is_accepted(client, env):
    from tests.api.conftest import stored_review

    close_april(client, env)
    review_id = stored_review(env)
    with env.sessions() as session:
        session.execute(update(JobRow).where(JobRow.id == review_id).values(params={"current_period": "2026-04"}))
        session.commit()
    retarget(env, review_id, "2026-05")  # an open month: that is what a review is for
    response = accept(client, env, review_id)
    assert response.status_code == 201, response.text


def new_set(client, env) -> int:
    response = client.post("/v1/assumption-sets", headers=env.headers("analyst"), json={
        "name": "south-half", "adjustments": [{"markets": ["south"], "demand": 0.5}]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_create_review_records_the_current_period(client, env):
    set_id = new_set(client, env)
    response = client.post("/v1/reviews", headers=env.headers("analyst"),
                           json={"assumption_set_id": set_id, "time_limit_s": 5})
    assert response.status_code == 202, response.text
    client.post(f"/v1/reviews/{response.json()['id']}/cancel", headers=env.headers("analyst"))
    with env.sessions() as session:
        assert session.get(JobRow, response.json()["id"]).params["current_period"] == "2026-03"


# ---------------------------------------------------------------------------------------------
# 10. the same (rep, product, period) twice in one JSON actuals request


def test_json_actuals_with_a_repeated_key_are_422_naming_both_rows(client, env):
    before = count(env, AuditRow)
    row = {"rep_id": "R01", "product_id": "plc-classic", "period": "2026-03"}
    response = client.post("/v1/actuals", headers=env.headers("analyst"), json={
        "rows": [{**row, "orders": 5}, {"rep_id": "R02", "product_id": "plc-classic", "period": "2026-03",
                                        "orders": 2}, {**row, "orders": 700}]})
    assert response.status_code == 422, response.text
    errors = fields(response)
    assert "rows[2].period" in errors and "rows[0]" in errors["rows[2].period"], errors
    assert count(env, AuditRow) == before  # nothing written
    with env.sessions() as session:
        stored = store.actuals_frame(session=session, dataset_id=1)
        orders = stored[(stored.rep_id == "R01") & (stored.product_id == "plc-classic") & (stored.period == "2026-03")]
        assert orders["orders"].tolist() == [1.0]  # the sample's, unchanged


# ---------------------------------------------------------------------------------------------
# 11. a decision's reason must say something


def test_a_whitespace_only_decision_reason_is_422(client, env):
    from tests.api.conftest import stored_review

    review_id = stored_review(env)
    for reason in (" ", "\t\n  ", "\u3000"):
        response = client.post(f"/v1/reviews/{review_id}/decision", headers=env.headers("approver"),
                               json={"decision": "reject", "reason": reason, "plan_version": 1})
        assert response.status_code == 422 and "reason" in fields(response), (reason, response.text)
    assert count(env, DecisionRow) == 0


# ---------------------------------------------------------------------------------------------
# 12. two tokens of one name: the audit log could not tell the actors apart


def test_token_names_are_unique(env):
    import pytest

    with env.sessions() as session:
        with pytest.raises(store.Conflict, match="analyst-user"):
            store.create_token(session=session, role="viewer", name="analyst-user")
        session.rollback()
        first = store.unique_token_name(session=session, base="analyst-token")
        store.create_token(session=session, role="analyst", name=first)
        second = store.unique_token_name(session=session, base="analyst-token")
        assert (first, second) == ("analyst-token", "analyst-token-2")
        session.commit()


def test_the_cli_refuses_a_duplicate_name_and_derives_unique_defaults(env):
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    environ = {"COMPTUNE_DATABASE_URL": env.url}
    duplicate = runner.invoke(app, ["token", "create", "--role", "analyst", "--name", "analyst-user"], env=environ)
    assert duplicate.exit_code == 2 and "analyst-user" in duplicate.output, duplicate.output
    names = []
    for _ in range(2):
        created = runner.invoke(app, ["token", "create", "--role", "viewer"], env=environ)
        assert created.exit_code == 0, created.output
        names.append(created.output.split("(")[1].split(")")[0])
    assert names == ["viewer-token", "viewer-token-2"]
    # a revoked token keeps its name: a new holder never inherits an old one's audit trail
    with env.sessions() as session:
        row = next(r for r in store.list_tokens(session=session) if r.name == "viewer-token")
        store.revoke_token(session=session, token_id=row.id)
        session.commit()
    again = runner.invoke(app, ["token", "create", "--role", "viewer", "--name", "viewer-token"], env=environ)
    assert again.exit_code == 2 and "viewer-token" in again.output


def test_the_migration_renames_tokens_that_share_a_name(database_url):
    from alembic import command
    from sqlalchemy import text

    from api.db.session import alembic_config, make_engine, make_session_factory
    from tests.api.conftest import reset_postgres

    if database_url.startswith("postgresql"):
        reset_postgres(database_url)
    command.upgrade(alembic_config(database_url), "0004_plan_lp_blocks")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        for i, name in enumerate(("ana", "ana", "bob", "ana")):
            connection.execute(text("INSERT INTO tokens (token_hash, prefix, name, role, created_at) "
                                    "VALUES (:h, 'ct_x', :name, 'analyst', CURRENT_TIMESTAMP)"),
                               {"h": f"{i:064d}", "name": name})
    engine.dispose()
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        assert [(r.id, r.name) for r in store.list_tokens(session=session)] == [
            (1, "ana"), (2, "ana-2"), (3, "bob"), (4, "ana-4")]
    engine.dispose()


# ---------------------------------------------------------------------------------------------
# 5. sweeps: validated at the request, listed, canceled


def sweep_with(**changes) -> dict:
    base = {"name": "south", "factors": [{"markets": ["south"], "factor": "demand", "values": [0.5, 1.0]}]}
    return {**base, **changes}


def test_a_sweep_that_cannot_become_assumption_sets_is_422_at_the_request(client, env):
    from models.limits import MAX_FACTOR, MAX_SCOPE_IDS

    before = count(env, JobRow)
    for sweep, field in (
            (sweep_with(name="n" * 300), "name"),
            (sweep_with(name="south\x00"), "name"),
            (sweep_with(name="south\x07"), "name"),
            (sweep_with(factors=[{"markets": ["south"] * (MAX_SCOPE_IDS + 1), "factor": "demand", "values": [1]}]),
             "factors[0].markets"),
            (sweep_with(factors=[{"products": ["group:new"] * (MAX_SCOPE_IDS + 1), "factor": "price",
                                  "values": [1]}]), "factors[0].products"),
            (sweep_with(factors=[{"factor": "demand", "values": [MAX_FACTOR * 10]}]), "factors[0].values[0]"),
            (sweep_with(factors=[{"factor": "demand", "values": [1e-9]}]), "factors[0].values[0]"),
            ({"name": "mc", "mode": "monte_carlo", "draws": 3, "factors": [{"factor": "price", "range": [1, 1e6]}]},
             "factors[0].range"),
            (sweep_with(seed=2**63), "seed"),
    ):
        response = client.post("/v1/sweeps", json={"sweep": sweep}, headers=env.headers("analyst"))
        assert response.status_code == 422, (field, response.text)
        assert field in fields(response), (field, response.json())
    import json

    response = client.post("/v1/sweeps", content=json.dumps({"sweep": sweep_with()})[:-1] + ', "time_limit_s": 1e400}',
                           headers={**env.headers("analyst"), "Content-Type": "application/json"})
    assert response.status_code == 422 and "time_limit_s" in fields(response)
    assert count(env, JobRow) == before  # nothing stored


def test_sweeps_are_listed_and_canceled_like_reviews(client, env):
    from tests.api.test_sweeps import wait

    created = [client.post("/v1/sweeps", json={"sweep": sweep_with(name=f"s{i}")}, headers=env.headers("analyst"))
               for i in range(2)]
    assert [r.status_code for r in created] == [202, 202], [r.text for r in created]
    first, second = (r.json()["id"] for r in created)
    canceled = client.post(f"/v1/sweeps/{second}/cancel", headers=env.headers("analyst"))
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled", canceled.text
    assert client.post(f"/v1/sweeps/{second}/cancel", headers=env.headers("viewer")).status_code == 403
    done = wait(client, env, first)
    assert done["status"] == "succeeded", done
    assert client.post(f"/v1/sweeps/{first}/cancel", headers=env.headers("analyst")).status_code == 409
    listing = client.get("/v1/sweeps", headers=env.headers("viewer")).json()
    assert listing["count"] == 2 and [s["id"] for s in listing["data"]] == [second, first]
    assert all(s["result"] is None for s in listing["data"])  # the tables stay unread in a listing
    only = client.get("/v1/sweeps", params={"status": "canceled"}, headers=env.headers("viewer")).json()
    assert [s["id"] for s in only["data"]] == [second] and only["count"] == 1
    assert client.post("/v1/sweeps/999/cancel", headers=env.headers("analyst")).status_code == 404
    with env.sessions() as session:
        actions = [a.action for a in session.scalars(select(AuditRow).where(AuditRow.target == f"sweep:{second}"))]
    assert actions == ["sweep.create", "sweep.cancel"]
