"""A real review stored without the job runner: the engine's own handler (`api.jobs.run_review`)
run in the test process on a loaded database, so the workbench tests read the figures a review
really produces (a few seconds on the sample) without waiting for a worker."""

from __future__ import annotations

from api.db import store
from api.jobs import REVIEW, run_job, run_review
from api.settings import Settings
from models.assumptions import parse_assumptions

SOUTH_FREEZE = {"name": "south-freeze", "adjustments": [{
    "markets": ["south"], "periods": {"from": "2026-04"}, "demand": 0.5,
    "reason": "Southern Europe freezes: capital spending paused."}]}


def real_review(env, *, assumptions: dict = SOUTH_FREEZE, created_by: str = "analyst-user") -> int:
    """Store an assumption set and a succeeded review of it, computed by the real engine; its id."""
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        aset = store.create_assumption_set(session=session, dataset_id=dataset.id, created_by=created_by,
                                           assumptions=parse_assumptions(assumptions))
        job = store.create_job(session=session, kind=REVIEW, created_by=created_by, time_limit_s=60,
                               params={"in_force_only": False, "rules": {},
                                       "baseline_plan_version": store.baseline_plan_version(session=session,
                                                                                            dataset=dataset)},
                               dataset_id=dataset.id, assumption_set_id=aset.id, plan_version=dataset.plan_version)
        session.flush()
        assert store.mark_running(session=session, job_id=job.id, owner="test")
        session.commit()
        job_id = job.id
    status = run_job(kind=REVIEW, job_id=job_id, owner="test", handler=run_review, session_factory=env.sessions,
                     settings=Settings(database_url=env.url))
    assert status == "succeeded", status
    return job_id
