"""Actuals: bulk, idempotent upsert by (rep, product, period), as JSON or as an `actuals.csv` file;
optionally closing periods first."""

from __future__ import annotations

import io
from typing import Callable

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db import store
from api.deps import Analyst, SessionDep
from api.routers.common import BAD_INPUT, ERRORS, reject_unknown_query, uploaded_text
from api.schemas import ActualsUpsert, ActualsUpsertPublic
from models.dataset import ALL_PRODUCTS, validate_table
from models.errors import InputError, Problem, ProblemCollector, unknown_id

router = APIRouter(prefix="/v1/actuals", tags=["actuals"], responses=ERRORS,
                   dependencies=[Depends(reject_unknown_query)])

CSV_EXAMPLE = ("rep_id,product_id,period,orders,calls,meetings,quotes\n"
               "R01,plc-classic,2026-03,1,26,5,3\nR01,*,2026-03,0,12,0,0\n")


@router.post("", response_model=ActualsUpsertPublic, responses=BAD_INPUT)
def upsert_actuals(principal: Analyst, session: SessionDep, body: ActualsUpsert) -> ActualsUpsertPublic:
    """Insert or replace actuals; sending the same rows again changes nothing. All rows are
    checked before any is written: unknown ids or an open period reject the whole request."""
    rows = [r.model_dump() for r in body.rows]
    return apply_actuals(session=session, principal=principal, rows=rows, current_period=body.current_period,
                         locate=lambda i, field: Problem("body", "", column=f"rows[{i}].{field}"))


@router.post("/csv", response_model=ActualsUpsertPublic, responses=BAD_INPUT, openapi_extra={
    "requestBody": {"required": True, "content": {
        "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}}})
async def upsert_actuals_csv(
    principal: Analyst, session: SessionDep, request: Request,
    current_period: str | None = Query(None, description="Close the periods up to this one first."),
) -> ActualsUpsertPublic:
    """The same upsert from a file in the `actuals.csv` format (DESIGN.md §2), sent as the body
    (`text/csv`) or as the one file of a `multipart/form-data` form; errors name the line and column."""
    raw = await uploaded_text(request, file="actuals.csv")
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError.single("actuals.csv", f"not a readable CSV file: {exc}") from None
    problems = ProblemCollector()
    checked = validate_table(frame, "actuals.csv", problems)
    problems.raise_if_any()
    rows = checked.to_dict(orient="records")
    return apply_actuals(session=session, principal=principal, rows=rows, current_period=current_period,
                         locate=lambda i, field: Problem("actuals.csv", "", line=i + 2, column=field))


def apply_actuals(*, session: Session, principal: Principal, rows: list[dict], current_period: str | None,
                  locate: Callable[[int, str], Problem]) -> ActualsUpsertPublic:
    """Check every row against the dataset, move `current_period`, upsert, audit — one transaction."""
    dataset_row = store.current_dataset(session=session)
    tables = store.dataset_tables(session=session, dataset=dataset_row)
    company = dataset_row.company
    periods = [str(p) for p in company["periods"]]
    current = company.get("current_period")
    problems: list[Problem] = []

    def problem(i: int, field: str, message: str) -> None:
        where = locate(i, field)
        problems.append(Problem(where.file, message, line=where.line, column=where.column))

    if current_period is not None:
        if current_period not in periods:
            problems.append(Problem("body", unknown_id("period", current_period, periods), column="current_period"))
        elif current is not None and periods.index(current_period) < periods.index(str(current)):
            problems.append(Problem("body", f"periods only close forward: {current!r} is already closed",
                                    column="current_period"))
        else:
            current = current_period
    closed = set(periods[: periods.index(str(current)) + 1]) if current is not None else set()
    reps = set(tables["reps.csv"]["rep_id"].astype(str).str.strip())
    products = set(tables["products.csv"]["product_id"].astype(str).str.strip()) | {ALL_PRODUCTS}
    for i, row in enumerate(rows):
        if row["rep_id"] not in reps:
            problem(i, "rep_id", unknown_id("rep", row["rep_id"], reps))
        if row["product_id"] not in products:
            problem(i, "product_id", unknown_id("product", row["product_id"], products))
        if row["period"] not in periods:
            problem(i, "period", unknown_id("period", row["period"], periods))
        elif row["period"] not in closed:
            problem(i, "period", f"period {row['period']!r} is not closed (current_period is {current!r}; "
                                 "send current_period to close it)")
        if row["product_id"] == ALL_PRODUCTS and (row.get("orders") or 0) > 0:
            problem(i, "orders", "orders need a product id (`*` rows carry activity only)")
    if problems:
        raise InputError(problems)
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
