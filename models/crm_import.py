"""A CRM export into `actuals.csv` (DESIGN.md §2, §4.11): opportunity lines or activities, mapped by a column map.

A column map (YAML) names the export's own columns and how its values read::

    kind: opportunities            # or: activities
    columns:                       # comptune field: the export's column name
      owner: Opportunity Owner     # → rep (reps.csv rep_id or name, or the `owners` mapping)
      product: Product Code        # → product (product_id or name, or `products`); activities may omit it
      date: Close Date             # → period: the company's YYYY-MM (or YYYY-Qn) period holding the date
      quantity: Quantity           # optional, default 1 per line
      stage: Stage                 # opportunities: the stage → order / quote
      id: Line ID                  # optional: two lines with one id are duplicates
    date_format: "%d/%m/%Y"        # optional strptime format; default ISO (2026-03-31, a time may follow)
    stages:                        # opportunities
      order: [Closed Won]          # an order (and the quote it was won from)
      quote: [Proposal, Negotiation]
      skip: [Closed Lost, Prospecting]
    types:                         # activities: the `type` column → call / meeting / quote
      call: [Call]
      meeting: [Meeting, Demo]
      skip: [Email]
    owners: {Anna B.: R01}         # optional value mappings, tried before ids and names
    products: {SKU-9: hmi-pro}

`import_transactions` reads the export and returns the actuals rows (summed per rep, product and
period) or raises InputError naming the export file, the line and the export's column for every
unknown owner or product, unparsable date, date outside the company's closed periods, unknown stage
or type, bad quantity, duplicate line and product the rep may not sell. With `skip_unknown` those
lines are left out instead, counted and listed per kind. A problem with the map itself or a column
missing from the export is always an error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from models.dataset import ALL_PRODUCTS, Dataset, read_csv
from models.errors import InputError, ProblemCollector, valid_ids_hint
from models.limits import MAX_QUANTITY, safe_yaml_load

KINDS = {"opportunities": ("stage", "stages", ("order", "quote", "skip")),
         "activities": ("type", "types", ("call", "meeting", "quote", "skip"))}
FIELDS = ("owner", "product", "date", "quantity", "stage", "type", "id")
EXAMPLES_LISTED = 10  # values (or lines) listed per kind of skipped line
ACTUAL_COLUMNS = ("rep_id", "product_id", "period", "orders", "calls", "meetings", "quotes")


@dataclass(frozen=True)
class ColumnMap:
    """A validated column map."""

    kind: str
    columns: dict[str, str]  # comptune field → export column
    date_format: str | None
    categories: dict[str, str]  # stage or type value → order | quote | call | meeting | skip
    owners: dict[str, str]
    products: dict[str, str]
    source: str


@dataclass
class ImportResult:
    actuals: pd.DataFrame  # ACTUAL_COLUMNS, one row per rep, product and period
    lines: int  # data lines read
    used: int  # lines that became actuals
    left_out: int  # lines in a `skip` stage or type
    skipped: dict[str, dict] = field(default_factory=dict)  # kind → {count, examples} (skip_unknown)

    def to_dict(self) -> dict:
        return {"lines": self.lines, "used": self.used, "left_out_by_stage_or_type": self.left_out,
                "skipped": self.skipped, "rows": len(self.actuals)}


def load_column_map(path: str | Path, dataset: Dataset) -> ColumnMap:
    """Read and validate a column map; InputError names the key."""
    file = Path(path)
    name = str(path)
    if not file.is_file():
        raise InputError.single(name, "column map not found")
    raw = safe_yaml_load(file.read_text(encoding="utf-8"), file=name)
    problems = ProblemCollector()
    if not isinstance(raw, dict):
        raise InputError.single(name, "a column map is a mapping with kind, columns and stages (or types)")
    for key in sorted(set(raw) - {"kind", "columns", "date_format", "stages", "types", "owners", "products"}):
        problems.add(name, "unknown key", column=str(key))
    kind = raw.get("kind")
    if kind not in KINDS:
        problems.add(name, f"must be one of {', '.join(KINDS)}", column="kind")
        problems.raise_if_any()
    category_field, category_key, allowed = KINDS[kind]
    columns = raw.get("columns")
    if not isinstance(columns, dict):
        problems.add(name, "required: the export's column name for each of owner, product, date, "
                           f"{category_field} (quantity and id optional)", column="columns")
        problems.raise_if_any()
    for key, value in columns.items():
        if key not in FIELDS or key == ("type" if kind == "opportunities" else "stage"):
            problems.add(name, f"unknown field (use {', '.join(f for f in FIELDS if f != ('type' if kind == 'opportunities' else 'stage'))})",
                         column=f"columns.{key}")
        elif not isinstance(value, str) or not value.strip():
            problems.add(name, "the export's column name (text)", column=f"columns.{key}")
    required = ["owner", "date", category_field] + (["product"] if kind == "opportunities" else [])
    for key in required:
        if key not in columns:
            problems.add(name, "required key is missing", column=f"columns.{key}")
    categories: dict[str, str] = {}
    table = raw.get(category_key)
    if not isinstance(table, dict) or not table:
        problems.add(name, f"required: which {category_field} values count as {', '.join(allowed[:-1])} (or skip)",
                     column=category_key)
    else:
        for target, values in table.items():
            if target not in allowed:
                problems.add(name, f"must be one of {', '.join(allowed)}", column=f"{category_key}.{target}")
                continue
            if not isinstance(values, list) or not values:
                problems.add(name, "a list of the export's values", column=f"{category_key}.{target}")
                continue
            for i, value in enumerate(values):
                text = str(value).strip()
                if text in categories and categories[text] != target:
                    problems.add(name, f"{text!r} is listed under {categories[text]} too",
                                 column=f"{category_key}.{target}[{i}]")
                categories[text] = target
    mappings = {}
    for key, valid, what in (("owners", set(dataset.rep_ids), "rep_id"), ("products", set(dataset.product_ids), "product_id")):
        value = raw.get(key) or {}
        if not isinstance(value, dict):
            problems.add(name, f"a mapping of the export's values to {what}s", column=key)
            value = {}
        for source_value, target in value.items():
            if str(target) not in valid:
                problems.add(name, f"{target!r} is not a {what} of the dataset {valid_ids_hint(valid)}",
                             column=f"{key}.{source_value}")
        mappings[key] = {str(k).strip(): str(v) for k, v in value.items()}
    date_format = raw.get("date_format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        problems.add(name, "a strptime format such as '%d/%m/%Y'", column="date_format")
    problems.raise_if_any()
    return ColumnMap(kind=kind, columns={k: v.strip() for k, v in columns.items()}, date_format=date_format,
                     categories=categories, owners=mappings["owners"], products=mappings["products"], source=name)


# --------------------------------------------------------------------------------------------
# Dates → periods

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$")


def period_of_dates(labels: list[str]) -> callable:
    """A function date → the company's period label holding it (or None), for YYYY-MM or YYYY-Qn labels."""
    if labels and all(_MONTH.match(label) for label in labels):
        known = set(labels)
        return lambda d: (lambda label: label if label in known else None)(f"{d.year:04d}-{d.month:02d}")
    if labels and all(_QUARTER.match(label) for label in labels):
        by_key = {(int(_QUARTER.match(label)[1]), int(_QUARTER.match(label)[2])): label for label in labels}
        return lambda d: by_key.get((d.year, (d.month - 1) // 3 + 1))
    raise InputError.single("company.yaml", "period labels must all be YYYY-MM or YYYY-Qn for a CRM import to "
                                            "place dates in them", column="periods")


def parse_date(text: str, date_format: str | None) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        if date_format:
            return datetime.strptime(text, date_format)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# The import


def _lookup(value: str, mapping: dict[str, str], ids: set[str], names: dict[str, str]) -> str | None:
    if value in mapping:
        return mapping[value]
    if value in ids:
        return value
    return names.get(value)


def import_transactions(file: str | Path, column_map: ColumnMap, dataset: Dataset, *,
                        skip_unknown: bool = False) -> ImportResult:
    """The actuals rows of one export (module docstring)."""
    name = str(file)
    path = Path(file)
    if not path.is_file():
        raise InputError.single(name, "export file not found")
    frame = read_csv(path, name)
    problems = ProblemCollector()
    for key, column in column_map.columns.items():
        if column not in frame.columns:
            problems.add(name, f"the column map's {key!r} column is not in the export's header "
                               f"(it has: {', '.join(map(str, frame.columns[:12]))})", line=1, column=column)
    problems.raise_if_any()
    company = dataset.company
    to_period = period_of_dates(list(company.periods))
    closed = set(company.closed_periods)
    rep_ids, product_ids = set(dataset.rep_ids), set(dataset.product_ids)
    rep_names = {str(n).strip(): r for r, n in zip(dataset.reps["rep_id"], dataset.reps["name"])}
    product_names = {str(n).strip(): p for p, n in zip(dataset.products["product_id"], dataset.products["name"])}
    sellable = set(zip(dataset.rep_products["rep_id"], dataset.rep_products["product_id"]))
    columns = column_map.columns
    category_field = KINDS[column_map.kind][0]
    skipped: dict[str, dict] = {}

    def bad(kind: str, line: int, column: str, message: str, value: str) -> None:
        if skip_unknown:
            entry = skipped.setdefault(kind, {"count": 0, "examples": []})
            entry["count"] += 1
            if len(entry["examples"]) < EXAMPLES_LISTED and value not in entry["examples"]:
                entry["examples"].append(value)
        else:
            problems.add(name, message, line=line, column=column)

    cell = {key: frame[column].astype(str).str.strip().to_numpy() for key, column in columns.items()}
    raw_rows = frame.astype(str).agg("\x1f".join, axis=1).to_numpy()
    seen_rows: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    rows, left_out = [], 0
    for i in range(len(frame)):
        line = i + 2
        key = ("id", cell["id"][i]) if "id" in cell and cell["id"][i] else ("row", raw_rows[i])
        seen = seen_ids if key[0] == "id" else seen_rows
        if key[1] in seen:
            column = columns["id"] if key[0] == "id" else columns["owner"]
            bad("duplicate lines", line, column, f"duplicate of line {seen[key[1]]}"
                + (f" (same {columns['id']!r})" if key[0] == "id" else " (every cell the same)"), f"line {line}")
            continue
        seen[key[1]] = line
        category = column_map.categories.get(cell[category_field][i])
        if category is None:
            bad(f"unknown {category_field}s", line, columns[category_field],
                f"{category_field} {cell[category_field][i]!r} is not listed in the column map's "
                f"{KINDS[column_map.kind][1]} (list it under one of {', '.join(KINDS[column_map.kind][2])})",
                cell[category_field][i])
            continue
        if category == "skip":
            left_out += 1
            continue
        ok = True
        rep = _lookup(cell["owner"][i], column_map.owners, rep_ids, rep_names)
        if rep is None:
            bad("unknown owners", line, columns["owner"], f"unknown owner {cell['owner'][i]!r}: not a rep_id or a "
                f"name in reps.csv (map it under `owners`) {valid_ids_hint(rep_ids)}", cell["owner"][i])
            ok = False
        product = ALL_PRODUCTS
        if "product" in cell and cell["product"][i]:
            product = _lookup(cell["product"][i], column_map.products, product_ids, product_names)
            if product is None:
                bad("unknown products", line, columns["product"], f"unknown product {cell['product'][i]!r}: not a "
                    f"product_id or a name in products.csv (map it under `products`) {valid_ids_hint(product_ids)}",
                    cell["product"][i])
                ok = False
        elif column_map.kind == "opportunities":
            bad("unknown products", line, columns["product"], "an opportunity line needs a product", f"line {line}")
            ok = False
        when = parse_date(cell["date"][i], column_map.date_format)
        period = None
        if when is None:
            bad("unparsable dates", line, columns["date"], f"cannot read the date {cell['date'][i]!r} "
                f"(expected {column_map.date_format or 'an ISO date such as 2026-03-31'})", cell["date"][i])
            ok = False
        else:
            period = to_period(when)
            if period is None:
                bad("dates outside the periods", line, columns["date"], f"{cell['date'][i]!r} falls in no period of "
                    f"company.yaml ({company.periods[0]} … {company.periods[-1]})", cell["date"][i])
                ok = False
            elif period not in closed:
                bad("dates in open periods", line, columns["date"], f"{cell['date'][i]!r} falls in {period!r}, which is "
                    f"not closed (current_period is {company.current_period!r}): actuals are history only", cell["date"][i])
                ok = False
        quantity = 1.0
        if "quantity" in cell and cell["quantity"][i] != "":
            try:
                quantity = float(cell["quantity"][i])
            except ValueError:
                quantity = math.nan
            if not math.isfinite(quantity) or quantity < 0 or quantity > MAX_QUANTITY:
                bad("bad quantities", line, columns["quantity"], f"quantity {cell['quantity'][i]!r} must be a number "
                    f"in [0, {MAX_QUANTITY:g}]", cell["quantity"][i])
                ok = False
        if ok and product != ALL_PRODUCTS and (rep, product) not in sellable:
            bad("products the rep may not sell", line, columns["product"], f"rep {rep!r} may not sell {product!r} "
                "(no rep_products.csv row)", f"{rep}/{product}")
            ok = False
        if ok and product == ALL_PRODUCTS and category == "order":
            bad("unknown products", line, columns.get("product", columns["owner"]), "an order needs a product",
                f"line {line}")
            ok = False
        if ok:
            rows.append((rep, product, period, category, quantity))
    problems.raise_if_any()
    return ImportResult(actuals=aggregate(rows, list(company.periods)), lines=len(frame), used=len(rows),
                        left_out=left_out, skipped=skipped)


def aggregate(rows: list[tuple], periods: list[str]) -> pd.DataFrame:
    """Sum lines into actuals rows: an order counts as an order and a quote (it was quoted before it was won)."""
    if not rows:
        return pd.DataFrame(columns=list(ACTUAL_COLUMNS))
    lines = pd.DataFrame(rows, columns=["rep_id", "product_id", "period", "category", "quantity"])
    for measure, categories in (("orders", ("order",)), ("quotes", ("order", "quote")), ("meetings", ("meeting",)),
                                ("calls", ("call",))):
        lines[measure] = np.where(lines["category"].isin(categories), lines["quantity"], 0.0)
    return _summed(lines, periods)


def combine(results: list[ImportResult], periods: list[str]) -> pd.DataFrame:
    """Several exports' actuals (an opportunity export and an activity export) summed into one table."""
    frames = [r.actuals for r in results if len(r.actuals)]
    return _summed(pd.concat(frames), periods) if frames else pd.DataFrame(columns=list(ACTUAL_COLUMNS))


def _summed(frame: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    out = frame.groupby(["rep_id", "product_id", "period"], as_index=False)[["orders", "calls", "meetings", "quotes"]].sum()
    order = {p: i for i, p in enumerate(periods)}
    out = out.sort_values(["rep_id", "product_id", "period"], key=lambda s: s.map(order) if s.name == "period" else s)
    return out[list(ACTUAL_COLUMNS)].reset_index(drop=True)
