"""Jobs: reviews and benchmarks run in a bounded worker pool, outside the request, state in the database.

Lifecycle: `queued` (stored by the request that submits it) → `running` (a worker took it) →
`succeeded` | `failed` | `canceled`, each with its timestamp. Every transition is a conditional
UPDATE on the job's current status, so a cancel and a worker racing each other cannot both win: a
queued job canceled before a worker takes it never starts; a running job canceled meanwhile keeps
`canceled` and its result is dropped when the solve returns (a HiGHS solve cannot be interrupted
from outside; the per-request time limit bounds it). A solver failure is a failed job with its
reason, never an HTTP error on GET.

After a restart, `recover()` marks every job left `running` as failed ("interrupted: ...") and
queues the `queued` ones again. One service process should own a database (uvicorn's default of
one process; the pool gives the concurrency).
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from api.db import store
from api.db.tables import DatasetRow, JobRow
from api.settings import Settings
from models.assumptions import parse_assumptions
from models.errors import InputError

logger = logging.getLogger(__name__)

REVIEW, BENCHMARK = "review", "benchmark"


class JobFailed(RuntimeError):
    """A job that could not produce a result; the message becomes the job's `error`."""


JobHandler = Callable[[JobRow, sessionmaker, Settings], tuple[dict | None, dict | None]]


class JobRunner:
    """A bounded pool of worker threads running jobs stored in the database."""

    def __init__(self, *, session_factory: sessionmaker[Session], settings: Settings,
                 handlers: dict[str, JobHandler] | None = None):
        self.session_factory = session_factory
        self.settings = settings
        self.handlers = handlers or {REVIEW: run_review, BENCHMARK: run_benchmark}
        self.executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="comptune-job")
        self.futures: dict[int, Future] = {}

    def recover(self) -> list[int]:
        """Fail the jobs a previous process left running; queue again the ones still queued."""
        with self.session_factory() as session:
            failed = store.fail_interrupted_jobs(session=session)
            for job_id in failed:
                store.record(session=session, actor="service", role="admin", action="job.interrupted",
                             target=f"job:{job_id}", detail={"error": store.INTERRUPTED})
            queued = store.queued_job_ids(session=session)
            session.commit()
        if failed:
            logger.warning("marked %d interrupted job(s) failed: %s", len(failed), failed)
        for job_id in queued:
            self.submit(job_id)
        return failed

    def submit(self, job_id: int) -> None:
        """Run a stored, queued job in the pool (call after its creation has been committed)."""
        self.futures[job_id] = self.executor.submit(self._run, job_id)

    def wait(self, job_id: int, timeout: float | None = None) -> None:
        """Block until the job's worker returns (tests and the command line)."""
        future = self.futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self, *, wait: bool = False) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=True)

    def _run(self, job_id: int) -> None:
        try:
            self._execute(job_id)
        except Exception:  # the worker must survive anything; the job is failed below if it can be
            logger.exception("job %s: unexpected error outside the handler", job_id)
        finally:
            self.futures.pop(job_id, None)

    def _execute(self, job_id: int) -> None:
        with self.session_factory() as session:
            if not store.mark_running(session=session, job_id=job_id):
                session.rollback()
                return  # canceled (or taken) before it started
            session.commit()
            job = store.get_job(session=session, job_id=job_id)
        started = time.perf_counter()
        summary = result = error = None
        try:
            handler = self.handlers[job.kind]
            summary, result = handler(job, self.session_factory, self.settings)
            status = store.SUCCEEDED
        except (JobFailed, InputError) as exc:
            status, error = store.FAILED, str(exc)
        except Exception as exc:
            logger.exception("job %s failed", job_id)
            status, error = store.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - started
        with self.session_factory() as session:
            if store.finish_job(session=session, job_id=job_id, status=status, summary=jsonable(summary),
                                result=jsonable(result), error=error):
                store.record(session=session, actor="service", role="admin", action=f"{job.kind}.{status}",
                             target=f"{job.kind}:{job_id}",
                             detail={"seconds": round(elapsed, 3), **({"error": error} if error else {})})
                session.commit()
                logger.info("%s %s %s in %.2f s", job.kind, job_id, status, elapsed)
            else:
                session.rollback()
                logger.info("%s %s was canceled while running; result dropped", job.kind, job_id)


