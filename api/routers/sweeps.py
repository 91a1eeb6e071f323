"""Scenario sweeps: the plan LP under many scenarios as a job (optimizer/review/sweep.py); tables as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Path, Query, Request, status

from api.db import store
from api.db.tables import JobRow
from api.deps import Analyst, ServicesDep, SessionDep, Viewer
from api.jobs import SWEEP
from api.quotas import check_job_quota, time_limit_for
from api.routers.common import (
    BAD_BODY, BAD_INPUT, CONFLICT, ERRORS, NO_DATASET, NOT_FOUND, QUOTA, Offset, csv_response, wants_csv,
)
from api.schemas import SweepCreate, SweepPublic, SweepsPublic
from models.limits import MAX_ID
from models.sweep import parse_sweep

router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"], responses=ERRORS)
TABLES = ("candidates", "scenarios", "scores")
SweepId = Annotated[int, Path(ge=1, le=MAX_ID, description="Sweep id.")]


def sweep_public(job: JobRow, *, full: bool = False) -> SweepPublic:
    return SweepPublic(id=job.id, status=job.status, params=job.params, created_by=job.created_by,
                       submitted_at=store.as_utc(job.submitted_at), started_at=store.as_utc(job.started_at),
                       finished_at=store.as_utc(job.finished_at), canceled_at=store.as_utc(job.canceled_at),
                       error=job.error, summary=job.summary,
                       result=job.result if full else None)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=SweepPublic,
             responses={**BAD_BODY, **NO_DATASET, **QUOTA})
def create_sweep(principal: Analyst, session: SessionDep, services: ServicesDep, body: SweepCreate) -> SweepPublic:
    """Queue a sweep of the current dataset; the sweep is validated first (422 names the key)."""
    dataset_row = store.current_dataset(session=session)
    dataset = store.build_dataset(session=session, dataset=dataset_row)
    spec = parse_sweep(body.sweep, dataset, file="sweep", max_scenarios=services.settings.max_sweep_scenarios)
    settings = services.settings
    time_limit = time_limit_for(body.time_limit_s, principal=principal, settings=settings)
    job = store.create_job(session=session, kind=SWEEP, created_by=principal.name, time_limit_s=time_limit,
                           params={"sweep": body.sweep, "n_scenarios": spec.n_scenarios},
                           dataset_id=dataset_row.id, plan_version=dataset_row.plan_version)
    check_job_quota(session=session, principal=principal, settings=settings, job=job)  # 429; nothing stored
    store.record(session=session, actor=principal.name, role=principal.role, action="sweep.create",
                 target=f"sweep:{job.id}", detail={"name": spec.name, "n_scenarios": spec.n_scenarios})
    session.commit()
    services.runner.submit(job.id)
    return sweep_public(job)


@router.get("", response_model=SweepsPublic)
def read_sweeps(
    principal: Viewer, session: SessionDep,
    status_filter: Literal["queued", "running", "succeeded", "failed", "canceled"] | None = Query(
        None, alias="status", description="Only sweeps in this status."),
    limit: int = Query(50, ge=1, le=500, description="Page size."),
    offset: Offset = 0,
) -> SweepsPublic:
    """List sweeps, newest first (their summaries; the tables stay unread)."""
    rows, total = store.list_jobs(session=session, kind=SWEEP, status=status_filter, limit=limit, offset=offset)
    return SweepsPublic(data=[sweep_public(r) for r in rows], count=total)


@router.post("/{sweep_id}/cancel", response_model=SweepPublic, responses={**NOT_FOUND, **CONFLICT, **BAD_INPUT})
def cancel_sweep(principal: Analyst, session: SessionDep, sweep_id: SweepId) -> SweepPublic:
    """Cancel a queued or running sweep (409 when it has already finished); its worker is stopped."""
    store.get_job(session=session, job_id=sweep_id, kind=SWEEP)
    previous = store.cancel_job(session=session, job_id=sweep_id, kind=SWEEP)
    store.record(session=session, actor=principal.name, role=principal.role, action="sweep.cancel",
                 target=f"sweep:{sweep_id}", detail={"was": previous})
    session.commit()
    return sweep_public(store.get_job(session=session, job_id=sweep_id, kind=SWEEP))


@router.get("/{sweep_id}", response_model=SweepPublic, responses={**NOT_FOUND, **BAD_INPUT})
def read_sweep(principal: Viewer, session: SessionDep, sweep_id: SweepId,
               full: bool = Query(False, description="Include the full result (every table).")) -> SweepPublic:
    """Status, summary (the robust choice) and, with ?full=true, the result."""
    return sweep_public(store.get_job(session=session, job_id=sweep_id, kind=SWEEP), full=full)


def sweep_table(session, request: Request, sweep_id: int, table: str, format: str | None):
    """One table of a finished sweep, as JSON rows or CSV."""
    job = store.get_job(session=session, job_id=sweep_id, kind=SWEEP)
    if job.status != store.SUCCEEDED or not job.result:
        raise store.Conflict(f"sweep {sweep_id} is {job.status}: tables exist only once it has succeeded"
                             + (f" ({job.error})" if job.error else ""))
    rows = job.result[table]
    if wants_csv(request, format):
        return csv_response(pd.DataFrame(rows), f"sweep-{sweep_id}-{table}.csv")
    return {"sweep_id": sweep_id, "table": table, "data": rows, "count": len(rows)}


def add_table_route(table: str) -> None:
    """GET /v1/sweeps/{id}/<table>: one literal path per table (a `{table}` parameter would also match
    /v1/sweeps/{id}/cancel, whose 405 must name only POST)."""
    def read_table(principal: Viewer, session: SessionDep, request: Request, sweep_id: SweepId,
                   format: Literal["json", "csv"] | None = Query(None, description="csv for a CSV file.")):
        return sweep_table(session, request, sweep_id, table, format)

    router.add_api_route(f"/{{sweep_id}}/{table}", read_table, methods=["GET"], name=f"read_sweep_{table}",
                         summary=f"Read Sweep {table.capitalize()}",
                         description=f"The `{table}` table of a finished sweep, as JSON rows or CSV.",
                         responses={**NOT_FOUND, **CONFLICT, **BAD_INPUT})


for _table in TABLES:
    add_table_route(_table)
