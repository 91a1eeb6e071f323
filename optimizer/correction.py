"""The correction system (issue 18, docs/replay.md): closed periods' actuals → a proposed assumption set.

The alarm system (§4.8) says *where* actuals deviate from the plan in force; the correction system
turns the deviation into market assumptions a review can use: per market and product, a **demand**
and a **conversion** factor estimated from pace, applied from the first open period on, each with
its evidence. The estimator (every constant below is documented in docs/replay.md):

* **Window.** The last `WINDOW` closed periods (a quarter): recent pace, so that a change in the
  market shows up within a quarter instead of being averaged with the whole year.
* **Conversion.** Per rep and product, the orders per call of the window's actuals against the
  funnel's (`cm·mq·qo` at the rep's market under `base`): ratio = Σ orders ÷ Σ (calls·cm·mq·qo).
  An assumption's `conversion` factor multiplies all three rates, so the factor is ratio^(1/3).
* **Demand.** Per rep and product, the window's actual orders against the orders the company
  expected: the reps' §4.5 answer to the plan in force in those periods under `base` and the
  (unshrunk) conversion estimate — the plan LP's expectation carried through the response model,
  which is what the plan in force was expected to bring (without a plan in force: the plan LP's
  own orders). ratio = Σ actual ÷ Σ expected.
* **No ratchet.** A factor is per market and product, never per rep: it is the *median* of the
  ratios of the market's reps who sell the product, and it needs at least `MIN_REPS` such reps
  (with fewer, a market's factor would be one rep's own shortfall, so none is proposed). One rep
  falling short moves the median at most to its neighbour, and not at all when the others agree.
* **Caution.** A rep's ratio is (actual + PRIOR_ORDERS) ÷ (expected + PRIOR_ORDERS), so that a rep
  with a fraction of an order expected and none sold does not read as a collapse. Credibility
  shrinkage toward 1 by support: value = 1 + Z·(ratio − 1) with Z = n ÷ (n + PRIOR_MONTHS) ·
  E ÷ (E + PRIOR_VOLUME), n the window's periods with evidence (one month: at most ½) and E the
  market × product's expected orders in the window. The value is
  clipped to [FACTOR_FLOOR, FACTOR_CEILING], rounded to `DECIMALS` places, and a value within
  `DEAD_BAND` of 1 is not proposed (noise is not news).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from models.assumptions import Adjustment, AssumptionSet
from models.dataset import ALL_PRODUCTS, Dataset
from models.errors import InputError
from optimizer.alignment.response import BatchMemo, simulate_grid
from optimizer.parameters import Parameters, effective_parameters
from optimizer.plan.cascade import orders_array

logger = logging.getLogger(__name__)

WINDOW = 3  # closed periods the pace is read over
PRIOR_MONTHS = 1.0  # Z = n / (n + PRIOR_MONTHS): one month of evidence counts half
PRIOR_ORDERS = 1.0  # a rep's ratio is (actual + 1) / (expected + 1): one order of prior at expectation
PRIOR_VOLUME = 10.0  # Z also × E / (E + PRIOR_VOLUME), E the market × product's expected orders in the window
MIN_REPS = 3  # reps selling a product in a market before a market × product factor is proposed
DEAD_BAND = 0.02  # |value − 1| below this: no factor
DECIMALS = 2
FACTOR_FLOOR, FACTOR_CEILING = 0.2, 2.0
FACTORS = ("demand", "conversion")


@dataclass(frozen=True)
class Correction:
    """A proposed assumption set and the evidence behind every factor considered."""

    assumptions: AssumptionSet  # the base's adjustments, then one per corrected market × product
    evidence: list[dict]  # per (market, product, factor): value, months, orders_actual, orders_expected, ...

    def to_dict(self) -> dict:
        return {"assumptions": self.assumptions.model_dump(mode="json", by_alias=True, exclude_none=True),
                "evidence": self.evidence}


def correct(dataset: Dataset, *, base: AssumptionSet | None = None, name: str | None = None,
            memo: BatchMemo | None = None) -> Correction:
    """Closed periods' actuals against the plan LP's expectation -> a proposed assumption set.

    `memo` (owned by the caller, e.g. one replay run) keeps the solved batches of the expectation's
    simulation, so a caller that corrects the same plan and window again does not solve them twice.
    Raises InputError when the dataset has no open period (nothing to apply a factor to). Without a
    closed period, or without actuals, the proposed set is `base` unchanged (no evidence).
    """
    company = dataset.company
    if not company.open_periods:
        raise InputError.single("company.yaml", f"{company.current_period!r} is the last period: no open "
                                "period to apply a correction to", column="current_period")
    first_open = company.open_periods[0]
    set_name = name or f"correction-{company.current_period or 'start'}"
    window = list(company.closed_periods[-WINDOW:])
    base_adjustments = list(base.adjustments) if base is not None else []
    if not window:
        return Correction(AssumptionSet(name=set_name, parent=_parent(base), adjustments=base_adjustments), [])

    params = effective_parameters(dataset, base)
    w_index = np.array([params.periods.index(t) for t in window], dtype=int)
    rows = dataset.actuals[dataset.actuals["product_id"] != ALL_PRODUCTS]
    rows = rows[rows["period"].isin(set(window))]
    actual = orders_array(params, rows[["rep_id", "product_id", "period", "orders"]])[:, :, w_index]
    calls = orders_array(params, rows[["rep_id", "product_id", "period", "calls"]]
                         .rename(columns={"calls": "orders"}))[:, :, w_index]
    funnel = params.rep_view(params.call_to_meeting * params.meeting_to_quote * params.quote_to_order)[:, :, w_index]

    evidence: list[dict] = []
    conversion_raw: dict[tuple[int, int], float] = {}
    for m, p, est in _market_estimates(params, actual, calls * funnel, kind="conversion"):
        raw = est["ratio"] ** (1.0 / 3.0) if est["ratio"] is not None else None
        if raw is not None:  # the expectation uses the estimate within the factor range (never 0)
            conversion_raw[(m, p)] = float(np.clip(raw, FACTOR_FLOOR, FACTOR_CEILING))
        evidence.append(_evidence(params, m, p, "conversion", raw, est))

    expected = _expected_orders(dataset, base, params, window, conversion_raw, memo)[:, :, w_index]
    for m, p, est in _market_estimates(params, actual, expected, kind="demand"):
        evidence.append(_evidence(params, m, p, "demand", est["ratio"], est))

    by_pair: dict[tuple[str, str], dict[str, float]] = {}
    for item in evidence:
        if item["value"] != 1.0:
            by_pair.setdefault((item["market"], item["product"]), {})[item["factor"]] = item["value"]
    adjustments = list(base_adjustments)
    for (market, product), factors in by_pair.items():
        why = "; ".join(f"{k} × {v:g}" for k, v in sorted(factors.items()))
        adjustments.append(Adjustment.model_validate({
            "markets": [market], "products": [product], "periods": {"from": first_open}, **factors,
            "reason": f"correction from the pace of {', '.join(window)} ({why}; evidence in the correction)"}))
    evidence.sort(key=lambda e: (e["market"], e["product"], e["factor"]))
    return Correction(AssumptionSet(name=set_name, parent=_parent(base), adjustments=adjustments), evidence)


def _parent(base: AssumptionSet | None) -> str | None:
    return None if base is None else base.name


def _expected_orders(dataset: Dataset, base: AssumptionSet | None, params: Parameters, window: list[str],
                     conversion: dict[tuple[int, int], float], memo: BatchMemo | None = None) -> np.ndarray:
    """The orders the company expected in the window: the §4.5 answer of the reps to the plan in
    force under `base` and the conversion estimate, over the window's periods (R, P, T)."""
    if dataset.plan is None:
        from optimizer.plan.targets import plan_targets  # no plan in force: the plan LP's own orders
        reopened = replace(dataset, company=replace(dataset.company, current_period=None))
        return orders_array(params, plan_targets(reopened, base).orders)
    seen = replace(params, potential=params.potential.copy(), call_to_meeting=params.call_to_meeting.copy(),
                   meeting_to_quote=params.meeting_to_quote.copy(), quote_to_order=params.quote_to_order.copy(),
                   open_index=np.array([params.periods.index(t) for t in window], dtype=int))
    t_index = seen.open_index
    for (m, p), factor in conversion.items():
        for rates in (seen.call_to_meeting, seen.meeting_to_quote, seen.quote_to_order):
            rates[m, p, t_index] = np.minimum(rates[m, p, t_index] * factor, 1.0)
    scaled, _, _ = simulate_grid(seen, dataset.plan, memo=memo)
    return scaled


