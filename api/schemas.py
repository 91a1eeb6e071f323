"""Request and response schemas of the HTTP API: `XCreate` in, `XPublic` out, `XsPublic{data, count}`.

Every field has a description and request models carry examples: together they are the OpenAPI
page at `/docs`. Numbers in requests must be finite (`NaN`/`Infinity` are refused with the field
named). Figures about pay (`pay_cost`, `pay_cost_share`) are only filled in for the approver and
admin roles; `pay_visible` says whether they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models.assumptions import AssumptionSet
from models.limits import MAX_ACTUALS_ROWS, MAX_ID, MAX_QUANTITY, Ident, Name, Reason, not_blank

Quantity = Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]

SOUTH_FREEZE = {
    "name": "south-freeze",
    "adjustments": [{
        "markets": ["south"], "periods": {"from": "2026-04"}, "demand": 0.5,
        "reason": "Southern Europe freezes: Q1 closed well under two thirds of plan.",
    }],
}


class FieldError(BaseModel):
    """One thing wrong with a request, located by field (a key path such as adjustments[0].demand)."""

    field: str | None = Field(None, description="Key path of the offending field, or null for the whole body.")
    message: str = Field(..., description="What is wrong with it.")
    file: str | None = Field(None, description="Input file or part the field belongs to, when there is one.")
    line: int | None = Field(None, description="Line of a CSV body, when there is one (the header is line 1).")


class ErrorPublic(BaseModel):
    """An error response: a one-line summary and, for bad input, every problem with its field."""

    detail: str = Field(..., description="What went wrong.")
    errors: list[FieldError] = Field(default_factory=list, description="Located problems (bad input only).")


class HealthPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "database": "sqlite", "dataset_loaded": True}]})

    status: Literal["ok"] = Field("ok", description="Always `ok` when the service answers and its database does.")
    database: str = Field(..., description="Database dialect in use (sqlite or postgresql).")
    dataset_loaded: bool = Field(..., description="Whether a dataset has been loaded with `comptune load`.")


class MetricsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"jobs": {"review": {"succeeded": 3, "running": 1}}, "workers": 2, "plan_version": 2}]})

    jobs: dict[str, dict[str, int]] = Field(..., description="Job counts by kind and status.")
    workers: int = Field(..., description="Size of the worker pool.")
    plan_version: int | None = Field(None, description="Plan version in force.")


# ---------------------------------------------------------------------------------------------
# Assumption sets


class AssumptionSetCreate(AssumptionSet):
    """A market-assumption set (DESIGN.md §2). `parent` is an id or a name (that name's newest
    version); without it, a set whose name exists becomes the next version of that name."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [SOUTH_FREEZE]})


class AssumptionChange(BaseModel):
    op: Literal["added", "removed", "changed"] = Field(..., description="Kind of change against the parent.")
    path: str = Field(..., description="Key path that changed, e.g. adjustments[0].demand.")
    old: Any = Field(None, description="Value in the parent (null when added).")
    new: Any = Field(None, description="Value in this set (null when removed).")


class AssumptionSetPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 2, "name": "south-freeze", "version": 2, "parent_id": 1,
        "body": {"name": "south-freeze", "parent": 1, "adjustments": [{"markets": ["south"], "periods": {"from": "2026-04"},
                 "demand": 0.4, "reason": "Freeze deepens."}]},
        "diff": [{"op": "changed", "path": "adjustments[0].demand", "old": 0.5, "new": 0.4}],
        "created_by": "ana", "created_at": "2026-04-02T09:14:03Z"}]})

    id: int = Field(..., description="Id of the stored set (immutable).")
    name: str = Field(..., description="Name of the set.")
    version: int = Field(..., description="1 for a set without parent, the parent's version + 1 otherwise.")
    parent_id: int | None = Field(None, description="Id of the set this one revises.")
    body: dict = Field(..., description="The set as stored (§2 structure; omitted factors are 1).")
    diff: list[AssumptionChange] = Field(..., description="Changes against the parent (all `added` without one).")
    created_by: str = Field(..., description="Name of the token that submitted it.")
    created_at: datetime = Field(..., description="When it was stored (UTC).")


class AssumptionSetsPublic(BaseModel):
    data: list[AssumptionSetPublic] = Field(..., description="Assumption sets, oldest first.")
    count: int = Field(..., description="Number of sets matching the query (before paging).")


# ---------------------------------------------------------------------------------------------
# Reviews


class ReviewCreate(BaseModel):
    """Start a tactical review (§4.6) of the plan in force under a stored assumption set."""

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"assumption_set_id": 1, "time_limit_s": 60}]})

    assumption_set_id: int = Field(..., ge=1, le=MAX_ID, description="Id of a stored assumption set.")
    time_limit_s: float | None = Field(None, gt=0, allow_inf_nan=False,
                                       description="Solver time limit for each solve of the review (seconds); "
                                                   "the service default when omitted.")
    in_force_only: bool = Field(False, description="Reweigh only the components in force (no candidate components).")
    calibration_id: int | None = Field(None, ge=1, le=MAX_ID, description="A succeeded calibration of the current "
                                       "dataset (POST /v1/calibrations): the review uses its funnel, skill and comfort.")
    max_components: int | None = Field(None, description="At most this many components (≥ 1; company.yaml's, default 4).")
    max_pay_cut: float | None = Field(None, allow_inf_nan=False, description="No rep's expected pay more than this "
                                      "share below the plan in force, in [0, 1) (company.yaml's, default 0.05).")
    min_quota_coverage: float | None = Field(None, allow_inf_nan=False, description="Per component, the reps' "
                                             "targets add up to at least this share of the planned metric, in "
                                             "[0, 1] (company.yaml's, default 0.9).")
    objective: Literal["net_margin", "margin"] | None = Field(None, description="What the search maximizes: "
                                                              "net_margin (margin − variable pay, the default) "
                                                              "or margin (company.yaml's).")
    comp_budget_rate: float | None = Field(None, allow_inf_nan=False,
                                           description="Expected pay ÷ planned revenue at most (company.yaml's).")
    max_weight_change: float | None = Field(None, allow_inf_nan=False, description="Largest move of a weight from the "
                                            "plan-year baseline (company.yaml's).")
    curve_threshold: list[float] | None = Field(None, description="[low, high] of the payout curve's threshold "
                                                "(default [0, 0.5]).")
    curve_slope_above_target: list[float] | None = Field(None, description="[low, high] of the slope above target "
                                                         "(default [0, 2]).")
    curve_cap: list[float] | None = Field(None, description="[low, high] of the cap, × pay at target (default [1, 3]).")

    def rule_overrides(self) -> dict:
        """The rule keys the request sets (validated against the company's rules by the router)."""
        keys = ("max_components", "max_pay_cut", "min_quota_coverage", "objective", "comp_budget_rate",
                "max_weight_change", "curve_threshold", "curve_slope_above_target", "curve_cap")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


