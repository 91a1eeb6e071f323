"""`calibrate`: the behaviour model of a dataset estimated from its history (DESIGN.md §4.11).

`calibrate(dataset, history, spans)` estimates, in order, the funnel rates per market × product and
each rep's skill per product from the activity logged (`optimizer.calibration.activity`), then —
with those in the hours per order — each rep's comfort per product from the mix they chose under
the plans in force (`optimizer.calibration.choice`). It returns the calibrated dataset (the same
frames with `funnel` and `rep_products` replaced; everything else as given) and the report: every
estimate with its support, its uncertainty and its identification status. `effort_aversion` is
never identified by choices (only effort_aversion·(comfort − 1) is) and stays as company.yaml has
it. With `holdout` K the last K months are predicted by a calibration on the others
(`optimizer.calibration.validate`). A pure function of data; the inverse LPs and the judge's
simulations run through `executor`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable

import numpy as np
import pandas as pd

from models.dataset import Dataset
from models.history import PlanSpan
from optimizer.calibration.activity import FunnelEstimate, SkillEstimate, estimate_funnel, estimate_skill
from optimizer.calibration.choice import POLISH_ROUNDS, ComfortEstimate, estimate_comfort
from optimizer.calibration.observed import Observed, observed_arrays
from optimizer.calibration.validate import holdout_validation
from optimizer.executor import Executor
from optimizer.parameters import Parameters, effective_parameters

logger = logging.getLogger(__name__)

DECIMALS = 4  # of the calibrated values written to funnel.csv and rep_products.csv
HOURS_WARNING = 1.1  # a rep whose history needs more than this share of their hours at the estimated skills is named
EFFORT_AVERSION_STATUS = ("not identified: choices identify effort_aversion × (comfort − 1) only; "
                          "comfort is reported at company.yaml's effort_aversion, which is kept")


@dataclass
class Calibration:
    """A calibrated dataset and its report."""

    dataset: Dataset
    rep_products: pd.DataFrame  # per rep × product: skill and comfort estimates, ranges, support, status
    funnel: pd.DataFrame  # per market × product: rates, standard errors, support, status
    summary: dict
    holdout: dict | None = None
    seconds: float = 0.0
    comfort: ComfortEstimate | None = field(default=None, repr=False)

    def to_dict(self, *, tables: bool = True) -> dict:
        out = {"summary": self.summary, "holdout": self.holdout, "seconds": round(self.seconds, 3)}
        if tables:
            out["rep_products"] = _records(self.rep_products)
            out["funnel"] = _records(self.funnel)
        return out


def _records(frame: pd.DataFrame) -> list[dict]:
    clean = frame.astype(object).where(pd.notna(frame), None)
    rows = clean.to_dict(orient="records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not np.isfinite(value):
                row[key] = None
            elif isinstance(value, np.generic):
                row[key] = value.item()
    return rows


def calibrate(dataset: Dataset, history: pd.DataFrame, spans: list[PlanSpan], *, holdout: int = 0,
              executor: Executor | None = None, polish_rounds: int = POLISH_ROUNDS,
              progress: Callable[[str, float], None] | None = None) -> Calibration:
    """Estimate funnel rates, skill and comfort from a validated history (models.history) under `spans`.

    `progress(phase, share)` reports activity, comfort, holdout. `polish_rounds` < 0 skips the
    judge's simulations of the history (no polish, no in-sample figure)."""
    say = progress or (lambda phase, share: None)
    started = time.perf_counter()
    params = effective_parameters(dataset)
    observed = observed_arrays(dataset, params, history, spans)
    say("activity", 0.05)
    funnel = estimate_funnel(params, observed)
    skill = estimate_skill(params, observed, funnel)
    staged = replace(dataset, funnel=funnel_table(dataset, params, funnel),
                     rep_products=rep_products_table(dataset, params, skill.skill, params.comfort))
    calibrated_params = effective_parameters(staged)
    logger.info("calibration: funnel and skill in %.1f s", time.perf_counter() - started)
    say("comfort", 0.15)
    aversion = dataset.company.effort_aversion
    comfort = None
    new_comfort = params.comfort
    if aversion > 0:
        comfort = estimate_comfort(calibrated_params, observed, prior_kappa=aversion * (params.comfort - 1.0),
                                   executor=executor, polish_rounds=polish_rounds)
        new_comfort = np.where(params.sells, 1.0 + comfort.kappa / aversion, params.comfort)
    calibrated = replace(staged, rep_products=rep_products_table(dataset, params, skill.skill, new_comfort),
                         source=f"{dataset.source} (calibrated)")
    logger.info("calibration: comfort in %.1f s", time.perf_counter() - started)
    rep_frame = rep_products_report(dataset, params, skill, comfort, aversion)
    funnel_frame = funnel_report(params, funnel)
    out = Calibration(dataset=calibrated, rep_products=rep_frame, funnel=funnel_frame,
                      summary=summary(dataset, observed, skill, comfort, funnel_frame, rep_frame),
                      comfort=comfort)
    if holdout:
        say("holdout", 0.6)
        out.holdout = holdout_validation(dataset, history, spans, holdout, executor=executor, fit=partial(
            calibrate, executor=executor, polish_rounds=polish_rounds))
    out.seconds = time.perf_counter() - started
    out.summary["seconds"] = round(out.seconds, 3)
    say("done", 1.0)
    return out


