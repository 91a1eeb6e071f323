"""Every class of bad input is rejected with its file, line and column, and the CLI writes nothing."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from models.assumptions import load_assumptions
from models.dataset import load_dataset
from models.errors import InputError

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "sample"
runner = CliRunner()


@pytest.fixture
def sample(tmp_path) -> Path:
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE, target)
    return target


def edit_csv(folder: Path, name: str, line: int, column: str, value) -> None:
    """Set one cell; `line` counts like an editor does (the header is line 1)."""
    frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    frame.loc[line - 2, column] = value
    frame.to_csv(folder / name, index=False)


def error_of(folder: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    return str(caught.value)


def test_the_sample_loads_cleanly():
    dataset = load_dataset(SAMPLE)
    assert len(dataset.reps) >= 40 and len(dataset.products) >= 6 and len(dataset.markets) == 6
    assert dataset.plan is not None and len(dataset.actuals) > 0
    assert dataset.company.current_period == "2026-03"


@pytest.mark.parametrize("file,line,column,value,expected", [
    ("products.csv", 3, "unit_price", "abc", "products.csv, line 3, column 'unit_price': not a number: 'abc'"),
    ("products.csv", 2, "unit_price", "-5", "products.csv, line 2, column 'unit_price': must be ≥ 0 (got '-5')"),
    ("products.csv", 4, "unit_cost", "-1", "products.csv, line 4, column 'unit_cost': must be ≥ 0"),
    ("products.csv", 2, "unit_cost", "nan", "products.csv, line 2, column 'unit_cost': not a number: 'nan'"),
    ("products.csv", 2, "unit_price", "inf", "products.csv, line 2, column 'unit_price': must be finite"),
    ("products.csv", 2, "unit_price", "", "products.csv, line 2, column 'unit_price': value is missing"),
    ("reps.csv", 5, "hours_per_period", "-10", "reps.csv, line 5, column 'hours_per_period': must be ≥ 0"),
    ("demand.csv", 7, "potential_orders", "-3", "demand.csv, line 7, column 'potential_orders': must be ≥ 0"),
    ("funnel.csv", 3, "quote_to_order", "1.5", "funnel.csv, line 3, column 'quote_to_order': must be in (0, 1]"),
    ("funnel.csv", 2, "call_to_meeting", "0", "funnel.csv, line 2, column 'call_to_meeting': must be in (0, 1]"),
    ("reps.csv", 4, "market_id", "atlantis", "reps.csv, line 4, column 'market_id': unknown market 'atlantis'"),
    ("rep_products.csv", 6, "product_id", "warp-drive", "rep_products.csv, line 6, column 'product_id': unknown product 'warp-drive'"),
    ("demand.csv", 2, "period", "2027-01", "demand.csv, line 2, column 'period': unknown period (not listed in company.yaml) '2027-01'"),
    ("plan/targets.csv", 3, "component_id", "bonus", "plan/targets.csv, line 3, column 'component_id': unknown component 'bonus'"),
    ("actuals.csv", 2, "period", "2026-06", "actuals.csv, line 2, column 'period': period '2026-06' is not closed"),
    ("rep_products.csv", 2, "comfort", "0.5", "rep_products.csv, line 2, column 'comfort': must be ≥ 1"),
])
def test_bad_cells_are_located(sample, file, line, column, value, expected):
    edit_csv(sample, file, line, column, value)
    assert expected in error_of(sample)


def test_duplicate_id_is_located(sample):
    frame = pd.read_csv(sample / "products.csv", dtype=str, keep_default_na=False)
    pd.concat([frame, frame.iloc[[0]]]).to_csv(sample / "products.csv", index=False)
    assert f"products.csv, line {len(frame) + 2}, column 'product_id': duplicate product_id=" in error_of(sample)


def test_missing_file_and_missing_column(sample):
    (sample / "funnel.csv").unlink()
    assert "funnel.csv: file is missing" in error_of(sample)
    shutil.copy(SAMPLE / "funnel.csv", sample / "funnel.csv")
    frame = pd.read_csv(sample / "reps.csv").drop(columns=["base_pay"])
    frame.to_csv(sample / "reps.csv", index=False)
    assert "reps.csv, column 'base_pay': required column is missing" in error_of(sample)


def test_company_yaml_keys_are_checked(sample):
    company = yaml.safe_load((sample / "company.yaml").read_text())
    company["comp_budget_rate"] = -0.1
    company["current_period"] = "2030-01"
    company["hours_per_call"] = "slow"
    (sample / "company.yaml").write_text(yaml.safe_dump(company))
    message = error_of(sample)
    assert "company.yaml, key 'comp_budget_rate': must be > 0" in message
    assert "company.yaml, key 'current_period': '2030-01' is not one of the listed periods" in message
    assert "company.yaml, key 'hours_per_call': not a number: 'slow'" in message


def test_funnel_needs_every_market_product_pair(sample):
    frame = pd.read_csv(sample / "funnel.csv")
    frame.iloc[1:].to_csv(sample / "funnel.csv", index=False)
    assert "funnel.csv: no row for market" in error_of(sample)


def test_missing_demand_rows_are_counted_not_rejected(sample):
    frame = pd.read_csv(sample / "demand.csv")
    frame.iloc[5:].to_csv(sample / "demand.csv", index=False)
    assert load_dataset(sample).missing_demand_rows == 5


@pytest.mark.parametrize("adjustment,expected", [
    ({"markets": ["atlantis"], "demand": 0.5}, "key 'adjustments[0].markets[0]': unknown market 'atlantis'"),
    ({"planets": ["mars"], "demand": 0.5}, "key 'adjustments[0].planets': unknown key"),
    ({"markets": ["south"], "demand": 0}, "key 'adjustments[0].demand': must be > 0"),
    ({"markets": ["south"], "price": -1.5}, "key 'adjustments[0].price': must be > 0"),
    ({"markets": ["south"], "cost": float("inf")}, "key 'adjustments[0].cost': must be finite"),
    ({"periods": {"from": "2031-01"}, "demand": 0.5}, "key 'adjustments[0].periods.from': unknown period '2031-01'"),
    ({"products": ["group:quantum"], "demand": 0.5}, "unknown product group 'group:quantum'"),
])
def test_bad_assumptions_are_located(tmp_path, adjustment, expected):
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump({"name": "bad", "adjustments": [adjustment]}))
    with pytest.raises(InputError) as caught:
        load_assumptions(file, load_dataset(SAMPLE))
    assert expected in str(caught.value)


def test_cli_exits_2_on_bad_input_and_writes_nothing(sample, tmp_path):
    edit_csv(sample, "products.csv", 2, "unit_price", "-5")
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(sample), "--out", str(out)])
    assert result.exit_code == 2
    assert "products.csv, line 2, column 'unit_price'" in result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".comptune-")]


def test_cli_rejects_bad_assumptions_with_exit_2(tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_text("name: bad\nadjustments:\n  - markets: [south]\n    demand: -1\n")
    result = runner.invoke(app, ["solve", str(SAMPLE), "--assumptions", str(file), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "adjustments[0].demand" in result.output
    assert not (tmp_path / "out").exists()
