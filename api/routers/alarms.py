"""Alarms (§4.8): pace, run-rate forecast and funnel consistency of the plan in force."""

from __future__ import annotations

from typing import Literal

import numpy as np
from fastapi import APIRouter, Query

from api.db import store
from api.deps import SessionDep, Viewer
from api.jobs import REVIEW
from api.routers.common import NO_DATASET, ERRORS, IdFilter, NameFilter, Offset
from api.schemas import AlarmsPublic
from api.serialize import frame_records
from models.assumptions import AssumptionSet
from models.errors import InputError, Problem, unknown_id
from optimizer.review.alarms import DEFAULT_THRESHOLDS, alarms

router = APIRouter(prefix="/v1/alarms", tags=["alarms"], responses={**ERRORS, **NO_DATASET})

Severity = Literal["critical", "warning", "watch", "ok"]


@router.get("", response_model=AlarmsPublic)
def read_alarms(
    principal: Viewer, session: SessionDep,
    team: NameFilter = Query(None, description="Only alarms within this team."),
    market: IdFilter = Query(None, description="Only alarms within this market id."),
    product: IdFilter = Query(None, description="Only KPIs that cover this product id."),
    severity: list[Severity] | None = Query(None, description="Severities to return (repeatable); "
                                                              "default critical, warning and watch."),
    level: Literal["rep", "team", "market", "company"] | None = Query(None, description="Aggregation level."),
    kind: Literal["pace", "funnel"] | None = Query(None, description="pace or funnel."),
    limit: int = Query(500, ge=1, le=100_000, description="Most alarms to return (worst first)."),
    offset: Offset = 0,
) -> AlarmsPublic:
    """Alarms of the plan in force against the actuals to date, worst first.

    Severity thresholds on pace (actual ÷ target to date) and on funnel coverage (what the calls
    lead to ÷ what the rest of the year needs): below 0.70 critical, below 0.85 warning, below 0.95
    watch; pace above 1.25 watch and above 1.50 warning (running far ahead of plan).
    """
    dataset_row = store.current_dataset(session=session)
    dataset = store.build_dataset(session=session, dataset=dataset_row)
    check_filters(dataset, team=team, market=market, product=product)
    frame = alarms(dataset, thresholds=DEFAULT_THRESHOLDS)
    wanted = set(severity or ("critical", "warning", "watch"))
    keep = frame["severity"].isin(wanted).to_numpy(dtype=bool)
    for column, value in (("team", team), ("market_id", market), ("level", level), ("kind", kind)):
        if value is not None:
            keep = keep & (frame[column] == value).to_numpy(dtype=bool)
    if product is not None:
        keep = keep & np.fromiter((product in ids for ids in frame["product_ids"]), dtype=bool, count=len(frame))
    frame = frame[keep]
    total = len(frame)
    frame = frame.iloc[offset: offset + limit]
    records = frame_records(frame)
    coverage = review_coverage(store.live_review_assumptions(session=session, dataset_id=dataset_row.id,
                                                             kind=REVIEW))
    for record in records:
        record["review_id"] = review_for(record, coverage)
    return AlarmsPublic(data=records, count=total, offset=offset, current_period=dataset.company.current_period,
                        plan_version=dataset_row.plan_version, thresholds=DEFAULT_THRESHOLDS.as_dict())


def check_filters(dataset, *, team: str | None, market: str | None, product: str | None) -> None:
    """A filter naming an id the company does not have is a 422 listing the valid ones (not an
    empty list that looks like good news)."""
    teams = set(dataset.reps["team"].astype(str))
    problems = [Problem("query", unknown_id(what, value, valid), column=field)
                for field, what, value, valid in (("team", "team", team, teams),
                                                  ("market", "market", market, dataset.market_ids),
                                                  ("product", "product", product, dataset.product_ids))
                if value is not None and value not in set(valid)]
    if problems:
        raise InputError(problems)


Coverage = list[tuple[int, set[str] | None, set[str] | None]]


def review_coverage(reviews: list[tuple[int, AssumptionSet]]) -> Coverage:
    """(review id, markets or None for all, reps or None) per adjustment of live reviews, newest first."""
    out: Coverage = []
    for review_id, assumptions in reviews:
        for adj in assumptions.adjustments:
            out.append((review_id, set(adj.markets) if adj.markets else None, set(adj.reps) if adj.reps else None))
    return out


def review_for(alarm: dict, coverage: Coverage) -> int | None:
    """The newest live review whose assumptions cover the alarm's scope."""
    for review_id, markets, reps in coverage:
        if alarm["level"] == "rep" and reps is not None and alarm["rep_id"] in reps:
            return review_id
        if markets is None and reps is None:
            return review_id
        if markets is not None and alarm.get("market_id") in markets:
            return review_id
    return None
