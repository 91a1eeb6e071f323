"""The rules a recommendation keeps (DESIGN.md §4.9), each binding on a tiny instance worked out by hand.

The instance (`rules_tables`): one rep, 100 selling hours per period, two open periods, products A
(price 100, cost 80: 20 margin, 10 revenue per hour) and B (price 90, cost 30: 60 margin, 9 revenue
per hour), 10 h per order, demand A = 20, B = 4 per period. The firm's optimum sells B = 4 (40 h)
and A = 6 (60 h): margin 360 per period. A rep paid on revenue fills A first: A = 10, margin 200.

The plan in force pays revenue against a target of 500 per period on a linear curve capped at
300 %: the rep sells A = 10 (revenue 1,000), attainment 2, pay 2 × tvp = 20 per period.
"""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from models.assumptions import parse_assumptions
from models.dataset import dataset_from_tables, load_dataset, load_plan
from models.errors import InputError
from models.rules import Rules
from models.synthetic import write_tables
from optimizer.parameters import effective_parameters
from optimizer.alignment.payout import pay as payout_calculator
from optimizer.alignment.recommend import RULES_UNMET, recommend
from tests.instances import tiny_tables

runner = CliRunner()
PERIODS = ("2026-01", "2026-02")
TVP = 10.0
IN_FORCE_PAY = 2 * TVP * len(PERIODS)  # attainment 1,000 / 500 = 2 on a linear curve, both periods


def rules_tables(*, company=None, components=None, curve=None, targets=None) -> dict:
    products = [{"product_id": "A", "name": "Alpha", "group": "legacy", "unit_price": 100, "unit_cost": 80},
                {"product_id": "B", "name": "Beta", "group": "new", "unit_price": 90, "unit_cost": 30}]
    tables = tiny_tables(periods=PERIODS, products=products, target_variable_pay=TVP,
                         company={"max_weight_change": 1.0, "comp_budget_rate": 0.5, **(company or {})})
    tables["plan/components.csv"] = pd.DataFrame(components or [
        {"component_id": "revenue", "metric": "revenue", "products": "*", "weight": 1.0}])
    tables["plan/curve.csv"] = pd.DataFrame(curve or [(0.0, 0.0), (1.0, 1.0), (3.0, 3.0)],
                                            columns=["attainment", "payout"])
    tables["plan/targets.csv"] = pd.DataFrame(targets or [
        {"rep_id": "r1", "component_id": "revenue", "period": t, "target": 500.0} for t in PERIODS])
    return tables


def two_component_tables(**company) -> dict:
    return rules_tables(company=company, components=[
        {"component_id": "revenue", "metric": "revenue", "products": "*", "weight": 0.5},
        {"component_id": "orders", "metric": "orders", "products": "*", "weight": 0.5}],
        targets=[{"rep_id": "r1", "component_id": k, "period": t, "target": v}
                 for t in PERIODS for k, v in (("revenue", 500.0), ("orders", 5.0))])


@pytest.fixture(scope="module")
def default_rec():
    dataset = dataset_from_tables(rules_tables())
    return dataset, recommend(dataset)


def test_the_plan_in_force_as_worked_out_by_hand(default_rec):
    _, rec = default_rec
    assert rec.plan_result.margin == pytest.approx(360.0 * len(PERIODS))
    assert rec.alignment["in_force"] == pytest.approx(200.0 / 360.0)
    assert rec.pay_impact["in_force_total"] == pytest.approx(IN_FORCE_PAY)


def test_the_recommendation_aligns_with_one_component_and_keeps_the_pay(default_rec):
    dataset, rec = default_rec
    assert rec.status == "optimal"
    assert rec.alignment["recommended"] == pytest.approx(1.0)  # B = 4, A = 6: the firm's optimum
    assert len(rec.plan.component_ids) <= dataset.company.rules.max_components
    # the pay-cut rule binds: pay at target would be tvp = 10 a period, half of the 20 in force
    assert rec.pay_impact["max_cut"] >= -0.05 - 1e-9
    assert rec.pay_impact["reps"][0]["recommended_pay"] >= 0.95 * IN_FORCE_PAY - 0.01
    assert "max_pay_cut" in rec.binding and rec.target_scale["scale"].iloc[0] < 1.0
    lowered = [c for c in rec.changes if c["kind"] == "targets changed" and "lowered" in c["reason"]]
    assert lowered and all(c["rep_id"] == "r1" for c in lowered)
    frontier = {row["components"]: row for row in rec.frontier}
    assert frontier[1]["alignment"] == pytest.approx(1.0)


