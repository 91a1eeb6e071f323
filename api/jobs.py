"""Jobs: reviews and benchmarks run in worker processes, owned by the service process that started them.

Lifecycle: `queued` (stored by the request that submits it) → `running` (a service process claimed
it) → `succeeded` | `failed` | `canceled`, each with its timestamp. Every transition is a
conditional UPDATE on the job's current status, so a cancel and a worker racing each other cannot
both win, and two service processes cannot both claim one job.

**Ownership.** Each `JobRunner` (one per service process) has an owner id. Claiming a queued job
writes that id and a heartbeat into the job; the runner renews the heartbeat of every job it runs
every `heartbeat_s`. A running job whose heartbeat is older than `lease_ttl_s` lost its process
(killed, crashed, machine gone): any runner — at start-up and then periodically — marks it failed
("interrupted: …"). A second `comptune serve` on the same database therefore leaves the first
one's running jobs alone, and both take queued jobs. A worker stores its result only while the job
is still running *and* still its owner's, so a result can only be dropped for a job that was
canceled or whose lease had already expired — and that is logged.

**Workers.** A job runs in its own process (`python -m api.worker`), not in a server thread: the
solves hold no lock the requests need, and the server answers while two reviews run. The worker
is niced, leads its own process group (so that its own children, e.g. a benchmark's paths, are
stopped with it) and dies with the service (`PR_SET_PDEATHSIG`). The runner's dispatcher thread
starts workers up to `workers` at once, and stops a worker's whole group when its job is canceled,
when it passes its wall-clock limit (benchmarks: `benchmark_time_limit_s`; reviews:
`review_wall_factor` × the per-solve `time_limit_s`; plus `job_grace_s`) or when its processes
hold more than `job_memory_limit_mb`. The worker reports its phase and progress (0–1) through a
callback, written to the job at most twice a second. A worker that dies without storing an outcome
fails its job with its exit status.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from api.db import store
from api.db.store import BENCHMARK, CALIBRATION, CORRECTION, REPLAY, REVIEW, SWEEP
from api.db.tables import BenchmarkRow, DatasetRow, JobRow
from api.serialize import frame_to_json, jsonable
from api.settings import Settings
from models.assumptions import parse_assumptions
from models.errors import InputError

if TYPE_CHECKING:  # the optimizer is imported by the handlers only, so the service starts fast
    from optimizer.alignment.recommend import Recommendation

logger = logging.getLogger(__name__)

Progress = Callable[[str, float | None], None]
JobHandler = Callable[[Any, sessionmaker, Settings, Progress], tuple[dict | None, dict | None]]
HANDLERS = {REVIEW: "api.jobs:run_review", BENCHMARK: "api.jobs:run_benchmark", SWEEP: "api.jobs:run_sweep_job",
            CALIBRATION: "api.jobs:run_calibration", REPLAY: "api.replay_jobs:run_replay_job",
            CORRECTION: "api.replay_jobs:run_correction_job"}
PROGRESS_INTERVAL_S = 0.5  # at most two progress writes a second per job
STOP_GRACE_S = 5.0  # SIGTERM, then SIGKILL this much later


class JobFailed(RuntimeError):
    """A job that could not produce a result; the message becomes the job's `error`."""


def handler_path(handler: str | Callable) -> str:
    """A handler as "module:function", importable in the worker process."""
    if isinstance(handler, str):
        return handler
    return f"{handler.__module__}:{handler.__qualname__}"


def load_handler(path: str) -> JobHandler:
    import importlib

    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


@dataclass
class Worker:
    """A running job's worker process, as its owner's dispatcher sees it."""

    kind: str
    job_id: int
    process: subprocess.Popen
    deadline: float  # time.monotonic() past which the job is stopped
    time_limit_s: float
    log: IO[bytes]
    started: float = field(default_factory=time.monotonic)
    stop_reason: str | None = None  # why the dispatcher stopped it (error of the job), None if not
    killed_at: float | None = None
    peak_memory_mb: float = 0.0


