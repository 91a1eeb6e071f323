"""The KPI cascade (DESIGN.md §4.2): planned orders → the operational targets a rep sees.

From orders o: quotes o/qo, meetings o/(mq·qo), calls o/(cm·mq·qo), revenue v·o and margin g·o at
the rep's market — per rep, product and period, and per week (period ÷ weeks_per_period). The
same metric arithmetic gives a plan's component targets (§4.3), so `component_metrics` is shared
with the payout calculator: a target and the figure it is paid against are computed one way.
`target_grid` reads a plan's targets back as arrays, for the payout, the response model, the
incentive LP and the alarms alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.dataset import Plan
from optimizer.parameters import Parameters

# The metrics of models.dataset.METRICS in funnel order: the columns `kpi_targets` writes.
KPIS = ("orders", "quotes", "meetings", "calls", "revenue", "margin")


def orders_array(params: Parameters, orders: pd.DataFrame) -> np.ndarray:
    """Orders per rep, product, period as an (R, P, T) array over all periods (missing rows are 0)."""
    out = np.zeros((len(params.reps), len(params.products), len(params.periods)))
    if len(orders) == 0:
        return out
    ri = {r: i for i, r in enumerate(params.reps)}
    pi = {p: i for i, p in enumerate(params.products)}
    ti = {t: i for i, t in enumerate(params.periods)}
    rows = orders[orders["product_id"].isin(pi)]
    np.add.at(
        out,
        (rows["rep_id"].map(ri).to_numpy(), rows["product_id"].map(pi).to_numpy(), rows["period"].map(ti).to_numpy()),
        rows["orders"].to_numpy(float),
    )
    return out


def target_grid(params: Parameters, plan: Plan) -> dict[str, np.ndarray]:
    """T[r,k,t] as one (R, T) array per component of the plan (0 where the plan sets no target)."""
    ids = plan.component_ids
    grid = np.zeros((len(ids), len(params.reps), len(params.periods)))
    targets = plan.targets
    if len(targets):
        k = pd.Index(ids).get_indexer(targets["component_id"])
        r = pd.Index(params.reps).get_indexer(targets["rep_id"])
        t = pd.Index(params.periods).get_indexer(targets["period"])
        mine = k >= 0  # rows of components the plan does not list are ignored
        if (r[mine] < 0).any() or (t[mine] < 0).any():
            raise ValueError("plan targets name a rep or period the parameters do not know")
        # a plan's targets name (rep, component, period) once, so this is an assignment
        np.add.at(grid, (k[mine], r[mine], t[mine]), targets["target"].to_numpy(float)[mine])
    return {k: grid[i] for i, k in enumerate(ids)}


def kpi_targets(params: Parameters, orders: pd.DataFrame) -> pd.DataFrame:
    """Operational KPI targets per rep, product and period, plus `*_per_week` columns."""
    grid = orders_array(params, orders)
    r, p, t = np.nonzero(grid)
    frame = pd.DataFrame({
        "rep_id": np.asarray(params.reps, dtype=object)[r],
        "product_id": np.asarray(params.products, dtype=object)[p],
        "period": np.asarray(params.periods, dtype=object)[t],
    })
    for kpi in KPIS:
        coef = params.rep_view(params.metric_coefficient(kpi))
        frame[kpi] = (coef * grid)[r, p, t]
    weeks = params.company.weeks_per_period
    for kpi in KPIS:
        frame[f"{kpi}_per_week"] = frame[kpi] / weeks
    return frame


def component_coefficients(params: Parameters, plan: Plan) -> dict[str, np.ndarray]:
    """What one order adds to each component's metric (§4.3), per rep, product and period (R, P, T).

    The metric's coefficient at the rep's market (v, g, 1, 1/qo, …) for the component's products,
    0 for the others: the one place a component's metric is defined, for targets, pay, the
    incentive LP and the rep response alike.
    """
    out = {}
    for k, metric in zip(plan.components["component_id"], plan.components["metric"]):
        member = params.product_mask(plan.component_products[k])
        out[k] = params.rep_view(params.metric_coefficient(metric)) * member[None, :, None]
    return out


def component_metrics(params: Parameters, grid: np.ndarray, plan: Plan) -> dict[str, np.ndarray]:
    """metric_k per rep and period, (R, T), for each component k of a plan (§4.3)."""
    return {k: (coef * grid).sum(axis=1) for k, coef in component_coefficients(params, plan).items()}


def component_targets(params: Parameters, orders: pd.DataFrame, plan: Plan, *,
                      keep_closed_from: Plan | None = None) -> pd.DataFrame:
    """Targets in the `plan/targets.csv` format for a plan's components, from planned orders.

    Open periods take the metric of the planned orders; closed periods keep the targets of
    `keep_closed_from` (the plan in force), since history is never re-planned.
    """
    grid = orders_array(params, orders)
    metrics = component_metrics(params, grid, plan)
    open_set = set(params.open_periods)
    rows = []
    for k, values in metrics.items():
        for ri, rep in enumerate(params.reps):
            for ti in params.open_index:
                rows.append((rep, k, params.periods[ti], float(values[ri, ti])))
    frame = pd.DataFrame(rows, columns=["rep_id", "component_id", "period", "target"])
    if keep_closed_from is not None:
        closed = keep_closed_from.targets[~keep_closed_from.targets["period"].isin(open_set)]
        closed = closed[closed["component_id"].isin(set(metrics))]
        frame = pd.concat([closed[frame.columns], frame], ignore_index=True)
    order = {t: i for i, t in enumerate(params.periods)}
    frame = frame.sort_values(["rep_id", "component_id", "period"], key=lambda s: s.map(order) if s.name == "period" else s)
    return frame.reset_index(drop=True)
