"""Funnel rates and skill from the activity the reps logged (DESIGN.md §3, §4.11).

**Funnel rates** per market m and product p are pooled ratios over the market's reps and the
history's months — call→meeting = Σ meetings ÷ Σ calls, meeting→quote = Σ quotes ÷ Σ meetings,
quote→order = Σ orders ÷ Σ quotes — shrunk toward the product's rate pooled over all markets, which
is itself shrunk toward the dataset's rate (the prior), each by PRIOR_EVENTS pseudo-events of the
rate's denominator:

    rate[m,p] = (num[m,p] + n0·pooled[p]) / (den[m,p] + n0),   pooled[p] = (Σ_m num + n0·prior[p]) / (Σ_m den + n0)

A market that logged no calls for a product keeps the pooled rate; thin data move it a little. The
standard error is the binomial one at the shrunk count, √(rate·(1 − rate)/(den + n0)).

**Skill** divides hours per order (§3). A rep who converts better logs fewer calls, meetings and
quotes per order, so the hours a rep's logged activity took per order,

    ĥ[r,p] = (hours_per_call·calls + hours_per_meeting·meetings + hours_per_quote·quotes) / orders + hours_per_order,

against the market's hours per order at the estimated funnel rates gives skill = h(m, p) ÷ ĥ[r,p]:
skill is relative to the market's average converter (whose rates the funnel pools). Its standard
error s is the month-to-month spread of the monthly log ratios ÷ √months; its log is shrunk toward
the prior's log by the empirical-Bayes weight τ² ÷ (τ² + s²), τ² the spread of the raw log skills
across all reps and products less their mean s² (James–Stein: a noisy estimate moves less). A product the rep never sold in the history, or sold without logging any activity on
it, is **not identified**: it keeps the prior's hours per order (skill is rescaled by the ratio of
the estimated funnel's hours per order to the dataset's, so h = h(funnel)/skill is the dataset's).
Skill and the funnel rates are identified only together (a market's better converters raise its
pooled rates and lower their own relative skill alike); h, which the models use, is not affected by
that normalization for the products a rep sold, and is the dataset's for the others. Skill read this way assumes
the reps differ in conversion, not in minutes per call (the same activity taking a skilled rep less
time would leave no trace in a CRM).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.calibration.observed import Observed
from optimizer.parameters import Parameters

PRIOR_EVENTS = 10.0  # pseudo-events of a funnel rate's denominator at the prior (pooled) rate
MIN_SKILL_SPREAD = 0.02  # the least log-skill spread τ assumed across reps (a history of identical reps gives 0)
RATES = (("call_to_meeting", "calls", "meetings"), ("meeting_to_quote", "meetings", "quotes"),
         ("quote_to_order", "quotes", "orders"))
MIN_RATE = 1e-4
UNKNOWN_SE_LOG = 0.5  # the standard error of a log skill measured in a single month (no spread to read)

ESTIMATED, THIN, NOT_IDENTIFIED = "estimated", "thin (shrunk toward the prior)", "not identified"


@dataclass
class FunnelEstimate:
    """Funnel rates per market × product (M, P) with standard errors, support and a status."""

    rates: dict[str, np.ndarray]  # call_to_meeting, meeting_to_quote, quote_to_order
    se: dict[str, np.ndarray]
    support: dict[str, np.ndarray]  # calls, meetings, quotes, orders logged (M, P)
    status: np.ndarray  # (M, P) of ESTIMATED, THIN, NOT_IDENTIFIED (by the scarcest denominator)


@dataclass
class SkillEstimate:
    """Skill per rep × product (R, P): estimate, standard error of its log, support and status."""

    skill: np.ndarray
    se_log: np.ndarray
    orders: np.ndarray  # orders in the history (support)
    months: np.ndarray  # months with orders
    status: np.ndarray  # ESTIMATED, or NOT_IDENTIFIED with the reason
    hours_check: np.ndarray  # (R,) largest monthly share of selling hours the history needs at these skills


def _market_sums(params: Parameters, grid: np.ndarray) -> np.ndarray:
    """Σ over each market's reps and the history's months: (M, P)."""
    out = np.zeros((len(params.markets), grid.shape[1]))
    np.add.at(out, params.rep_market, grid.sum(axis=2))
    return out


def estimate_funnel(params: Parameters, observed: Observed) -> FunnelEstimate:
    """The pooled, shrunk funnel rates of the module docstring."""
    counts = {name: _market_sums(params, getattr(observed, name)) for name in ("calls", "meetings", "quotes", "orders")}
    prior_index = observed.index[0] if len(observed.index) else 0
    rates, se = {}, {}
    least = np.full(counts["calls"].shape, np.inf)
    for rate, den_name, num_name in RATES:
        num, den = counts[num_name], counts[den_name]
        prior = getattr(params, rate)[:, :, prior_index]  # the dataset's rate (M, P)
        pooled = (num.sum(axis=0) + PRIOR_EVENTS * prior.mean(axis=0)) / (den.sum(axis=0) + PRIOR_EVENTS)
        shrunk = (num + PRIOR_EVENTS * pooled[None, :]) / (den + PRIOR_EVENTS)  # the pooled rate where den = 0
        # a product no market logged the denominator of keeps each market's own prior rate
        value = np.clip(np.where(den.sum(axis=0)[None, :] > 0, shrunk, prior), MIN_RATE, 1.0)
        rates[rate] = value
        se[rate] = np.sqrt(value * (1.0 - value) / (den + PRIOR_EVENTS))
        least = np.minimum(least, den)
    status = np.where(least <= 0, NOT_IDENTIFIED, np.where(least < PRIOR_EVENTS, THIN, ESTIMATED)).astype(object)
    return FunnelEstimate(rates=rates, se=se, support=counts, status=status)


def market_hours_per_order(params: Parameters, funnel: FunnelEstimate) -> np.ndarray:
    """§3's hours per order before skill at the estimated funnel rates, (M, P)."""
    c = params.company
    cm, mq, qo = (funnel.rates[name] for name in ("call_to_meeting", "meeting_to_quote", "quote_to_order"))
    return c.hours_per_call / (cm * mq * qo) + c.hours_per_meeting / (mq * qo) + c.hours_per_quote / qo + c.hours_per_order