class JobRunner:
    """Claims queued jobs, runs each in a worker process, and keeps the leases of those it runs."""

    def __init__(self, *, session_factory: sessionmaker[Session], settings: Settings,
                 handlers: dict[str, str | Callable] | None = None):
        self.session_factory = session_factory
        self.settings = settings
        self.handlers = {kind: handler_path(h) for kind, h in {**HANDLERS, **(handlers or {})}.items()}
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.workers: dict[tuple[str, int], Worker] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_heartbeat = 0.0
        self._next_expiry = 0.0

    # -- the service's side --------------------------------------------------------------------

    def start(self) -> list[tuple[str, int]]:
        """Fail the jobs whose owner is gone, then start dispatching (queued jobs included)."""
        failed = self.recover()
        self._thread = threading.Thread(target=self._loop, name="comptune-jobs", daemon=True)
        self._thread.start()
        return failed

    def recover(self) -> list[tuple[str, int]]:
        """Mark failed every running job whose owner's lease expired; jobs of live owners stay."""
        with self.session_factory() as session:
            failed = store.fail_expired_jobs(session=session, lease_ttl_s=self.settings.lease_ttl_s)
            for kind, job_id in failed:
                store.record(session=session, actor="service", role="admin", action="job.interrupted",
                             target=f"{kind}:{job_id}", detail={"error": store.INTERRUPTED})
            session.commit()
        if failed:
            logger.warning("marked %d interrupted job(s) failed (their owner's lease expired): %s", len(failed), failed)
        return failed

    def submit(self, job_id: int | None = None) -> None:
        """A job was queued (and committed): look for work now rather than at the next poll."""
        self._wake.set()

    def wait(self, job_id: int, timeout: float | None = None, *, kind: str = REVIEW) -> str:
        """Block until the job is in a terminal status and no worker of this runner holds it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self.session_factory() as session:
                status = store.get_job(session=session, job_id=job_id, kind=kind).status
            if status in store.TERMINAL and (kind, job_id) not in self.workers:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{kind} {job_id} is still {status}")
            time.sleep(0.05)

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop dispatching, stop the workers, and fail their jobs as interrupted (no lease to expire)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for worker in list(self.workers.values()):
            self._signal(worker, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in list(self.workers.values()):
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(worker, signal.SIGKILL)
                worker.process.wait()
        with self.session_factory() as session:
            for worker in list(self.workers.values()):
                if store.finish_job(session=session, job_id=worker.job_id, kind=worker.kind, status=store.FAILED,
                                    error=store.INTERRUPTED, owner=self.owner):
                    store.record(session=session, actor="service", role="admin", action="job.interrupted",
                                 target=f"{worker.kind}:{worker.job_id}", detail={"error": store.INTERRUPTED})
            session.commit()
        for worker in self.workers.values():
            worker.log.close()
        self.workers.clear()

    # -- the dispatcher thread -----------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # the dispatcher must survive a database hiccup; it retries next poll
                logger.exception("job dispatcher: error (retrying)")
            self._wake.wait(self.settings.poll_s)
            self._wake.clear()

    def _tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_heartbeat:
            with self.session_factory() as session:
                store.renew_leases(session=session, owner=self.owner)
                session.commit()
            self._next_heartbeat = now + self.settings.heartbeat_s
        self._watch()
        if now >= self._next_expiry:
            self.recover()
            self._next_expiry = now + self.settings.heartbeat_s
        self._claim()

    def _claim(self) -> None:
        free = self.settings.workers - len(self.workers)
        if free <= 0 or self._stop.is_set():
            return
        with self.session_factory() as session:
            candidates = store.queued_jobs(session=session)
            session.rollback()
        for kind, job_id in candidates:
            if free <= 0:
                break
            with self.session_factory() as session:
                if not store.mark_running(session=session, job_id=job_id, kind=kind, owner=self.owner):
                    session.rollback()
                    continue  # canceled, or another process took it
                job = store.get_job(session=session, job_id=job_id, kind=kind)
                time_limit = job.time_limit_s
                session.commit()
            try:
                self._start_worker(kind, job_id, time_limit)
                free -= 1
            except Exception as exc:  # e.g. out of processes: the job fails, the service goes on
                logger.exception("%s %s: could not start its worker", kind, job_id)
                self._fail(kind, job_id, f"internal error: could not start the worker: {exc}")

    def _start_worker(self, kind: str, job_id: int, time_limit_s: float) -> None:
        command = [sys.executable, "-m", "api.worker", "--kind", kind, "--job", str(job_id), "--owner", self.owner,
                   "--handler", self.handlers[kind], "--parent", str(os.getpid())]
        env = {**os.environ, "COMPTUNE_WORKER_SETTINGS": self.settings.model_dump_json()}
        log = tempfile.TemporaryFile()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True, close_fds=True)
        wall = self.wall_limit(kind, time_limit_s)
        self.workers[(kind, job_id)] = Worker(kind=kind, job_id=job_id, process=process, log=log,
                                              deadline=time.monotonic() + wall, time_limit_s=wall)
        logger.info("%s %s: worker %d started (wall-clock limit %.0f s)", kind, job_id, process.pid, wall)

    def wall_limit(self, kind: str, time_limit_s: float) -> float:
        """How long a job may run before its worker is stopped."""
        settings = self.settings
        if kind == REVIEW:
            return settings.review_wall_factor * time_limit_s + settings.job_grace_s
        return time_limit_s + settings.job_grace_s

    def _watch(self) -> None:
        """Reap finished workers; stop canceled, overdue and over-memory ones."""
        if not self.workers:
            return
        states: dict[tuple[str, int], tuple[str, str | None]] = {}
        with self.session_factory() as session:
            for kind in store.JOB_TABLES:
                ids = [job_id for k, job_id in self.workers if k == kind]
                states.update({(kind, i): state for i, state in
                               store.job_statuses(session=session, kind=kind, ids=ids).items()})
            session.rollback()
        now = time.monotonic()
        for key, worker in list(self.workers.items()):
            if worker.process.poll() is not None:
                self._reaped(worker)
                continue
            status, owner = states.get(key, (None, None))
            if worker.killed_at is not None:
                if now - worker.killed_at > STOP_GRACE_S:
                    self._signal(worker, signal.SIGKILL)
                continue
            if status != store.RUNNING or owner != self.owner:
                why = "canceled" if status == store.CANCELED else f"no longer this process's job ({status})"
                self._stop_worker(worker, None, why)
            elif now > worker.deadline:
                self._stop_worker(worker, f"time limit: the job ran past its wall-clock limit of "
                                          f"{worker.time_limit_s:.0f} s and was stopped", "time limit")
            else:
                memory = self._memory_mb(worker)
                worker.peak_memory_mb = max(worker.peak_memory_mb, memory)
                limit = self.settings.job_memory_limit_mb
                if memory > limit:
                    self._stop_worker(worker, f"memory limit: the job's processes held {memory:,.0f} MB, more "
                                              f"than the limit of {limit:,.0f} MB (COMPTUNE_JOB_MEMORY_LIMIT_MB)",
                                      "memory limit")

    def _stop_worker(self, worker: Worker, error: str | None, why: str) -> None:
        logger.info("%s %s: stopping worker %d (%s)", worker.kind, worker.job_id, worker.process.pid, why)
        worker.stop_reason = error
        worker.killed_at = time.monotonic()
        self._signal(worker, signal.SIGKILL)  # HiGHS does not listen to SIGTERM; nothing to save

    @staticmethod
    def _signal(worker: Worker, sig: int) -> None:
        try:
            os.killpg(worker.process.pid, sig)  # the worker leads its group: its children too
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    def _memory_mb(worker: Worker) -> float:
        import psutil

        try:
            parent = psutil.Process(worker.process.pid)
            processes = [parent, *parent.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _reaped(self, worker: Worker) -> None:
        """The worker exited: fail its job if it left it running (crash, signal, or stopped here)."""
        del self.workers[(worker.kind, worker.job_id)]
        self._signal(worker, signal.SIGKILL)  # any child the worker left behind in its group
        code = worker.process.returncode
        worker.log.seek(0)
        output = worker.log.read().decode("utf-8", "replace")
        worker.log.close()
        if worker.stop_reason is None and code == 0:
            return
        error = worker.stop_reason or f"internal error: the worker exited with status {code}" + (
            f": {output.strip().splitlines()[-1]}" if output.strip() else "")
        if self._fail(worker.kind, worker.job_id, error) and worker.stop_reason is None:
            logger.error("%s %s: worker exited with %s; its output:\n%s", worker.kind, worker.job_id, code,
                         output[-4000:])

    def _fail(self, kind: str, job_id: int, error: str) -> bool:
        with self.session_factory() as session:
            failed = store.finish_job(session=session, job_id=job_id, kind=kind, status=store.FAILED, error=error,
                                      owner=self.owner)
            if failed:
                store.record(session=session, actor="service", role="admin", action=f"{kind}.failed",
                             target=f"{kind}:{job_id}", detail={"error": error})
            session.commit()
        return failed


# ---------------------------------------------------------------------------------------------
# The worker process's side


def run_job(*, kind: str, job_id: int, owner: str, handler: JobHandler, session_factory: sessionmaker[Session],
            settings: Settings) -> str | None:
    """Run one claimed job in this (worker) process and store its outcome; returns its status, or
    None when the job was no longer this owner's to finish (canceled, or its lease expired)."""
    with session_factory() as session:
        job = store.get_job(session=session, job_id=job_id, kind=kind)
        if job.status != store.RUNNING or job.owner != owner:
            logger.info("%s %s is %s (owner %s): nothing to do", kind, job_id, job.status, job.owner)
            return None
        session.expunge(job)
    progress = ProgressWriter(session_factory=session_factory, kind=kind, job_id=job_id, owner=owner)
    started = time.perf_counter()
    summary = result = error = None
    try:
        summary, result = handler(job, session_factory, settings, progress)
        status = store.SUCCEEDED
    except (JobFailed, InputError, store.Conflict) as exc:
        status, error = store.FAILED, str(exc)
    except Exception as exc:
        logger.exception("%s %s failed", kind, job_id)
        status, error = store.FAILED, f"internal error: {type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - started
    with session_factory() as session:
        if store.finish_job(session=session, job_id=job_id, kind=kind, status=status, summary=jsonable(summary),
                            result=jsonable(result), error=error, owner=owner):
            store.record(session=session, actor="service", role="admin", action=f"{kind}.{status}",
                         target=f"{kind}:{job_id}",
                         detail={"seconds": round(elapsed, 3), **({"error": error} if error else {})})
            session.commit()
            logger.info("%s %s %s in %.2f s", kind, job_id, status, elapsed)
            return status
        session.rollback()
        job = store.get_job(session=session, job_id=job_id, kind=kind)
        logger.warning("%s %s is %s (owner %s) when its worker finished: result dropped", kind, job_id,
                       job.status, job.owner)
        return None


