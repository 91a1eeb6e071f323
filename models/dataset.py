"""Loading and validating a dataset: the folder of CSV files plus `company.yaml` of DESIGN.md §2.

`load_dataset(path)` reads a folder; `dataset_from_tables(tables)` validates the same tables held in
memory (the synthetic generator and the service use it). Validation is strict and collects every
problem with its file, line and column: a negative price, a conversion rate outside (0, 1], an
unknown id, a duplicate key or a period the company does not list are all rejected before any
optimization starts. Optional columns get their documented defaults here, so the optimizer never
has to guess.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from models.errors import InputError, ProblemCollector, RenamedFiles, unknown_id, valid_ids_hint
from models.limits import (
    FORMULA_START, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_NUMBER, MAX_PERIOD_LENGTH, MAX_QUANTITY, MIN_NONZERO, SUSPECT_TEXT,
    formula_problem, magnitude_problem, safe_yaml_load, spreadsheet_text, text_problem,
)
from models.rules import RULE_KEYS, Rules, parse_rules

METRICS = ("revenue", "margin", "orders", "quotes", "meetings", "calls")
ALL_PRODUCTS = "*"
GROUP_PREFIX = "group:"


# --------------------------------------------------------------------------------------------
# Column schema


@dataclass(frozen=True)
class Column:
    """One column of a CSV file: its kind, whether it is required, its default and its rule."""

    name: str
    kind: str = "number"  # "id" (non-empty text), "text", "number"
    required: bool = True
    default: float | str | None = None
    rule: Callable[[pd.Series], pd.Series] | None = None  # True where the value is acceptable
    rule_text: str = ""
    maximum: float = MAX_NUMBER  # largest magnitude of a number (models/limits.py)


def _nonneg(s: pd.Series) -> pd.Series:
    return s >= 0


def _positive(s: pd.Series) -> pd.Series:
    return s > 0


def _rate(s: pd.Series) -> pd.Series:
    return (s > 0) & (s <= 1)


def _share(s: pd.Series) -> pd.Series:
    return (s >= 0) & (s <= 1)


def _at_least_one(s: pd.Series) -> pd.Series:
    return s >= 1


def _zero_one(s: pd.Series) -> pd.Series:
    return s.isin([0.0, 1.0])


NONNEG = dict(rule=_nonneg, rule_text="must be ≥ 0")
POSITIVE = dict(rule=_positive, rule_text="must be > 0")
RATE = dict(rule=_rate, rule_text="must be in (0, 1]")
SHARE = dict(rule=_share, rule_text="must be in [0, 1]")

SCHEMAS: dict[str, list[Column]] = {
    "products.csv": [
        Column("product_id", "id"),
        Column("name", "text"),
        Column("group", "id"),
        Column("unit_price", **NONNEG),
        Column("unit_cost", **NONNEG),
        Column("strategic", required=False, default=0.0, rule=_zero_one, rule_text="must be 0 or 1"),
        Column("min_share", required=False, default=0.0, **SHARE),
        Column("max_share", required=False, default=1.0, **SHARE),
        Column("supply_per_period", required=False, default=math.inf, **NONNEG),
    ],
    "markets.csv": [Column("market_id", "id"), Column("name", "text")],
    "reps.csv": [
        Column("rep_id", "id"),
        Column("name", "text"),
        Column("market_id", "id"),
        Column("team", "text"),
        Column("hours_per_period", **NONNEG),
        Column("target_variable_pay", **NONNEG),
        Column("base_pay", **NONNEG),
    ],
    "funnel.csv": [
        Column("market_id", "id"),
        Column("product_id", "id"),
        Column("call_to_meeting", **RATE),
        Column("meeting_to_quote", **RATE),
        Column("quote_to_order", **RATE),
    ],
    "rep_products.csv": [
        Column("rep_id", "id"),
        Column("product_id", "id"),
        Column("skill", required=False, default=1.0, **POSITIVE),
        Column("comfort", required=False, default=1.0, rule=_at_least_one, rule_text="must be ≥ 1"),
        Column("max_share", required=False, default=1.0, **SHARE),
    ],
    "demand.csv": [
        Column("market_id", "id"),
        Column("product_id", "id"),
        Column("period", "id"),
        Column("potential_orders", **NONNEG),
    ],
    "plan/components.csv": [
        Column("component_id", "id"),
        Column("metric", "id"),
        Column("products", "id"),
        Column("weight", **NONNEG),
    ],
    "plan/curve.csv": [Column("attainment", **NONNEG), Column("payout", **NONNEG)],
    "plan/targets.csv": [
        Column("rep_id", "id"),
        Column("component_id", "id"),
        Column("period", "id"),
        Column("target", **NONNEG),
    ],
    "actuals.csv": [
        Column("rep_id", "id"),
        Column("product_id", "id"),
        Column("period", "id"),
        Column("orders", required=False, default=0.0, maximum=MAX_QUANTITY, **NONNEG),
        Column("calls", required=False, default=0.0, maximum=MAX_QUANTITY, **NONNEG),
        Column("meetings", required=False, default=0.0, maximum=MAX_QUANTITY, **NONNEG),
        Column("quotes", required=False, default=0.0, maximum=MAX_QUANTITY, **NONNEG),
    ],
}

KEYS: dict[str, tuple[str, ...]] = {
    "products.csv": ("product_id",),
    "markets.csv": ("market_id",),
    "reps.csv": ("rep_id",),
    "funnel.csv": ("market_id", "product_id"),
    "rep_products.csv": ("rep_id", "product_id"),
    "demand.csv": ("market_id", "product_id", "period"),
    "plan/components.csv": ("component_id",),
    "plan/targets.csv": ("rep_id", "component_id", "period"),
    "actuals.csv": ("rep_id", "product_id", "period"),
}

DATASET_FILES = ("products.csv", "markets.csv", "reps.csv", "funnel.csv", "rep_products.csv", "demand.csv")
PLAN_FILES = ("plan/components.csv", "plan/curve.csv", "plan/targets.csv")

COMPANY_NUMBERS = {
    # key: (required, default, minimum, strictly positive?)
    "hours_per_call": (True, None, 0.0, False),
    "hours_per_meeting": (True, None, 0.0, False),
    "hours_per_quote": (True, None, 0.0, False),
    "hours_per_order": (True, None, 0.0, False),
    "comp_budget_rate": (True, None, 0.0, True),
    "effort_aversion": (True, None, 0.0, False),
    "change_penalty": (True, None, 0.0, False),
    "max_weight_change": (True, None, 0.0, False),
    "soft_penalty": (True, None, 0.0, False),
    "weeks_per_period": (False, 4.345, 0.0, True),
    "revenue_goal": (False, None, 0.0, False),
    "margin_goal": (False, None, 0.0, False),
}


# --------------------------------------------------------------------------------------------
# Domain objects


@dataclass(frozen=True)
class Company:
    """The settings of `company.yaml`."""

    name: str
    currency: str
    periods: tuple[str, ...]
    current_period: str | None
    hours_per_call: float
    hours_per_meeting: float
    hours_per_quote: float
    hours_per_order: float
    comp_budget_rate: float
    effort_aversion: float
    change_penalty: float
    max_weight_change: float
    soft_penalty: float
    weeks_per_period: float = 4.345
    revenue_goal: float | None = None
    margin_goal: float | None = None
    rules: Rules = field(default_factory=Rules)  # max_components, max_pay_cut, the curve family (§4.9)

    @property
    def open_periods(self) -> tuple[str, ...]:
        """The periods after `current_period`: the ones a plan may still change."""
        if self.current_period is None:
            return self.periods
        return self.periods[self.periods.index(self.current_period) + 1 :]

    @property
    def closed_periods(self) -> tuple[str, ...]:
        if self.current_period is None:
            return ()
        return self.periods[: self.periods.index(self.current_period) + 1]

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["periods"] = list(self.periods)
        rules = out.pop("rules").to_dict()
        out.update({k: rules[k] for k in RULE_KEYS})
        return out


@dataclass(frozen=True)
class Plan:
    """A compensation plan (§4.3): components with weights, a payout curve and per-rep targets.

    `component_products` maps each component to the product ids its `products` spec resolves to.
    """

    components: pd.DataFrame  # component_id, metric, products, weight
    curve: pd.DataFrame  # attainment, payout
    targets: pd.DataFrame  # rep_id, component_id, period, target
    component_products: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def component_ids(self) -> list[str]:
        return list(self.components["component_id"])

    @property
    def weights(self) -> dict[str, float]:
        return dict(zip(self.components["component_id"], self.components["weight"]))


@dataclass(frozen=True)
class Dataset:
    """A validated dataset. Frames keep the file's row order; optional columns are filled."""

    company: Company
    products: pd.DataFrame
    markets: pd.DataFrame
    reps: pd.DataFrame
    funnel: pd.DataFrame
    rep_products: pd.DataFrame
    demand: pd.DataFrame
    plan: Plan | None
    actuals: pd.DataFrame
    missing_demand_rows: int = 0
    source: str = "<memory>"

    @property
    def product_ids(self) -> list[str]:
        return list(self.products["product_id"])

    @property
    def rep_ids(self) -> list[str]:
        return list(self.reps["rep_id"])

    @property
    def market_ids(self) -> list[str]:
        return list(self.markets["market_id"])

    @property
    def groups(self) -> dict[str, list[str]]:
        return {g: list(df["product_id"]) for g, df in self.products.groupby("group", sort=False)}

    def with_plan(self, plan: Plan | None) -> "Dataset":
        return Dataset(**{**self.__dict__, "plan": plan})


