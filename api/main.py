"""The FastAPI application: assembles the routers, error handlers and the job runner.

`create_app(settings)` builds one app bound to one database; `comptune serve` runs it with
uvicorn. On startup the schema is migrated to head, jobs whose owner process is gone are marked
failed, and the job runner starts taking queued jobs (api/jobs.py).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Match, Mount

from api.answer_cache import AnswerCache
from api.db import store
from api.db.session import make_engine, make_read_session_factory, make_session_factory, migrate
from api.deps import Services
from api.jobs import JobRunner
from api.middleware import HeadAsGet, SecurityHeaders
from api.routers import (
    actuals, alarms, assumption_sets, audit, benchmarks, calibrations, corrections, exports, health, me, names, plans,
    replays, reviews, sweeps,
)
from api.routers.common import SafeJSONResponse, reject_unknown_query
from api.web import pages
from api.settings import Settings, get_settings
from models.errors import InputError, key_path

logger = logging.getLogger(__name__)

DESCRIPTION = """
The tactical review service of comptune: look at the alarms, re-plan under new market
assumptions, decide — once a month.

Authenticate with a bearer token (`comptune token create --role ROLE`; the **Authorize** button
above). Roles: viewer < analyst < approver < admin. Errors carry `detail` and, for bad input,
`errors` naming each field.
"""


def unique_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None, *, job_handlers: dict | None = None) -> FastAPI:
    """The app for `settings` (the environment's by default). `job_handlers` replaces the job
    kinds' handlers (review, benchmark) by importable "module:function" names — for tests of the
    job machinery only."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        migrate(settings.database_url)
        engine = make_engine(settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s)
        session_factory = make_session_factory(engine)
        runner = JobRunner(session_factory=session_factory, settings=settings, handlers=job_handlers)
        app.state.services = Services(settings=settings, engine=engine, session_factory=session_factory,
                                      runner=runner, read_session_factory=make_read_session_factory(engine),
                                      answers=AnswerCache(int(settings.answer_cache_mb * 1_000_000)))
        runner.start()
        try:
            yield
        finally:
            runner.shutdown(wait=False)
            engine.dispose()

    app = FastAPI(title="comptune", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  generate_unique_id_function=unique_id, docs_url=None, redoc_url=None,
                  default_response_class=SafeJSONResponse, dependencies=[Depends(reject_unknown_query)],
                  redirect_slashes=False)  # no redirect at all: none can be built from the Host header
    # outermost last: the security headers go on every answer, the refusals of the others included
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeadAsGet)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts, www_redirect=False)
    app.add_middleware(SecurityHeaders)
    for module in (health, me, names, assumption_sets, reviews, exports, plans, actuals, alarms, audit, benchmarks,
                   sweeps, calibrations, replays, corrections):
        app.include_router(module.router)
    pages.mount(app)  # the workbench at /, /docs and /static: every asset served from the package
    add_error_handlers(app)
    app.openapi = lambda: documented_errors(app)
    return app


def documented_errors(app: FastAPI) -> dict:
    """The OpenAPI document with the error bodies the service really sends: every 422 is an
    `ErrorPublic` ({detail, errors}), not FastAPI's `HTTPValidationError`."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    error_ref = {"$ref": "#/components/schemas/ErrorPublic"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422")
            if response is not None:
                response["content"] = {"application/json": {"schema": error_ref}}
                if response.get("description") == "Validation Error":
                    response["description"] = "Bad input (a parameter out of range or malformed); `errors` names each field."
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = schema
    return schema


# ---------------------------------------------------------------------------------------------
# Errors


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = [validation_problem(err) for err in exc.errors()]
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return SafeJSONResponse({"detail": "the body is not valid JSON", "errors": errors},
                                    status.HTTP_400_BAD_REQUEST)
        summary = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors[:5])
        return SafeJSONResponse({"detail": f"bad input: {summary}", "errors": errors},
                                status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        errors = [{"field": p.column, "message": p.message, "file": p.file, "line": p.line} for p in exc.problems]
        summary = "; ".join(f"{e['field'] or e['file']}: {e['message']}" for e in errors[:5])
        return SafeJSONResponse({"detail": f"bad input: {summary}", "errors": errors},
                                status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            # Starlette names only the methods of the first route matching the path; a path such as
            # /v1/reviews has a GET route and a POST route.
            headers["Allow"] = ", ".join(allowed_methods(app, request))
        return SafeJSONResponse({"detail": exc.detail, "errors": []}, exc.status_code, headers=headers or None)

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError):
        # SQLite's single writer: a write that waited the whole busy timeout for another writer
        # (a job storing its result) is told to come back, never answered 500
        if not is_locked(exc):
            raise exc
        logger.warning("database busy, answered 503: %s %s", request.method, request.url.path)
        return SafeJSONResponse({"detail": "the database is busy with another write; retry in a few seconds",
                                 "errors": []}, status.HTTP_503_SERVICE_UNAVAILABLE,
                                headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.exception_handler(store.NotFound)
    async def not_found(request: Request, exc: store.NotFound):
        return SafeJSONResponse({"detail": str(exc), "errors": []}, status.HTTP_404_NOT_FOUND)

    @app.exception_handler(store.Conflict)
    async def conflict(request: Request, exc: store.Conflict):
        return SafeJSONResponse({"detail": str(exc), "errors": []}, status.HTTP_409_CONFLICT)


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method a route of the app answers at the request's path (the pages and /docs
    included; static files are GET), HEAD wherever GET is."""
    methods: set[str] = set()
    # the path from the app's root (inside a mount, the request's scope has the mount's root_path)
    base = {"type": "http", "path": request.scope["path"], "root_path": "", "headers": [], "query_string": b""}
    for route in app.router.routes:
        if isinstance(route, Mount):
            if route.matches({**base, "method": "GET"})[0] is not Match.NONE:
                methods.add("GET")
            continue
        methods |= {m for m in METHODS if route.matches({**base, "method": m})[0] is Match.FULL}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


RETRY_AFTER_S = 2


def is_locked(exc: OperationalError) -> bool:
    """Whether `exc` is SQLite's "database is locked" / "database is busy" (a writer waited out
    its busy timeout)."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text


def validation_problem(err: dict) -> dict:
    """A pydantic error as {field, message, file}: the key path without pydantic's type tags."""
    loc = list(err.get("loc", ()))
    where = loc.pop(0) if loc and loc[0] in ("body", "query", "path", "header") else "body"
    path = key_path(loc)
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "json_invalid":
        message = f"not valid JSON: {err.get('ctx', {}).get('error', message)}"
        path = ""
    if err.get("type") == "extra_forbidden":
        message = "unknown key"
    return {"field": path or None, "message": message, "file": where, "line": None}


class BodySizeLimit:
    """Refuse bodies over `max_bytes` with 413 before the route reads them."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._too_large(send)
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await self._too_large(send)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _too_large(self, send):
        response = JSONResponse({"detail": f"request body larger than {self.max_bytes} bytes",
                                 "errors": [{"field": None, "message": "body too large", "file": "body",
                                             "line": None}]}, status.HTTP_413_CONTENT_TOO_LARGE)
        await response({"type": "http"}, None, send)


def app_from_env() -> FastAPI:  # pragma: no cover - uvicorn --factory entry point
    return create_app()
