"""The search for a plan a comp committee can sign (DESIGN.md §4.9): the best simulated margin under the rules.

Rules: at most `max_components` components; no rep's expected pay more than `max_pay_cut` below the
plan in force (`optimizer.alignment.pay_rules`); weights within `max_weight_change` of the plan-year baseline
(the incentive LP's bounds); the payout curve a member of the family (`optimizer.alignment.curve_family`);
the budget (expected pay ≤ comp_budget_rate × planned revenue) — the one rule the search may
report as unmet, with the amount, when the pay-cut rule needs more pay than the budget allows.

Steps, for a component pool (the components in force plus margin components per product group, per
product and on all products):

1. Rank: the incentive LP over the whole pool, at two linearizations (capped at target, linear) and
   two strict margins, orders the components by weight.
2. Structures: for n = 1 … max_components, the components the baseline forces (weight above the
   change limit) plus the next best by rank; the incentive LP restricted to them gives the weights.
   The baselines' own shape moved from the baseline weights within the limit (toward a margin or a
   revenue commission) is a structure too.
3. Curves: each structure is paired with a few family members (`curve_grid`). Per curve, one pilot
   pairing is repaired to the pay-cut rule (`repair_pay_cut`, from the curve's inverse at each rep's
   needed level); its per-rep target scale is every other pairing's first guess.
4. Screen, repair, judge: every structure is simulated once with the curve whose pilot did best,
   at that curve's pilot scale; the structures that rank in the best two per component count are
   simulated with the other curves too (a structure's rank hardly depends on the curve, and this
   halves the screen: 31 simulations instead of 45 on the sample, the same recommendation); the
   best two pairings per component count are repaired to the rule; the exact simulation decides
   which keep the rules and which margin is best. The frontier is the best rule-keeping plan per
   component count.

All simulations go through one function, `evaluate_candidates`, so that a parallel executor can
take them in one place.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from models.dataset import Dataset, Plan
from models.rules import Rules
from optimizer.alignment.curve_family import curve_grid, family_curve
from optimizer.alignment.incentive import curve_slopes, incentive_problem, incentive_weights
from optimizer.parameters import Parameters
from optimizer.alignment.pay_rules import Repair, pay_per_rep, repair_pay_cut, scale_targets, short_reps
from optimizer.alignment.payout import Curve
from optimizer.alignment.response import BatchMemo, Simulation, simulate_plans
from optimizer.executor import Executor
from optimizer.solve import OPTIMAL

logger = logging.getLogger(__name__)

LP_CURVES = {"capped at target": ((0.0, 0.0), (1.0, 1.0)), "linear": ((0.0, 0.0), (1.0, 1.0), (1000.0, 1000.0))}
EPSILONS = (0.02, 0.25)  # strict margins (share of pay at target per selling hour)
REPAIRED_PER_COUNT = 2  # screened candidates per component count that get the full pay-cut repair
WEIGHT_TOLERANCE = 1e-6


def evaluate_candidates(plans: list[Plan], *, dataset: Dataset, params: Parameters,
                        plan_margin: float | None, executor: Executor | None = None,
                        memo: BatchMemo | None = None) -> list[Simulation]:
    """The exact §4.5 simulation of a batch of candidate plans (the one place simulations run).

    The plans' (rep, period) batches go through `executor` (serial when None); with `memo` (one per
    recommendation) a batch solved before is taken from it, and the unknown batches of all the plans
    go to the executor together (`response.simulate_plans`). Same answers with or without the memo.
    """
    return simulate_plans(plans, params=params, plan_margin=plan_margin, executor=executor, memo=memo)


@dataclass
class SearchInputs:
    """What the search needs besides the dataset: the targeted pool, the rules and the pay floor."""

    dataset: Dataset
    params: Parameters
    targeted: Plan  # every pool component, targets cascaded from the plan LP (weights unused)
    planned: np.ndarray  # plan LP orders (R, P, T)
    rules: Rules
    baseline_weights: dict[str, float] | None  # the plan-year baseline (None: no plan, no change limit)
    max_weight_change: float
    pay_scale: float  # κ: the curve's payout scale to the budget
    floor: np.ndarray  # per rep: (1 − max_pay_cut) × pay under the plan in force
    budget: float | None  # comp_budget_rate × planned revenue (open periods)
    evaluate: Callable[[list[Plan]], list[Simulation]]
    # plans taken as they are (the plan in force), with their simulation when the caller has it already
    extra: list[tuple[str, Plan, Simulation | None]] = field(default_factory=list)
    threads: int = 1  # the incentive LPs' chains run in this many threads (the recommendation's workers)


@dataclass
class Candidate:
    """One plan the search judged: where it came from, its exact simulation and the rules it keeps."""

    label: str
    plan: Plan
    simulation: Simulation
    components: int
    keeps_pay_rule: bool
    short: int
    scale: np.ndarray
    curve: str
    within_budget: bool

    @property
    def margin(self) -> float:
        return self.simulation.margin

    def row(self) -> dict:
        return {"candidate": self.label, "curve": self.curve, "components": self.components,
                "alignment_efficiency": self.simulation.alignment_efficiency, "margin": self.simulation.margin,
                "pay_cost": self.simulation.pay_cost, "keeps_pay_rule": self.keeps_pay_rule,
                "reps_below_floor": self.short, "within_budget": self.within_budget}


@dataclass
class SearchResult:
    best: Candidate | None
    frontier: list[dict]
    candidates: list[Candidate]
    unmet: list[dict]  # rules the best plan does not keep: {rule, amount, message, public_message (no pay figure)}
    forced: list[str]
    notes: list[dict] = field(default_factory=list)  # rules that cost margin: a better plan broke them


# --------------------------------------------------------------------------------------------
# Structures


def with_weights(plan: Plan, weights: dict[str, float]) -> Plan:
    comps = plan.components.copy()
    comps["weight"] = comps["component_id"].map(weights).fillna(0.0).astype(float)
    return Plan(components=comps, curve=plan.curve, targets=plan.targets, component_products=plan.component_products)


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


def forced_components(ids: list[str], baseline: dict[str, float] | None, max_change: float) -> list[str]:
    """Components the change limit keeps: baseline weight above the limit (they cannot reach 0)."""
    if not baseline:
        return []
    return [k for k in ids if baseline.get(k, 0.0) > max_change + 1e-12]


def _curve_frame(points) -> pd.DataFrame:
    return pd.DataFrame(list(points), columns=["attainment", "payout"])


def _lp(inputs: SearchInputs, lp_curve: str, eps: float, allowed: list[str] | None, rows=None):
    shape = replace(inputs.targeted, curve=_curve_frame(LP_CURVES[lp_curve]))
    upper = None if allowed is None else {k: (1.0 if k in allowed else 0.0) for k in shape.component_ids}
    return incentive_weights(inputs.params, shape, inputs.planned, in_force=inputs.baseline_weights,
                             max_weight_change=inputs.max_weight_change, epsilon=eps, upper=upper, rows=rows)


def structures(inputs: SearchInputs) -> list[tuple[str, dict[str, float]]]:
    """Candidate weightings (label, weights) with at most max_components non-zero weights each.

    The rows are built once; each linearization and margin rescales them and its subsets share
    them. The four (linearization, margin) chains are independent: with `inputs.threads` > 1 they run
    in threads (HiGHS and the sparse products release the interpreter: two chains at 1,000 reps take
    16 s together against 24 s one after the other), and the results are assembled in the same order.
    """
    ids = inputs.targeted.component_ids
    forced = forced_components(ids, inputs.baseline_weights, inputs.max_weight_change)
    limit = inputs.rules.max_components
    chains = [(lp_curve, eps) for lp_curve in LP_CURVES for eps in EPSILONS]
    shape = replace(inputs.targeted, curve=_curve_frame(LP_CURVES[chains[0][0]]))
    built = incentive_problem(inputs.params, shape, inputs.planned, chains[0][1])

    def chain(lp_curve: str, eps: float) -> list[tuple[list[str], object]]:
        rows = built.at(curve_slopes(Curve.from_frame(_curve_frame(LP_CURVES[lp_curve]))), eps)
        full = _lp(inputs, lp_curve, eps, None, rows)
        if full.status != OPTIMAL:
            return []
        ranked = forced + [k for k, _ in sorted(full.weights.items(), key=lambda kv: -kv[1]) if k not in forced]
        out, tried = [], set()
        for n in range(max(len(forced), 1), min(limit, len(ids)) + 1):
            subset = ranked[:n]
            if tuple(sorted(subset)) in tried:
                continue
            tried.add(tuple(sorted(subset)))
            out.append((subset, _lp(inputs, lp_curve, eps, subset, rows)))
        return out

    if inputs.threads > 1:
        with ThreadPoolExecutor(max_workers=min(inputs.threads, len(chains))) as pool:
            solved = list(pool.map(lambda ce: chain(*ce), chains))
    else:
        solved = [chain(*ce) for ce in chains]
    out: list[tuple[str, dict[str, float]]] = []
    seen: set[tuple] = set()
    for (lp_curve, eps), results in zip(chains, solved):
        for subset, result in results:
            if result.status != OPTIMAL:
                continue
            weights = {k: w for k, w in result.weights.items() if w > WEIGHT_TOLERANCE}
            signature = tuple(sorted((k, round(w, 4)) for k, w in weights.items()))
            if signature in seen:
                continue  # another linearization found the same weights
            seen.add(signature)
            if 0 < len(weights) <= limit:
                out.append((f"incentive LP over {len(subset)} components ({lp_curve}, ε = {eps:g})", weights))
    out.extend(commission_structures(inputs, limit))
    return out


def commission_structures(inputs: SearchInputs, limit: int) -> list[tuple[str, dict[str, float]]]:
    """The baselines' shape (one margin or revenue component on all products), moved from the
    baseline weights as far as the change limit allows."""
    out = []
    products = inputs.targeted.component_products
    everything = tuple(inputs.params.products)
    metric_of = dict(zip(inputs.targeted.components["component_id"], inputs.targeted.components["metric"]))
    for metric in ("margin", "revenue"):
        target = next((k for k in inputs.targeted.component_ids
                       if metric_of[k] == metric and tuple(products[k]) == everything), None)
        if target is None:
            continue
        weights = move_toward(inputs.targeted.component_ids, inputs.baseline_weights, target,
                              inputs.max_weight_change)
        weights = {k: w for k, w in weights.items() if w > WEIGHT_TOLERANCE}
        if len(weights) <= limit:
            out.append((f"toward a {metric} commission within the change limit", weights))
    return out


def move_toward(ids: list[str], baseline: dict[str, float] | None, target: str, max_change: float) -> dict[str, float]:
    """Weights moved from the baseline toward all weight on `target`, each by at most `max_change`."""
    if not baseline:
        return {k: float(k == target) for k in ids}
    start = {k: baseline.get(k, 0.0) for k in ids}
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


# --------------------------------------------------------------------------------------------
# Curves and the pay-cut repair


def needed_levels(inputs: SearchInputs) -> np.ndarray:
    """Per rep: the pay the floor needs, as a multiple of the pay at target κ·tvp over the open periods."""
    at_target = inputs.params.target_variable_pay * len(inputs.params.open_index) * inputs.pay_scale
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(at_target > 0, inputs.floor / at_target, 0.0)


def first_scale(curve: pd.DataFrame, levels: np.ndarray) -> np.ndarray:
    """α per rep such that the curve pays each rep's needed level at the plan: α = 1/f⁻¹(level)."""
    c = Curve.from_frame(curve)
    top = float(c.y[-1])
    # the attainment where f first reaches a level (f is non-decreasing in the family)
    attainment = np.interp(np.minimum(levels, top), c.y, c.x)
    with np.errstate(divide="ignore"):
        scale = np.where(levels > 1.0, 1.0 / np.maximum(attainment, 1.0), 1.0)
    return np.clip(scale, 0.05, 1.0)


