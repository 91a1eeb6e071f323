"""Scenario sweeps (DESIGN.md §6): solve the plan LP under many assumption sets and pick a robust plan.

Every scenario of a `models.sweep.Sweep` is solved on its own (`solve_scenario`, through
`optimizer.executor`, so on a Dask cluster when asked). The candidates are the plan without any
sweep factor (`base`) and each scenario's optimal plan. Each candidate is then **scored under every
scenario**: its planned orders are what the reps are asked to sell; under a scenario they are cut
to what that scenario allows — reach (max_share × potential), then each rep's selling hours (the
rep's orders scaled down together), then each market's potential and each product's supply (scaled
pro rata, as §4.5 does) — and the company margin of what remains is the candidate's margin there.
From the score matrix: expected margin (scenarios equally likely), worst case, and efficiency
(margin ÷ the scenario's own optimum). The robust choice is the candidate with the best expected
margin or the best worst case, as the sweep asks.

Alignment efficiency (§4.5: a response simulation per rep, plan and scenario) is *not* scored: one
review's simulations take a minute on the sample, so a sweep of N candidates × N scenarios would
take hours; the plan-level efficiency above is the cheap, exact stand-in, and a chosen candidate
can be reviewed in full afterwards.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.assumptions import AssumptionSet
from models.dataset import Dataset, spreadsheet_safe
from models.sweep import Sweep
from optimizer.executor import Executor, SerialExecutor
from optimizer.parameters import Parameters, effective_parameters
from optimizer.plan.targets import plan_targets
from optimizer.solve import FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions

logger = logging.getLogger(__name__)

BASE = "base"


@dataclass
class ScenarioTask:
    dataset: Dataset
    scenario_id: str
    assumptions: AssumptionSet | None
    time_limit: float | None = None


@dataclass
class ScenarioPlan:
    scenario_id: str
    status: str
    objective: float | None
    margin: float | None
    revenue: float | None
    orders: np.ndarray | None  # (R, P, open periods) planned orders
    seconds: float
    message: str = ""


def orders_array(params: Parameters, orders: pd.DataFrame) -> np.ndarray:
    """Planned orders as a dense (rep, product, open period) array."""
    out = np.zeros((len(params.reps), len(params.products), len(params.open_index)))
    if len(orders):
        ri = {r: i for i, r in enumerate(params.reps)}
        pi = {p: i for i, p in enumerate(params.products)}
        ti = {t: i for i, t in enumerate(params.open_periods)}
        np.add.at(out, (orders["rep_id"].map(ri).to_numpy(), orders["product_id"].map(pi).to_numpy(),
                        orders["period"].map(ti).to_numpy()), orders["orders"].to_numpy(float))
    return out


def solve_scenario(task: ScenarioTask) -> ScenarioPlan:
    """The plan LP under one scenario (a pure function of its task: it can run on any worker)."""
    started = time.perf_counter()
    params = effective_parameters(task.dataset, task.assumptions)
    result = plan_targets(task.dataset, task.assumptions, params=params,
                          options=SolveOptions(time_limit=task.time_limit))
    usable = result.status in (OPTIMAL, FEASIBLE_TIME_LIMIT)
    return ScenarioPlan(scenario_id=task.scenario_id, status=result.status, objective=result.objective,
                        margin=result.margin, revenue=result.revenue,
                        orders=orders_array(params, result.orders) if usable else None,
                        seconds=time.perf_counter() - started, message=result.message)


def achieved_margin(params: Parameters, orders: np.ndarray) -> float:
    """Company margin of planned orders under these parameters, after cutting them to what is possible.

    Reach per (rep, product, period); then each rep's hours (all the rep's orders scaled by the same
    factor); then each market's potential and each product's supply (pro rata). Each step only
    lowers orders, so the result keeps every hard row of §4.1.
    """
    t = params.open_index
    o = np.minimum(orders, params.order_cap()[:, :, t])
    hours = (params.hours_per_order()[:, :, t] * o).sum(axis=1)  # (R, T)
    available = params.hours_available[:, t]
    o = o * np.where(hours > available, available / np.where(hours > 0, hours, 1.0), 1.0)[:, None, :]
    per_market = np.zeros((len(params.markets), len(params.products), len(t)))
    np.add.at(per_market, params.rep_market, o)
    potential = params.potential[:, :, t]
    market_scale = np.where(per_market > potential, potential / np.where(per_market > 0, per_market, 1.0), 1.0)
    o = o * market_scale[params.rep_market]
    per_product = o.sum(axis=0)  # (P, T)
    supply = params.supply[:, None]
    over = np.isfinite(supply) & (per_product > supply)
    o = o * np.where(over, supply / np.where(per_product > 0, per_product, 1.0), 1.0)[None, :, :]
    return float((params.rep_view(params.margin)[:, :, t] * o).sum())


@dataclass
class SweepResult:
    sweep: Sweep
    scenarios: pd.DataFrame  # one row per scenario: factors, status, optimum
    candidates: pd.DataFrame  # one row per candidate plan: expected / worst margin and efficiency
    scores: pd.DataFrame  # candidate × scenario: margin, efficiency
    choice: dict
    seconds: float

    def to_json(self) -> dict:
        def records(frame: pd.DataFrame) -> list[dict]:
            return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
                    for row in frame.to_dict(orient="records")]

        return {"name": self.sweep.name, "mode": self.sweep.mode, "criterion": self.sweep.criterion,
                "n_scenarios": len(self.scenarios), "seconds": round(self.seconds, 3), "choice": self.choice,
                "candidates": records(self.candidates), "scenarios": records(self.scenarios),
                "scores": records(self.scores)}


def run_sweep(dataset: Dataset, sweep: Sweep, *, executor: Executor | None = None,
              time_limit: float | None = None) -> SweepResult:
    """Solve every scenario (through the executor), score every candidate under every scenario, choose."""
    started = time.perf_counter()
    executor = executor or SerialExecutor()
    scenarios = sweep.scenarios()
    tasks = [ScenarioTask(dataset, BASE, None, time_limit)]
    tasks += [ScenarioTask(dataset, sid, assumptions, time_limit) for sid, _, assumptions in scenarios]
    plans = executor.map(solve_scenario, tasks)
    base, by_scenario = plans[0], plans[1:]

    rows = []
    for (sid, factors, _), plan in zip(scenarios, by_scenario):
        rows.append({"scenario": sid, **factors, "status": plan.status, "optimal_margin": plan.margin,
                     "objective": plan.objective, "revenue": plan.revenue, "seconds": round(plan.seconds, 3)})
    scenario_table = pd.DataFrame(rows)

    candidates = [(BASE, base)] + [(plan.scenario_id, plan) for plan in by_scenario]
    candidates = [(name, plan) for name, plan in candidates if plan.orders is not None]
    margins = np.full((len(candidates), len(scenarios)), np.nan)
    for j, (sid, _, assumptions) in enumerate(scenarios):
        params = effective_parameters(dataset, assumptions)
        for i, (_, plan) in enumerate(candidates):
            margins[i, j] = achieved_margin(params, plan.orders)
    optimum = np.array([plan.margin if plan.status == OPTIMAL and plan.margin else np.nan for plan in by_scenario])
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = margins / optimum[None, :]

    names = [name for name, _ in candidates]
    candidate_table = pd.DataFrame({
        "candidate": names,
        "expected_margin": margins.mean(axis=1) if len(scenarios) else np.nan,
        "worst_margin": margins.min(axis=1) if len(scenarios) else np.nan,
        "mean_efficiency": np.nanmean(efficiency, axis=1) if np.isfinite(efficiency).any() else np.nan,
        "worst_efficiency": np.nanmin(efficiency, axis=1) if np.isfinite(efficiency).any() else np.nan,
    })
    scores = pd.DataFrame([{"candidate": names[i], "scenario": scenarios[j][0], "margin": margins[i, j],
                            "efficiency": efficiency[i, j]}
                           for i in range(len(names)) for j in range(len(scenarios))])
    column = "expected_margin" if sweep.criterion == "expected" else "worst_margin"
    choice: dict = {"criterion": sweep.criterion, "candidate": None}
    if len(candidate_table) and len(scenarios):
        best = int(np.argmax(candidate_table[column].to_numpy()))
        row = candidate_table.iloc[best]
        choice = {"criterion": sweep.criterion, "candidate": row["candidate"],
                  "expected_margin": float(row["expected_margin"]), "worst_margin": float(row["worst_margin"]),
                  "reason": f"the best {'expected margin' if sweep.criterion == 'expected' else 'worst-case margin'} "
                            f"over {len(scenarios)} scenarios"}
    logger.info("sweep %s: %d scenarios, %d candidates, chose %s", sweep.name, len(scenarios), len(names),
                choice.get("candidate"))
    return SweepResult(sweep=sweep, scenarios=scenario_table, candidates=candidate_table, scores=scores,
                       choice=choice, seconds=time.perf_counter() - started)


def write_sweep(result: SweepResult, folder: str | Path) -> None:
    """sweep.json and scenarios.csv, candidates.csv, scores.csv into a folder."""
    folder = Path(folder)
    (folder / "sweep.json").write_text(json.dumps(result.to_json(), indent=2, default=float) + "\n")
    spreadsheet_safe(result.scenarios).to_csv(folder / "scenarios.csv", index=False)  # names never run as formulas
    spreadsheet_safe(result.candidates).to_csv(folder / "candidates.csv", index=False)
    spreadsheet_safe(result.scores).to_csv(folder / "scores.csv", index=False)
