"""Tactical reviews (§4.6): start one as a job, poll its status, read adjustments and explanation,
cancel it, and decide on its recommendation."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy.exc import IntegrityError

from api.auth import Principal
from api.db import store
from api.db.tables import DatasetRow, DecisionRow, JobRow
from api.deps import Analyst, Approver, ServicesDep, SessionDep, Viewer
from api.jobs import REVIEW
from api.names import component_words, dataset_words
from api.quotas import check_job_quota, time_limit_for
from api.routers.calibrations import check_review_calibration
from api.routers.common import (
    BAD_BODY, BAD_INPUT, CONFLICT, ERRORS, MONEY_DECIMALS, NOT_FOUND, QUOTA, SHARE_DECIMALS, IdFilter, Offset,
    ReviewId, csv_response, wants_csv,
)
from api.schemas import (
    AdjustmentsPublic, DecisionCreate, DecisionPublic, ExplanationPublic, RecommendationPublic, ReviewCreate,
    ReviewPublic, ReviewsPublic, ReviewSummary,
)
from api.serialize import frame_from_json, frame_records
from api.visibility import (
    adjustments_for, explanation_for, frontier_for, objective_for, pay_free_text, prices_for, summary_for,
)
from models.errors import InputError, Problem, ProblemCollector, unknown_id
from models.rules import check_rule_sizes, parse_rules
from optimizer.alignment.recommend import candidate_count

router = APIRouter(prefix="/v1/reviews", tags=["reviews"], responses={**ERRORS, **NOT_FOUND})

CSV_EXAMPLE = ("rep_id,market_id,component_id,period,in_force,recommended,delta,cause,reason\n"
               "R25,south,revenue,2026-04,151000.0,98000.0,-53000.0,assumptions,"
               "re-planned from the plan LP under assumptions 'south-freeze'\n")


def decision_public(row: DecisionRow | None) -> DecisionPublic | None:
    if row is None:
        return None
    return DecisionPublic(review_id=row.review_id, decision=row.decision, reason=row.reason,
                          plan_version=row.plan_version, new_plan_version=row.new_plan_version,
                          decided_by=row.decided_by, decided_at=store.as_utc(row.decided_at))


def review_public(job: JobRow, *, principal: Principal, decision: DecisionRow | None) -> ReviewPublic:
    summary = None
    if job.summary is not None:
        summary = ReviewSummary(**summary_for(dict(job.summary), sees_pay=principal.sees_pay),
                                pay_visible=principal.sees_pay)
    started, finished = store.as_utc(job.started_at), store.as_utc(job.finished_at)
    return ReviewPublic(
        id=job.id, status=job.status, assumption_set_id=job.assumption_set_id, plan_version=job.plan_version,
        time_limit_s=job.time_limit_s, in_force_only=bool(job.params.get("in_force_only", False)),
        rules=dict(job.params.get("rules") or {}),
        calibration_id=job.params.get("calibration_id"),
        created_by=job.created_by, submitted_at=store.as_utc(job.submitted_at), started_at=started,
        finished_at=finished, canceled_at=store.as_utc(job.canceled_at),
        duration_s=(finished - started).total_seconds() if started and finished else None,
        error=job.error if job.error is None or principal.sees_pay else pay_free_text(job.error),
        phase=job.phase, progress=job.progress, updated_at=store.as_utc(job.updated_at),
        summary=summary, decision=decision_public(decision),
    )


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=ReviewPublic,
             responses={**BAD_BODY, **CONFLICT, **QUOTA})
def create_review(principal: Analyst, session: SessionDep, services: ServicesDep, body: ReviewCreate) -> ReviewPublic:
    """Start a review of the plan in force under an assumption set: 202 with the queued review."""
    settings = services.settings
    dataset_row = store.current_dataset(session=session)
    try:
        assumption_set = store.get_assumption_set(session=session, set_id=body.assumption_set_id)
    except store.NotFound:
        assumption_set = None
    if assumption_set is None or assumption_set.dataset_id != dataset_row.id:
        raise body_error("assumption_set_id", f"no assumption set {body.assumption_set_id} for the current dataset")
    if dataset_row.plan_version is None:
        raise store.Conflict("the dataset has no plan in force to review")
    time_limit = time_limit_for(body.time_limit_s, principal=principal, settings=settings)
    overrides = body.rule_overrides()
    company_rules(dataset_row).overridden(overrides, file="body")  # 422 naming the key; nothing stored
    if "max_components" in overrides:  # bounded by the company's size: the components the review weighs
        dataset = store.build_dataset(session=session, dataset=dataset_row, with_actuals=False)
        check_rule_sizes(overrides, candidate_components=candidate_count(dataset, body.in_force_only), file="body")
    params = {"in_force_only": body.in_force_only, "rules": overrides,
              "current_period": dataset_row.company.get("current_period"),  # an accept after a close is 409
              "baseline_plan_version": store.baseline_plan_version(session=session, dataset=dataset_row)}
    if body.calibration_id is not None:
        check_review_calibration(session, body.calibration_id, dataset_row)  # 422 / 409; nothing stored
        params["calibration_id"] = body.calibration_id
    job = store.create_job(session=session, kind=REVIEW, created_by=principal.name, time_limit_s=time_limit,
                           params=params, dataset_id=dataset_row.id,
                           assumption_set_id=assumption_set.id, plan_version=dataset_row.plan_version)
    check_job_quota(session=session, principal=principal, settings=settings, job=job)  # 429; nothing stored
    store.record(session=session, actor=principal.name, role=principal.role, action="review.create",
                 target=f"review:{job.id}", detail={"assumption_set_id": assumption_set.id,
                                                    "plan_version": dataset_row.plan_version,
                                                    "time_limit_s": time_limit})
    session.commit()
    services.runner.submit(job.id)
    return review_public(job, principal=principal, decision=None)


def company_rules(dataset_row):
    """The rules of the stored company.yaml (validated when the dataset was loaded)."""
    problems = ProblemCollector()
    rules = parse_rules(dict(dataset_row.company), "company.yaml", problems)
    problems.raise_if_any()
    return rules


def body_error(field: str, message: str) -> InputError:
    """A 422 naming a field of the request body."""
    return InputError.single("body", message, column=field)


@router.get("", response_model=ReviewsPublic)
def read_reviews(
    principal: Viewer, session: SessionDep,
    status_filter: Literal["queued", "running", "succeeded", "failed", "canceled"] | None = Query(
        None, alias="status", description="Only reviews in this status."),
    limit: int = Query(50, ge=1, le=500, description="Page size."),
    offset: Offset = 0,
) -> ReviewsPublic:
    """List reviews, newest first (their summaries; the full results stay unread)."""
    rows, count = store.list_jobs(session=session, kind=REVIEW, status=status_filter, limit=limit, offset=offset)
    decisions = store.decisions_for(session=session, review_ids=[r.id for r in rows])
    return ReviewsPublic(data=[review_public(r, principal=principal, decision=decisions.get(r.id)) for r in rows],
                         count=count)


@router.get("/{review_id}", response_model=ReviewPublic)
def read_review(principal: Viewer, session: SessionDep, review_id: ReviewId) -> ReviewPublic:
    """Cheap status: lifecycle, phase timestamps, the engine's phase and progress while it runs and,
    once succeeded, the recommendation's summary."""
    job = store.get_job(session=session, job_id=review_id, kind=REVIEW)
    return review_public(job, principal=principal, decision=store.get_decision(session=session, review_id=job.id))


