"""The history a calibration reads (models/history.py): bad actuals and bad plans maps name file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from models.dataset import load_dataset
from models.errors import InputError
from models.history import default_spans, load_history, load_plan_map, stored_history

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "sample"


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE)


@pytest.fixture(scope="module")
def narrow(sample):
    """The sample with R01 and R02 no longer allowed to sell twin-cloud (every sample rep sells everything)."""
    from dataclasses import replace

    rp = sample.rep_products
    keep = ~(rp["rep_id"].isin(["R01", "R02"]) & (rp["product_id"] == "twin-cloud"))
    actuals = sample.actuals[~(sample.actuals["rep_id"].isin(["R01", "R02"])
                               & (sample.actuals["product_id"] == "twin-cloud"))]
    return replace(sample, rep_products=rp[keep].reset_index(drop=True), actuals=actuals.reset_index(drop=True))


def write_history(tmp_path: Path, rows: list[dict]) -> Path:
    file = tmp_path / "history.csv"
    pd.DataFrame(rows, columns=["rep_id", "product_id", "period", "orders", "calls", "meetings", "quotes"]).to_csv(
        file, index=False)
    return file


def problem_of(error: pytest.ExceptionInfo) -> str:
    return str(error.value)


def test_the_sample_history_loads_with_the_plan_in_force(sample):
    history = load_history(sample)
    assert len(history) == len(sample.actuals)
    spans = default_spans(sample, history)
    assert spans[0].periods == ("2026-01", "2026-02", "2026-03") and spans[0].plan is sample.plan


def test_empty_history_is_refused(sample, tmp_path):
    file = write_history(tmp_path, [])
    with pytest.raises(InputError) as error:
        load_history(sample, file)
    assert str(file) in problem_of(error) and "no rows" in problem_of(error)


def test_history_without_orders_is_refused(sample, tmp_path):
    file = write_history(tmp_path, [{"rep_id": "R01", "product_id": "plc-classic", "period": "2026-01", "orders": 0,
                                     "calls": 4, "meetings": 1, "quotes": 0}])
    with pytest.raises(InputError, match="no orders"):
        load_history(sample, file)


def test_periods_outside_the_dataset_and_open_periods_name_line_and_column(sample, tmp_path):
    file = write_history(tmp_path, [
        {"rep_id": "R01", "product_id": "plc-classic", "period": "2026-01", "orders": 1, "calls": 0, "meetings": 0, "quotes": 1},
        {"rep_id": "R01", "product_id": "plc-classic", "period": "2031-01", "orders": 1, "calls": 0, "meetings": 0, "quotes": 1},
        {"rep_id": "R01", "product_id": "plc-classic", "period": "2026-05", "orders": 1, "calls": 0, "meetings": 0, "quotes": 1},
    ])
    with pytest.raises(InputError) as error:
        load_history(sample, file)
    lines = {(p.line, p.column) for p in error.value.problems}
    assert (3, "period") in lines and (4, "period") in lines
    assert "not closed" in problem_of(error) and "2031-01" in problem_of(error)


def test_orders_on_a_product_the_rep_may_not_sell_name_line_and_column(narrow, tmp_path):
    file = write_history(tmp_path, [
        {"rep_id": "R01", "product_id": "twin-cloud", "period": "2026-02", "orders": 2, "calls": 0, "meetings": 0,
         "quotes": 2}])
    with pytest.raises(InputError) as error:
        load_history(narrow, file)
    (problem,) = error.value.problems
    assert (problem.file, problem.line, problem.column) == (str(file), 2, "product_id")
    assert "may not sell" in problem.message


def test_stored_actuals_name_the_row_by_its_key(narrow):
    from dataclasses import replace

    bad = pd.concat([narrow.actuals, pd.DataFrame([{"rep_id": "R02", "product_id": "twin-cloud", "period": "2026-01",
                                                    "orders": 1.0, "calls": 0.0, "meetings": 0.0, "quotes": 1.0}])],
                    ignore_index=True)
    with pytest.raises(InputError) as error:
        stored_history(replace(narrow, actuals=bad))
    assert "rep R02, product twin-cloud, period 2026-01" in problem_of(error)


# --- plans maps -------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("assumptions", "README.md"))
    shutil.copytree(SAMPLE / "plan", target / "plans" / "old")
    return target


def write_map(folder: Path, text: str) -> Path:
    file = folder / "plans.yaml"
    file.write_text(text)
    return file


def test_a_plans_map_splits_the_history(folder, sample):
    file = write_map(folder, "plans:\n  - periods: {from: 2026-01, to: 2026-01}\n    plan: plans/old\n"
                             "  - periods: {from: 2026-02}\n    plan: plan\n")
    spans = load_plan_map(file, sample, load_history(sample))
    assert [s.periods for s in spans] == [("2026-01",), ("2026-02", "2026-03")]


@pytest.mark.parametrize("text, line, key, words", [
    ("plans:\n  - periods: {from: 2026-01, to: 2026-01}\n    plan: plans/old\n"
     "  - periods: {from: 2026-03}\n    plan: plan\n", None, "plans", "2026-02"),  # a gap
    ("plans:\n  - periods: {from: 2026-01, to: 2026-02}\n    plan: plans/old\n"
     "  - periods: {from: 2026-02}\n    plan: plan\n", 4, "plans[1].periods", "overlap"),
    ("plans:\n  - periods: {from: 2025-11}\n    plan: plan\n", 2, "plans[0].periods.from", "unknown period"),
    ("plans:\n  - periods: {from: 2026-01, to: 2026-06}\n    plan: plan\n", 2, "plans[0].periods", "not closed"),
    ("plans:\n  - periods: {from: 2026-01}\n    plan: plans/missing\n", 2, "plans[0].plan", "not found"),
    ("plans:\n  - periods: [2026-01]\n    plan: plan\n", 2, "plans[0].periods", "{from, to}"),
])
def test_bad_plans_maps_name_the_line_and_key(folder, sample, text, line, key, words):
    file = write_map(folder, text)
    with pytest.raises(InputError) as error:
        load_plan_map(file, sample, load_history(sample))
    matches = [p for p in error.value.problems if p.column == key and p.line == line]
    assert matches, [str(p) for p in error.value.problems]
    assert words in matches[0].message
    assert str(file) == matches[0].file
