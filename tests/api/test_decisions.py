"""Decisions: accepting makes a new immutable plan version; of two concurrent decisions on the same
plan version exactly one wins (through a real server, on every backend)."""

from __future__ import annotations

import threading

import httpx

from api.db import store
from api.main import create_app
from tests.api.conftest import LiveServer, settings_for, stored_review


def decide(url, token, review_id, decision="accept", plan_version=1):
    return httpx.post(f"{url}/v1/reviews/{review_id}/decision", timeout=60,
                      json={"decision": decision, "reason": "concurrency test", "plan_version": plan_version},
                      headers={"Authorization": f"Bearer {token}"})


def race(calls) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_accept_creates_plan_version_2_and_audit(client, env):
    in_force = {c["component_id"]: c["weight"] for c in client.get("/v1/plans/1", headers=env.headers("viewer")).json()["components"]}
    first_component = next(iter(in_force))
    review_id = stored_review(env, new_revenue_weight=0.55)
    response = client.post(f"/v1/reviews/{review_id}/decision", headers=env.headers("approver"),
                           json={"decision": "accept", "reason": "freeze confirmed", "plan_version": 1})
    assert response.status_code == 201, response.text
    assert response.json()["new_plan_version"] == 2
    current = client.get("/v1/plans/current", headers=env.headers("viewer")).json()
    assert current["version"] == 2 and current["review_id"] == review_id
    assert {c["component_id"]: c["weight"] for c in current["components"]}[first_component] == 0.55
    first = client.get("/v1/plans/1", headers=env.headers("viewer")).json()
    assert {c["component_id"]: c["weight"] for c in first["components"]} == in_force  # immutable
    again = client.post(f"/v1/reviews/{review_id}/decision", headers=env.headers("approver"),
                        json={"decision": "reject", "reason": "changed my mind", "plan_version": 2})
    assert again.status_code == 409
    entries = client.get("/v1/audit", params={"action": "decision.accept"}, headers=env.headers("admin")).json()
    assert entries["count"] == 1 and entries["data"][0]["actor"] == "approver-user"


def test_concurrent_accepts_on_the_same_plan_version(env):
    reviews = [stored_review(env) for _ in range(4)]
    with LiveServer(create_app(settings_for(env.url))) as server:
        token = env.tokens["approver"]
        results = race([lambda r=r: decide(server.url, token, r) for r in reviews])
        codes = sorted(r.status_code for r in results)
        assert codes == [201, 409, 409, 409], [r.text for r in results]
        # the same review decided twice at once: one decision only
        other = stored_review(env)
        both = race([lambda: decide(server.url, token, other, "reject", 2),
                     lambda: decide(server.url, token, other, "reject", 2)])
        assert sorted(r.status_code for r in both) == [201, 409]
    with env.sessions() as session:
        versions = store.list_plan_versions(session=session, dataset_id=1)
        assert [v.version for v in versions] == [1, 2]
        assert store.current_dataset(session=session).plan_version == 2
