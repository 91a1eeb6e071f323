"""The rep response simulator (§4.5) on cases worked out by hand: concave and accelerating curves,
the pessimistic tie-break and the market scaling."""

import numpy as np
import pandas as pd
import pytest

from models.dataset import Plan, dataset_from_tables
from optimizer.parameters import effective_parameters
from optimizer.alignment.payout import Curve
from optimizer.alignment.response import scale_to_markets, simulate
from tests.instances import tiny_tables


def one_product(*, curve, comfort=1.0, aversion=0.0, hours=200.0):
    """One rep, product A only (price 100, cost 60), 10 h per order, demand 20, tvp 100."""
    tables = tiny_tables(
        company={"effort_aversion": aversion},
        products=[{"product_id": "A", "name": "Alpha", "group": "g", "unit_price": 100, "unit_cost": 60}],
        demand={"A": 20}, rep_hours=hours, target_variable_pay=100.0,
        rep_products=[{"rep_id": "r1", "product_id": "A", "comfort": comfort}],
    )
    dataset = dataset_from_tables(tables)
    plan = Plan(
        components=pd.DataFrame([{"component_id": "rev", "metric": "revenue", "products": "*", "weight": 1.0}]),
        curve=pd.DataFrame(curve, columns=["attainment", "payout"]),
        targets=pd.DataFrame([{"rep_id": "r1", "component_id": "rev", "period": "2026-01", "target": 1000.0}]),
        component_products={"rev": ("A",)},
    )
    return dataset, plan


def orders_of(sim, product="A"):
    return float(sim.orders.loc[sim.orders["product_id"] == product, "orders"].sum())


def test_concave_curve_is_an_lp_and_stops_where_marginal_pay_falls_below_effort():
    # f: slope 1 up to 100 %, then 0.4 up to 150 %, then flat. One order = 10 % attainment.
    # Effort e = 1·(1.5 − 1)·10 h = 5 per order. Marginal pay: 100·1/10 = 10 > 5 up to 10 orders,
    # then 100·0.4/10 = 4 < 5: the rep sells exactly 10 orders.
    dataset, plan = one_product(curve=[(0, 0), (1, 1), (1.5, 1.2)], comfort=1.5, aversion=1.0)
    sim = simulate(dataset, plan, plan_margin=800.0)
    assert sim.exact_model == "lp"
    assert orders_of(sim) == pytest.approx(10.0, abs=1e-6)
    assert sim.pay_cost == pytest.approx(100.0)
    assert sim.alignment_efficiency == pytest.approx(400.0 / 800.0)


def test_concave_curve_without_effort_stops_at_the_cap():
    # No effort: pay rises to 150 % (15 orders) and is flat after; the tie-break stops the rep there.
    dataset, plan = one_product(curve=[(0, 0), (1, 1), (1.5, 1.2)])
    sim = simulate(dataset, plan, plan_margin=800.0)
    assert orders_of(sim) == pytest.approx(15.0, abs=1e-6)
    assert sim.pay_cost == pytest.approx(120.0)


@pytest.mark.parametrize("comfort, expected", [(1.5, 15.0), (1.9, 0.0)])
def test_accelerating_curve_is_solved_exactly_as_a_mip(comfort, expected):
    # f: 0.5 at 100 %, 2 at 200 % (convex). 150 h → at most 15 orders. Pay(15) = 100·(0.5 + 1.5·0.5) = 125.
    # e = 5/order: 125 − 75 = 50 > 0 → 15 orders.  e = 9/order: 125 − 135 < 0 and every interior
    # point is worse (convex pay, linear effort), so the rep sells nothing. A relaxation would not see it.
    dataset, plan = one_product(curve=[(0, 0), (1, 0.5), (2, 2)], comfort=comfort, aversion=1.0, hours=150.0)
    assert not Curve.from_frame(plan.curve).is_concave
    sim = simulate(dataset, plan, plan_margin=600.0)
    assert sim.exact_model == "mip"
    assert orders_of(sim) == pytest.approx(expected, abs=1e-6)


def test_ties_go_against_the_company():
    # A and B have the same revenue per hour (100 per 10 h); B has the better margin. Paid on
    # revenue, the rep is indifferent, and §4.5 breaks the tie against the company: all A.
    tables = tiny_tables(
        products=[{"product_id": "A", "name": "Alpha", "group": "g", "unit_price": 100, "unit_cost": 60},
                  {"product_id": "B", "name": "Beta", "group": "g", "unit_price": 100, "unit_cost": 50}],
        demand={"A": 20, "B": 10}, rep_hours=100.0,
    )
    dataset = dataset_from_tables(tables)
    plan = Plan(
        components=pd.DataFrame([{"component_id": "rev", "metric": "revenue", "products": "*", "weight": 1.0}]),
        curve=pd.DataFrame([(0, 0), (1, 1), (1000, 1000)], columns=["attainment", "payout"]),
        targets=pd.DataFrame([{"rep_id": "r1", "component_id": "rev", "period": "2026-01", "target": 1000.0}]),
        component_products={"rev": ("A", "B")},
    )
    sim = simulate(dataset, plan)  # plan LP: 10 B, margin 500
    assert orders_of(sim, "A") == pytest.approx(10.0, abs=1e-6)
    assert orders_of(sim, "B") == pytest.approx(0.0, abs=1e-6)
    assert sim.alignment_efficiency == pytest.approx(400.0 / 500.0)


def test_reps_of_a_market_are_scaled_pro_rata_to_the_potential():
    dataset = dataset_from_tables(tiny_tables(reps=("r1", "r2")))
    params = effective_parameters(dataset)
    chosen = np.zeros((2, 2, 1))
    chosen[:, 1, 0] = [3.0, 5.0]  # 8 orders of B against a potential of 4
    chosen[:, 0, 0] = [2.0, 2.0]  # 4 of A: within 20
    scaled = scale_to_markets(params, chosen)
    assert scaled[:, 1, 0] == pytest.approx([1.5, 2.5])
    assert scaled[:, 0, 0] == pytest.approx([2.0, 2.0])


def test_curve_concavity():
    assert Curve(np.array([0, 1, 2.0]), np.array([0, 1, 1.5])).is_concave
    assert not Curve(np.array([0, 1, 2.0]), np.array([0, 0.5, 2])).is_concave
    assert not Curve(np.array([0, 1.0]), np.array([0, -1.0])).is_concave  # decreasing, then the flat tail
