"""Warm reviews: the plan LP's period blocks are stored per dataset and plan version and the next
review starts from them — after a restart too — re-solving only the blocks whose numbers changed.

The sample is small, so the service is told to decompose from 0 order variables on; the answer
must equal a cold monolithic solve of the same LP (HiGHS alone through PlanSolver)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.db import store
from api.db.session import make_engine, make_session_factory
from api.db.tables import PlanBlockRow
from api.jobs import review_plan_lp
from api.main import create_app
from models.assumptions import parse_assumptions
from optimizer.parameters import effective_parameters
from optimizer.plan.arrays import PlanSolver
from optimizer.plan.results import in_force_for
from optimizer.solve import SolveOptions
from tests.api.conftest import settings_for

SOUTH_HALF = [{"markets": ["south"], "demand": 0.5}]


def review_job(env, adjustments):
    """A queued review row and the inputs its handler builds (dataset at its plan version, assumptions)."""
    assumptions = parse_assumptions({"name": f"s{time.monotonic_ns()}", "adjustments": adjustments})
    with env.sessions() as session:
        row = store.current_dataset(session=session)
        aset = store.create_assumption_set(session=session, dataset_id=row.id, assumptions=assumptions,
                                           created_by="test")
        job = store.create_job(session=session, kind="review", created_by="test", time_limit_s=60, params={},
                               dataset_id=row.id, assumption_set_id=aset.id, plan_version=row.plan_version)
        session.commit()
        dataset = store.build_dataset(session=session, dataset=row, plan_version=row.plan_version)
        session.refresh(job)
        session.expunge(job)
    return job, dataset, assumptions


def cold_objective(dataset, assumptions) -> float:
    params = effective_parameters(dataset, assumptions)
    return PlanSolver(params, in_force_for(dataset.plan, params.open_periods)).solve().objective


def test_plan_lp_starts_warm_from_stored_blocks_after_a_restart(env):
    settings = settings_for(env.url, plan_decompose_min_orders=0)
    job, dataset, assumptions = review_job(env, SOUTH_HALF)
    first_result, first = review_plan_lp(job, dataset, assumptions, SolveOptions(), env.sessions, settings)
    assert first["method"] == "decomposed" and first["warm"] is False
    assert first["blocks_resolved"] == first["blocks"] > 1
    assert abs(first["objective"] - cold_objective(dataset, assumptions)) <= 1e-7 * abs(first["objective"])
    with env.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PlanBlockRow)) == first["blocks"]

    # a restarted service: a new engine, nothing in memory but the database
    restarted = make_session_factory(make_engine(env.url))
    same_job, _, _ = review_job(env, SOUTH_HALF)
    _, same = review_plan_lp(same_job, dataset, assumptions, SolveOptions(), restarted, settings)
    assert same["warm"] is True and same["blocks_resolved"] == 0  # nothing changed: every block as stored
    assert abs(same["objective"] - first["objective"]) <= 1e-9 * abs(first["objective"])

    last = dataset.company.periods[-1]
    late_cut = SOUTH_HALF + [{"markets": ["us"], "demand": 0.8, "periods": {"from": last}}]
    late_job, _, late_assumptions = review_job(env, late_cut)
    _, late = review_plan_lp(late_job, dataset, late_assumptions, SolveOptions(), restarted, settings)
    assert late["warm"] is True and late["blocks_resolved"] == 1
    assert abs(late["objective"] - cold_objective(dataset, late_assumptions)) <= 1e-7 * abs(late["objective"])
    restarted.kw["bind"].dispose()


@pytest.mark.slow
def test_review_result_reports_plan_lp_through_the_api(env):
    """The whole review over HTTP, twice: the second one reports a warm plan LP."""
    settings = settings_for(env.url, plan_decompose_min_orders=0)
    reports = []
    for _ in range(2):
        with TestClient(create_app(settings)) as client:  # a fresh app each time: a restart
            h = env.headers("analyst")
            set_id = client.post("/v1/assumption-sets", json={"name": f"s{time.monotonic_ns()}",
                                                              "adjustments": SOUTH_HALF}, headers=h).json()["id"]
            review_id = client.post("/v1/reviews", json={"assumption_set_id": set_id}, headers=h).json()["id"]
            deadline = time.monotonic() + 300
            while (review := client.get(f"/v1/reviews/{review_id}", headers=h).json())["status"] in ("queued", "running"):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert review["status"] == "succeeded", review["error"]
            reports.append(review["summary"]["plan_lp"])
    assert reports[0]["warm"] is False and reports[1]["warm"] is True
    assert reports[1]["blocks_resolved"] == 0