def _candidate(inputs: SearchInputs, label: str, curve_name: str, repair: Repair) -> Candidate:
    within = inputs.budget is None or repair.simulation.pay_cost <= inputs.budget + 1e-6
    return Candidate(label=label, plan=repair.plan, simulation=repair.simulation,
                     components=len(repair.plan.component_ids), keeps_pay_rule=repair.keeps_pay_rule,
                     short=repair.short, scale=repair.scale, curve=curve_name, within_budget=within)


def search(inputs: SearchInputs) -> SearchResult:
    """Candidates under the rules, repaired and judged by the exact simulation; the best and the frontier."""
    ids = inputs.targeted.component_ids
    forced = forced_components(ids, inputs.baseline_weights, inputs.max_weight_change)
    if len(forced) > inputs.rules.max_components:
        message = (f"max_components = {inputs.rules.max_components} cannot be kept with max_weight_change = "
                   f"{inputs.max_weight_change:g}: the plan-year baseline puts more than that weight on "
                   f"{len(forced)} components ({', '.join(forced)}), which therefore cannot be dropped")
        return SearchResult(best=None, frontier=[], candidates=[], forced=forced,
                            unmet=[{"rule": "max_components", "amount": len(forced) - inputs.rules.max_components,
                                    "message": message, "public_message": message}])
    levels = needed_levels(inputs)
    curves = candidate_curves(inputs, levels)
    pairings = [(label, curve_name, replace(shaped, curve=curve.assign(payout=curve["payout"] * inputs.pay_scale)))
                for label, shaped in shaped_structures(inputs) for curve_name, curve in curves.items()]
    pilots = pilot_repairs(inputs, pairings, curves, levels)
    pairings, judged = screen_in_two_stages(inputs, pairings, pilots)
    repaired = repair_best(inputs, pairings, judged, {name: c.scale for name, c in pilots.items()})
    return judge(inputs, repaired + list(pilots.values()) + as_they_are(inputs), forced)


