"""The alignment engine (DESIGN.md §4.4–§4.9): recommend a plan a comp committee can sign, and compare it.

Pipeline: effective parameters → plan LP (§4.1) → targets for every candidate component cascaded
from the planned orders (§4.2) → the rule-keeping search (`optimizer.alignment.signable`: incentive LP per
component subset, payout curves of the family, per-rep target repair for the pay-cut rule, the exact
simulation as the judge) → the baselines at the same budget (the plan in force as is, a flat revenue
commission, an equal share of gross margin) → the outputs: comparison, frontier, pay impact,
every change with its reason, the per-rep target adjustments and the attribution of each market's
change to the assumption set and to re-planning.

Rules (`models.rules.Rules`, from company.yaml unless overridden): at most `max_components`
components; no rep's expected pay more than `max_pay_cut` below the plan in force; weights within
`max_weight_change` of the plan-year `baseline` (default: the plan in force); the curve in the
family; the budget — reported with its amount when the pay-cut rule needs more than it allows.
When no candidate keeps the component count and the pay-cut rule, the status is `rules_unmet`
and `unmet` names the rule and the amount. `recommend` is a pure function of data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
import time
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd

from models.assumptions import AssumptionSet
from models.dataset import Dataset, Plan, resolve_products
from models.rules import MARGIN, Rules, stricter_rules
from optimizer.alignment.attribution import attribution
from optimizer.plan.cascade import component_targets, orders_array
from optimizer.alignment.changes import component_changes, curve_changes, target_changes
from optimizer.parameters import Parameters, effective_parameters
from optimizer.alignment.pay_rules import pay_floor, pay_impact, pay_per_rep
from optimizer.plan.results import PlanResult
from optimizer.plan.targets import plan_targets
from optimizer.alignment.response import BatchMemo, Simulation, simulate
from optimizer.executor import Executor, open_executor
from optimizer.alignment.signable import SearchInputs, SearchResult, evaluate_candidates, search
from optimizer.solve import ERROR, FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions

logger = logging.getLogger(__name__)

__all__ = ["Recommendation", "recommend", "simulate", "baseline_plans", "RULES_UNMET"]

RULES_UNMET = "rules_unmet"  # no candidate keeps max_components and max_pay_cut: `unmet` says why
BASELINES = ("in_force", "flat_revenue", "gross_margin_share")
LINEAR_UNCAPPED = ((0.0, 0.0), (1.0, 1.0), (1000.0, 1000.0))  # pay ∝ metric (flat only after 1000 × target)
PLACEHOLDER_CURVE = ((0.0, 0.0), (1.0, 1.0))  # the targeted pool's curve before a family member is chosen


@dataclass
class Recommendation:
    """A recommended plan with its plan LP, alignment scores, comparison and every output of §4.9."""

    status: str  # optimal | feasible_time_limit | rules_unmet | infeasible | unbounded | error
    plan: Plan | None  # recommended plan (components, curve, targets)
    plan_result: PlanResult  # the plan LP behind the targets
    alignment: dict[str, float] = field(default_factory=dict)  # recommended, in_force, flat_revenue, gross_margin_share
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)  # plan, alignment_efficiency, margin, revenue, pay_cost, pay_cost_share
    adjustments: pd.DataFrame = field(default_factory=pd.DataFrame)  # rep_id, component_id, period, in_force, recommended, delta, reason
    weight_changes: pd.DataFrame = field(default_factory=pd.DataFrame)  # component_id, metric, products, in_force, recommended, delta
    binding: list[str] = field(default_factory=list)  # rules that bind: max_components, max_pay_cut, change_limit, budget
    selected: str = ""  # which candidate won, and why
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)  # every candidate the simulation judged
    pay_scale: float = 1.0  # factor on the curve's payout to meet the budget at target (1 = unchanged)
    message: str = ""
    public_message: str = ""  # the message without pay figures (for roles that may not see pay)
    seconds: float = 0.0
    simulations: dict[str, Simulation] = field(default_factory=dict)
    frontier: list[dict] = field(default_factory=list)  # best rule-keeping plan per component count
    pay_impact: dict = field(default_factory=dict)  # per rep in force vs recommended pay, losers, winners, ...
    changes: list[dict] = field(default_factory=list)  # every change with its reason
    attribution: dict = field(default_factory=dict)  # per market: assumption set's part vs re-planning's part
    rules: dict = field(default_factory=dict)  # the rules applied (after overrides)
    unmet: list[dict] = field(default_factory=list)  # rules not kept: {rule, amount, message}
    target_scale: pd.DataFrame = field(default_factory=pd.DataFrame)  # rep_id, scale (per-rep target factor)
    objective: dict = field(default_factory=dict)  # {"name": net_margin | margin, "value": the recommended plan's}
    coverage: list[dict] = field(default_factory=list)  # per component: targets against the planned metric
    rule_prices: list[dict] = field(default_factory=list)  # per rule: what it costs in the objective
    price_plans: dict[str, Plan] = field(default_factory=dict)  # per rule: the plan found with it lifted
    search: dict = field(default_factory=dict)  # how the search went: simulations, local search per count

    def to_dict(self) -> dict:
        """JSON-ready summary (per-rep rows for the adjustments and the pay impact)."""
        return {
            "status": self.status,
            "message": self.message,
            "alignment": self.alignment,
            "selected": self.selected,
            "binding": self.binding,
            "rules": self.rules,
            "unmet": self.unmet,
            "pay_scale": self.pay_scale,
            "plan_lp": {"status": self.plan_result.status, "margin": self.plan_result.margin,
                        "revenue": self.plan_result.revenue, "soft_slacks": self.plan_result.slacks},
            "comparison": _records(self.comparison),
            "objective": self.objective,
            "frontier": self.frontier,
            "coverage": self.coverage,
            "rule_prices": self.rule_prices,
            "search": self.search,
            "pay_impact": self.pay_impact,
            "changes": self.changes,
            "attribution": self.attribution,
            "candidates": _records(self.candidates),
            "weight_changes": _records(self.weight_changes),
            "adjustments": _records(self.adjustments),
            "plan": None if self.plan is None else {
                "components": _records(self.plan.components),
                "curve": _records(self.plan.curve),
            },
            "seconds": round(self.seconds, 3),
        }


def _records(frame: pd.DataFrame) -> list[dict]:
    if frame is None or len(frame) == 0:
        return []
    clean = frame.astype(object).where(pd.notna(frame), None)
    return [{k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in row.items()}
            for row in clean.to_dict(orient="records")]


# --------------------------------------------------------------------------------------------
# Plans


def make_plan(dataset: Dataset, params: Parameters, orders: pd.DataFrame, components: list[tuple[str, str, str, float]],
              curve, *, keep_closed_from: Plan | None = None) -> Plan:
    """A plan whose targets are the planned orders' metrics (attainment 1 at the plan) in open periods."""
    frame = pd.DataFrame(components, columns=["component_id", "metric", "products", "weight"])
    products = {}
    for k, _, spec, _ in components:
        resolved = resolve_products(spec, dataset.product_ids, dataset.groups)
        if isinstance(resolved, str):
            raise ValueError(f"component {k!r}: {resolved}")
        products[k] = tuple(resolved)
    curve_frame = curve if isinstance(curve, pd.DataFrame) else pd.DataFrame(list(curve), columns=["attainment", "payout"])
    shape = Plan(components=frame, curve=curve_frame.reset_index(drop=True),
                 targets=pd.DataFrame(columns=["rep_id", "component_id", "period", "target"]),
                 component_products=products)
    targets = component_targets(params, orders, shape, keep_closed_from=keep_closed_from)
    return Plan(components=frame, curve=shape.curve, targets=targets, component_products=products)


