"""The job worker process: `python -m api.worker --kind review --job 7 --owner …` runs one claimed job.

Started by the service's `JobRunner` (api/jobs.py), never by hand. It first arranges to die with
the service (`PR_SET_PDEATHSIG`), lowers its priority so that requests win the CPU, reads the
service's settings from `COMPTUNE_WORKER_SETTINGS`, runs the job's handler with a progress callback
and stores the outcome — only while the job is still running and still its owner's.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from optimizer.processes import die_with_parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="comptune job worker (internal; started by the service)")
    parser.add_argument("--kind", required=True)
    parser.add_argument("--job", type=int, required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--handler", required=True, help="module:function")
    parser.add_argument("--parent", type=int, required=True, help="pid of the service process")
    args = parser.parse_args(argv)
    die_with_parent(args.parent)

    from api.db.session import make_engine, make_session_factory
    from api.jobs import load_handler, run_job
    from api.settings import Settings

    settings = Settings.model_validate_json(os.environ["COMPTUNE_WORKER_SETTINGS"])
    if settings.worker_nice:
        os.nice(settings.worker_nice)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.kind} {args.job} %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url)
    try:
        run_job(kind=args.kind, job_id=args.job, owner=args.owner, handler=load_handler(args.handler),
                session_factory=make_session_factory(engine), settings=settings)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
