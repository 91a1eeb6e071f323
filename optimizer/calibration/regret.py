"""Regret: what a recommendation made with a model loses when the true reps answer it (DESIGN.md §4.11).

On a company whose true parameters are known, `recommendation_regret(truth, models)` runs the
review pipeline (`optimizer.alignment.recommend.recommend`) on each model — the true one, a
calibrated one, the uncalibrated one — and judges every recommended plan with the true reps (§4.5):
net margin = simulated margin − simulated variable pay over the open periods. Regret is the net
margin the model's plan gives up against the true model's plan, in % of the true plan LP's margin
(negative when the model's plan happens to do better: the search is local). The pay-cut promise is
checked under the true reps too: each rep's true pay under the model's plan against their true pay
under the plan in force.
"""

from __future__ import annotations

import inspect
import time

import numpy as np

from models.dataset import Dataset
from optimizer.alignment.pay_rules import pay_per_rep
from optimizer.alignment.recommend import recommend
from optimizer.alignment.response import simulate
from optimizer.parameters import effective_parameters
from optimizer.plan.targets import plan_targets

PROMISED_CUT = 0.06  # the check: no true cut beyond this share


def _recommend(dataset: Dataset, workers: int):
    # the price-of-rules searches (issue 17) are not needed to judge a plan: skip them where offered
    extra = {"rule_prices": False} if "rule_prices" in inspect.signature(recommend).parameters else {}
    return recommend(dataset, workers=workers, **extra)


def recommendation_regret(truth: Dataset, models: dict[str, Dataset], *, workers: int = 1,
                          reference: float | None = None) -> dict:
    """{plan_margin, in_force: {...}, models: {name: {net_margin, regret_pct, worst_cut, cuts_beyond, ...}}}.

    Every plan is judged by `truth`'s reps. Regret counts from `reference` (the true model's plan's
    net margin), else from the model named "truth" in `models`."""
    params = effective_parameters(truth)
    plan_margin = plan_targets(truth, params=params).margin
    in_force = simulate(truth, truth.plan, params=params, plan_margin=plan_margin)
    in_force_pay = pay_per_rep(params, in_force)
    out = {"plan_margin": plan_margin,
           "in_force": {"net_margin": in_force.margin - in_force.pay_cost, "margin": in_force.margin,
                        "pay": in_force.pay_cost}, "models": {}}
    for name, model in models.items():
        started = time.perf_counter()
        rec = _recommend(model, workers)
        row: dict = {"status": rec.status, "selected": rec.selected, "seconds": round(time.perf_counter() - started, 2)}
        if rec.plan is None:
            row["message"] = rec.message
            out["models"][name] = row
            continue
        judged = simulate(truth, rec.plan, params=params, plan_margin=plan_margin)
        pay = pay_per_rep(params, judged)
        change = np.where(in_force_pay > 0, pay / np.where(in_force_pay > 0, in_force_pay, 1.0) - 1.0, 0.0)
        believed = rec.simulations.get("recommended")
        row.update({
            "net_margin": judged.margin - judged.pay_cost, "margin": judged.margin, "pay": judged.pay_cost,
            "alignment": judged.alignment_efficiency,
            "believed_net_margin": None if believed is None else believed.margin - believed.pay_cost,
            "worst_cut": float(change.min()), "cuts_beyond": int((change < -PROMISED_CUT).sum()),
        })
        out["models"][name] = row
    if reference is None:
        reference = out["models"].get("truth", {}).get("net_margin")
    for row in out["models"].values():
        if reference is not None and "net_margin" in row:
            row["regret_pct"] = 100.0 * (reference - row["net_margin"]) / plan_margin
    return out
