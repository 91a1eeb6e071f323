"""Corrections (issue 18, item 2): the correction system as a job — the closed periods' actuals against
the plan LP's expectation turned into a proposed assumption set (per market and product, demand and
conversion factors from the next open period on), each factor with its evidence. The proposal can be
stored as an assumption set, with `store` in the request or afterwards, so that a review starts from it.

A job rather than an answer in the request: the estimator solves the plan LP, which on a large company
takes longer than a request should hold the server (the same reason reviews run in workers)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from api.db import store
from api.db.tables import JobRow
from api.deps import Analyst, ServicesDep, SessionDep, Viewer
from api.quotas import check_job_quota
from api.routers.assumption_sets import assumption_set_public
from api.routers.common import BAD_BODY, CONFLICT, ERRORS, NO_DATASET, NOT_FOUND, QUOTA, Offset
from api.schemas import AssumptionSetPublic, CorrectionCreate, CorrectionPublic, CorrectionsPublic
from models.assumptions import parse_assumptions
from models.errors import InputError
from models.limits import MAX_ID

router = APIRouter(prefix="/v1/corrections", tags=["corrections"], responses={**ERRORS, **NOT_FOUND})
CorrectionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Correction id.")]


def correction_public(job: JobRow, *, full: bool = False) -> CorrectionPublic:
    result = job.result if full and job.status == store.SUCCEEDED else None
    summary = job.summary or {}
    if result is not None:
        result = {key: value for key, value in result.items() if key != "assumption_set_id"}
    return CorrectionPublic(id=job.id, status=job.status, params=job.params, plan_version=job.plan_version,
                            created_by=job.created_by, submitted_at=store.as_utc(job.submitted_at),
                            started_at=store.as_utc(job.started_at), finished_at=store.as_utc(job.finished_at),
                            error=job.error, phase=job.phase, progress=job.progress,
                            assumption_set_id=job.assumption_set_id or summary.get("assumption_set_id"),
                            summary=job.summary, result=result)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=CorrectionPublic,
             responses={**BAD_BODY, **NO_DATASET, **CONFLICT, **QUOTA})
def create_correction(principal: Analyst, session: SessionDep, services: ServicesDep,
                      body: CorrectionCreate) -> CorrectionPublic:
    """Queue the correction system on the current dataset: 202 with the job. 409 when there is no closed
    period to learn from, no open period to correct, or no plan in force; 422 for an unknown `base_id`."""
    dataset_row = store.current_dataset(session=session)
    if dataset_row.plan_version is None:
        raise store.Conflict("the dataset has no plan in force: the correction system compares the actuals with it")
    dataset = store.build_dataset(session=session, dataset=dataset_row)
    company = dataset.company
    if not company.closed_periods:
        raise store.Conflict("no closed period yet: the correction system learns from the closed months' actuals")
    if not company.open_periods:
        raise store.Conflict("no open period left: there is nothing to correct")
    if body.base_id is not None:
        try:
            base = store.get_assumption_set(session=session, set_id=body.base_id)
        except store.NotFound:
            base = None
        if base is None or base.dataset_id != dataset_row.id:
            raise InputError.single("body", f"no assumption set {body.base_id} for the current dataset", column="base_id")
    params = {"name": body.name, "base_id": body.base_id, "store": body.store}
    job = store.create_job(session=session, kind=store.CORRECTION, created_by=principal.name,
                           time_limit_s=services.settings.default_time_limit_s, params=params,
                           dataset_id=dataset_row.id, plan_version=dataset_row.plan_version)
    check_job_quota(session=session, principal=principal, settings=services.settings, job=job)  # 429; nothing stored
    store.record(session=session, actor=principal.name, role=principal.role, action="correction.create",
                 target=f"correction:{job.id}", detail=params)
    session.commit()
    services.runner.submit(job.id)
    return correction_public(job)


@router.get("", response_model=CorrectionsPublic)
def read_corrections(
    principal: Viewer, session: SessionDep,
    status_filter: Literal["queued", "running", "succeeded", "failed", "canceled"] | None = Query(
        None, alias="status", description="Only corrections in this status."),
    limit: int = Query(50, ge=1, le=500, description="Page size."),
    offset: Offset = 0,
) -> CorrectionsPublic:
    """List corrections, newest first (without their results)."""
    rows, count = store.list_jobs(session=session, kind=store.CORRECTION, status=status_filter, limit=limit,
                                  offset=offset)
    return CorrectionsPublic(data=[correction_public(r) for r in rows], count=count)


@router.get("/{correction_id}", response_model=CorrectionPublic)
def read_correction(principal: Viewer, session: SessionDep, correction_id: CorrectionId) -> CorrectionPublic:
    """Status while it runs; once succeeded the proposed assumption set and the evidence of each factor
    (orders actual and expected, months, shrinkage: no pay figure, every role reads it)."""
    return correction_public(store.get_job(session=session, job_id=correction_id, kind=store.CORRECTION), full=True)


@router.post("/{correction_id}/assumption-set", status_code=status.HTTP_201_CREATED,
             response_model=AssumptionSetPublic, responses=CONFLICT)
def store_correction(principal: Analyst, session: SessionDep, correction_id: CorrectionId) -> AssumptionSetPublic:
    """Store a succeeded correction's proposal as an assumption set (201); a correction already stored
    answers with that same set. 409 unless it has succeeded."""
    job = store.get_job(session=session, job_id=correction_id, kind=store.CORRECTION)
    if job.status != store.SUCCEEDED or job.result is None:
        raise store.Conflict(f"correction {correction_id} is {job.status}: its proposal exists once it has succeeded"
                             + (f" ({job.error})" if job.error else ""))
    existing = job.assumption_set_id or (job.summary or {}).get("assumption_set_id")
    if existing:
        return assumption_set_public(store.get_assumption_set(session=session, set_id=existing))
    if job.dataset_id != store.current_dataset(session=session).id:
        raise store.Conflict(f"correction {correction_id} belongs to a dataset that is no longer current")
    assumptions = parse_assumptions(job.result["assumptions"], file=f"correction {correction_id}")
    row = store.create_assumption_set(session=session, dataset_id=job.dataset_id, assumptions=assumptions,
                                      created_by=principal.name)
    job.assumption_set_id = row.id
    store.record(session=session, actor=principal.name, role=principal.role, action="correction.store",
                 target=f"correction:{correction_id}", detail={"assumption_set_id": row.id})
    session.commit()
    return assumption_set_public(row)


@router.post("/{correction_id}/cancel", response_model=CorrectionPublic, responses=CONFLICT)
def cancel_correction(principal: Analyst, session: SessionDep, correction_id: CorrectionId) -> CorrectionPublic:
    """Cancel a queued or running correction (409 once it has finished)."""
    store.get_job(session=session, job_id=correction_id, kind=store.CORRECTION)
    previous = store.cancel_job(session=session, job_id=correction_id, kind=store.CORRECTION)
    store.record(session=session, actor=principal.name, role=principal.role, action="correction.cancel",
                 target=f"correction:{correction_id}", detail={"from": previous})
    session.commit()
    return correction_public(store.get_job(session=session, job_id=correction_id, kind=store.CORRECTION))
