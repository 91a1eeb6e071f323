"""Seeded synthetic datasets in the import format of DESIGN.md §2: a company, its markets, products, reps,
funnel rates, market potential, the plan in force (components, payout curve, per-rep targets) and, when
periods are closed, actuals. Everything is drawn from one ``numpy`` generator in a fixed order, so a seed
always yields the same tables, and every figure is kept inside the published ranges of
``research/comp_anchors.md`` §4 (funnel rates, selling hours, 60/40–70/30 pay mix, 3–9 % comp cost of
sales). Generation works on dense (rep, product, period) arrays, which keeps a 2,000 × 50 × 12 × 8 instance
to a few seconds; :func:`synthetic_tables` draws a random :class:`Blueprint` and turns it into tables, and
``scripts/build_sample.py`` writes its own hand-made blueprint for the shipped sample company.
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

# The public API; Blueprint and the draw_* / derive_plan helpers are shared with scripts/build_sample.py.
__all__ = ["synthetic_tables", "write_tables", "known_tables"]

GROUPS = ("legacy", "core", "new")

# Default plan in force: mostly revenue, a little on the new products (DESIGN.md §4.3 components).
DEFAULT_COMPONENTS: tuple[tuple[str, str, str, float], ...] = (
    ("revenue", "revenue", "*", 0.7),
    ("new_orders", "orders", "group:new", 0.3),
)
# Decelerator below 50 %, accelerators above 100 %, capped at 250 % (comp_anchors.md §4 tier examples).
DEFAULT_CURVE: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.5, 0.25), (1.0, 1.0), (1.25, 1.5), (2.0, 2.5))
# Month-of-year potential: summer and December dips, a Q3/Q4 budget flush. Mean 1.
SEASON = np.array([0.92, 0.96, 1.06, 1.0, 1.02, 1.0, 0.88, 0.84, 1.06, 1.08, 1.1, 1.08])
SEASON = SEASON / SEASON.mean()

# Published ranges (comp_anchors.md §4) that every generated value stays inside.
RANGES = {
    "call_to_meeting": (0.05, 0.20),
    "meeting_to_quote": (0.30, 0.60),
    "quote_to_order": (0.15, 0.35),
    "hours_per_call": (0.10, 0.30),
    "hours_per_meeting": (1.0, 2.0),
    "hours_per_quote": (2.0, 5.0),
    "hours_per_order": (1.0, 3.0),
    "hours_per_period": (100.0, 140.0),
    "variable_share": (0.30, 0.40),
    "comp_cost_of_sales": (0.03, 0.09),
    "effort_aversion": (30.0, 80.0),
}

_FIRST = (
    "Anna Erik Lena Jonas Sofia Lukas Emma Felix Laura Paul Marta Diego Lucia Marco Giulia Pedro Sara "
    "Oliver Chloe James Emily Liam Grace Noah Ava Ethan Mia Hiroshi Mei Arjun Priya Wei Yuki Min Olivia "
    "Jack Isla Tom Nina Max Elena Luca Clara Hugo Ines Leo Maja Nils Freja Oskar"
).split()
_LAST = (
    "Berg Lindqvist Nieminen Hansen Keller Wagner Huber Schmid Murphy Walsh Evans Taylor Rossi Garcia "
    "Ferreira Romano Lopez Costa Smith Johnson Brown Miller Davis Wilson Tanaka Chen Sharma Kim Lee Wong "
    "Nguyen Patel Okafor Novak Dubois Martin Silva Moreau Fischer Weber Jensen Larsen Kowalski Ivanova"
).split()


@dataclass
class Blueprint:
    """Everything a dataset is derived from; arrays are indexed by market m, product p and rep r."""

    name: str
    market_ids: list[str]
    market_names: list[str]
    product_ids: list[str]
    product_names: list[str]
    groups: list[str]
    rel_price: np.ndarray  # (P,) unit price before the comp-cost calibration (absolute when ccos_target is None)
    margin_rate: np.ndarray  # (P,) (price - cost) / price
    product_mix: np.ndarray  # (M, P) share of the market's selling hours its potential asks for
    trend: np.ndarray  # (P,) monthly growth of potential
    demand_ratio: np.ndarray  # (M,) potential ÷ what the market's reps could sell with all their hours
    call_to_meeting: np.ndarray  # (M, P)
    meeting_to_quote: np.ndarray  # (M, P)
    quote_to_order: np.ndarray  # (M, P)
    rep_ids: list[str]
    rep_names: list[str]
    rep_market: np.ndarray  # (R,) market index
    rep_team: list[str]
    hours: np.ndarray  # (R,) selling hours per period
    base_pay: np.ndarray  # (R,) per period
    target_variable_pay: np.ndarray  # (R,) per period
    skill: np.ndarray  # (R, P)
    comfort: np.ndarray  # (R, P)
    max_share: np.ndarray  # (R, P)
    company: dict  # hours_per_*, effort_aversion, change_penalty, max_weight_change, soft_penalty, ...
    currency: str = "EUR"
    ccos_target: float | None = 0.06
    components: tuple = DEFAULT_COMPONENTS
    curve: tuple = DEFAULT_CURVE
    season: np.ndarray = field(default_factory=lambda: SEASON.copy())
    plan_coverage: float = 0.9  # share of a rep's fair share of potential the annual plan asks for
    plan_utilization: float = 0.92  # share of selling hours the annual plan may fill
    budget_headroom: float = 1.2  # comp_budget_rate ÷ (Σ target variable pay ÷ planned revenue)
    strategic: np.ndarray | None = None  # (P,) 0/1; defaults to the new group
    actual_market_factor: np.ndarray | None = None  # (M,) Q-to-date performance vs plan
    actual_group_factor: dict = field(default_factory=lambda: {"legacy": 1.15, "core": 1.0, "new": 0.75})
    actual_noise: float = 0.2  # lognormal sigma of rep × product × period performance


def period_labels(start: str, periods: int) -> list[str]:
    """Monthly 'YYYY-MM' labels, rolling into following years as needed."""
    return list(pd.period_range(pd.Period(start, freq="M"), periods=periods, freq="M").strftime("%Y-%m"))


def group_counts(products: int) -> dict[str, int]:
    """How many products fall in each group: about 25 % legacy, 30 % new, the rest core."""
    n_new = max(1, round(0.3 * products)) if products >= 2 else 0
    n_legacy = max(1, round(0.25 * products)) if products >= 3 else 0
    return {"legacy": n_legacy, "core": products - n_new - n_legacy, "new": n_new}


def draw_funnel(rng: np.random.Generator, groups: list[str], markets: int) -> tuple[np.ndarray, ...]:
    """Funnel rates per market × product: new products convert worse (longer, riskier sales)."""
    lo_hi = {  # per group: (cm lo, cm hi), (mq lo, mq hi), (qo lo, qo hi)
        "legacy": ((0.13, 0.20), (0.48, 0.60), (0.27, 0.35)),
        "core": ((0.09, 0.15), (0.40, 0.52), (0.21, 0.29)),
        "new": ((0.05, 0.10), (0.30, 0.42), (0.15, 0.21)),
    }
    out = []
    for i, name in enumerate(("call_to_meeting", "meeting_to_quote", "quote_to_order")):
        lo = np.array([lo_hi[g][i][0] for g in groups])
        hi = np.array([lo_hi[g][i][1] for g in groups])
        product_rate = rng.uniform(lo, hi)
        market_factor = rng.uniform(0.9, 1.1, size=(markets, 1))
        # Bounds are 3-decimal numbers, so rounding after clipping cannot leave the range.
        out.append(np.round(np.clip(product_rate[None, :] * market_factor, *RANGES[name]), 3))
    return tuple(out)


def draw_rep_products(
    rng: np.random.Generator,
    groups: list[str],
    hours: np.ndarray,
    rep_market: np.ndarray,
    champion_rate: float = 0.2,
    *,
    reach: tuple[float, float] = (2.5, 4.0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """skill, comfort and max_share per rep × product.

    Most reps feel the new products are hard (comfort 1.3–2.0); a few champions are at ease with them.
    max_share lets a rep reach a multiple of their fair share (hours share) of the market's potential,
    drawn uniformly from ``reach`` (default 2.5–4×: overlapping territories; near 1× they are exclusive).
    """
    n_reps, n_products = len(hours), len(groups)
    g = np.array(groups)
    skill = np.clip(np.exp(rng.normal(0.0, 0.12, size=(n_reps, n_products))), 0.75, 1.3)
    champion = rng.random(n_reps) < champion_rate
    comfort = np.ones((n_reps, n_products))
    comfort[:, g == "legacy"] = rng.uniform(1.0, 1.1, size=(n_reps, int((g == "legacy").sum())))
    comfort[:, g == "core"] = rng.uniform(1.0, 1.3, size=(n_reps, int((g == "core").sum())))
    new_hard = rng.uniform(1.3, 2.0, size=(n_reps, int((g == "new").sum())))
    new_easy = rng.uniform(1.0, 1.25, size=new_hard.shape)
    comfort[:, g == "new"] = np.where(champion[:, None], new_easy, new_hard)
    market_hours = np.bincount(rep_market, weights=hours)
    fair = hours / market_hours[rep_market]
    reachable = fair[:, None] * rng.uniform(reach[0], reach[1], size=(n_reps, n_products))
    max_share = np.minimum(1.0, np.ceil(reachable * 1e4) / 1e4)
    return np.round(skill, 2), np.round(comfort, 2), max_share


def draw_product_mix(rng: np.random.Generator, groups: list[str], markets: int) -> np.ndarray:
    """Share of each market's selling hours its potential asks for, per product (rows sum to 1)."""
    base = {"legacy": 0.30, "core": 0.45, "new": 0.25}
    counts = {k: max(1, groups.count(k)) for k in GROUPS}
    per_product = np.array([base[g] / counts[g] for g in groups])
    mix = per_product[None, :] * np.exp(rng.normal(0.0, 0.3, size=(markets, len(groups))))
    return mix / mix.sum(axis=1, keepdims=True)


