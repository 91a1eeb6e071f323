"""The search for a plan a comp committee can sign (DESIGN.md §4.9): the best net margin under the rules.

Rules: at most `max_components` components; no rep's expected pay more than `max_pay_cut` below the
plan in force; the quotas of every component covering at least `min_quota_coverage` of its planned
metric; weights within `max_weight_change` of the plan-year baseline; the payout curve a member of
the family (`optimizer.alignment.curve_family`); the budget (expected pay ≤ comp_budget_rate ×
planned revenue) — reported with its amount when the other rules need more pay than it allows.
The objective (`Rules.objective`) is net margin, simulated margin − simulated variable pay (the
principal's profit), or simulated margin alone.

Steps, for a component pool (the components in force plus margin components per product group, per
product and on all products):

1. Rank and structures: the incentive LP over the whole pool, at two linearizations (capped at
   target, linear) and two strict margins, orders the components by weight; for n = 1 … max_components
   the components the baseline forces plus the next best by rank, re-weighed by the LP restricted to
   them; the baselines' shape moved from the baseline within the limit. None of this depends on
   `max_components` but for where it stops.
2. Screen: every structure simulated once with the lead curve of the family, its targets scaled per
   rep by a first guess of what keeps the rep's pay (`first_scale`); the best structure per component
   count with the family's other curves too; the plan in force as it is.
3. The frontier, nested: for n = 1, 2, …, the best of (the best plan with at most n − 1 components,
   the screen's plans with n) is brought to the floor (`local_search.rebalance`) and improved by the
   local search with at most n components (`local_search.improve`, judged by the exact simulation).
   So the best plan with at most n components is never worse than with n − 1, and it is the same
   whatever `max_components` is (the search for n never looks beyond n).
4. The price of each rule: from the recommendation, the local search with that rule lifted (and
   from the screen's plans that only that rule rejected); the gain is what the rule costs. A rule
   that blocked no move of the final sweep costs nothing locally and is not searched again.

All simulations go through one function, `evaluate_candidates`, so that a parallel executor can
take them in one place. Why loosening a rule never lowers the answer: docs/alignment.md.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from models.dataset import Dataset, Plan
from models.rules import MARGIN, CurveFamily, Rules
from optimizer.alignment.curve_family import curve_grid, curve_label, family_curve
from optimizer.alignment.incentive import curve_slopes, incentive_problem, incentive_weights
from optimizer.alignment.local_search import (
    Judged, Limits, PlanSpace, Search, best_of, better, cover, improve, make_point, rebalance,
)
from optimizer.alignment.payout import Curve
from optimizer.alignment.response import BatchMemo, Simulation, simulate_plans
from optimizer.executor import Executor
from optimizer.parameters import Parameters
from optimizer.solve import OPTIMAL

logger = logging.getLogger(__name__)

LP_CURVES = {"capped at target": ((0.0, 0.0), (1.0, 1.0)), "linear": ((0.0, 0.0), (1.0, 1.0), (1000.0, 1000.0))}
EPSILONS = (0.02, 0.25)  # strict margins (share of pay at target per selling hour)
LARGE_EPSILONS = (0.02,)  # from LARGE_BLOCKS on: the incentive LPs are half a 1,000-rep recommendation's time
WEIGHT_TOLERANCE = 1e-6
LOCAL_TOLERANCE = 0.0005  # a move must gain more than this share of plan margin (0.05 %)
MIP_BLOCKS = 0  # above this many (rep, period) blocks the search leaves curves that make the judge a MIP
# (a MIP judgement costs 20–40 LP ones: 0.6 s against 0.02 s on the sample), so by default it explores the
# family's concave members (threshold 0, slope ≤ 1 above target); the plan in force keeps its own curve
WIDE_FAMILY = CurveFamily(threshold=(0.0, 0.9), slope_above_target=(0.0, 4.0), cap=(1.0, 10.0))
# The local search's simulations per component count: LOCAL_AT_REFERENCE at the sample's 450 (rep, period)
# blocks, changing with the inverse square root of the blocks, within [MIN_LOCAL, MAX_LOCAL] (a 12-rep
# company of 8 months: 65; 200 reps × 9 months: 15; 1,000 × 9: 8).
# A count of simulations, not of seconds, so that the answer does not depend on the machine or the workers.
LOCAL_REFERENCE_BLOCKS, LOCAL_AT_REFERENCE, MIN_LOCAL, MAX_LOCAL = 450, 30, 8, 120
PRICED_RULES = ("max_components", "max_pay_cut", "min_quota_coverage", "max_weight_change", "curve_family")


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
    in_force: Plan | None = None  # the plan in force (a start as it is, and the base of its own targets)
    in_force_sim: Simulation | None = None
    plan_margin: float | None = None
    threads: int = 1  # the incentive LPs' chains run in this many threads (the recommendation's workers)
    in_force_pay: np.ndarray | None = None  # per rep, under the plan in force (the floor's reference)
    prices: bool = True  # search the price of each rule
    starts: list[Judged] = field(default_factory=list)  # plans a stricter search found (see `recommend`)
    space: PlanSpace | None = None  # shared with that stricter search (its judgements are reused)


@dataclass
class Candidate:
    """One plan the search judged: where it came from, its exact simulation and the rules it keeps."""

    label: str
    judged: Judged

    @property
    def plan(self) -> Plan:
        return self.judged.plan

    @property
    def simulation(self) -> Simulation:
        return self.judged.simulation

    @property
    def components(self) -> int:
        return len(self.judged.point.components)

    @property
    def keeps_pay_rule(self) -> bool:
        return self.judged.keeps_pay_rule

    @property
    def short(self) -> int:
        return self.judged.short

    @property
    def scale(self) -> np.ndarray:
        return self.judged.point.scale

    @property
    def levels(self) -> dict[str, float]:
        return self.judged.point.level_map

    @property
    def curve(self) -> str:
        return "curve in force" if self.judged.point.curve is None else curve_label(*self.judged.point.curve)

    @property
    def within_budget(self) -> bool:
        return self.judged.within_budget

    @property
    def margin(self) -> float:
        return self.simulation.margin

    @property
    def objective(self) -> float:
        return self.judged.objective

    def row(self) -> dict:
        sim = self.simulation
        return {"candidate": self.label, "curve": self.curve, "components": self.components,
                "alignment_efficiency": sim.alignment_efficiency, "margin": sim.margin, "pay_cost": sim.pay_cost,
                "net_margin": sim.net_margin, "keeps_pay_rule": self.keeps_pay_rule, "reps_below_floor": self.short,
                "covers_quotas": self.judged.coverage_ok, "within_budget": self.within_budget}


@dataclass
class SearchResult:
    best: Candidate | None
    frontier: list[dict]
    candidates: list[Candidate]
    unmet: list[dict]  # rules the best plan does not keep: {rule, amount, message, public_message (no pay figure)}
    forced: list[str]
    notes: list[dict] = field(default_factory=list)
    prices: list[dict] = field(default_factory=list)  # the price of each rule
    price_plans: dict[str, Plan] = field(default_factory=dict)  # rule → the plan found with it lifted
    coverage: list[dict] = field(default_factory=list)  # per component of the best plan
    space: PlanSpace | None = None
    limits: Limits | None = None
    simulations: int = 0
    local: list[dict] = field(default_factory=list)  # per component count: the local search's moves and sweeps


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


def structures(inputs: SearchInputs) -> tuple[list[tuple[str, dict[str, float]]], list[str]]:
    """Candidate weightings (label, weights) with at most max_components non-zero weights each, and
    the pool's components ranked by the first incentive LP over the whole pool (for the local
    search's swaps).

    The rows are built once; each linearization and margin rescales them and its subsets share
    them. The four (linearization, margin) chains are independent: with `inputs.threads` > 1 they run
    in threads (HiGHS and the sparse products release the interpreter: two chains at 1,000 reps take
    16 s together against 24 s one after the other), and the results are assembled in the same order.
    """
    ids = inputs.targeted.component_ids
    forced = forced_components(ids, inputs.baseline_weights, inputs.max_weight_change)
    limit = inputs.rules.max_components
    blocks = len(inputs.params.reps) * len(inputs.params.open_index)
    chains = [(lp_curve, eps) for lp_curve in LP_CURVES
              for eps in (LARGE_EPSILONS if blocks >= LARGE_BLOCKS else EPSILONS)]
    shape = replace(inputs.targeted, curve=_curve_frame(LP_CURVES[chains[0][0]]))
    built = incentive_problem(inputs.params, shape, inputs.planned, chains[0][1])

    def chain(lp_curve: str, eps: float) -> tuple[list[tuple[list[str], object]], list[str]]:
        rows = built.at(curve_slopes(Curve.from_frame(_curve_frame(LP_CURVES[lp_curve]))), eps)
        full = _lp(inputs, lp_curve, eps, None, rows)
        if full.status != OPTIMAL:
            return [], []
        ranked = forced + [k for k, _ in sorted(full.weights.items(), key=lambda kv: -kv[1]) if k not in forced]
        out, tried = [], set()
        for n in range(max(len(forced), 1), min(limit, len(ids)) + 1):
            subset = ranked[:n]
            if tuple(sorted(subset)) in tried:
                continue
            tried.add(tuple(sorted(subset)))
            out.append((subset, _lp(inputs, lp_curve, eps, subset, rows)))
        return out, ranked

    if inputs.threads > 1:
        with ThreadPoolExecutor(max_workers=min(inputs.threads, len(chains))) as pool:
            solved = list(pool.map(lambda ce: chain(*ce), chains))
    else:
        solved = [chain(*ce) for ce in chains]
    out: list[tuple[str, dict[str, float]]] = []
    seen: set[tuple] = set()
    rank = next((ranked for _, ranked in solved if ranked), list(ids))
    for (lp_curve, eps), (results, _) in zip(chains, solved):
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
    return out, rank


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
# Curves and first guesses


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


def candidate_curves(inputs: SearchInputs, levels: np.ndarray, *, allow_mip: bool) -> dict[str, tuple[float, float, float]]:
    """The family members to start from (label → (threshold, slope, cap)): those that can pay the
    best-paid rep's level, if any can; only concave ones (an LP judge) when MIPs are left out."""
    top_level = float(levels.max()) if len(levels) else 1.0
    grid = curve_grid(inputs.rules.curve_family, top_level)
    if not allow_mip:
        concave = {n: p for n, p in grid.items() if Curve.from_frame(family_curve(*p)).is_concave}
        grid = concave or grid
    paying = {n: p for n, p in grid.items() if float(family_curve(*p)["payout"].max()) >= top_level}
    return paying or grid  # a curve capped below the pay a rep needs cannot keep the pay-cut rule


