"""Plan versions: the plan in force and the history (immutable, numbered)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from api.db import store
from api.db.tables import PlanVersionRow
from api.deps import SessionDep, Viewer
from api.routers.common import (
    ERRORS, MONEY_DECIMALS, NO_DATASET, NOT_FOUND, SHARE_DECIMALS, PlanVersion, csv_response, wants_csv,
)
from api.schemas import PlanDiffPublic, PlanPublic, PlansPublic
from api.serialize import frame_from_json, frame_records

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses={**ERRORS, **NO_DATASET})


def plan_public(row: PlanVersionRow, *, in_force: int | None, tables: bool, targets: bool) -> PlanPublic:
    def records(content):
        return frame_records(frame_from_json(content))

    return PlanPublic(
        version=row.version, in_force=row.version == in_force, origin=row.origin, review_id=row.review_id,
        created_by=row.created_by, created_at=store.as_utc(row.created_at),
        components=records(row.components) if tables else None, curve=records(row.curve) if tables else None,
        targets=records(row.targets) if targets else None,
    )


@router.get("", response_model=PlansPublic)
def read_plans(principal: Viewer, session: SessionDep) -> PlansPublic:
    """The history of plan versions, oldest first, with the version in force."""
    dataset_row = store.current_dataset(session=session)
    rows = store.list_plan_versions(session=session, dataset_id=dataset_row.id, with_targets=False)
    return PlansPublic(data=[plan_public(r, in_force=dataset_row.plan_version, tables=True, targets=False)
                             for r in rows], count=len(rows), in_force=dataset_row.plan_version)


@router.get("/current", response_model=PlanPublic, responses=NOT_FOUND)
def read_current_plan(
    principal: Viewer, session: SessionDep,
    targets: bool = Query(False, description="Include the targets table."),
) -> PlanPublic:
    """The plan in force, with its version, components and payout curve."""
    dataset_row = store.current_dataset(session=session)
    if dataset_row.plan_version is None:
        raise store.NotFound("the dataset has no plan in force")
    row = store.get_plan_version(session=session, dataset_id=dataset_row.id, version=dataset_row.plan_version,
                                 with_targets=targets)
    return plan_public(row, in_force=dataset_row.plan_version, tables=True, targets=targets)


@router.get("/{version}", response_model=PlanPublic, responses=NOT_FOUND)
def read_plan(
    principal: Viewer, session: SessionDep, version: PlanVersion,
    targets: bool = Query(False, description="Include the targets table."),
) -> PlanPublic:
    """One plan version."""
    dataset_row = store.current_dataset(session=session)
    row = store.get_plan_version(session=session, dataset_id=dataset_row.id, version=version, with_targets=targets)
    return plan_public(row, in_force=dataset_row.plan_version, tables=True, targets=targets)


@router.get("/{version}/targets", responses={**NOT_FOUND, 200: {"content": {"text/csv": {}},
                                                                 "description": "JSON records or CSV."}})
def read_plan_targets(
    principal: Viewer, session: SessionDep, request: Request, version: PlanVersion,
    format: Literal["json", "csv"] | None = Query(None, description="csv for plan/targets.csv format."),
):
    """A plan version's targets (the `plan/targets.csv` format)."""
    dataset_row = store.current_dataset(session=session)
    row = store.get_plan_version(session=session, dataset_id=dataset_row.id, version=version)
    frame = frame_from_json(row.targets)
    if wants_csv(request, format):
        return csv_response(frame, f"plan-{version}-targets.csv", decimals={"target": MONEY_DECIMALS})
    return {"version": version, "data": frame_records(frame), "count": len(frame)}


@router.get("/{a}/diff/{b}", response_model=PlanDiffPublic, responses=NOT_FOUND)
def diff_plans(
    principal: Viewer, session: SessionDep, a: PlanVersion, b: PlanVersion,
    rows: int = Query(50, ge=0, le=100_000, description="Most changed target rows to list (largest change first)."),
) -> PlanDiffPublic:
    """What changed from plan version `a` to version `b`: component weights (added, removed,
    reweighted), payout curve points, and targets (per component totals and the changed rows)."""
    dataset_row = store.current_dataset(session=session)
    old = store.get_plan_version(session=session, dataset_id=dataset_row.id, version=a)
    new = store.get_plan_version(session=session, dataset_id=dataset_row.id, version=b)
    return PlanDiffPublic(**plan_diff(old, new, rows=rows))


def plan_diff(old: PlanVersionRow, new: PlanVersionRow, *, rows: int) -> dict:
    """The differences between two stored plan versions, as plain records."""
    before, after = frame_from_json(old.components), frame_from_json(new.components)
    merged = before.merge(after, on="component_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    components = []
    for rec in merged.to_dict(orient="records"):
        weight_a = float(rec["weight_a"]) if rec["_merge"] != "right_only" else None
        weight_b = float(rec["weight_b"]) if rec["_merge"] != "left_only" else None
        op = {"left_only": "removed", "right_only": "added"}.get(rec["_merge"], "unchanged")
        if op == "unchanged" and abs(weight_a - weight_b) > 10 ** -SHARE_DECIMALS:
            op = "reweighted"
        side = "a" if rec["_merge"] == "left_only" else "b"
        components.append({"component_id": rec["component_id"], "metric": rec[f"metric_{side}"],
                           "products": rec[f"products_{side}"], "op": op, "weight_a": weight_a, "weight_b": weight_b,
                           "delta": round((weight_b or 0.0) - (weight_a or 0.0), SHARE_DECIMALS)})
    curve_a = frame_records(frame_from_json(old.curve))
    curve_b = frame_records(frame_from_json(new.curve))
    targets_a, targets_b = frame_from_json(old.targets), frame_from_json(new.targets)
    keys = ["rep_id", "component_id", "period"]
    targets = targets_a.merge(targets_b, on=keys, how="outer", suffixes=("_a", "_b")).fillna({"target_a": 0.0, "target_b": 0.0})
    targets["delta"] = targets["target_b"] - targets["target_a"]
    changed = targets[targets["delta"].abs().round(MONEY_DECIMALS) != 0]
    totals = targets.groupby("component_id", sort=True)[["target_a", "target_b"]].sum().reset_index()
    by_component = [{"component_id": r["component_id"], "total_a": round(r["target_a"], MONEY_DECIMALS),
                     "total_b": round(r["target_b"], MONEY_DECIMALS),
                     "change_share": round(r["target_b"] / r["target_a"] - 1, SHARE_DECIMALS) if r["target_a"] else None}
                    for r in totals.to_dict(orient="records")]
    listed = changed.reindex(changed["delta"].abs().sort_values(ascending=False).index).head(rows)
    return {"a": old.version, "b": new.version, "components": components,
            "curve_a": curve_a, "curve_b": curve_b, "curve_changed": curve_a != curve_b,
            "targets_changed": int(len(changed)), "targets_by_component": by_component,
            "target_changes": frame_records(listed.round(MONEY_DECIMALS))}
