"""The replay engine (issue 18): exact where it can be, every figure recomputed by a path of its own.

With noise 0 the static policy is the §4.5 simulation of the plan in force under the world (the
public `simulate`, its own parameters and plan LP); one month's actuals are the simulated orders
and their activity through the world's funnel; totals are the sums of the months; the share of the
oracle's gain is recomputed from the totals; the gaming audit's pays are the payout calculator's.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from models.assumptions import AssumptionSet, load_assumptions
from models.dataset import dataset_from_tables, load_dataset, load_plan
from models.errors import InputError
from models.synthetic import synthetic_tables
from optimizer.alignment.payout import pay as payout_calculator
from optimizer.alignment.response import simulate
from optimizer.parameters import effective_parameters
from optimizer.replay import POLICIES, ReplayOptions, check_options, check_world, estimate_size, run_replay
from optimizer.replay.engine import Task, noise_factors, review_periods, run_task

SAMPLE = "datasets/sample"


@pytest.fixture(scope="module")
def sample():
    dataset = load_dataset(SAMPLE)
    return dataset, load_assumptions(f"{SAMPLE}/assumptions/south-freeze.yaml", dataset)


def small_company(periods: int = 4, closed: int = 1, reps: int = 12, seed: int = 7):
    return dataset_from_tables(synthetic_tables(reps=reps, products=3, markets=2, periods=periods, seed=seed,
                                                closed_periods=closed))


def freeze(dataset, factor: float = 0.5) -> AssumptionSet:
    return AssumptionSet.model_validate({"name": "freeze", "adjustments": [
        {"markets": [dataset.market_ids[0]], "periods": {"from": dataset.company.open_periods[0]}, "demand": factor}]})


def test_static_with_no_noise_is_the_simulation_of_the_plan_in_force_under_the_world(sample):
    dataset, world = sample
    result = run_replay(dataset, world, ReplayOptions(policies=("static",), gaming_reps=0))
    static = result.to_dict()["policies"][0]
    sim = simulate(dataset, dataset.plan, world)  # its own parameters, plan LP and scoring
    assert static["total"]["margin"] == pytest.approx(sim.margin, rel=1e-9)
    assert static["total"]["revenue"] == pytest.approx(sim.revenue, rel=1e-9)
    assert static["total"]["pay"] == pytest.approx(sim.pay_cost, rel=1e-9)
    assert static["total"]["net_margin"] == pytest.approx(sim.net_margin, rel=1e-9)
    # per month: the simulation's orders of that month at the world's prices and costs
    params = effective_parameters(dataset, world)
    assert [m["period"] for m in static["months"]] == list(dataset.company.open_periods)
    assert sum(m["margin"] for m in static["months"]) == pytest.approx(static["total"]["margin"], rel=1e-12)
    assert static["months"][-1]["cumulative_net_margin"] == pytest.approx(static["total"]["net_margin"], rel=1e-12)
    # pay of each month is the payout calculator on that month's simulated orders
    summary, _ = payout_calculator(params, dataset.plan, sim.orders)
    monthly_pay = summary.groupby("period")["pay"].sum()
    for month in static["months"]:
        assert month["pay"] == pytest.approx(monthly_pay[month["period"]], rel=1e-9)
    assert static["reviews_run"] == 0 and static["plans_accepted"] == 0 and static["share_of_oracle_gain"] is None


def test_one_months_actuals_are_the_simulated_orders_and_their_funnel(sample):
    dataset, world = sample
    task = Task(dataset, world, "static", 0, ReplayOptions(policies=("static",)), plan_margin=1.0)
    run = run_task(task)
    first = dataset.company.open_periods[0]
    sim = simulate(dataset, dataset.plan, world)
    expected = sim.orders[sim.orders["period"] == first].set_index(["rep_id", "product_id"])["orders"]
    actuals = run.actuals[run.actuals["period"] == first].set_index(["rep_id", "product_id"])
    got = actuals["orders"][actuals["orders"] > 1e-9]
    assert set(got.index) == set(expected.index)
    assert np.allclose(got.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)
    funnel = dataset.funnel.set_index(["market_id", "product_id"])
    market = dataset.reps.set_index("rep_id")["market_id"]
    for (rep, product), row in actuals.head(40).iterrows():
        f = funnel.loc[(market[rep], product)]  # the south freeze changes demand, not the funnel
        assert row["quotes"] == pytest.approx(row["orders"] / f["quote_to_order"], rel=1e-12, abs=1e-12)
        assert row["meetings"] == pytest.approx(row["quotes"] / f["meeting_to_quote"], rel=1e-12, abs=1e-12)
        assert row["calls"] == pytest.approx(row["meetings"] / f["call_to_meeting"], rel=1e-12, abs=1e-12)


def test_noise_is_mean_one_log_normal_and_common_to_all_policies():
    options = ReplayOptions(noise=0.3, seed=4)
    a = noise_factors(options, 0, (200, 10, 9))
    assert np.array_equal(a, noise_factors(options, 0, (200, 10, 9)))  # same seed, same luck
    assert not np.array_equal(a, noise_factors(options, 1, (200, 10, 9)))
    assert np.log(a).std() == pytest.approx(0.3, rel=0.03)
    assert a.mean() == pytest.approx(1.0, abs=0.01)
    assert np.array_equal(noise_factors(ReplayOptions(), 0, (3, 2, 2)), np.ones((3, 2, 2)))


def test_quarterly_reviews_at_calendar_quarter_ends_and_monthly_after_every_month_but_the_last(sample):
    dataset, _ = sample
    assert review_periods(dataset, "quarterly") == ["2026-06", "2026-09"]
    assert review_periods(dataset, "monthly") == [f"2026-{m:02d}" for m in range(4, 12)]
    assert review_periods(dataset, "static") == [] and review_periods(dataset, "oracle") == []


@pytest.mark.slow
def test_a_replanning_replay_on_a_small_company_adds_up():
    dataset = small_company()
    world = freeze(dataset)
    result = run_replay(dataset, world, ReplayOptions(policies=POLICIES, gaming_reps=2))
    data = result.to_dict()
    json.dumps(data)  # JSON-ready
    by = {p["policy"]: p for p in data["policies"]}
    static, oracle = by["static"]["total"]["net_margin"], by["oracle"]["total"]["net_margin"]
    for p in data["policies"]:
        months = p["months"]
        for key in ("margin", "revenue", "pay", "net_margin"):
            assert p["total"][key] == pytest.approx(sum(m[key] for m in months), rel=1e-12)
        assert p["total"]["net_margin"] == pytest.approx(p["total"]["margin"] - p["total"]["pay"], rel=1e-12)
        if abs(oracle - static) > 1e-6:
            assert p["share_of_oracle_gain"] == pytest.approx((p["total"]["net_margin"] - static) / (oracle - static))
        assert p["plans_accepted"] <= p["reviews_run"]
        assert all(d["accepted"] == (d["expected_gain"] is not None and d["expected_gain"] > 0.005 * data["plan_margin"])
                   for d in p["decisions"])
    assert by["monthly"]["reviews_run"] == len(dataset.company.open_periods) - 1
    assert [g["policy"] for g in data["gaming"]] == ["quarterly", "monthly"]
    for audit in data["gaming"]:
        assert len(audit["reps"]) == 2
        for row in audit["reps"]:
            assert row["gain"] == pytest.approx(row["pay_holding_back"] - row["pay_honest"])
        assert audit["rewarded"] == [r["rep_id"] for r in audit["reps"] if r["gain"] > 0.01]
    size = estimate_size(dataset, ReplayOptions(gaming_reps=2))
    assert size["reviews"] == by["monthly"]["reviews_run"] + by["quarterly"]["reviews_run"] + 1


def test_write_puts_replay_json_months_csv_and_the_accepted_plans(tmp_path):
    dataset = small_company(periods=6)
    world = freeze(dataset)
    result = run_replay(dataset, world, ReplayOptions(policies=("static", "oracle"), gaming_reps=0))
    result.write(tmp_path)
    assert json.loads((tmp_path / "replay.json").read_text()) == json.loads(json.dumps(result.to_dict()))
    months = pd.read_csv(tmp_path / "months.csv")
    assert list(months.columns) == ["policy", "seed", "period", "margin", "revenue", "pay", "net_margin"]
    assert len(months) == 2 * len(dataset.company.open_periods)
    oracle = next(p for p in result.to_dict()["policies"] if p["policy"] == "oracle")
    assert oracle["plans_accepted"] == 1  # knowing the freeze, the review finds a better plan
    if oracle["plans_accepted"]:
        folder = tmp_path / "plans" / "oracle" / "0" / dataset.company.current_period
        plan = load_plan(folder, dataset)
        assert len(plan.targets) > 0
        reviewed_under = load_assumptions(folder / "assumptions.json", dataset)
        assert reviewed_under == world  # the oracle reviews under the world itself


@pytest.mark.parametrize("change, key", [
    ({"noise": -0.1}, "noise"), ({"seeds": 0}, "seeds"), ({"policies": ("weekly",)}, "policies[0]"),
    ({"policies": ()}, "policies"), ({"accept_threshold": -1.0}, "accept_threshold"),
    ({"gaming_reps": -1}, "gaming_reps"), ({"noise": float("nan")}, "noise"),
])
def test_bad_options_name_the_key(change, key):
    with pytest.raises(InputError) as error:
        check_options(ReplayOptions(**change))
    assert any(p.column == key for p in error.value.problems)


def test_bad_worlds_name_the_key(sample):
    dataset, _ = sample
    cases = [
        ({"markets": ["atlantis"], "demand": 0.5}, "adjustments[0].markets[0]"),
        ({"products": ["warp-drive"], "demand": 0.5}, "adjustments[0].products[0]"),
        ({"periods": {"from": "2031-01"}, "demand": 0.5}, "adjustments[0].periods.from"),
        ({"periods": ["2026-01", "2026-02"], "demand": 0.5}, "adjustments[0].periods"),  # only closed months
    ]
    for adjustment, key in cases:
        world = AssumptionSet.model_validate({"name": "bad", "adjustments": [adjustment]})
        with pytest.raises(InputError) as error:
            check_world(dataset, world)
        assert any(p.column == key for p in error.value.problems), (key, str(error.value))
    from dataclasses import replace
    closed = replace(dataset, company=replace(dataset.company, current_period=dataset.company.periods[-1]))
    with pytest.raises(InputError) as error:
        check_world(closed, AssumptionSet(name="fine"))
    assert error.value.problems[0].column == "current_period"


def test_progress_rises_to_one_and_a_time_limit_stops_the_replay(sample):
    dataset, world = sample
    seen = []
    run_replay(dataset, world, ReplayOptions(policies=("static",), seeds=2, gaming_reps=0),
               progress=lambda phase, done: seen.append((phase, done)))
    shares = [done for _, done in seen]
    assert shares == sorted(shares) and shares[-1] == 1.0 and seen[-1][0] == "done"
    assert sum(1 for phase, _ in seen if phase == "replays") >= 2 * len(dataset.company.open_periods)
    from optimizer.replay.engine import ReplayTimeout
    with pytest.raises(ReplayTimeout):
        run_replay(dataset, world, ReplayOptions(policies=("static",), gaming_reps=0, time_limit_s=1e-6))


def test_holding_back_moves_a_fifth_of_the_first_months_orders_to_the_second_and_keeps_the_calls(sample):
    dataset, world = sample
    options = ReplayOptions(policies=("static",))
    honest = run_task(Task(dataset, world, "static", 0, options, plan_margin=1.0))
    rep = dataset.rep_ids[4]
    held = run_task(Task(dataset, world, "static", 0, options, plan_margin=1.0, holdback=rep))
    first, second = dataset.company.open_periods[:2]
    key = ["period", "rep_id", "product_id"]
    a, b = (r.actuals.set_index(key) for r in (honest, held))
    mine = a.index.get_level_values("rep_id") == rep
    others = ~mine
    assert np.allclose(b[others].to_numpy(float), a[others].to_numpy(float), rtol=0, atol=0)
    h1, g1 = a.loc[first].loc[rep], b.loc[first].loc[rep]
    h2, g2 = a.loc[second].loc[rep], b.loc[second].loc[rep]
    assert h1["orders"].sum() > 0
    assert np.allclose(g1["orders"], 0.8 * h1["orders"], rtol=1e-12)
    assert np.allclose(g2["orders"], h2["orders"] + 0.2 * h1["orders"], rtol=1e-12)
    assert np.allclose(g1["calls"], h1["calls"]) and np.allclose(g2["calls"], h2["calls"])
    # the year pay with and without, by the payout calculator on those orders
    params = effective_parameters(dataset, world)
    for run in (honest, held):
        summary, _ = payout_calculator(params, dataset.plan, run.actuals[["rep_id", "product_id", "period", "orders"]])
        year = summary[summary["rep_id"] == rep]["pay"].sum()
        assert run.rep_pay[dataset.rep_ids.index(rep)].sum() == pytest.approx(year, rel=1e-9)
