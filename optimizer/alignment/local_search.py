"""The local search that finishes every recommendation (DESIGN.md §4.9): the exact simulation as the judge.

A plan the search can reach is a `Point` in a few coordinates over a *base* — the pool's targets
cascaded from the plan LP (`"plan"`), or the plan in force's own targets (`"in force"`; a pool
component it does not have takes the plan LP's):

    components S with weights ω (Σω = 1),  a payout curve (a family member (t, s, c), or the base's own),
    a target level β_k per component,      a target scale α_r per rep,

    T[r,k,t] = α_r · β_k · base_k[r,t]  in every open period (closed periods keep the plan in force's).

`PlanSpace` turns a point into a `Plan`, checks the rules that need no simulation (component count,
weights within `max_weight_change` of the plan-year baseline, the curve inside its family), measures
the quotas' coverage (Σ_{r,t} T[r,k,t] against the planned metric Σ_{r,t} base_k of the plan LP) and
judges points with the exact simulation (cached by point): pay per rep against the floor, net margin
(margin − pay) or margin, the budget. `better` orders points lexicographically: the pay-cut rule (a
search from an infeasible start first restores it), the quotas' coverage, the budget, the objective.

`improve` is a pattern search over moves, each judged by the exact simulation: the target scale of
every rep moved at once where it pays that rep's own contribution (`scale_move`: reps are independent
problems but for the market scaling, so the combined move is simulated before it is taken), a weight
moved against the others, one component's targets × (1 ± δ), the curve's cap or slope, and a
component swapped for, or added from, the pool's best-ranked, or dropped. The move whose margin
promises most per family is judged again with every rep's targets brought back to the floor
(`rebalance`): under the floor the pay is pinned, so what a move is worth is mostly its margin. A
move is taken when it beats the current point by more than `tolerance` (0.05 % of plan margin); the
search ends when a certificate pass — every family at every step level — finds none, or when its
budget of simulations is spent. Moves a rule blocked are counted per rule (`Search.blocked`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from models.dataset import Plan
from models.rules import MARGIN, CurveFamily
from optimizer.alignment.curve_family import family_curve
from optimizer.alignment.payout import Curve
from optimizer.alignment.response import Simulation
from optimizer.parameters import Parameters
from optimizer.plan.cascade import target_grid

logger = logging.getLogger(__name__)

SCALE_BOUNDS = (0.05, 5.0)  # α: a rep's targets between 5 % and 500 % of the base
LEVEL_BOUNDS = (0.3, 2.0)  # β: a component's targets between 30 % and 200 % of the base
HEADROOM = 1.002  # a repair aims this far above the floor: market scaling between reps can move pay a little
SHORT_TOLERANCE = 0.01  # a rep a cent below the floor is short
STEPS = {  # per step level: weight shift, level factor, cap, slope, threshold, rep scale
    0: {"weight": 0.10, "level": 0.10, "cap": 0.20, "slope": 0.25, "threshold": 0.10, "scale": 0.06},
    1: {"weight": 0.03, "level": 0.05, "cap": 0.05, "slope": 0.10, "threshold": 0.05, "scale": 0.02},
    2: {"weight": 0.01, "level": 0.01, "cap": 0.02, "slope": 0.05, "threshold": 0.02, "scale": 0.007},
}
WEIGHT_FLOOR = 1e-6  # a weight below this is no component
REBALANCED = 1  # per move family, the most promising moves that are rebalanced to the floor
MOVE_HEADROOM = 1.006  # a move's one-step rebalance aims this far above the floor (its secant errs both ways)


@dataclass(frozen=True)
class Point:
    """A plan in the search's coordinates (see the module docstring). Hashable: the search caches judgements."""

    base: str  # "plan" or "in force"
    weights: tuple[tuple[str, float], ...]  # the components S in order, with ω
    curve: tuple[float, float, float] | None  # family member (threshold, slope, cap); None: the base's own curve
    levels: tuple[tuple[str, float], ...]  # β per component of S
    scale_bytes: bytes  # α per rep (float64)

    @property
    def scale(self) -> np.ndarray:
        return np.frombuffer(self.scale_bytes, dtype=float)

    @property
    def components(self) -> list[str]:
        return [k for k, _ in self.weights]

    @property
    def weight_map(self) -> dict[str, float]:
        return dict(self.weights)

    @property
    def level_map(self) -> dict[str, float]:
        return dict(self.levels)

    def with_scale(self, scale: np.ndarray) -> "Point":
        return replace(self, scale_bytes=np.clip(np.asarray(scale, float), *SCALE_BOUNDS).tobytes())


