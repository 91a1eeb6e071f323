"""Small helpers shared by the routers: CSV responses, content negotiation, error docs."""

from __future__ import annotations

import io
from typing import Annotated

import pandas as pd
from fastapi import Path, Query, Request
from fastapi.responses import Response

from api.schemas import ErrorPublic
from models.limits import MAX_ID, Ident, Name

# Ids, versions and offsets are bounded by the database's integer columns: a larger one is a 422
# naming the parameter, never an overflow inside the driver.
ReviewId = Annotated[int, Path(ge=1, le=MAX_ID, description="Review id.")]
BenchmarkId = Annotated[int, Path(ge=1, le=MAX_ID, description="Benchmark id.")]
AssumptionSetId = Annotated[int, Path(ge=1, le=MAX_ID, description="Assumption set id.")]
PlanVersion = Annotated[int, Path(ge=1, le=MAX_ID, description="Plan version.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Rows to skip.")]
IdFilter = Ident | None  # query filters: text an id could be (a NUL byte never reaches the database)
NameFilter = Name | None

ERRORS = {
    401: {"model": ErrorPublic, "description": "Missing, invalid or revoked bearer token."},
    403: {"model": ErrorPublic, "description": "The token's role may not do this."},
}
NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such id."}}
BAD_INPUT = {422: {"model": ErrorPublic, "description": "Bad input; `errors` names each field."}}
BAD_BODY = {**BAD_INPUT, 400: {"model": ErrorPublic, "description": "The body is not valid JSON."},
            413: {"model": ErrorPublic, "description": "The body is larger than the service accepts."}}
NO_DATASET = {409: {"model": ErrorPublic, "description": "No dataset is loaded (`comptune load`), or the stored one "
                                                        "no longer passes the input checks."}}
CONFLICT = {409: {"model": ErrorPublic, "description": "Conflicts with the current state (e.g. a stale plan version)."}}


def wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format.lower() == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def csv_response(frame: pd.DataFrame, filename: str) -> Response:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