def lead_curve(curves: dict[str, tuple[float, float, float]]) -> tuple[float, float, float]:
    """The curve every structure is screened with: slope closest to 1 above target, then the lowest cap
    (a rep whose targets are lowered to keep their pay stays capped close to the plan)."""
    return min(curves.values(), key=lambda p: (abs(p[1] - 1.0), p[2], p[0]))


# --------------------------------------------------------------------------------------------
# The search


def limits_of(inputs: SearchInputs, rules: Rules | None = None, *, allow_mip: bool = True) -> Limits:
    rules = rules or inputs.rules
    return Limits(max_components=rules.max_components,
                  max_weight_change=inputs.max_weight_change if inputs.baseline_weights else None,
                  family=rules.curve_family, floor=inputs.floor, min_coverage=rules.min_quota_coverage,
                  allow_mip_curves=allow_mip)


def plan_space(inputs: SearchInputs, rank: list[str]) -> PlanSpace:
    if inputs.space is not None:
        inputs.space.rank = rank or inputs.space.rank
        return inputs.space
    return PlanSpace(inputs.params, inputs.targeted, inputs.in_force, pay_scale=inputs.pay_scale,
                     baseline=inputs.baseline_weights, budget=inputs.budget, objective=inputs.rules.objective,
                     evaluate=inputs.evaluate, plan_margin=inputs.plan_margin, rank=rank)