def test_without_the_pay_rule_the_margin_objective_pays_at_target():
    dataset = dataset_from_tables(rules_tables())
    rec = recommend(dataset, rules=Rules(max_pay_cut=0.99, objective="margin"))
    assert rec.alignment["recommended"] == pytest.approx(1.0)
    # targets cascaded from the plan: attainment 1, pay = tvp per period (pay costs nothing to this objective)
    assert rec.pay_impact["reps"][0]["recommended_pay"] == pytest.approx(TVP * len(PERIODS), rel=1e-6)
    assert rec.pay_impact["max_cut"] == pytest.approx(-0.5, rel=1e-6)
    assert rec.pay_impact["losers"] == 1 and rec.pay_impact["winners"] == 0
    assert rec.objective == {"name": "margin", "value": pytest.approx(rec.simulations["recommended"].margin)}


def test_without_the_pay_rule_net_margin_raises_the_targets_and_keeps_the_mix():
    dataset = dataset_from_tables(rules_tables())
    rec = recommend(dataset, rules=Rules(max_pay_cut=0.99))
    sim = rec.simulations["recommended"]
    assert rec.alignment["recommended"] == pytest.approx(1.0)  # the same orders: B = 4, A = 6
    # the same margin for less pay: the targets go up (the scale of the rep above 1), pay below pay at target
    assert rec.pay_impact["reps"][0]["recommended_pay"] < TVP * len(PERIODS) - 1e-6
    assert rec.target_scale["scale"].iloc[0] > 1.0
    assert rec.objective["value"] == pytest.approx(sim.margin - sim.pay_cost)
    margin_first = recommend(dataset, rules=Rules(max_pay_cut=0.99, objective="margin"))
    assert sim.net_margin > margin_first.simulations["recommended"].net_margin


def test_max_components_binds():
    dataset = dataset_from_tables(two_component_tables())
    rec = recommend(dataset, rules=Rules(max_components=1, max_pay_cut=0.99))
    assert rec.status == "optimal"
    assert len(rec.plan.component_ids) == 1
    assert [row["components"] for row in rec.frontier] == [1]
    removed = {c["component_id"] for c in rec.changes if c["kind"] == "component removed"}
    kept = set(rec.plan.component_ids)
    assert removed == {"revenue", "orders"} - kept
    assert all("at most 1 components" in c["reason"] for c in rec.changes if c["kind"] == "component removed")


def test_max_weight_change_counts_from_the_baseline():
    # the plan in force pays revenue 0.5 and orders 0.5; with the change limit 0.3 counted from it,
    # both must keep at least 0.2: one component is not allowed, and the conflict is named
    dataset = dataset_from_tables(two_component_tables(max_weight_change=0.3))
    rec = recommend(dataset, rules=Rules(max_components=1, max_pay_cut=0.99))
    assert rec.status == RULES_UNMET and rec.unmet[0]["rule"] == "max_components"
    assert "max_weight_change = 0.3" in rec.message and "revenue, orders" in rec.message
    # counted from an all-revenue baseline, revenue alone is the only one-component plan
    baseline = dataset_from_tables(rules_tables()).plan
    rec = recommend(dataset, baseline=baseline, rules=Rules(max_components=1, max_pay_cut=0.99))
    assert rec.status == "optimal" and rec.plan.weights == {"revenue": 1.0}