class ComparisonRow(BaseModel):
    plan: str = Field(..., description="recommended, in_force (kept under the new assumptions) or a baseline.")
    alignment_efficiency: float | None = Field(None, description="Margin of the simulated orders ÷ margin of the plan LP's orders.")
    margin: float | None = Field(None, description="Company margin of the simulated orders (open periods).")
    revenue: float | None = Field(None, description="Revenue of the simulated orders (open periods).")
    pay_cost: float | None = Field(None, description="Variable pay (approver and admin only).")
    net_margin: float | None = Field(None, description="Margin − variable pay: the search's objective (approver "
                                     "and admin only: it reveals the pay).")
    pay_cost_share: float | None = Field(None, description="Variable pay ÷ revenue (approver and admin only).")


class ReviewSummary(BaseModel):
    solver_status: str = Field(..., description="optimal, feasible_time_limit (never called optimal), ...")
    currency: str = Field(..., description="Currency of the money figures.")
    effect: dict[str, float | None] = Field(
        ..., description="Recommended minus keeping the plan in force: margin, revenue, alignment_efficiency, net_margin "
                          "(net_margin only for approver and admin).")
    comparison: list[ComparisonRow] = Field(..., description="The recommendation against the plan in force and the baselines.")
    adjustments: int = Field(..., description="Rows in the plan adjustments table.")
    soft_slacks: list[dict] = Field(default_factory=list, description="Soft constraints that needed slack (the "
                                                                      "budget's only for approver and admin).")
    selected: str = Field("", description="Which candidate weighting the engine kept, and why.")
    message: str = Field("", description="A caveat from the engine, if any.")
    pay_visible: bool = Field(..., description="Whether pay figures are shown to the caller's role.")
    plan_lp: dict | None = Field(
        None, description="How the plan LP was solved: seconds (build + solve), warm (started from the blocks "
        "stored for this dataset and plan version), blocks_resolved (period blocks sent to the solver; the "
        "others were unchanged and taken as stored), method (decomposed or monolithic).")


class RecommendationPublic(BaseModel):
    """What a committee reads before signing (§4.9). Pay figures only for approver and admin."""

    review_id: int
    pay_visible: bool = Field(..., description="Whether pay figures are shown to the caller's role.")
    alignment: dict[str, float | None] | None = Field(None, description="Alignment efficiency of the recommendation "
                                                      "and each baseline.")
    rules: dict = Field(default_factory=dict, description="The rules applied (company.yaml with the review's overrides).")
    unmet: list[dict] = Field(default_factory=list, description="Rules the recommendation does not keep, with the amount.")
    binding: list[str] = Field(default_factory=list, description="Rules that shape the recommendation.")
    objective: dict = Field(default_factory=dict, description="What the search maximized (`name`: net_margin or "
                            "margin) and the recommended plan's `value` (null unless pay is visible, for net margin).")
    frontier: list[dict] = Field(default_factory=list, description="The best plan with at most n components, never "
                                 "falling as n grows (pay_cost and net_margin null unless pay is visible).")
    coverage: list[dict] = Field(default_factory=list, description="Per component of the recommended plan: the "
                                 "reps' targets over the open periods against the planned metric of the plan LP.")
    rule_prices: list[dict] = Field(default_factory=list, description="Per rule: what it costs in the objective "
                                    "(the search with the rule lifted, from the recommendation). Amounts only when "
                                    "pay is visible or the objective is margin.")
    pay_impact: dict | None = Field(None, description="Per rep in-force and recommended pay, losers, winners, max_cut, "
                                    "median_change (approver and admin only; null otherwise).")
    changes: list[dict] = Field(default_factory=list, description="Every change with its reason.")
    attribution: dict = Field(default_factory=dict, description="Per market: the assumption set's part and "
                              "re-planning's part of the change of planned revenue and margin.")
    plan: dict | None = Field(None, description="The recommended plan: `components` (component_id, metric, products, "
                              "weight) and `curve` (attainment, payout); its targets are the adjustments.")