def local_budget(blocks: int) -> int:
    """The local search's simulations per component count for a company of `blocks` (rep, period) blocks."""
    return int(np.clip(round(LOCAL_AT_REFERENCE * (LOCAL_REFERENCE_BLOCKS / max(blocks, 1)) ** 0.5),
                       MIN_LOCAL, MAX_LOCAL))


def search(inputs: SearchInputs) -> SearchResult:
    """Candidates under the rules, improved by the local search and judged by the exact simulation:
    the best, the frontier, the coverage of its quotas and the price of each rule."""
    ids = inputs.targeted.component_ids
    forced = forced_components(ids, inputs.baseline_weights, inputs.max_weight_change)
    if len(forced) > inputs.rules.max_components:
        message = (f"max_components = {inputs.rules.max_components} cannot be kept with max_weight_change = "
                   f"{inputs.max_weight_change:g}: the plan-year baseline puts more than that weight on "
                   f"{len(forced)} components ({', '.join(forced)}), which therefore cannot be dropped")
        return SearchResult(best=None, frontier=[], candidates=[], forced=forced,
                            unmet=[{"rule": "max_components", "amount": len(forced) - inputs.rules.max_components,
                                    "message": message, "public_message": message}])
    blocks = len(inputs.params.reps) * len(inputs.params.open_index)
    allow_mip = blocks <= MIP_BLOCKS
    limits = limits_of(inputs, allow_mip=allow_mip)
    clock = time.perf_counter()
    shaped, rank = structures(inputs)
    space = plan_space(inputs, rank)
    spent = space.simulations
    logger.info("search: %d structures in %.1f s", len(shaped), time.perf_counter() - clock)
    tolerance = LOCAL_TOLERANCE * max(inputs.plan_margin or 0.0, 0.0)
    levels = needed_levels(inputs)
    curves = candidate_curves(inputs, levels, allow_mip=allow_mip)
    clock = time.perf_counter()
    screened = screen(inputs, space, limits, shaped, curves, levels)
    logger.info("search: screen of %d plans in %.1f s (%d simulations)", len(screened), time.perf_counter() - clock,
                space.simulations - spent)
    starts = [("the answer under the stricter rules", j) for j in inputs.starts]
    budget = local_budget(blocks)
    clock, before = time.perf_counter(), space.simulations
    frontier, searches = nested_frontier(space, limits, screened + starts, tolerance, list(curves.values()),
                                         budget=budget, starts=1 if blocks >= LARGE_BLOCKS else REBALANCED_STARTS)
    logger.info("search: frontier in %.1f s (%d simulations, budget %d per count)", time.perf_counter() - clock,
                space.simulations - before, budget)
    candidates = [Candidate(label, j) for label, j in screened + starts]
    reached = [entry for entry in frontier if entry is not None]
    if not reached:
        message = (f"max_weight_change = {inputs.max_weight_change:g}: no plan with at most "
                   f"{inputs.rules.max_components} components stays within the change limit of the plan-year baseline")
        return SearchResult(best=None, frontier=[], candidates=candidates, forced=forced, unmet=[
            {"rule": "max_weight_change", "amount": None, "message": message, "public_message": message}])
    label, best = reached[-1]
    answer = Candidate(label, best)
    candidates.append(answer)
    rows = frontier_rows(frontier, space, limits)
    unmet, fatal = unmet_rules(inputs, space, limits, answer)
    if fatal:
        return SearchResult(best=None, frontier=rows, candidates=candidates, forced=forced, unmet=unmet,
                            space=space, limits=limits, simulations=space.simulations - spent)
    clock, before = time.perf_counter(), space.simulations
    prices, price_plans = rule_prices(inputs, space, limits, answer, searches[-1] if searches else None, screened,
                                      tolerance, list(curves.values())) if inputs.prices else ([], {})
    logger.info("search: prices in %.1f s (%d simulations)", time.perf_counter() - clock, space.simulations - before)
    return SearchResult(best=answer, frontier=rows, candidates=candidates, unmet=unmet, forced=forced,
                        prices=prices, price_plans=price_plans, coverage=coverage_rows(space, best, limits), space=space, limits=limits,
                        simulations=space.simulations - spent,
                        local=[{"components": n + 1, "simulations": s.simulations, "sweeps": s.sweeps,
                                "moves": s.moves, "spent": s.spent} for n, s in enumerate(searches) if s is not None])


