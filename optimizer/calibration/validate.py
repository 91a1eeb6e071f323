"""Out-of-sample validation of a calibration (DESIGN.md §4.11): fit on all but the last K months, predict them.

The calibration of the first months predicts each held-out month's orders per rep and product: the
calibrated reps answer the plan in force that month (the judge of §4.5, market scaling included).
The error is the weighted absolute percentage error, WAPE = Σ|predicted − actual| ÷ Σ actual over
reps, products and months, against three other forecasts: each rep's average mix (their mean
monthly orders per product over the fit months), the last fit month repeated, and the uncalibrated
model (the dataset as given answering the same plan). Held-out months under a plan no fit month was
under — the plan changed — are reported apart as well: predicting the response to a new plan from
the months under the old one is the test a calibration exists for.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from models.dataset import Dataset
from models.errors import InputError
from models.history import PlanSpan, history_periods
from optimizer.alignment.response import response_data, scale_to_markets, simulate_orders
from optimizer.calibration.observed import observed_arrays, with_periods_open
from optimizer.executor import Executor
from optimizer.parameters import effective_parameters

FORECASTS = ("calibrated", "uncalibrated", "average_mix", "last_month")


def predicted_orders(dataset: Dataset, spans: list[PlanSpan], periods: list[str],
                     executor: Executor | None = None) -> np.ndarray:
    """The judge's orders (after market scaling) of `dataset`'s reps in `periods`, (R, P, T)."""
    params = effective_parameters(dataset)
    position = {p: i for i, p in enumerate(params.periods)}
    out = np.zeros((len(params.reps), len(params.products), len(periods)))
    for span in spans:
        mine = [p for p in periods if p in set(span.periods)]
        if not mine:
            continue
        span_params = with_periods_open(params, np.array([position[p] for p in mine], dtype=int))
        chosen, _ = simulate_orders(response_data(span_params, span.plan), executor)
        out[:, :, [periods.index(p) for p in mine]] = scale_to_markets(span_params, chosen)
    return out


def wape(predicted: np.ndarray, actual: np.ndarray) -> float | None:
    total = float(actual.sum())
    return round(float(np.abs(predicted - actual).sum()) / total, 4) if total > 0 else None


def holdout_validation(dataset: Dataset, history: pd.DataFrame, spans: list[PlanSpan], k: int, *,
                       fit: Callable, executor: Executor | None = None) -> dict:
    """Calibrate with `fit(dataset, history, spans)` (estimate.calibrate passes itself) on all but the
    last `k` months of the history and score the forecasts of those months."""
    periods = history_periods(dataset, history)
    if not 1 <= k < len(periods):
        raise InputError.single("--holdout", f"must leave at least one month to fit: the history has "
                                             f"{len(periods)} month(s), the holdout asks for {k}", column="holdout")
    fitted, test = periods[:-k], periods[-k:]
    fit_history = history[history["period"].isin(set(fitted))].reset_index(drop=True)
    fit_spans = [PlanSpan(periods=tuple(p for p in s.periods if p in set(fitted)), plan=s.plan, source=s.source)
                 for s in spans if set(s.periods) & set(fitted)]
    calibration = fit(dataset, fit_history, fit_spans)
    params = effective_parameters(dataset)
    observed = observed_arrays(dataset, params, history, spans)
    actual = observed.orders[:, :, [periods.index(p) for p in test]]
    fit_orders = observed.orders[:, :, [periods.index(p) for p in fitted]]
    forecasts = {
        "calibrated": predicted_orders(calibration.dataset, spans, test, executor),
        "uncalibrated": predicted_orders(dataset, spans, test, executor),
        "average_mix": np.repeat(fit_orders.mean(axis=2, keepdims=True), len(test), axis=2),
        "last_month": np.repeat(fit_orders[:, :, -1:], len(test), axis=2),
    }
    seen = {id(s.plan) for s in fit_spans}
    new_plan = [i for i, p in enumerate(test) if id(_span_of(spans, p).plan) not in seen]
    out = {
        "fit_periods": fitted, "test_periods": test, "orders": round(float(actual.sum()), 6),
        "wape": {name: wape(f, actual) for name, f in forecasts.items()},
        "new_plan": None,
    }
    if new_plan:
        out["new_plan"] = {"periods": [test[i] for i in new_plan], "orders": round(float(actual[:, :, new_plan].sum()), 6),
                           "wape": {name: wape(f[:, :, new_plan], actual[:, :, new_plan]) for name, f in forecasts.items()}}
    return out


def _span_of(spans: list[PlanSpan], period: str) -> PlanSpan:
    return next(s for s in spans if period in s.periods)