class DecisionCreate(BaseModel):
    """Accept or reject a review's recommendation (approver or admin)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"decision": "accept", "reason": "Freeze confirmed by the regional VP.", "plan_version": 1}]})

    decision: Literal["accept", "reject"] = Field(..., description="accept makes the recommendation the plan in force.")
    reason: Annotated[Reason, AfterValidator(not_blank)] = Field(
        ..., min_length=1, description="Why (kept in the audit log); not only whitespace.")
    plan_version: int = Field(..., ge=1, le=MAX_ID, description="The plan version the decider believes is in force; "
                                                     "409 when it no longer is.")


class DecisionPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"review_id": 1, "decision": "accept", "reason": "Freeze confirmed by the regional VP.",
        "plan_version": 1, "new_plan_version": 2, "decided_by": "vp-sales", "decided_at": "2026-04-02T10:02:11Z"}]})

    review_id: int = Field(..., description="The decided review.")
    decision: str = Field(..., description="accept or reject.")
    reason: str = Field(..., description="Why.")
    plan_version: int = Field(..., description="Plan version in force when deciding.")
    new_plan_version: int | None = Field(None, description="The plan version an acceptance created.")
    decided_by: str = Field(..., description="Name of the approver's token.")
    decided_at: datetime = Field(..., description="When (UTC).")


class ReviewPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 1, "status": "succeeded", "assumption_set_id": 1, "plan_version": 1, "time_limit_s": 60.0,
        "in_force_only": False, "created_by": "ana", "submitted_at": "2026-04-02T09:15:00Z",
        "started_at": "2026-04-02T09:15:00Z", "finished_at": "2026-04-02T09:15:25Z", "canceled_at": None,
        "duration_s": 24.9, "error": None, "decision": None,
        "summary": {"solver_status": "optimal", "currency": "EUR",
                    "effect": {"margin": 3187070.2, "revenue": 6594648.6, "alignment_efficiency": 0.0801},
                    "comparison": [
                        {"plan": "recommended", "alignment_efficiency": 0.7605, "margin": 30251297.5,
                         "revenue": 66462652.5, "pay_cost": None, "pay_cost_share": None},
                        {"plan": "in_force", "alignment_efficiency": 0.6804, "margin": 27064227.3,
                         "revenue": 59868003.8, "pay_cost": None, "pay_cost_share": None}],
                    "adjustments": 2700, "soft_slacks": [], "selected": "incentive LP (best simulated margin of 4 weightings)",
                    "message": "", "pay_visible": False}}]})

    id: int = Field(..., description="Review id.")
    status: Literal["queued", "running", "succeeded", "failed", "canceled"] = Field(..., description="Job status.")
    assumption_set_id: int | None = Field(None, description="The assumption set reviewed.")
    plan_version: int | None = Field(None, description="Plan version in force when the review was submitted.")
    time_limit_s: float = Field(..., description="Solver time limit per solve (seconds).")
    in_force_only: bool = Field(False, description="Whether only the components in force were reweighed.")
    rules: dict = Field(default_factory=dict, description="The rule overrides of the request (max_components, "
                                                          "max_pay_cut, …); company.yaml's values for the others.")
    calibration_id: int | None = Field(None, description="The calibration whose behaviour model the review used, if any.")
    created_by: str = Field(..., description="Who submitted it.")
    submitted_at: datetime = Field(..., description="Queued at (UTC).")
    started_at: datetime | None = Field(None, description="Started running at (UTC).")
    finished_at: datetime | None = Field(None, description="Reached its terminal status at (UTC).")
    canceled_at: datetime | None = Field(None, description="Canceled at (UTC).")
    duration_s: float | None = Field(None, description="Running time in seconds.")
    error: str | None = Field(None, description="Why it failed or was canceled.")
    phase: str | None = Field(None, description="What the engine is doing (while running): plan_lp, targets, "
                                                "incentive_lp, simulations, selection.")
    progress: float | None = Field(None, ge=0, le=1, description="Share of the work done, 0–1 (1 once succeeded).")
    updated_at: datetime | None = Field(None, description="When the worker last reported its phase or progress (UTC).")
    summary: ReviewSummary | None = Field(None, description="The recommendation's summary once succeeded.")
    decision: DecisionPublic | None = Field(None, description="The decision taken on it, if any.")


class ReviewsPublic(BaseModel):
    data: list[ReviewPublic] = Field(..., description="Reviews, newest first.")
    count: int = Field(..., description="Number of reviews matching the query (before paging).")


class AdjustmentRow(BaseModel):
    rep_id: str = Field(..., description="Rep.")
    market_id: str | None = Field(None, description="The rep's market.")
    component_id: str = Field(..., description="Plan component (KPI the rep is paid on).")
    period: str = Field(..., description="Open period.")
    in_force: float | None = Field(None, description="Target in force.")
    recommended: float | None = Field(None, description="Recommended target.")
    delta: float | None = Field(None, description="recommended − in_force.")
    cause: str | None = Field(None, description="What moves the target most: assumptions, replanning, "
                              "pay_cut_repair, target_level, coverage, new_component, dropped or unchanged.")
    reason: str = Field("", description="Why the target moves.")
    cause: str | None = Field(None, description="The reason's kind: assumptions, replanning, pay_cut_repair, "
                                                "target_level, coverage, new_component or dropped.")


class WeightChangeRow(BaseModel):
    component_id: str = Field(..., description="Plan component (in force or candidate).")
    metric: str = Field(..., description="Metric of the component.")
    products: str = Field(..., description="Products of the component (`*`, group:NAME or ids).")
    label: str | None = Field(None, description="The component in words, e.g. 'orders of new products'.")
    in_force: float | None = Field(None, description="Weight in force (0 for a new candidate).")
    recommended: float | None = Field(None, description="Recommended weight.")
    delta: float | None = Field(None, description="recommended − in_force.")


class AdjustmentsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"review_id": 1, "count": 1, "total": 1, "offset": 0, "data": [
        {"rep_id": "R25", "market_id": "south", "component_id": "revenue", "period": "2026-04", "in_force": 151000.0, "recommended": 98000.0,
         "delta": -53000.0, "cause": "assumptions",
         "reason": "re-planned from the plan LP under assumptions 'south-freeze'"}],
        "weight_changes": [{"component_id": "revenue", "metric": "revenue", "products": "*", "in_force": 0.7,
                            "recommended": 0.4, "delta": -0.3}]}]})

    review_id: int = Field(..., description="The review.")
    data: list[AdjustmentRow] = Field(..., description="Plan adjustments per rep, component and period (this page).")
    count: int = Field(..., description="Rows of `data` (this page).")
    total: int = Field(..., description="Rows matching the filters, before paging.")
    offset: int = Field(0, description="Rows skipped before this page.")
    weight_changes: list[WeightChangeRow] = Field(..., description="Component weight changes.")


class ExplanationPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"review_id": 1, "solver_status": "optimal",
        "binding": [{"family": "capacity", "rep_id": "R12", "period": "2026-11", "worth": 618.4, "unit": "selling hour",
                     "message": "one more selling hour of rep R12 in 2026-11 is worth 618 EUR"}],
        "soft_slacks": [], "messages": ["one more selling hour of rep R12 in 2026-11 is worth 618 EUR"],
        "incentive_binding": ["sum_to_one", "change_limit"]}]})

    review_id: int = Field(..., description="The review.")
    solver_status: str = Field(..., description="Status of the plan LP behind the recommendation.")
    binding: list[dict] = Field(..., description="Binding constraints with their dual values, mapped to domain rows (§4.7).")
    soft_slacks: list[dict] = Field(..., description="Soft constraints that needed slack, by name and amount.")
    messages: list[str] = Field(..., description="The same, as sentences.")
    incentive_binding: list[str] = Field(default_factory=list, description="Constraints of the incentive LP that bind "
                                         "(sum_to_one, bounds, change_limit, budget).")


# ---------------------------------------------------------------------------------------------
# Plans


class PlanPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 2, "in_force": True, "origin": "review 1 accepted", "review_id": 1,
        "created_by": "vp-sales", "created_at": "2026-04-02T10:02:11Z",
        "components": [{"component_id": "revenue", "metric": "revenue", "products": "*", "weight": 0.4},
                       {"component_id": "new_orders", "metric": "orders", "products": "group:new", "weight": 0.32},
                       {"component_id": "margin", "metric": "margin", "products": "*", "weight": 0.28}],
        "curve": [{"attainment": 0.0, "payout": 0.0}, {"attainment": 1.0, "payout": 1.0}], "targets": None}]})

    version: int = Field(..., description="Plan version (immutable, numbered from 1).")
    in_force: bool = Field(..., description="Whether this version is the plan in force.")
    origin: str = Field(..., description="Where it came from (a loaded dataset, an accepted review).")
    review_id: int | None = Field(None, description="The review whose acceptance created it.")
    created_by: str = Field(..., description="Who loaded or accepted it.")
    created_at: datetime = Field(..., description="When (UTC).")
    components: list[dict] | None = Field(None, description="component_id, metric, products, weight.")
    curve: list[dict] | None = Field(None, description="Payout curve points (attainment, payout).")
    targets: list[dict] | None = Field(None, description="rep_id, component_id, period, target (with ?targets=true).")


class PlanDiffPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"a": 1, "b": 2,
        "components": [{"component_id": "revenue", "metric": "revenue", "products": "*", "op": "reweighted",
                        "weight_a": 0.7, "weight_b": 0.4, "delta": -0.3},
                       {"component_id": "margin", "metric": "margin", "products": "*", "op": "added",
                        "weight_a": None, "weight_b": 0.3, "delta": 0.3}],
        "curve_a": [{"attainment": 0.0, "payout": 0.0}, {"attainment": 1.0, "payout": 1.0}],
        "curve_b": [{"attainment": 0.0, "payout": 0.0}, {"attainment": 1.0, "payout": 1.0}], "curve_changed": False,
        "targets_changed": 1, "targets_by_component": [{"component_id": "revenue", "total_a": 151000.0,
                                                        "total_b": 98000.0, "change_share": -0.350993}],
        "target_changes": [{"rep_id": "R25", "component_id": "revenue", "period": "2026-04", "target_a": 151000.0,
                            "target_b": 98000.0, "delta": -53000.0}]}]})

    a: int = Field(..., description="The version compared from.")
    b: int = Field(..., description="The version compared to.")
    components: list[dict] = Field(..., description="Per component: op (added, removed, reweighted, unchanged), "
                                                    "weight_a, weight_b, delta.")
    curve_a: list[dict] = Field(..., description="Payout curve of version a.")
    curve_b: list[dict] = Field(..., description="Payout curve of version b.")
    curve_changed: bool = Field(..., description="Whether the payout curve differs.")
    targets_changed: int = Field(..., description="Target rows (rep, component, period) that differ at the cent.")
    targets_by_component: list[dict] = Field(..., description="Per component: total target in a and b, change share.")
    target_changes: list[dict] = Field(..., description="The changed target rows, largest change first (at most `rows`).")


class PlansPublic(BaseModel):
    data: list[PlanPublic] = Field(..., description="Plan versions, oldest first.")
    count: int = Field(..., description="Number of versions.")
    in_force: int | None = Field(None, description="Version in force.")


# ---------------------------------------------------------------------------------------------
# Actuals


class ActualIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    rep_id: Ident = Field(..., description="Rep id.")
    product_id: Ident = Field(..., description="Product id, or `*` for rep-level activity.")
    period: Ident = Field(..., description="A closed period label.")
    orders: Quantity = Field(0.0, description="Orders (must be 0 on `*` rows).")
    calls: Quantity = Field(0.0, description="Calls.")
    meetings: Quantity = Field(0.0, description="Meetings.")
    quotes: Quantity = Field(0.0, description="Quotes.")


class ActualsUpsert(BaseModel):
    """Actuals to insert or replace by (rep_id, product_id, period). Sending the same rows again
    changes nothing. `current_period` closes periods up to it first (it only moves forward)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [{
        "current_period": "2026-03",
        "rows": [{"rep_id": "R01", "product_id": "plc-classic", "period": "2026-03", "orders": 1,
                  "calls": 26, "meetings": 5, "quotes": 3}]}]})

    rows: list[ActualIn] = Field(..., min_length=1, max_length=MAX_ACTUALS_ROWS, description="Actuals rows.")
    current_period: Ident | None = Field(None, description="Close the periods up to this one before upserting.")


class ActualsUpsertPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"inserted": 1150, "updated": 50, "unchanged": 0, "current_period": "2026-03"}]})

    inserted: int = Field(..., description="New rows.")
    updated: int = Field(..., description="Rows whose figures changed.")
    unchanged: int = Field(..., description="Rows already stored with the same figures.")
    current_period: str | None = Field(None, description="The company's last closed period after the request.")
    missing_reps: dict[str, list[str]] = Field(default_factory=dict, description="Periods this request closed, "
                                               "each with the reps that have no actuals row in it (their figures count as zero).")
    warnings: list[str] = Field(default_factory=list, description="The same, as sentences.")


# ---------------------------------------------------------------------------------------------
# Alarms, audit, benchmarks


class AlarmPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"alarm_id": "pace:market:south:revenue", "kind": "pace", "level": "market", "scope_id": "south",
        "rep_id": None, "team": None, "market_id": "south", "kpi": "revenue", "metric": "revenue", "products": "*",
        "product_ids": ["plc-classic", "scada-7"], "actual_to_date": 2333300.0, "target_to_date": 3714700.0,
        "pace": 0.628, "target_year": 15420000.0, "forecast_year": 9333200.0, "forecast_attainment": 0.605,
        "needed_per_period": None, "activity_per_period": None, "funnel_coverage": None, "severity": "critical",
        "direction": "behind",
        "message": "market south: revenue (revenue of *) at 63% of target to date; run-rate forecast 9,333,200 "
                   "for the year, 61% of its target",
        "suggested_adjustment": {"markets": ["south"], "periods": {"from": "2026-04"}, "demand": 0.63,
                                 "reason": "alarm pace:market:south:revenue: 63% of target to date"},
        "review_id": None}]})

    alarm_id: str = Field(..., description="kind:level:scope:kpi — stable between calls.")
    kind: Literal["pace", "funnel"] = Field(..., description="pace: actual ÷ target to date; funnel: activity ÷ need.")
    level: Literal["rep", "team", "market", "company"] = Field(..., description="Aggregation level.")
    scope_id: str = Field(..., description="The rep, team or market id (`*` for the company).")
    rep_id: str | None = Field(None, description="Rep (rep level).")
    team: str | None = Field(None, description="Team, when the scope lies in one.")
    market_id: str | None = Field(None, description="Market, when the scope lies in one.")
    kpi: str = Field(..., description="Plan component the KPI measures.")
    metric: str = Field(..., description="revenue, margin, orders, quotes, meetings or calls.")
    products: str = Field(..., description="Products of the KPI (`*`, group:NAME or ids).")
    product_ids: list[str] = Field(..., description="The product ids covered.")
    actual_to_date: float | None = Field(..., description="Actual metric over the closed periods (null if not finite).")
    target_to_date: float | None = Field(..., description="Target over the closed periods (null if not finite).")
    pace: float | None = Field(None, description="actual_to_date ÷ target_to_date.")
    target_year: float | None = Field(..., description="Target over all periods (null if not finite).")
    forecast_year: float | None = Field(..., description="Run-rate forecast: actual ÷ closed periods × all periods "
                                                         "(null if not finite).")
    forecast_attainment: float | None = Field(None, description="forecast_year ÷ target_year.")
    needed_per_period: float | None = Field(None, description="(funnel) What each open period needs.")
    activity_per_period: float | None = Field(None, description="(funnel) What the calls lead to per period.")
    funnel_coverage: float | None = Field(None, description="(funnel) activity ÷ need.")
    severity: Literal["critical", "warning", "watch", "ok"] = Field(..., description="See `thresholds`.")
    direction: Literal["behind", "on_plan", "ahead"] = Field(..., description="Behind or ahead of plan.")
    at_stake: float | None = Field(None, description="Margin at stake (money): the year's shortfall in the KPI's unit "
                                   "× the margin one unit brought so far (optimizer/review/alarms.py); 0 when on or "
                                   "ahead of plan, null without any actual to price it.")
    message: str = Field(..., description="The alarm in one sentence.")
    suggested_adjustment: dict | None = Field(None, description="An assumption adjustment (§2) a review would test.")
    review_id: int | None = Field(None, description="The newest review whose assumptions cover the alarm's scope.")


