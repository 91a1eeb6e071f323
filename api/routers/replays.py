"""Replays (issue 18): the plan year replayed month by month under a world the company does not know,
once per policy (static, quarterly, monthly, oracle), as a job; its result per policy and month, the
decisions and the gaming audit; list and cancel.

The request is checked whole before anything is stored: the body's types and ranges (422 naming the
field), the world against the dataset (unknown markets, products or periods, no open period: 422
naming the key), the options against the engine (`optimizer.replay.check_options`) and the work the
replay would drive against the service's limits (`optimizer.replay.estimate_size`: reviews and
simulations, turned into seconds and memory with the review's own estimate; over a limit → 422 naming
the option to lower and the amounts). Pay figures reach only the roles that see pay (api/visibility.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from api.auth import Principal
from api.db import store
from api.db.tables import DatasetRow, JobRow
from api.replay_jobs import engine_options
from api.deps import Analyst, ServicesDep, SessionDep, Viewer
from api.quotas import check_job_quota
from api.routers.common import BAD_BODY, CONFLICT, ERRORS, NO_DATASET, NOT_FOUND, QUOTA, Offset
from api.schemas import REPLAY_POLICIES, ReplayCreate, ReplayPublic, ReplaysPublic
from api.settings import Settings
from api.visibility import pay_free_text, replay_for
from models.assumptions import AssumptionSet, parse_assumptions
from models.dataset import Dataset
from models.errors import InputError, Problem
from models.limits import MAX_ID

router = APIRouter(prefix="/v1/replays", tags=["replays"], responses={**ERRORS, **NOT_FOUND})
ReplayId = Annotated[int, Path(ge=1, le=MAX_ID, description="Replay id.")]
OPTION_KEYS = ("policies", "noise", "seeds", "accept_threshold", "gaming_reps", "seed")
# Measured on the sample (2-core machine, other work running): a (rep, open month) block of a replay's
# simulations takes 0.28 ms of CPU (static policy: 0.75 s for 2,700 blocks), and a review inside a replay
# — the correction, the alarms and the recommendation — 5–7 s of CPU against `estimate_recommendation`'s
# 2.1 s. The limits use twice the first and three times the second.
SIMULATION_SECONDS_PER_BLOCK = 0.5e-3
REVIEW_FACTOR = 3.0


def replay_public(job: JobRow, *, principal: Principal, full: bool = False) -> ReplayPublic:
    params = job.params or {}
    started, finished = store.as_utc(job.started_at), store.as_utc(job.finished_at)
    result = replay_for(job.result, sees_pay=principal.sees_pay) if full and job.status == store.SUCCEEDED else None
    return ReplayPublic(
        id=job.id, status=job.status, world={"name": params.get("world_name"), "assumption_set_id": job.assumption_set_id},
        options=params.get("options", {}), estimate=params.get("estimate"), plan_version=job.plan_version,
        time_limit_s=job.time_limit_s, created_by=job.created_by, submitted_at=store.as_utc(job.submitted_at),
        started_at=started, finished_at=finished, canceled_at=store.as_utc(job.canceled_at),
        duration_s=(finished - started).total_seconds() if started and finished else None,
        error=job.error if job.error is None or principal.sees_pay else pay_free_text(job.error),
        phase=job.phase, progress=job.progress, updated_at=store.as_utc(job.updated_at),
        pay_visible=principal.sees_pay, summary=replay_for(job.summary, sees_pay=principal.sees_pay), result=result)


def body_error(field: str, message: str) -> InputError:
    return InputError.single("body", message, column=field)


def renamed(error: InputError, prefix: str) -> InputError:
    """The engine's problems (keys of the world or the options) as keys of the request body."""
    problems = []
    for p in error.problems:
        column = p.column
        if prefix == "world_id":  # a stored set: the body's key is its id; the set's own key goes in the message
            message = f"assumption set: {column}: {p.message}" if column else p.message
            problems.append(Problem("body", message, column="world_id"))
            continue
        column = column.lstrip("-").replace("-", "_") if column else None
        problems.append(Problem("body", p.message, column=f"{prefix}.{column}" if prefix and column else (column or prefix)))
    return InputError(problems)