def scaled_curve(curve: pd.DataFrame, factor: float) -> pd.DataFrame:
    out = curve[["attainment", "payout"]].copy().reset_index(drop=True)
    out["payout"] = out["payout"] * factor
    return out


def candidate_components(dataset: Dataset, in_force_only: bool, *, per_product: bool = False
                         ) -> list[tuple[str, str, str, float]]:
    """Components in force, plus a margin component per product group (and per product) and on all products."""
    out: list[tuple[str, str, str, float]] = []
    plan = dataset.plan
    if plan is not None:
        for row in plan.components.itertuples():
            out.append((row.component_id, row.metric, row.products, float(row.weight)))
    if plan is not None and in_force_only:
        return out
    taken = {k for k, *_ in out}
    have = {(metric, tuple(resolve_products(spec, dataset.product_ids, dataset.groups))) for _, metric, spec, _ in out}
    for group in dataset.groups:
        key = ("margin", tuple(dataset.groups[group]))
        name = f"margin_{group}"
        if key not in have and name not in taken:
            out.append((name, "margin", f"group:{group}", 0.0))
            have.add(key)
    if per_product:
        for product in dataset.product_ids:
            key, name = ("margin", (product,)), f"margin_{product}"
            if key not in have and name not in taken:
                out.append((name, "margin", product, 0.0))
                have.add(key)
    if ("margin", tuple(dataset.product_ids)) not in have and "margin" not in taken:
        out.append(("margin", "margin", "*", 0.0))
    if plan is None:  # nothing in force: start from equal weights (no change limit applies)
        out = [(k, m, s, 1.0 / len(out)) for k, m, s, _ in out]
    return out