class AlarmsPublic(BaseModel):
    data: list[AlarmPublic] = Field(..., description="Alarms, worst first (this page).")
    count: int = Field(..., description="Number of alarms matching the filters, before paging (`data` holds at most `limit`).")
    offset: int = Field(0, description="Alarms skipped before this page.")
    current_period: str | None = Field(None, description="Last closed period.")
    plan_version: int | None = Field(None, description="Plan version the alarms measure against.")
    thresholds: dict[str, float] = Field(..., description="Severity thresholds on pace or funnel coverage.")


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 12, "at": "2026-04-02T10:02:11Z", "actor": "vp-sales", "role": "approver",
        "action": "decision.accept", "target": "review:1",
        "detail": {"reason": "Freeze confirmed", "plan_version": 1, "new_plan_version": 2}}]})

    id: int = Field(..., description="Entry id (increasing).")
    at: datetime = Field(..., description="When (UTC).")
    actor: str = Field(..., description="Token name (or `cli`).")
    role: str = Field(..., description="Role of the actor.")
    action: str = Field(..., description="What was done, e.g. review.create, decision.accept.")
    target: str = Field(..., description="What it was done to, e.g. review:3.")
    detail: dict = Field(..., description="Particulars.")


class AuditPublic(BaseModel):
    data: list[AuditEntryPublic] = Field(..., description="Entries, newest first.")
    count: int = Field(..., description="Entries matching the query (before paging).")


