"""The history a calibration reads (DESIGN.md §4.11): the actuals of the closed periods and the plan in
force in each of them.

`load_history` validates an actuals file (the `actuals.csv` format) for calibration: on top of the
loader's checks (known reps, products and periods; closed periods only) it refuses an empty history
and orders or activity on a product the rep may not sell (no `rep_products.csv` row). `plan_spans`
reads a plans map — which plan folder (or, in the service, which stored plan version) was in force
in which closed periods — and refuses gaps (a period of the history under no plan), overlaps (a
period under two) and periods the company does not list or has not closed. Every problem names the
file, the line and the column or key, and nothing is half-read.

A plans map file (YAML or JSON), paths relative to the map's folder::

    plans:
      - periods: {from: 2026-01, to: 2026-06}
        plan: plans/first-half      # components.csv, curve.csv, targets.csv
      - periods: {from: 2026-07}    # an open end runs to the last period of the history
        plan: ../plan
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from models.dataset import ALL_PRODUCTS, Dataset, Plan, check_actuals, load_plan, read_csv, validate_table
from models.errors import InputError, ProblemCollector, RenamedFiles, unknown_id
from models.limits import safe_yaml_load

MEASURES = ("orders", "calls", "meetings", "quotes")


@dataclass(frozen=True)
class PlanSpan:
    """The plan in force over some closed periods of the history."""

    periods: tuple[str, ...]
    plan: Plan
    source: str  # the plan folder, or "plan version N" in the service


def load_history(dataset: Dataset, path: str | Path | None = None, *,
                 locate: Callable[[int, str], tuple[str, int | None, str]] | None = None) -> pd.DataFrame:
    """The actuals a calibration fits: `path` (an actuals.csv-format file) or the dataset's own.

    Raises InputError naming the file, line and column for an unknown rep, product or period, a
    period that is not closed, a product the rep may not sell, or a history without orders.
    `locate(i, column)` names row i of the dataset's own actuals when they did not come from a file
    (the service's stored actuals)."""
    name = str(path) if path is not None else "actuals.csv"
    problems = ProblemCollector()
    if path is None:
        actuals = dataset.actuals
    else:
        file = Path(path)
        if not file.is_file():
            raise InputError.single(name, "history file not found")
        checked = validate_table(read_csv(file, name), "actuals.csv", RenamedFiles(problems, lambda _: name))
        problems.raise_if_any()
        assert checked is not None
        actuals = checked
        check_actuals(actuals, periods=dataset.company.periods, closed=dataset.company.closed_periods,
                      rep_ids=dataset.rep_ids, product_ids=dataset.product_ids, file=name, problems=problems)
        problems.raise_if_any()
    check_sellable(actuals, dataset, file=name, problems=problems, locate=locate if path is None else None)
    problems.raise_if_any()
    product_rows = actuals[actuals["product_id"] != ALL_PRODUCTS]
    if len(actuals) == 0 or float(product_rows["orders"].sum()) <= 0:
        why = "has no rows" if len(actuals) == 0 else "has no orders"
        raise InputError.single(name if locate is None else locate(0, "orders")[0], f"the history {why}: a calibration needs the orders of at least one closed "
                                      "period (comptune import turns a CRM export into actuals.csv)")
    return actuals.reset_index(drop=True)


def stored_history(dataset: Dataset, *, source: str = "actuals") -> pd.DataFrame:
    """The dataset's own actuals as a calibration's history when they were not read from a file (the
    service's stored actuals): a problem names the row by its rep, product and period."""
    actuals = dataset.actuals

    def locate(i: int, column: str) -> tuple[str, None, str]:
        if not len(actuals):
            return source, None, column
        row = actuals.iloc[i]
        return source, None, f"{column} of rep {row['rep_id']}, product {row['product_id']}, period {row['period']}"

    return load_history(dataset, locate=locate)


def check_sellable(actuals: pd.DataFrame, dataset: Dataset, *, file: str, problems: ProblemCollector,
                   locate: Callable[[int, str], tuple[str, int | None, str]] | None = None) -> None:
    """A row with orders or activity on a product the rep may not sell (no rep_products.csv row) is bad input."""
    where = locate or (lambda i, column: (file, i + 2, column))
    pairs = set(zip(dataset.rep_products["rep_id"], dataset.rep_products["product_id"]))
    keys = list(zip(actuals["rep_id"], actuals["product_id"]))
    busy = (actuals[list(MEASURES)].to_numpy(float) > 0).any(axis=1)
    for i in np.flatnonzero(busy):
        rep, product = keys[i]
        if product != ALL_PRODUCTS and (rep, product) not in pairs:
            at_file, line, column = where(int(i), "product_id")
            problems.add(at_file, f"rep {rep!r} may not sell product {product!r} (no rep_products.csv row), "
                                  "yet the history has orders or activity on it", line=line, column=column)


# --------------------------------------------------------------------------------------------
# Which plan was in force when


@dataclass(frozen=True)
class SpanEntry:
    """One entry of a plans map before its plan is read: an inclusive range and where it is."""

    start: str | None
    end: str | None
    at: str  # the entry's key path (plans[0]) for messages
    line: int | None  # its line in the map file, when it came from one


def history_periods(dataset: Dataset, history: pd.DataFrame) -> list[str]:
    """The closed periods the history has rows for, in the company's order."""
    present = set(history["period"])
    return [p for p in dataset.company.periods if p in present]


def resolve_spans(entries: list[SpanEntry], dataset: Dataset, needed: list[str], *, file: str,
                  problems: ProblemCollector) -> list[list[str]]:
    """The periods of each entry (None-free labels, in order); gaps, overlaps, unknown or open periods
    become problems naming the entry's line and key."""
    periods = list(dataset.company.periods)
    closed = set(dataset.company.closed_periods)
    first, last = (needed[0], needed[-1]) if needed else (None, None)
    covered: dict[str, SpanEntry] = {}
    out: list[list[str]] = []
    for entry in entries:
        labels: list[str] = []
        ok = True
        for key, label in (("from", entry.start), ("to", entry.end)):
            if label is not None and label not in periods:
                problems.add(file, unknown_id("period", label, periods), line=entry.line,
                             column=f"{entry.at}.periods.{key}")
                ok = False
        if ok:
            lo = periods.index(entry.start) if entry.start is not None else (periods.index(first) if first else 0)
            hi = periods.index(entry.end) if entry.end is not None else (periods.index(last) if last else -1)
            if lo > hi:
                problems.add(file, "`from` comes after `to` (or after the last period of the history)",
                             line=entry.line, column=f"{entry.at}.periods")
            labels = periods[lo:hi + 1]
            for label in labels:
                if label not in closed:
                    problems.add(file, f"period {label!r} is not closed (current_period is "
                                       f"{dataset.company.current_period!r}): a plans map covers history only",
                                 line=entry.line, column=f"{entry.at}.periods")
                    break
                if label in covered:
                    other = covered[label]
                    where = f"line {other.line}" if other.line is not None else other.at
                    problems.add(file, f"period {label!r} is already under the plan of {where}: entries overlap",
                                 line=entry.line, column=f"{entry.at}.periods")
                    break
                covered[label] = entry
        out.append(labels)
    for label in needed:
        if label not in covered:
            problems.add(file, f"period {label!r} of the history is under no plan: the map has a gap "
                               "(every period with actuals needs the plan in force then)", column="plans")
    return out


def load_plan_map(path: str | Path, dataset: Dataset, history: pd.DataFrame) -> list[PlanSpan]:
    """Read a plans map file (see the module docstring) against the dataset and its history."""
    file = Path(path)
    name = str(path)
    if not file.is_file():
        raise InputError.single(name, "plans map not found")
    text = file.read_text(encoding="utf-8")
    raw = safe_yaml_load(text, file=name)
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    problems = ProblemCollector()
    items, item_nodes = _entries(raw, node, name, problems)
    problems.raise_if_any()
    entries, plans_at = [], []
    for i, (item, item_node) in enumerate(zip(items, item_nodes)):
        at, line = f"plans[{i}]", item_node.start_mark.line + 1
        if not isinstance(item, dict):
            problems.add(name, "an entry is a mapping with `periods` and `plan`", line=line, column=at)
            continue
        unknown = sorted(set(item) - {"periods", "plan"})
        for key in unknown:
            problems.add(name, "unknown key", line=line, column=f"{at}.{key}")
        span = item.get("periods")
        if not isinstance(span, dict) or set(span) - {"from", "to"}:
            problems.add(name, "`periods` is {from, to} (either may be omitted)", line=line, column=f"{at}.periods")
            continue
        if not isinstance(item.get("plan"), str) or not item["plan"].strip():
            problems.add(name, "`plan` is the path of a plan folder", line=line, column=f"{at}.plan")
            continue
        entries.append(SpanEntry(start=_label(span.get("from")), end=_label(span.get("to")), at=at, line=line))
        plans_at.append((item["plan"], line, at))
    problems.raise_if_any()
    spans = resolve_spans(entries, dataset, history_periods(dataset, history), file=name, problems=problems)
    problems.raise_if_any()
    out = []
    for labels, (plan_path, line, at) in zip(spans, plans_at):
        folder = (file.parent / plan_path).resolve()
        if not folder.is_dir():
            problems.add(name, f"plan folder {plan_path!r} not found (paths are relative to the map's folder)",
                         line=line, column=f"{at}.plan")
            continue
        try:
            plan = load_plan(folder, dataset)
        except InputError as error:
            problems.problems.extend(error.problems)
            continue
        out.append(PlanSpan(periods=tuple(labels), plan=plan, source=str(folder)))
    problems.raise_if_any()
    return out


def _label(value) -> str | None:
    return None if value is None else str(value)


def _entries(raw, node, name: str, problems: ProblemCollector) -> tuple[list, list]:
    """The entries of `plans:` and their YAML nodes (for line numbers)."""
    if not isinstance(raw, dict) or "plans" not in raw or not isinstance(raw["plans"], list) or not raw["plans"]:
        problems.add(name, "a plans map is {plans: [{periods: {from, to}, plan: FOLDER}, ...]} with at least one entry",
                     column="plans")
        return [], []
    for key in sorted(set(raw) - {"plans"}):
        problems.add(name, "unknown key", column=str(key))
    plans_node = next(value for key, value in node.value if key.value == "plans")
    return raw["plans"], list(plans_node.value)


def default_spans(dataset: Dataset, history: pd.DataFrame) -> list[PlanSpan]:
    """Without a plans map: the dataset's plan in force over the whole history."""
    if dataset.plan is None:
        raise InputError.single("plan/components.csv", "the dataset has no plan in force; a calibration needs the "
                                                       "plan the reps were paid on (or a plans map: --plans)")
    return [PlanSpan(periods=tuple(history_periods(dataset, history)), plan=dataset.plan, source="plan")]
