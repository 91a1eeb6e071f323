"""Benchmarks: run `optimizer.bench.run_benchmark` as a job (one at a time), list, compare, cancel.

A benchmark runs on a synthetic instance no larger than the caller's role may ask for
(`Settings.benchmark_limits`; 422 naming the field and its limit) or on the loaded company. Only one
benchmark is queued or running at a time — a second gets 409 naming the one in progress — because
two runs on the same 2-core machine would distort each other's timings. Benchmarks are numbered on
their own (`benchmarks` table), apart from reviews.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import Field

from api.auth import Principal
from api.db import store
from api.db.tables import BenchmarkRow
from api.deps import Analyst, ServicesDep, SessionDep, Viewer
from api.jobs import BENCHMARK, LOADED
from api.quotas import check_job_quota
from api.routers.common import BAD_BODY, CONFLICT, ERRORS, NOT_FOUND, QUOTA, BenchmarkId, Offset
from api.schemas import BenchmarkComparisonPublic, BenchmarkCreate, BenchmarkPublic, BenchmarksPublic
from api.settings import Settings
from models.errors import InputError, Problem
from models.limits import MAX_ID

router = APIRouter(prefix="/v1/benchmarks", tags=["benchmarks"], responses=ERRORS)


def benchmark_public(job: BenchmarkRow) -> BenchmarkPublic:
    return BenchmarkPublic(id=job.id, status=job.status, params=job.params, created_by=job.created_by,
                           submitted_at=store.as_utc(job.submitted_at), started_at=store.as_utc(job.started_at),
                           finished_at=store.as_utc(job.finished_at), canceled_at=store.as_utc(job.canceled_at),
                           error=job.error, phase=job.phase, updated_at=store.as_utc(job.updated_at),
                           result=job.result)


def check_limits(body: BenchmarkCreate, principal: Principal, settings: Settings) -> None:
    """422 naming each field past the caller's role's limit; 403 for a role with no limits."""
    limits = settings.benchmark_limits.get(principal.role)
    if limits is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {principal.role} role may not run benchmarks "
                                                       "(COMPTUNE_BENCHMARK_LIMITS names none for it)")
    problems = []
    if body.dataset == LOADED:
        for name in ("reps", "products"):
            if getattr(body, name) is not None:
                problems.append(Problem("body", "leave it out with dataset 'loaded' (the loaded company's size)",
                                        column=name))
    else:
        for name in ("reps", "products"):
            if getattr(body, name) is None:
                problems.append(Problem("body", "required (or give dataset: loaded)", column=name))
    sizes = {"reps": body.reps, "products": body.products, "periods": body.periods, "markets": body.markets,
             "repeats": body.repeats}
    if body.dataset == LOADED:
        sizes = {"repeats": body.repeats}
    for name, value in sizes.items():
        limit = getattr(limits, name)
        if value is not None and value > limit:
            problems.append(Problem("body", f"at most {limit:,} for the {principal.role} role (got {value:,})",
                                    column=name))
    if body.dataset != LOADED and body.reps and body.products:
        orders = body.reps * body.products * body.periods
        if orders > limits.order_variables:
            problems.append(Problem("body", f"reps × products × periods = {orders:,} order variables; at most "
                                            f"{limits.order_variables:,} for the {principal.role} role",
                                    column="reps"))
    if problems:
        raise InputError(problems)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=BenchmarkPublic,
             responses={**BAD_BODY, **CONFLICT, **QUOTA})
def create_benchmark(principal: Analyst, session: SessionDep, services: ServicesDep,
                     body: BenchmarkCreate) -> BenchmarkPublic:
    """Queue a benchmark run (build, solve and re-solve times, sizes, iterations, the worker's peak
    memory). 409 while another benchmark is queued or running."""
    settings = services.settings
    check_limits(body, principal, settings)
    params = body.model_dump(exclude_none=True)
    if body.dataset == LOADED:
        params = {"dataset": LOADED, "dataset_id": store.current_dataset(session=session).id, "repeats": body.repeats}
    store.lock_kind(session=session, kind=BENCHMARK)
    active = store.active_job(session=session, kind=BENCHMARK)
    if active is not None:
        raise store.Conflict(f"benchmark {active.id} is {active.status}: benchmarks run one at a time "
                             f"(wait for it, or cancel it with POST /v1/benchmarks/{active.id}/cancel)")
    job = store.create_job(session=session, kind=BENCHMARK, created_by=principal.name,
                           time_limit_s=settings.benchmark_time_limit_s, params=params)
    check_job_quota(session=session, principal=principal, settings=settings, job=job)  # 429; nothing stored
    store.record(session=session, actor=principal.name, role=principal.role, action="benchmark.create",
                 target=f"benchmark:{job.id}", detail=params)
    session.commit()
    services.runner.submit(job.id)
    return benchmark_public(job)


@router.get("", response_model=BenchmarksPublic)
def read_benchmarks(principal: Viewer, session: SessionDep,
                    limit: int = Query(50, ge=1, le=500, description="Page size."),
                    offset: Offset = 0) -> BenchmarksPublic:
    """Stored benchmark runs, newest first."""
    rows, count = store.list_jobs(session=session, kind=BENCHMARK, limit=limit, offset=offset)
    return BenchmarksPublic(data=[benchmark_public(r) for r in rows], count=count)


COMPARED = ("variables", "constraints", "nonzeros", "build_s", "solve_s", "resolve_s", "iterations",
            "resolve_iterations", "objective", "peak_rss_mb", "build_solve_ratio", "resolve_ratio")


@router.get("/compare", response_model=BenchmarkComparisonPublic, responses={**NOT_FOUND, **CONFLICT})
def compare_benchmarks(
    principal: Viewer, session: SessionDep,
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Query(..., min_length=2, max_length=20,
                                                             description="Benchmark ids; the first is the baseline."),
) -> BenchmarkComparisonPublic:
    """Compare succeeded benchmarks side by side, with each figure's ratio to the first one's."""
    jobs = [store.get_job(session=session, job_id=i, kind=BENCHMARK) for i in ids]
    unfinished = [job.id for job in jobs if job.status != store.SUCCEEDED or not job.result]
    if unfinished:
        raise store.Conflict(f"benchmarks {unfinished} have no result (only succeeded runs compare)")
    base = jobs[0].result
    rows = []
    for job in jobs:
        figures = {k: job.result.get(k) for k in COMPARED}
        ratios = {k: (v / base[k]) if isinstance(v, (int, float)) and isinstance(base.get(k), (int, float))
                  and base[k] else None for k, v in figures.items()}
        rows.append({"id": job.id, "params": job.params, "figures": figures, "ratio_to_baseline": ratios})
    return BenchmarkComparisonPublic(baseline_id=jobs[0].id, data=rows)


@router.get("/{benchmark_id}", response_model=BenchmarkPublic, responses=NOT_FOUND)
def read_benchmark(principal: Viewer, session: SessionDep, benchmark_id: BenchmarkId) -> BenchmarkPublic:
    """One benchmark run and its result."""
    return benchmark_public(store.get_job(session=session, job_id=benchmark_id, kind=BENCHMARK))


@router.post("/{benchmark_id}/cancel", response_model=BenchmarkPublic, responses={**NOT_FOUND, **CONFLICT})
def cancel_benchmark(principal: Analyst, session: SessionDep, benchmark_id: BenchmarkId) -> BenchmarkPublic:
    """Cancel a queued or running benchmark: its worker and the worker's subprocesses are stopped
    within a second (409 when it has already finished)."""
    store.get_job(session=session, job_id=benchmark_id, kind=BENCHMARK)
    previous = store.cancel_job(session=session, job_id=benchmark_id, kind=BENCHMARK)
    store.record(session=session, actor=principal.name, role=principal.role, action="benchmark.cancel",
                 target=f"benchmark:{benchmark_id}", detail={"was": previous})
    session.commit()
    return benchmark_public(store.get_job(session=session, job_id=benchmark_id, kind=BENCHMARK))