def screen(inputs: SearchInputs, space: PlanSpace, limits: Limits, shaped: list[tuple[str, dict[str, float]]],
           curves: dict[str, tuple[float, float, float]], levels: np.ndarray) -> list[tuple[str, Judged]]:
    """Every structure with the lead curve; the structure with the best margin per component count
    with the other curves; the plan in force as it is. Targets scaled per rep by `first_scale`, then raised by one
    factor where they would not cover the plan."""
    lead = lead_curve(curves)
    names = {params: name for name, params in curves.items()}

    def point_of(weights: dict[str, float], curve: tuple[float, float, float]):
        return make_point("plan", weights, curve, first_scale(family_curve(*curve), levels))

    first = [(f"{label}, {names[lead]}", point_of(weights, lead)) for label, weights in shaped]
    first = [(label, p) for label, p in first if space.static_problem(p, replace(limits, max_components=len(p.components))) is None]
    out = list(zip([label for label, _ in first], space.judge([p for _, p in first], limits)))
    by_count: dict[int, list[tuple[str, Judged]]] = {}
    for label, j in out:
        by_count.setdefault(len(j.point.components), []).append((label, j))
    second = []
    for count in sorted(by_count):
        top = max((j for _, j in by_count[count]), key=lambda j: j.simulation.margin)  # margin: its pay is not yet at the floor
        structure = next(label for label, j in by_count[count] if j is top).rsplit(", ", 1)[0]
        for name, params in curves.items():
            if params != lead:
                second.append((f"{structure}, {name}", point_of(top.point.weight_map, params)))
    second = [(label, p) for label, p in second if space.static_problem(p, replace(limits, max_components=len(p.components))) is None]
    out += list(zip([label for label, _ in second], space.judge([p for _, p in second], limits)))
    if inputs.in_force is not None:
        point = make_point("in force", inputs.in_force.weights, None, np.ones(len(inputs.params.reps)))
        if inputs.in_force_sim is not None and point not in space.cache:
            space.cache[point] = space._score(point, inputs.in_force, inputs.in_force_sim, limits)
        out.append(("plan in force unchanged", space.judge([point], limits)[0]))
        # its components and targets on the lead curve (concave, so the judge is an LP; the plan in force's
        # own curve is often accelerating, a MIP that costs 5–40 LP judgements)
        on_lead = replace(point, curve=lead, scale_bytes=first_scale(family_curve(*lead), levels).tobytes())
        if space.static_problem(on_lead, replace(limits, max_components=len(on_lead.components))) is None:
            out.append((f"the plan in force's components and targets, {names[lead]}", space.judge([on_lead], limits)[0]))
    return out


