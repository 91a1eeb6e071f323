"""Plan versions: the plan in force and the history (immutable, numbered)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from api.db import store
from api.db.tables import PlanVersionRow
from api.deps import SessionDep, Viewer
from api.routers.common import NO_DATASET, ERRORS, NOT_FOUND, PlanVersion, csv_response, wants_csv
from api.schemas import PlanPublic, PlansPublic
from api.serialize import frame_from_json, frame_records

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses={**ERRORS, **NO_DATASET})


def plan_public(row: PlanVersionRow, *, in_force: int | None, tables: bool, targets: bool) -> PlanPublic:
    def records(content):
        return frame_records(frame_from_json(content))

    return PlanPublic(
        version=row.version, in_force=row.version == in_force, origin=row.origin, review_id=row.review_id,
        created_by=row.created_by, created_at=store.as_utc(row.created_at),
        components=records(row.components) if tables else None, curve=records(row.curve) if tables else None,
        targets=records(row.targets) if targets else None,
    )


@router.get("", response_model=PlansPublic)
def read_plans(principal: Viewer, session: SessionDep) -> PlansPublic:
    """The history of plan versions, oldest first, with the version in force."""
    dataset_row = store.current_dataset(session=session)
    rows = store.list_plan_versions(session=session, dataset_id=dataset_row.id)
    return PlansPublic(data=[plan_public(r, in_force=dataset_row.plan_version, tables=True, targets=False)
                             for r in rows], count=len(rows), in_force=dataset_row.plan_version)


@router.get("/current", response_model=PlanPublic, responses=NOT_FOUND)
def read_current_plan(
    principal: Viewer, session: SessionDep,
    targets: bool = Query(False, description="Include the targets table."),
) -> PlanPublic:
    """The plan in force, with its version, components and payout curve."""
    dataset_row = store.current_dataset(session=session)
    if dataset_row.plan_version is None:
        raise store.NotFound("the dataset has no plan in force")
    row = store.get_plan_version(session=session, dataset_id=dataset_row.id, version=dataset_row.plan_version)
    return plan_public(row, in_force=dataset_row.plan_version, tables=True, targets=targets)


@router.get("/{version}", response_model=PlanPublic, responses=NOT_FOUND)
def read_plan(
    principal: Viewer, session: SessionDep, version: PlanVersion,
    targets: bool = Query(False, description="Include the targets table."),
) -> PlanPublic:
    """One plan version."""
    dataset_row = store.current_dataset(session=session)
    row = store.get_plan_version(session=session, dataset_id=dataset_row.id, version=version)
    return plan_public(row, in_force=dataset_row.plan_version, tables=True, targets=targets)


@router.get("/{version}/targets", responses={**NOT_FOUND, 200: {"content": {"text/csv": {}},
                                                                 "description": "JSON records or CSV."}})
def read_plan_targets(
    principal: Viewer, session: SessionDep, request: Request, version: PlanVersion,
    format: Literal["json", "csv"] | None = Query(None, description="csv for plan/targets.csv format."),
):
    """A plan version's targets (the `plan/targets.csv` format)."""
    dataset_row = store.current_dataset(session=session)
    row = store.get_plan_version(session=session, dataset_id=dataset_row.id, version=version)
    frame = frame_from_json(row.targets)
    if wants_csv(request, format):
        return csv_response(frame, f"plan-{version}-targets.csv")
    return {"version": version, "data": frame_records(frame), "count": len(frame)}
