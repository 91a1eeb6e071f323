"""Market-assumption sets: submit (immutable, versioned, diffed against the parent), list, read."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from api.db import store
from api.db.tables import AssumptionSetRow
from api.deps import Analyst, SessionDep, Viewer
from api.routers.common import BAD_BODY, ERRORS, NO_DATASET, NOT_FOUND, AssumptionSetId, NameFilter, Offset
from api.schemas import AssumptionSetCreate, AssumptionSetPublic, AssumptionSetsPublic
from models.assumptions import AssumptionSet

router = APIRouter(prefix="/v1/assumption-sets", tags=["assumption-sets"], responses={**ERRORS, **NO_DATASET})


def assumption_set_public(row: AssumptionSetRow) -> AssumptionSetPublic:
    return AssumptionSetPublic(id=row.id, name=row.name, version=row.version, parent_id=row.parent_id,
                               body=row.body, diff=row.diff, created_by=row.created_by,
                               created_at=store.as_utc(row.created_at))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AssumptionSetPublic, responses=BAD_BODY)
def create_assumption_set(principal: Analyst, session: SessionDep, body: AssumptionSetCreate) -> AssumptionSetPublic:
    """Submit a market-assumption set; every id in every scope must exist in the dataset."""
    dataset_row = store.current_dataset(session=session)
    assumptions = AssumptionSet.model_validate(body.model_dump(by_alias=True))
    reference = store.reference_dataset(session=session, dataset=dataset_row)
    assumptions.check_against(reference, file="body")
    row = store.create_assumption_set(session=session, dataset_id=dataset_row.id, assumptions=assumptions,
                                      created_by=principal.name)
    store.record(session=session, actor=principal.name, role=principal.role, action="assumption_set.create",
                 target=f"assumption_set:{row.id}", detail={"name": row.name, "version": row.version,
                                                            "parent_id": row.parent_id})
    session.commit()
    return assumption_set_public(row)


@router.get("", response_model=AssumptionSetsPublic)
def read_assumption_sets(
    principal: Viewer, session: SessionDep,
    name: NameFilter = Query(None, description="Only the versions of this name."),
    limit: int = Query(100, ge=1, le=1000, description="Page size."),
    offset: Offset = 0,
) -> AssumptionSetsPublic:
    """List the assumption sets of the current dataset, oldest first."""
    dataset_row = store.current_dataset(session=session)
    rows, count = store.list_assumption_sets(session=session, dataset_id=dataset_row.id, name=name,
                                             limit=limit, offset=offset)
    return AssumptionSetsPublic(data=[assumption_set_public(r) for r in rows], count=count)


@router.get("/{set_id}", response_model=AssumptionSetPublic, responses=NOT_FOUND)
def read_assumption_set(principal: Viewer, session: SessionDep, set_id: AssumptionSetId) -> AssumptionSetPublic:
    """One assumption set with its parent and its diff against the parent."""
    return assumption_set_public(store.get_assumption_set(session=session, set_id=set_id))
