"""The participation rule (DESIGN.md §4.9): no rep's expected pay cut by more than `max_pay_cut`.

A rep's expected variable pay under a plan is their own best response (§4.5) under the review's
assumptions, summed over the open periods — `Simulation.rep_pay`. The rule compares it with the same
figure under the plan in force (`pay_floor`); the pay impact a committee reads is `pay_impact`.

How a plan is brought to the floor — each rep's targets scaled by one factor, the lever a committee
knows ("your quota moves so that your pay holds") — is `optimizer.alignment.local_search.rebalance`. A
guaranteed-pay floor is not used: it is not a component, pays for nothing sold, and a rep who is paid
whatever they sell has no reason to sell the planned mix. The verdict is always the exact simulation.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from models.dataset import Plan
from optimizer.parameters import Parameters
from optimizer.alignment.response import Simulation

logger = logging.getLogger(__name__)

LOSER = -0.005  # change_share below this: the rep loses pay (above +0.005: a winner)


def pay_per_rep(params: Parameters, sim: Simulation) -> np.ndarray:
    """Expected variable pay per rep (open periods), in the order of `params.reps`."""
    if sim.rep_pay is not None and len(sim.rep_pay) == len(params.reps):
        return np.asarray(sim.rep_pay, float)
    if sim.pay is None or len(sim.pay) == 0:
        return np.zeros(len(params.reps))
    return sim.pay.groupby("rep_id")["pay"].sum().reindex(params.reps).fillna(0.0).to_numpy(float)


def pay_floor(in_force_pay: np.ndarray, max_pay_cut: float) -> np.ndarray:
    return (1.0 - max_pay_cut) * in_force_pay


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
        "max_raise": float(known.max()) if len(known) else None,
        "median_change": float(np.median(known)) if len(known) else None,
        "in_force_total": float(in_force_pay.sum()),
        "recommended_total": float(recommended_pay.sum()),
    }


def pay_impact_frame(impact: dict) -> pd.DataFrame:
    return pd.DataFrame(impact["reps"], columns=["rep_id", "market_id", "in_force_pay", "recommended_pay",
                                                 "change_share"])
