"""A review larger than the service's limits fails at once, saying which limit and by how much."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import settings_for
from tests.api.test_jobs import status_of, submit, wait_for


def test_a_review_over_the_memory_limit_fails_fast_with_the_amount(env):
    settings = settings_for(env.url, max_review_memory_gb=0.01, max_review_seconds=0.001)
    with TestClient(create_app(settings)) as client:
        review_id = submit(client, env)
        wait_for(lambda: status_of(client, env, review_id)["status"] == "failed", timeout=30)
        error = status_of(client, env, review_id)["error"]
    assert "too large for this service" in error
    assert "exceeds the limit of 0.0 GB by" in error  # memory, with the amount
    assert "exceeds the limit of 0 s by" in error  # and time
