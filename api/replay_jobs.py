"""The job handlers of issue 18: a replay of the plan year (`optimizer.replay.run_replay`) and the
correction system (`optimizer.correction.correct`), run in a worker process like every job
(api/jobs.py: owner, lease, wall-clock and memory limits, cancel).

The replay's `time_limit_s` is its wall-clock limit: the engine stops between runs past it (the job fails
naming it), and the worker is stopped past it + COMPTUNE_JOB_GRACE_S. The stored summary is the result
without its months, decisions and audit rows, so that listing replays reads little.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import sessionmaker

from api.db import store
from api.db.tables import DatasetRow, JobRow
from api.jobs import JobFailed, Progress
from api.serialize import jsonable
from api.settings import Settings
from models.assumptions import parse_assumptions

logger = logging.getLogger(__name__)

SUMMARY_POLICY_KEYS = ("policy", "total", "spread", "reviews_run", "plans_accepted", "pay_stability",
                       "share_of_oracle_gain")


def job_dataset(session, job: JobRow, what: str):
    dataset_row = session.get(DatasetRow, job.dataset_id)
    if dataset_row is None:
        raise JobFailed(f"the dataset of this {what} is gone")
    return store.build_dataset(session=session, dataset=dataset_row, plan_version=job.plan_version)


def replay_summary(result: dict) -> dict:
    """What a list of replays shows: per policy its totals and ratios, the gaming verdicts, the timing."""
    return {
        **{key: result.get(key) for key in ("company", "currency", "world", "plan_margin", "periods", "timing")},
        "policies": [{key: p.get(key) for key in SUMMARY_POLICY_KEYS} for p in result.get("policies", [])],
        "gaming": [{**{key: g.get(key) for key in ("policy", "rewarded", "verdict")},
                    "reps_sampled": len(g.get("reps") or [])} for g in result.get("gaming", [])],
    }


def engine_options(options: dict, *, time_limit_s: float | None = None):
    """The job's stored options (checked by the router) as the engine's `ReplayOptions`."""
    from optimizer.replay import ReplayOptions

    return ReplayOptions(policies=tuple(options["policies"]), noise=options["noise"], seeds=options["seeds"],
                         accept_threshold=options["accept_threshold"], gaming_reps=options["gaming_reps"],
                         seed=options["seed"], time_limit_s=time_limit_s)


def run_replay_job(job: JobRow, session_factory: sessionmaker, settings: Settings,
                   progress: Progress | None = None) -> tuple[dict, dict]:
    """Replay the dataset's plan year under the job's world with its options, through the executor."""
    from optimizer.executor import ExecutorError, open_executor
    from optimizer.replay import check_options, check_world, run_replay
    from optimizer.replay.engine import ReplayTimeout

    with session_factory() as session:
        dataset = job_dataset(session, job, "replay")
        body = job.params.get("world")
        if body is None:
            if job.assumption_set_id is None:
                raise JobFailed("the replay names no world")
            body = store.get_assumption_set(session=session, set_id=job.assumption_set_id).body
        session.rollback()  # release the database before the long run
    world = parse_assumptions(body, file="world")
    check_world(dataset, world)
    options = engine_options(job.params["options"], time_limit_s=job.time_limit_s)  # the engine stops itself there
    check_options(options)
    try:
        with open_executor(workers=settings.replay_workers) as executor:
            result = run_replay(dataset, world, options, executor=executor, progress=progress)
    except (ExecutorError, ReplayTimeout) as error:
        raise JobFailed(str(error)) from error
    payload = jsonable(result.to_dict())
    return replay_summary(payload), payload


def run_correction_job(job: JobRow, session_factory: sessionmaker, settings: Settings,
                       progress: Progress | None = None) -> tuple[dict, dict]:
    """The correction system on the dataset's closed periods; with `store`, the proposal becomes an
    assumption set (its id in the summary and the result)."""
    from optimizer.correction import correct

    params = job.params or {}
    with session_factory() as session:
        dataset = job_dataset(session, job, "correction")
        base = None
        if params.get("base_id") is not None:
            base = parse_assumptions(store.get_assumption_set(session=session, set_id=params["base_id"]).body,
                                     file=f"assumption set {params['base_id']}")
        session.rollback()
    if progress:
        progress("correction", None)
    correction = correct(dataset, base=base, name=params.get("name"))
    payload = jsonable(correction.to_dict())
    summary = {"adjustments": len(correction.assumptions.adjustments), "evidence": len(correction.evidence),
               "name": correction.assumptions.name}
    if params.get("store"):
        with session_factory() as session:
            current = session.get(JobRow, job.id)
            if current is None or current.status != store.RUNNING:  # canceled meanwhile: store nothing
                raise JobFailed("canceled before its proposal was stored")
            row = store.create_assumption_set(session=session, dataset_id=job.dataset_id,
                                              assumptions=correction.assumptions, created_by=job.created_by)
            store.record(session=session, actor="service", role="admin", action="correction.store",
                         target=f"correction:{job.id}", detail={"assumption_set_id": row.id})
            session.commit()
            summary["assumption_set_id"] = payload["assumption_set_id"] = row.id
    return summary, payload