def make_point(base: str, weights: dict[str, float], curve: tuple[float, float, float] | None,
               scale: np.ndarray, levels: dict[str, float] | None = None) -> Point:
    ids = [k for k, w in weights.items() if w > WEIGHT_FLOOR]
    total = sum(weights[k] for k in ids)
    levels = levels or {}
    return Point(base=base, weights=tuple((k, weights[k] / total) for k in ids),
                 curve=None if curve is None else tuple(float(v) for v in curve),
                 levels=tuple((k, float(levels.get(k, 1.0))) for k in ids),
                 scale_bytes=np.clip(np.asarray(scale, float), *SCALE_BOUNDS).tobytes())


@dataclass
class Judged:
    """A point with its exact simulation and what the rules say of it."""

    point: Point
    plan: Plan
    simulation: Simulation
    pay: np.ndarray  # per rep, open periods
    rep_value: np.ndarray  # per rep: its own contribution to the objective (margin − pay, or margin)
    shortfall: np.ndarray  # per rep: pay short of the floor (0 when not short)
    coverage: dict[str, float]
    coverage_deficit: float  # the largest share of a component's planned metric its quotas miss below min_coverage
    within_budget: bool
    objective: float

    @property
    def short(self) -> int:
        return int((self.shortfall > 0).sum())

    @property
    def keeps_pay_rule(self) -> bool:
        return self.short == 0

    @property
    def coverage_ok(self) -> bool:
        return self.coverage_deficit <= 0.0

    @property
    def signable(self) -> bool:
        return self.coverage_ok and self.keeps_pay_rule

    @property
    def total_shortfall(self) -> float:
        return float(self.shortfall.sum())

    worst_short: float = 0.0  # the largest share of a rep's floor not paid


def better(a: Judged, b: Judged, tolerance: float) -> bool:
    """Whether `a` beats `b` by more than `tolerance` in the search's lexicographic order: the least
    pay short of the floors (the pay-cut rule: a plan that keeps it before any that does not, then the
    least pay short in all, more than a unit of money apart — a search from an infeasible start first
    restores it); the quotas covering min_coverage; within the budget; the
    objective.

    Coverage and budget are kept where a plan keeps them and named with their amounts where none
    does (the search then maximizes the objective among the plans that keep the floor), so loosening
    a rule never trades the objective for a rule that is unmet anyway.
    """
    if a.keeps_pay_rule != b.keeps_pay_rule:
        return a.keeps_pay_rule
    if abs(a.total_shortfall - b.total_shortfall) > 1.0:
        return a.total_shortfall < b.total_shortfall
    if a.coverage_ok != b.coverage_ok:
        return a.coverage_ok
    if a.within_budget != b.within_budget:
        return a.within_budget
    return a.objective > b.objective + tolerance


def best_of(judged: Sequence[Judged]) -> Judged | None:
    best = None
    for j in judged:
        if best is None or better(j, best, 0.0):
            best = j
    return best


@dataclass(frozen=True)
class Limits:
    """The rules a point must keep (the ones the search may lift one at a time to price them)."""

    max_components: int
    max_weight_change: float | None  # None: no plan in force, or the limit lifted
    family: CurveFamily
    floor: np.ndarray  # per rep; zeros when the pay-cut rule is lifted
    min_coverage: float
    allow_mip_curves: bool = True


