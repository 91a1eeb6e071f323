"""Market-assumption sets: submit (immutable, versioned, diffed against the parent), list, read."""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.exceptions import RequestValidationError

from api.db import store
from api.db.tables import AssumptionSetRow
from api.deps import Analyst, SessionDep, Viewer
from api.routers.common import BAD_BODY, ERRORS, NO_DATASET, NOT_FOUND, AssumptionSetId, NameFilter, Offset, uploaded_text
from api.schemas import SOUTH_FREEZE, AssumptionSetCreate, AssumptionSetPublic, AssumptionSetsPublic
from models.assumptions import AssumptionSet, parse_assumptions
from models.errors import InputError
from models.limits import safe_yaml_load

router = APIRouter(prefix="/v1/assumption-sets", tags=["assumption-sets"], responses={**ERRORS, **NO_DATASET})

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
YAML_EXAMPLE = yaml.safe_dump(SOUTH_FREEZE, sort_keys=False)


def inline_refs(schema: dict) -> dict:
    """A pydantic JSON schema with its `$defs` substituted in place (for an OpenAPI request body)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node and node["$ref"].startswith("#/$defs/"):
                return walk(defs[node["$ref"].removeprefix("#/$defs/")])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return walk(schema)


BODY_SCHEMA = inline_refs(AssumptionSetCreate.model_json_schema(by_alias=True))
REQUEST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": BODY_SCHEMA, "example": SOUTH_FREEZE},
    "application/yaml": {"schema": BODY_SCHEMA, "example": YAML_EXAMPLE},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary", "description": "A YAML or JSON file."}}}},
}}}


async def assumption_set_body(request: Request) -> AssumptionSet:
    """The request's assumption set, sent as JSON, as YAML (`application/yaml`, the format of the
    dataset's assumption files) or as a YAML/JSON file in a multipart form; errors name the key."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    raw_bytes = await uploaded_text(request, file="body")
    if not raw_bytes.strip():
        raise InputError.single("body", "the body is empty: send an assumption set (name, adjustments)")
    try:
        text = raw_bytes.decode("utf-8")
        if content_type in YAML_TYPES or content_type.startswith("multipart/"):
            raw = safe_yaml_load(text, file="body")  # JSON is valid YAML, so a JSON file uploads too; size and aliases bounded
        elif content_type in ("application/json", "text/json") or content_type.endswith("+json"):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:  # the service's answer to broken JSON everywhere: 400
                raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                               "ctx": {"error": exc.msg}}]) from None
        else:
            raise InputError.single("body", f"unsupported content type {content_type!r}: send application/json, "
                                            "application/yaml or a multipart/form-data file")
    except UnicodeDecodeError:
        raise InputError.single("body", "the body is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise InputError.single("body", f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise InputError.single("body", "an assumption set is a mapping with name and adjustments")
    return parse_assumptions(raw, file="body")


def assumption_set_public(row: AssumptionSetRow) -> AssumptionSetPublic:
    return AssumptionSetPublic(id=row.id, name=row.name, version=row.version, parent_id=row.parent_id,
                               body=row.body, diff=row.diff, created_by=row.created_by,
                               created_at=store.as_utc(row.created_at))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AssumptionSetPublic, responses=BAD_BODY,
             openapi_extra=REQUEST_BODY)
def create_assumption_set(principal: Analyst, session: SessionDep,
                          assumptions: Annotated[AssumptionSet, Depends(assumption_set_body)]) -> AssumptionSetPublic:
    """Submit a market-assumption set — JSON, YAML (`Content-Type: application/yaml`) or a file in a
    multipart form; every id in every scope must exist in the dataset."""
    dataset_row = store.current_dataset(session=session)
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