def replay_world(session, body: ReplayCreate, dataset_row: DatasetRow) -> tuple[AssumptionSet, int | None]:
    """The body's world (inline or stored) as an assumption set, and the stored set's id."""
    if (body.world is None) == (body.world_id is None):
        raise body_error("world", "give exactly one of `world` (an assumption set) and `world_id` (a stored set's id)")
    if body.world is not None:
        return body.world, None
    try:
        row = store.get_assumption_set(session=session, set_id=body.world_id)
    except store.NotFound:
        row = None
    if row is None or row.dataset_id != dataset_row.id:
        raise body_error("world_id", f"no assumption set {body.world_id} for the current dataset")
    try:
        return parse_assumptions(row.body, file=f"assumption set {row.id}"), row.id
    except InputError as error:  # stored before a check existed: refused, not a 500
        raise renamed(error, "world_id") from None


def replay_options(body: ReplayCreate, settings: Settings) -> dict:
    """The options of the body, checked against the known policies and the service's bounds."""
    problems = []
    policies = list(body.policies) if body.policies is not None else list(REPLAY_POLICIES)
    for i, policy in enumerate(policies):
        if policy not in REPLAY_POLICIES:
            problems.append(Problem("body", f"unknown policy {policy!r} (use {', '.join(REPLAY_POLICIES)})",
                                    column=f"policies[{i}]"))
        elif policies.index(policy) != i:
            problems.append(Problem("body", f"policy {policy!r} is named twice", column=f"policies[{i}]"))
    if body.seeds > settings.max_replay_seeds:
        problems.append(Problem("body", f"at most {settings.max_replay_seeds} seeds (COMPTUNE_MAX_REPLAY_SEEDS); "
                                        f"asked for {body.seeds:,}", column="seeds"))
    if body.gaming_reps > settings.max_replay_gaming_reps:
        problems.append(Problem("body", f"at most {settings.max_replay_gaming_reps} reps in the gaming audit "
                                        f"(COMPTUNE_MAX_REPLAY_GAMING_REPS); asked for {body.gaming_reps:,}",
                                column="gaming_reps"))
    if body.time_limit_s is not None and body.time_limit_s > settings.max_replay_seconds:
        problems.append(Problem("body", f"at most {settings.max_replay_seconds:g} seconds (COMPTUNE_MAX_REPLAY_SECONDS)",
                                column="time_limit_s"))
    if problems:
        raise InputError(problems)
    return {"policies": policies, "noise": float(body.noise), "seeds": body.seeds,
            "accept_threshold": float(body.accept_threshold), "gaming_reps": body.gaming_reps, "seed": body.seed}


def replay_estimate(dataset: Dataset, options, settings: Settings) -> dict:
    """The work a replay drives (the engine's `estimate_size`: reviews, the gaming runs' reviews at most,
    simulated (rep, month) blocks at most) with its estimated seconds and peak memory: each review
    REVIEW_FACTOR × what `estimate_recommendation` says, each block SIMULATION_SECONDS_PER_BLOCK, spread
    over `replay_workers` processes; the memory of one review per process."""
    from optimizer.alignment.estimate import estimate_recommendation
    from optimizer.replay import estimate_size

    size = {k: v for k, v in dict(estimate_size(dataset, options)).items() if isinstance(v, (int, float))}
    review = estimate_recommendation(dataset)
    reviews = float(size.get("reviews", 0)) + float(size.get("gaming_reviews_at_most", 0))
    blocks = float(size.get("simulated_blocks_at_most", 0))
    workers = max(1, settings.replay_workers)
    seconds = (REVIEW_FACTOR * reviews * review.seconds + blocks * SIMULATION_SECONDS_PER_BLOCK) / workers
    memory = review.memory_bytes * min(workers, max(1.0, reviews))
    return {**size, "seconds": round(seconds, 1), "memory_gb": round(memory / 1e9, 2)}


def check_limits(estimate: dict, options: dict, settings: Settings) -> None:
    """422 naming the option to lower when the estimate passes the time or memory limit."""
    lever = "seeds" if options["seeds"] > 1 else ("gaming_reps" if options["gaming_reps"] else "policies")
    reviews = estimate.get("reviews", 0) + estimate.get("gaming_reviews_at_most", 0)
    what = (f"the replay would run up to {reviews:,.0f} reviews and simulate up to "
            f"{estimate.get('simulated_blocks_at_most', 0):,.0f} rep-months")
    problems = []
    if estimate["seconds"] > settings.max_replay_seconds:
        problems.append(Problem("body", f"too large: {what}, estimated {estimate['seconds']:,.0f} s, over the limit of "
                                        f"{settings.max_replay_seconds:,.0f} s (COMPTUNE_MAX_REPLAY_SECONDS); ask for "
                                        "fewer seeds, gaming reps or policies", column=lever))
    if estimate["memory_gb"] > settings.max_review_memory_gb:
        problems.append(Problem("body", f"too large: {what}, estimated peak memory {estimate['memory_gb']:.1f} GB, over "
                                        f"the limit of {settings.max_review_memory_gb:.1f} GB "
                                        "(COMPTUNE_MAX_REVIEW_MEMORY_GB)", column=lever))
    if problems:
        raise InputError(problems)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=ReplayPublic,
             responses={**BAD_BODY, **NO_DATASET, **CONFLICT, **QUOTA})