class ProgressWriter:
    """The progress callback a worker hands to the engine: (phase, share done in [0, 1] or None).

    Writes to the job at most every PROGRESS_INTERVAL_S, and at once when the phase changes.
    """

    def __init__(self, *, session_factory: sessionmaker[Session], kind: str, job_id: int, owner: str | None):
        self.session_factory, self.kind, self.job_id, self.owner = session_factory, kind, job_id, owner
        self.phase: str | None = None
        self.last = -math.inf
        self.writes = 0

    def __call__(self, phase: str, share: float | None = None) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < PROGRESS_INTERVAL_S:
            return
        share = None if share is None else min(1.0, max(0.0, float(share)))
        with self.session_factory() as session:
            store.report_progress(session=session, job_id=self.job_id, kind=self.kind, owner=self.owner,
                                  phase=phase, progress=share)
            session.commit()
        self.phase, self.last = phase, now
        self.writes += 1


# ---------------------------------------------------------------------------------------------
# Handlers


def run_review(job: JobRow, session_factory: sessionmaker, settings: Settings,
               progress: Progress | None = None) -> tuple[dict, dict]:
    """The tactical review (§4.6) of the plan version the review was submitted against."""
    from optimizer.alignment.estimate import estimate_recommendation
    from models.rules import check_rule_sizes
    from optimizer.alignment.recommend import RULES_UNMET, candidate_count, recommend
    from optimizer.solve import FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions

    with session_factory() as session:
        dataset_row = session.get(DatasetRow, job.dataset_id)
        if dataset_row is None:
            raise JobFailed("the dataset of this review is gone")
        dataset = store.build_dataset(session=session, dataset=dataset_row, plan_version=job.plan_version,
                                      overrides=calibrated_tables(session, job.params.get("calibration_id")))
        baseline_version = job.params.get("baseline_plan_version")
        baseline = None
        if baseline_version is not None and baseline_version != job.plan_version:
            baseline = store.build_dataset(session=session, dataset=dataset_row, plan_version=baseline_version,
                                           with_actuals=False).plan
        set_row = store.get_assumption_set(session=session, set_id=job.assumption_set_id)
        body = set_row.body
        parent_body = (store.get_assumption_set(session=session, set_id=set_row.parent_id).body
                       if set_row.parent_id is not None else None)
        session.rollback()  # release the database before the long solve
    assumptions = parse_assumptions(body)
    assumptions.check_against(dataset)
    parent = parse_assumptions(parent_body) if parent_body is not None else None
    in_force_only = bool(job.params.get("in_force_only", False))
    try:  # checked at the request; a review stored before the bounds fails here, with the reason
        check_rule_sizes(job.params.get("rules") or {}, candidate_components=candidate_count(dataset, in_force_only),
                         file="body")
        rules = dataset.company.rules.overridden(job.params.get("rules") or {}, file="body")
    except InputError as error:
        raise JobFailed(f"the review's rules: {error}") from None
    estimate = estimate_recommendation(dataset, rules=rules, in_force_only=in_force_only)  # the rules drive work too
    too_large = estimate.over(memory_bytes=settings.max_review_memory_gb * 1e9, seconds=settings.max_review_seconds)
    if too_large:  # fail now, with the amounts, rather than be killed after an hour
        raise JobFailed(too_large)
    options = SolveOptions(time_limit=job.time_limit_s)
    plan_result, plan_lp = review_plan_lp(job, dataset, assumptions, options, session_factory, settings)
    recommendation = recommend(dataset, assumptions, options=options,
                               in_force_only=in_force_only, rules=rules,
                               baseline=baseline, parent=parent, progress=progress, plan_result=plan_result,
                               workers=settings.review_workers)
    if recommendation.status == RULES_UNMET:
        raise JobFailed(f"the rules cannot all be met: {recommendation.public_message}")
    if recommendation.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
        message = recommendation.message or recommendation.plan_result.message
        raise JobFailed(f"no usable recommendation: solver status {recommendation.status}"
                        + (f" ({message})" if message else ""))
    summary, result = review_outputs(recommendation, currency=dataset.company.currency)
    summary["plan_lp"] = result["plan_lp"] = plan_lp
    result["current_period"] = dataset.company.current_period  # what it planned from (store.periods_closed_since)
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


