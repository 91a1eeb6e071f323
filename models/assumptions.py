"""Market assumptions: the tactical input of DESIGN.md §2 — a named, ordered list of adjustments.

An adjustment has a scope (markets, products or `group:NAME`, reps, periods as labels or a
`{from, to}` range; an omitted key means all) and factors (demand, price, cost, conversion, hours;
an omitted factor means 1). `reps` narrows only `hours`, which scales the reps' selling hours
H[r,t]; the other factors act per market, product and period. A set is immutable once stored: a
change is a new set that names its `parent`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.dataset import GROUP_PREFIX, Dataset
from models.errors import InputError, Problem, key_path, unknown_id
from models.limits import (
    MAX_ADJUSTMENTS, MAX_FACTOR, MAX_ID, MAX_SCOPE_IDS, MIN_FACTOR, Ident, Name, Reason, safe_yaml_load,
)

FACTORS = ("demand", "price", "cost", "conversion", "hours")
IdList = Annotated[list[Ident], Field(min_length=1, max_length=MAX_SCOPE_IDS)]  # a scope: 1 to 10,000 ids


def factor(description: str, **kwargs: Any) -> Any:
    """A factor's field: 1 when omitted; its range is checked by `Adjustment._factor` (which names
    the limits) and stated in the schema."""
    return Field(1.0, description=f"{description} (a number from {MIN_FACTOR:g} to {MAX_FACTOR:g}; 1 when omitted).",
                 json_schema_extra={"minimum": MIN_FACTOR, "maximum": MAX_FACTOR}, **kwargs)


class PeriodRange(BaseModel):
    """An inclusive range of period labels; either end may be omitted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: Ident | None = Field(None, alias="from", description="First period of the range (inclusive).")
    end: Ident | None = Field(None, alias="to", description="Last period of the range (inclusive).")


class Adjustment(BaseModel):
    """One scoped change to the market: factors multiply the dataset's values inside the scope."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    markets: IdList | None = Field(None, description="Market ids; omitted means all markets.")
    products: IdList | None = Field(None, description="Product ids or `group:NAME`; omitted means all products.")
    reps: IdList | None = Field(None, description="Rep ids; narrows only the `hours` factor.")
    periods: IdList | PeriodRange | None = Field(
        None, description="Period labels, or {from, to} (inclusive); omitted means all periods."
    )
    demand: float = factor("Factor on potential orders", examples=[0.5])
    price: float = factor("Factor on unit price")
    cost: float = factor("Factor on unit cost")
    conversion: float = factor("Factor on all three funnel rates, capped at 1")
    hours: float = factor("Factor on the reps' selling hours per period")
    reason: Reason = Field("", description="Why: the market event behind this adjustment.")

    @field_validator(*FACTORS, mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        # A factor is a number: "0.5" in quotes is text, and quoted text never passes a range check.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number (got {value!r:.40})")
        return value

    @field_validator(*FACTORS)
    @classmethod
    def _factor(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be finite")
        if not MIN_FACTOR <= value <= MAX_FACTOR:
            raise ValueError(f"must be > 0, between {MIN_FACTOR:g} and {MAX_FACTOR:g} (got {value:g})")
        return value

    @field_validator("markets", "products", "reps", mode="before")
    @classmethod
    def _id_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value

    @field_validator("periods", mode="before")
    @classmethod
    def _periods(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value


class AssumptionSet(BaseModel):
    """A named set of market adjustments, applied in order on top of a dataset. Strict: a name is
    text and a parent id an integer (`true` is neither)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name = Field(..., description="A short name for the set (not blank).", examples=["south-freeze"])
    parent: Annotated[int, Field(ge=1, le=MAX_ID)] | Name | None = Field(
        None, description="The set this one revises, if any: its id, or a name (that name's newest version).")
    adjustments: list[Adjustment] = Field(default_factory=list, max_length=MAX_ADJUSTMENTS,
                                          description=f"Applied in order (at most {MAX_ADJUSTMENTS:,}).")

    def check_against(self, dataset: Dataset, *, file: str = "assumptions") -> None:
        """Every id in every scope must exist in the dataset; raise InputError naming the key."""
        problems: list[Problem] = []
        markets, reps, periods = set(dataset.market_ids), set(dataset.rep_ids), list(dataset.company.periods)
        products, groups = set(dataset.product_ids), set(dataset.groups)
        for i, adj in enumerate(self.adjustments):
            at = f"adjustments[{i}]"
            for j, market in enumerate(adj.markets or []):
                if market not in markets:
                    problems.append(Problem(file, unknown_id("market", market, markets), column=f"{at}.markets[{j}]"))
            for j, rep in enumerate(adj.reps or []):
                if rep not in reps:
                    problems.append(Problem(file, unknown_id("rep", rep, reps), column=f"{at}.reps[{j}]"))
            for j, product in enumerate(adj.products or []):
                if product.startswith(GROUP_PREFIX):
                    if product[len(GROUP_PREFIX):] not in groups:
                        problems.append(Problem(file, unknown_id("product group", product, [GROUP_PREFIX + g for g in groups]), column=f"{at}.products[{j}]"))
                elif product not in products:
                    problems.append(Problem(file, unknown_id("product", product, products), column=f"{at}.products[{j}]"))
            if isinstance(adj.periods, PeriodRange):
                for key, label in (("from", adj.periods.start), ("to", adj.periods.end)):
                    if label is not None and label not in periods:
                        problems.append(Problem(file, unknown_id("period", label, periods), column=f"{at}.periods.{key}"))
                if (adj.periods.start in periods and adj.periods.end in periods
                        and periods.index(adj.periods.start) > periods.index(adj.periods.end)):
                    problems.append(Problem(file, "`from` comes after `to`", column=f"{at}.periods"))
            else:
                for j, label in enumerate(adj.periods or []):
                    if label not in periods:
                        problems.append(Problem(file, unknown_id("period", label, periods), column=f"{at}.periods[{j}]"))
        if problems:
            raise InputError(problems)