def succeeded_review(session, review_id: int) -> JobRow:
    """The review's job row once it has succeeded (409 before); its result is not read."""
    job = store.get_job(session=session, job_id=review_id, kind=REVIEW)
    if job.status != store.SUCCEEDED:
        raise not_finished(job)
    return job


def finished_result(session, review_id: int) -> dict:
    job = succeeded_review(session, review_id)
    if job.result is None:
        raise not_finished(job)
    return job.result


def not_finished(job: JobRow) -> store.Conflict:
    return store.Conflict(f"review {job.id} is {job.status}: results exist only once it has succeeded"
                          + (f" ({job.error})" if job.error else ""))


def answer_key(answer: str, job: JobRow, principal: Principal, **params) -> tuple:
    """The key of a succeeded review's rendered answer (api/answer_cache.py): the answer, the
    review (id and finish time), whether the caller sees pay, and every parameter shaping it."""
    return (answer, job.id, str(job.finished_at), principal.sees_pay, tuple(sorted(params.items())))


@router.get("/{review_id}/adjustments", response_model=AdjustmentsPublic,
            responses={**CONFLICT, **BAD_INPUT, 200: {"content": {"text/csv": {"example": CSV_EXAMPLE}},
                                                      "description": "JSON, or CSV with ?format=csv or Accept: text/csv."}})
