"""The rules a recommendation keeps (DESIGN.md §4.9), read and validated from any source.

The same names work in `company.yaml` (all optional), in a review's API body and as
`comptune recommend` flags:

- `max_components` (int ≥ 1, default 4): the recommended plan pays on at most this many components;
- `max_pay_cut` (in [0, 1), default 0.05): no rep's expected variable pay under the recommendation
  falls more than this share below what the same rep earns under the plan in force (both the rep's
  own best response under the review's assumptions, over the open periods);
- `min_quota_coverage` (in [0, 1], default 0.9): per component, the reps' targets over the open
  periods add up to at least this share of the component's planned metric (the plan LP's orders);
- `objective` (`net_margin`, the default, or `margin`): what the search maximizes — simulated margin
  minus simulated variable pay (the principal's profit), or simulated margin alone (the behaviour
  before net margin; pay then only counts through the rules);
- `comp_budget_rate` and `max_weight_change` (already company keys; overridable per review);
- the payout-curve family, one `[low, high]` pair per parameter:
  `curve_threshold` (attainment below which nothing pays, default [0, 0.5]),
  `curve_slope_above_target` (payout per unit of attainment above the target, default [0, 2]),
  `curve_cap` (the most the curve pays, as a multiple of pay at target, default [1, 3]).
  Every family member is linear from (threshold, 0) to (1, 1) and rises above the target with the
  slope until the cap; bounds must be finite, non-negative and not inverted; the threshold stays
  below 1, the slope at most 10 and the cap from 1 to 20.

`max_components` is bounded by the company's size too: `check_rule_sizes` refuses more than the
candidate components a review weighs (the search does one local search per component count).

`parse_rules(raw, file, problems)` validates a mapping and returns the rules, recording every problem
under the key it concerns (so the command line exits 2 and the API answers 422 naming the key).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from models.errors import InputError, ProblemCollector

DEFAULT_MAX_COMPONENTS = 4
DEFAULT_MAX_PAY_CUT = 0.05
DEFAULT_MIN_QUOTA_COVERAGE = 0.9
NET_MARGIN, MARGIN = "net_margin", "margin"
OBJECTIVES = (NET_MARGIN, MARGIN)
CURVE_KEYS = ("curve_threshold", "curve_slope_above_target", "curve_cap")
DEFAULT_CURVE_BOUNDS = {"curve_threshold": (0.0, 0.5), "curve_slope_above_target": (0.0, 2.0), "curve_cap": (1.0, 3.0)}
RULE_KEYS = ("max_components", "max_pay_cut", "min_quota_coverage", "objective", *CURVE_KEYS)  # the keys this module adds to company.yaml
# The widest family the search looks at (optimizer/alignment/local_search.py WIDE_CURVES): a slope or a
# cap above these only makes the curve steeper than any plan a committee signs (and its MIP ill-scaled).
MAX_CURVE_SLOPE = 10.0
MAX_CURVE_CAP = 20.0


@dataclass(frozen=True)
class CurveFamily:
    """Bounds of the payout-curve family: threshold, slope above target and cap, each (low, high)."""

    threshold: tuple[float, float] = DEFAULT_CURVE_BOUNDS["curve_threshold"]
    slope_above_target: tuple[float, float] = DEFAULT_CURVE_BOUNDS["curve_slope_above_target"]
    cap: tuple[float, float] = DEFAULT_CURVE_BOUNDS["curve_cap"]

    def contains(self, threshold: float, slope: float, cap: float) -> bool:
        inside = [lo - 1e-12 <= v <= hi + 1e-12 for v, (lo, hi) in
                  ((threshold, self.threshold), (slope, self.slope_above_target), (cap, self.cap))]
        return all(inside)

    def to_dict(self) -> dict:
        return {"curve_threshold": list(self.threshold), "curve_slope_above_target": list(self.slope_above_target),
                "curve_cap": list(self.cap)}


@dataclass(frozen=True)
class Rules:
    """What a recommendation must keep. `None` for the budget and the change limit means: the company's."""

    max_components: int = DEFAULT_MAX_COMPONENTS
    max_pay_cut: float = DEFAULT_MAX_PAY_CUT
    curve_family: CurveFamily = CurveFamily()
    comp_budget_rate: float | None = None
    max_weight_change: float | None = None
    min_quota_coverage: float = DEFAULT_MIN_QUOTA_COVERAGE
    objective: str = NET_MARGIN

    def to_dict(self) -> dict:
        return {"max_components": self.max_components, "max_pay_cut": self.max_pay_cut,
                "min_quota_coverage": self.min_quota_coverage, "objective": self.objective,
                "comp_budget_rate": self.comp_budget_rate, "max_weight_change": self.max_weight_change,
                **self.curve_family.to_dict()}

    def overridden(self, values: dict, *, file: str = "overrides") -> "Rules":
        """These rules with the given keys replaced (None values ignored); InputError naming a bad key."""
        given = {k: v for k, v in values.items() if v is not None}
        if not given:
            return self
        problems = ProblemCollector()
        base = self.to_dict()
        merged = parse_rules({**{k: v for k, v in base.items() if v is not None}, **given}, file, problems)
        problems.raise_if_any()
        assert merged is not None
        return merged


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _pair(value: object) -> tuple[float, float] | None:
    if isinstance(value, str):  # "0,0.5" from a command-line flag
        value = [part.strip() for part in value.split(",")]
        try:
            value = [float(part) for part in value]
        except ValueError:
            return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    low, high = _number(value[0]), _number(value[1])
    return None if low is None or high is None else (low, high)


