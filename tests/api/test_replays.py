"""POST /v1/replays and POST /v1/corrections (issue 18): jobs like reviews — 202, phase and progress,
the result by GET, list, cancel. Bad bodies and replays past the limits are 422 naming the field and
store nothing; pay figures reach only approver and admin, checked per role on a real replay and on a
stored result whose every amount is known; a real replay of the sample runs through a real HTTP server
and its figures are recomputed here (net margin = margin − pay, the running totals, the share of the
oracle's gain, the static policy = `simulate` of the plan in force under the world)."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.db import store
from api.db.tables import AssumptionSetRow, JobRow
from api.main import create_app
from api.schemas import REPLAY_POLICIES
from api.visibility import is_pay_key
from models.assumptions import parse_assumptions
from tests.api.conftest import ROLES, LiveServer, settings_for

SOUTH_FREEZE = {"name": "south-freeze", "adjustments": [
    {"markets": ["south"], "periods": {"from": "2026-04"}, "demand": 0.5, "reason": "the freeze"}]}
SMALL = {"policies": ["static", "oracle"], "noise": 0.0, "seeds": 1, "gaming_reps": 0}


def jobs(env) -> int:
    with env.sessions() as session:
        return session.scalar(select(func.count()).select_from(JobRow))


def sets(env) -> int:
    with env.sessions() as session:
        return session.scalar(select(func.count()).select_from(AssumptionSetRow))


def wait(get, path: str, headers: dict, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while (job := get(path, headers=headers).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.25)
    return job


def stored_world(env) -> int:
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        row = store.create_assumption_set(session=session, dataset_id=dataset.id, created_by="test",
                                          assumptions=parse_assumptions(SOUTH_FREEZE))
        session.commit()
        return row.id


def pay_values(node, path="") -> list[tuple[str, object]]:
    """Every (key path, value) of a pay field in a replay's JSON (api/visibility.is_pay_key, spread.*)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                found += pay_values(value, f"{path}.{key}")
            elif is_pay_key(key) or path.endswith(".spread"):
                found.append((f"{path}.{key}", value))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += pay_values(item, f"{path}[{i}]")
    return found


def test_the_service_knows_the_engines_policies():
    from optimizer.replay import POLICIES

    assert tuple(REPLAY_POLICIES) == tuple(POLICIES)


# ---------------------------------------------------------------------------------------------
# Bad bodies: 422 naming the field, nothing stored


def assert_refused_naming(client, env, path: str, body: dict, field: str) -> None:
    """The body is a 422 whose errors name `field`, and no job or assumption set is stored."""
    before = jobs(env), sets(env)
    response = client.post(path, json=body, headers=env.headers("analyst"))
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert (jobs(env), sets(env)) == before


