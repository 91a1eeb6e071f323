"""Actuals: bulk, idempotent upsert by (rep, product, period), as JSON or as an `actuals.csv` file;
optionally closing periods first."""

from __future__ import annotations

from typing import Callable

import pandas as pd
from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db import store
from api.deps import Analyst, SessionDep
from api.routers.common import BAD_BODY, BAD_INPUT, ERRORS, NO_DATASET, IdFilter, uploaded_text
from api.schemas import ActualsUpsert, ActualsUpsertPublic
from models.dataset import check_actuals, parse_csv, validate_table
from models.errors import InputError, ProblemCollector, unknown_id
from models.limits import MAX_ACTUALS_ROWS

router = APIRouter(prefix="/v1/actuals", tags=["actuals"], responses={**ERRORS, **NO_DATASET})

CSV_EXAMPLE = ("rep_id,product_id,period,orders,calls,meetings,quotes\n"
               "R01,plc-classic,2026-03,1,26,5,3\nR01,*,2026-03,0,12,0,0\n")


@router.post("", response_model=ActualsUpsertPublic, responses=BAD_BODY)
def upsert_actuals(principal: Analyst, session: SessionDep, body: ActualsUpsert) -> ActualsUpsertPublic:
    """Insert or replace actuals; sending the same rows again changes nothing. All rows are
    checked before any is written: unknown ids or an open period reject the whole request."""
    rows = [r.model_dump() for r in body.rows]
    repeated_keys(rows)
    return apply_actuals(session=session, principal=principal, rows=rows, current_period=body.current_period,
                         locate=lambda i, field: ("body", None, f"rows[{i}].{field}"))


@router.post("/csv", response_model=ActualsUpsertPublic, responses={**BAD_INPUT, 413: BAD_BODY[413]}, openapi_extra={
    "requestBody": {"required": True, "content": {
        "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}}})
async def upsert_actuals_csv(
    principal: Analyst, session: SessionDep, request: Request,
    current_period: IdFilter = Query(None, description="Close the periods up to this one first."),
) -> ActualsUpsertPublic:
    """The same upsert from a file in the `actuals.csv` format (DESIGN.md §2), sent as the body
    (`text/csv`) or as the one file of a `multipart/form-data` form; errors name the line and column."""
    raw = await uploaded_text(request, file="actuals.csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single("actuals.csv", f"not a readable CSV file: not UTF-8 text ({exc.reason} at byte "
                                               f"{exc.start})") from None
    frame = parse_csv(text, "actuals.csv")
    if len(frame) > MAX_ACTUALS_ROWS:
        raise InputError.single("actuals.csv", f"more than {MAX_ACTUALS_ROWS:,} rows in one request")
    problems = ProblemCollector()
    checked = validate_table(frame, "actuals.csv", problems)
    problems.raise_if_any()
    rows = checked.to_dict(orient="records")
    return apply_actuals(session=session, principal=principal, rows=rows, current_period=current_period,
                         locate=lambda i, field: ("actuals.csv", i + 2, field))


def repeated_keys(rows: list[dict]) -> None:
    """A (rep, product, period) sent twice is a 422 naming both rows: which of the two figures is
    meant cannot be guessed (the CSV endpoint refuses the same, validate_table's key check)."""
    first: dict[tuple, int] = {}
    problems = ProblemCollector()
    for i, row in enumerate(rows):
        key = (row["rep_id"], row["product_id"], row["period"])
        if key in first:
            problems.add("body", f"rows[{first[key]}] and rows[{i}] both hold rep_id={key[0]!r}, "
                                 f"product_id={key[1]!r}, period={key[2]!r}; send each key once",
                         column=f"rows[{i}].period")
        else:
            first[key] = i
    problems.raise_if_any()


def apply_actuals(*, session: Session, principal: Principal, rows: list[dict], current_period: str | None,
                  locate: Callable[[int, str], tuple[str, int | None, str]]) -> ActualsUpsertPublic:
    """Check every row against the dataset, move `current_period`, upsert, audit — one transaction."""
    dataset_row = store.current_dataset(session=session)
    tables = store.dataset_tables(session=session, dataset=dataset_row)
    company = dataset_row.company
    periods = [str(p) for p in company["periods"]]
    current = company.get("current_period")
    problems = ProblemCollector()
    if current_period is not None:
        if current_period not in periods:
            problems.add("body", unknown_id("period", current_period, periods), column="current_period")
        elif current is not None and periods.index(current_period) < periods.index(str(current)):
            problems.add("body", f"periods only close forward: {current!r} is already closed", column="current_period")
        else:
            current = current_period
    closed = periods[: periods.index(str(current)) + 1] if current is not None else []
    reps = set(tables["reps.csv"]["rep_id"].astype(str).str.strip())
    frame = pd.DataFrame(rows, columns=list(store.ACTUAL_COLUMNS))
    check_actuals(frame, periods=periods, closed=closed, rep_ids=reps,
                  product_ids=tables["products.csv"]["product_id"].astype(str).str.strip(), file="body",
                  problems=problems, locate=locate, closing_hint="; send current_period to close it")
    problems.raise_if_any()
    previous = company.get("current_period")
    if current != previous:
        store.set_current_period(session=session, dataset=dataset_row, period=current)
    counts = store.upsert_actuals(session=session, dataset_id=dataset_row.id, rows=rows)
    newly_closed = [p for p in periods if p in closed and (previous is None or periods.index(p) > periods.index(str(previous)))]
    missing = missing_reps(session=session, dataset_id=dataset_row.id, periods=newly_closed, reps=reps)
    warnings = [f"period {period} was closed without actuals for {len(ids)} of {len(reps)} reps: "
                f"{', '.join(ids[:20])}{' …' if len(ids) > 20 else ''} (their figures count as zero)"
                for period, ids in missing.items()]
    store.record(session=session, actor=principal.name, role=principal.role, action="actuals.upsert",
                 target=f"dataset:{dataset_row.id}", detail={**counts, "current_period": current, "rows": len(rows),
                                                            "missing_reps": missing})
    session.commit()
    return ActualsUpsertPublic(**counts, current_period=current, missing_reps=missing, warnings=warnings)


def missing_reps(*, session: Session, dataset_id: int, periods: list[str], reps: set[str]) -> dict[str, list[str]]:
    """For each period just closed, the reps without a single actuals row (sorted); periods where
    every rep reported are left out."""
    if not periods:
        return {}
    present = store.reps_with_actuals(session=session, dataset_id=dataset_id, periods=periods)
    out = {}
    for period in periods:
        absent = sorted(reps - present[period])
        if absent:
            out[period] = absent
    return out
