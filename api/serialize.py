"""Turning domain values into stored or returned JSON, and back: one home for the API's serialisation.

`jsonable` makes any result value plain JSON (numpy scalars unwrapped, non-finite floats as null,
frames as records); `frame_to_json` / `frame_from_json` store a table as `{columns, data}` with
JSON-safe cells. The store, the job runner and the routers all use these, so a figure is written
and read back the same way everywhere.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, non-finite floats as null, frames as records."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return jsonable(value.to_dict(orient="records"))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """A table as a list of JSON-safe row dicts — the same as `jsonable(frame.to_dict("records"))`,
    column by column: numeric columns through numpy's `tolist` (native Python numbers), only text
    and other object cells through `jsonable`. A review's adjustments (13,000 rows at 300 reps)
    take a third of the time, which is GIL time every other request waits for."""
    if not len(frame.columns):
        return [{} for _ in range(len(frame))]
    columns = [str(c) for c in frame.columns]
    values = []
    for i in range(len(frame.columns)):
        column = frame.iloc[:, i]
        kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else None
        if kind == "f":
            array = column.to_numpy(dtype=float)
            cells = array.tolist()
            if not np.isfinite(array).all():
                cells = [v if math.isfinite(v) else None for v in cells]
        elif kind in ("i", "u", "b"):
            cells = column.to_numpy().tolist()
        else:
            cells = [None if v is pd.NA or v is pd.NaT else jsonable(v) for v in column.tolist()]
        values.append(cells)
    return [dict(zip(columns, row)) for row in zip(*values)]


def frame_to_json(frame: pd.DataFrame) -> dict:
    """A table as {columns, data} with JSON-safe cells (non-finite numbers become null)."""
    data = []
    for row in frame.itertuples(index=False, name=None):
        data.append([_cell(v) for v in row])
    return {"columns": [str(c) for c in frame.columns], "data": data}


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (bool,)):
        return value
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def frame_from_json(content: dict) -> pd.DataFrame:
    """The table `frame_to_json` stored."""
    return pd.DataFrame(content["data"], columns=content["columns"])
