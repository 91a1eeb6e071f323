"""The payout-curve family a recommendation chooses from (DESIGN.md §4.9), and how a curve change reads.

A family member has three parameters inside the bounds of `models.rules.CurveFamily`:

    threshold t (nothing pays below attainment t), linear from (t, 0) to (1, 1),
    slope s above the target (payout per unit of attainment above 1), flat from the cap c on.

Points: (0, 0), (t, 0) when t > 0, (1, 1), and (1 + (c − 1)/s, c) when s > 0 (s = 0: flat after the
target, capped at 100 %). With t = 0 and s ≤ 1 the curve is concave and the rep response (§4.5) is
an LP; a threshold or a slope above 1 makes it a MIP (exact, slower).

The recommendation tries a small grid of members (`curve_grid`): the lowest threshold the family
allows, the slopes 0 and 1 (clipped into the bounds), and caps 10 % above the pay the plan in force
needs (so that a rep whose targets are lowered to keep their pay is still capped close to the plan:
the cap splits a market between its reps) and at the family's highest cap.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from models.rules import CurveFamily

COLUMNS = ["attainment", "payout"]


def family_curve(threshold: float, slope: float, cap: float) -> pd.DataFrame:
    """The member (t, s, c) as curve points."""
    points = [(0.0, 0.0)]
    if threshold > 0:
        points.append((float(threshold), 0.0))
    points.append((1.0, 1.0))
    if slope > 0 and cap > 1:
        points.append((1.0 + (cap - 1.0) / slope, float(cap)))
    return pd.DataFrame(points, columns=COLUMNS)


def curve_label(threshold: float, slope: float, cap: float) -> str:
    head = f"threshold {threshold:.0%}, " if threshold > 0 else ""
    if slope <= 0 or cap <= 1:
        return head + "linear to target, capped at 100 %"
    return head + f"linear to target, slope {slope:g} above, capped at {cap:.0%}"


def curve_grid(family: CurveFamily, needed_level: float | None = None) -> dict[str, tuple[float, float, float]]:
    """A few family members, by label → (threshold, slope, cap).

    `needed_level` is the pay (as a multiple of pay at target) the best-paid rep needs to keep their
    pay: the cap candidates are that level (rounded up to 5 %, plus 10 %), 25 % more, and the family's
    highest cap.
    """
    t = family.threshold[0]
    s_lo, s_hi = family.slope_above_target
    c_lo, c_hi = family.cap
    slopes = sorted({min(max(s, s_lo), s_hi) for s in (0.0, 1.0)})
    caps = {c_hi}
    if needed_level is not None and math.isfinite(needed_level):
        level = math.ceil(max(needed_level, 1.0) * 20 - 1e-9) / 20 + 0.10  # 10 % of headroom above the best-paid rep
        caps |= {min(max(level, c_lo), c_hi), min(max(level + 0.25, c_lo), c_hi)}
    out: dict[str, tuple[float, float, float]] = {}
    for s in slopes:
        for c in sorted(caps):
            c_eff = 1.0 if s <= 0 else c
            if not family.contains(t, s, c_eff if s > 0 else max(c_lo, 1.0)):
                continue
            if s <= 0 and c_lo > 1.0:
                continue  # a flat curve above target never reaches a cap the family requires
            out.setdefault(curve_label(t, s, c_eff), (t, s, c_eff))
    return out


def curve_point_changes(before: pd.DataFrame | None, after: pd.DataFrame) -> list[dict]:
    """Every attainment where the payout differs: {attainment, before, after} (before None: no plan)."""
    xs = sorted(set(after["attainment"]) | (set(before["attainment"]) if before is not None else set()))
    out = []
    for x in xs:
        new = float(np.interp(x, after["attainment"], after["payout"]))
        old = None if before is None else float(np.interp(x, before["attainment"], before["payout"]))
        if old is None or abs(new - old) > 1e-9:
            out.append({"attainment": float(x), "before": old, "after": new})
    return out


def describe_curve(curve: pd.DataFrame) -> str:
    return ", ".join(f"({a:g}, {p:g})" for a, p in zip(curve["attainment"], curve["payout"]))