class PlanSpace:
    """Points ↔ plans for one recommendation, the static rules, and the judge (with a cache)."""

    def __init__(self, params: Parameters, targeted: Plan, in_force: Plan | None, *, pay_scale: float,
                 baseline: dict[str, float] | None, budget: float | None, objective: str,
                 evaluate: Callable[[list[Plan]], list[Simulation]], plan_margin: float | None,
                 rank: Sequence[str] = ()):
        self.params = params
        self.pay_scale = pay_scale
        self.baseline = baseline
        self.budget = budget
        self.objective = objective
        self.evaluate = evaluate
        self.plan_margin = plan_margin
        self.rank = list(rank)  # pool components, best first (the incentive LP over the whole pool)
        self.open_index = np.asarray(params.open_index)
        self.in_force = in_force
        comps = targeted.components.set_index("component_id")
        self.metric = dict(comps["metric"])
        self.spec = dict(comps["products"])
        self.products = dict(targeted.component_products)
        self.base: dict[str, dict[str, np.ndarray]] = {"plan": target_grid(params, targeted)}
        self.base_curve: dict[str, pd.DataFrame] = {}
        self.closed_rows: dict[str, pd.DataFrame] = {}
        if in_force is not None:
            # the plan in force's own targets; a pool component it does not have takes the plan LP's
            self.base["in force"] = {**self.base["plan"], **target_grid(params, in_force)}
            self.base_curve["in force"] = in_force.curve.reset_index(drop=True)
            open_set = set(params.open_periods)
            closed = in_force.targets[~in_force.targets["period"].isin(open_set)]
            self.closed_rows = {k: rows[["rep_id", "component_id", "period", "target"]]
                                for k, rows in closed.groupby("component_id", sort=False)}
            for row in in_force.components.itertuples():
                self.metric.setdefault(row.component_id, row.metric)
                self.spec.setdefault(row.component_id, row.products)
                self.products.setdefault(row.component_id, in_force.component_products[row.component_id])
        # the planned metric per component: the plan LP's orders, open periods (the coverage's denominator)
        self.planned = {k: float(a[:, self.open_index].sum()) for k, a in self.base["plan"].items()}
        self.cache: dict[Point, Judged] = {}
        self.simulations = 0
        self._reps = np.asarray(params.reps, dtype=object)
        self._open_labels = np.asarray(params.open_periods, dtype=object)

    # ---------------------------------------------------------------- points → plans

    def curve_frame(self, point: Point) -> pd.DataFrame:
        if point.curve is None:
            return self.base_curve[point.base]
        curve = family_curve(*point.curve)
        return curve.assign(payout=curve["payout"] * self.pay_scale)

    def open_targets(self, point: Point, k: str) -> np.ndarray:
        """T[r,k,t] over the open periods, (R, T_open)."""
        return self.base[point.base][k][:, self.open_index] * point.scale[:, None] * point.level_map[k]

    def plan(self, point: Point) -> Plan:
        ids = point.components
        components = pd.DataFrame({"component_id": ids, "metric": [self.metric[k] for k in ids],
                                   "products": [self.spec[k] for k in ids], "weight": [w for _, w in point.weights]})
        R, T = len(self._reps), len(self.open_index)
        frames = []
        for k in ids:
            if k in self.closed_rows:
                frames.append(self.closed_rows[k])
            frames.append(pd.DataFrame({"rep_id": np.repeat(self._reps, T), "component_id": k,
                                        "period": np.tile(self._open_labels, R),
                                        "target": self.open_targets(point, k).ravel()}))
        targets = pd.concat(frames, ignore_index=True) if frames else \
            pd.DataFrame(columns=["rep_id", "component_id", "period", "target"])
        return Plan(components=components, curve=self.curve_frame(point), targets=targets,
                    component_products={k: tuple(self.products[k]) for k in ids})

    def coverage(self, point: Point) -> dict[str, float]:
        """Σ targets ÷ planned metric over the open periods, per component of the point."""
        out = {}
        for k in point.components:
            planned = self.planned.get(k, 0.0)
            out[k] = float(self.open_targets(point, k).sum() / planned) if planned > 0 else 1.0
        return out

    # ---------------------------------------------------------------- the static rules

    def weights_allowed(self, weights: dict[str, float], limits: Limits) -> bool:
        if limits.max_weight_change is None or not self.baseline:
            return True
        keys = set(weights) | set(self.baseline)
        return all(abs(weights.get(k, 0.0) - self.baseline.get(k, 0.0)) <= limits.max_weight_change + 1e-9
                   for k in keys)

    def project_weights(self, wanted: dict[str, float], limits: Limits) -> dict[str, float] | None:
        """The weights on the same components closest to `wanted` that sum to 1 and keep the change
        limit (a box-constrained projection onto the simplex); None when none exist."""
        ids = list(wanted)
        v = np.array([wanted[k] for k in ids], float)
        lo, hi = np.zeros(len(ids)), np.ones(len(ids))
        if limits.max_weight_change is not None and self.baseline:
            base = np.array([self.baseline.get(k, 0.0) for k in ids])
            lo, hi = np.maximum(lo, base - limits.max_weight_change), np.minimum(hi, base + limits.max_weight_change)
            outside = [k for k in self.baseline if k not in wanted]
            if any(self.baseline[k] > limits.max_weight_change + 1e-9 for k in outside):
                return None  # a component the limit keeps is missing
        if lo.sum() > 1 + 1e-9 or hi.sum() < 1 - 1e-9:
            return None
        low, high = float((v - hi).min()), float((v - lo).max())
        for _ in range(100):  # Σ clip(v − λ, lo, hi) falls in λ: bisect to Σ = 1
            mid = 0.5 * (low + high)
            if np.clip(v - mid, lo, hi).sum() > 1.0:
                low = mid
            else:
                high = mid
        w = np.clip(v - 0.5 * (low + high), lo, hi)
        w = w / w.sum()
        return dict(zip(ids, w.tolist()))

    def static_problem(self, point: Point, limits: Limits) -> str | None:
        """The rule a point breaks without being simulated, or None."""
        if len(point.components) > limits.max_components:
            return "max_components"
        if not self.weights_allowed(point.weight_map, limits):
            return "max_weight_change"
        if point.curve is not None and not limits.family.contains(*point.curve):
            return "curve_family"
        if point.curve is not None and not limits.allow_mip_curves and not Curve.from_frame(family_curve(*point.curve)).is_concave:
            return "curve_family"
        return None

    def concave(self, point: Point) -> bool:
        """Whether the point's curve is concave (its judge an LP)."""
        return Curve.from_frame(self.curve_frame(point)).is_concave

    def deficit(self, point: Point, limits: Limits) -> float:
        """How far the point's least-covered component is below `min_coverage` (0 when all cover it)."""
        return max([limits.min_coverage - c for c in self.coverage(point).values()] + [0.0])

    def screened(self, points: Sequence[Point], current: Judged, limits: Limits, blocked: dict) -> list[Point]:
        """The moves worth simulating from `current`: those that keep the static rules and, when the
        current point's quotas cover the plan, keep covering it (counted as blocked by that rule)."""
        out = []
        for point in points:
            problem = self.static_problem(point, limits)
            if problem is None and current.coverage_ok and self.deficit(point, limits) > 0:
                problem = "min_quota_coverage"  # it would lose to the current point on the coverage
            if problem is not None:
                blocked[problem] = blocked.get(problem, 0) + 1
                continue
            out.append(point)
        return out

    # ---------------------------------------------------------------- the judge

    def judge(self, points: Sequence[Point], limits: Limits) -> list[Judged]:
        """The exact simulation of every point (cached), scored under `limits`."""
        todo = [p for p in dict.fromkeys(points) if p not in self.cache]
        if todo:
            plans = [self.plan(p) for p in todo]
            sims = self.evaluate(plans)
            self.simulations += len(todo)
            for point, plan, sim in zip(todo, plans, sims):
                self.cache[point] = self._score(point, plan, sim, limits)
        return [self._rescore(self.cache[p], limits) for p in points]

    def _score(self, point: Point, plan: Plan, sim: Simulation, limits: Limits) -> Judged:
        pay = sim.rep_pay if sim.rep_pay is not None else np.zeros(len(self._reps))
        margin = sim.rep_margin if sim.rep_margin is not None else np.zeros(len(self._reps))
        value = margin if self.objective == MARGIN else margin - pay
        coverage = self.coverage(point)
        judged = Judged(point=point, plan=plan, simulation=sim, pay=pay, rep_value=value,
                        shortfall=np.zeros(len(pay)), coverage=coverage, coverage_deficit=0.0,
                        within_budget=self.budget is None or sim.pay_cost <= self.budget + 1e-6,
                        objective=sim.margin if self.objective == MARGIN else sim.net_margin)
        return self._rescore(judged, limits)

    @staticmethod
    def _rescore(judged: Judged, limits: Limits) -> Judged:
        """The same simulation under other limits (the floor and the coverage are the only ones a
        simulated point is scored against; the others are static)."""
        gap = limits.floor - judged.pay
        shortfall = np.where(gap > SHORT_TOLERANCE, gap, 0.0)
        deficit = max([limits.min_coverage - c for c in judged.coverage.values()] + [0.0])
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(limits.floor > 0, shortfall / limits.floor, 0.0)
        return replace(judged, shortfall=shortfall, coverage_deficit=deficit if deficit > 1e-9 else 0.0,
                       worst_short=float(share.max()) if share.size else 0.0)


