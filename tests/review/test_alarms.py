"""Alarms (§4.8) on tiny instances whose pace, forecast and funnel coverage are worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from models.dataset import dataset_from_tables
from optimizer.review.alarms import ALARM_COLUMNS, Thresholds, alarms
from tests.instances import tiny_tables

PERIODS = ("2026-01", "2026-02", "2026-03", "2026-04")


def dataset(actual_orders: dict[tuple[str, str], float], *, calls: float = 0.0, orders_target: float = 10.0,
            funnel: float = 1.0, reps=("r1", "r2")):
    """Two reps in one market and team `t` (r2 in team `u`); one component: orders of A, target 10 per
    period; periods 01-02 closed. `actual_orders[(rep, period)]` are orders of A."""
    tables = tiny_tables(reps=reps, periods=PERIODS, company={"current_period": "2026-02"})
    tables["reps.csv"].loc[tables["reps.csv"]["rep_id"] == "r2", "team"] = "u"
    tables["funnel.csv"]["call_to_meeting"] = funnel
    tables["plan/components.csv"] = pd.DataFrame([{"component_id": "a_orders", "metric": "orders", "products": "A",
                                                   "weight": 1.0}])
    tables["plan/curve.csv"] = pd.DataFrame({"attainment": [0.0, 1.0, 2.0], "payout": [0.0, 1.0, 1.5]})
    tables["plan/targets.csv"] = pd.DataFrame([
        {"rep_id": r, "component_id": "a_orders", "period": t, "target": orders_target} for r in reps for t in PERIODS])
    tables["actuals.csv"] = pd.DataFrame([
        {"rep_id": r, "product_id": "A", "period": t, "orders": actual_orders.get((r, t), 0.0), "calls": calls}
        for r in reps for t in PERIODS[:2]])
    return dataset_from_tables(tables)


def row(frame, alarm_id):
    match = frame[frame["alarm_id"] == alarm_id]
    assert len(match) == 1, alarm_id
    return match.iloc[0]


def test_pace_forecast_and_severity_by_hand():
    # r1: 6 + 6 of 20 to date → pace 0.60 (critical); run-rate 12 / 2 × 4 = 24 of 40.
    # r2: 9 + 10 of 20 → 0.95 (ok: not below 0.95). Team t = r1, market m = both: 31 / 40.
    frame = alarms(dataset({("r1", "2026-01"): 6, ("r1", "2026-02"): 6, ("r2", "2026-01"): 9, ("r2", "2026-02"): 10}))
    assert list(frame.columns) == ALARM_COLUMNS
    r1 = row(frame, "pace:rep:r1:a_orders")
    assert r1["pace"] == pytest.approx(0.6)
    assert r1["forecast_year"] == pytest.approx(24.0) and r1["forecast_attainment"] == pytest.approx(0.6)
    assert (r1["severity"], r1["direction"]) == ("critical", "behind")
    assert r1["suggested_adjustment"]["reps"] == ["r1"] and r1["suggested_adjustment"]["hours"] == 0.6
    assert r1["suggested_adjustment"]["periods"] == {"from": "2026-03"}
    assert row(frame, "pace:rep:r2:a_orders")["severity"] == "ok"
    assert row(frame, "pace:team:t:a_orders")["pace"] == pytest.approx(0.6)
    market = row(frame, "pace:market:m:a_orders")
    assert market["pace"] == pytest.approx(31 / 40) and market["severity"] == "warning"
    assert market["suggested_adjustment"]["markets"] == ["m"] and market["suggested_adjustment"]["demand"] == 0.78
    assert row(frame, "pace:company:*:a_orders")["pace"] == pytest.approx(31 / 40)
    assert frame.iloc[0]["severity"] == "critical"  # worst first


def test_running_ahead_is_flagged():
    frame = alarms(dataset({(r, t): 16 for r in ("r1", "r2") for t in PERIODS[:2]}))
    rep = row(frame, "pace:rep:r1:a_orders")
    assert rep["pace"] == pytest.approx(1.6) and (rep["severity"], rep["direction"]) == ("warning", "ahead")


def test_funnel_consistency_by_hand():
    # Every rate is 1 except call→meeting = 0.5: 10 calls per period lead to 5 orders per period.
    # r1 sold 10 + 10 to date; the year needs 40, so 20 more over 2 open periods = 10 per period: 50 %.
    frame = alarms(dataset({(r, t): 10 for r in ("r1", "r2") for t in PERIODS[:2]}, calls=10.0, funnel=0.5))
    funnel = row(frame, "funnel:rep:r1:a_orders")
    assert funnel["needed_per_period"] == pytest.approx(10.0)
    assert funnel["activity_per_period"] == pytest.approx(5.0)
    assert funnel["funnel_coverage"] == pytest.approx(0.5) and funnel["severity"] == "critical"
    assert row(frame, "pace:rep:r1:a_orders")["severity"] == "ok"  # on pace, but the pipeline is thin
    enough = alarms(dataset({(r, t): 10 for r in ("r1", "r2") for t in PERIODS[:2]}, calls=25.0, funnel=0.5))
    assert row(enough, "funnel:rep:r1:a_orders")["severity"] == "ok"


def test_no_closed_period_or_no_plan_means_no_alarms():
    tables = tiny_tables(periods=PERIODS)
    assert alarms(dataset_from_tables(tables)).empty


@pytest.mark.parametrize("ratio, expected", [
    (0.69, ("critical", "behind")), (0.70, ("warning", "behind")), (0.84, ("warning", "behind")),
    (0.85, ("watch", "behind")), (0.95, ("ok", "on_plan")), (1.25, ("ok", "on_plan")),
    (1.26, ("watch", "ahead")), (1.51, ("warning", "ahead")),
])
def test_threshold_edges(ratio, expected):
    assert Thresholds().severity(ratio) == expected