def candidate_count(dataset: Dataset, in_force_only: bool) -> int:
    """How many components a recommendation weighs (the pool `search_inputs` builds): the most a
    plan can pay on, so the bound of `max_components` (models.rules.check_rule_sizes)."""
    return len(candidate_components(dataset, in_force_only, per_product=not in_force_only))


def budget_of(rate: float, plan_result: PlanResult) -> float:
    """comp_budget_rate × planned revenue (open periods)."""
    return rate * (plan_result.revenue or 0.0)


def budget_scale(params: Parameters, plan_result: PlanResult, rate: float | None = None) -> float:
    """κ ≤ 1 so that pay at target, κ·Σ_{r,t} tvp, stays within comp_budget_rate × planned revenue."""
    rate = params.company.comp_budget_rate if rate is None else rate
    pay_at_target = params.pay_at_target()
    budget = budget_of(rate, plan_result)
    if pay_at_target <= 0 or budget >= pay_at_target:
        return 1.0
    return budget / pay_at_target


def baseline_plans(dataset: Dataset, params: Parameters, orders: pd.DataFrame, pay_scale: float) -> dict[str, Plan]:
    """The three baselines of §4.4 at the recommendation's budget (pay at plan = pay_scale·tvp).

    Flat revenue commission and gross-margin share: one component on all products with targets at
    the planned metric and a linear uncapped curve, so pay = pay_scale·tvp·metric/planned metric —
    a per-rep commission rate on revenue (resp. margin). The plan in force is taken as it is.
    """
    linear = scaled_curve(pd.DataFrame(LINEAR_UNCAPPED, columns=["attainment", "payout"]), pay_scale)
    plans = {
        "flat_revenue": make_plan(dataset, params, orders, [("revenue", "revenue", "*", 1.0)], linear),
        "gross_margin_share": make_plan(dataset, params, orders, [("margin", "margin", "*", 1.0)], linear),
    }
    if dataset.plan is not None:
        plans = {"in_force": dataset.plan, **plans}
    return plans


# --------------------------------------------------------------------------------------------
# Entry point


