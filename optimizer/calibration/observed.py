"""The history as arrays: orders and activity per rep, product and closed period, and the plan of each period.

Everything the estimators read is a dense (R, P, T) array over the dataset's reps and products and
the periods the history covers (T, in the company's order), with `span_of[t]` the index of the plan
span (`models.history.PlanSpan`) in force in period t. Rep-level activity (product `*`) is kept
apart: it carries no product and the estimators of §4.11 read activity per product.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from models.dataset import ALL_PRODUCTS, Dataset
from models.history import MEASURES, PlanSpan, history_periods
from optimizer.parameters import Parameters


@dataclass
class Observed:
    """Orders and activity of the history, (R, P, T) each, and the plan spans over its periods."""

    periods: list[str]  # the history's periods, in order
    index: np.ndarray  # (T,) their positions in the company's periods
    orders: np.ndarray
    calls: np.ndarray
    meetings: np.ndarray
    quotes: np.ndarray
    spans: list[PlanSpan]
    span_of: np.ndarray  # (T,) which span is in force in each period
    rep_level_activity: float = 0.0  # calls + meetings + quotes logged on product `*` (not used per product)

    def subset(self, periods: list[str]) -> "Observed":
        """The same history restricted to some of its periods (the holdout's fit months)."""
        keep = np.array([self.periods.index(p) for p in periods], dtype=int)
        used = sorted(set(self.span_of[keep].tolist()))
        renumber = {old: new for new, old in enumerate(used)}
        spans = [replace(self.spans[i], periods=tuple(p for p in self.spans[i].periods if p in set(periods)))
                 for i in used]
        return Observed(periods=list(periods), index=self.index[keep], orders=self.orders[:, :, keep],
                        calls=self.calls[:, :, keep], meetings=self.meetings[:, :, keep],
                        quotes=self.quotes[:, :, keep], spans=spans,
                        span_of=np.array([renumber[s] for s in self.span_of[keep]], dtype=int),
                        rep_level_activity=self.rep_level_activity)

    @property
    def months(self) -> int:
        return len(self.periods)


def observed_arrays(dataset: Dataset, params: Parameters, history: pd.DataFrame, spans: list[PlanSpan]) -> Observed:
    """Arrange a validated history (models.history.load_history) and its plan spans as arrays."""
    periods = history_periods(dataset, history)
    position = {p: i for i, p in enumerate(params.periods)}
    column = {p: i for i, p in enumerate(periods)}
    R, P, T = len(params.reps), len(params.products), len(periods)
    rows = history[history["product_id"] != ALL_PRODUCTS]
    r = pd.Index(params.reps).get_indexer(rows["rep_id"])
    p = pd.Index(params.products).get_indexer(rows["product_id"])
    t = rows["period"].map(column).to_numpy(int)
    arrays = {}
    for measure in MEASURES:
        grid = np.zeros((R, P, T))
        np.add.at(grid, (r, p, t), rows[measure].to_numpy(float))
        arrays[measure] = grid
    span_of = np.full(T, -1, dtype=int)
    for s, span in enumerate(spans):
        for label in span.periods:
            if label in column:
                span_of[column[label]] = s
    if (span_of < 0).any():
        raise ValueError("every period of the history needs a plan span (models.history.resolve_spans checks it)")
    star = history[history["product_id"] == ALL_PRODUCTS]
    return Observed(periods=periods, index=np.array([position[q] for q in periods], dtype=int), spans=spans,
                    span_of=span_of, rep_level_activity=float(star[["calls", "meetings", "quotes"]].to_numpy().sum()),
                    **arrays)


def with_periods_open(params: Parameters, index: np.ndarray) -> Parameters:
    """The parameters with `index` as the periods a plan is answered in (the history's, not the open ones)."""
    return replace(params, open_index=np.asarray(index, dtype=int))