# ------------------------------------------------------------------------------------------------
# Moves


@dataclass
class Search:
    """One run of `improve`: the point it ends at, the simulations it spent, the rules that blocked moves."""

    best: Judged
    simulations: int = 0
    sweeps: int = 0
    blocked: dict[str, int] = field(default_factory=dict)  # rule → moves it blocked in the final sweep
    moves: list[str] = field(default_factory=list)  # the moves taken, in order
    spent: dict[str, int] = field(default_factory=dict)  # move family → simulations it cost


def weight_moves(point: Point, space: PlanSpace, limits: Limits, step: float, blocked: dict) -> list[Point]:
    """One component's weight up or down by `step`, the others' in proportion the other way (with two
    components, a shift between them), projected onto the change limit."""
    out = []
    ids = point.components
    weights = point.weight_map
    if len(ids) < 2:
        return out
    for i in ids:
        for sign in (1.0, -1.0):
            if len(ids) == 2 and sign < 0:
                continue  # the same moves as the other component's rises
            wanted = dict(weights)
            delta = min(step, 1.0 - weights[i]) if sign > 0 else -min(step, weights[i])
            rest = 1.0 - weights[i]
            for k in ids:
                wanted[k] = weights[k] + delta if k == i else weights[k] - delta * (weights[k] / rest if rest > 0 else 0.0)
            projected = space.project_weights(wanted, limits)
            if projected is None or max(abs(projected[k] - weights[k]) for k in ids) < 1e-6:
                blocked["max_weight_change"] = blocked.get("max_weight_change", 0) + 1
                continue
            if max(abs(projected[k] - wanted[k]) for k in ids) > 1e-6:
                blocked["max_weight_change"] = blocked.get("max_weight_change", 0) + 1
            out.append(replace(point, weights=tuple((k, projected[k]) for k in ids)))
    return out


