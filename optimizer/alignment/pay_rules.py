"""The participation rule (DESIGN.md §4.9): no rep's expected pay cut by more than `max_pay_cut`.

A rep's expected variable pay under a plan is their own best response (§4.5) under the review's
assumptions, summed over the open periods — `Simulation.pay`. The rule compares it with the same
figure under the plan in force.

Repair: a candidate plan that pays a rep too little lowers that rep's targets (every component,
every open period, by one factor α_r ≤ 1), the lever a committee knows ("your quota goes down so
that your pay holds"), and is simulated again; a rep paid more than the floor needs keeps α_r = 1
(targets are never raised above the plan LP's). A guaranteed-pay floor is not used: it is not a
component, pays for nothing sold, and a rep who is paid whatever they sell has no reason to sell the
planned mix. The update is a secant step on log pay against log α per rep (a linear curve pays
∝ 1/α: the first step assumes that), so a few simulations suffice; the last simulation is the
verdict — the rule holds only if that exact simulation says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd

from models.dataset import Plan
from optimizer.parameters import Parameters
from optimizer.alignment.response import Simulation

logger = logging.getLogger(__name__)

LOSER = -0.005  # change_share below this: the rep loses pay (above +0.005: a winner)
HEADROOM = 1.005  # aim 0.5 % above the floor, so that market scaling between reps does not undo the repair
MIN_SCALE = 0.05  # targets are never cut below 5 % of the plan LP's


def pay_per_rep(params: Parameters, sim: Simulation) -> np.ndarray:
    """Expected variable pay per rep (open periods), in the order of `params.reps`."""
    if sim.pay is None or len(sim.pay) == 0:
        return np.zeros(len(params.reps))
    return sim.pay.groupby("rep_id")["pay"].sum().reindex(params.reps).fillna(0.0).to_numpy(float)


def pay_floor(in_force_pay: np.ndarray, max_pay_cut: float) -> np.ndarray:
    return (1.0 - max_pay_cut) * in_force_pay


def short_reps(pay: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Reps paid below the floor (a cent of tolerance)."""
    return pay < floor - 0.01


def scale_targets(plan: Plan, params: Parameters, scale: np.ndarray) -> Plan:
    """The plan with every open-period target of rep r multiplied by scale[r]."""
    if np.all(scale == 1.0):
        return plan
    targets = plan.targets.copy()
    at = pd.Index(params.reps).get_indexer(targets["rep_id"])  # −1: a rep the parameters do not know
    factor = np.where(at >= 0, np.asarray(scale, float)[at], np.nan)
    factor = np.where(np.isnan(factor), 1.0, factor)
    is_open = targets["period"].isin(set(params.open_periods)).to_numpy()
    target = targets["target"].to_numpy(float)
    targets["target"] = np.where(is_open, target * factor, target)
    return replace(plan, targets=targets)


@dataclass
class Repair:
    """A candidate after the pay-cut repair: its plan, exact simulation and per-rep target scale."""

    plan: Plan
    simulation: Simulation
    scale: np.ndarray  # α per rep (1 = targets as planned)
    pay: np.ndarray  # expected pay per rep
    keeps_pay_rule: bool
    short: int  # reps still below the floor
    simulations: int  # simulations spent