def recommend(
    dataset: Dataset,
    assumptions: AssumptionSet | None = None,
    *,
    options: SolveOptions | None = None,
    in_force_only: bool = False,
    rules: Rules | None = None,
    baseline: Plan | None = None,
    parent: AssumptionSet | None = None,
    progress: Callable[[str, float], None] | None = None,
    plan_result: PlanResult | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    rule_prices: bool = True,
) -> Recommendation:
    """Recommend the plan with the best net margin (or margin: `rules.objective`) under the rules, and compare it.

    `rules` default to the company's; `baseline` is the plan-year baseline the change limit counts
    from (default: the plan in force); `parent` the assumptions the set was derived from (for the
    attribution; default none). `progress(phase, share)` is called as the work moves on: phase one of
    plan_lp, targets, incentive_lp, simulations, selection; share the overall share done, in [0, 1].
    `plan_result`: the plan LP already solved for this dataset and these assumptions (the service
    solves it warm from stored block bases); solved here when not given. The (rep, period)
    simulations run through `executor`, else through one opened here for `workers` processes (or the
    Dask scheduler named by COMPTUNE_DASK_SCHEDULER); the incentive LPs run in `workers` threads.
    `rule_prices=False` skips the search for the price of each rule (for callers that run many
    recommendations and read only the plan and its comparison).
    """
    if executor is None:
        with open_executor(workers) as opened:
            return recommend(dataset, assumptions, options=options, in_force_only=in_force_only, rules=rules,
                             baseline=baseline, parent=parent, progress=progress, plan_result=plan_result,
                             workers=workers, executor=opened, rule_prices=rule_prices)
    tracker = _Progress(progress)
    started = time.perf_counter()
    tracker.enter("plan_lp", 0.0)
    rules = rules or dataset.company.rules
    params = effective_parameters(dataset, assumptions)
    if plan_result is None:
        plan_result = plan_targets(dataset, assumptions, options=options, params=params)
    failure = _plan_lp_failure(dataset, params, plan_result)
    if failure is not None:
        return Recommendation(status=failure[0], plan=None, plan_result=plan_result, message=failure[1],
                              rules=rules.to_dict(), seconds=time.perf_counter() - started)
    tracker.enter("targets", 0.2)
    orders = plan_result.orders.copy()
    orders["orders"] = orders["orders"].where(orders["orders"] > 1e-7, 0.0)  # solver noise is not a target
    # one memo of solved (rep, period) batches for all of this recommendation's simulations
    memo = BatchMemo()
    evaluate = tracker.evaluating(partial(evaluate_candidates, dataset=dataset, params=params,
                                          plan_margin=plan_result.margin, executor=executor, memo=memo))
    in_force_sim = evaluate([dataset.plan])[0] if dataset.plan is not None else None
    tracker.enter("incentive_lp", 0.25)
    inputs = search_inputs(dataset, params, plan_result, orders, rules, baseline, in_force_only, in_force_sim,
                           evaluate, threads=max(1, workers), prices=rule_prices)
    company = _company_rules(dataset)
    stricter = stricter_rules(rules, company)
    if stricter != _resolved(rules, dataset) and _budget_rate(dataset, stricter) == _budget_rate(dataset, rules):
        # loosened from the company's rules: the answer under the stricter rules is a start of this search
        tight = search(search_inputs(dataset, params, plan_result, orders, stricter, baseline, in_force_only,
                                     in_force_sim, evaluate, threads=max(1, workers), prices=False))
        if tight.best is not None:
            inputs.starts, inputs.space = [tight.best.judged], tight.space
    found = search(inputs)
    tracker.enter("selection", 0.95)
    clock = time.perf_counter()
    simulations = baseline_simulations(dataset, params, orders, inputs.pay_scale, in_force_sim, evaluate)
    if memo is not None:
        logger.info("simulations: %d batches solved, %d taken from the memo (%d kept, %.0f MB)",
                    memo.solved, memo.hits, len(memo), memo.bytes / 2**20)
    applied = {**rules.to_dict(), "comp_budget_rate": _budget_rate(dataset, rules),
               "max_weight_change": inputs.max_weight_change}
    search_info = {"simulations": found.simulations, "candidates": len(found.candidates), "local_search": found.local}
    if found.best is None:
        tracker.enter("selection", 1.0)
        return Recommendation(
            status=RULES_UNMET, plan=None, plan_result=plan_result, message=found.unmet[0]["message"],
            public_message=found.unmet[0]["public_message"],
            unmet=found.unmet, frontier=found.frontier, rules=applied, pay_scale=inputs.pay_scale,
            candidates=pd.DataFrame([c.row() for c in found.candidates]),
            comparison=comparison_frame(simulations), simulations=simulations,
            alignment={name: s.alignment_efficiency for name, s in simulations.items()},
            search=search_info, seconds=time.perf_counter() - started)
    best = found.best
    simulations = {"recommended": best.simulation, **simulations}
    recommended = sorted_plan(params, best.plan)
    in_force_pay = inputs.in_force_pay if inputs.in_force_pay is not None else np.zeros(len(params.reps))
    impact = pay_impact(params, in_force_pay, best.judged.pay)
    scale = pd.DataFrame({"rep_id": params.reps, "scale": best.scale})
    adjustments = target_adjustments(params, dataset.plan, recommended, assumptions, scale=best.scale,
                                     levels=best.levels, coverage=found.coverage, base=best.judged.point.base,
                                     dataset=dataset)
    source = f"assumptions {assumptions.name!r}" if assumptions is not None else "the dataset's market"
    changes = (component_changes(dataset.plan, inputs.baseline_weights, recommended,
                                 max_components=rules.max_components, max_weight_change=inputs.max_weight_change)
               + curve_changes(dataset.plan, recommended, best.curve)
               + target_changes(adjustments, scale, source))
    alignment = {name: simulations[name].alignment_efficiency for name in ("recommended", *BASELINES)
                 if name in simulations}
    attribution = market_attribution(dataset, assumptions, parent, params, plan_result, in_force_sim, options,
                                     memo=memo)
    logger.info("recommend: baselines, outputs and attribution in %.1f s", time.perf_counter() - clock)
    tracker.enter("selection", 1.0)
    objective_name = "margin" if rules.objective == MARGIN else "net margin"
    return Recommendation(
        status=plan_result.status, plan=recommended, plan_result=plan_result, alignment=alignment,
        comparison=comparison_frame(simulations), adjustments=adjustments,
        weight_changes=weight_changes(dataset.plan, recommended),
        binding=binding_rules(inputs, found, best), selected=f"{best.label}, {best.curve} "
        f"(best {objective_name} under the rules; {len(found.candidates)} plans screened, "
        f"{found.simulations} simulations)",
        candidates=pd.DataFrame([c.row() for c in found.candidates]), pay_scale=inputs.pay_scale,
        message=comparison_message(alignment, found), public_message=comparison_message(alignment, found, public=True),
        seconds=time.perf_counter() - started,
        simulations=simulations, frontier=found.frontier, pay_impact=impact, changes=changes,
        attribution=attribution, rules=applied, unmet=found.unmet, target_scale=scale,
        objective={"name": rules.objective, "value": best.objective}, coverage=found.coverage,
        rule_prices=found.prices, price_plans=found.price_plans, search=search_info,
    )