class BenchmarkCreate(BaseModel):
    """Run a benchmark as a job: on a synthetic instance (reps, products, …) or on the loaded company
    (`{"dataset": "loaded"}`). How large an instance a role may ask for is a service setting
    (`COMPTUNE_BENCHMARK_LIMITS`); past it → 422 naming the field and the limit."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"reps": 50, "products": 8, "periods": 12}, {"dataset": "loaded", "repeats": 1}]})

    # The bounds here hold for every role; the role's own, smaller ones are checked by the route.
    dataset: Literal["loaded"] | None = Field(
        None, description="`loaded`: benchmark the company the service has loaded (its plan in force and "
                          "actuals); the size fields must then be left out.")
    reps: int | None = Field(None, ge=1, le=5_000, description="Reps of the synthetic instance (required without `dataset`).")
    products: int | None = Field(None, ge=1, le=200, description="Products (required without `dataset`).")
    periods: int = Field(12, ge=1, le=36, description="Periods.")
    markets: int = Field(8, ge=1, le=100, description="Markets.")
    seed: int = Field(0, ge=0, le=MAX_ID, description="Seed of the generator.")
    repeats: int = Field(1, ge=1, le=10, description="Repetitions of each timed path (their median is reported).")


class BenchmarkPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 7, "status": "succeeded", "params": {"reps": 50, "products": 8, "periods": 12, "markets": 8,
        "seed": 0, "repeats": 1}, "created_by": "eng", "submitted_at": "2026-04-02T11:00:00Z",
        "started_at": "2026-04-02T11:00:00Z", "finished_at": "2026-04-02T11:00:12Z", "error": None,
        "result": {"variables": 4800, "constraints": 1500, "build_s": 0.02, "solve_s": 0.05, "resolve_s": 0.01,
                   "iterations": 900, "status": "optimal"}}]})

    id: int = Field(..., description="Benchmark id (benchmarks are numbered on their own, apart from reviews).")
    status: Literal["queued", "running", "succeeded", "failed", "canceled"] = Field(..., description="Job status.")
    params: dict = Field(..., description="Instance and options.")
    created_by: str = Field(..., description="Who submitted it.")
    submitted_at: datetime = Field(..., description="Queued at (UTC).")
    started_at: datetime | None = Field(None, description="Started at (UTC).")
    finished_at: datetime | None = Field(None, description="Finished at (UTC).")
    canceled_at: datetime | None = Field(None, description="Canceled at (UTC).")
    error: str | None = Field(None, description="Why it failed or was canceled.")
    phase: str | None = Field(None, description="What the benchmark is timing now (while running).")
    updated_at: datetime | None = Field(None, description="When the worker last reported its phase (UTC).")
    result: dict | None = Field(None, description="What run_benchmark reported (times, sizes, iterations, and "
                                                  "`peak_rss_mb`: the peak memory of the worker process that "
                                                  "ran the product path, `floor_peak_rss_mb` of HiGHS alone).")


class BenchmarksPublic(BaseModel):
    data: list[BenchmarkPublic] = Field(..., description="Benchmarks, newest first.")
    count: int = Field(..., description="Number of benchmarks.")


class BenchmarkComparisonRow(BaseModel):
    id: int = Field(..., description="Benchmark id.")
    params: dict = Field(..., description="Instance and options.")
    figures: dict[str, float | None] = Field(..., description="Sizes, times (s), iterations, objective, memory.")
    ratio_to_baseline: dict[str, float | None] = Field(..., description="Each figure ÷ the baseline's.")


class BenchmarkComparisonPublic(BaseModel):
    baseline_id: int = Field(..., description="The benchmark the ratios are relative to.")
    data: list[BenchmarkComparisonRow] = Field(..., description="One row per benchmark, in the order asked.")


class SweepCreate(BaseModel):
    """A scenario sweep over the current dataset (as a job): the sweep file's content (models/sweep.py)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "sweep": {"name": "south-and-new", "mode": "grid", "criterion": "worst", "factors": [
            {"markets": ["south"], "factor": "demand", "values": [0.5, 1.0]},
            {"products": ["group:new"], "factor": "price", "values": [0.9, 1.1]}]},
        "time_limit_s": 60}]})

    sweep: dict = Field(..., description="name, mode (grid | monte_carlo), criterion (expected | worst), factors "
                                         "(factor demand|price|conversion, markets, products, values or range), "
                                         "draws and seed (monte_carlo).")
    time_limit_s: float | None = Field(None, gt=0, allow_inf_nan=False,
                                       description="Solver time limit per scenario (seconds); at most the role's cap.")


class SweepPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 12, "status": "succeeded", "params": {"sweep": {"name": "south-and-new"}}, "created_by": "ana",
        "submitted_at": "2026-04-02T11:00:00Z", "started_at": "2026-04-02T11:00:00Z",
        "finished_at": "2026-04-02T11:00:09Z", "error": None,
        "summary": {"n_scenarios": 4, "choice": {"criterion": "worst", "candidate": "s1"}}, "result": None}]})

    id: int = Field(..., description="Sweep job id.")
    status: str = Field(..., description="Job status: queued, running, succeeded, failed, canceled.")
    params: dict = Field(..., description="The sweep as submitted.")
    created_by: str = Field(..., description="Who submitted it.")
    submitted_at: datetime = Field(..., description="Queued at (UTC).")
    started_at: datetime | None = Field(None, description="Started at (UTC).")
    finished_at: datetime | None = Field(None, description="Finished at (UTC).")
    canceled_at: datetime | None = Field(None, description="Canceled at (UTC).")
    error: str | None = Field(None, description="Why it failed (e.g. an unreachable Dask scheduler, named).")
    summary: dict | None = Field(None, description="Scenarios, seconds and the robust choice.")
    result: dict | None = Field(None, description="The full result (candidates, scenarios, scores): "
                                                  "GET /v1/sweeps/{id}?full=true.")


class SweepsPublic(BaseModel):
    data: list[SweepPublic] = Field(..., description="Sweeps, newest first (without their tables).")
    count: int = Field(..., description="Number of sweeps matching the query (before paging).")


