"""`comptune import`, `comptune calibrate` and `comptune generate --history-noise` end to end: bad input
exits 2 naming file, line and column (or key) and writes nothing; a calibration writes a dataset that loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from models.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
SAMPLE, CRM = ROOT / "datasets" / "sample", ROOT / "datasets" / "crm"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A small company with a noisy history under two plans (the plan changed in 2026-05)."""
    out = tmp_path_factory.mktemp("generated") / "company"
    result = invoke("generate", "--reps", "16", "--products", "4", "--markets", "2", "--periods", "10", "--closed", "7",
                    "--seed", "3", "--history-noise", "0.05", "--plan-change", "2026-05", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_generate_writes_the_company_view_the_truth_and_the_plans_map(generated):
    known, truth = load_dataset(generated), load_dataset(generated / "truth")
    assert "skill" not in pd.read_csv(generated / "rep_products.csv").columns
    assert (known.rep_products["skill"] == 1).all() and (known.rep_products["comfort"] == 1).all()
    assert not (truth.rep_products["comfort"] == 1).all()
    assert known.actuals.equals(truth.actuals) and set(known.actuals["period"]) <= set(known.company.closed_periods)
    plans = yaml.safe_load((generated / "plans.yaml").read_text())["plans"]
    assert [p["plan"] for p in plans] == ["history_plans/before", "plan"]
    assert plans[1]["periods"] == {"from": "2026-05", "to": "2026-07"}


def test_calibrate_writes_a_calibrated_dataset_and_its_report(generated, tmp_path):
    out = tmp_path / "calibrated"
    result = invoke("calibrate", str(generated), "--plans", str(generated / "plans.yaml"), "--holdout", "3",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "holdout 2026-05, 2026-06, 2026-07" in result.output
    calibrated = load_dataset(out)  # the same format, validated
    assert not (calibrated.rep_products["comfort"] == 1).all()
    report = json.loads((out / "calibration" / "report.json").read_text())
    assert report["holdout"]["new_plan"]["periods"] == ["2026-05", "2026-06", "2026-07"]
    estimates = pd.read_csv(out / "calibration" / "rep_products_estimates.csv")
    assert len(estimates) == len(calibrated.rep_products)
    assert {"skill", "skill_se", "skill_status", "comfort", "comfort_low", "comfort_high", "comfort_status", "orders",
            "months_sold"} <= set(estimates.columns)
    merged = estimates.merge(calibrated.rep_products, on=["rep_id", "product_id"], suffixes=("", "_written"))
    assert (merged["comfort"] - merged["comfort_written"]).abs().max() < 1e-9


def test_calibrate_json(generated):
    result = invoke("calibrate", str(generated), "--plans", str(generated / "plans.yaml"), "--polish-rounds", "-1",
                    "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["summary"]["history"]["months"] == 7 and payload["summary"]["in_sample_wape"] is None


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "dataset"
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("truth", "assumptions", "README.md"))
    return target


def assert_bad_input(result, *pieces: str) -> None:
    assert result.exit_code == 2, result.output
    for piece in pieces:
        assert piece in result.output, result.output


def test_an_empty_history_exits_2_and_writes_nothing(generated, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("rep_id,product_id,period,orders\n")
    out = tmp_path / "out"
    assert_bad_input(invoke("calibrate", str(generated), "--history", str(empty), "--out", str(out)),
                     str(empty), "no rows")
    assert not out.exists()


def test_periods_outside_the_dataset_exit_2_naming_line_and_column(generated, tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("rep_id,product_id,period,orders\nr0001,p01,2026-01,1\nr0001,p01,2031-04,1\n")
    assert_bad_input(invoke("calibrate", str(generated), "--history", str(history)),
                     str(history), "line 3", "column 'period'", "2031-04")


def test_orders_on_a_product_the_rep_may_not_sell_exit_2(generated, tmp_path):
    folder = copy_of(generated, tmp_path)
    rp = pd.read_csv(folder / "rep_products.csv")
    rp[~((rp["rep_id"] == "r0001") & (rp["product_id"] == "p01"))].to_csv(folder / "rep_products.csv", index=False)
    actuals = pd.read_csv(folder / "actuals.csv")
    others = actuals[~((actuals["rep_id"] == "r0001") & (actuals["product_id"] == "p01"))]
    pd.concat([others, pd.DataFrame([{"rep_id": "r0001", "product_id": "p01", "period": "2026-02", "orders": 1.0,
                                      "calls": 0, "meetings": 0, "quotes": 1}])]).to_csv(folder / "history.csv",
                                                                                          index=False)
    others.to_csv(folder / "actuals.csv", index=False)
    line = len(others) + 2
    assert_bad_input(invoke("calibrate", str(folder), "--history", str(folder / "history.csv")),
                     f"line {line}", "column 'product_id'", "may not sell")


@pytest.mark.parametrize("entries, pieces", [
    ([{"periods": {"from": "2026-01", "to": "2026-03"}, "plan": "history_plans/before"},
      {"periods": {"from": "2026-05"}, "plan": "plan"}], ["'2026-04'", "gap"]),
    ([{"periods": {"from": "2026-01", "to": "2026-05"}, "plan": "history_plans/before"},
      {"periods": {"from": "2026-05"}, "plan": "plan"}], ["line 6", "key 'plans[1].periods'", "overlap"]),
])
def test_a_plans_map_with_a_gap_or_an_overlap_exits_2(generated, tmp_path, entries, pieces):
    mapping = generated / f"bad-{len(pieces[0])}-{entries[0]['periods']['to']}.yaml"
    mapping.write_text(yaml.safe_dump({"plans": entries}, sort_keys=False))
    try:
        out = tmp_path / "out"
        assert_bad_input(invoke("calibrate", str(generated), "--plans", str(mapping), "--out", str(out)), *pieces)
        assert not out.exists()
    finally:
        mapping.unlink()


def test_a_holdout_as_long_as_the_history_exits_2(generated):
    assert_bad_input(invoke("calibrate", str(generated), "--plans", str(generated / "plans.yaml"), "--holdout", "7"),
                     "--holdout", "at least one month")


# --- import -----------------------------------------------------------------------------------


def test_import_writes_actuals_from_the_example_exports(tmp_path):
    out = tmp_path / "actuals.csv"
    result = invoke("import", str(SAMPLE), "--out", str(out),
                    "--transactions", str(CRM / "opportunities.csv"), "--map", str(CRM / "opportunities-map.yaml"),
                    "--transactions", str(CRM / "activities.csv"), "--map", str(CRM / "activities-map.yaml"))
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert set(written["rep_id"]) == {"R01", "R02"} and len(written) == 48


def test_import_of_a_bad_line_exits_2_and_leaves_the_old_file(tmp_path):
    export = tmp_path / "export.csv"
    text = (CRM / "opportunities.csv").read_text().splitlines()
    text.insert(5, "OL-9999,Someone Else,PLC-S5,03/01/2026,1,Closed Won")
    export.write_text("\n".join(text) + "\n")
    out = tmp_path / "actuals.csv"
    out.write_text("old\n")
    result = invoke("import", str(SAMPLE), "--out", str(out), "--transactions", str(export),
                    "--map", str(CRM / "opportunities-map.yaml"))
    assert_bad_input(result, str(export), "line 6", "column 'Opportunity Owner'", "unknown owner 'Someone Else'")
    assert out.read_text() == "old\n"
    skipped = invoke("import", str(SAMPLE), "--out", str(out), "--transactions", str(export),
                     "--map", str(CRM / "opportunities-map.yaml"), "--skip-unknown")
    assert skipped.exit_code == 0, skipped.output
    assert "skipped 1 unknown owners: Someone Else" in skipped.output


def test_import_needs_one_map_per_export(tmp_path):
    assert_bad_input(invoke("import", str(SAMPLE), "--out", str(tmp_path / "a.csv"),
                            "--transactions", str(CRM / "opportunities.csv"),
                            "--transactions", str(CRM / "activities.csv"), "--map", str(CRM / "opportunities-map.yaml")),
                     "one --map per --transactions")
