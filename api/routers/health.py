"""Liveness (no token) and service metrics."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.db import store
from api.deps import ServicesDep, SessionDep, Viewer
from api.routers.common import ERRORS
from api.schemas import HealthPublic, MetricsPublic

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic)
def read_health(session: SessionDep) -> HealthPublic:
    """Liveness: the service answers and its database does. No token needed."""
    session.execute(text("SELECT 1"))
    try:
        store.current_dataset(session=session)
        loaded = True
    except store.NoDataset:
        loaded = False
    return HealthPublic(database=session.get_bind().dialect.name, dataset_loaded=loaded)


@router.get("/v1/metrics", response_model=MetricsPublic, responses=ERRORS)
def read_metrics(principal: Viewer, session: SessionDep, services: ServicesDep) -> MetricsPublic:
    """Job counts by kind and status, the pool size and the plan version in force."""
    try:
        version = store.current_dataset(session=session).plan_version
    except store.NoDataset:
        version = None
    return MetricsPublic(jobs=store.job_counts(session=session), workers=services.settings.workers,
                         plan_version=version)