def level_moves(point: Point, space: PlanSpace, limits: Limits, step: float, blocked: dict) -> list[Point]:
    """One component's targets × (1 + step) or ÷ (1 + step), for every rep."""
    out = []
    levels = point.level_map
    for k in point.components:
        for factor in (1.0 + step, 1.0 / (1.0 + step)):
            value = float(np.clip(levels[k] * factor, *LEVEL_BOUNDS))
            if abs(value - levels[k]) > 1e-9:
                out.append(replace(point, levels=tuple((c, value if c == k else v) for c, v in point.levels)))
    return out


WIDE_CURVES = CurveFamily(threshold=(0.0, 0.95), slope_above_target=(0.0, 10.0), cap=(1.0, 20.0))


def curve_moves(point: Point, space: PlanSpace, limits: Limits, steps: dict, blocked: dict,
                starts: Sequence[tuple[float, float, float]] = ()) -> list[Point]:
    """The cap, the slope above target or the threshold moved by one step (the family's bounds are
    the static rule); a plan on its own curve tries the family's starting members instead."""
    if point.curve is None:
        return [replace(point, curve=c) for c in starts]
    t, s, c = point.curve
    proposals = [(t, s, c + steps["cap"]), (t, s, c - steps["cap"]), (t, s + steps["slope"], c),
                 (t, s - steps["slope"], c)]
    if limits.allow_mip_curves:
        proposals += [(t + steps["threshold"], s, c), (t - steps["threshold"], s, c)]
    out = []
    for proposal in proposals:
        proposal = tuple(round(v, 6) for v in proposal)
        if not WIDE_CURVES.contains(*proposal) or (proposal[1] <= 0 and proposal[2] != c):
            continue  # outside any sensible curve, or a cap a flat curve above target does not have
        out.append(replace(point, curve=proposal))
    return out


