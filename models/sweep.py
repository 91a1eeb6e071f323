"""A scenario sweep: many assumption sets drawn from one grid file (DESIGN.md §6).

A sweep file (YAML or JSON) names factors — demand, price or conversion, each scoped to markets
and/or products — and either lists values for a **grid** (every combination is a scenario) or draws
them **Monte Carlo** (`draws` scenarios from a seeded generator: uniform in a `range`, or uniformly
among the listed `values`):

```yaml
name: south-and-new-products
mode: grid            # grid | monte_carlo
criterion: expected   # expected (best expected margin) | worst (best worst case)
factors:
  - markets: [south]
    factor: demand
    values: [0.5, 0.75, 1.0]
  - products: [group:new]
    factor: price
    values: [0.9, 1.0]
# monte_carlo only:
# draws: 40
# seed: 7
#   - markets: [us]
#     factor: conversion
#     range: [0.9, 1.1]
```

`parse_sweep` validates against the dataset and names the key of every problem (unknown market,
product or factor, a factor ≤ 0, a non-integer draw count, more scenarios than allowed) as an
`InputError`; `Sweep.scenarios()` turns the file into named `AssumptionSet`s.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from models.assumptions import AssumptionSet
from models.dataset import Dataset
from models.errors import InputError, ProblemCollector
from models.limits import MAX_FACTOR, MAX_ID, MAX_NAME_LENGTH, MAX_SCOPE_IDS, MIN_FACTOR, text_problem

FACTORS = ("demand", "price", "conversion")
MODES = ("grid", "monte_carlo")
CRITERIA = ("expected", "worst")
DEFAULT_MAX_SCENARIOS = 200
KEYS = {"name", "mode", "criterion", "factors", "draws", "seed"}
FACTOR_KEYS = {"markets", "products", "factor", "values", "range", "name"}
# each scenario is an assumption set named `NAME/s001`: the name leaves room for the scenario id
MAX_SWEEP_NAME_LENGTH = MAX_NAME_LENGTH - 20


@dataclass(frozen=True)
class SweepFactor:
    """One uncertain factor: which factor, where, and the values it can take."""

    factor: str
    markets: tuple[str, ...] | None
    products: tuple[str, ...] | None
    values: tuple[float, ...] = ()
    low: float | None = None  # monte_carlo range
    high: float | None = None

    @property
    def label(self) -> str:
        where = [*(self.markets or ()), *(self.products or ())]
        return f"{self.factor}[{','.join(where) or '*'}]"


@dataclass
class Sweep:
    name: str
    mode: str
    criterion: str
    factors: list[SweepFactor]
    draws: int | None = None
    seed: int = 0
    body: dict = field(default_factory=dict)

    @property
    def n_scenarios(self) -> int:
        if self.mode == "grid":
            return math.prod(len(f.values) for f in self.factors)
        return int(self.draws or 0)

    def scenarios(self) -> list[tuple[str, dict[str, float], AssumptionSet]]:
        """(scenario id, factor label -> value, assumption set) for every scenario, in a fixed order."""
        if self.mode == "grid":
            combos = list(itertools.product(*(f.values for f in self.factors)))
        else:
            rng = np.random.default_rng(self.seed)
            combos = []
            for _ in range(int(self.draws or 0)):
                combo = []
                for f in self.factors:
                    if f.low is not None:
                        combo.append(round(float(rng.uniform(f.low, f.high)), 6))
                    else:
                        combo.append(float(f.values[int(rng.integers(len(f.values)))]))
                combos.append(tuple(combo))
        out = []
        width = len(str(len(combos)))
        for i, combo in enumerate(combos):
            scenario_id = f"s{i + 1:0{width}d}"
            adjustments = []
            for f, value in zip(self.factors, combo):
                adjustment: dict[str, Any] = {f.factor: value, "reason": f"sweep {self.name}: {f.label} × {value:g}"}
                if f.markets:
                    adjustment["markets"] = list(f.markets)
                if f.products:
                    adjustment["products"] = list(f.products)
                adjustments.append(adjustment)
            assumptions = AssumptionSet.model_validate({"name": f"{self.name}/{scenario_id}", "adjustments": adjustments})
            out.append((scenario_id, {f.label: value for f, value in zip(self.factors, combo)}, assumptions))
        return out


def read_sweep_file(path: str | Path) -> dict:
    """The body of a sweep file (YAML or JSON); an unreadable file is an InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError.single(str(path), "sweep file not found")
    try:
        text = path.read_text(encoding="utf-8")
        body = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError.single(str(path), f"cannot be read as {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}")
    if not isinstance(body, dict):
        raise InputError.single(str(path), "must be a mapping with a `factors` list")
    return body


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _factor_problem(value: Any) -> str | None:
    """Why `value` cannot be a factor of an assumption set (models/assumptions.py), or None."""
    if not _positive_number(value):
        return f"a factor must be a number > 0, got {value!r}"
    if not MIN_FACTOR <= value <= MAX_FACTOR:
        return f"a factor must be from {MIN_FACTOR:g} to {MAX_FACTOR:g}, got {value!r}"
    return None


