"""FastAPI dependencies in one place: settings, a database session per request, the caller.

`SessionDep` is one transaction per request: routes commit explicitly after their last write (the
audit entry included); anything raised before that rolls the whole request back. GET and HEAD
requests get a reader's session (api/db/session.py), which never waits for the write lock. `Viewer`,
`Analyst`, `Approver` and `Admin` authenticate the bearer token and check the role (401 without a
valid token, 403 with too small a role).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Iterator

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.alarms_cache import AlarmsCache
from api.answer_cache import AnswerCache
from api.auth import Principal
from api.db import store
from api.jobs import JobRunner
from api.settings import Settings


@dataclass
class Services:
    """What the app holds for its lifetime (on `app.state.services`)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    runner: JobRunner
    alarms: AlarmsCache = field(default_factory=AlarmsCache)
    read_session_factory: sessionmaker[Session] | None = None  # GET and HEAD (api/db/session.py)
    answers: AnswerCache = field(default_factory=lambda: AnswerCache(0))  # the app's holds answer_cache_mb


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


READ_METHODS = frozenset({"GET", "HEAD"})


def get_session(services: ServicesDep, request: Request) -> Iterator[Session]:
    """A session for the request: a reader's (no write lock on SQLite) for GET and HEAD, which never
    write, a writer's for the others."""
    factory = services.read_session_factory if request.method in READ_METHODS else None
    session = (factory or services.session_factory)()
    try:
        yield session
    finally:
        session.close()  # rolls back whatever was not committed


SessionDep = Annotated[Session, Depends(get_session)]

bearer = HTTPBearer(auto_error=False, description="A token from `comptune token create --role ROLE`.")


def current_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    row = store.find_token(session=session, token=credentials.credentials)
    if row is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked token",
                            headers={"WWW-Authenticate": "Bearer"})
    return Principal(name=row.name, role=row.role, token_id=row.id)


def requires(role: str):
    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role} role (yours is {principal.role})")
        return principal

    dependency.__name__ = f"requires_{role}"
    return dependency


Viewer = Annotated[Principal, Depends(requires("viewer"))]
Analyst = Annotated[Principal, Depends(requires("analyst"))]
Approver = Annotated[Principal, Depends(requires("approver"))]
Admin = Annotated[Principal, Depends(requires("admin"))]