def structure_moves(point: Point, space: PlanSpace, limits: Limits, blocked: dict, *, coverage: float,
                    pool_width: int = 2) -> list[Point]:
    """Swap a component for one of the pool's best-ranked, add one (while the count allows), drop one.
    A component new to the plan starts with its quotas covering `coverage` of its planned metric."""
    out = []
    ids = point.components
    weights = point.weight_map
    outside = [k for k in space.rank if k not in weights and k in space.base[point.base]][:pool_width]

    def build(new_weights: dict[str, float]) -> Point | None:
        projected = space.project_weights(new_weights, limits)
        if projected is None:
            blocked["max_weight_change"] = blocked.get("max_weight_change", 0) + 1
            return None
        levels = point.level_map
        kept = [(k, w) for k, w in projected.items() if w > WEIGHT_FLOOR]
        moved = replace(point, weights=tuple(kept), levels=tuple((k, levels.get(k, 1.0)) for k, _ in kept))
        return cover(space, moved, coverage, only=[k for k, _ in kept if k not in levels])

    for k in ids:
        for j in outside:
            wanted = {c: w for c, w in weights.items() if c != k}
            wanted[j] = weights[k]
            moved = build(wanted)
            if moved is not None:
                out.append(moved)
    for j in outside:
        if len(ids) >= limits.max_components:
            blocked["max_components"] = blocked.get("max_components", 0) + 1
            break
        wanted = {c: w * 0.9 for c, w in weights.items()}
        wanted[j] = 0.1
        moved = build(wanted)
        if moved is not None:
            out.append(moved)
    if len(ids) > 1:
        for k in ids:
            wanted = {c: w for c, w in weights.items() if c != k}
            total = sum(wanted.values())
            if total > 0:
                moved = build({c: w / total for c, w in wanted.items()})
                if moved is not None:
                    out.append(moved)
    return out


def scale_move(space: PlanSpace, current: Judged, limits: Limits, step: float, tolerance: float) -> list[Judged]:
    """Every rep's target scale up and down by `step` in two simulations; each rep takes the side that
    is best for it — least pay short of the floor first, then its own contribution to the objective —
    and the combined point is judged (all the reps that move, then the better half: the market
    scaling couples the reps of a market). Returns every judgement made."""
    point = current.point
    probes = [p for p in (point.with_scale(point.scale * (1.0 + step)), point.with_scale(point.scale / (1.0 + step)))
              if p != point]
    if not probes:
        return []
    judged = space.judge(probes, limits)
    goal = limits.floor * HEADROOM

    def short_of(pay: np.ndarray) -> np.ndarray:
        return np.maximum(goal - pay - SHORT_TOLERANCE, 0.0)

    best_short, best_value = short_of(current.pay), current.rep_value.copy()
    choice = point.scale.copy()
    for probe, j in zip(probes, judged):
        short = short_of(j.pay)
        take = (short < best_short - 0.01) | ((np.abs(short - best_short) <= 0.01) & (j.rep_value > best_value + 1e-9))
        best_short, best_value = np.where(take, short, best_short), np.where(take, j.rep_value, best_value)
        choice = np.where(take, probe.scale, choice)
    gain = (best_value - current.rep_value) + 1e3 * (short_of(current.pay) - best_short)
    moving = np.abs(choice - point.scale) > 1e-12
    if not moving.any():
        return judged
    out = list(judged)
    order = np.argsort(-gain)
    movers = order[moving[order]]
    for share in (1.0, 0.5):
        chosen = movers[: max(1, int(math.ceil(len(movers) * share)))]
        scale = point.scale.copy()
        scale[chosen] = choice[chosen]
        combined = point.with_scale(scale)
        if not space.screened([combined], current, limits, {}):
            continue
        result = space.judge([combined], limits)[0]
        out.append(result)
        if better(result, current, tolerance):
            break
    return out


FAMILIES = ("weights", "levels", "curve", "structure", "scale")


