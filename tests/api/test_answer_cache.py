"""A succeeded review's recommendation and adjustments are kept as rendered bytes (api/answer_cache.py,
issue 20 case 3): the same bytes and headers as the answer built per request, for every role and
query; an answer built for a role that sees pay never reaches one that does not; the cache stays
within its bound; nothing but a succeeded review's answer is kept."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.answer_cache import Answer, AnswerCache
from api.db import store
from api.main import create_app
from api.serialize import frame_to_json
from api.visibility import WITHHELD
from tests.alignment.test_rules import rules_tables
from tests.api.conftest import settings_for, stored_review
from tests.api.test_review_rules import run_review, service

ROLES = ("viewer", "analyst", "approver", "admin")
PAY_REASON = "quota lowered by the pay-cut rule: the rep's pay would fall 7% (EUR 3,120)"
HEADERS = ("content-type", "content-disposition", "cache-control", "content-security-policy",
           "x-content-type-options", "referrer-policy", "x-frame-options", "content-length")


def queries(review_id: int) -> list[tuple[str, dict, dict]]:
    """(path, params, extra headers): every shape of answer the two routes give."""
    adjustments = f"/v1/reviews/{review_id}/adjustments"
    return [
        (f"/v1/reviews/{review_id}/recommendation", {}, {}),
        (adjustments, {}, {}),
        (adjustments, {"limit": 100000, "offset": 0}, {}),  # what the review page asks for
        (adjustments, {"limit": 1, "offset": 1}, {}),
        (adjustments, {"changed_only": "true"}, {}),
        (adjustments, {"rep_id": "R25"}, {}),
        (adjustments, {"period": "2026-05"}, {}),
        (adjustments, {"format": "csv"}, {}),
        (adjustments, {"format": "csv", "table": "weight_changes"}, {}),
        (adjustments, {}, {"Accept": "text/csv"}),
    ]


def review_with_pay_reason(env) -> int:
    """A stored succeeded review with a pay impact, a frontier with pay, and an adjustment whose
    reason states a rep's pay (withheld from the viewer and analyst)."""
    review_id = stored_review(env)
    with env.sessions() as session:
        job = store.get_job(session=session, job_id=review_id)
        adjustments = pd.DataFrame(
            [("R25", "revenue", "2026-04", 151000.0, 98000.0, -53000.0, PAY_REASON),
             ("R25", "revenue", "2026-05", 1000.0, 1000.0, 0.0, "unchanged"),
             ("R01", "new_orders", "2026-04", 0.4, 0.7, 0.3, "re-planned under the assumptions")],
            columns=["rep_id", "component_id", "period", "in_force", "recommended", "delta", "reason"])
        weights = pd.DataFrame([("revenue", "revenue", "*", 0.7, 0.6, -0.1)],
                               columns=["component_id", "metric", "products", "in_force", "recommended", "delta"])
        job.result = {**job.result, "adjustments": frame_to_json(adjustments), "weight_changes": frame_to_json(weights),
                      "frontier": [{"max_components": 4, "alignment": 0.8, "margin": 10.0, "pay_cost": 3120.0,
                                    "net_margin": 6880.0}],
                      "pay_impact": {"max_cut": -0.07, "losers": 0.5, "winners": 0.5,
                                     "reps": [{"rep_id": "R25", "before": 44000.0, "after": 40920.0}]}}
        session.commit()
    return review_id


def answers(client: TestClient, env, role: str, query) -> list:
    path, params, headers = query
    return [client.get(path, params=params, headers={**env.headers(role), **headers}) for _ in range(2)]


def assert_same(got, want) -> None:
    assert got.status_code == want.status_code == 200, got.text
    assert got.content == want.content
    for name in HEADERS:
        assert got.headers.get(name) == want.headers.get(name), name


def test_cached_answers_are_the_uncached_bytes_for_every_role(env):
    review_id = review_with_pay_reason(env)
    with TestClient(create_app(settings_for(env.url))) as cached, \
            TestClient(create_app(settings_for(env.url, answer_cache_mb=0))) as uncached:
        assert not uncached.app.state.services.answers.enabled
        for query in queries(review_id):
            for role in ("approver", "viewer", "admin", "analyst"):  # the pay-seeing roles fill the cache first
                first, again = answers(cached, env, role, query)
                want = uncached.get(query[0], params=query[1], headers={**env.headers(role), **query[2]})
                assert_same(first, want)  # built and kept
                assert_same(again, want)  # sent from the cache
                assert again.headers["cache-control"] == "no-store"
        cache = cached.app.state.services.answers
        # one entry per answer and pay visibility, not per role (?format=csv and Accept: text/csv are one answer)
        assert len(cache) == 2 * (len(queries(review_id)) - 1)
        assert len(uncached.app.state.services.answers) == 0