def candidate_curves(inputs: SearchInputs, levels: np.ndarray) -> dict[str, pd.DataFrame]:
    """The family members to try; only those that can pay the best-paid rep's level, if any can."""
    top_level = float(levels.max()) if len(levels) else 1.0
    grid = curve_grid(inputs.rules.curve_family, top_level)
    curves = {name: family_curve(*params) for name, params in grid.items()}
    paying = {name: curve for name, curve in curves.items() if float(curve["payout"].max()) >= top_level}
    return paying or curves  # a curve capped below the pay a rep needs cannot keep the pay-cut rule


def shaped_structures(inputs: SearchInputs) -> list[tuple[str, Plan]]:
    return [(label, without_unused_components(with_weights(inputs.targeted, weights)))
            for label, weights in structures(inputs)]


def _judged(inputs: SearchInputs, label: str, curve_name: str, plan: Plan, scale: np.ndarray,
            sim: Simulation) -> Candidate:
    pay = pay_per_rep(inputs.params, sim)
    short = short_reps(pay, inputs.floor)
    return _candidate(inputs, label, curve_name, Repair(plan=plan, simulation=sim, scale=scale, pay=pay,
                                                        keeps_pay_rule=not short.any(), short=int(short.sum()),
                                                        simulations=1))


def pilot_repairs(inputs: SearchInputs, pairings, curves: dict[str, pd.DataFrame],
                  levels: np.ndarray) -> dict[str, Candidate]:
    """Per curve, one full repair (of its pairing with the most components): the per-rep scale it finds
    is every other pairing's first guess, since α depends on the curve far more than on the weights."""
    out = {}
    for curve_name, curve in curves.items():
        mine = [(label, plan) for label, name, plan in pairings if name == curve_name]
        if not mine:
            continue
        label, plan = max(mine, key=lambda lp: len(lp[1].component_ids))
        repair = repair_pay_cut(plan, inputs.params, inputs.floor, inputs.evaluate, start=first_scale(curve, levels))
        out[curve_name] = _candidate(inputs, label + ", targets repaired", curve_name, repair)
    return out