def improve(space: PlanSpace, start: Judged, limits: Limits, *, tolerance: float, max_simulations: int = 400,
            curve_starts: Sequence[tuple[float, float, float]] = (), levels: Sequence[int] = (0, 1),
            families: Sequence[str] = FAMILIES) -> Search:
    """Pattern search from `start`: sweeps of every move family at the largest step level while one
    improves, then the next smaller level; then a certificate pass over all levels at the point
    reached — a move found there starts the descent again from its level. Ends when no move at any
    level beats the current point by more than `tolerance` (or after `max_simulations`)."""
    search = Search(best=start)
    spent0 = space.simulations
    state = {"current": start}

    def budget_left() -> bool:
        return space.simulations - spent0 < max_simulations

    def sweep(level: int, blocked: dict[str, int], only: set[str] | None = None) -> set[str]:
        """One pass of the families at `level` (`only` those, and the rep scales, when given); the
        families whose move was taken."""
        steps = STEPS[level]
        search.sweeps += 1
        improved: set[str] = set()
        moves: dict[str, Callable[[Point], list[Point]]] = {
            "weights": lambda p: weight_moves(p, space, limits, steps["weight"], blocked),
            "curve": lambda p: curve_moves(p, space, limits, steps, blocked, curve_starts),
        }
        moves["levels"] = lambda p: level_moves(p, space, limits, steps["level"], blocked)
        if level == levels[0]:
            moves["structure"] = lambda p: structure_moves(
                p, space, limits, blocked, coverage=min([limits.min_coverage] + list(state["current"].coverage.values())))
        if not space.concave(state["current"].point):
            # the judge is a MIP on this curve (tens of LP judgements each): only leave it for the family
            moves = {"curve": moves["curve"]}
        while budget_left() and "scale" in families and space.concave(state["current"].point):
            # the rep scales first and while they gain: two or three simulations a try
            before = space.simulations
            scaled = scale_move(space, state["current"], limits, steps["scale"], tolerance)
            search.spent["scale"] = search.spent.get("scale", 0) + space.simulations - before
            gained = [j for j in scaled if better(j, state["current"], tolerance)]
            if not gained:
                break
            state["current"] = best_of(gained)
            search.moves.append(f"rep scales (level {level})")
            improved.add("scale")
        for name, propose in [(name, moves[name]) for name in families if name in moves
                              and (only is None or name in only)]:
            if not budget_left():
                return improved
            current = state["current"]
            before = space.simulations
            judged = space.judge(space.screened(propose(current.point), current, limits, blocked), limits)
            for j in judged:
                if not j.keeps_pay_rule and current.keeps_pay_rule:
                    blocked["max_pay_cut"] = blocked.get("max_pay_cut", 0) + 1
            # the most promising move, with every rep's targets brought back to the floor: by margin
            # while the floor holds (pay is then pinned to it), by pay short of it while it does not
            if current.keeps_pay_rule:
                pool = [j for j in judged if j.simulation.margin > current.simulation.margin + tolerance]
                pool.sort(key=lambda j: -j.simulation.margin)
            else:
                pool = sorted(judged, key=lambda j: j.total_shortfall)
            judged += [rebalance(space, j, limits, rounds=1, headroom=MOVE_HEADROOM, give_back=1)
                       for j in pool[:REBALANCED] if not better(j, current, tolerance)]
            best = best_of(judged)
            search.spent[name] = search.spent.get(name, 0) + space.simulations - before
            if best is not None and better(best, current, tolerance):
                state["current"] = best
                search.moves.append(f"{name} (level {level})")
                improved.add(name)
        return improved

    position = 0
    while position < len(levels) and budget_left():
        only: set[str] | None = None  # after a gain, only the families that gained (and the scales) again
        while budget_left():
            gained = sweep(levels[position], {}, only)
            if gained:
                only = gained - {"scale"}
            elif only is not None:
                only = None  # the restricted sweep found nothing: every family once more
            else:
                break
        position += 1
        if position == len(levels):  # the certificate: every level once more at the point reached
            certificate: dict[str, int] = {}
            for at, level in enumerate(levels):
                if sweep(level, certificate):
                    position = at
                    break
            else:
                search.blocked = certificate
    if not budget_left():
        logger.info("local search: stopped after %d simulations", space.simulations - spent0)
    search.best = state["current"]
    search.simulations = space.simulations - spent0
    return search