def estimate_skill(params: Parameters, observed: Observed, funnel: FunnelEstimate) -> SkillEstimate:
    """Skill per rep × product from the activity logged per order (module docstring)."""
    c = params.company
    orders = observed.orders
    activity_hours = (c.hours_per_call * observed.calls + c.hours_per_meeting * observed.meetings
                      + c.hours_per_quote * observed.quotes)
    base = market_hours_per_order(params, funnel)[params.rep_market]  # (R, P)
    total_orders, total_activity = orders.sum(axis=2), activity_hours.sum(axis=2)
    logged = total_activity > 0
    sold = total_orders > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        h_rep = np.where(sold, total_activity / np.where(sold, total_orders, 1.0), np.nan) + c.hours_per_order
        raw_log = np.log(base / h_rep)
        monthly = np.log(base[:, :, None] / (activity_hours / np.where(orders > 0, orders, 1.0) + c.hours_per_order))
    month_ok = (orders > 0) & (activity_hours > 0)
    months = month_ok.sum(axis=2)
    masked = np.where(month_ok, monthly, np.nan)
    mean = np.nansum(masked, axis=2) / np.maximum(months, 1)
    variance = np.nansum((masked - mean[:, :, None]) ** 2, axis=2) / np.maximum(months - 1, 1)
    se_raw = np.where(months >= 2, np.sqrt(variance) / np.sqrt(np.maximum(months, 1)), UNKNOWN_SE_LOG)
    se_raw = np.where(np.isfinite(se_raw), se_raw, UNKNOWN_SE_LOG)
    prior_log = np.log(params.skill)
    identified = sold & logged & np.isfinite(raw_log)
    spread = MIN_SKILL_SPREAD**2
    if identified.sum() >= 2:
        deviation = (raw_log - prior_log)[identified]
        spread = max(float(np.var(deviation) - np.mean(se_raw[identified] ** 2)), MIN_SKILL_SPREAD**2)
    weight = spread / (spread + se_raw**2)
    # not identified: keep the dataset's hours per order (its funnel ÷ its skill) under the estimated funnel
    kept_log = np.log(base / params.hours_per_order()[:, :, observed.index[0] if observed.months else 0])
    log_skill = np.where(identified, prior_log + weight * (np.nan_to_num(raw_log) - prior_log), kept_log)
    skill = np.exp(log_skill)
    status = np.full(skill.shape, ESTIMATED, dtype=object)
    status[~sold] = f"{NOT_IDENTIFIED}: never sold in the history (prior kept)"
    status[sold & ~logged] = f"{NOT_IDENTIFIED}: orders without logged activity (prior kept)"
    status[~params.sells] = f"{NOT_IDENTIFIED}: the rep may not sell it"
    se_log = np.where(identified, weight * se_raw, np.nan)
    # the history's hours at these skills: a month needing far more than the rep's hours flags an inconsistency
    h = base[:, :, None] / skill[:, :, None]
    need = (h * orders).sum(axis=1) / np.maximum(params.hours_available[:, observed.index], 1e-12)
    return SkillEstimate(skill=skill, se_log=se_log, orders=total_orders, months=(orders > 0).sum(axis=2),
                         status=status, hours_check=need.max(axis=1) if observed.months else np.zeros(len(params.reps)))
