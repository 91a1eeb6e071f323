"""Persistence behind small keyword-only functions: the only place that reads or writes tables.

Routes and jobs call these with an open `Session` and commit themselves, so that a write and its
audit entry land in one transaction (or neither does). Domain errors are raised as `NotFound`,
`Conflict` and `NoDataset` (the routes turn them into 404, 409 and 409) or as the loaders'
`InputError` (422 with the field named).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from api.db.tables import (
    ActualRow, AssumptionSetRow, AuditRow, BenchmarkRow, DatasetRow, DatasetTableRow, DecisionRow, JobResultRow,
    JobRow, PlanBlockRow, PlanVersionRow, TokenRow, utcnow,
)
from api.serialize import frame_from_json, frame_to_json
from models.assumptions import AssumptionSet, parse_assumptions
from models.dataset import DATASET_FILES, Dataset, Plan, dataset_from_tables, read_tables
from models.errors import InputError, Problem
from models.limits import MAX_ID

logger = logging.getLogger(__name__)

ACTUAL_COLUMNS = ("rep_id", "product_id", "period", "orders", "calls", "meetings", "quotes")
ACTUAL_MEASURES = ("orders", "calls", "meetings", "quotes")

REVIEW, BENCHMARK, SWEEP, CALIBRATION = "review", "benchmark", "sweep", "calibration"
REPLAY, CORRECTION = "replay", "correction"  # issue 18: a plan year replayed, the correction system
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED = "queued", "running", "succeeded", "failed", "canceled"
JOB_STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED)
TERMINAL = (SUCCEEDED, FAILED, CANCELED)
INTERRUPTED = "interrupted: the service stopped while the job was running; submit it again"
JOB_TABLES = {REVIEW: JobRow, BENCHMARK: BenchmarkRow, SWEEP: JobRow, CALIBRATION: JobRow,  # all but benchmarks
              REPLAY: JobRow, CORRECTION: JobRow}                                             # share `jobs`


class NotFound(LookupError):
    """A resource named by the request does not exist (HTTP 404)."""


class Conflict(RuntimeError):
    """The request contradicts the current state, e.g. a stale plan version (HTTP 409)."""


class NoDataset(Conflict):
    """No dataset has been loaded yet (`comptune load DATASET`)."""


# --------------------------------------------------------------------------------------------
# Times


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------------------------
# Datasets


def current_dataset(*, session: Session) -> DatasetRow:
    """The dataset the service works on; NoDataset before the first `comptune load`."""
    row = session.scalars(select(DatasetRow).where(DatasetRow.is_current.is_(True))).first()
    if row is None:
        raise NoDataset("no dataset is loaded: run `comptune load DATASET` first")
    return row


def tables_hash(tables: dict[str, object]) -> str:
    """A content hash of raw dataset tables (the idempotency key of `comptune load`)."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        table = tables[name]
        digest.update(name.encode())
        if isinstance(table, pd.DataFrame):
            digest.update(json.dumps(frame_to_json(table), sort_keys=True, default=str).encode())
        else:
            digest.update(json.dumps(table, sort_keys=True, default=str).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class LoadOutcome:
    dataset_id: int
    created: bool
    plan_version: int | None
    actuals: int
    name: str


def load_dataset_folder(*, session: Session, path: str | Path, actor: str = "cli") -> LoadOutcome:
    """Validate a dataset folder and store it as the current dataset; loading it again is a no-op."""
    tables = read_tables(path)
    dataset = dataset_from_tables(tables, source=str(path))  # raises InputError before any write
    content_hash = tables_hash(tables)
    existing = session.scalars(select(DatasetRow).where(DatasetRow.content_hash == content_hash)).first()
    if existing is not None:
        if not existing.is_current:
            session.execute(update(DatasetRow).values(is_current=False))
            existing.is_current = True
            record(session=session, actor=actor, role="admin", action="dataset.select",
                   target=f"dataset:{existing.id}", detail={"source": str(path)})
        count = session.scalar(select(func.count()).select_from(ActualRow).where(ActualRow.dataset_id == existing.id))
        return LoadOutcome(existing.id, False, existing.plan_version, int(count or 0), existing.name)
    session.execute(update(DatasetRow).values(is_current=False))
    row = DatasetRow(name=dataset.company.name, source=str(path), content_hash=content_hash,
                     company=dict(tables["company.yaml"]), is_current=True, plan_version=None)
    session.add(row)
    session.flush()
    for name in DATASET_FILES:
        session.add(DatasetTableRow(dataset_id=row.id, name=name, content=frame_to_json(tables[name])))
    if dataset.plan is not None:
        create_plan_version(session=session, dataset_id=row.id, version=1, plan=dataset.plan,
                            origin=f"loaded from {path}"[:200], review_id=None, created_by=actor)
        row.plan_version = 1
    if len(dataset.actuals):
        upsert_actuals(session=session, dataset_id=row.id, rows=dataset.actuals.to_dict(orient="records"))
    record(session=session, actor=actor, role="admin", action="dataset.load", target=f"dataset:{row.id}",
           detail={"source": str(path), "name": row.name, "plan_version": row.plan_version,
                   "actuals": len(dataset.actuals), "content_hash": content_hash})
    session.flush()
    return LoadOutcome(row.id, True, row.plan_version, len(dataset.actuals), row.name)


_TABLES_CACHE: OrderedDict[str, dict[str, pd.DataFrame]] = OrderedDict()
_TABLES_CACHE_SIZE = 2
_TABLES_LOCK = threading.Lock()


def dataset_tables(*, session: Session, dataset: DatasetRow) -> dict[str, object]:
    """The stored reference tables of a dataset (no plan, no actuals), keyed like the files.

    A dataset's tables never change once loaded (another content is another dataset), so the
    decoded frames of the last two are kept by content hash: a review's adjustments, read again
    and again by the pages, no longer decode every table twice per request (0.55 s of GIL time at
    300 reps). Each caller gets its own copies."""
    key = dataset.content_hash
    with _TABLES_LOCK:
        cached = _TABLES_CACHE.get(key)
        if cached is not None:
            _TABLES_CACHE.move_to_end(key)
    if cached is None:
        cached = {row.name: frame_from_json(row.content) for row in session.scalars(
            select(DatasetTableRow).where(DatasetTableRow.dataset_id == dataset.id))}
        with _TABLES_LOCK:
            _TABLES_CACHE[key] = cached
            while len(_TABLES_CACHE) > _TABLES_CACHE_SIZE:
                _TABLES_CACHE.popitem(last=False)
    tables: dict[str, object] = {"company.yaml": dict(dataset.company)}
    tables.update({name: frame.copy() for name, frame in cached.items()})
    return tables


def build_dataset(*, session: Session, dataset: DatasetRow, plan_version: int | None = None,
                  with_actuals: bool = True, overrides: dict[str, pd.DataFrame] | None = None) -> Dataset:
    """Rebuild a validated `Dataset` from the database: tables + a plan version + current actuals.

    `plan_version` defaults to the plan in force. `overrides` replaces stored reference tables (a
    calibration's funnel.csv and rep_products.csv), validated like the rest.
    """
    tables = dataset_tables(session=session, dataset=dataset)
    tables.update(overrides or {})
    version = dataset.plan_version if plan_version is None else plan_version
    if version is not None:
        plan = get_plan_version(session=session, dataset_id=dataset.id, version=version)
        tables["plan/components.csv"] = frame_from_json(plan.components)
        tables["plan/curve.csv"] = frame_from_json(plan.curve)
        tables["plan/targets.csv"] = frame_from_json(plan.targets)
    if with_actuals:
        tables["actuals.csv"] = actuals_frame(session=session, dataset_id=dataset.id)
    return _revalidated(tables, dataset)


def reference_dataset(*, session: Session, dataset: DatasetRow) -> Dataset:
    """The dataset's ids and periods (no plan, no actuals): what an assumption's scope may name."""
    return _revalidated(dataset_tables(session=session, dataset=dataset), dataset)


def _revalidated(tables: dict[str, object], dataset: DatasetRow) -> Dataset:
    """Stored tables validated again; data stored before today's checks that fails them is a
    Conflict (409: load a corrected dataset), not an error of the request that reads it."""
    try:
        return dataset_from_tables(tables, source=f"database dataset {dataset.id}")
    except InputError as error:
        raise Conflict(f"the stored dataset {dataset.id} does not pass the input checks any more; load a "
                       f"corrected dataset with `comptune load`: {error}") from None


# --------------------------------------------------------------------------------------------
# Plan versions


def create_plan_version(*, session: Session, dataset_id: int, version: int, plan: Plan, origin: str,
                        review_id: int | None, created_by: str) -> PlanVersionRow:
    row = PlanVersionRow(
        dataset_id=dataset_id, version=version,
        components=frame_to_json(plan.components[["component_id", "metric", "products", "weight"]]),
        curve=frame_to_json(plan.curve[["attainment", "payout"]]),
        targets=frame_to_json(plan.targets[["rep_id", "component_id", "period", "target"]]),
        origin=origin, review_id=review_id, created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def without_targets(query, with_targets: bool):
    """`query` of plan versions, leaving out the targets (one row per rep, component and period:
    thousands of cells to decode) unless asked for; reading them later loads them then."""
    return query if with_targets else query.options(defer(PlanVersionRow.targets))


def get_plan_version(*, session: Session, dataset_id: int, version: int, with_targets: bool = True) -> PlanVersionRow:
    row = session.scalars(without_targets(select(PlanVersionRow).where(
        PlanVersionRow.dataset_id == dataset_id, PlanVersionRow.version == version), with_targets)).first()
    if row is None:
        raise NotFound(f"no plan version {version}")
    return row


def list_plan_versions(*, session: Session, dataset_id: int, with_targets: bool = True) -> list[PlanVersionRow]:
    return list(session.scalars(without_targets(select(PlanVersionRow).where(PlanVersionRow.dataset_id == dataset_id)
                                                .order_by(PlanVersionRow.version), with_targets)))


def baseline_plan_version(*, session: Session, dataset: DatasetRow) -> int | None:
    """The plan-year baseline the change limit counts from: the plan version loaded with the dataset
    (its first version), so that repeated reviews cannot walk the weights past the limit."""
    versions = list_plan_versions(session=session, dataset_id=dataset.id)
    return versions[0].version if versions else None


def switch_plan_in_force(*, session: Session, dataset_id: int, expected: int | None, new: int) -> bool:
    """Make `new` the plan in force only if `expected` still is (the optimistic version check)."""
    condition = DatasetRow.plan_version.is_(None) if expected is None else DatasetRow.plan_version == expected
    result = session.execute(update(DatasetRow).where(DatasetRow.id == dataset_id, condition)
                             .values(plan_version=new))
    return result.rowcount == 1


# --------------------------------------------------------------------------------------------
# Actuals


def actuals_frame(*, session: Session, dataset_id: int) -> pd.DataFrame:
    rows = session.execute(select(*[getattr(ActualRow, c) for c in ACTUAL_COLUMNS])
                           .where(ActualRow.dataset_id == dataset_id)).all()
    frame = pd.DataFrame(rows, columns=list(ACTUAL_COLUMNS))
    for c in ACTUAL_MEASURES:
        frame[c] = frame[c].astype(float)
    return frame


def reps_with_actuals(*, session: Session, dataset_id: int, periods: list[str]) -> dict[str, set[str]]:
    """For each of `periods`, the reps that have at least one actuals row in it."""
    out: dict[str, set[str]] = {period: set() for period in periods}
    for rep_id, period in session.execute(select(ActualRow.rep_id, ActualRow.period).distinct()
                                          .where(ActualRow.dataset_id == dataset_id, ActualRow.period.in_(periods))):
        out[period].add(rep_id)
    return out


def upsert_actuals(*, session: Session, dataset_id: int, rows: Iterable[dict]) -> dict[str, int]:
    """Insert or update actuals by (rep, product, period); identical rows are left alone.

    Returns counts of inserted, updated and unchanged rows. Rows must already be validated.
    """
    incoming: dict[tuple, dict] = {}
    for r in rows:
        key = (str(r["rep_id"]), str(r["product_id"]), str(r["period"]))
        incoming[key] = {m: float(r.get(m) or 0.0) for m in ACTUAL_MEASURES}
    if not incoming:
        return {"inserted": 0, "updated": 0, "unchanged": 0}
    periods = sorted({k[2] for k in incoming})
    existing = {
        (r.rep_id, r.product_id, r.period): {m: getattr(r, m) for m in ACTUAL_MEASURES}
        for r in session.execute(select(ActualRow).where(ActualRow.dataset_id == dataset_id,
                                                         ActualRow.period.in_(periods))).scalars()
    }
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    changed = []
    now = utcnow()
    for key, values in incoming.items():
        old = existing.get(key)
        if old is None:
            counts["inserted"] += 1
        elif all(abs(old[m] - values[m]) <= 1e-12 for m in ACTUAL_MEASURES):
            counts["unchanged"] += 1
            continue
        else:
            counts["updated"] += 1
        changed.append({"dataset_id": dataset_id, "rep_id": key[0], "product_id": key[1], "period": key[2],
                        **values, "updated_at": now})
    if changed:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(ActualRow)
        stmt = stmt.on_conflict_do_update(
            index_elements=["dataset_id", "rep_id", "product_id", "period"],
            set_={m: getattr(stmt.excluded, m) for m in (*ACTUAL_MEASURES, "updated_at")},
        )
        session.connection().execute(stmt, changed)  # executemany: one compiled statement
    return counts


def set_current_period(*, session: Session, dataset: DatasetRow, period: str) -> None:
    """Close the periods up to `period` (the company's `current_period` moves forward only)."""
    company = dict(dataset.company)
    company["current_period"] = period
    dataset.company = company
    session.flush()


# --------------------------------------------------------------------------------------------
# Assumption sets


ASSUMPTION_SET_ATTEMPTS = 20


def create_assumption_set(*, session: Session, dataset_id: int, assumptions: AssumptionSet,
                          created_by: str) -> AssumptionSetRow:
    """Store a new immutable set. Its parent is the one it names (an id or a name, meaning that
    name's newest version) or, when it names none, the newest set with the same name.

    (dataset, name, version) is unique: when a concurrent request stored the same version first,
    the parent and version are worked out again (a savepoint keeps the caller's transaction), up to
    ASSUMPTION_SET_ATTEMPTS times; then `Conflict` (409)."""
    for _ in range(ASSUMPTION_SET_ATTEMPTS):
        try:
            with session.begin_nested():
                return _insert_assumption_set(session=session, dataset_id=dataset_id, assumptions=assumptions,
                                              created_by=created_by)
        except IntegrityError:
            logger.info("assumption set %r: a concurrent request took the version; trying again", assumptions.name)
    raise Conflict(f"assumption set {assumptions.name!r}: too many concurrent versions; try again")


def _insert_assumption_set(*, session: Session, dataset_id: int, assumptions: AssumptionSet,
                           created_by: str) -> AssumptionSetRow:
    parent = None
    if assumptions.parent is not None:
        parent = _resolve_parent(session=session, dataset_id=dataset_id, ref=assumptions.parent)
    else:
        parent = session.scalars(select(AssumptionSetRow).where(
            AssumptionSetRow.dataset_id == dataset_id, AssumptionSetRow.name == assumptions.name)
            .order_by(AssumptionSetRow.version.desc())).first()
    body = assumption_body(assumptions)
    if parent is not None:
        body["parent"] = parent.id
    diff = diff_assumptions(parent.body if parent is not None else None, body)
    row = AssumptionSetRow(dataset_id=dataset_id, name=assumptions.name,
                           version=(parent.version + 1) if parent is not None else 1,
                           parent_id=parent.id if parent is not None else None, body=body, diff=diff,
                           created_by=created_by)
    session.add(row)
    session.flush()
    return row


def live_review_assumptions(*, session: Session, dataset_id: int, kind: str) -> list[tuple[int, AssumptionSet]]:
    """(job id, its assumption set) of the dataset's queued, running and succeeded jobs of `kind`,
    newest first. A stored body that no longer parses is logged and left out (stored data must not
    fail a request)."""
    rows = session.execute(
        select(JobRow.id, AssumptionSetRow.id, AssumptionSetRow.body)
        .join(AssumptionSetRow, JobRow.assumption_set_id == AssumptionSetRow.id)
        .where(JobRow.kind == kind, JobRow.dataset_id == dataset_id, JobRow.status.in_((QUEUED, RUNNING, SUCCEEDED)))
        .order_by(JobRow.id.desc())).all()
    out = []
    for job_id, set_id, body in rows:
        try:
            out.append((job_id, parse_assumptions(body, file=f"assumption set {set_id}")))
        except InputError as error:
            logger.warning("stored assumption set %s no longer parses, left out: %s", set_id, error)
    return out


def assumption_body(assumptions: AssumptionSet) -> dict:
    body = assumptions.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    body["adjustments"] = [adj for adj in body.get("adjustments", [])]
    body.setdefault("adjustments", [])
    return body


def _resolve_parent(*, session: Session, dataset_id: int, ref: str | int) -> AssumptionSetRow:
    query = select(AssumptionSetRow).where(AssumptionSetRow.dataset_id == dataset_id)
    if isinstance(ref, int) or (str(ref).isdigit() and int(ref) <= MAX_ID):  # a longer digit string is a name
        row = session.scalars(query.where(AssumptionSetRow.id == int(ref))).first()
    else:
        row = session.scalars(query.where(AssumptionSetRow.name == str(ref))
                              .order_by(AssumptionSetRow.version.desc())).first()
    if row is None:
        raise InputError([Problem("assumption set", f"no assumption set {ref!r} to be the parent", column="parent")])
    return row


def diff_assumptions(old: dict | None, new: dict) -> list[dict]:
    """What changed from the parent: one entry per added, removed or changed key path."""
    if old is None:
        return [{"op": "added", "path": f"adjustments[{i}]", "old": None, "new": adj}
                for i, adj in enumerate(new.get("adjustments", []))]
    out: list[dict] = []
    if old.get("name") != new.get("name"):
        out.append({"op": "changed", "path": "name", "old": old.get("name"), "new": new.get("name")})
    before, after = old.get("adjustments", []), new.get("adjustments", [])
    for i in range(max(len(before), len(after))):
        path = f"adjustments[{i}]"
        if i >= len(before):
            out.append({"op": "added", "path": path, "old": None, "new": after[i]})
        elif i >= len(after):
            out.append({"op": "removed", "path": path, "old": before[i], "new": None})
        else:
            for key in sorted(set(before[i]) | set(after[i])):
                if before[i].get(key) != after[i].get(key):
                    out.append({"op": "changed", "path": f"{path}.{key}", "old": before[i].get(key),
                                "new": after[i].get(key)})
    return out


def get_assumption_set(*, session: Session, set_id: int) -> AssumptionSetRow:
    row = session.get(AssumptionSetRow, set_id)
    if row is None:
        raise NotFound(f"no assumption set {set_id}")
    return row


def list_assumption_sets(*, session: Session, dataset_id: int, name: str | None = None,
                         limit: int = 100, offset: int = 0) -> tuple[list[AssumptionSetRow], int]:
    query = select(AssumptionSetRow).where(AssumptionSetRow.dataset_id == dataset_id)
    if name is not None:
        query = query.where(AssumptionSetRow.name == name)
    count = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(AssumptionSetRow.id).limit(limit).offset(offset))
    return list(rows), int(count or 0)


# --------------------------------------------------------------------------------------------
# Jobs
#
# Reviews, sweeps and calibrations live in `jobs` (their results in `job_results`; the `kind` column tells them
# apart), benchmarks in `benchmarks`; all share the lifecycle columns, so every function here takes
# the job's `kind` and selects only rows of that kind. Each transition is a
# conditional UPDATE on the current status (and, for a running job, on its owner).


def job_table(kind: str) -> type[JobRow] | type[BenchmarkRow]:
    try:
        return JOB_TABLES[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}") from None


def _of_kind(table, kind: str):
    """The condition that selects the rows of one job kind in its table."""
    return table.kind == kind


def create_job(*, session: Session, kind: str, created_by: str, time_limit_s: float, params: dict,
               dataset_id: int | None = None, assumption_set_id: int | None = None,
               plan_version: int | None = None) -> JobRow | BenchmarkRow:
    if job_table(kind) is JobRow:
        row = JobRow(kind=kind, status=QUEUED, created_by=created_by, time_limit_s=time_limit_s, params=params,
                     dataset_id=dataset_id, assumption_set_id=assumption_set_id, plan_version=plan_version)
    else:
        row = job_table(kind)(kind=kind, status=QUEUED, created_by=created_by, time_limit_s=time_limit_s,
                              params=params)
    session.add(row)
    session.flush()
    return row


def get_job(*, session: Session, job_id: int, kind: str = REVIEW) -> JobRow | BenchmarkRow:
    row = session.get(job_table(kind), job_id)
    if row is None or row.kind != kind:
        raise NotFound(f"no {kind} {job_id}")
    return row


def list_jobs(*, session: Session, kind: str, status: str | None = None, limit: int = 100,
              offset: int = 0) -> tuple[list[JobRow | BenchmarkRow], int]:
    """A page of jobs, newest first, and the total count. A review's result is not read (it is in
    `job_results`); a benchmark's is a small dict and is."""
    table = job_table(kind)
    query = select(table).where(_of_kind(table, kind))
    if status is not None:
        query = query.where(table.status == status)
    count = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(table.id.desc()).limit(limit).offset(offset))
    return list(rows), int(count or 0)


