"""Engine, sessions and schema migrations.

SQLite gets WAL journaling, a busy timeout and `BEGIN IMMEDIATE` transactions for writers: a
transaction that may write takes the write lock when it starts, so two concurrent writers queue
instead of failing half-way (and the optimistic check of a decision sees the winner's commit).
Readers never take it: a session from `make_read_session_factory` (the service's GET and HEAD
requests) begins a deferred transaction, which in WAL mode reads its snapshot while a writer —
a job storing a large result — holds the lock. PostgreSQL needs nothing special: its row locks
make the conditional UPDATE of a decision serialize, and its readers never wait for writers. `migrate` runs Alembic's `upgrade head`
programmatically; `comptune load` and `comptune serve` call it before touching the database.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_DIR = REPO_ROOT / "alembic"


def make_engine(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """An engine for `url`, tuned for SQLite's single-writer locking when the URL is SQLite: a
    writer waits up to `busy_timeout_s` for another writer's lock (then the service answers 503)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
            dbapi_connection.isolation_level = None  # let the "begin" hook below open transactions
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # pragma: no cover - driver hook
            # a reader's deferred BEGIN takes no lock; a writer's IMMEDIATE takes the write lock
            connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


READ_ONLY = "comptune_read_only"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for requests that only read: on SQLite their transactions are deferred (no write
    lock), so readers never queue behind a writer. Writing in one fails (SQLite may refuse to
    upgrade a reader whose snapshot is stale); the GET routes never write."""
    return sessionmaker(bind=engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (Alembic `upgrade head`)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
    logger.info("database schema is at head: %s", _safe(url))


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
