"""Calibrations (DESIGN.md §4.11): estimate the current dataset's behaviour model from its stored actuals
as a job, read the report (summary, holdout errors, estimates per rep × product and market × product,
as JSON or CSV) and cancel one. A review names a succeeded calibration with `calibration_id`."""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Path, Query, Request, status

from api.db import store
from api.db.tables import DatasetRow, JobRow
from api.deps import Analyst, ServicesDep, SessionDep, Viewer
from api.quotas import check_job_quota, time_limit_for
from api.routers.common import (
    BAD_BODY, BAD_INPUT, CONFLICT, ERRORS, NO_DATASET, NOT_FOUND, QUOTA, IdFilter, Offset, csv_response, wants_csv,
)
from api.schemas import CalibrationCreate, CalibrationPublic, CalibrationsPublic
from models.dataset import Dataset
from models.errors import InputError, ProblemCollector
from models.history import SpanEntry, history_periods, resolve_spans, stored_history
from models.limits import MAX_ID

router = APIRouter(prefix="/v1/calibrations", tags=["calibrations"], responses={**ERRORS, **NOT_FOUND})
CalibrationId = Annotated[int, Path(ge=1, le=MAX_ID, description="Calibration id.")]


def calibration_public(job: JobRow, *, full: bool = False) -> CalibrationPublic:
    result = None
    if full and job.result is not None:
        result = {k: v for k, v in job.result.items() if k != "calibrated"}
    return CalibrationPublic(id=job.id, status=job.status, params=job.params, plan_version=job.plan_version,
                             created_by=job.created_by, submitted_at=store.as_utc(job.submitted_at),
                             started_at=store.as_utc(job.started_at), finished_at=store.as_utc(job.finished_at),
                             error=job.error, phase=job.phase, progress=job.progress, summary=job.summary, result=result)


def plan_spans(body: CalibrationCreate, *, session, dataset_row: DatasetRow, dataset: Dataset,
               history: pd.DataFrame) -> list[dict]:
    """The body's plan spans checked against the history and the stored plan versions (422 naming the key)."""
    needed = history_periods(dataset, history)
    if body.plans is None:
        if dataset_row.plan_version is None:
            raise store.Conflict("the dataset has no plan in force: name the plans of the history in `plans`")
        return [{"periods": needed, "plan_version": dataset_row.plan_version}]
    problems = ProblemCollector()
    entries = []
    for i, span in enumerate(body.plans):
        unknown = sorted(set(span.periods) - {"from", "to"})
        for key in unknown:
            problems.add("body", "unknown key (use from, to)", column=f"plans[{i}].periods.{key}")
        entries.append(SpanEntry(start=span.periods.get("from"), end=span.periods.get("to"), at=f"plans[{i}]", line=None))
    problems.raise_if_any()
    labels = resolve_spans(entries, dataset, needed, file="body", problems=problems)
    versions = {row.version for row in store.list_plan_versions(session=session, dataset_id=dataset_row.id)}
    for i, span in enumerate(body.plans):
        if span.plan_version not in versions:
            problems.add("body", f"no plan version {span.plan_version} (stored: {sorted(versions)})",
                         column=f"plans[{i}].plan_version")
    problems.raise_if_any()
    return [{"periods": periods, "plan_version": span.plan_version} for periods, span in zip(labels, body.plans)
            if periods]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=CalibrationPublic,
             responses={**BAD_BODY, **NO_DATASET, **CONFLICT, **QUOTA})
def create_calibration(principal: Analyst, session: SessionDep, services: ServicesDep,
                       body: CalibrationCreate) -> CalibrationPublic:
    """Queue a calibration of the current dataset from its stored actuals: 202 with the queued job. The
    history and the plans map are checked first (422 names the row or key; nothing is stored)."""
    settings = services.settings
    dataset_row = store.current_dataset(session=session)
    dataset = store.build_dataset(session=session, dataset=dataset_row)
    history = stored_history(dataset)
    spans = plan_spans(body, session=session, dataset_row=dataset_row, dataset=dataset, history=history)
    months = sum(len(s["periods"]) for s in spans)
    if body.holdout and body.holdout >= months:
        raise InputError.single("body", f"must leave at least one month to fit (the history has {months})",
                                column="holdout")
    time_limit = time_limit_for(body.time_limit_s, principal=principal, settings=settings)
    params = {"holdout": body.holdout, "plans": spans, "polish_rounds": body.polish_rounds}
    job = store.create_job(session=session, kind=store.CALIBRATION, created_by=principal.name, time_limit_s=time_limit,
                           params=params, dataset_id=dataset_row.id, plan_version=dataset_row.plan_version)
    check_job_quota(session=session, principal=principal, settings=settings, job=job)  # 429; nothing stored
    store.record(session=session, actor=principal.name, role=principal.role, action="calibration.create",
                 target=f"calibration:{job.id}", detail={"months": months, "holdout": body.holdout,
                                                         "plan_versions": sorted({s["plan_version"] for s in spans})})
    session.commit()
    services.runner.submit(job.id)
    return calibration_public(job)


@router.get("", response_model=CalibrationsPublic)
def read_calibrations(
    principal: Viewer, session: SessionDep,
    status_filter: Literal["queued", "running", "succeeded", "failed", "canceled"] | None = Query(
        None, alias="status", description="Only calibrations in this status."),
    limit: int = Query(50, ge=1, le=500, description="Page size."),
    offset: Offset = 0,
) -> CalibrationsPublic:
    """List calibrations, newest first (summaries; the estimates stay unread)."""
    rows, count = store.list_jobs(session=session, kind=store.CALIBRATION, status=status_filter, limit=limit,
                                  offset=offset)
    return CalibrationsPublic(data=[calibration_public(r) for r in rows], count=count)