def active_job(*, session: Session, kind: str) -> JobRow | BenchmarkRow | None:
    """The oldest queued or running job of a kind, if any."""
    table = job_table(kind)
    return session.scalars(select(table).where(_of_kind(table, kind), table.status.in_((QUEUED, RUNNING))).order_by(table.id)).first()


def lock_kind(*, session: Session, kind: str) -> None:
    """Serialize writers of one job kind until the transaction ends (SQLite: BEGIN IMMEDIATE did)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x636F6D70 + len(kind)})


def lock_submitter(*, session: Session, name: str) -> None:
    """Serialize one caller's job submissions until the transaction ends (PostgreSQL; SQLite's
    write lock, held from the first insert, does it there)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"submitter:{name}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def active_jobs_of(*, session: Session, created_by: str) -> list[tuple[str, int]]:
    """(kind, id) of every queued or running job `created_by` submitted, of every kind, oldest first."""
    rows = []
    for table in (JobRow, BenchmarkRow):
        rows += session.execute(select(table.kind, table.id, table.submitted_at).where(
            table.created_by == created_by, table.status.in_((QUEUED, RUNNING)))).all()
    return [(kind, i) for kind, i, _ in sorted(rows, key=lambda r: (as_utc(r[2]), r[1]))]


def mark_running(*, session: Session, job_id: int, kind: str = REVIEW, owner: str | None = None) -> bool:
    """queued → running, owned by `owner` with a fresh lease; False when it was canceled or taken."""
    table = job_table(kind)
    now = utcnow()
    result = session.execute(update(table).where(table.id == job_id, table.status == QUEUED)
                             .values(status=RUNNING, started_at=now, owner=owner, heartbeat_at=now,
                                     updated_at=now))
    return result.rowcount == 1


