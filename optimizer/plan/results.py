"""What a plan LP solve returns (`PlanResult`) and what it reads of the plan in force (`InForce`).

Both engines of the plan LP — the Pyomo model (optimizer/plan/lp.py) and the array build
(optimizer/plan/arrays.py) — return the same `PlanResult`; neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from models.dataset import Plan
from optimizer.solve import FEASIBLE_TIME_LIMIT, OPTIMAL

ORDER_COLUMNS = ["rep_id", "product_id", "period", "orders"]


@dataclass
class PlanResult:
    """What a plan LP solve returns: status, objective, the planned orders and the explanation."""

    status: str
    objective: float | None
    margin: float | None
    revenue: float | None
    orders: pd.DataFrame  # rep_id, product_id, period, orders (open periods, rows with orders > 0)
    change_cost: float | None = None
    slacks: list[dict] = field(default_factory=list)  # soft constraints that needed slack
    binding: list[dict] = field(default_factory=list)  # duals mapped to domain rows (§4.7)
    n_variables: int = 0
    n_constraints: int = 0
    iterations: int | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    message: str = ""

    @property
    def has_solution(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE_TIME_LIMIT)


@dataclass
class InForce:
    """The plan in force as the LP sees it: weights ω0 and targets T0 > 0 in the open periods."""

    weights: dict[str, float]
    targets: dict[tuple[str, str, str], float]  # (rep, component, period) -> T0
    component_products: dict[str, tuple[str, ...]]
    component_metric: dict[str, str]


def in_force_for(plan: Plan | None, open_periods: list[str]) -> InForce | None:
    """The plan in force restricted to the open periods and to targets > 0 (None without a plan)."""
    if plan is None:
        return None
    open_set = set(open_periods)
    t = plan.targets
    t = t[(t["target"] > 0) & t["period"].isin(open_set)]
    return InForce(
        weights=plan.weights,
        targets={(r, k, p): float(v) for r, k, p, v in zip(t["rep_id"], t["component_id"], t["period"], t["target"])},
        component_products=plan.component_products,
        component_metric=dict(zip(plan.components["component_id"], plan.components["metric"])),
    )