def _market_estimates(params: Parameters, actual: np.ndarray, expected: np.ndarray, *, kind: str):
    """Per market × product: the median of the ratios of its reps with an expectation, and the support."""
    rep_market = params.rep_market
    for m in range(len(params.markets)):
        reps = np.flatnonzero(rep_market == m)
        for p in range(len(params.products)):
            sells = reps[params.sells[reps, p]]
            exp_rt = expected[sells, p, :]  # (reps, window)
            act_rt = actual[sells, p, :]
            supported = exp_rt.sum(axis=1) > 1e-9
            months = int(((exp_rt > 1e-9).sum(axis=0) >= MIN_REPS).sum())
            n_reps = int(supported.sum())
            ratio = None
            if n_reps >= MIN_REPS and months > 0:
                a, e = act_rt[supported].sum(axis=1), exp_rt[supported].sum(axis=1)
                ratio = float(np.median((a + PRIOR_ORDERS) / (e + PRIOR_ORDERS)))
            yield m, p, {"ratio": ratio, "months": months, "reps": n_reps,
                         "orders_actual": float(act_rt.sum()), "orders_expected": float(exp_rt.sum()), "kind": kind}


def _evidence(params: Parameters, m: int, p: int, factor: str, raw: float | None, est: dict) -> dict:
    """One evidence row: the shrunk, clipped, rounded value (1 when not proposed) and why."""
    months = est["months"]
    volume = est["orders_expected"]
    shrinkage = months / (months + PRIOR_MONTHS) * volume / (volume + PRIOR_VOLUME) if months else 0.0
    value, reason = 1.0, ""
    if raw is None:
        reason = (f"not proposed: {est['reps']} of the market's reps have an expectation for it "
                  f"(a factor needs {MIN_REPS}, else it would be one rep's own shortfall)")
    elif not np.isfinite(raw):
        reason = "not proposed: no usable ratio"
    else:
        shrunk = float(np.clip(1.0 + shrinkage * (raw - 1.0), FACTOR_FLOOR, FACTOR_CEILING))
        rounded = round(shrunk, DECIMALS)
        if abs(rounded - 1.0) < DEAD_BAND:
            reason = f"not proposed: median rep at {raw:.3f} of expectation, {rounded:g} after shrinkage is within the dead band"
        else:
            value = rounded
            what = "orders per call" if factor == "conversion" else "orders"
            reason = (f"median rep at {raw:.3f} of the expected {what} over {months} month(s) with evidence, "
                      f"shrunk × {shrinkage:.2f} toward 1")
    return {"market": params.markets[m], "product": params.products[p], "factor": factor, "value": value,
            "months": months, "orders_actual": est["orders_actual"], "orders_expected": est["orders_expected"],
            "shrinkage": shrinkage, "reason": reason, "reps": est["reps"],
            "ratio": None if raw is None or not np.isfinite(raw) else float(raw)}
