"""The audit log: who did what, when."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.db import store
from api.deps import Approver, SessionDep
from api.routers.common import ERRORS, NameFilter, Offset
from api.schemas import AuditEntryPublic, AuditPublic

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERRORS)


@router.get("", response_model=AuditPublic)
def read_audit(
    principal: Approver, session: SessionDep,
    action: NameFilter = Query(None, description="Only this action, e.g. decision.accept."),
    actor: NameFilter = Query(None, description="Only this actor (token name)."),
    limit: int = Query(100, ge=1, le=1000, description="Page size."),
    offset: Offset = 0,
) -> AuditPublic:
    """Audit entries, newest first (approver and admin)."""
    rows, count = store.list_audit(session=session, action=action, actor=actor, limit=limit, offset=offset)
    return AuditPublic(data=[AuditEntryPublic(id=r.id, at=store.as_utc(r.at), actor=r.actor, role=r.role,
                                              action=r.action, target=r.target, detail=r.detail) for r in rows],
                       count=count)
