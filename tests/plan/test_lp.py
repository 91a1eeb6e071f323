"""One test per constraint family of the plan LP (§4.1) on tiny instances solved by hand.

Every instance has one market, products A (margin 40, price 100) and B (margin 100, price 200),
and 10 selling hours per order; see tests/instances.py. Each hand-solved test runs on both engines:
the readable Pyomo model (optimizer/plan/lp.py) and the array build (optimizer/plan/arrays.py).
"""

import pandas as pd
import pytest

from models.dataset import dataset_from_tables
from optimizer.plan.targets import ENGINES, plan_targets
from tests.instances import tiny_tables


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


def solve(tables, engine):
    result = plan_targets(dataset_from_tables(tables), engine=engine)
    assert result.status == "optimal"
    return result


def orders_of(result) -> dict:
    return {(r.rep_id, r.product_id): round(r.orders, 6) for r in result.orders.itertuples() if r.orders > 1e-9}


def test_capacity_binds_and_is_priced(engine):
    # 100 h / 10 h per order = 10 orders: all 4 B (margin 100) then 6 A (margin 40).
    result = solve(tiny_tables(), engine)
    assert orders_of(result) == {("r1", "A"): 6, ("r1", "B"): 4}
    assert result.objective == pytest.approx(640)
    assert result.revenue == pytest.approx(1400)
    hour = [b for b in result.binding if b["family"] == "capacity"]
    assert hour and hour[0]["worth"] == pytest.approx(4.0)  # an extra hour = 1/10 of an A order's margin 40
    assert "one more selling hour of rep r1 in 2026-01 is worth 4 EUR" in hour[0]["message"]


def test_market_potential_is_shared_by_the_reps_of_a_market(engine):
    # Two reps with 10 orders of capacity each; the market absorbs A=10, B=4 in total.
    result = solve(tiny_tables(reps=("r1", "r2"), demand={"A": 10, "B": 4}), engine)
    totals = result.orders.groupby("product_id")["orders"].sum()
    assert totals["A"] == pytest.approx(10) and totals["B"] == pytest.approx(4)
    assert result.objective == pytest.approx(10 * 40 + 4 * 100)
    market = {b["product_id"]: b["worth"] for b in result.binding if b["family"] == "market"}
    assert market == {"A": pytest.approx(40), "B": pytest.approx(100)}  # hours are slack: the full margin


def test_reach_caps_a_reps_share_of_the_market(engine):
    tables = tiny_tables(rep_products=[{"rep_id": "r1", "product_id": "A"},
                                       {"rep_id": "r1", "product_id": "B", "max_share": 0.5}])
    result = solve(tables, engine)
    assert orders_of(result) == {("r1", "A"): 8, ("r1", "B"): 2}
    assert result.objective == pytest.approx(8 * 40 + 2 * 100)


def test_a_product_the_rep_does_not_sell_gets_no_orders(engine):
    result = solve(tiny_tables(rep_products=[{"rep_id": "r1", "product_id": "A"}]), engine)
    assert orders_of(result) == {("r1", "A"): 10}


def test_supply_limits_all_reps_together(engine):
    products = [
        {"product_id": "A", "name": "Alpha", "group": "legacy", "unit_price": 100, "unit_cost": 60},
        {"product_id": "B", "name": "Beta", "group": "new", "unit_price": 200, "unit_cost": 100,
         "supply_per_period": 3},
    ]
    result = solve(tiny_tables(reps=("r1", "r2"), products=products, demand={"A": 30, "B": 10}), engine)
    totals = result.orders.groupby("product_id")["orders"].sum()
    assert totals["B"] == pytest.approx(3) and totals["A"] == pytest.approx(17)
    supply = [b for b in result.binding if b["family"] == "supply"]
    assert supply[0]["product_id"] == "B" and supply[0]["worth"] == pytest.approx(60)  # 100 − 40 of the A order it displaces


def _with_share(column, value, soft_penalty):
    products = [
        {"product_id": "A", "name": "Alpha", "group": "legacy", "unit_price": 100, "unit_cost": 60},
        {"product_id": "B", "name": "Beta", "group": "new", "unit_price": 200, "unit_cost": 100},
    ]
    target = products[1] if column == "max_share" else products[0]
    target[column] = value
    return tiny_tables(products=products, company={"soft_penalty": soft_penalty})


@pytest.mark.parametrize("column,value", [("max_share", 0.4), ("min_share", 0.6)])
def test_mix_rule_holds_when_its_slack_is_expensive(column, value, engine):
    # B's revenue share ≤ 40 % (equivalently A's ≥ 60 %): with all hours used, 160·o_B ≤ 400 → o_B = 2.5.
    result = solve(_with_share(column, value, soft_penalty=10), engine)
    assert orders_of(result) == {("r1", "A"): 7.5, ("r1", "B"): 2.5}
    assert result.objective == pytest.approx(7.5 * 40 + 2.5 * 100)
    assert result.slacks == []