def _company_rules(dataset: Dataset) -> Rules:
    """The company's rules with its change limit spelled out (a review's overrides are compared to these)."""
    return _resolved(dataset.company.rules, dataset)


def _resolved(rules: Rules, dataset: Dataset) -> Rules:
    if rules.max_weight_change is not None:
        return rules
    return replace(rules, max_weight_change=dataset.company.max_weight_change)


def sorted_plan(params: Parameters, plan: Plan) -> Plan:
    """The plan with its targets in the `plan/targets.csv` order (rep, component, period)."""
    order = {t: i for i, t in enumerate(params.periods)}
    targets = plan.targets.sort_values(["rep_id", "component_id", "period"],
                                       key=lambda s: s.map(order) if s.name == "period" else s).reset_index(drop=True)
    return replace(plan, targets=targets)


PHASES = ("plan_lp", "targets", "incentive_lp", "simulations", "selection")


class _Progress:
    """The phases of one recommendation, in order, with the overall share done. The search's
    length is not known in advance, so during the simulations the share approaches 0.95 as batches
    are simulated (0.3 + 0.65·n/(n + 8) after n batches)."""

    def __init__(self, report: Callable[[str, float], None] | None):
        self.report = report or (lambda phase, share: None)
        self.phase, self.share, self.batches = PHASES[0], 0.0, 0

    def enter(self, phase: str, share: float) -> None:
        self.phase, self.share = phase, max(self.share, share)
        self.report(phase, self.share)

    def evaluating(self, evaluate: Callable[[list[Plan]], list[Simulation]]
                   ) -> Callable[[list[Plan]], list[Simulation]]:
        """`evaluate` that reports the simulations phase once the search is under way."""
        def run(plans: list[Plan]) -> list[Simulation]:
            if self.phase in ("incentive_lp", "simulations"):
                self.enter("simulations", 0.3 + 0.65 * self.batches / (self.batches + 8))
                self.batches += 1
            return evaluate(plans)

        return run


def _plan_lp_failure(dataset: Dataset, params: Parameters, plan_result: PlanResult) -> tuple[str, str] | None:
    if len(params.open_index) == 0:
        return ERROR, (f"current_period {dataset.company.current_period!r} is the last period: "
                       "there is no open period to re-plan")
    if plan_result.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
        return plan_result.status, f"plan LP: {plan_result.message or plan_result.status}"
    return None


def _budget_rate(dataset: Dataset, rules: Rules) -> float:
    return rules.comp_budget_rate if rules.comp_budget_rate is not None else dataset.company.comp_budget_rate


