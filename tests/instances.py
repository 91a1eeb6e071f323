"""Tiny inline datasets whose optima can be worked out by hand.

Funnel rates are 1 and only `hours_per_order` is non-zero, so one order costs exactly
`hours_per_order / skill` hours: every optimum below is a two-line calculation.
"""

from __future__ import annotations

import copy

import pandas as pd

COMPANY = {
    "name": "Tiny AB",
    "currency": "EUR",
    "periods": ["2026-01"],
    "current_period": None,
    "hours_per_call": 0.0,
    "hours_per_meeting": 0.0,
    "hours_per_quote": 0.0,
    "hours_per_order": 10.0,
    "comp_budget_rate": 0.1,
    "effort_aversion": 0.0,
    "change_penalty": 0.0,
    "max_weight_change": 1.0,
    "soft_penalty": 10.0,
    "weeks_per_period": 4.0,
}


def tiny_tables(*, reps=("r1",), periods=("2026-01",), company=None, products=None, demand=None,
                rep_products=None, rep_hours=100.0, target_variable_pay=10.0) -> dict[str, object]:
    """One market `m`, products A (price 100, cost 60) and B (price 200, cost 100), 10 h per order.

    Default optimum for one rep with 100 h and demand A=20, B=4 per period: B=4, A=6, margin 640.
    """
    comp = copy.deepcopy(COMPANY)
    comp["periods"] = list(periods)
    comp.update(company or {})
    prod = pd.DataFrame(products or [
        {"product_id": "A", "name": "Alpha", "group": "legacy", "unit_price": 100, "unit_cost": 60},
        {"product_id": "B", "name": "Beta", "group": "new", "unit_price": 200, "unit_cost": 100},
    ])
    dem = demand if demand is not None else {"A": 20, "B": 4}
    return {
        "company.yaml": comp,
        "products.csv": prod,
        "markets.csv": pd.DataFrame([{"market_id": "m", "name": "Market"}]),
        "reps.csv": pd.DataFrame([
            {"rep_id": r, "name": r.upper(), "market_id": "m", "team": "t", "hours_per_period": rep_hours,
             "target_variable_pay": target_variable_pay, "base_pay": 20.0}
            for r in reps
        ]),
        "funnel.csv": pd.DataFrame([
            {"market_id": "m", "product_id": p, "call_to_meeting": 1, "meeting_to_quote": 1, "quote_to_order": 1}
            for p in prod["product_id"]
        ]),
        "rep_products.csv": pd.DataFrame(rep_products or [
            {"rep_id": r, "product_id": p} for r in reps for p in prod["product_id"]
        ]),
        "demand.csv": pd.DataFrame([
            {"market_id": "m", "product_id": p, "period": t, "potential_orders": dem[p]}
            for p in prod["product_id"] for t in periods
        ]),
    }
