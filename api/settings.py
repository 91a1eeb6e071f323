"""The service's settings: one `Settings(BaseSettings)` read from `COMPTUNE_*` environment variables.

`COMPTUNE_DATABASE_URL` names the database (an SQLite file in the working directory by default,
`postgresql+psycopg://user:password@host/db` in production); the other settings bound the work one
request may cause: worker threads for review and benchmark jobs, the largest request body, the
default and largest solver time limit per job, and the largest review (estimated memory and time,
`optimizer.alignment.estimate`) the service starts.
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
    max_review_memory_gb: float = Field(
        6.0, gt=0, description="A review whose estimated peak memory is larger fails at once (GB).")
    max_review_seconds: float = Field(
        3_600.0, gt=0, description="A review whose estimated time is longer fails at once (seconds).")
    public_url: str = Field("http://127.0.0.1:8000", description="Where the service is reached (printed links).")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