@router.get("/{calibration_id}", response_model=CalibrationPublic)
def read_calibration(principal: Viewer, session: SessionDep, calibration_id: CalibrationId,
                     full: bool = Query(False, description="Include every estimate (large).")) -> CalibrationPublic:
    """Status, phase and, once succeeded, the report's summary and holdout errors (?full=true: the estimates)."""
    return calibration_public(store.get_job(session=session, job_id=calibration_id, kind=store.CALIBRATION), full=full)


def succeeded(session, calibration_id: int) -> JobRow:
    job = store.get_job(session=session, job_id=calibration_id, kind=store.CALIBRATION)
    if job.status != store.SUCCEEDED or job.result is None:
        raise store.Conflict(f"calibration {calibration_id} is {job.status}: estimates exist only once it has "
                             "succeeded" + (f" ({job.error})" if job.error else ""))
    return job


TABLE_RESPONSES = {**CONFLICT, **BAD_INPUT, 200: {
    "content": {"text/csv": {}}, "description": "JSON rows, or CSV with ?format=csv or Accept: text/csv."}}
StatusFilter = Literal["identified", "interval", "lower bound", "upper bound", "not identified", "estimated"] | None


def estimates_table(session, request: Request, calibration_id: int, table: str, *, filters: dict, status_filter,
                    limit: int, offset: int, format: str | None):
    """One table of a succeeded calibration's estimates, filtered, as JSON rows or CSV."""
    frame = pd.DataFrame(succeeded(session, calibration_id).result[table])
    for column, value in filters.items():
        if value is not None and column in frame.columns:
            frame = frame[frame[column] == value]
    if status_filter is not None and len(frame):
        column = "comfort_status" if table == "rep_products" else "status"
        frame = frame[frame[column].astype(str).str.startswith(status_filter)]
    if wants_csv(request, format):
        return csv_response(frame, f"calibration-{calibration_id}-{table}.csv")
    page = frame.iloc[offset:offset + limit]
    return {"calibration_id": calibration_id, "table": table, "count": len(frame),
            "data": page.astype(object).where(pd.notna(page), None).to_dict(orient="records")}


@router.get("/{calibration_id}/rep_products", responses=TABLE_RESPONSES)
def read_calibration_rep_products(
    principal: Viewer, session: SessionDep, request: Request, calibration_id: CalibrationId,
    rep_id: IdFilter = Query(None, description="Only this rep."),
    product_id: IdFilter = Query(None, description="Only this product."),
    status_filter: StatusFilter = Query(None, alias="status", description="Only rows whose comfort status starts so."),
    limit: int = Query(1000, ge=1, le=100_000, description="Page size (JSON)."),
    offset: Offset = 0,
    format: Literal["json", "csv"] | None = Query(None, description="csv for a CSV file (every matching row)."),
):
    """The estimates per rep × product: skill and comfort — prior, estimate, standard error or consistent
    range, support (orders, months sold) and identification status."""
    return estimates_table(session, request, calibration_id, "rep_products",
                           filters={"rep_id": rep_id, "product_id": product_id}, status_filter=status_filter,
                           limit=limit, offset=offset, format=format)


@router.get("/{calibration_id}/funnel", responses=TABLE_RESPONSES)
def read_calibration_funnel(
    principal: Viewer, session: SessionDep, request: Request, calibration_id: CalibrationId,
    market_id: IdFilter = Query(None, description="Only this market."),
    product_id: IdFilter = Query(None, description="Only this product."),
    status_filter: StatusFilter = Query(None, alias="status", description="Only rows whose status starts so."),
    limit: int = Query(1000, ge=1, le=100_000, description="Page size (JSON)."),
    offset: Offset = 0,
    format: Literal["json", "csv"] | None = Query(None, description="csv for a CSV file (every matching row)."),
):
    """The funnel rates per market × product with standard errors, the activity counted and a status."""
    return estimates_table(session, request, calibration_id, "funnel",
                           filters={"market_id": market_id, "product_id": product_id}, status_filter=status_filter,
                           limit=limit, offset=offset, format=format)


@router.post("/{calibration_id}/cancel", response_model=CalibrationPublic, responses=CONFLICT)
def cancel_calibration(principal: Analyst, session: SessionDep, calibration_id: CalibrationId) -> CalibrationPublic:
    """Cancel a queued or running calibration (409 once it has finished)."""
    previous = store.cancel_job(session=session, job_id=calibration_id, kind=store.CALIBRATION)
    store.record(session=session, actor=principal.name, role=principal.role, action="calibration.cancel",
                 target=f"calibration:{calibration_id}", detail={"from": previous})
    session.commit()
    return calibration_public(store.get_job(session=session, job_id=calibration_id, kind=store.CALIBRATION))


def check_review_calibration(session, calibration_id: int, dataset_row: DatasetRow) -> None:
    """A review's `calibration_id` must name a succeeded calibration of the current dataset."""
    try:
        job = store.get_job(session=session, job_id=calibration_id, kind=store.CALIBRATION)
    except store.NotFound:
        raise InputError.single("body", f"no calibration {calibration_id}", column="calibration_id") from None
    if job.dataset_id != dataset_row.id:
        raise InputError.single("body", f"calibration {calibration_id} is of another dataset", column="calibration_id")
    if job.status != store.SUCCEEDED:
        raise store.Conflict(f"calibration {calibration_id} is {job.status}: a review can use it once it has succeeded")