def random_blueprint(*, reps: int, products: int, markets: int, seed: int) -> Blueprint:
    """A random but realistic company of the given size."""
    for arg, value in (("reps", reps), ("products", products), ("markets", markets)):
        if value < 1:
            raise ValueError(f"{arg} must be at least 1, got {value}")
    rng = np.random.default_rng(seed)
    counts = group_counts(products)
    groups = [g for g in GROUPS for _ in range(counts[g])]
    g = np.array(groups)

    market_ids = [f"m{i + 1:02d}" for i in range(markets)]
    market_names = [f"Region {i + 1}" for i in range(markets)]
    product_ids = [f"p{i + 1:02d}" for i in range(products)]
    product_names = [f"{g_.capitalize()} product {i + 1}" for i, g_ in enumerate(groups)]

    price_centre = np.select([g == "legacy", g == "new"], [0.6, 2.0], 1.0)
    rel_price = price_centre * np.exp(rng.normal(0.0, 0.35, size=products))
    margin_rate = np.select(
        [g == "legacy", g == "new"],
        [rng.uniform(0.18, 0.32, products), rng.uniform(0.55, 0.70, products)],
        rng.uniform(0.35, 0.50, products),
    )
    if (g == "new").any() and (g != "new").any():
        # New products must carry the best unit margin: lift any new price that falls short.
        best_other = (rel_price * margin_rate)[g != "new"].max()
        floor = 1.1 * best_other / margin_rate
        rel_price = np.where(g == "new", np.maximum(rel_price, floor), rel_price)
    trend = np.select([g == "legacy", g == "new"], [-0.01, 0.025], 0.004)

    # Uneven market sizes; every market gets a rep when there are enough reps.
    weights = np.exp(rng.normal(0.0, 0.4, size=markets))
    rep_market = rng.choice(markets, size=reps, p=weights / weights.sum())
    if reps >= markets:
        rep_market[rng.permutation(reps)[:markets]] = np.arange(markets)
    rep_market = np.sort(rep_market)  # reps listed market by market, like an org chart
    hours = np.round(rng.uniform(100, 140, size=reps))
    pay_level = rng.uniform(6500, 11500, size=markets)  # monthly on-target earnings per market
    ote = pay_level[rep_market] * np.exp(rng.normal(0.0, 0.12, size=reps))
    var_share = rng.uniform(0.31, 0.39, size=reps)  # inside 30–40 % even after rounding to 10 EUR
    tvp = np.round(ote * var_share, -1)
    base = np.round(ote - tvp, -1)
    within = np.zeros(reps, dtype=int)
    for m in range(markets):  # ~8 reps per team
        idx = np.flatnonzero(rep_market == m)
        within[idx] = np.arange(len(idx))
    rep_team = [f"{market_ids[m]}-team{w // 8 + 1}" for m, w in zip(rep_market, within)]
    first = rng.choice(_FIRST, size=reps)
    last = rng.choice(_LAST, size=reps)
    rep_names = [f"{a} {b}" for a, b in zip(first, last)]

    cm, mq, qo = draw_funnel(rng, groups, markets)
    skill, comfort, max_share = draw_rep_products(rng, groups, hours, rep_market)
    company = {
        "hours_per_call": round(float(rng.uniform(0.12, 0.25)), 2),
        "hours_per_meeting": round(float(rng.uniform(1.0, 2.0)), 2),
        "hours_per_quote": round(float(rng.uniform(2.0, 5.0)), 2),
        "hours_per_order": round(float(rng.uniform(1.0, 3.0)), 2),
        "effort_aversion": float(round(rng.uniform(30, 80))),
        "change_penalty": 0.05,
        "max_weight_change": 0.3,
        "soft_penalty": 10.0,
        "weeks_per_period": 4.345,
    }
    return Blueprint(
        name=f"Synthetic company {seed}",
        market_ids=market_ids,
        market_names=market_names,
        product_ids=product_ids,
        product_names=product_names,
        groups=groups,
        rel_price=rel_price,
        margin_rate=margin_rate,
        product_mix=draw_product_mix(rng, groups, markets),
        trend=trend,
        demand_ratio=rng.uniform(0.8, 1.5, size=markets),
        call_to_meeting=cm,
        meeting_to_quote=mq,
        quote_to_order=qo,
        rep_ids=[f"r{i + 1:04d}" for i in range(reps)],
        rep_names=rep_names,
        rep_market=rep_market,
        rep_team=rep_team,
        hours=hours,
        base_pay=base,
        target_variable_pay=tvp,
        skill=skill,
        comfort=comfort,
        max_share=max_share,
        company=company,
        ccos_target=float(rng.uniform(0.05, 0.07)),
        actual_market_factor=rng.uniform(0.85, 1.05, size=markets),
    )