def create_replay(principal: Analyst, session: SessionDep, services: ServicesDep, body: ReplayCreate) -> ReplayPublic:
    """Queue a replay of the current dataset's plan year under a world: 202 with the queued job. The body,
    the world, the options and the replay's size are checked first (422 names the field; nothing stored)."""
    from optimizer.replay import check_options, check_world

    settings = services.settings
    dataset_row = store.current_dataset(session=session)
    if dataset_row.plan_version is None:
        raise store.Conflict("the dataset has no plan in force to replay")
    world, world_id = replay_world(session, body, dataset_row)
    options = replay_options(body, settings)
    dataset = store.build_dataset(session=session, dataset=dataset_row)
    if not dataset.company.open_periods:
        raise store.Conflict(f"{dataset.company.current_period} is the dataset's last period: no open month to replay")
    try:
        check_world(dataset, world)
    except InputError as error:
        raise renamed(error, "world" if world_id is None else "world_id") from None
    engine = engine_options(options)
    try:
        check_options(engine)
    except InputError as error:
        raise renamed(error, "") from None
    estimate = replay_estimate(dataset, engine, settings)
    check_limits(estimate, options, settings)
    time_limit = body.time_limit_s if body.time_limit_s is not None else settings.max_replay_seconds
    inline = {k: v for k, v in store.assumption_body(world).items() if k != "parent"} if world_id is None else None
    params = {"world": inline, "world_name": world.name,
              "options": options, "estimate": estimate}
    job = store.create_job(session=session, kind=store.REPLAY, created_by=principal.name, time_limit_s=time_limit,
                           params=params, dataset_id=dataset_row.id, assumption_set_id=world_id,
                           plan_version=dataset_row.plan_version)
    check_job_quota(session=session, principal=principal, settings=services.settings, job=job)  # 429; nothing stored
    store.record(session=session, actor=principal.name, role=principal.role, action="replay.create",
                 target=f"replay:{job.id}", detail={"world": world.name, "assumption_set_id": world_id, **options,
                                                    "estimated_seconds": estimate["seconds"]})
    session.commit()
    services.runner.submit(job.id)
    return replay_public(job, principal=principal)


@router.get("", response_model=ReplaysPublic)
def read_replays(
    principal: Viewer, session: SessionDep,
    status_filter: Literal["queued", "running", "succeeded", "failed", "canceled"] | None = Query(
        None, alias="status", description="Only replays in this status."),
    limit: int = Query(50, ge=1, le=500, description="Page size."),
    offset: Offset = 0,
) -> ReplaysPublic:
    """List replays, newest first, with their summaries (the results stay unread)."""
    rows, count = store.list_jobs(session=session, kind=store.REPLAY, status=status_filter, limit=limit, offset=offset)
    return ReplaysPublic(data=[replay_public(r, principal=principal) for r in rows], count=count)


@router.get("/{replay_id}", response_model=ReplayPublic)
def read_replay(principal: Viewer, session: SessionDep, replay_id: ReplayId) -> ReplayPublic:
    """Status, phase and progress while it runs; once succeeded the whole replay in `result` (pay figures
    null for viewer and analyst)."""
    return replay_public(store.get_job(session=session, job_id=replay_id, kind=store.REPLAY), principal=principal,
                         full=True)


@router.post("/{replay_id}/cancel", response_model=ReplayPublic, responses=CONFLICT)
def cancel_replay(principal: Analyst, session: SessionDep, replay_id: ReplayId) -> ReplayPublic:
    """Cancel a queued or running replay (409 once it has finished); its worker is stopped."""
    store.get_job(session=session, job_id=replay_id, kind=store.REPLAY)
    previous = store.cancel_job(session=session, job_id=replay_id, kind=store.REPLAY)
    store.record(session=session, actor=principal.name, role=principal.role, action="replay.cancel",
                 target=f"replay:{replay_id}", detail={"from": previous})
    session.commit()
    return replay_public(store.get_job(session=session, job_id=replay_id, kind=store.REPLAY), principal=principal)
