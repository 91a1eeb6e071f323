"""Small helpers shared by the routers: the app's JSON response, CSV responses, content
negotiation, uploaded files, refusing unknown query parameters, error docs."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any

import pandas as pd
from fastapi import Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from api.schemas import ErrorPublic
from models.dataset import spreadsheet_safe
from models.errors import InputError, Problem
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
QUOTA = {429: {"model": ErrorPublic, "description": "The caller holds as many queued and running jobs as its role's "
                                                   "quota allows (COMPTUNE_JOB_QUOTA); `Retry-After` says when to "
                                                   "try again.",
               "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}}}
CONFLICT = {409: {"model": ErrorPublic, "description": "Conflicts with the current state (e.g. a stale plan version)."}}


class SafeJSONResponse(JSONResponse):
    """JSON as UTF-8; a string that cannot be encoded (a lone surrogate stored before the input
    checks existed) is sent \\u-escaped instead of failing the request."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, indent=None,
                              separators=(",", ":")).encode("ascii")


def wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format.lower() == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


MONEY_DECIMALS = 2  # money to the cent
SHARE_DECIMALS = 6  # weights and other shares


def csv_response(frame: pd.DataFrame, filename: str, *, decimals: dict[str, int] | None = None) -> Response:
    """`frame` as a CSV download; `decimals` rounds those columns to what they mean (money to the
    cent, shares to 6 digits) so that a file reads 0.4, not 0.4000000000000001."""
    buffer = io.StringIO()
    if decimals:
        frame = frame.round({column: places for column, places in decimals.items() if column in frame.columns})
    spreadsheet_safe(frame).to_csv(buffer, index=False)  # a name or reason never runs as a formula
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def reject_unknown_query(request: Request) -> None:
    """An app-wide dependency: a query parameter the route does not declare is a 422 naming it (a
    misspelt filter must not silently return everything)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = declared_query_names(dependant)
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise InputError([Problem("query", f"unknown query parameter (this endpoint takes: {allowed})", column=name)
                          for name in unknown])


async def uploaded_text(request: Request, *, file: str) -> bytes:
    """The bytes of an upload: the raw body (e.g. text/csv), or the one file of a
    multipart/form-data form (any field name; `file` names the upload in errors)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return await request.body()
    try:
        form = await request.form()
    except Exception as exc:  # noqa: BLE001 - python-multipart raises several types for a broken form
        raise InputError.single(file, f"not a readable multipart/form-data body: {exc}") from None
    uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    if len(uploads) != 1:
        raise InputError.single(file, f"a multipart/form-data upload needs exactly one file part (got {len(uploads)})")
    return await uploads[0].read()


def declared_query_names(dependant) -> set[str]:
    """The query parameter names a route and its dependencies declare."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= declared_query_names(sub)
    return names