class CalibrationPlanSpan(BaseModel):
    """The plan version the reps were paid on over some closed periods of the history."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    periods: dict[str, Ident] = Field(..., description="{from, to}: an inclusive range of closed period labels "
                                                      "(either end may be omitted: the history's first or last).")
    plan_version: int = Field(..., ge=1, le=MAX_ID, description="A stored plan version.")


class CalibrationCreate(BaseModel):
    """Calibrate the current dataset's behaviour model from its stored actuals (DESIGN.md §4.11), as a job."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"holdout": 1}, {"holdout": 3, "plans": [{"periods": {"from": "2026-01", "to": "2026-02"}, "plan_version": 1},
                                                  {"periods": {"from": "2026-03"}, "plan_version": 2}]}]})

    holdout: int = Field(0, ge=0, le=1000, description="Fit on all but the last K closed months and predict those.")
    plans: list[CalibrationPlanSpan] | None = Field(
        None, max_length=1000, description="Which plan version was in force when; default: the plan in force for "
                                           "the whole history. Gaps and overlaps are refused.")
    polish_rounds: int = Field(2, ge=-1, le=10, description="Rounds of the judge's check of the fit (-1: none).")
    time_limit_s: float | None = Field(None, gt=0, allow_inf_nan=False,
                                       description="Wall-clock limit of the job (seconds); the service default when omitted.")


class CalibrationPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 7, "status": "succeeded", "params": {"holdout": 1, "plans": [{"periods": ["2026-01", "2026-02", "2026-03"],
                                                                              "plan_version": 1}]},
        "created_by": "ana", "submitted_at": "2026-04-02T09:00:00Z", "started_at": "2026-04-02T09:00:00Z",
        "finished_at": "2026-04-02T09:00:04Z", "error": None, "phase": None, "progress": 1.0,
        "summary": {"history": {"months": 3}, "comfort_status": {"interval": 120, "lower bound": 180}}, "result": None}]})

    id: int = Field(..., description="Calibration job id.")
    status: Literal["queued", "running", "succeeded", "failed", "canceled"] = Field(..., description="Job status.")
    params: dict = Field(..., description="holdout, plans (periods and plan version per span), polish_rounds.")
    plan_version: int | None = Field(None, description="Plan version in force when it was submitted.")
    created_by: str = Field(..., description="Who submitted it.")
    submitted_at: datetime = Field(..., description="Queued at (UTC).")
    started_at: datetime | None = Field(None, description="Started at (UTC).")
    finished_at: datetime | None = Field(None, description="Finished at (UTC).")
    error: str | None = Field(None, description="Why it failed.")
    phase: str | None = Field(None, description="activity, comfort, holdout (while running).")
    progress: float | None = Field(None, ge=0, le=1, description="Share of the work done, 0–1.")
    summary: dict | None = Field(None, description="The report's summary (history, counts per identification status, "
                                                   "effort_aversion, in-sample fit) and the holdout errors.")
    result: dict | None = Field(None, description="With ?full=true: the estimates per rep × product and market × "
                                                  "product (also GET /v1/calibrations/{id}/rep_products or /funnel).")


class CalibrationsPublic(BaseModel):
    data: list[CalibrationPublic] = Field(..., description="Calibrations, newest first.")
    count: int = Field(..., description="How many there are in all.")


# ---------------------------------------------------------------------------------------------
# Replays and corrections (issue 18)

REPLAY_POLICIES = ("static", "quarterly", "monthly", "oracle")  # optimizer.replay.POLICIES (checked by a test)
MAX_REPLAY_NOISE = 2.0  # sigma of the log-normal factor: 2 already multiplies orders by up to e^±4
MAX_ACCEPT_THRESHOLD = 0.5