def search_inputs(dataset: Dataset, params: Parameters, plan_result: PlanResult, orders: pd.DataFrame,
                  rules: Rules, baseline: Plan | None, in_force_only: bool, in_force_sim: Simulation | None,
                  evaluate, threads: int = 1, prices: bool = True) -> SearchInputs:
    """The targeted component pool, the limits and the per-rep pay floor of one recommendation."""
    rate = _budget_rate(dataset, rules)
    max_change = rules.max_weight_change if rules.max_weight_change is not None else dataset.company.max_weight_change
    pool = candidate_components(dataset, in_force_only, per_product=not in_force_only)
    targeted = make_plan(dataset, params, orders, pool, PLACEHOLDER_CURVE, keep_closed_from=dataset.plan)
    baseline = baseline if baseline is not None else dataset.plan
    in_force_pay = pay_per_rep(params, in_force_sim) if in_force_sim is not None else np.zeros(len(params.reps))
    return SearchInputs(
        dataset=dataset, params=params, targeted=targeted, planned=orders_array(params, orders), rules=rules,
        baseline_weights=baseline.weights if baseline is not None else None, max_weight_change=max_change,
        pay_scale=budget_scale(params, plan_result, rate), floor=pay_floor(in_force_pay, rules.max_pay_cut),
        budget=budget_of(rate, plan_result), evaluate=evaluate, in_force=dataset.plan, in_force_sim=in_force_sim,
        plan_margin=plan_result.margin, threads=threads, in_force_pay=in_force_pay, prices=prices)


def baseline_simulations(dataset: Dataset, params: Parameters, orders: pd.DataFrame, pay_scale: float,
                         in_force_sim: Simulation | None, evaluate) -> dict[str, Simulation]:
    """The baselines of §4.4, simulated (the plan in force's simulation is reused)."""
    plans = baseline_plans(dataset, params, orders, pay_scale)
    names = [name for name in plans if name != "in_force"]
    out = dict(zip(names, evaluate([plans[name] for name in names])))
    if in_force_sim is not None:
        out = {"in_force": in_force_sim, **out}
    return out


def comparison_frame(simulations: dict[str, Simulation]) -> pd.DataFrame:
    return pd.DataFrame([
        {"plan": name, "alignment_efficiency": s.alignment_efficiency, "margin": s.margin, "revenue": s.revenue,
         "pay_cost": s.pay_cost, "net_margin": s.net_margin,
         "pay_cost_share": s.pay_cost / s.revenue if s.revenue else None}
        for name, s in simulations.items()
    ], columns=["plan", "alignment_efficiency", "margin", "revenue", "pay_cost", "net_margin", "pay_cost_share"])


def binding_rules(inputs: SearchInputs, found: SearchResult, best) -> list[str]:
    """The rules that shape the recommendation: those with a price, those a conflict names, the budget."""
    out = [p["rule"] for p in found.prices if p["price"] > 0]
    if best.components >= inputs.rules.max_components and "max_components" not in out:
        out.append("max_components")
    if any(u["rule"] == "max_pay_cut" for u in found.unmet):
        out += [r for r in ("max_pay_cut", "min_quota_coverage") if r not in out]
    if any(c["coverage"] <= c["min_quota_coverage"] + 1e-6 for c in found.coverage) and "min_quota_coverage" not in out:
        out.append("min_quota_coverage")
    if any(u["rule"] == "budget" for u in found.unmet) or inputs.pay_scale < 1.0:
        out.append("budget")
    order = ("max_components", "max_pay_cut", "min_quota_coverage", "max_weight_change", "curve_family", "budget")
    return sorted(dict.fromkeys(out), key=lambda r: order.index(r) if r in order else len(order))


def comparison_message(alignment: dict[str, float | None], found: SearchResult, *, public: bool = False) -> str:
    """The caveats: rules not kept, a baseline scoring higher. `public`: without pay figures."""
    parts = [u["public_message" if public else "message"] for u in found.unmet + found.notes]
    best_baseline = max((v for k, v in alignment.items() if k != "recommended" and v is not None), default=None)
    mine = alignment.get("recommended")
    if best_baseline is not None and mine is not None and mine < best_baseline - 1e-9:
        parts.append("the recommendation scores below a baseline in alignment; the baselines need not keep the "
                     "rules (components, pay cut, coverage, change limit), see the comparison")
    return "; ".join(parts)


