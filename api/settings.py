"""The service's settings: one `Settings(BaseSettings)` read from `COMPTUNE_*` environment variables.

`COMPTUNE_DATABASE_URL` names the database (an SQLite file in the working directory by default,
`postgresql+psycopg://user:password@host/db` in production); the other settings bound the work one
request may cause: worker threads for review and benchmark jobs, the largest request body, and the
default and largest solver time limit per job.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///comptune.db"


class Settings(BaseSettings):
    """Service configuration; every field can be set as `COMPTUNE_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="COMPTUNE_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL. Default: the SQLite file comptune.db in the working directory.",
    )
    workers: int = Field(2, ge=1, le=64, description="Worker threads that run review and benchmark jobs.")
    max_body_bytes: int = Field(10_000_000, ge=1_024, description="Largest accepted request body (bytes).")
    default_time_limit_s: float = Field(120.0, gt=0, description="Solver time limit of a job that names none.")
    max_time_limit_s: float = Field(3_600.0, gt=0, description="Largest time limit a request may ask for.")
    plan_decompose_min_orders: int = Field(
        20_000, ge=0, description="Reviews solve the plan LP by period blocks (warm from the stored bases) "
        "from this many order variables on; smaller plans are solved monolithically.")
    plan_workers: int = Field(1, ge=1, le=64, description="Processes (a Dask LocalCluster when > 1) that solve "
                              "a review's plan LP blocks; COMPTUNE_DASK_SCHEDULER names a cluster instead.")
    max_sweep_scenarios: int = Field(200, ge=1, description="Largest number of scenarios one sweep may ask for.")
    sweep_workers: int = Field(1, ge=1, le=64, description="Processes (a Dask LocalCluster when > 1) that solve a "
                               "sweep's scenarios; COMPTUNE_DASK_SCHEDULER names a cluster instead.")
    public_url: str = Field("http://127.0.0.1:8000", description="Where the service is reached (printed links).")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