# --------------------------------------------------------------------------------------------
# The calibrated tables (the dataset format)


def funnel_table(dataset: Dataset, params: Parameters, funnel: FunnelEstimate) -> pd.DataFrame:
    """funnel.csv with the estimated rates, in the dataset's row order."""
    frame = dataset.funnel.copy()
    m = pd.Index(params.markets).get_indexer(frame["market_id"])
    p = pd.Index(params.products).get_indexer(frame["product_id"])
    for rate, values in funnel.rates.items():
        frame[rate] = np.clip(np.round(values[m, p], DECIMALS), 10.0 ** -DECIMALS, 1.0)
    return frame


def rep_products_table(dataset: Dataset, params: Parameters, skill: np.ndarray, comfort: np.ndarray) -> pd.DataFrame:
    """rep_products.csv with the estimated skill and comfort, in the dataset's row order."""
    frame = dataset.rep_products.copy()
    r = pd.Index(params.reps).get_indexer(frame["rep_id"])
    p = pd.Index(params.products).get_indexer(frame["product_id"])
    frame["skill"] = np.maximum(np.round(skill[r, p], DECIMALS), 10.0 ** -DECIMALS)
    frame["comfort"] = np.maximum(np.round(comfort[r, p], DECIMALS), 1.0)
    return frame


# --------------------------------------------------------------------------------------------
# The report


def rep_products_report(dataset: Dataset, params: Parameters, skill: SkillEstimate, comfort: ComfortEstimate | None,
                        aversion: float) -> pd.DataFrame:
    """One row per rep_products.csv row: prior, estimate, range or standard error, support and status."""
    rp = dataset.rep_products
    r = pd.Index(params.reps).get_indexer(rp["rep_id"])
    p = pd.Index(params.products).get_indexer(rp["product_id"])
    frame = pd.DataFrame({
        "rep_id": rp["rep_id"].to_numpy(), "product_id": rp["product_id"].to_numpy(),
        "orders": np.round(skill.orders[r, p], 6), "months_sold": skill.months[r, p],
        "skill_prior": params.skill[r, p], "skill": np.round(skill.skill[r, p], DECIMALS),
        "skill_se": np.round(skill.skill[r, p] * skill.se_log[r, p], DECIMALS), "skill_status": skill.status[r, p],
        "comfort_prior": params.comfort[r, p],
    })
    if comfort is None:
        frame["comfort"] = params.comfort[r, p]
        frame["comfort_low"] = frame["comfort_high"] = np.nan
        frame["comfort_status"] = "not identified: effort_aversion is 0, felt effort plays no part"
        return frame
    frame["comfort"] = np.round(np.maximum(1.0 + comfort.kappa[r, p] / aversion, 1.0), DECIMALS)
    frame["comfort_low"] = np.round(1.0 + comfort.low[r, p] / aversion, DECIMALS)
    high = 1.0 + comfort.high[r, p] / aversion
    frame["comfort_high"] = np.where(np.isfinite(high), np.round(high, DECIMALS), np.nan)
    frame["comfort_status"] = comfort.status[r, p]
    return frame


def funnel_report(params: Parameters, funnel: FunnelEstimate) -> pd.DataFrame:
    M, P = funnel.status.shape
    m, p = np.divmod(np.arange(M * P), P)
    frame = pd.DataFrame({"market_id": np.asarray(params.markets)[m], "product_id": np.asarray(params.products)[p]})
    for rate, values in funnel.rates.items():
        frame[rate] = np.round(values[m, p], DECIMALS)
        frame[f"{rate}_se"] = np.round(funnel.se[rate][m, p], DECIMALS)
    for name, values in funnel.support.items():
        frame[name] = np.round(values[m, p], 6)
    frame["status"] = funnel.status[m, p]
    return frame


def _count(values) -> dict[str, int]:
    return dict(sorted(Counter(str(v).split(":")[0] for v in values).items()))


def summary(dataset: Dataset, observed: Observed, skill: SkillEstimate, comfort: ComfortEstimate | None,
            funnel_frame: pd.DataFrame, rep_frame: pd.DataFrame) -> dict:
    """The figures a reader checks first: what the history held, what it identified, how well it fits."""
    params_reps = dataset.rep_ids
    over = np.flatnonzero(skill.hours_check > HOURS_WARNING)
    out = {
        "history": {
            "periods": observed.periods, "months": observed.months,
            "orders": float(observed.orders.sum()),
            "activity_logged": bool((observed.calls + observed.meetings + observed.quotes).sum() > 0),
            "rep_level_activity": observed.rep_level_activity,
            "plans": [{"periods": list(span.periods), "source": span.source} for span in observed.spans],
        },
        "skill_status": _count(rep_frame["skill_status"]),
        "comfort_status": _count(rep_frame["comfort_status"]),
        "funnel_status": _count(funnel_frame["status"]),
        "effort_aversion": {"value": dataset.company.effort_aversion, "status": EFFORT_AVERSION_STATUS},
        "hours_inconsistent_reps": [params_reps[i] for i in over[:20]],
        "hours_inconsistent_count": int(len(over)),
        "in_sample_wape": None if comfort is None or comfort.in_sample_wape is None else round(comfort.in_sample_wape, 4),
        "polish_rounds": None if comfort is None else comfort.polish_rounds,
        "market_scaled_share": None if comfort is None else round(float((comfort.market_factor < 1 - 1e-9).mean()), 4),
    }
    return out
