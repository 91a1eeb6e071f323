"""The service's tables (SQLAlchemy 2 declarative). Alembic migrations in `alembic/` create them.

A loaded dataset keeps its reference tables (products, markets, reps, funnel, rep_products, demand)
as the text cells of its files, so that a review rebuilds exactly the `Dataset` the loader
validated; actuals are rows (they are upserted one by one); plan versions are immutable and
numbered per dataset, and `datasets.plan_version` points at the one in force — the optimistic
version check of a decision is a conditional UPDATE of that pointer. Jobs (reviews in `jobs`, their
results in `job_results`; benchmarks in `benchmarks`, their own id sequence) keep their whole
lifecycle and their owner's lease here, so that any service process knows what another one runs.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, Index,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


Timestamp = DateTime(timezone=True)


class DatasetRow(Base):
    """A loaded dataset (one company). The current one is what the service works on."""

    __tablename__ = "datasets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    company: Mapped[dict] = mapped_column(JSON)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    plan_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    loaded_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class DatasetTableRow(Base):
    """One reference table of a dataset, as the text cells of its file ({columns, data})."""

    __tablename__ = "dataset_tables"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    content: Mapped[dict] = mapped_column(JSON)


class PlanVersionRow(Base):
    """An immutable, numbered plan version: components, curve and targets ({columns, data})."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version", name="uq_plan_versions_dataset_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    components: Mapped[dict] = mapped_column(JSON)
    curve: Mapped[dict] = mapped_column(JSON)
    targets: Mapped[dict] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(200))
    review_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class ActualRow(Base):
    """Actuals of one rep, product (or `*`) and closed period."""

    __tablename__ = "actuals"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    rep_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    period: Mapped[str] = mapped_column(String(50), primary_key=True)
    orders: Mapped[float] = mapped_column(Float, default=0.0)
    calls: Mapped[float] = mapped_column(Float, default=0.0)
    meetings: Mapped[float] = mapped_column(Float, default=0.0)
    quotes: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class AssumptionSetRow(Base):
    """An immutable market-assumption set, versioned along its parent chain."""

    __tablename__ = "assumption_sets"
    __table_args__ = (UniqueConstraint("dataset_id", "name", "version", name="uq_assumption_sets_dataset_name_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assumption_sets.id"), nullable=True)
    body: Mapped[dict] = mapped_column(JSON)
    diff: Mapped[list] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class JobFields:
    """What every job (review or benchmark) records: its lifecycle, its owner's lease, its progress.

    `owner` is the service process running it and `heartbeat_at` when that process last renewed
    its lease: a running job whose lease is older than `lease_ttl_s` lost its process (api/jobs.py).
    `phase`, `progress` (0–1) and `updated_at` are what the worker last reported while it ran.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict] = mapped_column(JSON)
    time_limit_s: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    canceled_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    phase: Mapped[str | None] = mapped_column(String(100), nullable=True)
    progress: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class JobRow(JobFields, Base):
    """A review job: queued → running → succeeded | failed | canceled.

    Its result (tables, explanation, the plan to accept: about 1.6 MB on the sample) lives in
    `job_results`, so that listings and status reads never read or parse it; `result` loads it
    on first access.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_kind_status", "kind", "status"),)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), nullable=True)
    assumption_set_id: Mapped[int | None] = mapped_column(ForeignKey("assumption_sets.id"), nullable=True)
    plan_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_row: Mapped["JobResultRow | None"] = relationship(lazy="select", uselist=False,
                                                             cascade="all, delete-orphan")

    @property
    def result(self) -> dict | None:
        return self.result_row.result if self.result_row is not None else None

    @result.setter
    def result(self, value: dict | None) -> None:
        if value is None:
            self.result_row = None
        elif self.result_row is None:
            self.result_row = JobResultRow(result=value)
        else:
            self.result_row.result = value


class JobResultRow(Base):
    """The full result of a succeeded review, apart from its job row."""

    __tablename__ = "job_results"
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    result: Mapped[dict] = mapped_column(JSON)


class BenchmarkRow(JobFields, Base):
    """A benchmark job, with its own id sequence; `result` is run_benchmark's figures (a small dict)."""

    __tablename__ = "benchmarks"
    __table_args__ = (Index("ix_benchmarks_status", "status"),)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class DecisionRow(Base):
    """The decision on a review's recommendation: one per review (the unique key makes it so)."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    plan_version: Mapped[int] = mapped_column(Integer)
    new_plan_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class TokenRow(Base):
    """A bearer token, stored as its SHA-256 hash (tokens are 256-bit random strings)."""

    __tablename__ = "tokens"
    # the audit log and the jobs name a token by its name: one token per name, revoked ones included
    __table_args__ = (UniqueConstraint("name", name="uq_tokens_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class AuditRow(Base):
    """Who did what, when: every write and every decision, in the same transaction as the write."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON)


class PlanBlockRow(Base):
    """The last solved state of one period block of a plan LP, per dataset and plan version, so that
    the next review (even after a restart) starts warm (optimizer/plan/decompose.py): the block's
    fingerprint, its simplex basis and, when taken at the stored horizon prices, its solution.
    Arrays are zlib-compressed numpy bytes. `plan_version` 0 stands for "no plan in force"."""

    __tablename__ = "plan_lp_blocks"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    plan_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(50), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    col_status: Mapped[bytes] = mapped_column(LargeBinary)
    row_status: Mapped[bytes] = mapped_column(LargeBinary)
    col_value: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    row_dual: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    prices: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
