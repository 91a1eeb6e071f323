"""CRM exports into actuals.csv (models/crm_import.py): the shipped example round-trips; every bad line is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from models.crm_import import combine, import_transactions, load_column_map
from models.dataset import load_dataset
from models.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE, CRM = ROOT / "datasets" / "sample", ROOT / "datasets" / "crm"
MEASURES = ["orders", "calls", "meetings", "quotes"]


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE)


def test_the_example_exports_give_back_the_sample_actuals_of_their_reps(sample):
    results = [import_transactions(CRM / f"{name}.csv", load_column_map(CRM / f"{name}-map.yaml", sample), sample)
               for name in ("opportunities", "activities")]
    imported = combine(results, list(sample.company.periods))
    # independent path: the sample's own rows for the two reps the exports cover
    expected = sample.actuals[sample.actuals["rep_id"].isin(["R01", "R02"]) & (sample.actuals["product_id"] != "*")]
    merged = expected.merge(imported, on=["rep_id", "product_id", "period"], how="outer", suffixes=("", "_imported"))
    assert len(merged) == len(expected) == len(imported)
    for measure in MEASURES:
        assert (merged[measure] == merged[f"{measure}_imported"]).all(), measure
    assert results[0].left_out > 0  # the lost deals
    assert results[1].left_out > 0  # the e-mails


def export(tmp_path: Path, rows: list[list[str]]) -> Path:
    file = tmp_path / "export.csv"
    pd.DataFrame(rows, columns=["Line ID", "Opportunity Owner", "Product Code", "Close Date", "Quantity", "Stage"]).to_csv(
        file, index=False)
    return file


GOOD = ["L1", "Astrid Lindqvist", "PLC-S5", "03/01/2026", "2", "Closed Won"]


@pytest.mark.parametrize("row, column, words", [
    (["L2", "Nobody Known", "PLC-S5", "03/01/2026", "1", "Closed Won"], "Opportunity Owner", "unknown owner"),
    (["L2", "R01", "XX-1", "03/01/2026", "1", "Closed Won"], "Product Code", "unknown product"),
    (["L2", "R01", "PLC-S5", "31/02/2026", "1", "Closed Won"], "Close Date", "cannot read the date"),
    (["L2", "R01", "PLC-S5", "03/01/2024", "1", "Closed Won"], "Close Date", "falls in no period"),
    (["L2", "R01", "PLC-S5", "03/07/2026", "1", "Closed Won"], "Close Date", "not closed"),
    (["L2", "R01", "PLC-S5", "03/01/2026", "-1", "Closed Won"], "Quantity", "must be a number"),
    (["L2", "R01", "PLC-S5", "03/01/2026", "1", "Won?"], "Stage", "not listed"),
    (["L1", "R01", "PLC-S5", "04/01/2026", "1", "Closed Won"], "Line ID", "duplicate of line 2"),
])
def test_a_bad_line_is_named_by_file_line_and_column(sample, tmp_path, row, column, words):
    file = export(tmp_path, [GOOD, row])
    column_map = load_column_map(CRM / "opportunities-map.yaml", sample)
    with pytest.raises(InputError) as error:
        import_transactions(file, column_map, sample)
    (problem,) = error.value.problems
    assert (problem.file, problem.line, problem.column) == (str(file), 3, column)
    assert words in problem.message


def test_skip_unknown_counts_and_lists_the_bad_lines(sample, tmp_path):
    file = export(tmp_path, [GOOD, ["L2", "Nobody Known", "PLC-S5", "03/01/2026", "1", "Closed Won"],
                             ["L3", "Nobody Known", "PLC-S5", "05/01/2026", "1", "Closed Won"],
                             ["L4", "R01", "PLC-S5", "bad date", "1", "Closed Won"], GOOD])
    result = import_transactions(file, load_column_map(CRM / "opportunities-map.yaml", sample), sample,
                                 skip_unknown=True)
    assert result.skipped["unknown owners"] == {"count": 2, "examples": ["Nobody Known"]}
    assert result.skipped["unparsable dates"]["count"] == 1
    assert result.skipped["duplicate lines"]["count"] == 1
    (row,) = result.actuals.to_dict(orient="records")
    assert (row["rep_id"], row["product_id"], row["period"], row["orders"], row["quotes"]) == (
        "R01", "plc-classic", "2026-01", 2.0, 2.0)


def test_a_product_the_rep_may_not_sell_is_refused(sample, tmp_path):
    from dataclasses import replace

    rp = sample.rep_products
    narrow = replace(sample, rep_products=rp[~((rp["rep_id"] == "R01") & (rp["product_id"] == "plc-classic"))])
    file = export(tmp_path, [GOOD])
    with pytest.raises(InputError, match="may not sell") as error:
        import_transactions(file, load_column_map(CRM / "opportunities-map.yaml", narrow), narrow)
    assert error.value.problems[0].column == "Product Code"


@pytest.mark.parametrize("text, key", [
    ("kind: leads\n", "kind"),
    ("kind: opportunities\ncolumns: {owner: A, product: B, date: C}\nstages: {order: [Won]}\n", "columns.stage"),
    ("kind: opportunities\ncolumns: {owner: A, product: B, date: C, stage: D}\nstages: {won: [Won]}\n", "stages.won"),
    ("kind: opportunities\ncolumns: {owner: A, product: B, date: C, stage: D}\nstages: {order: [Won]}\n"
     "owners: {Anna: R999}\n", "owners.Anna"),
    ("kind: opportunities\ncolumns: {owner: A, product: B, date: C, stage: D, colour: E}\nstages: {order: [Won]}\n",
     "columns.colour"),
])
def test_a_bad_column_map_names_the_key(sample, tmp_path, text, key):
    file = tmp_path / "map.yaml"
    file.write_text(text)
    with pytest.raises(InputError) as error:
        load_column_map(file, sample)
    assert key in {p.column for p in error.value.problems}, [str(p) for p in error.value.problems]


def test_a_mapped_column_missing_from_the_export_is_named(sample, tmp_path):
    file = tmp_path / "export.csv"
    file.write_text("Owner,Product Code,Close Date,Stage\nR01,PLC-S5,03/01/2026,Closed Won\n")
    with pytest.raises(InputError) as error:
        import_transactions(file, load_column_map(CRM / "opportunities-map.yaml", sample), sample)
    assert {"Opportunity Owner", "Line ID", "Quantity"} <= {p.column for p in error.value.problems}
    assert all(p.line == 1 for p in error.value.problems)


def test_quarter_periods_take_dates_too(sample, tmp_path):
    from models.crm_import import period_of_dates
    from datetime import datetime

    to_period = period_of_dates(["2026-Q1", "2026-Q2"])
    assert to_period(datetime(2026, 5, 31)) == "2026-Q2" and to_period(datetime(2027, 1, 1)) is None
    shutil.rmtree(tmp_path)
