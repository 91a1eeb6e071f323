"""Service commands of `comptune`: load a dataset into the database, manage tokens, serve the API.

The database is the one named by COMPTUNE_DATABASE_URL (default: the SQLite file comptune.db in
the working directory). Every command says on stderr which database it uses, warns when it is about
to create a new, empty SQLite file (the usual sign of a command run from another folder), and
migrates the schema to head. `token create` prints the new token as its last line (it is stored
hashed: it cannot be shown again).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from api.auth import ROLES, check_role
from api.commands.common import EXIT_BAD_INPUT, fail_input
from api.settings import Settings
from models.limits import Name

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # a path or URL stays on one line
logger = logging.getLogger(__name__)

class TokenName(BaseModel):
    """A token's name, checked like every name (models/limits.py): it is stored and audited."""

    name: Name


token_app = typer.Typer(no_args_is_help=True, help="Create, list and revoke bearer tokens.")


def describe_database(url: str) -> str:
    """Where the database is, for a person: the SQLite file's absolute path, or the URL without
    its password; with a warning when the SQLite file does not exist yet."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return f"database: {parsed.render_as_string(hide_password=True)}"
    name = parsed.database or ""
    if name in ("", ":memory:"):
        return "database: in-memory SQLite (nothing is kept)"
    path = Path(name).expanduser().resolve()
    if path.exists():
        return f"database: {path}"
    return (f"database: {path} — [bold yellow]new and empty[/]: there is no database here yet, so this command "
            "creates one (run from the folder that holds your comptune.db, or set COMPTUNE_DATABASE_URL)")


def _session(settings: Settings):
    from api.db.session import make_engine, make_session_factory, migrate

    err_console.print(describe_database(settings.database_url), highlight=False)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    return engine, make_session_factory(engine)


def load(
    dataset_dir: Annotated[Path, typer.Argument(help="Dataset folder in the comptune format.")],
) -> None:
    """Load a dataset folder into the database (idempotent: the same content loads once)."""
    from api.db import store
    from models.errors import InputError

    settings = Settings()
    engine, sessions = _session(settings)
    try:
        with sessions() as session:
            try:
                outcome = store.load_dataset_folder(session=session, path=dataset_dir, actor="cli")
            except InputError as error:
                session.rollback()
                fail_input(error)
                raise typer.Exit(EXIT_BAD_INPUT)
            session.commit()
    finally:
        engine.dispose()
    verb = "loaded" if outcome.created else "already loaded"
    console.print(f"{verb} {outcome.name!r} from {dataset_dir} as dataset {outcome.dataset_id} "
                  f"(plan version in force: {outcome.plan_version}, {outcome.actuals} actuals rows)")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Who holds it (shown in the audit log); unique "
                                                "among all tokens. Default: ROLE-token, ROLE-token-2, …")] = None,
) -> None:
    """Create a token and print it as the last line (only its hash is stored)."""
    from api.db import store

    try:
        check_role(role)
        if name is not None:
            TokenName.model_validate({"name": name})
    except ValidationError as error:
        err_console.print(f"--name: {error.errors()[0]['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(EXIT_BAD_INPUT)
    except ValueError as error:
        err_console.print(str(error))
        raise typer.Exit(EXIT_BAD_INPUT)
    settings = Settings()
    engine, sessions = _session(settings)
    try:
        with sessions() as session:
            try:
                chosen = name if name is not None else store.unique_token_name(session=session, base=f"{role}-token")
                row, token = store.create_token(session=session, role=role, name=chosen)
            except store.Conflict as error:
                err_console.print(f"--name: {error}", highlight=False)
                raise typer.Exit(EXIT_BAD_INPUT)
            store.record(session=session, actor="cli", role="admin", action="token.create",
                         target=f"token:{row.id}", detail={"role": role, "name": row.name})
            session.commit()
    finally:
        engine.dispose()
    console.print(f"created {role} token {row.id} ({row.name}); keep it safe, it is not shown again:")
    print(token)


@token_app.command("ensure-admin")
def token_ensure_admin() -> None:
    """Create an admin token if there is none and print it with the URL of the API docs."""
    from api.db import store

    settings = Settings()
    engine, sessions = _session(settings)
    try:
        with sessions() as session:
            existing = store.active_tokens(session=session, role="admin")
            token = None
            if not existing:
                row, token = store.create_token(session=session, role="admin",
                                                name=store.unique_token_name(session=session, base="admin"))
                store.record(session=session, actor="cli", role="admin", action="token.create",
                             target=f"token:{row.id}", detail={"role": "admin", "name": row.name})
            session.commit()
    finally:
        engine.dispose()
    docs = f"{settings.public_url.rstrip('/')}/docs"
    console.print(f"workbench: {settings.public_url.rstrip('/')}/  (sign in with an admin, approver, analyst or viewer token)")
    if token is None:
        console.print(f"an admin token exists already ({existing[0].prefix}…, created "
                      f"{existing[0].created_at:%Y-%m-%d}); make another with `comptune token create --role admin`")
        console.print(f"interactive API docs: {docs}")
        return
    console.print(f"interactive API docs: {docs}  (Authorize with the admin token below)")
    print(token)


@token_app.command("list")
def token_list() -> None:
    """List tokens (id, prefix, name, role, created, revoked) — never the tokens themselves."""
    from api.db import store

    engine, sessions = _session(Settings())
    try:
        with sessions() as session:
            for row in store.list_tokens(session=session):
                revoked = f" revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else ""
                console.print(f"{row.id:>4}  {row.prefix}…  {row.role:<8} {row.name}  "
                              f"created {row.created_at:%Y-%m-%d %H:%M}{revoked}")
    finally:
        engine.dispose()


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="Token id (from `token list`).")]) -> None:
    """Revoke a token: it stops working at once."""
    from api.db import store

    engine, sessions = _session(Settings())
    try:
        with sessions() as session:
            try:
                store.revoke_token(session=session, token_id=token_id)
            except store.NotFound as error:
                err_console.print(str(error))
                raise typer.Exit(EXIT_BAD_INPUT)
            store.record(session=session, actor="cli", role="admin", action="token.revoke",
                         target=f"token:{token_id}", detail={})
            session.commit()
    finally:
        engine.dispose()
    console.print(f"revoked token {token_id}")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (FastAPI under /v1, docs at /docs) with uvicorn."""
    import uvicorn

    from api.db.session import migrate
    from api.main import create_app

    settings = Settings()
    err_console.print(describe_database(settings.database_url), highlight=False)
    migrate(settings.database_url)
    logging.getLogger("api").setLevel(logging.INFO)
    console.print(f"serving on http://{host}:{port} (workbench: http://{host}:{port}/, docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings), **uvicorn_options(settings), host=host, port=port, log_level=log_level,
                workers=1)


def uvicorn_options(settings: Settings) -> dict:
    """uvicorn's settings for the service (docs/service.md "Security"): a request that has not
    arrived within `request_read_timeout_s` closes its connection (uvicorn has no such deadline of
    its own: a client sending a byte every few seconds would hold a connection for ever), a kept-
    alive connection idle for `keep_alive_timeout_s` is closed, and the access log prints no token."""
    from api.middleware import read_timeout_protocol, scrub_access_log

    scrub_access_log()
    return {"http": read_timeout_protocol(settings.request_read_timeout_s),
            "timeout_keep_alive": settings.keep_alive_timeout_s}