def test_rules_that_cannot_be_met_are_named_with_the_amount():
    # two components in force, one allowed; a cap of 120 % cannot pay the 190 % the rep needs
    dataset = dataset_from_tables(two_component_tables())
    rec = recommend(dataset, rules=Rules(max_components=1).overridden({"curve_cap": [1.0, 1.2]}))
    assert rec.status == RULES_UNMET and rec.plan is None
    assert rec.unmet[0]["rule"] == "max_pay_cut" and rec.unmet[0]["amount"] == 1
    assert "max_pay_cut = 0.05" in rec.message and "1 rep(s)" in rec.message


def test_budget_unmet_is_reported_with_the_amount_and_the_pay_rule_kept():
    dataset = dataset_from_tables(rules_tables(company={"comp_budget_rate": 0.01}))
    rec = recommend(dataset)
    assert rec.status == "optimal"
    budget = 0.01 * rec.plan_result.revenue
    recommended = rec.simulations["recommended"]
    assert recommended.pay_cost > budget
    unmet = {u["rule"]: u for u in rec.unmet}
    assert unmet["budget"] == pytest.approx({**unmet["budget"], "amount": recommended.pay_cost - budget})
    assert "budget" in rec.binding
    assert rec.pay_impact["max_cut"] >= -0.05 - 1e-9


def test_attribution_parts_sum_to_the_total():
    dataset = dataset_from_tables(rules_tables())
    freeze = parse_assumptions({"name": "freeze", "adjustments": [
        {"markets": ["m"], "periods": {"from": "2026-02"}, "demand": 0.5, "reason": "half"}]})
    rec = recommend(dataset, freeze)
    (market,) = rec.attribution["markets"]
    for figure in ("revenue", "margin"):
        part = market[figure]
        assert part["assumptions"] + part["replanning"] == pytest.approx(part["change"])
        assert part["planned"] - part["in_force"] == pytest.approx(part["change"])
        for product in market["products"]:
            p = product[figure]
            assert p["assumptions"] + p["replanning"] == pytest.approx(p["change"])
    # by hand: the plan in force sells A = 10 a period (revenue 2,000 over the two periods); the plan
    # LP sells B = 4, A = 6 (revenue 960 a period); under the freeze February's demand is B = 2, A = 10,
    # so the rep sells B = 2 and A = 8 (980): re-planning 1,920 − 2,000 = −80, the freeze 1,940 − 1,920 = +20
    rev = market["revenue"]
    assert rev["in_force"] == pytest.approx(2000.0)
    assert rev["replanning"] == pytest.approx(-80.0)
    assert rev["assumptions"] == pytest.approx(20.0)
    assert market["sentence"] == "Market −3 % revenue: demand × 0.5 from 2026-02 (freeze) +1 %, re-planning −4 %"


def write(tmp_path, tables):
    write_tables(tables, tmp_path / "ds")
    return tmp_path / "ds"


