"""Who am I: the caller's token name and role, so that a client (the workbench) can show what the
role may do before it tries."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import ROLE_RANK, ROLES
from api.deps import Viewer
from api.routers.common import ERRORS

router = APIRouter(prefix="/v1", tags=["session"], responses=ERRORS)


class MePublic(BaseModel):
    name: str = Field(..., description="Name of the token.")
    role: str = Field(..., description="viewer, analyst, approver or admin.")
    sees_pay: bool = Field(..., description="Whether pay figures are shown to this role.")
    may: list[str] = Field(..., description="The roles this token acts as (its own and those below it).")


@router.get("/me", response_model=MePublic)
def read_me(principal: Viewer) -> MePublic:
    """The caller's token: name, role and whether it sees pay figures (401 for a revoked token)."""
    return MePublic(name=principal.name, role=principal.role, sees_pay=principal.sees_pay,
                    may=[r for r in ROLES if ROLE_RANK[r] <= ROLE_RANK[principal.role]])