def screen(inputs: SearchInputs, pairings, scales: dict[str, np.ndarray]) -> list[Candidate]:
    """Every pairing simulated once, its targets scaled by its curve's pilot scale."""
    plans = [scale_targets(plan, inputs.params, scales[name]) for _, name, plan in pairings]
    sims = inputs.evaluate(plans)
    return [_judged(inputs, label, name, scaled, scales[name], sim)
            for (label, name, _), scaled, sim in zip(pairings, plans, sims)]


def screen_in_two_stages(inputs: SearchInputs, pairings, pilots: dict[str, Candidate]):
    """The screened pairings and their candidates: every structure with the lead curve (the one whose
    pilot repair kept the rule with the best margin), then the structures ranking in the best
    REPAIRED_PER_COUNT per component count with every other curve."""
    scales = {name: c.scale for name, c in pilots.items()}
    if not pilots:
        return pairings, screen(inputs, pairings, scales)
    lead = max(pilots, key=lambda name: (pilots[name].keeps_pay_rule, pilots[name].margin))
    structure = {label: i for i, label in enumerate(dict.fromkeys(label for label, _, _ in pairings))}
    first = [i for i, (_, name, _) in enumerate(pairings) if name == lead]
    judged = dict(zip(first, screen(inputs, [pairings[i] for i in first], scales)))
    by_count: dict[int, list[int]] = {}
    for i in first:
        by_count.setdefault(judged[i].components, []).append(i)
    leading = {structure[pairings[i][0]] for ranked in by_count.values()
               for i in sorted(ranked, key=lambda i: -judged[i].margin)[:REPAIRED_PER_COUNT]}
    second = [i for i, (label, name, _) in enumerate(pairings) if name != lead and structure[label] in leading]
    judged.update(zip(second, screen(inputs, [pairings[i] for i in second], scales)))
    kept = sorted(judged)
    return [pairings[i] for i in kept], [judged[i] for i in kept]


