"""Every change a recommendation makes to the plan in force, in one list, each with its reason (§4.9).

Kinds: `component added`, `component removed`, `component reweighted`, `curve point changed` and,
per rep and component, `targets changed` (the open periods' targets summed; the per-period rows are
the adjustments table). A rep whose targets were lowered to keep their pay (the pay-cut rule) says
so, with the factor and the pay it keeps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.dataset import Plan
from optimizer.alignment.curve_family import curve_point_changes


def component_changes(in_force: Plan | None, baseline: dict[str, float] | None, recommended: Plan, *,
                      max_components: int, max_weight_change: float) -> list[dict]:
    old = in_force.weights if in_force is not None else {}
    base = baseline or {}
    out = []
    for row in recommended.components.itertuples():
        after = float(row.weight)
        before = old.get(row.component_id)
        if before is None:
            out.append({"kind": "component added", "component_id": row.component_id, "before": 0.0, "after": after,
                        "reason": f"pays on {row.metric} of {row.products}: weight {after:.2f}, so that the planned "
                                  "mix is each rep's own best choice (the incentive LP's structure, judged and "
                                  "improved by the exact simulation)"})
        elif abs(after - before) > 1e-9:
            out.append({"kind": "component reweighted", "component_id": row.component_id, "before": float(before),
                        "after": after,
                        "reason": f"weight {before:.2f} → {after:.2f}, within max_weight_change "
                                  f"{max_weight_change:g} of the plan-year baseline "
                                  f"({base.get(row.component_id, 0.0):.2f})"})
    if in_force is not None:
        for row in in_force.components.itertuples():
            if row.component_id not in recommended.weights:
                out.append({"kind": "component removed", "component_id": row.component_id,
                            "before": float(row.weight), "after": 0.0,
                            "reason": f"the best plan with at most {max_components} components gives it no weight: "
                                      "the components kept align the planned mix better"})
    return out


def curve_changes(in_force: Plan | None, recommended: Plan, curve_name: str) -> list[dict]:
    before = in_force.curve if in_force is not None else None
    return [{"kind": "curve point changed", "attainment": c["attainment"], "before": c["before"], "after": c["after"],
             "reason": f"curve: {curve_name} (the search's best under the rules)"}
            for c in curve_point_changes(before, recommended.curve)]


def target_changes(adjustments: pd.DataFrame, scale: pd.DataFrame | None, source: str) -> list[dict]:
    """Per rep and component: the open periods' targets in force and recommended, summed, with the
    cause and reason of the adjustments table (the most frequent one over the periods)."""
    if adjustments is None or len(adjustments) == 0:
        return []
    frame = adjustments if "cause" in adjustments.columns else adjustments.assign(cause="replanning")
    changed = frame[frame["cause"] != "unchanged"]
    totals = frame.groupby(["rep_id", "component_id"], sort=False).agg(
        before=("in_force", lambda s: float(s.sum()) if s.notna().any() else np.nan),
        after=("recommended", lambda s: float(s.sum()) if s.notna().any() else np.nan)).reset_index()
    why = (changed.groupby(["rep_id", "component_id"], sort=False)[["cause", "reason"]]
           .agg(lambda s: s.value_counts().index[0]))
    out = []
    for row in totals.itertuples():
        before = None if pd.isna(row.before) else float(row.before)
        after = None if pd.isna(row.after) else float(row.after)
        if before is not None and after is not None and abs(after - before) <= 1e-9 * max(1.0, abs(before)):
            continue
        if (row.rep_id, row.component_id) in why.index:
            cause, reason = why.loc[(row.rep_id, row.component_id)]
        else:
            cause, reason = "replanning", f"re-planned from the plan LP under {source}"
        out.append({"kind": "targets changed", "rep_id": row.rep_id, "component_id": row.component_id,
                    "before": before, "after": after, "cause": cause, "reason": reason})
    return out