# ---------------------------------------------------------------------------------------------
# Handlers


def run_review(job: JobRow, session_factory: sessionmaker, settings: Settings) -> tuple[dict, dict]:
    """The tactical review (§4.6) of the plan version the review was submitted against."""
    from optimizer.alignment.estimate import estimate_recommendation
    from optimizer.alignment.recommend import recommend
    from optimizer.solve import FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions

    with session_factory() as session:
        dataset_row = session.get(DatasetRow, job.dataset_id)
        if dataset_row is None:
            raise JobFailed("the dataset of this review is gone")
        dataset = store.build_dataset(session=session, dataset=dataset_row, plan_version=job.plan_version)
        body = store.get_assumption_set(session=session, set_id=job.assumption_set_id).body
        session.rollback()  # release the database before the long solve
    assumptions = parse_assumptions(body)
    assumptions.check_against(dataset)
    too_large = estimate_recommendation(dataset).over(memory_bytes=settings.max_review_memory_gb * 1e9,
                                                      seconds=settings.max_review_seconds)
    if too_large:  # fail now, with the amounts, rather than be killed after an hour
        raise JobFailed(too_large)
    options = SolveOptions(time_limit=job.time_limit_s)
    recommendation = recommend(dataset, assumptions, options=options,
                               in_force_only=bool(job.params.get("in_force_only", False)))
    if recommendation.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
        message = recommendation.message or getattr(recommendation.plan_result, "message", "") or ""
        raise JobFailed(f"no usable recommendation: solver status {recommendation.status}"
                        + (f" ({message})" if message else ""))
    return review_outputs(recommendation, currency=dataset.company.currency)


def review_outputs(recommendation: Any, *, currency: str) -> tuple[dict, dict]:
    """The stored summary (cheap status) and result (tables, explanation, the plan to accept)."""
    from api.db.store import frame_to_json

    comparison = jsonable(recommendation.comparison.to_dict(orient="records"))
    by_plan = {row.get("plan"): row for row in comparison}
    recommended, in_force = by_plan.get("recommended"), by_plan.get("in_force")
    effect: dict[str, float | None] = {}
    for key in ("margin", "revenue", "alignment_efficiency"):
        a = (recommended or {}).get(key)
        b = (in_force or {}).get(key)
        effect[key] = (a - b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
    plan_result = recommendation.plan_result
    slacks = list(getattr(plan_result, "slacks", []) or [])
    summary = {
        "solver_status": recommendation.status, "currency": currency, "effect": effect,
        "comparison": comparison, "adjustments": int(len(recommendation.adjustments)), "soft_slacks": slacks,
        "selected": str(getattr(recommendation, "selected", "") or ""),
        "message": str(getattr(recommendation, "message", "") or ""),
    }
    plan = recommendation.plan
    result = {
        "adjustments": frame_to_json(recommendation.adjustments),
        "weight_changes": frame_to_json(recommendation.weight_changes),
        "explanation": {
            "solver_status": getattr(plan_result, "status", recommendation.status),
            "binding": list(getattr(plan_result, "binding", []) or []),
            "soft_slacks": slacks,
            "messages": [str(b.get("message", b)) for b in getattr(plan_result, "binding", []) or []]
            + [str(sl.get("message", sl)) for sl in slacks],
            "incentive_binding": [str(b) for b in (recommendation.binding or [])],
        },
        "alignment": getattr(recommendation, "alignment", None),
        "recommended_plan": {
            "components": frame_to_json(plan.components[["component_id", "metric", "products", "weight"]]),
            "curve": frame_to_json(plan.curve[["attainment", "payout"]]),
            "targets": frame_to_json(plan.targets[["rep_id", "component_id", "period", "target"]]),
        },
    }
    return summary, result


def run_benchmark(job: JobRow, session_factory: sessionmaker, settings: Settings) -> tuple[None, dict]:
    """A solver benchmark on a synthetic instance (optimizer.bench.run_benchmark)."""
    try:
        from optimizer.bench import run_benchmark as bench
    except ImportError as exc:
        raise JobFailed(f"benchmarks are not available in this build: {exc}") from None
    params = {k: v for k, v in job.params.items() if k in ("reps", "products", "periods", "markets", "seed", "repeats")}
    return None, bench(**params)


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, non-finite floats as null, frames as records."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return jsonable(value.to_dict(orient="records"))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