REBALANCED_STARTS = 2  # per component count, the screen's best plans brought to the floor before one is chosen
START_ROUNDS = 5  # rebalancing rounds for a start (the local search's rep scales go on from there)
LARGE_BLOCKS = 4_000  # from this many (rep, period) blocks on, one start per count (each costs up to 10 simulations)


def nested_frontier(space: PlanSpace, limits: Limits, pool: list[tuple[str, Judged]], tolerance: float,
                    curve_starts: list[tuple[float, float, float]], *, budget: int = LOCAL_AT_REFERENCE,
                    starts: int = REBALANCED_STARTS) -> tuple[list[tuple[str, Judged] | None], list[Search | None]]:
    """For n = 1 … max_components: the best plan with at most n components (see the module docstring).

    Per n: the screen's plans with n components, the best `starts` by margin first brought to
    the floor by `rebalance` (once there, pay is about the floors' sum, so the margin is what tells
    them apart), the best of them improved by the local search (`budget` simulations); the plan found
    for n − 1 tries the pool's components as an n-th (the structure moves alone); the best of the
    two, and of the plan for n − 1, is the plan for n."""
    frontier: list[tuple[str, Judged] | None] = []
    searches: list[Search | None] = []
    previous: tuple[str, Judged] | None = None
    # no plan pays on more components than the pool holds: the counts past it would repeat the last
    # (models.rules.check_rule_sizes refuses such a max_components at the request; this keeps any caller bounded)
    for n in range(1, min(limits.max_components, len(space.base["plan"])) + 1):
        at_most = replace(limits, max_components=n)
        mine = [(label, space.judge([j.point], at_most)[0]) for label, j in pool
                if len(j.point.components) == n and space.static_problem(j.point, at_most) is None]
        mine.sort(key=lambda lj: -lj[1].simulation.margin)
        mine = [(label, floor_kept(space, j, at_most, curve_starts)) for label, j in mine[:starts]] + mine[starts:]
        entries: list[tuple[str, Judged]] = []
        result = None
        if mine:
            start = best_of([j for _, j in mine])
            label = next(label for label, j in mine if j is start)
            result = improve(space, start, at_most, tolerance=tolerance, curve_starts=curve_starts,
                             max_simulations=budget)
            entries.append((label if result.best.point == start.point
                            else f"{label}, then {len(result.moves)} local moves", result.best))
        if previous is not None:
            known = space.judge([previous[1].point], at_most)[0]
            grown = improve(space, known, at_most, tolerance=tolerance, curve_starts=curve_starts,
                            max_simulations=max(budget // 4, 4), levels=(0,), families=("structure", "scale"))
            entries.append((previous[0] if grown.best.point == known.point
                            else f"{previous[0].split(', then')[0]}, then a component more", grown.best))
            if result is None:
                result = grown
        if not entries:
            frontier.append(None)
            searches.append(None)
            continue
        best = best_of([j for _, j in entries])
        previous = next((label, j) for label, j in entries if j is best)
        frontier.append(previous)
        searches.append(result)
    return frontier, searches


def floor_kept(space: PlanSpace, judged: Judged, limits: Limits,
               curves: list[tuple[float, float, float]]) -> Judged:
    """A start brought to the floor by `rebalance`; if some reps stay short, the same plan with the
    family's next higher caps (ascending) until one keeps the rule. A rep whose targets are cut far
    reaches the cap and stops selling, and where the market is oversold the scaling then takes them
    below the floor whatever the targets: only a higher cap gives them room (measured at 1,000 reps:
    11 reps short at a 135 % cap, none at 200 %)."""
    best = rebalance(space, judged, limits, rounds=START_ROUNDS, give_back=1)
    if best.keeps_pay_rule or judged.point.curve is None:
        return best
    t, slope, cap = judged.point.curve
    for higher in sorted({c for _, _, c in curves if c > cap + 1e-9}):
        variant = space.judge([replace(best.point, curve=(t, slope, higher))], limits)[0]
        tried = rebalance(space, variant, limits, rounds=START_ROUNDS, give_back=1)
        if better(tried, best, 0.0):
            best = tried
        if best.keeps_pay_rule:
            break
    return best


def frontier_rows(frontier: list[tuple[str, Judged] | None], space: PlanSpace, limits: Limits) -> list[dict]:
    rows = []
    for n, entry in enumerate(frontier, start=1):
        if entry is None:
            rows.append({"components": n, "plan_components": None, "alignment": None, "margin": None,
                         "net_margin": None, "pay_cost": None, "within_budget": None, "keeps_rules": None,
                         "candidate": "no plan with at most this many components keeps the change limit",
                         "curve": None})
            continue
        label, j = entry
        sim = j.simulation
        rows.append({"components": n, "plan_components": len(j.point.components),
                     "alignment": sim.alignment_efficiency, "margin": sim.margin, "net_margin": sim.net_margin,
                     "pay_cost": sim.pay_cost, "within_budget": j.within_budget, "keeps_rules": j.signable,
                     "candidate": label, "curve": Candidate(label, j).curve})
    return rows


def coverage_rows(space: PlanSpace, best: Judged, limits: Limits) -> list[dict]:
    out = []
    for k, share in best.coverage.items():
        planned = space.planned.get(k, 0.0)
        out.append({"component_id": k, "metric": space.metric[k], "products": space.spec[k],
                    "targets": float(space.open_targets(best.point, k).sum()), "planned": planned,
                    "coverage": share, "min_quota_coverage": limits.min_coverage})
    return out


# --------------------------------------------------------------------------------------------
# Rules the answer cannot keep, and the price of each rule


def unmet_rules(inputs: SearchInputs, space: PlanSpace, limits: Limits, answer: Candidate) -> tuple[list[dict], bool]:
    """The rules the answer leaves unmet, with their amounts; True when no plan keeps the pay-cut rule
    at all (the recommendation fails: `rules_unmet`)."""
    rules, best = inputs.rules, answer.judged
    if not best.keeps_pay_rule:
        public = (f"max_pay_cut = {rules.max_pay_cut:g} cannot be kept with at most {rules.max_components} "
                  f"components inside the curve family: the closest plan still pays {best.short} rep(s) below "
                  f"the floor")
        return [{"rule": "max_pay_cut", "amount": best.short, "public_message": public,
                 "message": public + f" (together {best.total_shortfall:,.0f} short)"}], True
    unmet: list[dict] = []
    if not best.coverage_ok:
        unmet.append(coverage_conflict(inputs, space, limits, best))
    if not best.within_budget and inputs.budget is not None:
        sim = best.simulation
        excess = sim.pay_cost - inputs.budget
        in_force_total = float(inputs.in_force_pay.sum()) if inputs.in_force_pay is not None else None
        in_force_text = "" if in_force_total is None else f" (the plan in force pays {in_force_total:,.0f})"
        unmet.append({"rule": "budget", "amount": excess,
                      "message": f"budget: expected pay {sim.pay_cost:,.0f} exceeds comp_budget_rate × planned revenue "
                                 f"= {inputs.budget:,.0f} by {excess:,.0f}{in_force_text}; no plan found within "
                                 f"max_pay_cut = {rules.max_pay_cut:g} pays less",
                      "public_message": "budget: the expected pay exceeds comp_budget_rate × planned revenue; no plan "
                                        f"found within max_pay_cut = {rules.max_pay_cut:g} pays less (the amounts "
                                        "are pay figures: approver and admin)"})
    return unmet, False


def coverage_conflict(inputs: SearchInputs, space: PlanSpace, limits: Limits, best: Judged) -> dict:
    """min_quota_coverage against max_pay_cut: how far the quotas fall short when every rep keeps their
    pay, and what covering the plan would cut (the answer with its short components' targets raised
    to the coverage, simulated)."""
    rules = inputs.rules
    lowest = min(best.coverage.items(), key=lambda kv: kv[1])
    covered = space.judge([cover(space, best.point, limits.min_coverage)], limits)[0]
    reference = inputs.in_force_pay if inputs.in_force_pay is not None else limits.floor
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(reference > 0, 1.0 - covered.pay / reference, 0.0)
    losing = cut > rules.max_pay_cut + 1e-9
    worst = float(cut.max()) if len(cut) else 0.0
    public = (f"min_quota_coverage = {limits.min_coverage:g} cannot be kept with max_pay_cut = {rules.max_pay_cut:g}: "
              f"keeping every rep's expected pay within {rules.max_pay_cut:.0%} of the plan in force, the quotas of "
              f"{lowest[0]} cover {lowest[1]:.0%} of the plan; covering {limits.min_coverage:.0%} would cut the pay "
              f"of {int(losing.sum())} rep(s) by more than {rules.max_pay_cut:.0%} (worst {worst:.0%})")
    return {"rule": "min_quota_coverage", "conflict": "max_pay_cut", "amount": best.coverage_deficit,
            "component_id": lowest[0], "coverage": lowest[1], "reps_cut": int(losing.sum()), "worst_cut": worst,
            "shortfall": covered.total_shortfall, "public_message": public,
            "message": public + f", together {covered.total_shortfall:,.0f} below the floor"}


PRICE_SIMULATIONS = 16  # at most this many simulations for one rule's price (a price is "at least" that much)
# (and at most half the local search's budget per count; 2 from LARGE_BLOCKS on: at 1,000 reps a
# simulation costs about a second, and five rules' searches of 4 took 98 s of a 590 s run under load)
PRICE_MOVES = {"max_components": ("structure", "weights"), "max_pay_cut": ("scale", "weights"),
               "min_quota_coverage": ("scale", "weights", "curve"), "max_weight_change": ("weights", "structure"),
               "curve_family": ("curve",)}  # the moves a lifted rule frees


def lifted(limits: Limits, rule: str, space: PlanSpace) -> tuple[Limits, object] | None:
    """The limits with one rule lifted, and the value it is lifted to; None when the rule does not apply."""
    if rule == "max_components":
        return replace(limits, max_components=len(space.base["plan"])), len(space.base["plan"])
    if rule == "max_pay_cut":
        return replace(limits, floor=np.zeros_like(limits.floor)), 1.0
    if rule == "min_quota_coverage":
        return replace(limits, min_coverage=0.0), 0.0
    if rule == "max_weight_change":
        return (None if limits.max_weight_change is None else (replace(limits, max_weight_change=None), 1.0))
    if rule == "curve_family":
        return replace(limits, family=WIDE_FAMILY), WIDE_FAMILY.to_dict()
    raise ValueError(rule)


def rule_value(inputs: SearchInputs, limits: Limits, rule: str):
    return {"max_components": limits.max_components, "max_pay_cut": inputs.rules.max_pay_cut,
            "min_quota_coverage": limits.min_coverage, "max_weight_change": limits.max_weight_change,
            "curve_family": limits.family.to_dict()}[rule]


def at_limit(space: PlanSpace, limits: Limits, judged: Judged, rule: str) -> bool:
    """Whether the plan sits on the rule's limit (so that lifting it may free a move)."""
    point = judged.point
    if rule == "max_components":
        return len(point.components) >= limits.max_components
    if rule == "max_pay_cut":
        return bool(np.any((limits.floor > 0) & (judged.pay <= limits.floor * 1.01)))
    if rule == "min_quota_coverage":
        return any(c <= limits.min_coverage + COVERAGE_SLACK for c in judged.coverage.values())
    if rule == "max_weight_change":
        if limits.max_weight_change is None or not space.baseline:
            return False
        weights = point.weight_map
        return any(abs(abs(weights.get(k, 0.0) - space.baseline.get(k, 0.0)) - limits.max_weight_change) < 1e-6
                   for k in set(weights) | set(space.baseline))
    if rule == "curve_family":
        if point.curve is None:
            return False
        fam = limits.family
        t, slope, cap = point.curve
        return (abs(t - fam.threshold[1]) < 1e-9 or abs(slope - fam.slope_above_target[1]) < 1e-9
                or abs(cap - fam.cap[1]) < 1e-9 or abs(cap - fam.cap[0]) < 1e-9 and slope > 0)
    return False


COVERAGE_SLACK = 0.005  # a component this close to min_quota_coverage sits on the rule


def rule_prices(inputs: SearchInputs, space: PlanSpace, limits: Limits, answer: Candidate, final: Search | None,
                screened: list[tuple[str, Judged]], tolerance: float,
                curve_starts: list[tuple[float, float, float]]) -> tuple[list[dict], dict[str, Plan]]:
    """What each rule costs: the best objective found with that rule lifted, from the answer (and from
    the screen's plans only that rule rejected), minus the answer's. Never negative: the answer keeps
    the lifted rules too. A rule that blocked no move of the answer's last sweep is priced 0 without
    searching (lifting it frees no move the search tried)."""
    out, plans = [], {}
    blocked = final.blocked if final is not None else {}
    base = answer.judged
    blocks = len(inputs.params.reps) * len(inputs.params.open_index)
    price_budget = 2 if blocks >= LARGE_BLOCKS else min(PRICE_SIMULATIONS, max(3, local_budget(blocks) // 2))
    plan_margin = inputs.plan_margin or 0.0
    objective = "margin" if inputs.rules.objective == MARGIN else "net margin"
    for rule in PRICED_RULES:
        lift = lifted(limits, rule, space)
        if lift is None:
            continue
        free, value = lift
        if not base.coverage_ok:  # a conflict: priced at the coverage the answer reaches, so that the
            # objective alone compares (the answer keeps the lifted limits; the price cannot be negative)
            free = replace(free, min_coverage=min(free.min_coverage, min(base.coverage.values())))
        others = [space.judge([j.point], free)[0] for _, j in screened
                  if space.static_problem(j.point, free) is None]
        others = [j for j in others if better(j, space.judge([base.point], free)[0], tolerance)]
        start = best_of([space.judge([base.point], free)[0]] + others)
        searched = bool(blocked.get(rule, 0)) or start.point != base.point or at_limit(space, limits, base, rule)
        found = (improve(space, start, free, tolerance=tolerance, max_simulations=price_budget,
                         curve_starts=curve_starts, levels=(0,), families=PRICE_MOVES[rule]).best
                 if searched else start)
        price = max(found.objective - base.objective, 0.0)
        share = price / plan_margin if plan_margin > 0 else None
        text = (f"{rule} costs {price:,.0f} of {objective}" + (f" ({share:.2%} of plan margin)" if share is not None else "")
                if price > 0 else f"{rule} costs nothing here: lifting it " +
                ("frees no move the search tried" if not searched else "finds no better plan"))
        out.append({"rule": rule, "value": rule_value(inputs, limits, rule), "lifted": value,
                    "objective": base.objective, "objective_lifted": found.objective, "price": price,
                    "price_share": share, "searched": searched, "blocked_moves": int(blocked.get(rule, 0)),
                    "lifted_plan": {"components": len(found.point.components),
                                    "alignment": found.simulation.alignment_efficiency,
                                    "margin": found.simulation.margin, "net_margin": found.simulation.net_margin,
                                    "pay_cost": found.simulation.pay_cost},
                    "message": text,
                    "public_message": (f"{rule} binds (its price is a pay figure: approver and admin)"
                                       if price > 0 and inputs.rules.objective != MARGIN else text)})
        plans[rule] = found.plan
    return out, plans
