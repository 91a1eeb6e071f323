"""The KPI cascade (§4.2) and the payout calculator (§4.3), checked against hand arithmetic."""

import numpy as np
import pandas as pd
import pytest

from models.dataset import Plan, dataset_from_tables
from optimizer.plan.cascade import component_targets, kpi_targets
from optimizer.parameters import effective_parameters
from optimizer.alignment.payout import Curve, pay
from tests.instances import tiny_tables


def funnel_dataset():
    tables = tiny_tables(company={"hours_per_call": 0.25, "hours_per_meeting": 1.5, "hours_per_quote": 3.0,
                                  "hours_per_order": 2.0, "weeks_per_period": 4.0})
    tables["funnel.csv"] = pd.DataFrame([
        {"market_id": "m", "product_id": "A", "call_to_meeting": 0.1, "meeting_to_quote": 0.5, "quote_to_order": 0.25},
        {"market_id": "m", "product_id": "B", "call_to_meeting": 0.2, "meeting_to_quote": 0.4, "quote_to_order": 0.2},
    ])
    return dataset_from_tables(tables)


def test_hours_per_order_follow_the_funnel():
    params = effective_parameters(funnel_dataset())
    h = params.hours_per_order()
    # A: 0.25/(0.1·0.5·0.25) + 1.5/(0.5·0.25) + 3/0.25 + 2 = 20 + 12 + 12 + 2
    assert h[0, 0, 0] == pytest.approx(46.0)
    # B: 0.25/(0.2·0.4·0.2) + 1.5/(0.4·0.2) + 3/0.2 + 2 = 15.625 + 18.75 + 15 + 2
    assert h[0, 1, 0] == pytest.approx(51.375)


def test_cascade_turns_orders_into_activity_targets_per_period_and_week():
    params = effective_parameters(funnel_dataset())
    orders = pd.DataFrame([{"rep_id": "r1", "product_id": "A", "period": "2026-01", "orders": 2.0}])
    kpis = kpi_targets(params, orders).iloc[0]
    assert kpis["quotes"] == pytest.approx(8.0)  # 2 / 0.25
    assert kpis["meetings"] == pytest.approx(16.0)  # 2 / (0.5 · 0.25)
    assert kpis["calls"] == pytest.approx(160.0)  # 2 / (0.1 · 0.5 · 0.25)
    assert kpis["revenue"] == pytest.approx(200.0) and kpis["margin"] == pytest.approx(80.0)
    assert kpis["calls_per_week"] == pytest.approx(40.0)  # 160 / 4 weeks


def two_component_plan(dataset, targets, curve=((0, 0), (1, 1), (2, 1.5))):
    components = pd.DataFrame([
        {"component_id": "rev", "metric": "revenue", "products": "*", "weight": 0.6},
        {"component_id": "newq", "metric": "quotes", "products": "group:new", "weight": 0.4},
    ])
    return Plan(
        components=components,
        curve=pd.DataFrame(list(curve), columns=["attainment", "payout"]),
        targets=pd.DataFrame(targets, columns=["rep_id", "component_id", "period", "target"]),
        component_products={"rev": tuple(dataset.product_ids), "newq": ("B",)},
    )


def test_component_targets_from_planned_orders():
    dataset = funnel_dataset()
    params = effective_parameters(dataset)
    plan = two_component_plan(dataset, [])
    orders = pd.DataFrame([("r1", "A", "2026-01", 2.0), ("r1", "B", "2026-01", 1.0)],
                          columns=["rep_id", "product_id", "period", "orders"])
    targets = component_targets(params, orders, plan).set_index("component_id")["target"]
    assert targets["rev"] == pytest.approx(2 * 100 + 1 * 200)
    assert targets["newq"] == pytest.approx(1 / 0.2)


def test_payout_curve_interpolates_and_caps():
    f = Curve.from_frame(pd.DataFrame({"attainment": [0, 0.5, 1, 1.5], "payout": [0, 0.25, 1, 2]}))
    assert f(0.25) == pytest.approx(0.125)
    assert f(0.75) == pytest.approx(0.625)
    assert f(1.25) == pytest.approx(1.5)  # accelerator segment
    assert f(3.0) == pytest.approx(2.0)  # flat after the last point: the cap


def test_pay_reproduces_the_formula_by_hand():
    dataset = funnel_dataset()  # tvp 10
    params = effective_parameters(dataset)
    plan = two_component_plan(dataset, [("r1", "rev", "2026-01", 400.0), ("r1", "newq", "2026-01", 10.0)])
    outcomes = pd.DataFrame([("r1", "A", "2026-01", 3.0), ("r1", "B", "2026-01", 1.0)],
                            columns=["rep_id", "product_id", "period", "orders"])
    summary, detail = pay(params, plan, outcomes)
    # revenue 500 → attainment 1.25 → f = 1 + 0.25·0.5 = 1.125; quotes of B 5 → attainment 0.5 → f = 0.5
    expected = 10 * (0.6 * 1.125 + 0.4 * 0.5)
    assert summary.loc[0, "pay"] == pytest.approx(expected)
    rev = detail[detail["component_id"] == "rev"].iloc[0]
    assert rev["attainment"] == pytest.approx(1.25) and rev["pay"] == pytest.approx(10 * 0.6 * 1.125)


def test_weight_of_a_component_without_target_is_redistributed():
    dataset = funnel_dataset()
    params = effective_parameters(dataset)
    plan = two_component_plan(dataset, [("r1", "rev", "2026-01", 400.0), ("r1", "newq", "2026-01", 0.0)])
    outcomes = pd.DataFrame([("r1", "A", "2026-01", 4.0)], columns=["rep_id", "product_id", "period", "orders"])
    summary, detail = pay(params, plan, outcomes)
    # only `rev` has a target: W_r = 0.6, so it carries the whole target pay: 10 · (0.6/0.6) · f(1) = 10
    assert summary.loc[0, "pay"] == pytest.approx(10.0)
    newq = detail[detail["component_id"] == "newq"].iloc[0]
    assert newq["effective_weight"] == 0 and np.isnan(newq["attainment"])


def test_no_target_at_all_pays_nothing():
    dataset = funnel_dataset()
    params = effective_parameters(dataset)
    plan = two_component_plan(dataset, [])
    outcomes = pd.DataFrame([("r1", "A", "2026-01", 4.0)], columns=["rep_id", "product_id", "period", "orders"])
    summary, _ = pay(params, plan, outcomes)
    assert summary.loc[0, "pay"] == 0


def test_the_cascade_reports_every_metric_a_component_can_pay_on():
    from models.dataset import METRICS
    from optimizer.plan.cascade import KPIS

    assert sorted(KPIS) == sorted(METRICS)
