"""The alarms table (§4.8), computed once per state of the data it depends on, kept by the service.

Computing alarms rebuilds the dataset from the database and runs the pace, forecast and funnel
checks: about 0.3 s on the sample, for a table that changes only when the data does. The cache key
is that data's state — the dataset, the plan version in force, the last closed period, and the
count and latest update time of the actuals — read with one small query per request, so a new
plan, a closed period or any changed actual is seen at once, by every service process alike.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import store
from api.db.tables import ActualRow, DatasetRow
from models.dataset import Dataset
from optimizer.review.alarms import DEFAULT_THRESHOLDS, alarms


class AlarmsCache:
    """A few alarm tables, keyed by the state of their inputs (least recently used dropped first)."""

    def __init__(self, size: int = 4):
        self.size = size
        self._tables: OrderedDict[tuple, tuple[pd.DataFrame, Dataset]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, *, session: Session, dataset_row: DatasetRow) -> tuple[pd.DataFrame, Dataset]:
        """The alarms of the plan in force (all severities, worst first) and the dataset they are of
        (read it, do not change it: it is shared)."""
        count, updated = session.execute(select(func.count(), func.max(ActualRow.updated_at))
                                         .where(ActualRow.dataset_id == dataset_row.id)).one()
        key = (dataset_row.id, dataset_row.plan_version, dataset_row.company.get("current_period"), count,
               str(updated))
        with self._lock:
            if key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
        dataset = store.build_dataset(session=session, dataset=dataset_row)
        entry = (alarms(dataset, thresholds=DEFAULT_THRESHOLDS), dataset)
        with self._lock:
            self._tables[key] = entry
            while len(self._tables) > self.size:
                self._tables.popitem(last=False)
        return entry
