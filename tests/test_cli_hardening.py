"""Issue 12 on the command line: every broken input is exit 2 with a message naming the file, the
line or key and the limit — never a traceback, never exit 0 on a quietly wrong input."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from models.limits import MAX_FACTOR, MAX_NUMBER, MAX_YAML_NODES

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample"
runner = CliRunner()


def copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("README.md"))
    return folder


def bad_input(*args: str, env: dict | None = None) -> str:
    """Run a command that must end with exit 2 (bad input); return its output in one line."""
    result = runner.invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def assumptions_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "assumptions.yaml"
    path.write_text(text)
    return path


# case 3: quoted factors are text, and a factor must really be > 0
@pytest.mark.parametrize("factor", ['"0"', '"-1"', '"NaN"', '"inf"', '"0.5"', "0", "-1", ".nan", ".inf"])
def test_quoted_or_non_positive_factors_are_refused(tmp_path, factor):
    path = assumptions_file(tmp_path, f"name: q\nadjustments:\n  - markets: [south]\n    demand: {factor}\n")
    output = bad_input("solve", str(SAMPLE), "--assumptions", str(path))
    assert "adjustments[0].demand" in output


# case 6 and 11: magnitudes of factors
@pytest.mark.parametrize("factor, key", [("1e308", "demand"), ("1e308", "price"), ("1e-300", "price"),
                                         ("2000", "hours")])
def test_factors_outside_the_magnitude_limits_are_refused(tmp_path, factor, key):
    path = assumptions_file(tmp_path, f"name: big\nadjustments:\n  - {key}: {factor}\n")
    output = bad_input("solve", str(SAMPLE), "--assumptions", str(path))
    assert f"adjustments[0].{key}" in output and f"{MAX_FACTOR:g}" in output


# case 5: extra fields in the first data row of reps.csv or actuals.csv
@pytest.mark.parametrize("file", ["reps.csv", "actuals.csv", "demand.csv"])
def test_a_first_row_with_extra_fields_names_the_file_and_line(tmp_path, file):
    folder = copy_sample(tmp_path)
    lines = (folder / file).read_text().splitlines()
    lines[1] += ",surplus"
    (folder / file).write_text("\n".join(lines) + "\n")
    header_fields = len(lines[0].split(","))
    output = bad_input("solve", str(folder))
    assert f"{file}, line 2" in output and f"header has {header_fields}" in output


def test_a_duplicated_column_is_named(tmp_path):
    folder = copy_sample(tmp_path)
    lines = (folder / "products.csv").read_text().splitlines()
    lines = [f"{line},{line.split(',')[3]}" for line in lines]  # repeat unit_price at the end
    (folder / "products.csv").write_text("\n".join(lines) + "\n")
    output = bad_input("solve", str(folder))
    assert "products.csv" in output and "'unit_price'" in output and "twice" in output


def test_periods_out_of_order_in_company_yaml_are_named(tmp_path):
    folder = copy_sample(tmp_path)
    company = yaml.safe_load((folder / "company.yaml").read_text())
    company["periods"][3], company["periods"][4] = company["periods"][4], company["periods"][3]
    (folder / "company.yaml").write_text(yaml.safe_dump(company))
    output = bad_input("solve", str(folder))
    assert "periods" in output and "out of order" in output and company["periods"][4] in output


# case 7: a header alone is no data; `comptune load` refuses it too
@pytest.mark.parametrize("file", ["demand.csv", "rep_products.csv"])
def test_header_only_tables_are_refused_by_solve_and_load(tmp_path, file):
    folder = copy_sample(tmp_path)
    header = (folder / file).read_text().splitlines()[0]
    (folder / file).write_text(header + "\n")
    assert file in bad_input("solve", str(folder)) and "no data rows" in bad_input("solve", str(folder))
    env = {"COMPTUNE_DATABASE_URL": f"sqlite:///{tmp_path / 'comptune.db'}"}
    output = bad_input("load", str(folder), env=env)
    assert file in output and "no data rows" in output


# case 6: a number past the dataset's magnitude limit
def test_a_huge_number_in_a_dataset_file_is_refused(tmp_path):
    folder = copy_sample(tmp_path)
    lines = (folder / "demand.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[-1] = "1e308"
    lines[1] = ",".join(cells)
    (folder / "demand.csv").write_text("\n".join(lines) + "\n")
    output = bad_input("solve", str(folder))
    assert "demand.csv, line 2" in output and "potential_orders" in output and f"{MAX_NUMBER:g}" in output


# case 8: --out naming a file
def test_out_naming_an_existing_file_is_bad_input(tmp_path):
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    output = bad_input("solve", str(SAMPLE), "--out", str(target))
    assert "--out" in output and "is a file" in output
    assert target.read_text() == "keep me"
    output = bad_input("solve", str(SAMPLE), "--out", str(target / "below"))
    assert "is a file" in output


# case 10: an alias bomb is refused before it expands
def test_a_yaml_alias_bomb_is_refused_fast(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = assumptions_file(tmp_path, "\n".join(lines) + "\nname: bomb\n")
    started = time.perf_counter()
    output = bad_input("solve", str(SAMPLE), "--assumptions", str(path))
    assert time.perf_counter() - started < 5
    assert f"{MAX_YAML_NODES:,}" in output


def test_outcomes_with_extra_fields_are_bad_input(tmp_path):
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("rep_id,product_id,period,orders\nR01,plc-classic,2026-01,1,9\n")
    output = bad_input("pay", str(SAMPLE), str(SAMPLE / "plan"), str(outcomes))
    assert "outcomes.csv, line 2" in output


@pytest.mark.parametrize("name", ["x" * 201, "   ", "a\x00b"])
def test_a_token_name_past_the_limits_is_bad_input(tmp_path, name):
    env = {"COMPTUNE_DATABASE_URL": f"sqlite:///{tmp_path / 'comptune.db'}"}
    assert "--name" in bad_input("token", "create", "--role", "viewer", "--name", name, env=env)