def period_scope(adj: Adjustment, periods: list[str]) -> list[str]:
    """The period labels an adjustment's `periods` key selects."""
    if adj.periods is None:
        return list(periods)
    if isinstance(adj.periods, PeriodRange):
        lo = periods.index(adj.periods.start) if adj.periods.start else 0
        hi = periods.index(adj.periods.end) if adj.periods.end else len(periods) - 1
        return periods[lo : hi + 1]
    return list(adj.periods)


def product_scope(adj: Adjustment, dataset: Dataset) -> list[str]:
    """The product ids an adjustment's `products` key selects (groups expanded)."""
    if adj.products is None:
        return dataset.product_ids
    groups = dataset.groups
    out: list[str] = []
    for item in adj.products:
        out.extend(groups[item[len(GROUP_PREFIX):]] if item.startswith(GROUP_PREFIX) else [item])
    return out


def parse_assumptions(raw: Any, *, file: str = "assumptions") -> AssumptionSet:
    """Validate a parsed YAML/JSON object into an AssumptionSet; errors name the key path."""
    try:
        return AssumptionSet.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = key_path(err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown key (scope keys: markets, products, reps, periods; factors: "
                message += ", ".join(FACTORS) + "; and reason)"
            problems.append(Problem(file, message, column=loc or None))
        raise InputError(problems) from None


def load_assumptions(path: str | Path, dataset: Dataset | None = None) -> AssumptionSet:
    """Read an assumption set from a YAML or JSON file and, given a dataset, check its ids."""
    file = Path(path)
    if not file.is_file():
        raise InputError.single(str(file), "assumption file not found")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(str(file), f"cannot be read as UTF-8 text: {exc}") from None
    raw = safe_yaml_load(text, file=str(file))  # JSON is valid YAML
    assumptions = parse_assumptions(raw, file=str(file))
    if dataset is not None:
        assumptions.check_against(dataset, file=str(file))
    return assumptions
