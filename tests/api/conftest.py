"""Fixtures for the service tests: a fresh database (SQLite, and PostgreSQL when
COMPTUNE_TEST_POSTGRES_URL is set), the sample loaded into it, a token per role, an app client."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.db import store
from api.db.session import make_engine, make_session_factory, migrate
from api.main import create_app
from api.serialize import frame_from_json, frame_to_json
from api.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "sample"
PG_URL = os.environ.get("COMPTUNE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="COMPTUNE_TEST_POSTGRES_URL is not set (scripts/ci_services.sh sets it)"))]
ROLES = ("viewer", "analyst", "approver", "admin")


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'comptune.db'}"
    reset_postgres(PG_URL)
    return PG_URL


@dataclass
class Env:
    url: str
    tokens: dict[str, str]
    sessions: object

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def sample_without_actuals(tmp_path: Path) -> Path:
    """The sample as it stands before the month's actuals are posted."""
    folder = tmp_path / "sample-no-actuals"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("actuals.csv", "assumptions", "README.md"))
    return folder


def prepare(url: str, dataset: Path) -> Env:
    migrate(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    tokens = {}
    with sessions() as session:
        store.load_dataset_folder(session=session, path=dataset, actor="test")
        for role in ROLES:
            _, tokens[role] = store.create_token(session=session, role=role, name=f"{role}-user")
        session.commit()
    return Env(url=url, tokens=tokens, sessions=sessions)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """An SQLite file with the sample loaded and the tokens created, copied by each test (fast)."""
    path = tmp_path_factory.mktemp("template") / "comptune.db"
    template = prepare(f"sqlite:///{path}", SAMPLE)
    template.sessions.kw["bind"].dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path, template.tokens


@pytest.fixture
def env(database_url, request) -> Env:
    """The sample (with its Q1 actuals) loaded, and one token per role."""
    if database_url.startswith("sqlite:///"):
        path, tokens = request.getfixturevalue("sqlite_template")
        shutil.copyfile(path, database_url.removeprefix("sqlite:///"))
        engine = make_engine(database_url)
        yield Env(url=database_url, tokens=tokens, sessions=make_session_factory(engine))
    else:
        prepared = prepare(database_url, SAMPLE)
        engine = prepared.sessions.kw["bind"]
        yield prepared
    engine.dispose()


def settings_for(url: str, **overrides) -> Settings:
    return Settings(database_url=url, **{"workers": 2, "default_time_limit_s": 60.0, **overrides})


@pytest.fixture
def client(env) -> TestClient:
    with TestClient(create_app(settings_for(env.url))) as test_client:
        yield test_client


def stored_review(env: Env, *, new_revenue_weight: float = 0.6) -> int:
    """A succeeded review stored directly (the decision tests need one without running a solve):
    its recommended plan is the plan in force with the revenue weight moved."""
    from models.assumptions import parse_assumptions

    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        aset = store.create_assumption_set(
            session=session, dataset_id=dataset.id, created_by="test",
            assumptions=parse_assumptions({"name": "stored", "adjustments": [{"markets": ["south"], "demand": 0.5}]}))
        job = store.create_job(session=session, kind="review", created_by="test", time_limit_s=10, params={},
                               dataset_id=dataset.id, assumption_set_id=aset.id, plan_version=dataset.plan_version)
        session.flush()
        assert store.mark_running(session=session, job_id=job.id)
        plan = store.get_plan_version(session=session, dataset_id=dataset.id, version=dataset.plan_version)
        components = frame_from_json(plan.components)
        others = components["weight"].iloc[1:]
        components["weight"] = [new_revenue_weight, *(others / others.sum() * (1 - new_revenue_weight))]
        summary = {"solver_status": "optimal", "currency": "EUR", "effect": {"margin": 1.0, "revenue": 1.0,
                   "alignment_efficiency": 0.01}, "comparison": [
                       {"plan": "recommended", "alignment_efficiency": 0.9, "margin": 2.0, "revenue": 3.0,
                        "pay_cost": 4.0, "pay_cost_share": 0.02}], "adjustments": 0, "soft_slacks": []}
        result = {"adjustments": {"columns": ["rep_id", "component_id", "period", "in_force", "recommended",
                                              "delta", "reason"], "data": []},
                  "weight_changes": {"columns": ["component_id", "metric", "products", "in_force", "recommended",
                                                 "delta"], "data": []},
                  "explanation": {"solver_status": "optimal", "binding": [], "soft_slacks": [], "messages": []},
                  "recommended_plan": {"components": frame_to_json(components), "curve": plan.curve,
                                       "targets": plan.targets}}
        assert store.finish_job(session=session, job_id=job.id, status="succeeded", summary=summary, result=result)
        session.commit()
        return job.id


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real uvicorn server for an app, on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app):
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
