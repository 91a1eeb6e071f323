"""End to end through the `comptune` command line on the shipped sample company."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from models.dataset import load_dataset, load_plan

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample"
FREEZE = SAMPLE / "assumptions" / "south-freeze.yaml"
runner = CliRunner()


def run_json(*args) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_solve_sample_json_has_the_contract_fields():
    payload = run_json("solve", str(SAMPLE))
    assert payload["status"] == "optimal"
    assert payload["objective"] > 0 and payload["margin"] > 0 and payload["revenue"] > payload["margin"]
    assert payload["variables"] > 1000 and payload["constraints"] > 100
    assert any(b["family"] == "capacity" for b in payload["binding"])


def test_the_freeze_lowers_planned_margin():
    base = run_json("solve", str(SAMPLE))
    frozen = run_json("solve", str(SAMPLE), "--assumptions", str(FREEZE))
    assert frozen["margin"] < base["margin"]


def test_solve_writes_kpi_targets_and_a_plan_that_loads_back(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(SAMPLE), "--assumptions", str(FREEZE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    kpis = pd.read_csv(out / "kpi_targets.csv")
    assert {"rep_id", "product_id", "period", "orders", "quotes", "meetings", "calls", "revenue", "margin",
            "calls_per_week"} <= set(kpis.columns)
    dataset = load_dataset(SAMPLE)
    plan = load_plan(out / "plan", dataset)  # validates ids against the dataset
    assert set(plan.targets["period"]) == set(dataset.company.periods)  # closed periods keep the targets in force
    open_targets = plan.targets[plan.targets["period"].isin(dataset.company.open_periods)]
    revenue_targets = open_targets[open_targets["component_id"] == "revenue"]["target"].sum()
    assert revenue_targets == pytest.approx(kpis["revenue"].sum(), rel=1e-9)


def test_pay_reproduces_the_plan_in_force_on_q1_actuals(tmp_path):
    payload = run_json("pay", str(SAMPLE), str(SAMPLE / "plan"), str(SAMPLE / "actuals.csv"))
    assert payload["total_pay"] > 0
    dataset = load_dataset(SAMPLE)
    assert {row["period"] for row in payload["pay"]} == set(dataset.company.closed_periods)
    row = payload["pay"][0]
    parts = [d for d in payload["detail"] if d["rep_id"] == row["rep_id"] and d["period"] == row["period"]]
    assert sum(d["pay"] for d in parts) == pytest.approx(row["pay"])


def test_pay_rejects_an_outcomes_file_with_unknown_rep(tmp_path):
    bad = tmp_path / "outcomes.csv"
    bad.write_text("rep_id,product_id,period,orders\nR999,plc-classic,2026-01,1\n")
    result = runner.invoke(app, ["pay", str(SAMPLE), str(SAMPLE / "plan"), str(bad)])
    assert result.exit_code == 2
    assert "line 2, column 'rep_id': unknown rep 'R999'" in result.output


def test_generate_writes_a_dataset_that_solves(tmp_path):
    out = tmp_path / "gen"
    result = runner.invoke(app, ["generate", "--reps", "12", "--products", "4", "--markets", "2",
                                 "--periods", "6", "--closed", "2", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    dataset = load_dataset(out)
    assert len(dataset.reps) == 12 and len(dataset.company.open_periods) == 4
    assert run_json("solve", str(out))["status"] == "optimal"


def test_a_year_with_no_open_period_is_refused_with_the_key_named(tmp_path):
    import shutil

    import yaml

    folder = tmp_path / "closed"
    shutil.copytree(SAMPLE, folder)
    (folder / "actuals.csv").unlink()  # actuals would otherwise have to cover the whole year
    company = yaml.safe_load((folder / "company.yaml").read_text())
    company["current_period"] = company["periods"][-1]
    (folder / "company.yaml").write_text(yaml.safe_dump(company))
    for command in (["solve", str(folder)], ["recommend", str(folder)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "company.yaml, key 'current_period'" in result.output and "no open period" in result.output
    from optimizer.alignment.recommend import recommend

    recommendation = recommend(load_dataset(folder))
    assert recommendation.status == "error" and "no open period" in recommendation.message
