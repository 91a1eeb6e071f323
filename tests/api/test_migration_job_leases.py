"""Migration 0003 (job leases) on a database with data: benchmarks move to their own table keeping their ids (and
new ones continue after them), a review's result moves to `job_results`, the jobs get lease and
progress columns — on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import text

from api.db import store
from api.db.session import alembic_config, make_engine, make_session_factory
from tests.api.conftest import reset_postgres


def test_upgrade_moves_benchmarks_and_results(database_url):
    if database_url.startswith("postgresql"):
        reset_postgres(database_url)
    command.upgrade(alembic_config(database_url), "0001")
    engine = make_engine(database_url)
    columns = "(kind, status, params, time_limit_s, created_by, submitted_at, summary, result)"
    with engine.begin() as connection:
        for kind, result in (("review", {"adjustments": [1, 2]}), ("benchmark", {"solve_s": 1.5}),
                             ("review", None)):
            connection.execute(text(f"INSERT INTO jobs {columns} VALUES (:kind, 'succeeded', '{{}}', 5, 't', "
                                    "CURRENT_TIMESTAMP, NULL, :result)"),
                               {"kind": kind, "result": json.dumps(result) if result else None})
    engine.dispose()
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        reviews, count = store.list_jobs(session=session, kind="review")
        assert count == 2 and sorted(r.id for r in reviews) == [1, 3]
        assert store.get_job(session=session, job_id=1).result == {"adjustments": [1, 2]}
        assert store.get_job(session=session, job_id=3).result is None
        benchmark = store.get_job(session=session, job_id=2, kind="benchmark")
        assert benchmark.result == {"solve_s": 1.5} and benchmark.owner is None
        new = store.create_job(session=session, kind="benchmark", created_by="t", time_limit_s=5, params={})
        assert new.id == 3  # after the moved one
        session.commit()
    engine.dispose()
