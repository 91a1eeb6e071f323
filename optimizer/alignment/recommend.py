"""The alignment engine (DESIGN.md §4.4–§4.6): recommend a compensation plan and compare it.

Pipeline: effective parameters → plan LP (§4.1) → targets for every candidate component cascaded
from the planned orders (§4.2; attainment 1 at the plan) → incentive LP for the weights (§4.4) →
exact response simulation (§4.5) of the recommendation and of three baselines at the same budget
(the plan in force as is, a flat revenue commission, an equal share of gross margin) → the
comparison, the weight changes and the per-rep target adjustments (§4.6).

Candidate components: those in force, one revenue component per product group and a margin
component on all products (`in_force_only=True` keeps only those in force). The recommendation
keeps the payout curve in force (a linear curve capped at 200 % when no plan is in force), scaled
down only if the pay at target would break the budget. The incentive LP is linearized at the plan,
so a final selection step simulates a few weightings exactly — the incentive LP's at several strict
margins, the weights in force on the new targets and the plan in force unchanged — and keeps the
best; `Recommendation.selected`
says which one won. `recommend` and `simulate` are pure functions of data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from models.assumptions import AssumptionSet
from models.dataset import Dataset, Plan, resolve_products
from optimizer.plan.cascade import component_targets, orders_array
from optimizer.alignment.incentive import IncentiveResult, incentive_weights
from optimizer.parameters import Parameters, effective_parameters
from optimizer.plan.results import PlanResult
from optimizer.plan.targets import plan_targets
from optimizer.alignment.payout import Curve, default_curve
from optimizer.alignment.response import Simulation, simulate
from optimizer.executor import Executor, open_executor
from optimizer.solve import ERROR, FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions

logger = logging.getLogger(__name__)

__all__ = ["Recommendation", "recommend", "simulate", "baseline_plans"]

BASELINES = ("in_force", "flat_revenue", "gross_margin_share")
LINEAR_UNCAPPED = ((0.0, 0.0), (1.0, 1.0), (1000.0, 1000.0))  # pay ∝ metric (flat only after 1000 × target)
EPSILONS = (0.02, 0.25)
WEIGHT_TOLERANCE = 1e-6  # a weight below this pays less than a cent a year: the component is dropped
CAPPED_AT_TARGET = ((0.0, 0.0), (1.0, 1.0))  # linear to the target, nothing above it: a capped quota plan  # strict margins (share of pay at target per selling hour) tried by the selection step


@dataclass
class Recommendation:
    """A recommended plan with its plan LP, alignment scores, comparison and adjustments."""

    status: str  # optimal | feasible_time_limit | infeasible | unbounded | error
    plan: Plan | None  # recommended plan (components, curve, targets)
    plan_result: PlanResult  # the plan LP behind the targets
    alignment: dict[str, float] = field(default_factory=dict)  # recommended, in_force, flat_revenue, gross_margin_share
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)  # plan, alignment_efficiency, margin, revenue, pay_cost, pay_cost_share
    adjustments: pd.DataFrame = field(default_factory=pd.DataFrame)  # rep_id, component_id, period, in_force, recommended, delta, reason
    weight_changes: pd.DataFrame = field(default_factory=pd.DataFrame)  # component_id, metric, products, in_force, recommended, delta
    binding: list[str] = field(default_factory=list)  # of sum_to_one, bounds, change_limit, budget
    selected: str = ""  # which weighting the selection step kept, and why
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)  # candidate, epsilon, alignment_efficiency
    pay_scale: float = 1.0  # factor on the curve's payout to meet the budget (1 = unchanged)
    message: str = ""
    seconds: float = 0.0
    simulations: dict[str, Simulation] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary (per-rep rows only for the adjustments)."""
        return {
            "status": self.status,
            "message": self.message,
            "alignment": self.alignment,
            "selected": self.selected,
            "binding": self.binding,
            "pay_scale": self.pay_scale,
            "plan_lp": {"status": self.plan_result.status, "margin": self.plan_result.margin,
                        "revenue": self.plan_result.revenue, "soft_slacks": self.plan_result.slacks},
            "comparison": _records(self.comparison),
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


def with_weights(plan: Plan, weights: dict[str, float]) -> Plan:
    comps = plan.components.copy()
    comps["weight"] = comps["component_id"].map(weights).astype(float)
    return Plan(components=comps, curve=plan.curve, targets=plan.targets, component_products=plan.component_products)


def scaled_curve(curve: pd.DataFrame, factor: float) -> pd.DataFrame:
    out = curve[["attainment", "payout"]].copy().reset_index(drop=True)
    out["payout"] = out["payout"] * factor
    return out


def _component_on_all(components: list[tuple[str, str, str, float]], metric: str, dataset: Dataset) -> str | None:
    """The candidate component paying `metric` on every product, if there is one."""
    everything = tuple(dataset.product_ids)
    for k, m, spec, _ in components:
        if m == metric and tuple(resolve_products(spec, dataset.product_ids, dataset.groups)) == everything:
            return k
    return None


def _move_toward(weights: dict[str, float], in_force: dict[str, float] | None, target: str,
                 max_change: float) -> dict[str, float]:
    """Weights moved from those in force toward all weight on `target`, each by at most `max_change`."""
    if not in_force:
        return {k: float(k == target) for k in weights}
    start = {k: in_force.get(k, 0.0) for k in weights}
    gain = min(max_change, 1.0 - start[target])
    out = dict(start)
    out[target] += gain
    for k in sorted((k for k in start if k != target), key=lambda k: -start[k]):  # take from the largest first
        take = min(gain, start[k], max_change)
        out[k] -= take
        gain -= take
    if gain > 1e-12:  # the others could not give enough within the limit: give the rest back
        out[target] -= gain
    return out


def _same_plan(a: Plan, b: Plan) -> bool:
    if a is b:
        return True
    return (a.component_ids == b.component_ids and a.targets is b.targets and a.curve.equals(b.curve)
            and all(abs(a.weights[k] - b.weights[k]) < 1e-9 for k in a.component_ids))


def candidate_components(dataset: Dataset, in_force_only: bool, *, per_product: bool = False
                         ) -> list[tuple[str, str, str, float]]:
    """Components in force, plus a margin component per product group and a margin component.

    With `per_product`, a margin component per product as well (product quotas): the structure
    that splits a market's potential between reps whose territories overlap.
    """
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
    if per_product:
        for product in dataset.product_ids:
            key, name = ("margin", (product,)), f"margin_{product}"
            if key not in have and name not in taken:
                out.append((name, "margin", product, 0.0))
    if ("margin", tuple(dataset.product_ids)) not in have and "margin" not in taken:
        out.append(("margin", "margin", "*", 0.0))
    if plan is None:  # nothing in force: start from equal weights (no change limit applies)
        out = [(k, m, s, 1.0 / len(out)) for k, m, s, _ in out]
    return out


def budget_scale(params: Parameters, plan_result: PlanResult) -> float:
    """κ ≤ 1 so that pay at target, κ·Σ_{r,t} tvp, stays within comp_budget_rate × planned revenue."""
    pay_at_target = params.pay_at_target()
    budget = params.company.comp_budget_rate * (plan_result.revenue or 0.0)
    if pay_at_target <= 0 or budget >= pay_at_target:
        return 1.0
    return budget / pay_at_target


def baseline_plans(dataset: Dataset, params: Parameters, orders: pd.DataFrame, pay_scale: float) -> dict[str, Plan]:
    """The three baselines of §4.4 at the recommendation's budget (pay at plan = pay_scale·tvp).

    Flat revenue commission and gross-margin share: one component on all products with targets at
    the planned metric and a linear uncapped curve, so pay = pay_scale·tvp·metric/planned metric —
    a per-rep commission rate on revenue (resp. margin) that pays the same as the recommendation at
    the plan. The plan in force is taken as it is (its own targets, weights and curve).
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
# Progress: the phases of a recommendation and the overall share done when each starts

PHASES = ("plan_lp", "targets", "incentive_lp", "simulations", "selection")
PROGRESS = {"plan_lp": 0.0, "targets": 0.25, "incentive_lp": 0.3, "simulations": 0.5, "selection": 0.97}


def _between(phase: str, share: float) -> float:
    """The overall share done when `share` of `phase` is done."""
    following = PHASES[PHASES.index(phase) + 1] if phase != PHASES[-1] else None
    end = PROGRESS[following] if following else 1.0
    return PROGRESS[phase] + min(max(share, 0.0), 1.0) * (end - PROGRESS[phase])


def _shapes(structures: dict, curves: dict, in_force_only: bool):
    """The (structure, curve) pairs the incentive LP is solved for."""
    for structure in structures:
        for curve_name in curves:
            if structure == "product quotas" and curve_name != "capped at target":
                continue
            if in_force_only and curve_name != next(iter(curves)):
                continue
            yield structure, curve_name


# --------------------------------------------------------------------------------------------
# Entry point


def recommend(
    dataset: Dataset,
    assumptions: AssumptionSet | None = None,
    *,
    options: SolveOptions | None = None,
    in_force_only: bool = False,
    progress: Callable[[str, float], None] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
) -> Recommendation:
    """Recommend targets and component weights for the open periods and compare with the baselines.

    `progress(phase, done)` is told the phase (one of PHASES) and the overall share done in [0, 1]
    as the work goes. The (rep, period) simulations run through `executor`, else through one opened
    here for `workers` processes (or the Dask scheduler named by COMPTUNE_DASK_SCHEDULER).
    """
    if executor is None:
        with open_executor(workers) as opened:
            return recommend(dataset, assumptions, options=options, in_force_only=in_force_only,
                             progress=progress, executor=opened)
    report = progress or (lambda phase, done: None)
    started = time.perf_counter()
    report("plan_lp", 0.0)
    params = effective_parameters(dataset, assumptions)
    plan_result = plan_targets(dataset, assumptions, options=options, params=params)
    report("targets", PROGRESS["targets"])
    if len(params.open_index) == 0:
        return Recommendation(status=ERROR, plan=None, plan_result=plan_result,
                              message=f"current_period {dataset.company.current_period!r} is the last period: "
                                      "there is no open period to re-plan",
                              seconds=time.perf_counter() - started)
    if plan_result.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
        return Recommendation(status=plan_result.status, plan=None, plan_result=plan_result,
                              message=f"plan LP: {plan_result.message or plan_result.status}",
                              seconds=time.perf_counter() - started)
    orders = plan_result.orders.copy()
    orders["orders"] = orders["orders"].where(orders["orders"] > 1e-7, 0.0)  # solver noise is not a target
    planned = orders_array(params, orders)
    kappa = budget_scale(params, plan_result)
    in_force = dataset.plan
    base_curve = in_force.curve if in_force is not None else default_curve()
    w0 = in_force.weights if in_force is not None else None
    margin = plan_result.margin
    max_change = dataset.company.max_weight_change
    structures = {"components": candidate_components(dataset, in_force_only)}
    if not in_force_only:
        structures["product quotas"] = candidate_components(dataset, in_force_only, per_product=True)
    curves = {"curve in force" if in_force is not None else "linear curve": base_curve,
              "capped at target": pd.DataFrame(CAPPED_AT_TARGET, columns=["attainment", "payout"]),
              "linear commission": pd.DataFrame(LINEAR_UNCAPPED, columns=["attainment", "payout"])}

    # Candidates: the incentive LP's weights for each component structure × payout curve × strict
    # margin, the weights in force on the new targets, and the plan in force unchanged. The exact
    # simulation judges them all; the best simulated margin wins and `selected` names it.
    tried: list[tuple[str, float | None, Plan, IncentiveResult | None]] = []
    targeted_plans = {structure: make_plan(dataset, params, orders, components, base_curve, keep_closed_from=in_force)
                      for structure, components in structures.items()}
    n_lps, lps_done = len(EPSILONS) * sum(1 for s, c in _shapes(structures, curves, in_force_only)), 0
    report("incentive_lp", PROGRESS["incentive_lp"])
    for structure, components in structures.items():
        targeted = targeted_plans[structure]
        for curve_name, curve in curves.items():
            if structure == "product quotas" and curve_name != "capped at target":
                continue  # product quotas only make sense capped: uncapped they are a margin commission
            if in_force_only and curve_name != next(iter(curves)):
                continue  # the plan's own structure and curve: only the weights and targets move
            shape = replace(targeted, curve=scaled_curve(curve, kappa))  # same targets, another curve
            for eps in EPSILONS:
                result = incentive_weights(params, shape, planned, in_force=w0, max_weight_change=max_change,
                                           epsilon=eps)
                lps_done += 1
                report("incentive_lp", _between("incentive_lp", lps_done / max(n_lps, 1)))
                if result.status == OPTIMAL:
                    tried.append((f"incentive LP over {structure}, {curve_name}, ε = {eps:g}·tvp/H", eps,
                                  with_weights(shape, result.weights), result))
            if w0 is not None and structure == "components" and curve_name.startswith("curve in force"):
                tried.append(("weights in force, new targets", None,
                              with_weights(shape, {k: w0.get(k, 0.0) for k, *_ in components}), None))
            if structure == "components" and curve_name == "linear commission":
                # The baselines' own shape, moved from the weights in force as far as the change
                # limit allows: where the limit allows the whole move, this is the baseline itself.
                for metric in ("margin", "revenue"):
                    toward = _component_on_all(components, metric, dataset)
                    if toward is not None:
                        weights = _move_toward(shape.weights, w0, toward, max_change)
                        tried.append((f"toward a {metric} commission within the change limit", None,
                                      with_weights(shape, weights), None))
    if in_force is not None:  # keeping the plan as it is, old targets included, is always allowed
        tried.append(("plan in force unchanged", None, in_force, None))
    rows = []
    best = None
    seen: list[tuple[Plan, Simulation]] = []
    n_sims = len(tried) + 2  # and the two commission baselines
    report("simulations", PROGRESS["simulations"])
    for i, (label, eps, candidate, result) in enumerate(tried, start=1):
        sim = next((s for plan, s in seen if _same_plan(plan, candidate)), None)
        sim = sim or simulate(dataset, candidate, params=params, plan_margin=margin, executor=executor)
        report("simulations", _between("simulations", i / n_sims))
        seen.append((candidate, sim))
        rows.append({"candidate": label, "epsilon": eps, "components": len(candidate.component_ids),
                     "alignment_efficiency": sim.alignment_efficiency, "margin": sim.margin, "pay_cost": sim.pay_cost})
        if best is None or sim.margin > best[3].margin + 1e-6:
            best = (label, candidate.weights, result, sim, candidate)
    label, weights, result, sim, recommended = best
    recommended = without_unused_components(recommended)

    simulations = {"recommended": sim}
    for name, plan in baseline_plans(dataset, params, orders, kappa).items():
        cached = next((s for p, s in seen if p is plan), None)
        simulations[name] = cached or simulate(dataset, plan, params=params, plan_margin=margin, executor=executor)
    report("selection", PROGRESS["selection"])
    alignment = {name: simulations[name].alignment_efficiency for name in ("recommended", *BASELINES)
                 if name in simulations}
    comparison = pd.DataFrame([
        {"plan": name, "alignment_efficiency": s.alignment_efficiency, "margin": s.margin, "revenue": s.revenue,
         "pay_cost": s.pay_cost, "pay_cost_share": s.pay_cost / s.revenue if s.revenue else None}
        for name, s in simulations.items()
    ])
    binding = list(result.binding) if result is not None else ["sum_to_one"]
    if kappa < 1.0:
        binding.append("budget")
    best_baseline = max((v for k, v in alignment.items() if k != "recommended" and v is not None), default=None)
    message = ""
    if best_baseline is not None and alignment["recommended"] is not None and alignment["recommended"] < best_baseline - 1e-9:
        message = ("the recommendation scores below a baseline that the change limit or the candidate components "
                   "do not allow; see the comparison")
    report("selection", 1.0)
    return Recommendation(
        status=plan_result.status, plan=recommended, plan_result=plan_result, alignment=alignment,
        comparison=comparison, adjustments=target_adjustments(params, in_force, recommended, assumptions),
        weight_changes=weight_changes(in_force, recommended), binding=binding,
        selected=f"{label} (best simulated margin of {len(rows)} weightings)",
        candidates=pd.DataFrame(rows), pay_scale=kappa, message=message,
        seconds=time.perf_counter() - started, simulations=simulations,
    )


def without_unused_components(plan: Plan) -> Plan:
    """Drop components the weights left at zero: they pay nothing, so a rep need not see them."""
    used = [k for k, w in plan.weights.items() if w > WEIGHT_TOLERANCE]
    if len(used) == len(plan.component_ids):
        return plan
    components = plan.components[plan.components["component_id"].isin(used)].reset_index(drop=True)
    components["weight"] = components["weight"] / components["weight"].sum()
    targets = plan.targets[plan.targets["component_id"].isin(used)].reset_index(drop=True)
    return Plan(components=components, curve=plan.curve, targets=targets,
                component_products={k: plan.component_products[k] for k in used})


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


def target_adjustments(params: Parameters, in_force: Plan | None, recommended: Plan,
                       assumptions: AssumptionSet | None) -> pd.DataFrame:
    """Per rep, component and open period: target in force, recommended, delta, reason."""
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
    frame["reason"] = np.where(
        frame["in_force"].isna(), "new component: target from the plan LP's orders",
        np.where(frame["recommended"].isna(), "component dropped",
                 f"re-planned from the plan LP under {source}"))
    order = {t: i for i, t in enumerate(params.periods)}
    frame = frame.sort_values(key, key=lambda s: s.map(order) if s.name == "period" else s)
    return frame[key + ["in_force", "recommended", "delta", "reason"]].reset_index(drop=True)
