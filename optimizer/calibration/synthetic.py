"""A noisy history of a company whose true parameters are known: the test bed of calibration (§4.11).

`synthetic_history(truth, noise=σ, seed=s)` lets the true reps of `truth` answer the plan in force in
each of its closed periods (the judge of §4.5, market scaling included) and logs what a CRM would
hold: their orders times seeded log-normal noise (mean 1, log-sd σ), and the activity behind them
at the market's funnel rates — a rep of skill s converts quotes s times as well, so logs 1/s of the
quotes, meetings and calls per order — each count with its own noise. Counts are expected values
(orders to 3 decimals, activity to 2), not whole deals: rounding a rep's 0.4 orders a month to 0 or
1 would add a noise of its own that the model does not describe.

With `plan_change` the months before that period were under an earlier plan (`earlier_plan`: 90 %
on revenue, the rest as in force, paid linearly to target and half as steeply up to a 150 % cap),
the months from it on under the plan in force: the history a calibration must use to predict the
response to a plan it has not seen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from models.dataset import Dataset, Plan
from models.history import PlanSpan
from optimizer.alignment.response import response_data, scale_to_markets, simulate_orders
from optimizer.calibration.observed import with_periods_open
from optimizer.executor import Executor
from optimizer.parameters import effective_parameters

EARLIER_CURVE = ((0.0, 0.0), (1.0, 1.0), (2.0, 1.5))  # linear to target, slope 0.5 above, capped at 150 %
EARLIER_FIRST_WEIGHT = 0.9


@dataclass
class SyntheticHistory:
    actuals: pd.DataFrame  # the actuals.csv rows (rows with something logged)
    spans: list[PlanSpan]
    earlier_plan: Plan | None  # the plan before `plan_change`, if any


def earlier_plan(plan: Plan) -> Plan:
    """The plan in force reweighted (EARLIER_FIRST_WEIGHT on its first component) with EARLIER_CURVE."""
    components = plan.components.copy()
    rest = components["weight"].iloc[1:].sum()
    weights = np.full(len(components), EARLIER_FIRST_WEIGHT)
    if len(components) > 1:
        share = components["weight"].iloc[1:].to_numpy(float) / rest if rest > 0 else np.full(len(components) - 1, 1.0 / (len(components) - 1))
        weights[1:] = (1.0 - EARLIER_FIRST_WEIGHT) * share
    else:
        weights[0] = 1.0
    components["weight"] = np.round(weights, 6)
    components.loc[components.index[0], "weight"] = round(1.0 - components["weight"].iloc[1:].sum(), 6)
    curve = pd.DataFrame(list(EARLIER_CURVE), columns=["attainment", "payout"])
    return replace(plan, components=components, curve=curve)


def synthetic_history(truth: Dataset, *, noise: float, seed: int, plan_change: str | None = None,
                      executor: Executor | None = None) -> SyntheticHistory:
    """The closed periods' actuals of `truth`'s reps under its plan (module docstring)."""
    if truth.plan is None:
        raise ValueError("a synthetic history needs a plan in force")
    if noise < 0:
        raise ValueError(f"noise must be ≥ 0, got {noise}")
    closed = list(truth.company.closed_periods)
    if not closed:
        raise ValueError("a synthetic history needs closed periods (current_period)")
    if plan_change is not None and plan_change not in closed[1:]:
        raise ValueError(f"plan_change must be a closed period after the first ({closed[1:]}), got {plan_change!r}")
    params = effective_parameters(truth)
    position = {p: i for i, p in enumerate(params.periods)}
    before = closed[:closed.index(plan_change)] if plan_change else []
    earlier = earlier_plan(truth.plan) if plan_change else None
    spans = ([PlanSpan(periods=tuple(before), plan=earlier, source="history_plans/before")] if earlier else []) + [
        PlanSpan(periods=tuple(p for p in closed if p not in set(before)), plan=truth.plan, source="plan")]
    R, P = len(params.reps), len(params.products)
    orders = np.zeros((R, P, len(closed)))
    for span in spans:
        index = np.array([position[p] for p in span.periods], dtype=int)
        span_params = with_periods_open(params, index)
        chosen, _ = simulate_orders(response_data(span_params, span.plan), executor)
        orders[:, :, [closed.index(p) for p in span.periods]] = scale_to_markets(span_params, chosen)
    rng = np.random.default_rng([seed, 19])

    def noisy(x: np.ndarray) -> np.ndarray:
        return x * np.exp(rng.normal(-0.5 * noise**2, noise, size=x.shape)) if noise > 0 else x

    index = np.array([position[p] for p in closed], dtype=int)
    qo = params.rep_view(params.quote_to_order)[:, :, index]
    mq = params.rep_view(params.meeting_to_quote)[:, :, index]
    cm = params.rep_view(params.call_to_meeting)[:, :, index]
    logged = noisy(orders)
    quotes = noisy(logged / (qo * params.skill[:, :, None]))
    meetings = noisy(quotes / mq)
    calls = noisy(meetings / cm)
    r, p, t = np.nonzero(params.sells[:, :, None] & (logged > 0))
    actuals = pd.DataFrame({
        "rep_id": np.asarray(params.reps, dtype=object)[r], "product_id": np.asarray(params.products, dtype=object)[p],
        "period": np.asarray(closed, dtype=object)[t], "orders": np.round(logged[r, p, t], 3),
        "calls": np.round(calls[r, p, t], 2), "meetings": np.round(meetings[r, p, t], 2),
        "quotes": np.round(quotes[r, p, t], 2),
    })
    actuals = actuals[actuals["orders"] > 0].reset_index(drop=True)
    return SyntheticHistory(actuals=actuals, spans=spans, earlier_plan=earlier)
