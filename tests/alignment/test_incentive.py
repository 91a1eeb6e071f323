"""The incentive LP (§4.4) on tiny cases: the indifference trap, the change limit, Σω = 1."""

import pandas as pd
import pytest

from models.dataset import Plan, dataset_from_tables
from optimizer.plan.cascade import orders_array
from optimizer.alignment.incentive import curve_slopes, incentive_weights
from optimizer.parameters import effective_parameters
from optimizer.plan.targets import plan_targets
from optimizer.alignment.recommend import make_plan, recommend
from optimizer.alignment.payout import Curve
from optimizer.alignment.response import simulate
from tests.instances import tiny_tables

LINEAR = [(0, 0), (1, 1), (2, 2)]


def trap_tables(max_weight_change=1.0):
    """A (group old) and B (group new) pay the same revenue per hour; B has the better margin.

    One rep, 100 h, 10 h per order, demand A 20 and B 10. Plan LP: 10 B, margin 500. A plan in force
    paying on total revenue leaves the rep indifferent — the trap.
    """
    tables = tiny_tables(
        company={"max_weight_change": max_weight_change},
        products=[{"product_id": "A", "name": "Alpha", "group": "old", "unit_price": 100, "unit_cost": 60},
                  {"product_id": "B", "name": "Beta", "group": "new", "unit_price": 100, "unit_cost": 50}],
        demand={"A": 20, "B": 10}, rep_hours=100.0,
    )
    tables["plan/components.csv"] = pd.DataFrame([{"component_id": "rev", "metric": "revenue", "products": "*", "weight": 1.0}])
    tables["plan/curve.csv"] = pd.DataFrame(LINEAR, columns=["attainment", "payout"])
    tables["plan/targets.csv"] = pd.DataFrame([{"rep_id": "r1", "component_id": "rev", "period": "2026-01", "target": 1000.0}])
    return tables


def candidate_plan(dataset, params, orders):
    components = [("rev", "revenue", "*", 1.0), ("revenue_old", "revenue", "group:old", 0.0),
                  ("revenue_new", "revenue", "group:new", 0.0), ("margin", "margin", "*", 0.0)]
    return make_plan(dataset, params, orders, components, LINEAR)


def test_curve_slopes_left_and_right_of_target():
    curve = Curve.from_frame(pd.DataFrame([(0, 0), (0.5, 0.25), (1, 1), (1.25, 1.5), (2, 2.5)],
                                          columns=["attainment", "payout"]))
    assert curve_slopes(curve) == pytest.approx((1.5, 2.0))
    assert curve_slopes(Curve.from_frame(pd.DataFrame([(0, 0), (1, 1)], columns=["attainment", "payout"]))) == (1.0, 0.0)


def test_the_indifference_trap_is_exposed_and_escaped():
    dataset = dataset_from_tables(trap_tables())
    params = effective_parameters(dataset)
    result = plan_targets(dataset, params=params)
    assert result.margin == pytest.approx(500.0)
    # The plan in force, even re-targeted on the plan, leaves the rep indifferent: the tie goes to A.
    plan = candidate_plan(dataset, params, result.orders)
    trapped = simulate(dataset, plan, params=params, plan_margin=result.margin)
    assert trapped.alignment_efficiency == pytest.approx(0.8)
    # With a strict margin the LP moves weight off total revenue onto B's metrics; B wins strictly.
    weights = incentive_weights(params, plan, orders_array(params, result.orders), in_force={"rev": 1.0},
                                max_weight_change=1.0, epsilon=0.05)
    assert weights.status == "optimal"
    assert sum(weights.weights.values()) == pytest.approx(1.0)
    assert weights.weights["rev"] < 1.0
    assert weights.violation_money == pytest.approx(0.0, abs=1e-9)
    aligned = Plan(components=plan.components.assign(weight=plan.components["component_id"].map(weights.weights)),
                   curve=plan.curve, targets=plan.targets, component_products=plan.component_products)
    assert simulate(dataset, aligned, params=params, plan_margin=result.margin).alignment_efficiency == pytest.approx(1.0)


def test_zero_strict_margin_can_stop_at_indifference():
    # ε = 0: the weights in force already satisfy "B at least as good as A", so the LP keeps them
    # (closest to the plan in force) — and the simulation shows the trap.
    dataset = dataset_from_tables(trap_tables())
    params = effective_parameters(dataset)
    result = plan_targets(dataset, params=params)
    plan = candidate_plan(dataset, params, result.orders)
    weights = incentive_weights(params, plan, orders_array(params, result.orders), in_force={"rev": 1.0},
                                max_weight_change=1.0, epsilon=0.0)
    assert weights.weights["rev"] == pytest.approx(1.0)


def test_change_limit_binds_and_is_respected():
    dataset = dataset_from_tables(trap_tables(max_weight_change=0.25))
    params = effective_parameters(dataset)
    result = plan_targets(dataset, params=params)
    plan = candidate_plan(dataset, params, result.orders)
    weights = incentive_weights(params, plan, orders_array(params, result.orders), in_force={"rev": 1.0},
                                max_weight_change=0.25, epsilon=5.0)
    assert weights.weights["rev"] == pytest.approx(0.75)
    assert all(w <= 0.25 + 1e-9 for k, w in weights.weights.items() if k != "rev")
    assert "change_limit" in weights.binding


def test_recommend_escapes_the_trap_and_reports_the_baselines():
    dataset = dataset_from_tables(trap_tables())
    rec = recommend(dataset)
    assert rec.alignment["recommended"] == pytest.approx(1.0)
    assert rec.alignment["in_force"] == pytest.approx(0.8)
    assert rec.alignment["flat_revenue"] == pytest.approx(0.8)
    assert rec.alignment["gross_margin_share"] == pytest.approx(1.0)
    assert abs(rec.plan.components["weight"].sum() - 1.0) < 1e-9
