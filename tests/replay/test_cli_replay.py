"""`comptune replay` on the command line: bad input exits 2 naming the key and writes nothing."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
SAMPLE = "datasets/sample"
FREEZE = f"{SAMPLE}/assumptions/south-freeze.yaml"


def write_world(tmp_path, adjustments, name="world.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"name": "w", "adjustments": adjustments}))
    return path


@pytest.mark.parametrize("args, key", [
    (["--noise", "-0.5"], "noise"),
    (["--seeds", "0"], "seeds"),
    (["--policies", "static,weekly"], "policies[1]"),
    (["--accept-threshold", "-0.1"], "accept_threshold"),
])
def test_bad_options_exit_2_naming_the_key_and_write_nothing(tmp_path, args, key):
    out = tmp_path / "out"
    result = runner.invoke(app, ["replay", SAMPLE, "--world", FREEZE, "--out", str(out), *args])
    assert result.exit_code == 2, result.output
    assert f"'{key}'" in result.output
    assert not out.exists()


@pytest.mark.parametrize("adjustment, key", [
    ({"markets": ["atlantis"], "demand": 0.5}, "adjustments[0].markets[0]"),
    ({"products": ["warp-drive"], "demand": 0.5}, "adjustments[0].products[0]"),
    ({"periods": {"from": "2030-01"}, "demand": 0.5}, "adjustments[0].periods.from"),
    ({"periods": {"from": "2026-01", "to": "2026-03"}, "demand": 0.5}, "adjustments[0].periods"),
])
def test_bad_worlds_exit_2_naming_the_key_and_write_nothing(tmp_path, adjustment, key):
    out = tmp_path / "out"
    world = write_world(tmp_path, [adjustment])
    result = runner.invoke(app, ["replay", SAMPLE, "--world", str(world), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"'{key}'" in result.output
    assert not out.exists()


def test_a_dataset_with_no_open_period_exits_2(tmp_path):
    folder = tmp_path / "done"
    shutil.copytree(SAMPLE, folder)
    company = yaml.safe_load((folder / "company.yaml").read_text())
    company["current_period"] = company["periods"][-1]
    (folder / "company.yaml").write_text(yaml.safe_dump(company))
    world = write_world(tmp_path, [{"demand": 0.9}])
    result = runner.invoke(app, ["replay", str(folder), "--world", str(world), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "current_period" in result.output
    assert not (tmp_path / "out").exists()


def test_static_replay_writes_json_and_months_csv(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["replay", SAMPLE, "--world", FREEZE, "--policies", "static", "--gaming-reps", "0",
                                 "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert json.loads((out / "replay.json").read_text())["policies"] == body["policies"]
    months = pd.read_csv(out / "months.csv")
    static = body["policies"][0]
    assert months["net_margin"].sum() == pytest.approx(static["total"]["net_margin"], rel=1e-9)
    assert list(months["period"]) == body["periods"]
    simulated = runner.invoke(app, ["simulate", SAMPLE, f"{SAMPLE}/plan", "--assumptions", FREEZE, "--json"])
    sim = json.loads(simulated.stdout)  # `comptune simulate` of the plan in force under the world
    assert static["total"]["margin"] == pytest.approx(sim["margin"], rel=1e-9)
    assert static["total"]["net_margin"] == pytest.approx(sim["net_margin"], rel=1e-9)