@pytest.mark.parametrize("body, field", [
    ({**SMALL}, "world"),
    ({**SMALL, "world": SOUTH_FREEZE, "world_id": 1}, "world"),
    ({**SMALL, "world_id": 999_999}, "world_id"),
    ({**SMALL, "world_id": 0}, "world_id"),
    ({**SMALL, "world": {"name": "x", "adjustments": [{"markets": ["nord"], "demand": 0.5}]}},
     "world.adjustments[0].markets[0]"),
    ({**SMALL, "world": {"name": "x", "adjustments": [{"products": ["NOPE"], "demand": 0.5}]}},
     "world.adjustments[0].products[0]"),
    ({**SMALL, "world": {"name": "x", "adjustments": [{"periods": {"from": "2027-01"}, "demand": 0.5}]}},
     "world.adjustments[0].periods.from"),
    ({**SMALL, "world": {"name": "x", "adjustments": [{"demand": -1}]}}, "world.adjustments[0].demand"),
    ({**SMALL, "world": {"adjustments": []}}, "world.name"),
    ({**SMALL, "world": SOUTH_FREEZE, "noise": -0.1}, "noise"),
    ({**SMALL, "world": SOUTH_FREEZE, "noise": "0.5"}, "noise"),
    ({**SMALL, "world": SOUTH_FREEZE, "noise": 1e9}, "noise"),
    ({**SMALL, "world": SOUTH_FREEZE, "seeds": 0}, "seeds"),
    ({**SMALL, "world": SOUTH_FREEZE, "seeds": True}, "seeds"),
    ({**SMALL, "world": SOUTH_FREEZE, "seeds": 1.5}, "seeds"),
    ({**SMALL, "world": SOUTH_FREEZE, "seeds": 1_000_000}, "seeds"),
    ({**SMALL, "world": SOUTH_FREEZE, "seeds": 10 ** 30}, "seeds"),
    ({**SMALL, "world": SOUTH_FREEZE, "policies": ["weekly"]}, "policies[0]"),
    ({**SMALL, "world": SOUTH_FREEZE, "policies": ["static", "static"]}, "policies[1]"),
    ({**SMALL, "world": SOUTH_FREEZE, "policies": []}, "policies"),
    ({**SMALL, "world": SOUTH_FREEZE, "policies": "static"}, "policies"),
    ({**SMALL, "world": SOUTH_FREEZE, "accept_threshold": -0.01}, "accept_threshold"),
    ({**SMALL, "world": SOUTH_FREEZE, "accept_threshold": 0.9}, "accept_threshold"),
    ({**SMALL, "world": SOUTH_FREEZE, "gaming_reps": -1}, "gaming_reps"),
    ({**SMALL, "world": SOUTH_FREEZE, "gaming_reps": 100_000}, "gaming_reps"),
    ({**SMALL, "world": SOUTH_FREEZE, "seed": -1}, "seed"),
    ({**SMALL, "world": SOUTH_FREEZE, "time_limit_s": 10 ** 9}, "time_limit_s"),
    ({**SMALL, "world": SOUTH_FREEZE, "time_limit_s": 0}, "time_limit_s"),
    ({**SMALL, "world": SOUTH_FREEZE, "colour": "blue"}, "colour"),
])
def test_bad_replay_bodies_are_422_naming_the_field(client, env, body, field):
    assert_refused_naming(client, env, "/v1/replays", body, field)


def test_a_world_without_an_open_period_is_refused(client, env):
    """A world that only touches closed months says nothing about the year to replay."""
    body = {**SMALL, "world": {"name": "past", "adjustments": [{"periods": {"to": "2026-03"}, "demand": 0.5}]}}
    before = jobs(env)
    response = client.post("/v1/replays", json=body, headers=env.headers("analyst"))
    assert response.status_code == 422, response.text
    assert any(e["field"].startswith("world") for e in response.json()["errors"]), response.json()
    assert jobs(env) == before


def test_a_replay_past_the_time_limit_is_refused_with_the_amounts(env):
    with TestClient(create_app(settings_for(env.url, max_replay_seconds=5.0))) as client:
        before = jobs(env)
        response = client.post("/v1/replays", json={"world": SOUTH_FREEZE, "seeds": 3, "gaming_reps": 5},
                               headers=env.headers("analyst"))
        assert response.status_code == 422, response.text
        error = response.json()["errors"][0]
        assert error["field"] == "seeds" and "too large" in error["message"] and "over the limit of 5 s" in error["message"]
        assert jobs(env) == before


def test_the_largest_replay_a_role_may_ask_for_is_within_the_default_limits_or_refused(client, env):
    """Every option at its bound: either refused at once with 422 naming what is too big, or accepted
    with an estimate under the limits (then canceled) — never a job the limits kill an hour later."""
    body = {"world": SOUTH_FREEZE, "seeds": 20, "gaming_reps": 20, "noise": 0.3}
    response = client.post("/v1/replays", json=body, headers=env.headers("analyst"))
    if response.status_code == 422:
        assert "too large" in response.json()["errors"][0]["message"]
    else:
        assert response.status_code == 202, response.text
        assert response.json()["estimate"]["seconds"] <= 1800
        assert client.post(f"/v1/replays/{response.json()['id']}/cancel", headers=env.headers("analyst")).status_code == 200


