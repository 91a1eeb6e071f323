"""The alarm system (DESIGN.md §4.8): where actuals deviate from the plan in force, by how much, how serious.

Data in, table out. For every KPI the reps are paid on (each component of the plan in force: a
metric over a set of products) and every level — rep, team, market and the whole company — it
computes

- **pace** = actual to date ÷ target to date, over the closed periods (actual metric from the actual
  orders at the dataset's prices and funnel, exactly as the payout calculator measures it);
- a **run-rate forecast** for the year = actual to date ÷ closed periods × all periods, and its
  attainment against the year's target;
- **funnel consistency**: the orders the reps' calls lead to at the funnel's conversion rates
  (calls · cm · mq · qo per product, converted into the KPI's metric) per period, against what the
  rest of the year needs per open period (target of the year − actual to date, ÷ open periods).
  Activity too low to reach the target at current conversion raises a `funnel` alarm.

Each alarm also states the **margin at stake** (`at_stake`, money): the shortfall of the year in
the KPI's own unit — target of the year − run-rate forecast for a pace alarm, (need − what the
calls lead to) × open periods for a funnel alarm, never below 0 — times the margin one unit of that
KPI has brought so far (margin of the KPI's products' actual orders ÷ the KPI's actual metric, in
the scope, else over the company). For a margin KPI that is the shortfall itself, for revenue the
margin of the missing revenue, for orders or calls the margin of the orders they stand for. It is
what ranks alarms for a decision: a rep 40 % behind on a small KPI matters less than a market 10 %
behind on its revenue.

Severity is one of `critical`, `warning`, `watch`, `ok` by the thresholds of `Thresholds` (ratios of
pace or funnel coverage); being far *ahead* of plan is flagged too (targets too low, accelerator
cost). Each alarm carries the market-assumption adjustment a tactical review would test
(`suggested_adjustment`, in the §2 format): lower demand for a lagging market, fewer effective
hours for a lagging rep or team, lower conversion for a thin funnel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from models.dataset import Dataset
from optimizer.plan.cascade import component_metrics, orders_array, target_grid
from optimizer.parameters import Parameters, effective_parameters

CRITICAL, WARNING, WATCH, OK = "critical", "warning", "watch", "ok"
SEVERITIES = (CRITICAL, WARNING, WATCH, OK)
SEVERITY_RANK = {CRITICAL: 0, WARNING: 1, WATCH: 2, OK: 3}
LEVELS = ("rep", "team", "market", "company")
KINDS = ("pace", "funnel")

ALARM_COLUMNS = [
    "alarm_id", "kind", "level", "scope_id", "rep_id", "team", "market_id", "kpi", "metric", "products",
    "product_ids", "actual_to_date", "target_to_date", "pace", "target_year", "forecast_year",
    "forecast_attainment", "needed_per_period", "activity_per_period", "funnel_coverage", "severity",
    "direction", "at_stake", "message", "suggested_adjustment",
]


@dataclass(frozen=True)
class Thresholds:
    """Severity thresholds on a ratio (pace, or funnel coverage): below `critical_below` is
    critical, below `warning_below` a warning, below `watch_below` to be watched; above
    `ahead_warning_above` / `ahead_watch_above` the KPI runs far ahead of plan."""

    critical_below: float = 0.70
    warning_below: float = 0.85
    watch_below: float = 0.95
    ahead_watch_above: float = 1.25
    ahead_warning_above: float = 1.50

    def severity(self, ratio: float) -> tuple[str, str]:
        """(severity, direction) of a ratio; direction is `behind`, `on_plan` or `ahead`."""
        if not np.isfinite(ratio):
            return OK, "on_plan"
        if ratio < self.critical_below:
            return CRITICAL, "behind"
        if ratio < self.warning_below:
            return WARNING, "behind"
        if ratio < self.watch_below:
            return WATCH, "behind"
        if ratio > self.ahead_warning_above:
            return WARNING, "ahead"
        if ratio > self.ahead_watch_above:
            return WATCH, "ahead"
        return OK, "on_plan"

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_THRESHOLDS = Thresholds()


def alarms(dataset: Dataset, *, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """Every alarm of the dataset's plan in force against its actuals, worst first.

    Requires `dataset.plan` (components, targets) and `dataset.actuals` (rep_id, product_id,
    period, orders, calls; product `*` rows carry rep-level activity and count for no product) and
    at least one closed period; otherwise the table is empty. Rows with severity `ok` are kept:
    filter them out for an alarm list.
    """
    company = dataset.company
    plan = dataset.plan
    if plan is None or not company.closed_periods:
        return pd.DataFrame(columns=ALARM_COLUMNS)
    params = effective_parameters(dataset)
    closed = np.array([params.periods.index(t) for t in company.closed_periods], dtype=int)
    n_closed, n_open, n_all = len(closed), len(params.open_index), len(params.periods)
    actuals = dataset.actuals
    product_rows = actuals[actuals["product_id"] != "*"]
    actual_grid = orders_array(params, product_rows[["rep_id", "product_id", "period", "orders"]])
    activity_grid = orders_array(params, product_rows[["rep_id", "product_id", "period", "calls"]]
                                 .rename(columns={"calls": "orders"}))
    funnel = params.call_to_meeting * params.meeting_to_quote * params.quote_to_order  # orders per call
    implied_orders = activity_grid * params.rep_view(funnel)  # (R, P, T)
    actual_metric = component_metrics(params, actual_grid, plan)
    # the margin of each KPI's products in the actual orders: margin per unit of the KPI so far
    actual_margin = component_metrics(params, actual_grid, replace(plan, components=plan.components.assign(metric="margin")))
    implied_metric = component_metrics(params, implied_orders, plan)
    has_activity = activity_grid[:, :, closed].sum() > 0
    targets = target_grid(params, plan)

    reps = dataset.reps.set_index("rep_id").loc[params.reps]
    groups = {
        "rep": [(r, [i]) for i, r in enumerate(params.reps)],
        "team": _groups(reps["team"].to_numpy()),
        "market": _groups(reps["market_id"].to_numpy()),
        "company": [("*", list(range(len(params.reps))))],
    }
    first_open = params.open_periods[0] if n_open else None
    components = plan.components.set_index("component_id")
    rows = []
    for k in plan.component_ids:
        metric, spec = components.loc[k, "metric"], components.loc[k, "products"]
        product_ids = list(plan.component_products[k])
        actual_rt, target_rt, margin_rt = actual_metric[k], targets[k], actual_margin[k]
        company_per_unit = _per_unit(margin_rt[:, closed].sum(), actual_rt[:, closed].sum())
        for level, members in groups.items():
            for scope, idx in members:
                actual = float(actual_rt[idx][:, closed].sum())
                target = float(target_rt[idx][:, closed].sum())
                target_year = float(target_rt[idx].sum())
                if target <= 0 and actual <= 0:
                    continue
                pace = actual / target if target > 0 else np.inf
                forecast = actual / n_closed * n_all
                base = _scope_columns(level, scope, idx, reps, params)
                per_unit = _per_unit(float(margin_rt[idx][:, closed].sum()), actual)
                per_unit = company_per_unit if np.isnan(per_unit) else per_unit
                base.update(kpi=k, metric=metric, products=spec, product_ids=product_ids,
                            actual_to_date=actual, target_to_date=target, pace=pace, target_year=target_year,
                            forecast_year=forecast,
                            forecast_attainment=forecast / target_year if target_year > 0 else np.nan)
                severity, direction = thresholds.severity(pace)
                rows.append({
                    **base, "kind": "pace", "severity": severity, "direction": direction,
                    "at_stake": max(target_year - forecast, 0.0) * per_unit,
                    "needed_per_period": np.nan, "activity_per_period": np.nan, "funnel_coverage": np.nan,
                    "message": _pace_message(base, pace, forecast, target_year),
                    "suggested_adjustment": _suggestion(level, scope, base, pace, first_open, "pace")
                    if direction != "on_plan" else None,
                })
                if not has_activity or n_open == 0:
                    continue
                needed = max(target_year - actual, 0.0) / n_open
                activity = float(implied_metric[k][idx][:, closed].sum()) / n_closed
                if needed <= 0:
                    continue
                coverage = activity / needed
                severity, direction = thresholds.severity(coverage)
                if direction == "ahead":  # more activity than needed is not an alarm
                    severity, direction = OK, "on_plan"
                rows.append({
                    **base, "kind": "funnel", "severity": severity, "direction": direction,
                    "at_stake": max(needed - activity, 0.0) * n_open * per_unit,
                    "needed_per_period": needed, "activity_per_period": activity, "funnel_coverage": coverage,
                    "message": _funnel_message(base, needed, activity, coverage),
                    "suggested_adjustment": _suggestion(level, scope, base, coverage, first_open, "funnel")
                    if direction == "behind" else None,
                })
    if not rows:
        return pd.DataFrame(columns=ALARM_COLUMNS)
    frame = pd.DataFrame(rows)
    frame["alarm_id"] = frame["kind"] + ":" + frame["level"] + ":" + frame["scope_id"] + ":" + frame["kpi"]
    frame["_rank"] = frame["severity"].map(SEVERITY_RANK)
    frame["_gap"] = -(frame["pace"].where(frame["kind"] == "pace", frame["funnel_coverage"]) - 1.0).abs()
    frame = frame.sort_values(["_rank", "_gap", "alarm_id"]).drop(columns=["_rank", "_gap"])
    return frame[ALARM_COLUMNS].reset_index(drop=True)


def _per_unit(margin: float, metric: float) -> float:
    """Margin per unit of a KPI (NaN without any of it to date)."""
    return float(margin) / float(metric) if metric > 0 else float("nan")


def _groups(labels: np.ndarray) -> list[tuple[str, list[int]]]:
    out: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        out.setdefault(str(label), []).append(i)
    return list(out.items())


def _scope_columns(level: str, scope: str, idx: list[int], reps: pd.DataFrame, params: Parameters) -> dict:
    markets = sorted(set(reps["market_id"].iloc[idx]))
    teams = sorted(set(reps["team"].iloc[idx]))
    return {
        "level": level, "scope_id": scope,
        "rep_id": scope if level == "rep" else None,
        "team": teams[0] if len(teams) == 1 else None,
        "market_id": markets[0] if len(markets) == 1 else None,
        "_reps": [params.reps[i] for i in idx], "_markets": markets,
    }


def _where(base: dict) -> str:
    if base["level"] == "rep":
        return f"rep {base['scope_id']}"
    if base["level"] == "company":
        return "the company"
    return f"{base['level']} {base['scope_id']}"


def _pace_message(base: dict, pace: float, forecast: float, target_year: float) -> str:
    head = f"{_where(base)}: {base['kpi']} ({base['metric']} of {base['products']}) at {pace:.0%} of target to date"
    if target_year > 0:
        head += f"; run-rate forecast {forecast:,.0f} for the year, {forecast / target_year:.0%} of its target"
    return head


def _funnel_message(base: dict, needed: float, activity: float, coverage: float) -> str:
    return (f"{_where(base)}: calls at current conversion lead to {activity:,.1f} of {base['kpi']} per period, "
            f"the rest of the year needs {needed:,.1f} per period ({coverage:.0%} covered)")


def _suggestion(level: str, scope: str, base: dict, ratio: float, first_open: str | None, kind: str) -> dict | None:
    """The assumption adjustment a tactical review would test to address the alarm (§2 format)."""
    if first_open is None:
        return None
    factor = float(np.clip(round(ratio, 2), 0.1, 2.0))
    periods = {"from": first_open}
    if kind == "funnel":
        scope_key = {"markets": base["_markets"]} if level in ("market", "company") else {"reps": base["_reps"]}
        key = "conversion" if level in ("market", "company") else "hours"
        reason = f"alarm {kind}:{level}:{scope}:{base['kpi']}: activity covers {ratio:.0%} of what the target needs"
    else:
        scope_key = {"markets": base["_markets"]} if level in ("market", "company") else {"reps": base["_reps"]}
        key = "demand" if level in ("market", "company") else "hours"
        reason = f"alarm {kind}:{level}:{scope}:{base['kpi']}: {ratio:.0%} of target to date"
    adjustment = {**scope_key, "periods": periods, key: factor, "reason": reason}
    if level == "company":
        adjustment.pop("markets")
    return adjustment
