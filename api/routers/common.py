"""Small helpers shared by the routers: CSV responses, content negotiation, error docs."""

from __future__ import annotations

import io

import pandas as pd
from fastapi import Request
from fastapi.responses import Response

from api.schemas import ErrorPublic

ERRORS = {
    401: {"model": ErrorPublic, "description": "Missing, invalid or revoked bearer token."},
    403: {"model": ErrorPublic, "description": "The token's role may not do this."},
}
NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such id."}}
BAD_INPUT = {422: {"model": ErrorPublic, "description": "Bad input; `errors` names each field."}}
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