def test_only_analysts_and_up_start_and_cancel_replays(client, env):
    assert client.post("/v1/replays", json={**SMALL, "world": SOUTH_FREEZE}, headers=env.headers("viewer")).status_code == 403
    assert client.post("/v1/replays", json={**SMALL, "world": SOUTH_FREEZE}).status_code == 401
    response = client.post("/v1/replays", json={**SMALL, "world_id": stored_world(env)}, headers=env.headers("analyst"))
    assert response.status_code == 202, response.text
    replay = response.json()
    assert replay["world"]["name"] == "south-freeze" and replay["world"]["assumption_set_id"] is not None
    assert replay["options"]["policies"] == ["static", "oracle"] and replay["estimate"]["seconds"] > 0
    assert client.post(f"/v1/replays/{replay['id']}/cancel", headers=env.headers("viewer")).status_code == 403
    canceled = client.post(f"/v1/replays/{replay['id']}/cancel", headers=env.headers("analyst"))
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert client.post(f"/v1/replays/{replay['id']}/cancel", headers=env.headers("analyst")).status_code == 409
    assert client.get("/v1/replays/999999", headers=env.headers("viewer")).status_code == 404
    assert client.get("/v1/replays", params={"status": "canceled"}, headers=env.headers("viewer")).json()["count"] == 1


@pytest.mark.slow  # the limit is checked after the oracle's review: about a minute here
def test_a_replay_past_its_own_time_limit_fails_naming_it(client, env):
    """The engine checks the replay's wall-clock limit month by month: the job fails saying so."""
    body = {**SMALL, "world": SOUTH_FREEZE, "time_limit_s": 1}
    response = client.post("/v1/replays", json=body, headers=env.headers("analyst"))
    assert response.status_code == 202, response.text
    assert response.json()["time_limit_s"] == 1
    job = wait(client.get, f"/v1/replays/{response.json()['id']}", env.headers("viewer"))
    assert job["status"] == "failed" and "time limit of 1 s" in job["error"], job["error"]
    assert job["result"] is None and job["summary"] is None


# ---------------------------------------------------------------------------------------------
# Pay per role, on a stored result whose every amount is known


def stored_replay(env) -> int:
    """A succeeded replay stored directly: every pay figure is a distinct non-zero amount."""
    month = {"period": "2026-04", "margin": 100.0, "revenue": 300.0, "pay": 40.0, "net_margin": 60.0,
             "cumulative_net_margin": 60.0}
    policy = {"policy": "monthly", "total": {"margin": 100.0, "revenue": 300.0, "pay": 40.0, "net_margin": 60.0},
              "spread": {"net_margin_sd": 5.0, "net_margin_min": 55.0, "net_margin_max": 65.0}, "months": [month],
              "reviews_run": 1, "plans_accepted": 1, "pay_stability": 0.12, "share_of_oracle_gain": 0.64,
              "decisions": [{"seed": 0, "period": "2026-04", "accepted": True, "expected_gain": 7.0,
                             "expected_gain_share": 0.01, "components": 3}]}
    result = {"company": "Sample company", "currency": "EUR", "world": "south-freeze",
              "options": {"policies": ["monthly"], "noise": 0.0, "seeds": 1}, "plan_margin": 1000.0,
              "periods": ["2026-04"], "policies": [policy],
              "gaming": [{"policy": "monthly", "reps": [{"rep_id": "R07", "pay_honest": 1000.0,
                                                         "pay_holding_back": 1234.0, "gain": 234.0}],
                          "rewarded": ["R07"], "verdict": "holding back raises R07's year pay by 234 EUR"}],
              "timing": {"wall_s": 1.0, "cpu_s": 1.0}}
    from api.replay_jobs import replay_summary

    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        job = store.create_job(session=session, kind=store.REPLAY, created_by="test", time_limit_s=10,
                               params={"world": SOUTH_FREEZE, "world_name": "south-freeze",
                                       "options": result["options"]},
                               dataset_id=dataset.id, plan_version=dataset.plan_version)
        session.flush()
        assert store.mark_running(session=session, job_id=job.id, kind=store.REPLAY)
        assert store.finish_job(session=session, job_id=job.id, kind=store.REPLAY, status="succeeded",
                                summary=replay_summary(result), result=result)
        session.commit()
        return job.id