def finish_job(*, session: Session, job_id: int, status: str, summary: dict | None = None,
               result: dict | None = None, error: str | None = None, kind: str = REVIEW,
               owner: str | None = None) -> bool:
    """running → a terminal status; False when the job was canceled, or is no longer `owner`'s
    (its lease expired and another process failed it), while it ran: the result is dropped."""
    table = job_table(kind)
    condition = [table.id == job_id, table.status == RUNNING]
    if owner is not None:
        condition.append(table.owner == owner)
    now = utcnow()
    values = dict(status=status, finished_at=now, summary=summary, error=error, updated_at=now)
    if status == SUCCEEDED:
        values["progress"] = 1.0
    if table is not JobRow:
        values["result"] = result
    outcome = session.execute(update(table).where(*condition).values(**values))
    if outcome.rowcount != 1:
        return False
    if table is JobRow and result is not None:
        session.add(JobResultRow(job_id=job_id, result=result))
    return True


def report_progress(*, session: Session, job_id: int, kind: str, owner: str | None, phase: str,
                    progress: float | None) -> bool:
    """What a running job's worker is doing now; False when the job is no longer its to run."""
    table = job_table(kind)
    condition = [table.id == job_id, table.status == RUNNING]
    if owner is not None:
        condition.append(table.owner == owner)
    outcome = session.execute(update(table).where(*condition)
                              .values(phase=phase[:100], progress=progress, updated_at=utcnow()))
    return outcome.rowcount == 1


