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
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable

from sqlalchemy.orm import Session, sessionmaker

from api.db import store
from api.db.tables import DatasetRow, JobRow
from api.serialize import frame_to_json, jsonable
from api.settings import Settings
from models.assumptions import parse_assumptions
from models.errors import InputError

if TYPE_CHECKING:  # the optimizer is imported by the handlers only, so the service starts fast
    from optimizer.alignment.recommend import Recommendation

logger = logging.getLogger(__name__)

REVIEW, BENCHMARK, SWEEP = "review", "benchmark", "sweep"


class JobFailed(RuntimeError):
    """A job that could not produce a result; the message becomes the job's `error`."""


JobHandler = Callable[[JobRow, sessionmaker, Settings], tuple[dict | None, dict | None]]


class JobRunner:
    """A bounded pool of worker threads running jobs stored in the database."""

    def __init__(self, *, session_factory: sessionmaker[Session], settings: Settings,
                 handlers: dict[str, JobHandler] | None = None):
        self.session_factory = session_factory
        self.settings = settings
        self.handlers = handlers or {REVIEW: run_review, BENCHMARK: run_benchmark, SWEEP: run_sweep_job}
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
        except (JobFailed, InputError, store.Conflict) as exc:
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
    options = SolveOptions(time_limit=job.time_limit_s)
    plan_result, plan_lp = review_plan_lp(job, dataset, assumptions, options, session_factory, settings)
    recommendation = recommend(dataset, assumptions, options=options,
                               in_force_only=bool(job.params.get("in_force_only", False)), plan_result=plan_result)
    if recommendation.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
        message = recommendation.message or recommendation.plan_result.message
        raise JobFailed(f"no usable recommendation: solver status {recommendation.status}"
                        + (f" ({message})" if message else ""))
    summary, result = review_outputs(recommendation, currency=dataset.company.currency)
    summary["plan_lp"] = result["plan_lp"] = plan_lp
    return summary, result


def review_plan_lp(job: JobRow, dataset: Any, assumptions: Any, options: Any, session_factory: sessionmaker,
                   settings: Settings) -> tuple[Any, dict]:
    """The review's plan LP, warm from the blocks stored for its dataset and plan version; stores the new ones.

    Returns the plan and `plan_lp` {seconds, warm, blocks_resolved, ...} for the review's result.
    """
    from optimizer.executor import open_executor
    from optimizer.parameters import effective_parameters
    from optimizer.plan.decompose import plan_for_review
    from optimizer.plan.results import in_force_for

    params = effective_parameters(dataset, assumptions)
    in_force = in_force_for(dataset.plan, params.open_periods)
    with session_factory() as session:
        warm = store.load_plan_warm_start(session=session, dataset_id=job.dataset_id, plan_version=job.plan_version)
    with open_executor(workers=settings.plan_workers) as executor:
        plan_result, warm_out, plan_lp = plan_for_review(
            params, in_force, options=options, warm=warm, executor=executor,
            min_orders=settings.plan_decompose_min_orders)
    logger.info("review %s plan LP: %s", job.id, plan_lp)
    if warm_out is not None:
        with session_factory() as session:
            store.save_plan_warm_start(session=session, dataset_id=job.dataset_id, plan_version=job.plan_version,
                                       warm=warm_out)
            session.commit()
    return plan_result, plan_lp


def run_sweep_job(job: JobRow, session_factory: sessionmaker, settings: Settings) -> tuple[dict, dict]:
    """A scenario sweep (optimizer/review/sweep.py) through the executor the settings name."""
    from models.sweep import parse_sweep
    from optimizer.executor import ExecutorError, open_executor
    from optimizer.review.sweep import run_sweep

    with session_factory() as session:
        dataset_row = session.get(DatasetRow, job.dataset_id)
        if dataset_row is None:
            raise JobFailed("the dataset of this sweep is gone")
        dataset = store.build_dataset(session=session, dataset=dataset_row, plan_version=job.plan_version)
        session.rollback()
    spec = parse_sweep(job.params["sweep"], dataset, file="sweep", max_scenarios=settings.max_sweep_scenarios)
    try:
        with open_executor(workers=settings.sweep_workers) as executor:
            result = run_sweep(dataset, spec, executor=executor, time_limit=job.time_limit_s)
    except ExecutorError as error:
        raise JobFailed(str(error)) from error
    payload = jsonable(result.to_json())
    summary = {k: payload[k] for k in ("name", "mode", "criterion", "n_scenarios", "seconds", "choice")}
    return summary, payload


def review_outputs(recommendation: Recommendation, *, currency: str) -> tuple[dict, dict]:
    """The stored summary (cheap status) and result (tables, explanation, the plan to accept)."""
    plan, plan_result = recommendation.plan, recommendation.plan_result
    if plan is None:
        raise JobFailed(f"no recommended plan (solver status {recommendation.status})")
    comparison = jsonable(recommendation.comparison.to_dict(orient="records"))
    by_plan = {row["plan"]: row for row in comparison}
    recommended, in_force = by_plan.get("recommended", {}), by_plan.get("in_force", {})
    effect: dict[str, float | None] = {}
    for key in ("margin", "revenue", "alignment_efficiency"):
        a, b = recommended.get(key), in_force.get(key)
        effect[key] = (a - b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
    slacks = jsonable(plan_result.slacks)
    binding = jsonable(plan_result.binding)
    summary = {
        "solver_status": recommendation.status, "currency": currency, "effect": effect,
        "comparison": comparison, "adjustments": len(recommendation.adjustments), "soft_slacks": slacks,
        "selected": recommendation.selected, "message": recommendation.message,
    }
    result = {
        "adjustments": frame_to_json(recommendation.adjustments),
        "weight_changes": frame_to_json(recommendation.weight_changes),
        "explanation": {
            "solver_status": plan_result.status,
            "binding": binding,
            "soft_slacks": slacks,
            "messages": [b["message"] for b in binding] + [s["message"] for s in slacks],
            "incentive_binding": list(recommendation.binding),
        },
        "alignment": jsonable(recommendation.alignment),
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
