"""A real service process whose review jobs run `tests.api.job_handlers.gated` (the two-process tests).

    python -m tests.api.serve_gated --port 8123     # database and settings from COMPTUNE_* variables
"""

from __future__ import annotations

import argparse
import sys

import uvicorn

from api.main import create_app
from api.settings import Settings


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = create_app(Settings(), job_handlers={"review": "tests.api.job_handlers:gated"})
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
