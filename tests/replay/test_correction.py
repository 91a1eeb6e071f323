"""The correction system (issue 18 item 2): pace → market × product factors, never one rep's ratchet."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from models.assumptions import AssumptionSet, load_assumptions
from models.dataset import dataset_from_tables, load_dataset
from models.errors import InputError
from models.synthetic import synthetic_tables
from optimizer.alignment.recommend import recommend
from optimizer.correction import MIN_REPS, correct
from optimizer.executor import SerialExecutor
from optimizer.replay import ReplayOptions
from optimizer.replay.engine import ACTUALS_COLUMNS, Task, run_task

runner = CliRunner()


@pytest.fixture(scope="module")
def honest():
    """A 12-rep company one month into its year, its actuals exactly the reps' answer to the plan in force."""
    dataset = dataset_from_tables(synthetic_tables(reps=12, products=3, markets=2, periods=4, seed=7, closed_periods=1))
    run = run_task(Task(dataset, AssumptionSet(name="as-planned"), "static", 0, ReplayOptions(policies=("static",)),
                        plan_margin=1.0))
    month = dataset.company.open_periods[0]
    rows = run.actuals[run.actuals["period"] == month]
    closed = replace(dataset, company=replace(dataset.company, current_period=month),
                     actuals=pd.concat([dataset.actuals[ACTUALS_COLUMNS], rows], ignore_index=True))
    return closed, month


def with_orders_scaled(dataset, month, factor, reps):
    actuals = dataset.actuals.copy()
    mask = (actuals["period"] == month) & actuals["rep_id"].isin(reps)
    actuals.loc[mask, "orders"] *= factor  # the calls happened; the orders did not
    return replace(dataset, actuals=actuals)


def test_one_reps_shortfall_alone_changes_neither_the_correction_nor_that_reps_targets(honest):
    dataset, month = honest
    reps = dataset.reps
    market = reps["market_id"].value_counts().index[0]
    rep = reps[reps["market_id"] == market]["rep_id"].iloc[0]
    sold = dataset.actuals[(dataset.actuals["period"] == month) & (dataset.actuals["rep_id"] == rep)]["orders"].sum()
    assert sold > 1  # the shortfall below is material: 40 % of what the rep sold
    short = with_orders_scaled(dataset, month, 0.6, [rep])
    before, after = correct(dataset), correct(short)
    assert after.assumptions == before.assumptions
    assert all(not adj.reps for adj in after.assumptions.adjustments)  # market × product factors only
    # a pooled (sum over reps) estimator would have moved: the evidence's totals do see the shortfall
    moved = [(a, b) for a, b in zip(before.evidence, after.evidence)
             if a["market"] == market and a["factor"] == "demand" and a["orders_actual"] != b["orders_actual"]]
    assert moved and all(b["orders_actual"] < a["orders_actual"] for a, b in moved)
    # the review under the proposed set therefore sets that rep the same targets
    plans = [recommend(d, c.assumptions, rule_prices=False, executor=SerialExecutor()).plan
             for d, c in ((dataset, before), (short, after))]
    targets = [p.targets[p.targets["rep_id"] == rep].sort_values(["component_id", "period"])["target"].to_numpy()
               for p in plans]
    assert np.array_equal(targets[0], targets[1])


def test_a_market_wide_shortfall_lowers_that_markets_demand_and_no_other(honest):
    dataset, month = honest
    reps = dataset.reps
    market = reps["market_id"].value_counts().index[0]
    members = list(reps[reps["market_id"] == market]["rep_id"])
    assert len(members) >= MIN_REPS
    before = {(e["market"], e["product"], e["factor"]): e for e in correct(dataset).evidence}
    after = {(e["market"], e["product"], e["factor"]): e
             for e in correct(with_orders_scaled(dataset, month, 0.5, members)).evidence}
    lowered = [k for k in after if k[0] == market and k[2] == "demand" and after[k]["value"] < before[k]["value"]]
    assert lowered, "a market at half its expected orders must get a lower demand factor"
    for key, e in after.items():
        if key[0] != market:
            assert e == before[key]
        if e["value"] != 1.0:
            assert 0 < e["shrinkage"] < 0.5 + 1e-12  # one or two months of evidence: cautious
            assert e["reps"] >= MIN_REPS
    for key in lowered:  # shrunk toward 1: never the full raw ratio
        assert after[key]["ratio"] < after[key]["value"] < 1.0


def test_no_open_period_is_bad_input(honest):
    dataset, _ = honest
    done = replace(dataset, company=replace(dataset.company, current_period=dataset.company.periods[-1]))
    with pytest.raises(InputError) as error:
        correct(done)
    assert error.value.problems[0].column == "current_period"


def test_correct_on_the_command_line_writes_a_set_that_loads(tmp_path):
    out = tmp_path / "proposed.yaml"
    result = runner.invoke(app, ["correct", "datasets/sample", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    dataset = load_dataset("datasets/sample")
    loaded = load_assumptions(out, dataset)
    assert loaded.model_dump(mode="json", by_alias=True, exclude_none=True) == body["assumptions"]
    proposed = [e for e in body["evidence"] if e["value"] != 1.0]
    assert len(loaded.adjustments) == len({(e["market"], e["product"]) for e in proposed})
    for adj in loaded.adjustments:
        assert adj.periods.start == dataset.company.open_periods[0] and not adj.reps


def test_correct_exits_2_when_no_period_is_open(tmp_path):
    folder = tmp_path / "done"
    shutil.copytree("datasets/sample", folder)
    company = yaml.safe_load((folder / "company.yaml").read_text())
    company["current_period"] = company["periods"][-1]
    (folder / "company.yaml").write_text(yaml.safe_dump(company))
    out = tmp_path / "never.yaml"
    result = runner.invoke(app, ["correct", str(folder), "--out", str(out)])
    assert result.exit_code == 2
    assert "current_period" in result.output and not out.exists()