def _elasticity(scale: np.ndarray, pay: np.ndarray, previous: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Per rep, d log pay / d log α from the last two judgements (−1, a linear curve, when unknown);
    a rep whose pay did not answer (market scaling, a cap) gets a moderate −0.5."""
    if previous is None:
        return np.full(len(scale), -1.0)
    old_scale, old_pay = previous
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (np.log(np.maximum(pay, 1e-9)) - np.log(np.maximum(old_pay, 1e-9))) / (np.log(scale) - np.log(old_scale))
    moved = np.abs(np.log(scale) - np.log(old_scale)) > 1e-6
    answered = np.isfinite(slope) & (slope < -0.05)  # pay rose as the targets fell
    return np.where(moved & answered, np.clip(slope, -3.0, -0.1), np.where(moved, -0.5, -1.0))


def rebalance(space: PlanSpace, start: Judged, limits: Limits, *, rounds: int = 6, headroom: float = HEADROOM,
              give_back: int = 2) -> Judged:
    """Every rep's target scale brought to where the rep's expected pay sits at the floor.

    First the reps short of the floor (their targets lowered: the pay-cut rule), up to `rounds`
    judgements, each aiming 1 % further above the floor (the reps of a market interact through the
    market scaling, so a rep a step brings to the floor may be pushed back below it), taken while it
    leaves less pay short or a tenth fewer reps short; then, under
    the net-margin objective (pay above the floor is money the company keeps) or while the quotas
    fall short of min_coverage, the reps paid above the floor give half of the way back (their
    targets raised), and a rep that gives back too much returns to its last scale. Each step is a
    secant on log pay against log α (`_elasticity`), judged by the exact simulation, and taken only
    when it is better.
    """
    current = start
    previous: tuple[np.ndarray, np.ndarray] | None = None
    for round_ in range(rounds):
        if current.keeps_pay_rule:
            break
        scale, pay = current.point.scale, np.maximum(current.pay, 1e-9)
        short = current.shortfall > 0
        goal = limits.floor * (headroom + 0.01 * round_)
        ratio = np.clip(goal / pay, 1.0, 4.0)
        wanted = np.where(short, scale * np.power(ratio, 1.0 / _elasticity(scale, pay, previous)), scale)
        judged = space.judge([current.point.with_scale(wanted)], limits)[0]
        previous = (scale, current.pay)
        if better(judged, current, 0.0) or judged.short < 0.9 * current.short:
            current = judged  # fewer reps short is progress even when the few left are further below
        elif round_ > 0:
            break
    if not current.keeps_pay_rule or (space.objective == MARGIN and current.coverage_ok):
        return current
    goal = limits.floor * headroom
    for _ in range(give_back):
        scale, pay = current.point.scale, current.pay
        generous = (goal > 0) & (pay > goal * 1.005)
        if not generous.any():
            break
        step = np.power(np.clip(goal / np.maximum(pay, 1e-9), 0.25, 1.0), 0.5 / _elasticity(scale, pay, previous))
        wanted = np.where(generous, scale * step, scale)
        judged = space.judge([current.point.with_scale(wanted)], limits)[0]
        if not judged.keeps_pay_rule:  # those it pushed below the floor keep their scale
            wanted = np.where(judged.shortfall > 0, scale, wanted)
            judged = space.judge([current.point.with_scale(wanted)], limits)[0]
        previous = (scale, pay)
        if not better(judged, current, 0.0):
            break
        current = judged
    return current


def cover(space: PlanSpace, point: Point, coverage: float, *, only: Sequence[str] | None = None) -> Point:
    """The point with the target level of each component (of `only`, default all) whose quotas would
    not cover `coverage` of its planned metric raised just enough: every rep's targets of that
    component by the same factor, so the same share of every rep's pay on it gives way."""
    shares = space.coverage(point)
    levels = point.level_map
    raised = {k: min(levels[k] * coverage / c * (1.0 + 1e-9), LEVEL_BOUNDS[1])
              for k, c in shares.items() if 0 < c < coverage and (only is None or k in only)}
    if not raised:
        return point
    return replace(point, levels=tuple((k, raised.get(k, v)) for k, v in point.levels))
