"""What a first user of the command line trips over (issue 13): which database a service command
uses (and a warning before it creates an empty one in the wrong folder), tables that stay readable
when the output is not a terminal, `comptune pay` showing the intermediate figures, `make run PORT=`."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.table import Table

from api.commands.console import PIPE_WIDTH, TableConsole

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample"
COMPTUNE = str(Path(sys.executable).with_name("comptune"))


def run(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "COMPTUNE_DATABASE_URL"}
    environment.update(env or {})
    return subprocess.run([COMPTUNE, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


def test_a_service_command_says_where_the_database_is_and_warns_when_new(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = run("token", "list", cwd=elsewhere)
    assert first.returncode == 0, first.stderr
    path = str(elsewhere / "comptune.db")
    assert path in first.stderr and "new and empty" in first.stderr
    again = run("token", "list", cwd=elsewhere)
    assert path in again.stderr and "new and empty" not in again.stderr
    by_url = run("token", "list", env={"COMPTUNE_DATABASE_URL": f"sqlite:///{elsewhere / 'other.db'}"})
    assert str(elsewhere / "other.db") in by_url.stderr and "new and empty" in by_url.stderr


def test_describe_database_hides_a_password():
    from api.commands.service import describe_database

    text = describe_database("postgresql+psycopg://comptune:secret@db.example:5432/comptune")
    assert "secret" not in text and "db.example:5432/comptune" in text


def test_tables_keep_one_line_per_row_off_a_terminal():
    buffer = io.StringIO()
    console = TableConsole(file=buffer)  # a file: not a terminal
    assert not console.is_terminal and console.width >= PIPE_WIDTH
    table = Table(title="wide")
    columns = ["plan", "alignment efficiency", "simulated margin", "simulated revenue", "pay cost", "pay ÷ revenue",
               "build + solve ÷ HiGHS alone", "re-solve ÷ HiGHS alone"]
    for column in columns:
        table.add_column(column)
    table.add_row("equal share of gross margin", "76.1 %", "30,251,297", "66,462,652", "1,234,567", "1.9 %", "1.01", "1.06")
    console.print(table)
    lines = buffer.getvalue().splitlines()
    assert any(all(column in line for column in columns) for line in lines)  # the header on one line
    assert any("equal share of gross margin" in line and "1.06" in line for line in lines)


def test_pay_shows_every_intermediate_figure_and_they_add_up(tmp_path):
    """`comptune pay` piped (not a terminal): the per-component table is readable line by line, and
    R01's January revenue figures agree with a recomputation from the CSV files alone."""
    result = run("pay", str(SAMPLE), str(SAMPLE / "plan"), str(SAMPLE / "actuals.csv"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(all(h in line for h in ("metric", "target", "attainment", "curve payout", "effective weight", "pay"))
               for line in lines)
    row = next(line for line in lines if "R01" in line and "2026-01" in line and "revenue" in line)
    cells = [c.strip() for c in row.strip("│┃| ").split("│")]
    _, _, _, metric, target, attainment, payout, weight, pay = cells
    number = lambda text: float(text.replace(",", ""))  # noqa: E731

    actuals = pd.read_csv(SAMPLE / "actuals.csv")
    products = pd.read_csv(SAMPLE / "products.csv").set_index("product_id")
    mine = actuals[(actuals.rep_id == "R01") & (actuals.period == "2026-01") & (actuals.product_id != "*")]
    revenue = float((mine["orders"] * mine["product_id"].map(products["unit_price"])).sum())
    targets = pd.read_csv(SAMPLE / "plan" / "targets.csv")
    mine_t = targets[(targets.rep_id == "R01") & (targets.period == "2026-01")].set_index("component_id")["target"]
    components = pd.read_csv(SAMPLE / "plan" / "components.csv").set_index("component_id")["weight"]
    curve = pd.read_csv(SAMPLE / "plan" / "curve.csv")
    tvp = float(pd.read_csv(SAMPLE / "reps.csv").set_index("rep_id").loc["R01", "target_variable_pay"])
    expected_attainment = revenue / mine_t["revenue"]
    expected_payout = float(np.interp(expected_attainment, curve["attainment"], curve["payout"]))
    expected_weight = components["revenue"] / components[[k for k in components.index if mine_t.get(k, 0) > 0]].sum()
    assert number(metric) == pytest.approx(revenue, abs=0.01)
    assert number(target) == pytest.approx(mine_t["revenue"], abs=0.01)
    assert number(attainment) == pytest.approx(expected_attainment, abs=1e-4)
    assert number(payout) == pytest.approx(expected_payout, abs=1e-4)
    assert number(weight) == pytest.approx(expected_weight, abs=1e-4)
    assert number(pay) == pytest.approx(tvp * expected_weight * expected_payout, abs=0.01)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_takes_a_port():
    dry = subprocess.run(["make", "-n", "run", "PORT=8123", "HOST=0.0.0.0"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "comptune serve --host 0.0.0.0 --port 8123" in dry.stdout
    assert "http://0.0.0.0:8123" in dry.stdout  # ensure-admin prints links to the port served


def test_an_unknown_id_in_a_dataset_file_lists_the_valid_ones(tmp_path):
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    reps = (folder / "reps.csv").read_text().replace(",nordics,Nordics,", ",nordix,Nordics,", 1)
    (folder / "reps.csv").write_text(reps)
    result = run("solve", str(folder))
    assert result.returncode == 2
    assert "unknown market 'nordix' (valid: apac, dach, nordics, south, ukie, … 1 more)" in result.stderr
