"""What one caller may ask of the job runner: the largest time limit of its role, and a quota of
queued and running jobs per token (reviews, sweeps, calibrations and benchmarks together).

A request over the time limit is a 422 naming `time_limit_s` and the role's cap; one job past the
quota is a 429 with `Retry-After`, naming the jobs the caller holds. The quota is counted after the
new job is written (flushed) and before the request commits, under a lock per caller on PostgreSQL
(SQLite holds its write lock from the insert on), so that concurrent requests of one token cannot
all pass a count taken before any of them wrote: a refused request rolls its job back.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db import store
from api.settings import Settings
from models.errors import InputError


def time_limit_for(requested: float | None, *, principal: Principal, settings: Settings) -> float:
    """The job's per-solve time limit: the request's, or the service default (within the role's cap)."""
    cap = settings.time_limit_cap(principal.role)
    if requested is None:
        return min(settings.default_time_limit_s, cap)
    if requested > cap:
        raise InputError.single("body", f"at most {cap:g} seconds for the {principal.role} role "
                                        f"(COMPTUNE_ROLE_TIME_LIMITS, COMPTUNE_MAX_TIME_LIMIT_S)",
                                column="time_limit_s")
    return requested


def check_job_quota(*, session: Session, principal: Principal, settings: Settings, job) -> None:
    """429 when the caller, with the new `job` (flushed, not committed), holds more queued and running
    jobs than its role's quota; the new job is then rolled back."""
    quota = settings.job_quota.get(principal.role, 0)
    store.lock_submitter(session=session, name=principal.name)
    held = [(kind, i) for kind, i in store.active_jobs_of(session=session, created_by=principal.name)
            if (kind, i) != (job.kind, job.id)]
    if len(held) < quota:
        return
    session.rollback()
    listed = ", ".join(f"{kind} {job_id}" for kind, job_id in held[:10]) + (" …" if len(held) > 10 else "")
    raise HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"{principal.name} holds {len(held)} queued or running jobs ({listed or 'none'}); the {principal.role} role may "
        f"hold at most {quota} at once (COMPTUNE_JOB_QUOTA): wait for one to finish, or cancel one",
        headers={"Retry-After": str(settings.quota_retry_after_s)})