def read_adjustments(
    principal: Viewer, session: SessionDep, services: ServicesDep, request: Request, review_id: ReviewId,
    format: Literal["json", "csv"] | None = Query(None, description="csv for a CSV file (or send Accept: text/csv)."),
    table: Literal["adjustments", "weight_changes"] = Query("adjustments", description="Which table a CSV holds."),
    rep_id: IdFilter = Query(None, description="Only this rep's rows."),
    market_id: IdFilter = Query(None, description="Only the rows of reps in this market."),
    component_id: IdFilter = Query(None, description="Only this component's rows."),
    period: IdFilter = Query(None, description="Only this period's rows."),
    changed_only: bool = Query(False, description="Only rows whose target moves (delta ≠ 0 at the cent)."),
    limit: int | None = Query(None, ge=1, le=100_000, description="Page size (JSON; all rows when omitted)."),
    offset: Offset = 0,
):
    """The plan adjustments (rep, market, component, period, in force, recommended, delta, reason)
    and weight changes, filtered; `total` counts the rows that match before paging. A CSV holds
    every matching row, money rounded to the cent and weights to 6 digits."""
    job = succeeded_review(session, review_id)
    as_csv = wants_csv(request, format)
    query = {"csv": as_csv, "table": table, "rep_id": rep_id, "market_id": market_id, "component_id": component_id,
             "period": period, "changed_only": changed_only, "limit": limit, "offset": offset}
    return services.answers.serve(answer_key("adjustments", job, principal, **query),
                                  lambda: adjustments_answer(session, job, principal, **query))


def adjustments_answer(session, job: JobRow, principal: Principal, *, csv: bool, table: str, rep_id, market_id,
                       component_id, period, changed_only: bool, limit: int | None, offset: int):
    """`read_adjustments`' answer, built from the stored result: a CSV Response or the JSON model."""
    review_id = job.id
    result = finished_result(session, review_id)
    adjustments = adjustments_for(frame_from_json(result["adjustments"]), sees_pay=principal.sees_pay)
    weights = labelled(session, job, frame_from_json(result["weight_changes"]))
    adjustments = filter_adjustments(session, job, adjustments, rep_id=rep_id, market_id=market_id,
                                     component_id=component_id, period=period, changed_only=changed_only)
    if csv:
        if table == "adjustments":
            return csv_response(adjustments, f"review-{review_id}-adjustments.csv",
                                decimals={c: MONEY_DECIMALS for c in ("in_force", "recommended", "delta")})
        return csv_response(weights, f"review-{review_id}-weight-changes.csv",
                            decimals={c: SHARE_DECIMALS for c in ("in_force", "recommended", "delta")})
    total = len(adjustments)
    page = adjustments.iloc[offset: offset + limit if limit is not None else None]
    return AdjustmentsPublic(review_id=review_id, data=frame_records(page), count=len(page),
                             total=total, offset=offset, weight_changes=frame_records(weights))


def labelled(session, job: JobRow, weights):
    """The weight changes with each component in words (api/names.py)."""
    if weights.empty:
        return weights
    groups, product_names = dataset_words(store.dataset_tables(session=session, dataset=session.get(DatasetRow, job.dataset_id)))
    labels = [component_words(m, p, groups=groups, product_names=product_names)
              for m, p in zip(weights["metric"], weights["products"])]
    return weights.assign(label=labels)


def filter_adjustments(session, job: JobRow, frame, *, rep_id, market_id, component_id, period, changed_only):
    """The adjustments with each rep's market added, narrowed by the filters; an id the review
    does not know is a 422 listing the valid ones."""
    dataset_row = session.get(DatasetRow, job.dataset_id)
    reps = store.dataset_tables(session=session, dataset=dataset_row)["reps.csv"]
    market_of = dict(zip(reps["rep_id"].astype(str).str.strip(), reps["market_id"].astype(str).str.strip()))
    frame = frame.copy()
    frame.insert(1, "market_id", frame["rep_id"].map(market_of))
    problems = []
    for field, value, valid in (("rep_id", rep_id, market_of), ("market_id", market_id, set(market_of.values())),
                                ("component_id", component_id, set(frame["component_id"])),
                                ("period", period, set(frame["period"]))):
        if value is None:
            continue
        if value not in valid:
            problems.append(Problem("query", unknown_id(field.removesuffix("_id"), value, valid), column=field))
        frame = frame[frame[field] == value]
    if problems:
        raise InputError(problems)
    if changed_only:
        frame = frame[frame["delta"].fillna(0).abs().round(MONEY_DECIMALS) != 0]
    return frame.reset_index(drop=True)


