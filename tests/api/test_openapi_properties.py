"""A short property-based run of the whole HTTP API against its own OpenAPI document (schemathesis).

Hypothesis generates requests for every operation from the document — valid ones and, for the
negative phase, broken ones — and sends them to a real uvicorn server over a database holding the
sample, on SQLite and on PostgreSQL. Every response must pass all of schemathesis' checks: no
server error, a documented status code, a body matching the documented schema, documented headers
and content types, a 401 without the token, and a 405 with the right `Allow` for a method no route
serves. Examples per operation are bounded so the run takes about a minute.

Review and benchmark jobs are accepted, stored and run through the job machinery, but their
handlers fail at once: this run is about the HTTP contract, and a few hundred sample solves (or
generated 5,000-rep benchmarks) would not fit in a test suite; the solves are covered by
tests/api/test_end_to_end.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.jobs import BENCHMARK, CORRECTION, REPLAY, REVIEW, SWEEP, JobFailed
from api.main import create_app
from api.settings import Settings
from tests.api.conftest import BACKENDS, SAMPLE, LiveServer, prepare, reset_postgres, settings_for, PG_URL

EXAMPLES_PER_OPERATION = 8


def no_solve(job, session_factory, settings):
    raise JobFailed("jobs are not solved in the property-based API run")


@dataclass
class LiveApi:
    url: str
    headers: dict[str, str]


@pytest.fixture(scope="module", params=BACKENDS)
def live_api(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('properties') / 'comptune.db'}"
    else:
        reset_postgres(PG_URL)
        url = PG_URL
    env = prepare(url, SAMPLE)
    env.sessions.kw["bind"].dispose()
    app = create_app(settings_for(url), job_handlers={REVIEW: no_solve, BENCHMARK: no_solve, SWEEP: no_solve,
                                                            REPLAY: no_solve, CORRECTION: no_solve})
    with LiveServer(app) as server:
        yield LiveApi(url=server.url, headers=env.headers("admin"))


# Schema-valid requests may still be refused with 422 for what JSON Schema cannot say (an id that
# must exist in the loaded dataset, a period that must be closed): the positive-data check accepts
# 422 beside its defaults. Every other check runs with its defaults.
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]}}})

# The document does not depend on the database: build it once from an app that is never started.
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi(), config=CONFIG)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_documented_contract(case, live_api):
    # 30 s, not requests' 10: on the shared 2-core CI machine a PostgreSQL read behind a running job's
    # writes has taken 10 s under load; a hang still fails, a slow answer is not a broken contract
    case.call_and_validate(base_url=live_api.url, headers=live_api.headers, timeout=30)