def parse_rules(raw: dict, file: str, problems: ProblemCollector) -> Rules | None:
    """Rules from a mapping holding any of the rule keys (others are ignored here).

    Problems are recorded under `file` and the key.
    """
    before = len(problems.problems)
    values: dict[str, object] = {}
    count = raw.get("max_components")
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, (int, float)) or float(count) != int(count) or count < 1:
            problems.add(file, f"must be an integer ≥ 1 (got {count!r})", column="max_components")
        else:
            values["max_components"] = int(count)
    objective = raw.get("objective")
    if objective is not None:
        if objective not in OBJECTIVES:
            problems.add(file, f"must be one of {', '.join(OBJECTIVES)} (got {objective!r})", column="objective")
        else:
            values["objective"] = objective
    for key, low, high_open in (("max_pay_cut", 0.0, 1.0), ("min_quota_coverage", 0.0, None),
                                ("comp_budget_rate", 0.0, None), ("max_weight_change", 0.0, None)):
        if raw.get(key) is None:
            continue
        value = _number(raw[key])
        if value is None:
            problems.add(file, f"not a finite number: {raw[key]!r}", column=key)
        elif key == "max_pay_cut" and not (low <= value < high_open):
            problems.add(file, f"must be in [0, 1) (got {value:g})", column=key)
        elif key == "min_quota_coverage" and not (0.0 <= value <= 1.0):
            problems.add(file, f"must be in [0, 1] (got {value:g})", column=key)
        elif key == "comp_budget_rate" and value <= 0:
            problems.add(file, f"must be > 0 (got {value:g})", column=key)
        elif value < low:
            problems.add(file, f"must be ≥ 0 (got {value:g})", column=key)
        else:
            values[key] = value
    bounds = dict(DEFAULT_CURVE_BOUNDS)
    for key in CURVE_KEYS:
        if raw.get(key) is None:
            continue
        pair = _pair(raw[key])
        if pair is None:
            problems.add(file, f"must be a pair [low, high] of finite numbers (got {raw[key]!r})", column=key)
            continue
        low, high = pair
        if low < 0 or high < 0:
            problems.add(file, f"bounds must not be negative (got [{low:g}, {high:g}])", column=key)
        elif low > high:
            problems.add(file, f"inverted bounds: low {low:g} > high {high:g}", column=key)
        elif key == "curve_threshold" and high >= 1:
            problems.add(file, f"the threshold must stay below the target, < 1 (got {high:g})", column=key)
        elif key == "curve_cap" and low < 1:
            problems.add(file, f"the cap must be at least the pay at target, ≥ 1 (got {low:g})", column=key)
        elif key == "curve_slope_above_target" and high > MAX_CURVE_SLOPE:
            problems.add(file, f"at most {MAX_CURVE_SLOPE:g} (got {high:g})", column=key)
        elif key == "curve_cap" and high > MAX_CURVE_CAP:
            problems.add(file, f"at most {MAX_CURVE_CAP:g} × the pay at target (got {high:g})", column=key)
        else:
            bounds[key] = pair
    if len(problems.problems) > before:
        return None
    family = CurveFamily(threshold=bounds["curve_threshold"], slope_above_target=bounds["curve_slope_above_target"],
                         cap=bounds["curve_cap"])
    known = {f.name for f in fields(Rules)}
    return Rules(curve_family=family, **{k: v for k, v in values.items() if k in known})


def check_rule_sizes(overrides: dict, *, candidate_components: int, file: str) -> None:
    """InputError naming each override that asks for more work than the company has room for.

    `max_components` drives the search's frontier (one local search per component count, and a row
    of the result per count): it may not exceed the pool of candidate components the search weighs
    (`optimizer.alignment.recommend.candidate_components`: those in force and, unless in force only,
    one per product group and product and margin on all products). The other rules are bounded by
    `parse_rules` (shares in [0, 1], the curve family within MAX_CURVE_SLOPE and MAX_CURVE_CAP)."""
    count = overrides.get("max_components")
    if count is not None and not isinstance(count, bool) and isinstance(count, (int, float)) \
            and count > candidate_components:
        raise InputError.single(file, f"at most {candidate_components}: the review weighs {candidate_components} "
                                      f"candidate components (got {count:,})", column="max_components")


def rules_or_raise(raw: dict, file: str) -> Rules:
    """`parse_rules` raising InputError (for overrides given on their own)."""
    problems = ProblemCollector()
    rules = parse_rules(raw, file, problems)
    problems.raise_if_any()
    assert rules is not None
    return rules




def stricter_rules(rules: Rules, other: Rules) -> Rules:
    """Each rule of `rules` made at least as strict as in `other` (fewer components, a smaller pay cut
    or weight change, a higher coverage, the curve family's intersection when it is not empty), with
    `rules`'s objective and budget. A search under `rules` starts from the answer under these, so
    that loosening a rule from `other` never lowers the answer (docs/alignment.md)."""
    def low(a, b):
        return b if a is None else a if b is None else min(a, b)

    fam, base = rules.curve_family, other.curve_family
    bounds = {}
    for key, mine, theirs in (("threshold", fam.threshold, base.threshold),
                              ("slope_above_target", fam.slope_above_target, base.slope_above_target),
                              ("cap", fam.cap, base.cap)):
        lo, hi = max(mine[0], theirs[0]), min(mine[1], theirs[1])
        if lo > hi:
            bounds = None
            break
        bounds[key] = (lo, hi)
    family = CurveFamily(**bounds) if bounds is not None else fam
    return Rules(max_components=min(rules.max_components, other.max_components),
                 max_pay_cut=min(rules.max_pay_cut, other.max_pay_cut), curve_family=family,
                 comp_budget_rate=rules.comp_budget_rate, max_weight_change=low(rules.max_weight_change,
                                                                                 other.max_weight_change),
                 min_quota_coverage=max(rules.min_quota_coverage, other.min_quota_coverage), objective=rules.objective)