@pytest.mark.parametrize("role", ROLES)
def test_pay_figures_of_a_replay_reach_only_approver_and_admin(client, env, role):
    replay_id = stored_replay(env)
    replay = client.get(f"/v1/replays/{replay_id}", headers=env.headers(role)).json()
    listed = client.get("/v1/replays", headers=env.headers(role)).json()["data"][0]
    sees_pay = role in ("approver", "admin")
    assert replay["pay_visible"] is sees_pay
    result, summary = replay["result"], listed["summary"]
    policy = result["policies"][0]
    assert policy["total"]["margin"] == 100.0 and policy["months"][0]["revenue"] == 300.0  # never pay
    assert policy["pay_stability"] == 0.12 and policy["share_of_oracle_gain"] == 0.64
    assert policy["decisions"][0]["expected_gain_share"] == 0.01 and policy["reviews_run"] == 1
    assert result["gaming"][0]["rewarded_count"] == 1 and summary["policies"][0]["share_of_oracle_gain"] == 0.64
    paid = pay_values(result) + pay_values(summary)
    assert len(paid) >= 14
    text = str(replay) + str(listed)
    if sees_pay:
        assert all(value is not None for _, value in paid), paid
        assert policy["total"]["pay"] == 40.0 and policy["spread"]["net_margin_sd"] == 5.0
        assert result["gaming"][0]["reps"][0]["gain"] == 234.0 and result["gaming"][0]["rewarded"] == ["R07"]
        assert "234 EUR" in result["gaming"][0]["verdict"]
    else:
        assert all(value is None for _, value in paid), [p for p in paid if p[1] is not None]
        assert result["gaming"][0]["rewarded"] is None and summary["gaming"][0]["rewarded"] is None
        assert "1 of 1 reps" in result["gaming"][0]["verdict"]
        for amount in ("40.0", "60.0", "55.0", "65.0", "7.0", "1234", "234", "5.0"):
            assert f": {amount}" not in text and f" {amount} " not in text, amount


# ---------------------------------------------------------------------------------------------
# A real replay of the sample through a real HTTP server


