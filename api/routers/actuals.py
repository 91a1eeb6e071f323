"""Actuals: bulk, idempotent upsert by (rep, product, period), as JSON or as an `actuals.csv` file;
optionally closing periods first."""

from __future__ import annotations

import io
from typing import Callable

import pandas as pd
from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db import store
from api.deps import Analyst, SessionDep
from api.routers.common import BAD_INPUT, ERRORS
from api.schemas import ActualsUpsert, ActualsUpsertPublic
from models.dataset import ALL_PRODUCTS, validate_table
from models.errors import InputError, Problem, ProblemCollector

router = APIRouter(prefix="/v1/actuals", tags=["actuals"], responses=ERRORS)

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
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}}})
async def upsert_actuals_csv(
    principal: Analyst, session: SessionDep, request: Request,
    current_period: str | None = Query(None, description="Close the periods up to this one first."),
) -> ActualsUpsertPublic:
    """The same upsert from a file in the `actuals.csv` format (DESIGN.md §2); errors name the
    line and column."""
    raw = await request.body()
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
            problems.append(Problem("body", f"unknown period {current_period!r}", column="current_period"))
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
            problem(i, "rep_id", f"unknown rep {row['rep_id']!r}")
        if row["product_id"] not in products:
            problem(i, "product_id", f"unknown product {row['product_id']!r}")
        if row["period"] not in periods:
            problem(i, "period", f"unknown period {row['period']!r}")
        elif row["period"] not in closed:
            problem(i, "period", f"period {row['period']!r} is not closed (current_period is {current!r}; "
                                 "send current_period to close it)")
        if row["product_id"] == ALL_PRODUCTS and (row.get("orders") or 0) > 0:
            problem(i, "orders", "orders need a product id (`*` rows carry activity only)")
    if problems:
        raise InputError(problems)
    if current != company.get("current_period"):
        store.set_current_period(session=session, dataset=dataset_row, period=current)
    counts = store.upsert_actuals(session=session, dataset_id=dataset_row.id, rows=rows)
    store.record(session=session, actor=principal.name, role=principal.role, action="actuals.upsert",
                 target=f"dataset:{dataset_row.id}", detail={**counts, "current_period": current, "rows": len(rows)})
    session.commit()
    return ActualsUpsertPublic(**counts, current_period=current)