@pytest.mark.parametrize("column,value,name", [("max_share", 0.4, "mix_max[B]"), ("min_share", 0.6, "mix_min[A]")])
def test_mix_rule_gives_way_when_its_slack_is_cheap_and_says_so(column, value, name, engine):
    # Penalty 0.01 per EUR: each B order still nets 60 − 0.01·160 > 0, so o_B = 4 and the slack is 160·4 − 400 = 240.
    result = solve(_with_share(column, value, soft_penalty=0.01), engine)
    assert orders_of(result) == {("r1", "A"): 6, ("r1", "B"): 4}
    assert [(s["constraint"], round(s["amount"], 6)) for s in result.slacks] == [(name, 240)]
    assert result.objective == pytest.approx(640 - 0.01 * 240)


def test_budget_shortfall_is_a_named_soft_slack(engine):
    # Pay at target 200 needs revenue ≥ 2,000 at a 10 % budget rate; the most revenue possible is 1,400.
    result = solve(tiny_tables(target_variable_pay=200.0), engine)
    assert orders_of(result) == {("r1", "A"): 6, ("r1", "B"): 4}
    assert [(s["constraint"], round(s["amount"], 6)) for s in result.slacks] == [("budget", 60)]
    assert result.objective == pytest.approx(640 - 10 * 60)


def test_change_penalty_keeps_the_plan_close_to_the_targets_in_force(engine):
    # Plan in force: revenue target 1,000. change_penalty 100 · tvp 10 · ω 1 / T0 1000 = 1 per EUR of deviation,
    # so each A order (margin 40, revenue 100) above the target nets −60: keep B=4, A=2, revenue exactly 1,000.
    tables = tiny_tables(company={"change_penalty": 100.0})
    tables["plan/components.csv"] = pd.DataFrame([{"component_id": "rev", "metric": "revenue", "products": "*", "weight": 1}])
    tables["plan/curve.csv"] = pd.DataFrame({"attainment": [0, 1, 2], "payout": [0, 1, 1.5]})
    tables["plan/targets.csv"] = pd.DataFrame([{"rep_id": "r1", "component_id": "rev", "period": "2026-01", "target": 1000}])
    result = solve(tables, engine)
    assert orders_of(result) == {("r1", "A"): 2, ("r1", "B"): 4}
    assert result.revenue == pytest.approx(1000)
    assert result.objective == pytest.approx(480)
    assert result.change_cost == pytest.approx(0)


def test_change_cost_is_reported_when_deviating_pays(engine):
    tables = tiny_tables(company={"change_penalty": 1.0})
    tables["plan/components.csv"] = pd.DataFrame([{"component_id": "rev", "metric": "revenue", "products": "*", "weight": 1}])
    tables["plan/curve.csv"] = pd.DataFrame({"attainment": [0, 1], "payout": [0, 1]})
    tables["plan/targets.csv"] = pd.DataFrame([{"rep_id": "r1", "component_id": "rev", "period": "2026-01", "target": 1000}])
    result = solve(tables, engine)
    assert result.revenue == pytest.approx(1400)
    assert result.change_cost == pytest.approx(1.0 * 10 * 1 * 400 / 1000)
    assert result.objective == pytest.approx(640 - 4)


def test_closed_periods_are_not_replanned(engine):
    tables = tiny_tables(periods=("2026-01", "2026-02"), company={"current_period": "2026-01"})
    result = solve(tables, engine)
    assert set(result.orders["period"]) == {"2026-02"}
    assert result.objective == pytest.approx(640)


def test_assumptions_change_the_optimum(engine):
    from models.assumptions import parse_assumptions

    dataset = dataset_from_tables(tiny_tables())
    freeze = parse_assumptions({"name": "freeze", "adjustments": [{"markets": ["m"], "products": ["B"], "demand": 0.5}]})
    result = plan_targets(dataset, freeze, engine=engine)
    assert result.objective == pytest.approx(2 * 100 + 8 * 40)
    hours = parse_assumptions({"name": "half-time", "adjustments": [{"reps": ["r1"], "hours": 0.5}]})
    assert plan_targets(dataset, hours, engine=engine).objective == pytest.approx(4 * 100 + 1 * 40)


def test_status_vocabulary_never_calls_a_time_limited_answer_optimal():
    from types import SimpleNamespace

    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    from optimizer.solve import status_of

    def result(term, sol):
        return SimpleNamespace(termination_condition=term, solution_status=sol)

    assert status_of(result(TerminationCondition.convergenceCriteriaSatisfied, SolutionStatus.optimal)) == "optimal"
    assert status_of(result(TerminationCondition.maxTimeLimit, SolutionStatus.feasible)) == "feasible_time_limit"
    assert status_of(result(TerminationCondition.maxTimeLimit, SolutionStatus.noSolution)) == "error"
    assert status_of(result(TerminationCondition.provenInfeasible, SolutionStatus.noSolution)) == "infeasible"
    assert status_of(result(TerminationCondition.unbounded, SolutionStatus.noSolution)) == "unbounded"


def test_cli_exits_1_when_the_time_limit_leaves_no_plan():
    from pathlib import Path

    from typer.testing import CliRunner

    from api.cli import app

    sample = Path(__file__).resolve().parents[2] / "datasets" / "sample"
    outcome = CliRunner().invoke(app, ["solve", str(sample), "--time-limit", "0.000001"])
    assert outcome.exit_code == 1
    assert "error" in outcome.output and "time limit" in outcome.output