def calibrated_tables(session: Session, calibration_id: int | None) -> dict | None:
    """The funnel.csv and rep_products.csv a review's calibration estimated (None without one)."""
    if calibration_id is None:
        return None
    calibration = store.get_job(session=session, job_id=calibration_id, kind=CALIBRATION)
    if calibration.status != store.SUCCEEDED or not calibration.result:
        raise JobFailed(f"calibration {calibration_id} is {calibration.status}: the review cannot use it")
    stored = calibration.result["calibrated"]
    return {name: store.frame_from_json(stored[key]) for key, name in (("funnel", "funnel.csv"),
                                                                       ("rep_products", "rep_products.csv"))}


def run_calibration(job: JobRow, session_factory: sessionmaker, settings: Settings,
                    progress: Progress | None = None) -> tuple[dict, dict]:
    """A calibration (optimizer/calibration) of the stored actuals under the plan versions of its params."""
    from models.history import PlanSpan, stored_history
    from optimizer.calibration.estimate import calibrate
    from optimizer.executor import ExecutorError, open_executor

    with session_factory() as session:
        dataset_row = session.get(DatasetRow, job.dataset_id)
        if dataset_row is None:
            raise JobFailed("the dataset of this calibration is gone")
        dataset = store.build_dataset(session=session, dataset=dataset_row, plan_version=job.plan_version)
        plans = {v: store.build_dataset(session=session, dataset=dataset_row, plan_version=v, with_actuals=False).plan
                 for v in {span["plan_version"] for span in job.params["plans"]}}
        session.rollback()
    spans = [PlanSpan(periods=tuple(span["periods"]), plan=plans[span["plan_version"]],
                      source=f"plan version {span['plan_version']}") for span in job.params["plans"]]
    try:
        with open_executor(workers=settings.review_workers) as executor:
            calibration = calibrate(dataset, stored_history(dataset), spans, holdout=int(job.params.get("holdout", 0)),
                                    executor=executor, polish_rounds=int(job.params.get("polish_rounds", 2)),
                                    progress=progress)
    except ExecutorError as error:
        raise JobFailed(str(error)) from error
    except RuntimeError as error:  # a solver ended without an answer
        raise JobFailed(f"calibration failed: {error}") from error
    result = {**calibration.to_dict(), "calibrated": {"funnel": frame_to_json(calibration.dataset.funnel),
                                                      "rep_products": frame_to_json(calibration.dataset.rep_products)}}
    return {**calibration.summary, "holdout": calibration.holdout}, result


