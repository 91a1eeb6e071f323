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


# ---------------------------------------------------------------------------------------------
# 4. a quota of queued and running jobs per token, and time limits capped per role


GATED = {kind: "tests.api.job_handlers:gated" for kind in ("review", "sweep", "calibration", "benchmark")}


def gated_app(env, gate_dir, monkeypatch, **settings):
    from api.main import create_app
    from tests.api.conftest import settings_for

    gate_dir.mkdir(exist_ok=True)
    monkeypatch.setenv("COMPTUNE_TEST_GATE_DIR", str(gate_dir))  # the jobs stay running until released
    return create_app(settings_for(env.url, workers=1, **settings), job_handlers=GATED)


def test_one_job_past_the_quota_is_429_with_retry_after(env, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    with TestClient(gated_app(env, tmp_path / "gate", monkeypatch, job_quota={"analyst": 2})) as client:
        set_id = new_set(client, env)
        h = env.headers("analyst")
        first = client.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": 5}, headers=h)
        second = client.post("/v1/sweeps", json={"sweep": sweep_with()}, headers=h)
        assert (first.status_code, second.status_code) == (202, 202), (first.text, second.text)
        jobs, audit = count(env, JobRow), count(env, AuditRow)
        for refused in (client.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": 5}, headers=h),
                        client.post("/v1/sweeps", json={"sweep": sweep_with()}, headers=h),
                        client.post("/v1/calibrations", json={}, headers=h),
                        client.post("/v1/replays", json={"world_id": set_id, "policies": ["static"], "gaming_reps": 0},
                                    headers=h),
                        client.post("/v1/corrections", json={}, headers=h)):
            assert refused.status_code == 429, refused.text
            assert refused.headers["Retry-After"] == "30"
            detail = refused.json()["detail"]
            assert f"review {first.json()['id']}" in detail and f"sweep {second.json()['id']}" in detail
            assert "at most 2" in detail and "analyst" in detail
        assert (count(env, JobRow), count(env, AuditRow)) == (jobs, audit)  # nothing stored
        # the quota is per token: another analyst is not held up by the first
        with env.sessions() as session:
            _, other = store.create_token(session=session, role="analyst", name="second-analyst")
            session.commit()
        theirs = client.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": 5},
                             headers={"Authorization": f"Bearer {other}"})
        assert theirs.status_code == 202, theirs.text
        # a finished (here: canceled) job frees its place
        assert client.post(f"/v1/sweeps/{second.json()['id']}/cancel", headers=h).status_code == 200
        again = client.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": 5}, headers=h)
        assert again.status_code == 202, again.text
        (tmp_path / "gate" / "release").touch()