def market_attribution(dataset: Dataset, assumptions: AssumptionSet | None, parent: AssumptionSet | None,
                       params: Parameters, plan_result: PlanResult, in_force_sim: Simulation | None,
                       options: SolveOptions | None, *, memo: BatchMemo | None = None) -> dict:
    """The attribution of §4.9: the parent's plan LP and the plan in force's response under the parent
    (its batches that the assumption set leaves unchanged come from the recommendation's `memo`)."""
    if assumptions is None:
        parent_params, parent_result, parent_in_force = params, plan_result, in_force_sim
    else:
        parent_params = effective_parameters(dataset, parent)
        parent_result = plan_targets(dataset, parent, options=options, params=parent_params)
        parent_in_force = (simulate(dataset, dataset.plan, params=parent_params, plan_margin=parent_result.margin,
                                    memo=memo) if dataset.plan is not None else None)
    reference_orders = parent_result.orders if parent_result.orders is not None else plan_result.orders
    in_force_orders = parent_in_force.orders if parent_in_force is not None else reference_orders
    return attribution(dataset, assumptions, parent=parent, in_force=(parent_params, in_force_orders),
                       reference=(parent_params, reference_orders), planned=(params, plan_result.orders))


def weight_changes(in_force: Plan | None, recommended: Plan) -> pd.DataFrame:
    """component_id, metric, products, in_force, recommended, delta (components of either plan)."""
    old = in_force.weights if in_force is not None else {}
    rows = []
    for row in recommended.components.itertuples():
        before = old.get(row.component_id, 0.0)
        rows.append({"component_id": row.component_id, "metric": row.metric, "products": row.products,
                     "in_force": before, "recommended": float(row.weight), "delta": float(row.weight) - before})
    if in_force is not None:  # components in force that the recommendation drops
        for row in in_force.components.itertuples():
            if row.component_id not in recommended.weights:
                rows.append({"component_id": row.component_id, "metric": row.metric, "products": row.products,
                             "in_force": float(row.weight), "recommended": 0.0, "delta": -float(row.weight)})
    return pd.DataFrame(rows, columns=["component_id", "metric", "products", "in_force", "recommended", "delta"])


CAUSES = ("assumptions", "replanning", "pay_cut_repair", "target_level", "coverage", "new_component", "dropped",
          "unchanged")