def repair_pay_cut(plan: Plan, params: Parameters, floor: np.ndarray,
                   evaluate: Callable[[list[Plan]], list[Simulation]], *, start: np.ndarray | None = None,
                   first: Simulation | None = None, max_rounds: int = 8) -> Repair:
    """Lower the targets of the reps `plan` pays below `floor` until the exact simulation keeps the rule.

    `evaluate` simulates a batch of plans (the recommendation's one entry point for simulations);
    `start` a first guess of α (default 1: targets as planned); `first` the simulation of `plan`
    with `start` applied, when already known.
    """
    scale = np.ones(len(params.reps)) if start is None else np.asarray(start, float).copy()
    goal = floor * HEADROOM
    previous: tuple[np.ndarray, np.ndarray] | None = None
    candidate = scale_targets(plan, params, scale)
    sim = first if first is not None else evaluate([candidate])[0]
    spent = 0 if first is not None else 1
    kept: tuple[Plan, Simulation, np.ndarray] | None = None  # the last state that kept the rule
    for _ in range(max_rounds):
        pay = pay_per_rep(params, sim)
        short = short_reps(pay, floor)
        if not short.any():
            kept = (candidate, sim, scale)
        # reps above the goal at α < 1 give some of it back (targets up again, never above 1)
        generous = (scale < 1.0) & (pay > goal * 1.05)
        if not short.any() and not generous.any():
            break
        move = short if short.any() else generous  # give back only once nobody is short
        elasticity = np.full(len(scale), -1.0)
        if previous is not None:
            old_scale, old_pay = previous
            with np.errstate(divide="ignore", invalid="ignore"):
                slope = (np.log(np.maximum(pay, 1e-9)) - np.log(np.maximum(old_pay, 1e-9))) / \
                    (np.log(scale) - np.log(old_scale))
            moved = np.abs(np.log(scale) - np.log(old_scale)) > 1e-6
            answered = np.isfinite(slope) & (slope < -0.05)  # pay rose as the targets fell
            # a rep whose pay did not answer (market scaling, a cap) takes a moderate step
            elasticity = np.where(moved & answered, np.clip(slope, -3.0, -0.1), np.where(moved, -0.5, -1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(pay > 0, goal / pay, 4.0)
        proposal = scale * np.power(np.clip(ratio, 0.25, 4.0), 1.0 / elasticity)
        new_scale = np.where(move, np.clip(proposal, MIN_SCALE, 1.0), scale)
        if not short.any():  # only giving back, half way at most: never let that create a new short rep
            new_scale = np.where(generous, np.minimum(new_scale, scale + (1.0 - scale) * 0.5), scale)
        logger.debug("pay-cut repair: %d reps short, %d generous", short.sum(), generous.sum())
        if np.allclose(new_scale, scale, rtol=0, atol=1e-6):
            break
        previous = (scale, pay)
        scale = new_scale
        candidate = scale_targets(plan, params, scale)
        sim = evaluate([candidate])[0]
        spent += 1
    pay = pay_per_rep(params, sim)
    short = short_reps(pay, floor)
    if short.any() and kept is not None:  # a give-back went too far: the last state that kept the rule
        candidate, sim, scale = kept
        pay = pay_per_rep(params, sim)
        short = short_reps(pay, floor)
    return Repair(plan=candidate, simulation=sim, scale=scale, pay=pay, keeps_pay_rule=not short.any(),
                  short=int(short.sum()), simulations=spent)


def pay_impact(params: Parameters, in_force_pay: np.ndarray, recommended_pay: np.ndarray) -> dict:
    """Per rep: in-force pay, recommended pay, change share; and the counts a committee asks for."""
    market = dict(zip(params.reps, (params.markets[m] for m in params.rep_market)))
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(in_force_pay > 0, recommended_pay / in_force_pay - 1.0, np.nan)
    reps = [{"rep_id": r, "market_id": market[r], "in_force_pay": float(a), "recommended_pay": float(b),
             "change_share": None if not np.isfinite(c) else float(c)}
            for r, a, b, c in zip(params.reps, in_force_pay, recommended_pay, change)]
    known = change[np.isfinite(change)]
    return {
        "reps": reps,
        "losers": int((known < LOSER).sum()),
        "winners": int((known > -LOSER).sum()),
        "max_cut": float(known.min()) if len(known) else None,
        "median_change": float(np.median(known)) if len(known) else None,
        "in_force_total": float(in_force_pay.sum()),
        "recommended_total": float(recommended_pay.sum()),
    }


def pay_impact_frame(impact: dict) -> pd.DataFrame:
    return pd.DataFrame(impact["reps"], columns=["rep_id", "market_id", "in_force_pay", "recommended_pay",
                                                 "change_share"])