def test_concurrent_submissions_of_one_token_never_pass_the_quota(env, tmp_path, monkeypatch):
    import threading

    import httpx

    from tests.api.conftest import LiveServer

    app = gated_app(env, tmp_path / "gate", monkeypatch, job_quota={"analyst": 2})
    with LiveServer(app) as server:
        h = env.headers("analyst")
        set_id = httpx.post(f"{server.url}/v1/assumption-sets", headers=h, json={
            "name": "s", "adjustments": [{"markets": ["south"], "demand": 0.5}]}).json()["id"]
        barrier = threading.Barrier(6)
        codes: list[int] = []

        def post():
            barrier.wait()
            codes.append(httpx.post(f"{server.url}/v1/reviews", headers=h, timeout=60,
                                    json={"assumption_set_id": set_id, "time_limit_s": 5}).status_code)

        threads = [threading.Thread(target=post) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        (tmp_path / "gate" / "release").touch()
    assert sorted(codes) == [202, 202, 429, 429, 429, 429], codes
    assert count(env, JobRow) == 2


def test_time_limits_are_capped_per_role(client, env):
    from api.settings import DEFAULT_ROLE_TIME_LIMITS

    set_id = new_set(client, env)
    cap = DEFAULT_ROLE_TIME_LIMITS["analyst"]
    jobs = count(env, JobRow)
    for url, body in (("/v1/reviews", {"assumption_set_id": set_id}), ("/v1/sweeps", {"sweep": sweep_with()}),
                      ("/v1/calibrations", {})):
        response = client.post(url, json={**body, "time_limit_s": cap + 1}, headers=env.headers("analyst"))
        assert response.status_code == 422, (url, response.text)
        assert f"at most {cap:g} seconds for the analyst role" in fields(response)["time_limit_s"]
    assert count(env, JobRow) == jobs
    admin = client.post("/v1/reviews", json={"assumption_set_id": set_id, "time_limit_s": 3600},
                        headers=env.headers("admin"))
    assert admin.status_code == 202 and admin.json()["time_limit_s"] == 3600
    client.post(f"/v1/reviews/{admin.json()['id']}/cancel", headers=env.headers("admin"))


def test_the_quota_and_time_limit_settings_are_documented():
    from pathlib import Path

    from api.settings import DEFAULT_JOB_QUOTA, DEFAULT_ROLE_TIME_LIMITS, Settings

    text = (Path(__file__).resolve().parents[2] / "docs" / "service.md").read_text()
    for variable in ("COMPTUNE_JOB_QUOTA", "COMPTUNE_ROLE_TIME_LIMITS", "COMPTUNE_QUOTA_RETRY_AFTER_S"):
        assert f"`{variable}`" in text, variable
    for role in ("analyst", "approver", "admin"):
        assert f"| {role} | {DEFAULT_JOB_QUOTA[role]} | {DEFAULT_ROLE_TIME_LIMITS[role]:,.0f} |" in text, role
    # a role left out of the JSON keeps its default: setting one role never lifts another's limit
    settings = Settings(job_quota={"analyst": 10})
    assert settings.job_quota["admin"] == DEFAULT_JOB_QUOTA["admin"]


# ---------------------------------------------------------------------------------------------
# 2. rule overrides bounded by the company's size


def sample_pool() -> tuple[int, int]:
    """The components a review of the sample weighs, counted from its files (an independent path from
    candidate_components): (with candidates, in force only) — in force, one margin component per
    product group and per product, and margin on all products."""
    import pandas as pd

    from tests.api.conftest import SAMPLE

    in_force = len(pd.read_csv(SAMPLE / "plan" / "components.csv"))
    products = pd.read_csv(SAMPLE / "products.csv")
    return in_force + products["group"].nunique() + len(products) + 1, in_force


def test_max_components_past_the_pool_is_422_naming_the_limit(client, env):
    pool, in_force = sample_pool()
    set_id = new_set(client, env)
    jobs = count(env, JobRow)
    for body, limit in (({"max_components": 2**31 - 1}, pool), ({"max_components": pool + 1}, pool),
                        ({"max_components": in_force + 1, "in_force_only": True}, in_force)):
        response = client.post("/v1/reviews", json={"assumption_set_id": set_id, **body},
                               headers=env.headers("analyst"))
        assert response.status_code == 422, (body, response.text)
        assert fields(response)["max_components"].startswith(f"at most {limit}:"), response.json()
    assert count(env, JobRow) == jobs  # nothing stored
    at_pool = client.post("/v1/reviews", json={"assumption_set_id": set_id, "max_components": pool},
                          headers=env.headers("analyst"))
    assert at_pool.status_code == 202, at_pool.text
    client.post(f"/v1/reviews/{at_pool.json()['id']}/cancel", headers=env.headers("analyst"))


def test_curve_bounds_past_the_widest_family_are_422(client, env):
    from models.rules import MAX_CURVE_CAP, MAX_CURVE_SLOPE

    set_id = new_set(client, env)
    for key, pair in (("curve_slope_above_target", [0, MAX_CURVE_SLOPE + 1]), ("curve_cap", [1, MAX_CURVE_CAP + 1]),
                      ("curve_cap", [1, 1e300])):
        response = client.post("/v1/reviews", json={"assumption_set_id": set_id, key: pair},
                               headers=env.headers("analyst"))
        assert response.status_code == 422 and "at most" in fields(response)[key], response.text


def test_a_review_stored_with_an_unbounded_rule_fails_at_once_naming_it(client, env):
    import time

    set_id = new_set(client, env)
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        job = store.create_job(session=session, kind="review", created_by="test", time_limit_s=10,
                               params={"rules": {"max_components": 2**31 - 1}}, dataset_id=dataset.id,
                               assumption_set_id=set_id, plan_version=dataset.plan_version)
        session.commit()
        review_id = job.id
    client.app.state.services.runner.submit(review_id)
    deadline = time.monotonic() + 60
    while (review := client.get(f"/v1/reviews/{review_id}", headers=env.headers("viewer")).json())["status"] in (
            "queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert review["status"] == "failed" and "max_components" in review["error"] and "at most" in review["error"]


def test_the_cli_refuses_max_components_past_the_pool(tmp_path):
    from typer.testing import CliRunner

    from api.cli import app
    from tests.api.conftest import SAMPLE

    pool, _ = sample_pool()
    result = CliRunner().invoke(app, ["recommend", str(SAMPLE), "--max-components", str(pool + 1),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "max_components" in result.output and f"at most {pool}" in result.output


def test_the_size_estimate_counts_max_components():
    from models.dataset import load_dataset
    from optimizer.alignment.estimate import COMPONENTS_EXPONENT, estimate_recommendation
    from tests.api.conftest import SAMPLE

    dataset = load_dataset(SAMPLE)
    pool, in_force = sample_pool()
    rules = dataset.company.rules
    default = estimate_recommendation(dataset)
    at_pool = estimate_recommendation(dataset, rules=rules.overridden({"max_components": pool}))
    past = estimate_recommendation(dataset, rules=rules.overridden({"max_components": 2**31 - 1}))
    assert at_pool.components == pool and at_pool.seconds > default.seconds
    assert past.seconds == at_pool.seconds and past.memory_bytes == at_pool.memory_bytes  # bounded by the pool
    only = estimate_recommendation(dataset, rules=rules.overridden({"max_components": 8}), in_force_only=True)
    assert only.components == in_force
    # the search's share grows as (count / 4)^1.3; the plan LP's does not
    plan_only = estimate_recommendation(dataset, rules=rules.overridden({"max_components": 4})).seconds
    assert plan_only == default.seconds
    eight = estimate_recommendation(dataset, rules=rules.overridden({"max_components": 8})).seconds
    one = estimate_recommendation(dataset, rules=rules.overridden({"max_components": 1})).seconds
    # seconds = plan + search × (k / 4)^p: two counts give the search part and recover the plan part
    search_at_4 = (eight - one) / (2 ** COMPONENTS_EXPONENT - 0.25 ** COMPONENTS_EXPONENT)
    assert abs((default.seconds - search_at_4) - (one - search_at_4 * 0.25 ** COMPONENTS_EXPONENT)) < 1e-9


def test_a_review_whose_rules_make_it_too_long_fails_at_once(env):
    import time

    from fastapi.testclient import TestClient

    from api.main import create_app
    from models.dataset import load_dataset
    from optimizer.alignment.estimate import estimate_recommendation
    from tests.api.conftest import SAMPLE, settings_for

    dataset = load_dataset(SAMPLE)
    pool, _ = sample_pool()
    default = estimate_recommendation(dataset).seconds
    wide = estimate_recommendation(dataset, rules=dataset.company.rules.overridden({"max_components": pool})).seconds
    limit = (default + wide) / 2  # the company's rules fit, the review's do not
    with TestClient(create_app(settings_for(env.url, max_review_seconds=limit))) as client:
        set_id = new_set(client, env)
        response = client.post("/v1/reviews", json={"assumption_set_id": set_id, "max_components": pool},
                               headers=env.headers("analyst"))
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 60
        while (review := client.get(f"/v1/reviews/{response.json()['id']}",
                                    headers=env.headers("viewer")).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert review["status"] == "failed" and "estimated time" in review["error"], review
    assert f"({pool} candidate components)" in review["error"]
