"""Scenario sweeps: the grid file's validation (every bad key named), the scenarios it makes, the
scoring (independently: each scenario's own plan scores exactly its LP margin there, and no plan
beats a scenario's optimum), the robust choice, and a LocalCluster of two workers equal to serial."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from models.dataset import load_dataset
from models.errors import InputError
from models.sweep import parse_sweep
from optimizer.executor import SCHEDULER_ENV, open_executor
from optimizer.review.sweep import run_sweep
from tests.api.conftest import SAMPLE

GRID = {"name": "south-and-new", "criterion": "worst", "factors": [
    {"markets": ["south"], "factor": "demand", "values": [0.5, 1.0]},
    {"products": ["group:new"], "factor": "price", "values": [0.9, 1.1]}]}


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE)


@pytest.fixture(scope="module")
def grid_result(sample):
    return run_sweep(sample, parse_sweep(GRID, sample))


@pytest.mark.parametrize("body, key, words", [
    ({**GRID, "factors": [{"markets": ["atlantis"], "factor": "demand", "values": [1.0]}]}, "factors[0].markets[0]", "unknown market"),
    ({**GRID, "factors": [{"products": ["p99"], "factor": "demand", "values": [1.0]}]}, "factors[0].products[0]", "unknown product"),
    ({**GRID, "factors": [{"factor": "weather", "values": [1.0]}]}, "factors[0].factor", "unknown factor"),
    ({**GRID, "factors": [{"factor": "price", "values": [1.0, 0]}]}, "factors[0].values[1]", "> 0"),
    ({**GRID, "factors": [{"factor": "price", "values": [-0.5]}]}, "factors[0].values[0]", "> 0"),
    ({"mode": "monte_carlo", "draws": 2.5, "factors": [{"factor": "demand", "range": [0.5, 1.0]}]}, "draws", "integer"),
    ({"mode": "monte_carlo", "draws": "10", "factors": [{"factor": "demand", "range": [0.5, 1.0]}]}, "draws", "integer"),
    ({"mode": "monte_carlo", "draws": 5, "factors": [{"factor": "demand", "range": [0.0, 1.0]}]}, "factors[0].range", "0 < low"),
    ({"mode": "monte_carlo", "draws": 500, "factors": [{"factor": "demand", "range": [0.5, 1.0]}]}, "draws", "maximum of 200"),
    ({**GRID, "factors": [{"factor": "demand", "values": [0.5 + i / 100 for i in range(15)]}] * 2}, "factors", "maximum of 200"),
    ({**GRID, "criterion": "median"}, "criterion", "unknown criterion"),
    ({**GRID, "colour": "blue"}, "colour", "unknown key"),
])
def test_bad_sweeps_name_the_key(sample, body, key, words):
    with pytest.raises(InputError) as caught:
        parse_sweep(body, sample, file="grid.yaml")
    problems = {p.column: p.message for p in caught.value.problems}
    assert key in problems and words in problems[key], problems


def test_grid_and_draws_make_the_scenarios(sample):
    grid = parse_sweep(GRID, sample)
    scenarios = grid.scenarios()
    assert [s[0] for s in scenarios] == ["s1", "s2", "s3", "s4"]
    assert scenarios[1][1] == {"demand[south]": 0.5, "price[group:new]": 1.1}
    assert scenarios[1][2].adjustments[1].price == 1.1 and scenarios[1][2].adjustments[1].products == ["group:new"]
    draws = {"mode": "monte_carlo", "draws": 6, "seed": 3, "factors": [
        {"markets": ["us"], "factor": "conversion", "range": [0.9, 1.1]}, {"factor": "demand", "values": [0.8, 1.2]}]}
    first, again = parse_sweep(draws, sample).scenarios(), parse_sweep(draws, sample).scenarios()
    assert len(first) == 6 and [s[1] for s in first] == [s[1] for s in again]  # seeded
    assert all(0.9 <= s[1]["conversion[us]"] <= 1.1 and s[1]["demand[*]"] in (0.8, 1.2) for s in first)


def test_scores_are_consistent_and_the_choice_is_robust(grid_result):
    result = grid_result
    assert list(result.scenarios["status"]) == ["optimal"] * 4
    scores = result.scores.set_index(["candidate", "scenario"])
    for row in result.scenarios.itertuples():
        # a scenario's own plan is feasible there: it scores exactly its LP margin (an independent path)
        own = scores.loc[(row.scenario, row.scenario), "margin"]
        assert abs(own - row.optimal_margin) <= 1e-6 * abs(row.optimal_margin)
        # and no candidate beats the scenario's optimum
        assert scores.xs(row.scenario, level="scenario")["margin"].max() <= row.optimal_margin * (1 + 1e-9)
    worst = result.candidates.set_index("candidate")["worst_margin"]
    assert result.choice["candidate"] == worst.idxmax()
    assert result.choice["worst_margin"] == pytest.approx(worst.max())
    assert {"base", "s1", "s2", "s3", "s4"} == set(result.candidates["candidate"])


def test_local_cluster_of_two_equals_serial(sample, grid_result, monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with open_executor(workers=2) as executor:
        parallel = run_sweep(sample, parse_sweep(GRID, sample), executor=executor)
    assert parallel.choice == grid_result.choice
    for table in ("candidates", "scores"):
        mine, theirs = getattr(parallel, table), getattr(grid_result, table)
        assert list(mine.columns) == list(theirs.columns)
        assert np.allclose(mine.select_dtypes("number"), theirs.select_dtypes("number"), rtol=1e-9)


def test_cli_sweep_writes_json_and_csv(tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({**GRID, "criterion": "expected"}))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(SAMPLE), "--grid", str(grid), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout[result.stdout.index("{"):])
    assert payload["criterion"] == "expected" and payload["n_scenarios"] == 4
    assert sorted(p.name for p in out.iterdir()) == ["candidates.csv", "scenarios.csv", "scores.csv", "sweep.json"]
    assert json.loads((out / "sweep.json").read_text())["choice"] == payload["choice"]


def test_cli_bad_grid_and_unreachable_scheduler(tmp_path, monkeypatch):
    from optimizer import executor as executor_module

    bad = tmp_path / "bad.yaml"
    bad.write_text("factors:\n  - markets: [atlantis]\n    factor: demand\n    values: [1.0]\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(SAMPLE), "--grid", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and "factors[0].markets[0]" in result.output and "atlantis" in result.output
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GRID))
    monkeypatch.setattr(executor_module, "CONNECT_TIMEOUT_SECONDS", 1.0)
    result = CliRunner().invoke(app, ["sweep", str(SAMPLE), "--grid", str(good), "--out", str(out),
                                      "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "tcp://127.0.0.1:9" in result.output
    assert not out.exists()  # nothing half-written