def test_cli_writes_a_plan_that_reproduces_the_efficiency_and_the_pay_impact(tmp_path):
    folder = write(tmp_path, rules_tables())
    out = tmp_path / "out"
    result = runner.invoke(app, ["recommend", str(folder), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"frontier", "pay_impact", "changes", "attribution"} <= set(payload)
    again = runner.invoke(app, ["simulate", str(folder), str(out / "plan"), "--json", "--out", str(tmp_path / "sim")])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["alignment_efficiency"] == pytest.approx(payload["alignment"]["recommended"])
    # the pay impact recomputed by the payout calculator from the simulated orders of the written plan
    dataset = load_dataset(folder)
    params = effective_parameters(dataset)
    plan = load_plan(out / "plan", dataset)
    orders = pd.read_csv(tmp_path / "sim" / "simulated_orders.csv", dtype={"period": str})
    summary, _ = payout_calculator(params, plan, orders)
    open_pay = summary[summary["period"].isin(params.open_periods)].groupby("rep_id")["pay"].sum()
    impact = pd.read_csv(out / "pay_impact.csv").set_index("rep_id")
    for rep, pay in open_pay.items():
        assert impact.loc[rep, "recommended_pay"] == pytest.approx(pay)
    assert len(open_pay) == len(impact) == 1
    assert (impact["change_share"] >= -0.05 - 1e-9).all()


def test_cli_exit_1_names_the_rule_that_cannot_be_met(tmp_path):
    folder = write(tmp_path, two_component_tables())
    result = runner.invoke(app, ["recommend", str(folder), "--max-components", "1", "--curve-cap", "1,1.2",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "rules_unmet" in result.output and "max_pay_cut" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag, value, key", [
    ("--max-components", "0", "max_components"),
    ("--max-pay-cut", "1", "max_pay_cut"),
    ("--max-pay-cut", "-0.1", "max_pay_cut"),
    ("--curve-cap", "3,1", "curve_cap"),
    ("--curve-threshold", "-0.1,0.5", "curve_threshold"),
    ("--curve-slope-above-target", "2,1", "curve_slope_above_target"),
    ("--max-weight-change", "-1", "max_weight_change"),
    ("--min-quota-coverage", "1.2", "min_quota_coverage"),
    ("--min-quota-coverage", "-0.5", "min_quota_coverage"),
    ("--objective", "profit", "objective"),
])
def test_cli_bad_rule_flags_exit_2_naming_the_key(tmp_path, flag, value, key):
    folder = write(tmp_path, rules_tables())
    result = runner.invoke(app, ["recommend", str(folder), flag, value, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert key in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key, value", [
    ("max_components", 0), ("max_components", 1.5), ("max_components", "four"), ("max_pay_cut", 1.0),
    ("max_pay_cut", -0.01), ("curve_threshold", [0.5, 0.1]), ("curve_threshold", [-0.1, 0.5]),
    ("curve_cap", [0.5, 2.0]), ("curve_slope_above_target", [0, -1]), ("curve_cap", "wide"),
    ("min_quota_coverage", 2), ("min_quota_coverage", "most"), ("objective", "profit"), ("objective", 3),
])
def test_company_yaml_bad_rules_name_the_key(key, value):
    tables = rules_tables(company={key: value})
    with pytest.raises(InputError) as error:
        dataset_from_tables(tables)
    assert error.value.problems[0].column == key and error.value.problems[0].file == "company.yaml"


def test_company_yaml_rules_are_read():
    dataset = dataset_from_tables(rules_tables(company={"max_components": 2, "max_pay_cut": 0.1,
                                                        "curve_cap": [1.0, 2.0]}))
    rules = dataset.company.rules
    assert (rules.max_components, rules.max_pay_cut, rules.curve_family.cap) == (2, 0.1, (1.0, 2.0))
    assert Rules() == dataset_from_tables(rules_tables()).company.rules
    other = dataset_from_tables(rules_tables(company={"objective": "margin", "min_quota_coverage": 0.8})).company.rules
    assert (other.objective, other.min_quota_coverage) == ("margin", 0.8)
    assert (Rules().objective, Rules().min_quota_coverage) == ("net_margin", 0.9)


@pytest.mark.slow
@pytest.mark.parametrize("reps, products, markets, seed", [(50, 8, 6, 101), (120, 10, 5, 7)])
def test_generated_companies_keep_the_rules_and_beat_the_plan_in_force(reps, products, markets, seed):
    from models.synthetic import synthetic_tables
    from optimizer.alignment.response import simulate

    dataset = dataset_from_tables(synthetic_tables(reps=reps, products=products, markets=markets, periods=12,
                                                   seed=seed, closed_periods=3))
    rec = recommend(dataset)
    assert rec.status == "optimal", rec.message
    rules = dataset.company.rules
    assert len(rec.plan.component_ids) <= rules.max_components
    assert rec.pay_impact["max_cut"] >= -rules.max_pay_cut - 1e-9
    by_plan = rec.comparison.set_index("plan")
    assert by_plan.loc["recommended", "net_margin"] >= by_plan.loc["in_force", "net_margin"] - 1e-6, rec.comparison
    again = simulate(dataset, rec.plan)  # its own plan LP, its own simulation
    assert again.alignment_efficiency == pytest.approx(rec.alignment["recommended"], abs=1e-9)
