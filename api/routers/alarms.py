"""Alarms (§4.8): pace, run-rate forecast and funnel consistency of the plan in force."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.db import store
from api.db.tables import AssumptionSetRow, JobRow
from api.deps import SessionDep, Viewer
from api.jobs import REVIEW, jsonable
from api.routers.common import ERRORS
from api.schemas import AlarmsPublic
from optimizer.review.alarms import DEFAULT_THRESHOLDS, alarms

router = APIRouter(prefix="/v1/alarms", tags=["alarms"], responses=ERRORS)

Severity = Literal["critical", "warning", "watch", "ok"]


@router.get("", response_model=AlarmsPublic)
def read_alarms(
    principal: Viewer, session: SessionDep,
    team: str | None = Query(None, description="Only alarms within this team."),
    market: str | None = Query(None, description="Only alarms within this market id."),
    product: str | None = Query(None, description="Only KPIs that cover this product id."),
    severity: list[Severity] | None = Query(None, description="Severities to return (repeatable); "
                                                              "default critical, warning and watch."),
    level: Literal["rep", "team", "market", "company"] | None = Query(None, description="Aggregation level."),
    kind: Literal["pace", "funnel"] | None = Query(None, description="pace or funnel."),
    limit: int = Query(500, ge=1, le=100_000, description="Most alarms to return (worst first)."),
) -> AlarmsPublic:
    """Alarms of the plan in force against the actuals to date, worst first.

    Severity thresholds on pace (actual ÷ target to date) and on funnel coverage (what the calls
    lead to ÷ what the rest of the year needs): below 0.70 critical, below 0.85 warning, below 0.95
    watch; pace above 1.25 watch and above 1.50 warning (running far ahead of plan).
    """
    dataset_row = store.current_dataset(session=session)
    dataset = store.build_dataset(session=session, dataset=dataset_row)
    frame = alarms(dataset, thresholds=DEFAULT_THRESHOLDS)
    wanted = set(severity or ("critical", "warning", "watch"))
    frame = frame[frame["severity"].isin(wanted)]
    if team is not None:
        frame = frame[frame["team"] == team]
    if market is not None:
        frame = frame[frame["market_id"] == market]
    if product is not None:
        frame = frame[frame["product_ids"].map(lambda ids: product in ids)]
    if level is not None:
        frame = frame[frame["level"] == level]
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    frame = frame.head(limit)
    records = jsonable(frame.to_dict(orient="records"))
    coverage = _review_coverage(session, dataset_row.id)
    for record in records:
        record["review_id"] = _review_for(record, coverage)
    return AlarmsPublic(data=records, count=len(records), current_period=dataset.company.current_period,
                        plan_version=dataset_row.plan_version, thresholds=DEFAULT_THRESHOLDS.as_dict())


def _review_coverage(session, dataset_id: int) -> list[tuple[int, set[str] | None, set[str] | None]]:
    """(review id, markets or None for all, reps or None) of live reviews, newest first."""
    rows = session.execute(
        select(JobRow.id, AssumptionSetRow.body).join(AssumptionSetRow, JobRow.assumption_set_id == AssumptionSetRow.id)
        .where(JobRow.kind == REVIEW, JobRow.dataset_id == dataset_id,
               JobRow.status.in_((store.QUEUED, store.RUNNING, store.SUCCEEDED)))
        .order_by(JobRow.id.desc())).all()
    out = []
    for review_id, body in rows:
        for adj in body.get("adjustments", []):
            markets = set(adj["markets"]) if adj.get("markets") else None
            reps = set(adj["reps"]) if adj.get("reps") else None
            out.append((review_id, markets, reps))
    return out


def _review_for(alarm: dict, coverage) -> int | None:
    for review_id, markets, reps in coverage:
        if alarm["level"] == "rep" and reps is not None and alarm["rep_id"] in reps:
            return review_id
        if markets is None and reps is None:
            return review_id
        if markets is not None and alarm.get("market_id") in markets:
            return review_id
    return None