def repair_best(inputs: SearchInputs, pairings, judged: list[Candidate],
                scales: dict[str, np.ndarray]) -> list[Candidate]:
    """The best few screened pairings per component count (by simulated margin) repaired to the rule."""
    by_count: dict[int, list[int]] = {}
    for i, c in enumerate(judged):
        by_count.setdefault(c.components, []).append(i)
    out = list(judged)
    for count in sorted(by_count):
        for i in sorted(by_count[count], key=lambda i: -judged[i].margin)[:REPAIRED_PER_COUNT]:
            if judged[i].keeps_pay_rule:
                continue
            label, curve_name, plan = pairings[i]
            repair = repair_pay_cut(plan, inputs.params, inputs.floor, inputs.evaluate, start=scales[curve_name],
                                    first=judged[i].simulation)
            out[i] = _candidate(inputs, label + ", targets repaired", curve_name, repair)
    return out


def as_they_are(inputs: SearchInputs) -> list[Candidate]:
    """Plans taken unchanged (the plan in force), when they have few enough components."""
    out = []
    for label, plan, known in inputs.extra:
        if len(plan.component_ids) > inputs.rules.max_components:
            continue
        sim = known if known is not None else inputs.evaluate([plan])[0]  # simulated once per recommendation
        out.append(_judged(inputs, label, "curve in force", plan, np.ones(len(inputs.params.reps)), sim))
    return out