def test_a_replay_of_the_sample_through_http(env):
    from models.assumptions import parse_assumptions as parse
    from optimizer.alignment.response import simulate
    from optimizer.parameters import effective_parameters
    from optimizer.plan.targets import plan_targets

    world_id = stored_world(env)
    with LiveServer(create_app(settings_for(env.url))) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        started = time.monotonic()
        response = http.post("/v1/replays", json={**SMALL, "world_id": world_id}, headers=env.headers("analyst"))
        assert response.status_code == 202, response.text
        replay_id = response.json()["id"]
        phases = set()
        deadline = time.monotonic() + 300
        while (job := http.get(f"/v1/replays/{replay_id}", headers=env.headers("viewer")).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            if job["phase"]:
                phases.add(job["phase"])
            time.sleep(0.2)
        seconds = time.monotonic() - started
        assert job["status"] == "succeeded", job["error"]
        by_role = {role: http.get(f"/v1/replays/{replay_id}", headers=env.headers(role)).json() for role in ROLES}
    print(f"replay of the sample (static, oracle; noise 0, 1 seed, no audit): {seconds:.1f} s through HTTP, "
          f"{job['duration_s']:.1f} s in the worker; phases seen: {sorted(phases)}")
    result = by_role["approver"]["result"]
    assert result["world"] == "south-freeze" and result["periods"] == ["2026-04", "2026-05", "2026-06", "2026-07",
                                                                        "2026-08", "2026-09", "2026-10", "2026-11",
                                                                        "2026-12"]
    assert [p["policy"] for p in result["policies"]] == ["static", "oracle"]
    policies = {p["policy"]: p for p in result["policies"]}
    for p in result["policies"]:  # every figure recomputed from the months
        running = 0.0
        for month in p["months"]:
            assert month["net_margin"] == pytest.approx(month["margin"] - month["pay"], rel=1e-9, abs=1e-6)
            running += month["net_margin"]
            assert month["cumulative_net_margin"] == pytest.approx(running, rel=1e-9)
        for key in ("margin", "revenue", "pay", "net_margin"):
            assert p["total"][key] == pytest.approx(sum(m[key] for m in p["months"]), rel=1e-9)
    static, oracle = policies["static"], policies["oracle"]
    assert static["reviews_run"] == 0 and static["plans_accepted"] == 0 and oracle["reviews_run"] == 1
    gain = oracle["total"]["net_margin"] - static["total"]["net_margin"]
    if oracle["share_of_oracle_gain"] is not None:
        assert oracle["share_of_oracle_gain"] == pytest.approx(1.0)
    assert static["share_of_oracle_gain"] in (None, pytest.approx(0.0, abs=1e-9)) or gain == 0
    # the static policy keeps the plan in force: its year is `simulate` of that plan under the world
    with env.sessions() as session:
        dataset = store.build_dataset(session=session, dataset=store.current_dataset(session=session))
    world = parse(SOUTH_FREEZE)
    params = effective_parameters(dataset, world)
    plan_lp = plan_targets(dataset, world, params=params)
    simulated = simulate(dataset, dataset.plan, params=params, plan_margin=plan_lp.margin)
    assert static["total"]["margin"] == pytest.approx(simulated.margin, rel=1e-6)
    assert static["total"]["revenue"] == pytest.approx(simulated.revenue, rel=1e-6)
    # pay per role: the same replay, pay null for viewer and analyst, everything else equal
    for role, replay in by_role.items():
        paid = pay_values(replay["result"])
        if role in ("approver", "admin"):
            assert replay["result"] == result
        else:
            assert paid and all(value is None for _, value in paid)
            assert [p["total"]["margin"] for p in replay["result"]["policies"]] == [
                p["total"]["margin"] for p in result["policies"]]


# ---------------------------------------------------------------------------------------------
# Corrections


def test_a_correction_proposes_a_set_with_its_evidence_and_stores_it(client, env):
    response = client.post("/v1/corrections", json={"store": True, "name": "correction-april"},
                           headers=env.headers("analyst"))
    assert response.status_code == 202, response.text
    job = wait(client.get, f"/v1/corrections/{response.json()['id']}", env.headers("viewer"))
    assert job["status"] == "succeeded", job["error"]
    proposal, evidence = job["result"]["assumptions"], job["result"]["evidence"]
    assert proposal["name"] == "correction-april" and evidence
    assert {"market", "product", "factor", "value", "months", "orders_actual", "orders_expected", "shrinkage",
            "reason"} <= set(evidence[0])
    assert job["summary"]["evidence"] == len(evidence) and job["summary"]["adjustments"] == len(proposal["adjustments"])
    stored = client.get(f"/v1/assumption-sets/{job['assumption_set_id']}", headers=env.headers("viewer")).json()
    assert stored["name"] == "correction-april"
    assert parse_assumptions(stored["body"]).adjustments == parse_assumptions(proposal).adjustments
    for adjustment in proposal["adjustments"]:  # from the first open period on, never a rep's own targets
        assert "reps" not in adjustment
        assert adjustment["periods"] == {"from": "2026-04"} or adjustment["periods"][0] >= "2026-04"
    review = client.post("/v1/reviews", json={"assumption_set_id": stored["id"]}, headers=env.headers("analyst"))
    assert review.status_code == 202, review.text
    assert client.post(f"/v1/reviews/{review.json()['id']}/cancel", headers=env.headers("analyst")).status_code == 200
    # storing it again gives the same set
    again = client.post(f"/v1/corrections/{job['id']}/assumption-set", headers=env.headers("analyst"))
    assert again.status_code == 201 and again.json()["id"] == stored["id"]


def test_a_correction_is_stored_on_request_afterwards(client, env):
    response = client.post("/v1/corrections", json={}, headers=env.headers("analyst"))
    assert response.status_code == 202, response.text
    correction_id = response.json()["id"]
    early = client.post(f"/v1/corrections/{correction_id}/assumption-set", headers=env.headers("analyst"))
    job = wait(client.get, f"/v1/corrections/{correction_id}", env.headers("viewer"))
    assert job["status"] == "succeeded", job["error"]
    assert early.status_code in (201, 409)  # 409 while it ran; a fast worker may have finished first
    assert job["assumption_set_id"] is None or early.status_code == 201
    assert client.post(f"/v1/corrections/{correction_id}/assumption-set", headers=env.headers("viewer")).status_code == 403
    stored = client.post(f"/v1/corrections/{correction_id}/assumption-set", headers=env.headers("analyst"))
    assert stored.status_code == 201, stored.text
    assert (parse_assumptions(stored.json()["body"]).adjustments
            == parse_assumptions(job["result"]["assumptions"]).adjustments)
    read = client.get(f"/v1/corrections/{correction_id}", headers=env.headers("viewer")).json()
    assert read["assumption_set_id"] == stored.json()["id"]
    assert client.get("/v1/corrections", headers=env.headers("viewer")).json()["count"] == 1


@pytest.mark.parametrize("body, field", [
    ({"base_id": 999_999}, "base_id"), ({"base_id": 0}, "base_id"), ({"store": 1}, "store"),
    ({"name": ""}, "name"), ({"name": 7}, "name"), ({"colour": "blue"}, "colour"),
])
def test_bad_correction_bodies_are_422_naming_the_field(client, env, body, field):
    assert_refused_naming(client, env, "/v1/corrections", body, field)


def test_only_analysts_and_up_run_corrections(client, env):
    assert client.post("/v1/corrections", json={}, headers=env.headers("viewer")).status_code == 403
    response = client.post("/v1/corrections", json={}, headers=env.headers("analyst"))
    assert response.status_code == 202
    canceled = client.post(f"/v1/corrections/{response.json()['id']}/cancel", headers=env.headers("analyst"))
    assert canceled.status_code in (200, 409)
    assert client.get("/v1/corrections/999999", headers=env.headers("viewer")).status_code == 404


@pytest.mark.slow
def test_a_re_planning_replay_with_its_gaming_audit_per_role(client, env):
    """Quarterly re-planning with a 2-rep gaming audit: the audit's figures recomputed, the amounts
    withheld from viewer and analyst, the count of rewarded reps and the verdict shown to them."""
    body = {"world": SOUTH_FREEZE, "policies": ["static", "quarterly"], "seeds": 1, "gaming_reps": 2}
    response = client.post("/v1/replays", json=body, headers=env.headers("analyst"))
    assert response.status_code == 202, response.text
    job = wait(client.get, f"/v1/replays/{response.json()['id']}", env.headers("approver"), timeout=900)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    quarterly = next(p for p in result["policies"] if p["policy"] == "quarterly")
    assert quarterly["reviews_run"] == len(quarterly["decisions"]) == 2  # after 2026-06 and 2026-09
    assert quarterly["plans_accepted"] == sum(d["accepted"] for d in quarterly["decisions"])
    assert 0 <= quarterly["pay_stability"] <= 1 and quarterly["share_of_oracle_gain"] is None
    for d in quarterly["decisions"]:
        assert d["expected_gain_share"] == pytest.approx(d["expected_gain"] / result["plan_margin"])
        assert d["accepted"] == (d["expected_gain"] > 0.005 * result["plan_margin"])
    [audit] = result["gaming"]
    assert audit["policy"] == "quarterly" and len(audit["reps"]) == 2
    for row in audit["reps"]:
        assert row["gain"] == pytest.approx(row["pay_holding_back"] - row["pay_honest"])
    assert audit["rewarded"] == [r["rep_id"] for r in audit["reps"] if r["gain"] > 0.01]
    for role in ("viewer", "analyst"):
        seen = client.get(f"/v1/replays/{job['id']}", headers=env.headers(role)).json()["result"]
        assert all(value is None for _, value in pay_values(seen))
        assert seen["gaming"][0]["rewarded_count"] == len(audit["rewarded"]) and seen["gaming"][0]["rewarded"] is None
        assert seen["gaming"][0]["verdict"] == audit["verdict"]  # the engine's sentence states no amount
        assert [r["rep_id"] for r in seen["gaming"][0]["reps"]] == [r["rep_id"] for r in audit["reps"]]