def base_hours_per_order(company: dict, cm: np.ndarray, mq: np.ndarray, qo: np.ndarray) -> np.ndarray:
    """Hours per order of DESIGN.md §3 before skill, per market × product."""
    return (
        company["hours_per_call"] / (cm * mq * qo)
        + company["hours_per_meeting"] / (mq * qo)
        + company["hours_per_quote"] / qo
        + company["hours_per_order"]
    )


def _product_mask(spec: str, product_ids: list[str], groups: list[str]) -> np.ndarray:
    spec = str(spec).strip()
    if spec == "*":
        return np.ones(len(product_ids), dtype=bool)
    if spec.startswith("group:"):
        return np.array(groups) == spec[len("group:"):]
    wanted = {s.strip() for s in spec.split(";")}
    return np.array([p in wanted for p in product_ids])


def _metric_coef(metric: str, price: np.ndarray, cost: np.ndarray, cm, mq, qo) -> np.ndarray:
    """Coefficient of one order of product p in market m for a plan metric (DESIGN.md §4.3), (M, P)."""
    ones = np.ones_like(qo)
    coef = {
        "revenue": price[None, :] * ones,
        "margin": (price - cost)[None, :] * ones,
        "orders": ones,
        "quotes": 1.0 / qo,
        "meetings": 1.0 / (mq * qo),
        "calls": 1.0 / (cm * mq * qo),
    }
    if metric not in coef:
        raise ValueError(f"unknown metric {metric!r}")
    return coef[metric]