# --------------------------------------------------------------------------------------------
# Reading


def read_tables(path: str | Path) -> dict[str, object]:
    """Read a dataset folder into raw tables keyed by relative file name (all CSV cells as text)."""
    root = Path(path)
    if not root.is_dir():
        raise InputError.single(str(root), "dataset folder not found")
    tables: dict[str, object] = {}
    company_file = root / "company.yaml"
    if company_file.is_file():
        try:
            text = company_file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError.single("company.yaml", f"not UTF-8 text: {exc}") from None
        tables["company.yaml"] = safe_yaml_load(text, file="company.yaml") or {}
    for name in (*DATASET_FILES, *PLAN_FILES, "actuals.csv"):
        file = root / name
        if file.is_file():
            tables[name] = read_csv(file, name)
    return tables


def read_csv(file: Path, name: str) -> pd.DataFrame:
    """Read a CSV file as text cells so that validation, not pandas, decides what a value means."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single(name, f"not a readable CSV file: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_csv(text, name)


def parse_csv(text: str, name: str) -> pd.DataFrame:
    """The text cells of a CSV document, strictly: a header row naming each column once, and no row
    with more fields than the header (blank lines are skipped; a short row's missing cells are
    empty). Errors name the line."""
    try:
        # header=None: pandas must not take a first row with an extra field as an index column
        cells = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError.single(name, "file is empty (a header row is required)") from None
    except pd.errors.ParserError as exc:
        extra = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if extra:
            expected, line, saw = (int(g) for g in extra.groups())
            raise InputError.single(name, f"row has {saw} fields, the header has {expected}", line=line) from None
        raise InputError.single(name, f"not a readable CSV file: {str(exc).strip()}") from None
    header = [str(c).strip() for c in cells.iloc[0]]
    problems = ProblemCollector()
    for column in sorted({c for c in header if header.count(c) > 1}):
        problems.add(name, "column appears twice in the header", line=1, column=column)
    problems.raise_if_any()
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return frame


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate a dataset folder (DESIGN.md §2). Raises InputError naming file/line/column."""
    return dataset_from_tables(read_tables(path), source=str(path))


