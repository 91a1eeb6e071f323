"""Benchmarks: run `optimizer.bench.run_benchmark` on a synthetic instance as a job; list results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import Field

from api.db import store
from api.db.tables import JobRow
from api.deps import Analyst, ServicesDep, SessionDep, Viewer
from api.jobs import BENCHMARK
from api.routers.common import BAD_BODY, ERRORS, NOT_FOUND, BenchmarkId, Offset
from api.schemas import BenchmarkComparisonPublic, BenchmarkCreate, BenchmarkPublic, BenchmarksPublic
from models.limits import MAX_ID

router = APIRouter(prefix="/v1/benchmarks", tags=["benchmarks"], responses=ERRORS)


def benchmark_public(job: JobRow) -> BenchmarkPublic:
    return BenchmarkPublic(id=job.id, status=job.status, params=job.params, created_by=job.created_by,
                           submitted_at=store.as_utc(job.submitted_at), started_at=store.as_utc(job.started_at),
                           finished_at=store.as_utc(job.finished_at), error=job.error, result=job.result)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=BenchmarkPublic, responses=BAD_BODY)
def create_benchmark(principal: Analyst, session: SessionDep, services: ServicesDep,
                     body: BenchmarkCreate) -> BenchmarkPublic:
    """Queue a benchmark run (build, solve and re-solve times, sizes, iterations)."""
    job = store.create_job(session=session, kind=BENCHMARK, created_by=principal.name,
                           time_limit_s=services.settings.max_time_limit_s, params=body.model_dump())
    store.record(session=session, actor=principal.name, role=principal.role, action="benchmark.create",
                 target=f"benchmark:{job.id}", detail=body.model_dump())
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


@router.get("/compare", response_model=BenchmarkComparisonPublic, responses=NOT_FOUND)
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