def cancel_job(*, session: Session, job_id: int, kind: str = REVIEW) -> str:
    """Cancel a queued or running job; returns the status it was canceled from. Conflict otherwise.
    The process running it sees `canceled` within its poll interval and stops the worker."""
    table = job_table(kind)
    for previous in (QUEUED, RUNNING):
        outcome = session.execute(update(table).where(table.id == job_id, table.status == previous)
                                  .values(status=CANCELED, canceled_at=utcnow(), finished_at=utcnow(),
                                          error="canceled on request"))
        if outcome.rowcount == 1:
            return previous
    job = session.get(table, job_id)
    raise Conflict(f"the {kind} is already {job.status if job else 'gone'}; only queued or running jobs can be canceled")


def renew_leases(*, session: Session, owner: str) -> int:
    """The owner's heartbeat: every job it runs gets a fresh lease. Returns how many it runs."""
    renewed = 0
    now = utcnow()
    for table in set(JOB_TABLES.values()):
        renewed += session.execute(update(table).where(table.owner == owner, table.status == RUNNING)
                                   .values(heartbeat_at=now)).rowcount
    return renewed


def fail_expired_jobs(*, session: Session, lease_ttl_s: float, error: str | None = None) -> list[tuple[str, int]]:
    """Fail every running job whose owner has not renewed its lease for `lease_ttl_s` (its process
    is gone); jobs of live processes are not touched. Returns (kind, id) of the failed ones."""
    cutoff = utcnow() - timedelta(seconds=lease_ttl_s)
    failed = []
    for kind, table in JOB_TABLES.items():
        expired = _of_kind(table, kind) & (table.status == RUNNING) & (table.heartbeat_at.is_(None) | (table.heartbeat_at < cutoff))
        ids = list(session.scalars(select(table.id).where(expired)))
        if ids:
            outcome = session.execute(update(table).where(table.id.in_(ids), expired)
                                      .values(status=FAILED, finished_at=utcnow(), updated_at=utcnow(),
                                              error=error or INTERRUPTED))
            if outcome.rowcount != len(ids):  # renewed meanwhile: only report what was failed
                ids = [i for i in ids if session.get(table, i, populate_existing=True).status == FAILED]
        failed += [(kind, i) for i in ids]
    return failed