@router.get("/{review_id}/explanation", response_model=ExplanationPublic, responses=CONFLICT)
def read_explanation(principal: Viewer, session: SessionDep, review_id: ReviewId) -> ExplanationPublic:
    """Binding constraints and their values, soft slacks by name and amount (§4.7). Rows and
    sentences about pay or the comp budget only for the approver and admin roles."""
    explanation = finished_result(session, review_id)["explanation"]
    return ExplanationPublic(review_id=review_id, **explanation_for(explanation, sees_pay=principal.sees_pay))


@router.get("/{review_id}/recommendation", response_model=RecommendationPublic, responses=CONFLICT)
def read_recommendation(principal: Viewer, session: SessionDep, services: ServicesDep, review_id: ReviewId):
    """The rules applied, the frontier, the pay impact (approver and admin only), every change with its
    reason and the attribution of each market's change (§4.9)."""
    job = succeeded_review(session, review_id)
    return services.answers.serve(answer_key("recommendation", job, principal),
                                  lambda: recommendation_public(principal, session, review_id))


def recommendation_public(principal: Principal, session, review_id: int) -> RecommendationPublic:
    """`read_recommendation`'s answer, built from the stored result for the caller's role."""
    result = finished_result(session, review_id)
    sees_pay = principal.sees_pay
    frontier = frontier_for(result.get("frontier", []), sees_pay=sees_pay)
    unmet = [dict(row) for row in result.get("unmet", [])]
    if not sees_pay:
        for row in unmet:  # the budget's amount and a shortfall are money paid; the message without them
            row["message"] = row.get("public_message") or row.get("message")
            row.pop("shortfall", None)
            if row.get("rule") == "budget":
                row["amount"] = None
    objective = result.get("objective", {})
    return RecommendationPublic(
        review_id=review_id, pay_visible=principal.sees_pay, alignment=result.get("alignment"),
        rules=result.get("rules", {}), unmet=unmet, binding=result.get("binding", []),
        frontier=frontier, pay_impact=result.get("pay_impact") if sees_pay else None,
        objective=objective_for(objective, sees_pay=sees_pay), coverage=result.get("coverage", []),
        rule_prices=prices_for(result.get("rule_prices", []), sees_pay=sees_pay, objective=objective.get("name")),
        changes=result.get("changes", []), attribution=result.get("attribution", {}),
        plan=recommended_plan(result))


def recommended_plan(result: dict) -> dict | None:
    """The recommended plan's components and curve (not its targets: those are the adjustments)."""
    plan = result.get("recommended_plan")
    if not plan:
        return None
    return {key: frame_records(frame_from_json(plan[key])) for key in ("components", "curve") if key in plan}


@router.post("/{review_id}/cancel", response_model=ReviewPublic, responses=CONFLICT)
def cancel_review(principal: Analyst, session: SessionDep, review_id: ReviewId) -> ReviewPublic:
    """Cancel a queued or running review (409 when it has already finished)."""
    store.get_job(session=session, job_id=review_id, kind=REVIEW)
    previous = store.cancel_job(session=session, job_id=review_id)
    store.record(session=session, actor=principal.name, role=principal.role, action="review.cancel",
                 target=f"review:{review_id}", detail={"was": previous})
    session.commit()
    job = store.get_job(session=session, job_id=review_id, kind=REVIEW)
    return review_public(job, principal=principal, decision=None)


@router.post("/{review_id}/decision", status_code=status.HTTP_201_CREATED, response_model=DecisionPublic,
             responses={**CONFLICT, **BAD_BODY})
def decide_review(principal: Approver, session: SessionDep, review_id: ReviewId, body: DecisionCreate) -> DecisionPublic:
    """Accept or reject the recommendation. Accepting makes it the plan in force as a new version;
    a `plan_version` that is no longer in force is refused with 409 (exactly one of two concurrent
    decisions on the same version wins)."""
    job = store.get_job(session=session, job_id=review_id, kind=REVIEW)
    dataset_row = store.current_dataset(session=session)
    if job.dataset_id != dataset_row.id:
        raise store.Conflict(f"review {review_id} belongs to a dataset that is no longer current")
    try:
        decision = store.decide(session=session, review=job, dataset=dataset_row, decision=body.decision,
                                reason=body.reason, plan_version=body.plan_version, actor=principal.name)
        store.record(session=session, actor=principal.name, role=principal.role, action=f"decision.{body.decision}",
                     target=f"review:{review_id}",
                     detail={"reason": body.reason, "plan_version": body.plan_version,
                             "new_plan_version": decision.new_plan_version})
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, f"review {review_id} or plan version "
                                                      f"{body.plan_version} was decided concurrently") from None
    return decision_public(decision)