class ReplayCreate(BaseModel):
    """Replay the plan year month by month under a world (DESIGN.md §2 assumption set, the truth the
    company does not know) with each policy; the world is given inline (`world`) or as the id of a
    stored assumption set (`world_id`): exactly one of the two."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"world_id": 1, "policies": ["static", "quarterly", "monthly", "oracle"], "noise": 0.0, "seeds": 1,
         "gaming_reps": 20},
        {"world": SOUTH_FREEZE, "policies": ["static", "oracle"], "gaming_reps": 0}]})

    world: AssumptionSet | None = Field(None, description="The world as a §2 assumption set (name, adjustments); "
                                        "its `parent` is ignored.")
    world_id: int | None = Field(None, ge=1, le=MAX_ID, description="Or: the id of a stored assumption set.")
    policies: list[str] | None = Field(None, min_length=1, max_length=len(REPLAY_POLICIES),
                                       description=f"Which policies to replay, of {', '.join(REPLAY_POLICIES)} "
                                                   "(default all four).")
    noise: float = Field(0.0, ge=0, le=MAX_REPLAY_NOISE, allow_inf_nan=False,
                         description="Sigma of the log-normal factor on realized orders per rep, product and month "
                                     "(0: deterministic).")
    seeds: int = Field(1, ge=1, le=MAX_ID, description="Replays per policy (mean and spread); at most "
                                                       "COMPTUNE_MAX_REPLAY_SEEDS.")
    accept_threshold: float = Field(0.005, ge=0, le=MAX_ACCEPT_THRESHOLD, allow_inf_nan=False,
                                    description="A re-planning policy accepts a recommendation whose expected net "
                                                "margin beats keeping the plan by more than this share of plan margin.")
    gaming_reps: int = Field(20, ge=0, le=MAX_ID, description="Reps sampled for the gaming audit (0: no audit); at "
                                                              "most COMPTUNE_MAX_REPLAY_GAMING_REPS.")
    seed: int = Field(0, ge=0, le=MAX_ID, description="Seed of the noise and of the gaming audit's sample.")
    time_limit_s: float | None = Field(None, gt=0, allow_inf_nan=False,
                                       description="Wall-clock limit of the whole replay (seconds); at most and by "
                                                   "default COMPTUNE_MAX_REPLAY_SECONDS.")


class ReplayPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 4, "status": "running", "world": {"name": "south-freeze", "assumption_set_id": 1},
        "options": {"policies": ["static", "oracle"], "noise": 0.0, "seeds": 1, "accept_threshold": 0.005,
                    "gaming_reps": 0, "seed": 0},
        "estimate": {"reviews": 1, "seconds": 12.0}, "plan_version": 1, "created_by": "ana",
        "submitted_at": "2026-04-02T09:00:00Z", "started_at": "2026-04-02T09:00:01Z", "finished_at": None,
        "phase": "oracle", "progress": 0.4, "pay_visible": False, "summary": None, "result": None}]})

    id: int = Field(..., description="Replay job id.")
    status: Literal["queued", "running", "succeeded", "failed", "canceled"] = Field(..., description="Job status.")
    world: dict = Field(..., description="The world's name and, when it is a stored set, its `assumption_set_id`.")
    options: dict = Field(..., description="policies, noise, seeds, accept_threshold, gaming_reps, seed.")
    estimate: dict | None = Field(None, description="The work the replay drives (reviews, simulations) and its "
                                                    "estimated seconds, as checked against the limits.")
    plan_version: int | None = Field(None, description="Plan version in force when it was submitted (the year's "
                                                       "starting plan).")
    time_limit_s: float = Field(..., description="Wall-clock limit of the replay (seconds).")
    created_by: str = Field(..., description="Who submitted it.")
    submitted_at: datetime = Field(..., description="Queued at (UTC).")
    started_at: datetime | None = Field(None, description="Started at (UTC).")
    finished_at: datetime | None = Field(None, description="Finished at (UTC).")
    canceled_at: datetime | None = Field(None, description="Canceled at (UTC).")
    duration_s: float | None = Field(None, description="Seconds from start to finish.")
    error: str | None = Field(None, description="Why it failed (a sentence about pay only for approver and admin).")
    phase: str | None = Field(None, description="What the replay is doing (policy and month) while it runs.")
    progress: float | None = Field(None, ge=0, le=1, description="Share of the work done, 0–1.")
    updated_at: datetime | None = Field(None, description="When the worker last reported.")
    pay_visible: bool = Field(..., description="Whether pay figures are filled in (approver and admin).")
    summary: dict | None = Field(None, description="Once succeeded: per policy its totals, reviews run, plans "
                                                   "accepted, pay stability and share of the oracle's gain.")
    result: dict | None = Field(None, description="GET /v1/replays/{id} once succeeded: the replay "
                                                  "(docs/replay.md) — per policy and month margin, revenue, pay, net "
                                                  "margin, the decisions and the gaming audit; pay figures null for "
                                                  "viewer and analyst.")


class ReplaysPublic(BaseModel):
    data: list[ReplayPublic] = Field(..., description="Replays, newest first (summaries; no result).")
    count: int = Field(..., description="How many match (before paging).")


class CorrectionCreate(BaseModel):
    """Run the correction system on the current dataset's closed periods (as a job): a proposed assumption
    set with the evidence of each factor; `store` keeps it as an assumption set a review can use."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"store": True, "name": "correction-2026-04"}, {"base_id": 1}]})

    name: Name | None = Field(None, description="Name of the proposed set (default: chosen by the engine).")
    base_id: int | None = Field(None, ge=1, le=MAX_ID, description="A stored assumption set to correct "
                                "(default: the dataset as given).")
    store: bool = Field(False, description="Store the proposal as an assumption set when the job succeeds "
                                           "(its id in `assumption_set_id`).")


class CorrectionPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 9, "status": "succeeded", "params": {"name": None, "base_id": None, "store": True},
        "created_by": "ana", "submitted_at": "2026-04-02T09:00:00Z", "started_at": "2026-04-02T09:00:00Z",
        "finished_at": "2026-04-02T09:00:02Z", "error": None, "phase": None, "progress": 1.0,
        "assumption_set_id": 12,
        "summary": {"adjustments": 3, "evidence": 48},
        "result": {"assumptions": {"name": "correction", "adjustments": [{"markets": ["south"], "products": ["P1"],
                   "periods": {"from": "2026-04"}, "demand": 0.62, "reason": "pace 0.55 over 3 months"}]},
                   "evidence": [{"market": "south", "product": "P1", "factor": "demand", "value": 0.62, "months": 3,
                                 "orders_actual": 110.0, "orders_expected": 200.0, "shrinkage": 0.15,
                                 "reason": "pace 0.55 over 3 months"}]}}]})

    id: int = Field(..., description="Correction job id.")
    status: Literal["queued", "running", "succeeded", "failed", "canceled"] = Field(..., description="Job status.")
    params: dict = Field(..., description="name, base_id, store as submitted.")
    plan_version: int | None = Field(None, description="Plan version in force when it was submitted.")
    created_by: str = Field(..., description="Who submitted it.")
    submitted_at: datetime = Field(..., description="Queued at (UTC).")
    started_at: datetime | None = Field(None, description="Started at (UTC).")
    finished_at: datetime | None = Field(None, description="Finished at (UTC).")
    error: str | None = Field(None, description="Why it failed.")
    phase: str | None = Field(None, description="What it is doing while it runs.")
    progress: float | None = Field(None, ge=0, le=1, description="Share of the work done, 0–1.")
    assumption_set_id: int | None = Field(None, description="The stored assumption set (with `store`, or after "
                                          "POST /v1/corrections/{id}/assumption-set).")
    summary: dict | None = Field(None, description="Counts of adjustments and evidence rows.")
    result: dict | None = Field(None, description="Once succeeded: `assumptions` (the proposed §2 set) and "
                                                  "`evidence` (per market, product and factor: value, months, orders "
                                                  "actual and expected, shrinkage, reason).")


class CorrectionsPublic(BaseModel):
    data: list[CorrectionPublic] = Field(..., description="Corrections, newest first (without their result).")
    count: int = Field(..., description="How many match (before paging).")