def queued_jobs(*, session: Session) -> list[tuple[str, int]]:
    """(kind, id) of every queued job, oldest submission first."""
    rows = []
    for kind, table in JOB_TABLES.items():
        rows += [(submitted, kind, i) for i, submitted in
                 session.execute(select(table.id, table.submitted_at).where(_of_kind(table, kind), table.status == QUEUED))]
    return [(kind, i) for _, kind, i in sorted(rows, key=lambda r: (as_utc(r[0]), r[1], r[2]))]


def job_statuses(*, session: Session, kind: str, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """id → (status, owner) of the given jobs."""
    table = job_table(kind)
    ids = list(ids)
    if not ids:
        return {}
    return {i: (status, owner) for i, status, owner in
            session.execute(select(table.id, table.status, table.owner).where(table.id.in_(ids)))}


def job_counts(*, session: Session) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for kind, table in JOB_TABLES.items():
        for status, count in session.execute(select(table.status, func.count()).where(_of_kind(table, kind))
                                             .group_by(table.status)):
            out.setdefault(kind, {})[status] = int(count)
    return out


# --------------------------------------------------------------------------------------------
# Decisions


def get_decision(*, session: Session, review_id: int) -> DecisionRow | None:
    return session.scalars(select(DecisionRow).where(DecisionRow.review_id == review_id)).first()


def decisions_for(*, session: Session, review_ids: Iterable[int]) -> dict[int, DecisionRow]:
    """review id → its decision, for a page of reviews in one query."""
    ids = list(review_ids)
    if not ids:
        return {}
    return {row.review_id: row for row in session.scalars(select(DecisionRow).where(DecisionRow.review_id.in_(ids)))}


def decide(*, session: Session, review: JobRow, dataset: DatasetRow, decision: str, reason: str,
           plan_version: int, actor: str) -> DecisionRow:
    """Record a decision; accepting makes the recommendation the plan in force as a new version.

    Exactly one of two concurrent decisions on the same plan version wins: the plan pointer moves
    only `WHERE plan_version = :expected`, and a review takes one decision (unique key).
    """
    if review.status != SUCCEEDED:
        raise Conflict(f"review {review.id} is {review.status}; only a succeeded review can be decided")
    if get_decision(session=session, review_id=review.id) is not None:
        raise Conflict(f"review {review.id} has already been decided")
    if plan_version != dataset.plan_version:
        raise Conflict(f"plan version {plan_version} is not in force (version {dataset.plan_version} is)")
    new_version = None
    if decision == "accept":
        if review.plan_version != plan_version:
            raise Conflict(f"the recommendation was computed against plan version {review.plan_version}; "
                           f"version {plan_version} is in force now: run a new review")
        recommended = (review.result or {}).get("recommended_plan")
        if not recommended:
            raise Conflict(f"review {review.id} has no recommended plan to accept")
        closed = periods_closed_since(session=session, review=review, dataset=dataset)
        if closed:
            raise Conflict(closed)
        new_version = (session.scalar(select(func.max(PlanVersionRow.version))
                                      .where(PlanVersionRow.dataset_id == dataset.id)) or 0) + 1
        if not switch_plan_in_force(session=session, dataset_id=dataset.id, expected=plan_version, new=new_version):
            raise Conflict(f"plan version {plan_version} is no longer in force")
        session.add(PlanVersionRow(dataset_id=dataset.id, version=new_version,
                                   components=recommended["components"], curve=recommended["curve"],
                                   targets=recommended["targets"], origin=f"review {review.id} accepted",
                                   review_id=review.id, created_by=actor))
    row = DecisionRow(review_id=review.id, decision=decision, reason=reason, plan_version=plan_version,
                      new_plan_version=new_version, decided_by=actor)
    session.add(row)
    session.flush()  # unique keys (decision per review, plan version number) are checked here
    return row


def closed_periods(company: dict, current: object) -> list[str]:
    """The periods up to `current` (none when it is None), in the company's order."""
    periods = [str(p) for p in company["periods"]]
    return periods[: periods.index(str(current)) + 1] if current is not None and str(current) in periods else []


def periods_closed_since(*, session: Session, review: JobRow, dataset: DatasetRow) -> str | None:
    """Why accepting `review` would change the targets of a month that has closed since it was
    computed — a retroactive pay change (DESIGN.md §3: closed periods are never re-planned) — or None.

    A review records the `current_period` it planned from (its result; its params when it has not
    run). An older review without it is refused when its recommended targets differ from the plan in
    force in a period closed now."""
    closed = closed_periods(dataset.company, dataset.company.get("current_period"))
    if not closed:
        return None
    result = review.result or {}
    missing = object()
    basis = result.get("current_period", (review.params or {}).get("current_period", missing))
    if basis is not missing:
        before = set(closed_periods(dataset.company, basis))
        since = [p for p in closed if p not in before]
        if not since:
            return None
        return (f"period{'s' if len(since) > 1 else ''} {', '.join(since)} closed since review {review.id} was "
                f"computed (it planned from current_period {basis!r}): accepting it would change the targets of "
                "a closed month, a retroactive pay change; run a new review")
    recommended = frame_from_json(result["recommended_plan"]["targets"])
    in_force = frame_from_json(get_plan_version(session=session, dataset_id=dataset.id,
                                                version=dataset.plan_version).targets)
    key = ["rep_id", "component_id", "period"]
    both = recommended[recommended["period"].astype(str).isin(closed)].merge(
        in_force[in_force["period"].astype(str).isin(closed)], on=key, how="outer", suffixes=("", "_in_force"))
    changed = both[~np.isclose(both["target"].fillna(-1.0), both["target_in_force"].fillna(-1.0), rtol=1e-9, atol=1e-9)]
    since = [p for p in closed if p in set(changed["period"].astype(str))]
    if not since:
        return None
    return (f"review {review.id} changes the targets of closed period{'s' if len(since) > 1 else ''} "
            f"{', '.join(since)} (closed since it was computed): accepting it would be a retroactive pay change; "
            "run a new review")


# --------------------------------------------------------------------------------------------
# Tokens


TOKEN_PREFIX = "ct_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, session: Session, role: str, name: str) -> tuple[TokenRow, str]:
    """A new random bearer token; only its hash is stored, so the caller shows it once.

    Names are unique among all tokens, revoked ones included (a unique key): the audit log, the
    jobs' `created_by` and the per-caller job quota name the token by it. Conflict when it is taken."""
    taken = session.scalars(select(TokenRow).where(TokenRow.name == name)).first()
    if taken is not None:
        raise Conflict(f"a token named {name!r} exists already (token {taken.id}, {taken.role}"
                       f"{', revoked' if taken.revoked_at else ''}); token names are unique: choose another")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = TokenRow(token_hash=hash_token(token), prefix=token[:10], name=name, role=role)
    session.add(row)
    session.flush()
    return row, token


def unique_token_name(*, session: Session, base: str) -> str:
    """`base`, or `base-2`, `base-3`, … : the first name no token has (for names a command derives)."""
    taken = set(session.scalars(select(TokenRow.name).where(TokenRow.name.startswith(base, autoescape=True))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def find_token(*, session: Session, token: str) -> TokenRow | None:
    row = session.scalars(select(TokenRow).where(TokenRow.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row


def list_tokens(*, session: Session) -> list[TokenRow]:
    return list(session.scalars(select(TokenRow).order_by(TokenRow.id)))


def revoke_token(*, session: Session, token_id: int) -> TokenRow:
    row = session.get(TokenRow, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    row.revoked_at = row.revoked_at or utcnow()
    return row


def active_tokens(*, session: Session, role: str) -> list[TokenRow]:
    return list(session.scalars(select(TokenRow).where(TokenRow.role == role, TokenRow.revoked_at.is_(None))))


# --------------------------------------------------------------------------------------------
# Audit


def record(*, session: Session, actor: str, role: str, action: str, target: str, detail: dict | None = None) -> None:
    """Append an audit entry in the caller's transaction."""
    session.add(AuditRow(actor=actor, role=role, action=action, target=target, detail=detail or {}))


def list_audit(*, session: Session, action: str | None = None, actor: str | None = None, limit: int = 100,
               offset: int = 0) -> tuple[list[AuditRow], int]:
    query = select(AuditRow)
    if action is not None:
        query = query.where(AuditRow.action == action)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    count = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(AuditRow.id.desc()).limit(limit).offset(offset))
    return list(rows), int(count or 0)


# --------------------------------------------------------------------------------------------
# Plan LP blocks: what the next review of the same plan version starts warm from


def _pack(array: np.ndarray) -> bytes:
    """dtype tag (8 bytes) + raw array, compressed."""
    array = np.ascontiguousarray(array)
    return zlib.compress(array.dtype.str.encode().ljust(8) + array.tobytes(), 1)


def _unpack(blob: bytes) -> np.ndarray:
    raw = zlib.decompress(blob)
    return np.frombuffer(raw[8:], dtype=np.dtype(raw[:8].decode().strip())).copy()


def load_plan_warm_start(*, session: Session, dataset_id: int, plan_version: int | None):
    """The stored block bases (and answers) of a dataset's plan version, or None if there are none."""
    from optimizer.plan.decompose import BlockBasis, PlanWarmStart  # local: the solver stack loads on demand

    rows = session.scalars(select(PlanBlockRow).where(PlanBlockRow.dataset_id == dataset_id,
                                                      PlanBlockRow.plan_version == (plan_version or 0))).all()
    if not rows:
        return None
    warm = PlanWarmStart(fingerprints={}, bases={}, prices=np.asarray(rows[0].prices, dtype=float))
    for row in rows:
        warm.fingerprints[row.period] = row.fingerprint
        warm.bases[row.period] = BlockBasis(col_status=_unpack(row.col_status), row_status=_unpack(row.row_status))
        if row.col_value is not None and row.row_dual is not None:
            warm.solutions[row.period] = (_unpack(row.col_value), _unpack(row.row_dual))
    return warm


def save_plan_warm_start(*, session: Session, dataset_id: int, plan_version: int | None, warm) -> int:
    """Replace the stored blocks of a dataset's plan version with `warm` (a PlanWarmStart); rows written."""
    version = plan_version or 0
    session.query(PlanBlockRow).filter(PlanBlockRow.dataset_id == dataset_id,
                                       PlanBlockRow.plan_version == version).delete()
    prices = [float(p) for p in (warm.prices if warm.prices is not None else [])]
    for period, basis in warm.bases.items():
        answer = warm.solutions.get(period)
        session.add(PlanBlockRow(
            dataset_id=dataset_id, plan_version=version, period=period,
            fingerprint=warm.fingerprints.get(period, ""), col_status=_pack(basis.col_status),
            row_status=_pack(basis.row_status), col_value=_pack(answer[0]) if answer else None,
            row_dual=_pack(answer[1]) if answer else None, prices=prices,
        ))
    return len(warm.bases)