def parse_sweep(body: dict, dataset: Dataset, *, file: str = "sweep",
                max_scenarios: int = DEFAULT_MAX_SCENARIOS) -> Sweep:
    """Validate a sweep body against the dataset; every problem names its key."""
    problems = ProblemCollector()
    if not isinstance(body, dict):
        raise InputError.single(file, "must be a mapping with a `factors` list")
    for key in sorted(set(body) - KEYS):
        problems.add(file, f"unknown key (allowed: {', '.join(sorted(KEYS))})", column=key)
    name = body.get("name", "sweep")
    if not isinstance(name, str) or not name.strip():
        problems.add(file, "must be a non-empty string", column="name")
        name = "sweep"
    elif text_problem(name) or len(name.strip()) > MAX_SWEEP_NAME_LENGTH:
        problems.add(file, text_problem(name) or f"at most {MAX_SWEEP_NAME_LENGTH} characters (got {len(name):,})",
                     column="name")
        name = "sweep"
    mode = body.get("mode", "grid")
    if mode not in MODES:
        problems.add(file, f"unknown mode {mode!r}; choose one of {', '.join(MODES)}", column="mode")
    criterion = body.get("criterion", "expected")
    if criterion not in CRITERIA:
        problems.add(file, f"unknown criterion {criterion!r}; choose one of {', '.join(CRITERIA)}", column="criterion")
    draws = body.get("draws")
    if mode == "monte_carlo":
        if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
            problems.add(file, f"must be a positive integer, got {draws!r}", column="draws")
            draws = None
    elif draws is not None:
        problems.add(file, "only a monte_carlo sweep draws", column="draws")
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_ID:
        problems.add(file, f"must be an integer from 0 to {MAX_ID}, got {seed!r}", column="seed")
        seed = 0

    markets, products = set(dataset.market_ids), set(dataset.product_ids)
    groups = {f"group:{g}" for g in dataset.groups}
    factors: list[SweepFactor] = []
    raw = body.get("factors")
    if not isinstance(raw, list) or not raw:
        problems.add(file, "must be a non-empty list of factors", column="factors")
        raw = []
    for i, item in enumerate(raw):
        at = f"factors[{i}]"
        if not isinstance(item, dict):
            problems.add(file, "must be a mapping (factor, values or range, markets, products)", column=at)
            continue
        for key in sorted(set(item) - FACTOR_KEYS):
            problems.add(file, f"unknown key (allowed: {', '.join(sorted(FACTOR_KEYS))})", column=f"{at}.{key}")
        factor = item.get("factor")
        if factor not in FACTORS:
            problems.add(file, f"unknown factor {factor!r}; choose one of {', '.join(FACTORS)}", column=f"{at}.factor")
        scope: dict[str, tuple[str, ...] | None] = {}
        for key, known, what in (("markets", markets, "market"), ("products", products | groups, "product")):
            listed = item.get(key)
            if listed is None:
                scope[key] = None
                continue
            if not isinstance(listed, list) or not listed or not all(isinstance(x, str) for x in listed):
                problems.add(file, f"must be a non-empty list of {what} ids", column=f"{at}.{key}")
                scope[key] = None
                continue
            if len(listed) > MAX_SCOPE_IDS:
                problems.add(file, f"at most {MAX_SCOPE_IDS:,} ids (got {len(listed):,})", column=f"{at}.{key}")
                scope[key] = None
                continue
            for j, label in enumerate(listed):
                if label not in known:
                    problems.add(file, f"unknown {what} {label!r}", column=f"{at}.{key}[{j}]")
            scope[key] = tuple(listed)
        values = item.get("values")
        span = item.get("range")
        parsed_values: tuple[float, ...] = ()
        low = high = None
        if values is not None:
            if not isinstance(values, list) or not values:
                problems.add(file, "must be a non-empty list of factors > 0", column=f"{at}.values")
            else:
                for j, v in enumerate(values):
                    if _factor_problem(v):
                        problems.add(file, _factor_problem(v), column=f"{at}.values[{j}]")
                parsed_values = tuple(float(v) for v in values if not _factor_problem(v))
        if span is not None:
            if mode != "monte_carlo":
                problems.add(file, "a range is drawn from: only in a monte_carlo sweep (list `values` for a grid)",
                             column=f"{at}.range")
            elif (not isinstance(span, list) or len(span) != 2 or any(_factor_problem(v) for v in span)
                  or span[0] > span[1]):
                problems.add(file, f"must be [low, high] with 0 < low <= high, each from {MIN_FACTOR:g} to "
                                   f"{MAX_FACTOR:g}, got {span!r}", column=f"{at}.range")
            else:
                low, high = float(span[0]), float(span[1])
        if values is None and span is None:
            problems.add(file, "give `values` (grid or monte_carlo) or `range` (monte_carlo)", column=f"{at}.values")
        if values is not None and span is not None:
            problems.add(file, "give either `values` or `range`, not both", column=f"{at}.range")
        if factor in FACTORS:
            factors.append(SweepFactor(factor=factor, markets=scope.get("markets"), products=scope.get("products"),
                                       values=parsed_values, low=low, high=high))
    problems.raise_if_any()
    sweep = Sweep(name=name.strip(), mode=mode, criterion=criterion, factors=factors, draws=draws, seed=seed,
                  body=body)
    if sweep.n_scenarios > max_scenarios:
        key = "draws" if mode == "monte_carlo" else "factors"
        raise InputError.single(file, f"{sweep.n_scenarios} scenarios is more than the maximum of {max_scenarios}",
                                column=key)
    try:  # what the job will build: a sweep that passes here never fails there on its input
        sweep.scenarios()
    except ValidationError as error:
        first = error.errors()[0]
        raise InputError.single(file, f"a scenario is not a valid assumption set: {first['msg']} "
                                      f"(at {'.'.join(str(p) for p in first['loc'])})", column="factors") from None
    return sweep