def touched_by(params: Parameters, dataset: Dataset, assumptions: AssumptionSet | None,
               products: dict[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    """Per component, (R, T) True where an adjustment of the set changes a factor for the rep's market,
    one of the component's products and the period."""
    from models.assumptions import period_scope, product_scope

    R, T = len(params.reps), len(params.periods)
    out = {k: np.zeros((R, T), bool) for k in products}
    if assumptions is None:
        return out
    period_at = {t: i for i, t in enumerate(params.periods)}
    for adj in assumptions.adjustments:
        if all(getattr(adj, f) == 1.0 for f in ("demand", "price", "cost", "conversion", "hours")):
            continue
        markets = set(adj.markets or params.markets)
        rep_in = np.array([params.markets[m] in markets for m in params.rep_market])
        if adj.reps and adj.hours != 1.0 and all(getattr(adj, f) == 1.0 for f in ("demand", "price", "cost", "conversion")):
            rep_in &= np.isin(np.asarray(params.reps, dtype=object), list(adj.reps))
        periods = np.zeros(T, bool)
        periods[[period_at[t] for t in period_scope(adj, params.periods)]] = True
        scope = set(product_scope(adj, dataset))
        for k, members in products.items():
            if scope & set(members):
                out[k] |= rep_in[:, None] & periods[None, :]
    return out


def target_adjustments(params: Parameters, in_force: Plan | None, recommended: Plan,
                       assumptions: AssumptionSet | None, *, scale: np.ndarray | None = None,
                       levels: dict[str, float] | None = None, coverage: list[dict] | None = None,
                       base: str = "plan", dataset: Dataset | None = None) -> pd.DataFrame:
    """Per rep, component and open period: target in force, recommended, delta, cause and reason.

    A recommended target is (its base) × the rep's scale α × the component's level β: the base is the
    plan LP's cascade (re-planned under the assumptions; `assumptions` where an adjustment of the set
    touches the rep's market, the component's products and the period, else `replanning`) or the
    target in force. `cause` names the largest of the three factors: the pay-cut repair (α < 1), a
    target level (α > 1, or β ≠ 1; `coverage` when β was raised and the component's quotas sit at
    min_quota_coverage), the re-planning; `reason` says all of them in words.
    """
    open_set = set(params.open_periods)
    new = recommended.targets[recommended.targets["period"].isin(open_set)]
    key = ["rep_id", "component_id", "period"]
    if in_force is not None:
        old = in_force.targets[in_force.targets["period"].isin(open_set)].rename(columns={"target": "in_force"})
        frame = new.rename(columns={"target": "recommended"}).merge(old[key + ["in_force"]], on=key, how="outer")
    else:
        frame = new.rename(columns={"target": "recommended"}).assign(in_force=np.nan)
    frame["delta"] = frame["recommended"].fillna(0.0) - frame["in_force"].fillna(0.0)
    source = f"assumptions {assumptions.name!r}" if assumptions is not None else "the dataset's market"
    rep_at = pd.Index(params.reps).get_indexer(frame["rep_id"])
    alpha = np.ones(len(frame)) if scale is None else np.where(rep_at >= 0, np.asarray(scale, float)[rep_at], 1.0)
    beta = frame["component_id"].map(levels or {}).fillna(1.0).to_numpy(float)
    at_minimum = {c["component_id"] for c in (coverage or []) if c["coverage"] <= c["min_quota_coverage"] + 1e-6}
    with np.errstate(divide="ignore", invalid="ignore"):
        base_target = frame["recommended"].to_numpy(float) / (alpha * beta)
        replan = np.where(frame["in_force"].to_numpy(float) > 0, base_target / frame["in_force"].to_numpy(float), 1.0)
    if base == "in force":
        replan = np.ones(len(frame))
    touched = np.zeros(len(frame), bool)
    if dataset is not None and assumptions is not None and base == "plan":
        products = recommended.component_products
        masks = touched_by(params, dataset, assumptions, products)
        t_at = pd.Index(params.periods).get_indexer(frame["period"])
        comp = frame["component_id"].to_numpy(object)
        for k, mask in masks.items():
            rows = (comp == k) & (rep_at >= 0)
            touched[rows] = mask[rep_at[rows], t_at[rows]]
    logs = np.abs(np.log(np.stack([np.where(replan > 0, replan, 1.0), alpha, beta])))
    which = np.argmax(logs, axis=0)
    causes, reasons = [], []
    for i, row in enumerate(frame.itertuples(index=False)):
        if pd.isna(row.in_force):
            causes.append("new_component")
            reasons.append("new component: target from the plan LP's orders" + _factors_text(alpha[i], beta[i]))
            continue
        if pd.isna(row.recommended):
            causes.append("dropped")
            reasons.append("component dropped")
            continue
        if abs(row.delta) <= 1e-9 * max(1.0, abs(row.in_force)):
            causes.append("unchanged")
            reasons.append("unchanged")
            continue
        replan_cause = "assumptions" if touched[i] else "replanning"
        cause = (replan_cause, "pay_cut_repair" if alpha[i] < 1 else "target_level",
                 "coverage" if row.component_id in at_minimum and beta[i] > 1 else "target_level")[which[i]]
        causes.append(cause)
        head = ("kept from the plan in force" if base == "in force" else
                f"re-planned from the plan LP under {source}" if touched[i] else
                "re-planned from the plan LP (the plan in force was stale)")
        reasons.append(head + _factors_text(alpha[i], beta[i], row.component_id in at_minimum))
    frame["cause"] = causes
    frame["reason"] = reasons
    order = {t: i for i, t in enumerate(params.periods)}
    frame = frame.sort_values(key, key=lambda s: s.map(order) if s.name == "period" else s)
    return frame[key + ["in_force", "recommended", "delta", "cause", "reason"]].reset_index(drop=True)


def _factors_text(alpha: float, beta: float, at_minimum: bool = False) -> str:
    parts = []
    if alpha < 1 - 1e-9:
        parts.append(f"lowered × {alpha:.2f} for this rep so that their expected pay stays within max_pay_cut of "
                     "the plan in force")
    elif alpha > 1 + 1e-9:
        parts.append(f"raised × {alpha:.2f} for this rep: their expected pay stays above the floor and the company "
                     "keeps the difference (net margin)")
    if abs(beta - 1) > 1e-9:
        parts.append(f"the component's targets × {beta:.2f}"
                     + (" to keep its quotas at min_quota_coverage of the plan" if at_minimum and beta > 1 else
                        " (the local search's best level)"))
    return "".join(f"; {p}" for p in parts)