def judge(inputs: SearchInputs, candidates: list[Candidate], forced: list[str]) -> SearchResult:
    """The best rule-keeping candidate, the frontier and the rules the best one leaves unmet."""
    keeping = [c for c in candidates if c.keeps_pay_rule and c.components <= inputs.rules.max_components]
    frontier = []
    for n in range(1, inputs.rules.max_components + 1):
        pool = [c for c in keeping if c.components == n]
        if not pool:
            frontier.append({"components": n, "alignment": None, "margin": None, "pay_cost": None,
                             "within_budget": None, "candidate": "no plan found with this many components keeps "
                                                                 "the rules", "curve": None})
            continue
        best_n = max(pool, key=lambda c: (c.within_budget, c.margin))
        frontier.append({"components": n, "alignment": best_n.simulation.alignment_efficiency,
                         "margin": best_n.simulation.margin, "pay_cost": best_n.simulation.pay_cost,
                         "within_budget": best_n.within_budget, "candidate": best_n.label, "curve": best_n.curve})
    if not candidates:
        message = (f"max_weight_change = {inputs.max_weight_change:g}: no plan with at most "
                   f"{inputs.rules.max_components} components stays within the change limit of the plan-year baseline")
        return SearchResult(best=None, frontier=[], candidates=[], forced=forced, unmet=[
            {"rule": "max_weight_change", "amount": None, "message": message, "public_message": message}])
    if not keeping:
        closest = min(candidates, key=lambda c: (c.short, -c.margin))
        message = (f"max_pay_cut = {inputs.rules.max_pay_cut:g} cannot be kept with at most "
                   f"{inputs.rules.max_components} components inside the curve family: the closest plan still "
                   f"pays {closest.short} rep(s) below the floor")
        public = message
        pay = pay_per_rep(inputs.params, closest.simulation)
        gap = float(np.maximum(inputs.floor - pay, 0.0).sum())
        message += f" (together {gap:,.0f} short)"
        return SearchResult(best=None, frontier=frontier, candidates=candidates, forced=forced,
                            unmet=[{"rule": "max_pay_cut", "amount": closest.short,
                                    "message": message, "public_message": public}])
    best = max(keeping, key=lambda c: (c.within_budget, c.margin))
    notes = pay_rule_notes(inputs, candidates, best)
    unmet = []
    if not best.within_budget and inputs.budget is not None:
        excess = best.simulation.pay_cost - inputs.budget
        in_force_total = float(inputs.floor.sum()) / (1.0 - inputs.rules.max_pay_cut)
        unmet.append({"rule": "budget", "amount": excess,
                      "message": f"budget: expected pay {best.simulation.pay_cost:,.0f} exceeds comp_budget_rate × "
                                 f"planned revenue = {inputs.budget:,.0f} by {excess:,.0f} (the plan in force pays "
                                 f"{in_force_total:,.0f}); no plan found within max_pay_cut = "
                                 f"{inputs.rules.max_pay_cut:g} pays less",
                      "public_message": "budget: the expected pay exceeds comp_budget_rate × planned revenue; no plan "
                                        f"found within max_pay_cut = {inputs.rules.max_pay_cut:g} pays less (the "
                                        "amounts are pay figures: approver and admin)"})
    return SearchResult(best=best, frontier=frontier, candidates=candidates, unmet=unmet, forced=forced, notes=notes)


def pay_rule_notes(inputs: SearchInputs, candidates: list[Candidate], best: Candidate) -> list[dict]:
    """When a plan with a better simulated margin failed only the pay-cut rule: how far it was."""
    better = [c for c in candidates if not c.keeps_pay_rule and c.components <= inputs.rules.max_components
              and c.margin > best.margin + 1e-6]
    if not better:
        return []
    top = max(better, key=lambda c: c.margin)
    pay = pay_per_rep(inputs.params, top.simulation)
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(inputs.floor > 0, pay / (inputs.floor / (1.0 - inputs.rules.max_pay_cut)) - 1.0, 0.0)
    message = (f"max_pay_cut binds: the best plan found (alignment {top.simulation.alignment_efficiency or 0:.3f} "
               f"against {best.simulation.alignment_efficiency or 0:.3f}) cuts the pay of {top.short} rep(s) by more "
               f"than {inputs.rules.max_pay_cut:.0%} (worst {-float(np.min(cut)):.1%}) after lowering their targets")
    return [{"rule": "max_pay_cut", "amount": top.short, "message": message, "public_message": message}]
