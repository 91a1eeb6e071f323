"""Exports of a review for the people who decide: the committee workbook (`export.xlsx`).

The workbook holds what the API answers the caller about the review — the same role filtering
(api/visibility.py through the reviews routes), so a viewer's file has no pay figure and no pay
sheet."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.db import store
from api.db.tables import DatasetRow
from api.deps import SessionDep, Viewer
from api.export import XLSX_TYPE, review_workbook
from api.jobs import REVIEW
from api.routers.common import CONFLICT, ERRORS, NOT_FOUND, ReviewId
from api.routers.reviews import filter_adjustments, finished_result, read_review, recommendation_public
from api.serialize import frame_from_json, frame_records
from api.visibility import adjustments_for

router = APIRouter(prefix="/v1/reviews", tags=["reviews"], responses={**ERRORS, **NOT_FOUND})


@router.get("/{review_id}/export.xlsx", responses={**CONFLICT, 200: {
    "content": {XLSX_TYPE: {}}, "description": "An Excel workbook: Summary, Changes, Weights, Targets, "
                                               "Attribution and, for approver and admin, Pay impact."}})
def export_review(principal: Viewer, session: SessionDep, review_id: ReviewId) -> Response:
    """The review as an Excel workbook for the comp committee (409 until the review has succeeded):
    the plans compared, the rules not kept, every change with its reason, the weights, every target
    per rep, component and period with its reason, the attribution per market, and the pay impact
    per rep for the roles that see pay."""
    result = finished_result(session, review_id)
    review = read_review(principal, session, review_id).model_dump(mode="json")
    recommendation = recommendation_public(principal, session, review_id).model_dump(mode="json")
    job = store.get_job(session=session, job_id=review_id, kind=REVIEW)
    adjustments = adjustments_for(frame_from_json(result["adjustments"]), sees_pay=principal.sees_pay)
    adjustments = filter_adjustments(session, job, adjustments, rep_id=None, market_id=None, component_id=None,
                                     period=None, changed_only=False)
    tables = store.dataset_tables(session=session, dataset=session.get(DatasetRow, job.dataset_id))
    try:
        assumption_set = store.get_assumption_set(session=session, set_id=job.assumption_set_id)
        set_words = {"id": assumption_set.id, "name": assumption_set.name, "version": assumption_set.version}
    except store.NotFound:
        set_words = None
    content = review_workbook(review=review, recommendation=recommendation, adjustments=frame_records(adjustments),
                              weights=frame_records(frame_from_json(result["weight_changes"])), tables=tables,
                              assumption_set=set_words, sees_pay=principal.sees_pay)
    return Response(content, media_type=XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="review-{review_id}.xlsx"', "Cache-Control": "no-store"})