def _randomly_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Integer counts with the same expectation (deals are whole, small means stay unbiased)."""
    lo = np.floor(x)
    return (lo + (rng.random(x.shape) < (x - lo))).astype(np.int64)


def derive_plan(bp: Blueprint, labels: list[str]) -> dict[str, np.ndarray]:
    """Potential, hours per order, the annual plan's orders and calibrated prices of a blueprint.

    Returns ``demand`` (M, P, T), ``h`` (R, P) hours per order with skill, ``plan`` (R, P, T) planned
    orders, ``price`` and ``cost`` (P,).
    """
    months = np.array([int(lbl[5:7]) - 1 for lbl in labels])
    n_m, n_p, n_t = len(bp.market_ids), len(bp.product_ids), len(labels)
    rm = bp.rep_market

    # Potential: each market asks for demand_ratio × its reps' hours, spread by product mix, season, trend.
    h_base = base_hours_per_order(bp.company, bp.call_to_meeting, bp.meeting_to_quote, bp.quote_to_order)
    market_hours = np.bincount(rm, weights=bp.hours, minlength=n_m)
    # A market without reps still has a potential: as if one average rep worked it.
    market_hours = np.where(market_hours > 0, market_hours, bp.hours.mean())
    skill_mean = np.ones((n_m, n_p))
    for m in range(n_m):
        if (rm == m).any():
            skill_mean[m] = bp.skill[rm == m].mean(axis=0)
    h_bar = h_base / skill_mean
    time_factor = bp.season[months][None, :] * (1.0 + bp.trend[:, None]) ** np.arange(n_t)[None, :]  # (P, T)
    demand = (bp.demand_ratio * market_hours)[:, None, None] * (bp.product_mix / h_bar)[:, :, None]
    demand = np.maximum(np.round(demand * time_factor[None, :, :], 2), 0.1)  # (M, P, T)

    # Plan in force: each rep's fair (hours) share of potential, tilted to the comfortable mix and
    # capped by selling hours - the rough plan a sales-ops team writes once a year.
    h = h_base[rm] / bp.skill  # (R, P)
    fair = bp.hours / np.bincount(rm, weights=bp.hours, minlength=n_m)[rm]
    want = fair[:, None, None] * demand[rm] * (bp.plan_coverage / bp.comfort)[:, :, None]
    want = np.minimum(want, bp.max_share[:, :, None] * demand[rm])
    need = np.einsum("rp,rpt->rt", h, want)
    limit = bp.plan_utilization * bp.hours[:, None]
    plan = want * np.minimum(1.0, limit / need)[:, None, :]  # (R, P, T)

    # Prices: one scale so that (base + variable) ÷ planned revenue hits the blueprint's comp cost.
    if bp.ccos_target is None:
        scale = 1.0
    else:
        pay = (bp.base_pay + bp.target_variable_pay).sum() * n_t
        scale = pay / (bp.ccos_target * float(np.einsum("p,rpt->", bp.rel_price, plan)))
    price = np.maximum(np.round(bp.rel_price * scale, -2), 100.0)
    cost = np.round(price * (1.0 - bp.margin_rate), -2)
    return {"demand": demand, "h": h, "plan": plan, "price": price, "cost": cost}


def tables_from_blueprint(
    bp: Blueprint, *, periods: int, seed: int, closed_periods: int = 0, start: str = "2026-01"
) -> dict[str, object]:
    """Derive potential, the plan in force, targets and actuals from a blueprint; return the tables."""
    if periods < 1:
        raise ValueError(f"periods must be at least 1, got {periods}")
    if not 0 <= closed_periods <= periods:
        raise ValueError(f"closed_periods must be between 0 and periods ({periods}), got {closed_periods}")
    # A separate stream (keyed on the seed) so that the blueprint's draws and these never interfere.
    rng = np.random.default_rng([seed, 1])
    labels = period_labels(start, periods)
    n_m, n_p, n_r, n_t = len(bp.market_ids), len(bp.product_ids), len(bp.rep_ids), periods
    rm = bp.rep_market
    groups = np.array(bp.groups)
    derived = derive_plan(bp, labels)
    demand, h, plan, price, cost = (derived[k] for k in ("demand", "h", "plan", "price", "cost"))
    planned_revenue = float(np.einsum("p,rpt->", price, plan))
    planned_margin = float(np.einsum("p,rpt->", price - cost, plan))

    components = [c for c in bp.components if _product_mask(c[2], bp.product_ids, bp.groups).any()]
    total_w = sum(c[3] for c in components)
    # Dropping a component with no products (e.g. no new group) leaves the rest with all the weight.
    weights = [round(c[3] / total_w, 6) for c in components]
    weights[0] = round(1.0 - sum(weights[1:]), 6)

    target_frames = []
    for (cid, metric, prods, _), _w in zip(components, weights):
        coef = _metric_coef(metric, price, cost, bp.call_to_meeting, bp.meeting_to_quote, bp.quote_to_order)
        coef = coef * _product_mask(prods, bp.product_ids, bp.groups)[None, :]
        value = np.einsum("rp,rpt->rt", coef[rm], plan)
        digits = 0 if metric in ("revenue", "margin") else 2
        value = np.maximum(np.round(value, digits), 10.0 ** -digits if digits else 1.0)
        target_frames.append(
            pd.DataFrame(
                {
                    "rep_id": np.repeat(bp.rep_ids, n_t),
                    "component_id": cid,
                    "period": np.tile(labels, n_r),
                    "target": value.ravel(),
                }
            )
        )
    targets = pd.concat(target_frames, ignore_index=True)
    # Order rows rep by rep, then period, then component - how a plan export usually reads.
    order = {cid: i for i, (cid, *_rest) in enumerate(components)}
    targets = targets.sort_values(
        ["rep_id", "period", "component_id"], key=lambda s: s.map(order) if s.name == "component_id" else s
    ).reset_index(drop=True)

    tvp_total = float(bp.target_variable_pay.sum()) * n_t
    budget_rate = math.ceil(bp.budget_headroom * tvp_total / planned_revenue * 1e4) / 1e4
    annual = 12.0 / n_t
    company = {
        "name": bp.name,
        "currency": bp.currency,
        "periods": labels,
        "current_period": labels[closed_periods - 1] if closed_periods > 0 else None,
        "hours_per_call": float(bp.company["hours_per_call"]),
        "hours_per_meeting": float(bp.company["hours_per_meeting"]),
        "hours_per_quote": float(bp.company["hours_per_quote"]),
        "hours_per_order": float(bp.company["hours_per_order"]),
        "comp_budget_rate": float(budget_rate),
        "effort_aversion": float(bp.company["effort_aversion"]),
        "change_penalty": float(bp.company["change_penalty"]),
        "max_weight_change": float(bp.company["max_weight_change"]),
        "soft_penalty": float(bp.company["soft_penalty"]),
        "weeks_per_period": float(bp.company.get("weeks_per_period", 4.345)),
        "revenue_goal": float(round(planned_revenue * annual, -3)),
        "margin_goal": float(round(planned_margin * annual, -3)),
    }
    strategic = bp.strategic if bp.strategic is not None else (groups == "new").astype(int)
    tables: dict[str, object] = {
        "company.yaml": company,
        "products.csv": pd.DataFrame(
            {
                "product_id": bp.product_ids,
                "name": bp.product_names,
                "group": bp.groups,
                "unit_price": price.astype(np.int64),
                "unit_cost": cost.astype(np.int64),
                "strategic": np.asarray(strategic, dtype=int),
            }
        ),
        "markets.csv": pd.DataFrame({"market_id": bp.market_ids, "name": bp.market_names}),
        "reps.csv": pd.DataFrame(
            {
                "rep_id": bp.rep_ids,
                "name": bp.rep_names,
                "market_id": np.array(bp.market_ids)[rm],
                "team": bp.rep_team,
                "hours_per_period": np.round(bp.hours).astype(np.int64),
                "target_variable_pay": np.round(bp.target_variable_pay).astype(np.int64),
                "base_pay": np.round(bp.base_pay).astype(np.int64),
            }
        ),
        "funnel.csv": pd.DataFrame(
            {
                "market_id": np.repeat(bp.market_ids, n_p),
                "product_id": np.tile(bp.product_ids, n_m),
                "call_to_meeting": bp.call_to_meeting.ravel(),
                "meeting_to_quote": bp.meeting_to_quote.ravel(),
                "quote_to_order": bp.quote_to_order.ravel(),
            }
        ),
        "rep_products.csv": pd.DataFrame(
            {
                "rep_id": np.repeat(bp.rep_ids, n_p),
                "product_id": np.tile(bp.product_ids, n_r),
                "skill": bp.skill.ravel(),
                "comfort": bp.comfort.ravel(),
                "max_share": bp.max_share.ravel(),
            }
        ),
        "demand.csv": pd.DataFrame(
            {
                "market_id": np.repeat(bp.market_ids, n_p * n_t),
                "product_id": np.tile(np.repeat(bp.product_ids, n_t), n_m),
                "period": np.tile(labels, n_m * n_p),
                "potential_orders": demand.ravel(),
            }
        ),
        "plan/components.csv": pd.DataFrame(
            {
                "component_id": [c[0] for c in components],
                "metric": [c[1] for c in components],
                "products": [c[2] for c in components],
                "weight": weights,
            }
        ),
        "plan/curve.csv": pd.DataFrame(
            {"attainment": [float(a) for a, _ in bp.curve], "payout": [float(b) for _, b in bp.curve]}
        ),
        "plan/targets.csv": targets,
    }
    if closed_periods > 0:
        tables["actuals.csv"] = _actuals(rng, bp, plan[:, :, :closed_periods], demand[:, :, :closed_periods],
                                         h, labels[:closed_periods])
    return tables


def _actuals(
    rng: np.random.Generator, bp: Blueprint, plan: np.ndarray, demand: np.ndarray, h: np.ndarray, labels: list[str]
) -> pd.DataFrame:
    """Orders near plan (market and product-group performance, rep form, noise) and the activity behind them."""
    n_r, n_p, n_t = plan.shape
    rm = bp.rep_market
    market_f = bp.actual_market_factor if bp.actual_market_factor is not None else np.ones(len(bp.market_ids))
    group_f = np.array([bp.actual_group_factor.get(g, 1.0) for g in bp.groups])
    form = np.exp(rng.normal(0.0, 0.1, size=n_r))
    noise = np.exp(rng.normal(-0.5 * bp.actual_noise**2, bp.actual_noise, size=plan.shape))
    mean = plan * (market_f[rm] * form)[:, None, None] * group_f[None, :, None] * noise
    # Nobody sells beyond the market: the reps of a market stay under 95 % of its potential ...
    sold = np.zeros(demand.shape)
    np.add.at(sold, rm, mean)
    mean *= np.minimum(1.0, 0.95 * demand / np.maximum(sold, 1e-12))[rm]
    # ... nor beyond their selling hours.
    used = np.einsum("rp,rpt->rt", h, mean)
    mean *= np.minimum(1.0, bp.hours[:, None] / np.maximum(used, 1e-12))[:, None, :]

    cm = bp.call_to_meeting[rm][:, :, None]
    mq = bp.meeting_to_quote[rm][:, :, None]
    qo = bp.quote_to_order[rm][:, :, None]
    orders = _randomly_round(rng, mean)

    def jitter() -> np.ndarray:
        return np.exp(rng.normal(0.0, 0.1, size=plan.shape))

    # Activity is what those orders needed at the funnel's rates; a quote never trails its order.
    quotes_mean = mean / qo * jitter()
    meetings_mean = quotes_mean / mq * jitter()
    calls_mean = meetings_mean / cm * jitter()
    quotes = np.maximum(_randomly_round(rng, quotes_mean), orders)
    meetings = np.maximum(_randomly_round(rng, meetings_mean), quotes)
    calls = np.maximum(_randomly_round(rng, calls_mean), meetings)
    return pd.DataFrame(
        {
            "rep_id": np.repeat(bp.rep_ids, n_p * n_t),
            "product_id": np.tile(np.repeat(bp.product_ids, n_t), n_r),
            "period": np.tile(labels, n_r * n_p),
            "orders": orders.ravel(),
            "calls": calls.ravel(),
            "meetings": meetings.ravel(),
            "quotes": quotes.ravel(),
        }
    )


def synthetic_tables(
    *,
    reps: int,
    products: int,
    markets: int,
    periods: int,
    seed: int,
    closed_periods: int = 0,
    start: str = "2026-01",
    binding_mix: bool = False,
) -> dict[str, object]:
    """Return the tables of a dataset keyed by their relative file name:
    'company.yaml' -> dict, 'products.csv', 'markets.csv', 'reps.csv', 'funnel.csv',
    'rep_products.csv', 'demand.csv', 'plan/components.csv', 'plan/curve.csv',
    'plan/targets.csv', and 'actuals.csv' (only when closed_periods > 0) -> pandas.DataFrame.

    `binding_mix` adds product-mix rules that the most profitable plan breaks, so that the plan LP's
    horizon rows bind: every legacy product (the lowest unit margins) must keep a minimum share of
    revenue (together BINDING_LEGACY_SHARE) and every new product is capped at BINDING_NEW_SHARE."""
    bp = random_blueprint(reps=reps, products=products, markets=markets, seed=seed)
    tables = tables_from_blueprint(bp, periods=periods, seed=seed, closed_periods=closed_periods, start=start)
    if binding_mix:
        add_binding_mix(tables["products.csv"])
    return tables


def known_tables(tables: dict[str, object]) -> dict[str, object]:
    """What the company itself knows of a synthetic dataset: the same tables with rep_products.csv's
    `skill` and `comfort` left out (both then default to 1). The tables as generated hold the true
    values; a calibration (optimizer/calibration) must recover them from the history."""
    known = dict(tables)
    known["rep_products.csv"] = tables["rep_products.csv"].drop(columns=["skill", "comfort"])
    return known


BINDING_LEGACY_SHARE = 0.30  # legacy products together; split evenly between them
BINDING_NEW_SHARE = 0.12  # each new product at most


def add_binding_mix(products: pd.DataFrame) -> None:
    """Give products.csv min_share / max_share rules that bind on a synthetic company (in place)."""
    legacy = (products["group"] == "legacy").to_numpy()
    new = (products["group"] == "new").to_numpy()
    products["min_share"] = np.where(legacy, np.floor(BINDING_LEGACY_SHARE / max(1, legacy.sum()) * 1e4) / 1e4, 0.0)
    products["max_share"] = np.where(new, BINDING_NEW_SHARE, 1.0)


def write_tables(tables: dict[str, object], out_dir: str | pathlib.Path) -> None:
    """Write tables to a dataset folder (CSV without index; YAML for company.yaml; creates plan/)."""
    out = pathlib.Path(out_dir)
    for rel, table in tables.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith((".yaml", ".yml")):
            with path.open("w", encoding="utf-8") as fh:
                yaml.safe_dump(table, fh, sort_keys=False, allow_unicode=True)
        else:
            table.to_csv(path, index=False, lineterminator="\n")