# --------------------------------------------------------------------------------------------
# Validation


def _as_text_frame(table: object, name: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise InputError.single(name, "expected a table")
    frame = table.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def validate_table(table: object, name: str, problems: ProblemCollector) -> pd.DataFrame | None:
    """Check one table against its schema; return it typed with defaults filled, or None."""
    frame = _as_text_frame(table, name)
    schema = SCHEMAS[name]
    missing = [c.name for c in schema if c.required and c.name not in frame.columns]
    for col in missing:
        problems.add(name, "required column is missing", column=col)
    if missing:
        return None
    before = len(problems.problems)
    out = pd.DataFrame(index=frame.index)
    lines = frame.index.to_numpy() + 2  # header is line 1
    for col in schema:
        if col.name not in frame.columns:
            out[col.name] = col.default
            continue
        raw = frame[col.name]
        text = raw.astype(str).str.strip() if raw.dtype == object or raw.dtype == "string" else raw
        if col.kind in ("id", "text"):
            values = text.astype(str).str.strip()
            if col.kind == "id":
                for i in np.flatnonzero((values == "").to_numpy() | raw.isna().to_numpy()):
                    problems.add(name, "value is missing", line=int(lines[i]), column=col.name)
            longest = MAX_ID_LENGTH if col.kind == "id" else MAX_NAME_LENGTH
            suspect = (values.str.len() > longest) | values.str.contains(SUSPECT_TEXT, regex=True)
            if col.kind == "id":  # an id starting like a formula would run in a spreadsheet opening an export
                suspect |= values.str.startswith(FORMULA_START)
            for i in np.flatnonzero(suspect.to_numpy(dtype=bool)):
                value = values.iloc[i]
                problems.add(name, text_problem(value) or (formula_problem(value) if col.kind == "id" else None)
                             or f"longer than {longest} characters (got {len(value):,})",
                             line=int(lines[i]), column=col.name)
            out[col.name] = values
            continue
        if pd.api.types.is_numeric_dtype(raw):
            numbers = raw.astype(float)
            blank = raw.isna()
        else:
            blank = text.astype(str).str.strip() == ""
            numbers = pd.to_numeric(text.where(~blank, None), errors="coerce").astype(float)
        if not col.required:
            numbers = numbers.where(~blank, col.default)
        bad_blank = blank & col.required
        for i in np.flatnonzero(bad_blank.to_numpy()):
            problems.add(name, "value is missing", line=int(lines[i]), column=col.name)
        not_number = numbers.isna() & ~bad_blank
        for i in np.flatnonzero(not_number.to_numpy()):
            problems.add(name, f"not a number: {raw.iloc[i]!r}", line=int(lines[i]), column=col.name)
        infinite = np.isinf(numbers.to_numpy()) & ~blank.to_numpy()
        for i in np.flatnonzero(infinite):
            problems.add(name, f"must be finite (got {raw.iloc[i]!r})", line=int(lines[i]), column=col.name)
        size = np.abs(numbers.to_numpy(dtype=float))
        finite = ~np.isnan(size) & ~infinite & ~blank.to_numpy()
        for i in np.flatnonzero(finite & ((size > col.maximum) | ((size > 0) & (size < MIN_NONZERO)))):
            problems.add(name, magnitude_problem(float(numbers.iloc[i]), maximum=col.maximum) or "out of range",
                         line=int(lines[i]), column=col.name)
        if col.rule is not None:
            checkable = ~numbers.isna() & ~pd.Series(infinite | blank.to_numpy(), index=numbers.index)
            broken = checkable & ~col.rule(numbers.fillna(0.0))
            for i in np.flatnonzero(broken.to_numpy()):
                problems.add(
                    name, f"{col.rule_text} (got {raw.iloc[i]!r})", line=int(lines[i]), column=col.name
                )
        out[col.name] = numbers
    key = KEYS.get(name)
    if key:
        dup = out.duplicated(subset=list(key), keep="first")
        for i in np.flatnonzero(dup.to_numpy()):
            problems.add(
                name,
                "duplicate " + ", ".join(f"{k}={out[k].iloc[i]!r}" for k in key),
                line=int(lines[i]),
                column=key[-1],
            )
    if len(problems.problems) > before:
        return None
    return out.reset_index(drop=True)


def check_reference(
    frame: pd.DataFrame | None, name: str, column: str, known: set[str], what: str, problems: ProblemCollector
) -> None:
    """Every value of `column` must be one of `known` (a foreign key)."""
    if frame is None:
        return
    unknown = ~frame[column].isin(known)
    hint = valid_ids_hint(known)
    for i in np.flatnonzero(unknown.to_numpy()):
        problems.add(name, f"unknown {what} {frame[column].iloc[i]!r} {hint}", line=i + 2, column=column)


def validate_company(raw: object, problems: ProblemCollector) -> Company | None:
    """Check `company.yaml` and return a Company, or None after recording the problems."""
    name = "company.yaml"
    if not isinstance(raw, dict):
        problems.add(name, "must be a mapping of keys to values")
        return None
    before = len(problems.problems)
    known = {"name", "currency", "periods", "current_period", *COMPANY_NUMBERS, *RULE_KEYS}
    for key in raw:
        if key not in known:
            problems.add(name, "unknown key", column=str(key))
    values: dict[str, object] = {}
    for key in ("name", "currency"):
        if key not in raw or raw[key] in (None, ""):
            problems.add(name, "required key is missing", column=key)
        else:
            values[key] = str(raw[key])
            problem = text_problem(values[key]) or (
                f"longer than {MAX_NAME_LENGTH} characters" if len(values[key]) > MAX_NAME_LENGTH else None)
            if problem:
                problems.add(name, problem, column=key)
    periods = raw.get("periods")
    if not isinstance(periods, list) or not periods:
        problems.add(name, "required: a non-empty list of period labels", column="periods")
        periods = []
    labels = [str(p) for p in periods]
    for i, label in enumerate(labels):
        problem = text_problem(label) or ("must not be empty" if not label.strip() else None) or (
            f"longer than {MAX_PERIOD_LENGTH} characters" if len(label) > MAX_PERIOD_LENGTH else None) or (
            formula_problem(label.strip()))
        if problem or isinstance(periods[i], (list, dict)):
            problems.add(name, problem or "must be a label, not a list or mapping", column=f"periods[{i}]")
    if len(set(labels)) != len(labels):
        dup = next(label for label in labels if labels.count(label) > 1)
        problems.add(name, f"period labels must be unique ({dup!r} is listed twice)", column="periods")
    else:
        for before_label, label in out_of_order(labels):
            problems.add(name, f"periods are out of order: {label!r} comes after {before_label!r}",
                         column="periods")
    values["periods"] = tuple(labels)
    current = raw.get("current_period")
    if current is not None and str(current) not in labels:
        problems.add(name, f"{current!r} is not one of the listed periods", column="current_period")
    values["current_period"] = None if current is None else str(current)
    for key, (required, default, minimum, strict) in COMPANY_NUMBERS.items():
        value = raw.get(key)
        if value is None:
            if required:
                problems.add(name, "required key is missing", column=key)
            values[key] = default
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.add(name, f"not a number: {value!r}", column=key)
            continue
        value = float(value)
        if not math.isfinite(value):
            problems.add(name, f"must be finite (got {value!r})", column=key)
        elif magnitude_problem(value):
            problems.add(name, magnitude_problem(value), column=key)
        elif value < minimum or (strict and value <= minimum):
            problems.add(name, f"must be {'>' if strict else '≥'} {minimum:g} (got {value:g})", column=key)
        values[key] = value
    rules = parse_rules({k: raw.get(k) for k in RULE_KEYS}, name, problems)
    if len(problems.problems) > before:
        return None
    return Company(**values, rules=rules)  # type: ignore[arg-type]


PERIOD_FORMATS = (
    (re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$"), lambda m: (int(m[1]), int(m[2]), int(m[3] or 0))),  # 2026-04(-01)
    (re.compile(r"^(\d{4})-?Q([1-4])$"), lambda m: (int(m[1]), int(m[2]), 0)),  # 2026-Q2
    (re.compile(r"^(\d+)$"), lambda m: (int(m[1]), 0, 0)),  # 1, 2, 3
)


def out_of_order(labels: list[str]) -> list[tuple[str, str]]:
    """(earlier, later) pairs where a label sorts before the one listed ahead of it. Checked only
    when every label has one recognised calendar form (YYYY-MM, YYYY-MM-DD, YYYY-Qn or a number);
    other labels are taken in the order given."""
    for pattern, key in PERIOD_FORMATS:
        matches = [pattern.match(label) for label in labels]
        if all(matches):
            keys = [key(m) for m in matches]
            return [(labels[i], labels[i + 1]) for i in range(len(keys) - 1) if keys[i + 1] <= keys[i]]
    return []


def resolve_products(spec: str, product_ids: list[str], groups: dict[str, list[str]]) -> list[str] | str:
    """Resolve a component's `products` spec to product ids, or return an error message."""
    spec = spec.strip()
    if spec == ALL_PRODUCTS:
        return list(product_ids)
    if spec.startswith(GROUP_PREFIX):
        group = spec[len(GROUP_PREFIX) :].strip()
        if group not in groups:
            return unknown_id("product group", group, groups)
        return list(groups[group])
    ids = [part.strip() for part in spec.split(";") if part.strip()]
    unknown = [p for p in ids if p not in set(product_ids)]
    if not ids:
        return "names no product"
    if unknown:
        return unknown_id("product id", unknown[0], product_ids)
    return ids


def validate_plan(
    tables: dict[str, object],
    *,
    product_ids: list[str],
    groups: dict[str, list[str]],
    rep_ids: set[str],
    periods: set[str],
    problems: ProblemCollector,
) -> Plan | None:
    """Validate the three plan files (components, curve, targets) against the dataset's ids."""
    before = len(problems.problems)
    frames = {}
    for name in PLAN_FILES:
        if name not in tables:
            problems.add(name, "file is missing (a plan needs components, curve and targets)")
            continue
        frame = validate_table(tables[name], name, problems)
        frames[name] = frame
    if len(problems.problems) > before:
        return None
    components, curve, targets = (frames[n] for n in PLAN_FILES)
    comp_file = "plan/components.csv"
    component_products: dict[str, tuple[str, ...]] = {}
    for i, row in components.iterrows():
        if row["metric"] not in METRICS:
            problems.add(comp_file, f"unknown metric {row['metric']!r} (use one of {', '.join(METRICS)})",
                         line=i + 2, column="metric")
        resolved = resolve_products(row["products"], product_ids, groups)
        if isinstance(resolved, str):
            problems.add(comp_file, resolved, line=i + 2, column="products")
        else:
            component_products[row["component_id"]] = tuple(resolved)
    if len(components) == 0:
        problems.add(comp_file, "a plan needs at least one component")
    elif abs(components["weight"].sum() - 1.0) > 1e-6:
        problems.add(comp_file, f"weights must sum to 1 (they sum to {components['weight'].sum():.6g})",
                     column="weight")
    curve_file = "plan/curve.csv"
    if len(curve) < 2:
        problems.add(curve_file, "the payout curve needs at least two points")
    else:
        if curve["attainment"].iloc[0] != 0 or curve["payout"].iloc[0] != 0:
            problems.add(curve_file, "the first point must be (0, 0)", line=2, column="attainment")
        steps = np.diff(curve["attainment"].to_numpy())
        for i in np.flatnonzero(steps <= 0):
            problems.add(curve_file, "attainment must increase from row to row", line=int(i) + 3,
                         column="attainment")
    target_file = "plan/targets.csv"
    check_reference(targets, target_file, "rep_id", rep_ids, "rep", problems)
    check_reference(targets, target_file, "component_id", set(components["component_id"]), "component", problems)
    check_reference(targets, target_file, "period", periods, "period (not listed in company.yaml)", problems)
    if len(problems.problems) > before:
        return None
    return Plan(components=components, curve=curve, targets=targets, component_products=component_products)



def dataset_from_tables(tables: dict[str, object], *, source: str = "<memory>") -> Dataset:
    """Validate raw tables (keyed by relative file name) into a Dataset, or raise InputError."""
    problems = ProblemCollector()
    if "company.yaml" not in tables:
        problems.add("company.yaml", "file is missing")
    for name in DATASET_FILES:
        if name not in tables:
            problems.add(name, "file is missing")
    problems.raise_if_any()

    company = validate_company(tables["company.yaml"], problems)
    frames = {name: validate_table(tables[name], name, problems) for name in DATASET_FILES}
    products, markets, reps, funnel, rep_products, demand = (frames[n] for n in DATASET_FILES)
    for name, frame in frames.items():
        if frame is not None and len(frame) == 0:
            problems.add(name, "has no data rows (a header alone describes no "
                               f"{name.removesuffix('.csv').replace('_', ' ')}; at least one row is needed)")
    problems.raise_if_any()
    assert company is not None and products is not None and markets is not None and reps is not None

    product_ids, market_ids, rep_ids = set(products["product_id"]), set(markets["market_id"]), set(reps["rep_id"])
    periods = set(company.periods)
    bad_shares = products["min_share"] > products["max_share"]
    for i in np.flatnonzero(bad_shares.to_numpy()):
        problems.add("products.csv", "min_share is larger than max_share", line=int(i) + 2, column="min_share")
    check_reference(reps, "reps.csv", "market_id", market_ids, "market", problems)
    check_reference(funnel, "funnel.csv", "market_id", market_ids, "market", problems)
    check_reference(funnel, "funnel.csv", "product_id", product_ids, "product", problems)
    check_reference(rep_products, "rep_products.csv", "rep_id", rep_ids, "rep", problems)
    check_reference(rep_products, "rep_products.csv", "product_id", product_ids, "product", problems)
    check_reference(demand, "demand.csv", "market_id", market_ids, "market", problems)
    check_reference(demand, "demand.csv", "product_id", product_ids, "product", problems)
    check_reference(demand, "demand.csv", "period", periods, "period (not listed in company.yaml)", problems)
    problems.raise_if_any()

    have = set(zip(funnel["market_id"], funnel["product_id"]))
    for m in markets["market_id"]:
        for p in products["product_id"]:
            if (m, p) not in have:
                problems.add("funnel.csv", f"no row for market {m!r} and product {p!r} (one per market × product)")
    groups = {g: list(df["product_id"]) for g, df in products.groupby("group", sort=False)}

    plan = None
    if any(name in tables for name in PLAN_FILES):
        plan = validate_plan(
            tables, product_ids=list(products["product_id"]), groups=groups, rep_ids=rep_ids,
            periods=periods, problems=problems,
        )

    actuals = pd.DataFrame(columns=[c.name for c in SCHEMAS["actuals.csv"]])
    if "actuals.csv" in tables:
        checked = validate_table(tables["actuals.csv"], "actuals.csv", problems)
        if checked is not None:
            actuals = checked
            check_actuals(actuals, periods=company.periods, closed=company.closed_periods, rep_ids=rep_ids,
                          product_ids=product_ids, file="actuals.csv", problems=problems)
    problems.raise_if_any()

    full = len(market_ids) * len(product_ids) * len(periods)
    return Dataset(
        company=company, products=products, markets=markets, reps=reps, funnel=funnel,
        rep_products=rep_products, demand=demand, plan=plan, actuals=actuals,
        missing_demand_rows=full - len(demand), source=source,
    )


def check_actuals(
    actuals: pd.DataFrame, *, periods: Sequence[str], closed: Iterable[str] | None, rep_ids: Iterable[str],
    product_ids: Iterable[str], file: str, problems: ProblemCollector,
    locate: Callable[[int, str], tuple[str, int | None, str]] | None = None, closing_hint: str = "",
) -> None:
    """The one check of actuals rows (the loader, the API and `comptune pay` use it): known reps and
    products (or `*` for rep-level activity, which carries no orders) in periods the company lists
    and, unless `closed` is None, in closed periods.

    `actuals` holds the typed columns of `actuals.csv` (see `validate_table`); `locate(i, column)`
    gives (file, line, column) of row i when the rows did not come from a file (default: `file`,
    line i + 2)."""
    where = locate or (lambda i, column: (file, i + 2, column))

    def add(i: int, column: str, message: str) -> None:
        at_file, line, at_column = where(int(i), column)
        problems.add(at_file, message, line=line, column=at_column)

    listed = set(periods)
    for column, known, what in (("rep_id", set(rep_ids), "rep"),
                                ("product_id", set(product_ids) | {ALL_PRODUCTS}, "product"),
                                ("period", listed, "period (not listed in company.yaml)")):
        unknown = np.flatnonzero((~actuals[column].isin(known)).to_numpy())
        hint = valid_ids_hint(known) if len(unknown) else ""
        for i in unknown:
            add(i, column, f"unknown {what} {actuals[column].iloc[i]!r} {hint}")
    if closed is not None:
        open_rows = ~actuals["period"].isin(set(closed)) & actuals["period"].isin(listed)
        closed_list = [p for p in periods if p in set(closed)]
        current = closed_list[-1] if closed_list else None
        for i in np.flatnonzero(open_rows.to_numpy()):
            add(i, "period", f"period {actuals['period'].iloc[i]!r} is not closed (current_period is {current!r}"
                             f"{closing_hint})")
    star_orders = (actuals["product_id"] == ALL_PRODUCTS) & (actuals["orders"] > 0)
    for i in np.flatnonzero(star_orders.to_numpy()):
        add(i, "orders", "orders need a product id (`*` rows carry activity only)")


def load_plan(path: str | Path, dataset: Dataset) -> Plan:
    """Read and validate a plan folder (components.csv, curve.csv, targets.csv) against a dataset.

    `path` may be the plan folder itself or a folder that holds `plan/`.
    """
    root = Path(path)
    if (root / "plan").is_dir():
        root = root / "plan"
    if not root.is_dir():
        raise InputError.single(str(path), "plan folder not found")
    tables = {}
    for name in PLAN_FILES:
        file = root / Path(name).name
        if file.is_file():
            tables[name] = read_csv(file, f"{root}/{Path(name).name}")
    problems = ProblemCollector()
    plan = validate_plan(
        tables, product_ids=dataset.product_ids, groups=dataset.groups, rep_ids=set(dataset.rep_ids),
        periods=set(dataset.company.periods), problems=RenamedFiles(problems, lambda name: str(root / Path(name).name)),
    )
    problems.raise_if_any()
    assert plan is not None
    return plan



def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` for a CSV report a person opens in a spreadsheet: text starting like a formula
    (`= + - @`, tab, CR) gets a leading `'` (`limits.spreadsheet_text`), so a name or a reason
    never runs as one; numbers are unchanged, and ids never start so (refused at load). Not for
    the files comptune reads back (a plan folder: `write_plan`), which hold ids and numbers only."""
    out = frame.copy()
    for i, column in enumerate(frame.columns):
        values = frame.iloc[:, i]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            out.iloc[:, i] = values.map(spreadsheet_text)
    return out


def write_plan(plan: Plan, out_dir: str | Path) -> None:
    """Write a plan in the `plan/` format (components.csv, curve.csv, targets.csv) to `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan.components[["component_id", "metric", "products", "weight"]].to_csv(out / "components.csv", index=False)
    plan.curve[["attainment", "payout"]].to_csv(out / "curve.csv", index=False)
    plan.targets[["rep_id", "component_id", "period", "target"]].to_csv(out / "targets.csv", index=False)