def test_a_viewer_never_gets_the_approvers_cached_answer(env):
    review_id = review_with_pay_reason(env)
    with TestClient(create_app(settings_for(env.url))) as client:
        url = f"/v1/reviews/{review_id}"
        approver = client.get(f"{url}/recommendation", headers=env.headers("approver")).json()
        assert approver["pay_impact"]["reps"][0]["after"] == 40920.0 and approver["frontier"][0]["pay_cost"] == 3120.0
        rows = client.get(f"{url}/adjustments", headers=env.headers("approver")).json()["data"]
        assert PAY_REASON in [row["reason"] for row in rows]
        approver_csv = client.get(f"{url}/adjustments", params={"format": "csv"}, headers=env.headers("approver")).text
        assert "3,120" in approver_csv
        for role in ("viewer", "analyst"):
            for _ in range(2):
                seen = client.get(f"{url}/recommendation", headers=env.headers(role))
                assert seen.json()["pay_impact"] is None and seen.json()["pay_visible"] is False
                assert seen.json()["frontier"][0]["pay_cost"] is None and seen.json()["frontier"][0]["net_margin"] is None
                assert b"40920" not in seen.content and b"3120" not in seen.content
                reasons = [row["reason"] for row in client.get(f"{url}/adjustments", headers=env.headers(role)).json()["data"]]
                assert WITHHELD in reasons and PAY_REASON not in reasons
                text = client.get(f"{url}/adjustments", params={"format": "csv"}, headers=env.headers(role)).text
                assert "3,120" not in text and "pay-cut" not in text


def test_a_real_review_reads_the_same_from_the_cache(database_url, tmp_path):
    env, client = service(database_url, tmp_path, rules_tables())
    with client, TestClient(create_app(settings_for(env.url, answer_cache_mb=0))) as uncached:
        review = run_review(client, env, {})
        assert review["status"] == "succeeded", review
        for path in (f"/v1/reviews/{review['id']}/recommendation", f"/v1/reviews/{review['id']}/adjustments"):
            for role in ROLES:
                want = uncached.get(path, headers=env.headers(role))
                for _ in range(2):
                    assert_same(client.get(path, headers=env.headers(role)), want)
        seen = {role: client.get(f"/v1/reviews/{review['id']}/recommendation", headers=env.headers(role)).json()
                for role in ROLES}
        assert seen["approver"]["pay_impact"] is not None and seen["admin"] == seen["approver"]
        assert seen["viewer"]["pay_impact"] is None and seen["analyst"] == seen["viewer"]


def test_only_succeeded_reviews_are_kept_and_bad_queries_are_not(env, client):
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        queued = store.create_job(session=session, kind="review", created_by="test", time_limit_s=10, params={},
                                  dataset_id=dataset.id, plan_version=dataset.plan_version)
        session.commit()
        queued_id = queued.id
    cache = client.app.state.services.answers
    for path in ("recommendation", "adjustments"):
        assert client.get(f"/v1/reviews/{queued_id}/{path}", headers=env.headers("viewer")).status_code == 409
    review_id = review_with_pay_reason(env)
    bad = client.get(f"/v1/reviews/{review_id}/adjustments", params={"rep_id": "R999"}, headers=env.headers("viewer"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rep_id"
    assert client.get(f"/v1/reviews/{review_id}/adjustments", params={"limit": 0},
                      headers=env.headers("viewer")).status_code == 422
    assert len(cache) == 0
    assert client.get(f"/v1/reviews/{review_id}/adjustments").status_code == 401  # a cached answer still needs a token
    got = client.get(f"/v1/reviews/{review_id}/adjustments", headers=env.headers("viewer"))
    assert len(cache) == 1
    assert client.get(f"/v1/reviews/{review_id}/adjustments").status_code == 401
    head = client.head(f"/v1/reviews/{review_id}/adjustments", headers=env.headers("viewer"))  # from the cache
    assert head.status_code == 200 and head.content == b"" and len(cache) == 1
    assert int(head.headers["content-length"]) == len(got.content) and head.headers["cache-control"] == "no-store"


def test_the_service_cache_stays_within_its_bound(env):
    review_id = review_with_pay_reason(env)
    with TestClient(create_app(settings_for(env.url))) as probe:
        sizes = [len(probe.get(path, params=params, headers={**env.headers("viewer"), **headers}).content)
                 for path, params, headers in queries(review_id)]
    bound = sum(sorted(sizes)[-2:])  # room for the two largest answers, not for all of them
    with TestClient(create_app(settings_for(env.url, answer_cache_mb=bound / 1_000_000))) as client:
        cache = client.app.state.services.answers
        for role in ("viewer", "approver"):
            for path, params, headers in queries(review_id):
                assert client.get(path, params=params, headers={**env.headers(role), **headers}).status_code == 200
                assert cache.size_bytes <= bound
        assert 2 <= len(cache) < 2 * len(queries(review_id))


def test_least_recently_used_answers_go_first_and_none_larger_than_the_cache_is_kept():
    cache = AnswerCache(max_bytes=10)
    answer = {name: Answer(body=name.encode() * 4, media_type="application/json") for name in "abc"}
    cache.put("a", answer["a"])
    cache.put("b", answer["b"])
    assert cache.get("a") is answer["a"]  # a is now the most recently used
    cache.put("c", answer["c"])  # 12 bytes > 10: b goes, a stays
    assert cache.get("b") is None and cache.get("a") is answer["a"] and cache.get("c") is answer["c"]
    assert cache.size_bytes == 8 and len(cache) == 2
    cache.put("a", Answer(body=b"x" * 6, media_type="application/json"))  # replacing counts the new size only
    assert cache.size_bytes == 10 and len(cache) == 2
    cache.put("big", Answer(body=b"x" * 11, media_type="application/json"))
    assert cache.get("big") is None and cache.size_bytes == 10
    off = AnswerCache(max_bytes=0)
    assert not off.enabled and off.serve("k", lambda: "built") == "built" and len(off) == 0


@pytest.mark.parametrize("mb", [-1, 70_000])
def test_the_setting_is_bounded(mb):
    from pydantic import ValidationError

    from api.settings import Settings

    with pytest.raises(ValidationError, match="answer_cache_mb"):
        Settings(answer_cache_mb=mb)