def run_sweep_job(job: JobRow, session_factory: sessionmaker, settings: Settings,
                  progress: Progress | None = None) -> tuple[dict, dict]:
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
    for key in ("margin", "revenue", "alignment_efficiency", "net_margin"):
        a, b = recommended.get(key), in_force.get(key)
        effect[key] = (a - b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
    slacks = jsonable(plan_result.slacks)
    binding = jsonable(plan_result.binding)
    summary = {
        "solver_status": recommendation.status, "currency": currency, "effect": effect,
        "comparison": comparison, "adjustments": len(recommendation.adjustments), "soft_slacks": slacks,
        "selected": recommendation.selected,
        # the message with its amounts for the roles that see pay, the public one for the others (api/visibility.py)
        "message": recommendation.message or recommendation.public_message,
        "public_message": recommendation.public_message or recommendation.message,
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
        "rules": jsonable(recommendation.rules),
        "unmet": jsonable(recommendation.unmet),
        "binding": list(recommendation.binding),
        "frontier": jsonable(recommendation.frontier),
        "objective": jsonable(recommendation.objective),
        "coverage": jsonable(recommendation.coverage),
        "rule_prices": jsonable(recommendation.rule_prices),
        "search": jsonable(recommendation.search),
        "pay_impact": jsonable(recommendation.pay_impact),
        "changes": jsonable(recommendation.changes),
        "attribution": jsonable(recommendation.attribution),
        "recommended_plan": {
            "components": frame_to_json(plan.components[["component_id", "metric", "products", "weight"]]),
            "curve": frame_to_json(plan.curve[["attainment", "payout"]]),
            "targets": frame_to_json(plan.targets[["rep_id", "component_id", "period", "target"]]),
        },
    }
    return summary, result


LOADED = "loaded"  # `{"dataset": "loaded"}`: benchmark the company the service has loaded


def run_benchmark(job: BenchmarkRow, session_factory: sessionmaker, settings: Settings,
                  progress: Progress | None = None) -> tuple[None, dict]:
    """A solver benchmark (optimizer.bench.run_benchmark) on a synthetic instance or on the loaded
    company (its current plan and actuals, written to a temporary dataset folder for the paths)."""
    try:
        from optimizer.bench import run_benchmark as bench
    except ImportError as exc:
        raise JobFailed(f"benchmarks are not available in this build: {exc}") from None
    say = (lambda text: progress(text, None)) if progress else None
    if job.params.get("dataset") == LOADED:
        from models.synthetic import write_tables

        with session_factory() as session:
            dataset_row = session.get(DatasetRow, job.params.get("dataset_id"))
            if dataset_row is None:
                raise JobFailed("the loaded dataset of this benchmark is gone")
            tables = loaded_tables(session=session, dataset=dataset_row)
            name = dataset_row.name
            session.rollback()
        with tempfile.TemporaryDirectory(prefix="comptune-bench-") as folder:
            write_tables(tables, folder)
            result = bench(dataset=folder, repeats=int(job.params.get("repeats", 1)), progress=say)
        result.update(name=f"loaded: {name}", dataset=LOADED)
        return None, result
    params = {k: v for k, v in job.params.items() if k in ("reps", "products", "periods", "markets", "seed", "repeats")}
    return None, bench(**params, progress=say)


def loaded_tables(*, session: Session, dataset: DatasetRow) -> dict[str, object]:
    """A stored dataset's tables with the plan in force and the actuals, keyed like its files."""
    tables = store.dataset_tables(session=session, dataset=dataset)
    if dataset.plan_version is not None:
        plan = store.get_plan_version(session=session, dataset_id=dataset.id, version=dataset.plan_version)
        for name in ("components", "curve", "targets"):
            tables[f"plan/{name}.csv"] = store.frame_from_json(getattr(plan, name))
    actuals = store.actuals_frame(session=session, dataset_id=dataset.id)
    if len(actuals):
        tables["actuals.csv"] = actuals
    return tables

