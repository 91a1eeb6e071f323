"""The service's settings: one `Settings(BaseSettings)` read from `COMPTUNE_*` environment variables.

`COMPTUNE_DATABASE_URL` names the database (an SQLite file in the working directory by default,
`postgresql+psycopg://user:password@host/db` in production); the other settings bound the work one
request may cause: worker processes for review and benchmark jobs, the largest request body, the
default and largest solver time limit per job, each job's wall-clock and memory limits, the size of
a benchmark instance each role may ask for, the largest review (estimated memory and time,
`optimizer.alignment.estimate`) the service starts, the lease that says which service process
owns a running job, and per role the jobs one token may hold queued or running at once and the
largest time limit it may ask for. The HTTP hardening settings say which Host headers the service
answers, how long `comptune serve` waits for a request to arrive and how much memory the rendered
answers of succeeded reviews may hold (docs/service.md "Security").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///comptune.db"


class BenchmarkLimits(BaseModel):
    """The largest synthetic benchmark instance one role may submit (each bound is inclusive)."""

    model_config = ConfigDict(extra="forbid")

    reps: int = Field(..., ge=1, description="Most reps.")
    products: int = Field(..., ge=1, description="Most products.")
    periods: int = Field(..., ge=1, description="Most periods.")
    markets: int = Field(..., ge=1, description="Most markets.")
    repeats: int = Field(..., ge=1, description="Most repetitions of each timed path.")
    order_variables: int = Field(..., ge=1, description="Most reps × products × periods (the LP's order variables).")


# Analysts and approvers: up to the "small"–"medium" range of docs (a few minutes, ~1 GB); admins: the
# named "large" instance (2,000 × 50 × 12 = 1.2 M order variables, ~25 minutes, a few GB).
DEFAULT_BENCHMARK_LIMITS = {
    "analyst": BenchmarkLimits(reps=500, products=50, periods=12, markets=20, repeats=3, order_variables=150_000),
    "approver": BenchmarkLimits(reps=500, products=50, periods=12, markets=20, repeats=3, order_variables=150_000),
    "admin": BenchmarkLimits(reps=2_000, products=50, periods=24, markets=50, repeats=5, order_variables=1_200_000),
}


# Queued and running jobs (reviews, sweeps, calibrations, benchmarks) one token may hold at once, by its
# role: with 2 workers, 4 jobs are two rounds of the pool; a 5th waits for one of them (429).
DEFAULT_JOB_QUOTA = {"viewer": 0, "analyst": 4, "approver": 4, "admin": 8}
# The largest per-solve time_limit_s of a job, by role (a review's wall-clock limit is 5 × it + grace:
# 600 s is 51 minutes of a worker); admins up to the service's largest, max_time_limit_s.
DEFAULT_ROLE_TIME_LIMITS = {"viewer": 0.0, "analyst": 600.0, "approver": 600.0, "admin": 3_600.0}
ROLE_NAMES = tuple(DEFAULT_JOB_QUOTA)


def _per_role(given: dict, defaults: dict, what: str) -> dict:
    """`given` over the defaults (a role left out keeps its default: it never loses its limit)."""
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"{what}: unknown role {', '.join(unknown)} (roles: {', '.join(defaults)})")
    return {**defaults, **given}


class Settings(BaseSettings):
    """Service configuration; every field can be set as `COMPTUNE_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="COMPTUNE_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL. Default: the SQLite file comptune.db in the working directory.",
    )
    workers: int = Field(2, ge=1, le=64, description="Jobs (reviews, benchmarks) run at once, each in its own worker process.")
    max_body_bytes: int = Field(10_000_000, ge=1_024, description="Largest accepted request body (bytes).")
    default_time_limit_s: float = Field(120.0, gt=0, description="Solver time limit of a job that names none.")
    max_time_limit_s: float = Field(3_600.0, gt=0, description="Largest time limit a request may ask for.")
    review_wall_factor: float = Field(
        5.0, gt=0, description="A review's wall-clock limit is this × its per-solve time_limit_s + job_grace_s; "
                               "past it its worker is stopped and the review fails.")
    job_grace_s: float = Field(60.0, ge=0, description="Added to every job's wall-clock limit (start-up, storing).")
    benchmark_time_limit_s: float = Field(3_600.0, gt=0, description="Wall-clock limit of a benchmark job.")
    job_memory_limit_mb: float = Field(
        8_192.0, gt=0, description="A job whose processes together hold more resident memory is stopped and fails.")
    worker_nice: int = Field(10, ge=0, le=19, description="Niceness of job worker processes, so requests win the CPU.")
    benchmark_limits: dict[str, BenchmarkLimits] = Field(
        default_factory=lambda: dict(DEFAULT_BENCHMARK_LIMITS),
        description="Largest benchmark instance per role (JSON in COMPTUNE_BENCHMARK_LIMITS); a role not "
                    "listed may not submit benchmarks.")
    lease_ttl_s: float = Field(
        30.0, gt=0, description="A running job whose owner has not renewed its lease for this long is taken as "
                                "interrupted (its service process is gone) and failed by any other process.")
    heartbeat_s: float = Field(5.0, gt=0, description="How often a service process renews its jobs' leases.")
    poll_s: float = Field(0.5, gt=0, description="How often the job runner looks for queued, canceled or overdue jobs.")
    plan_decompose_min_orders: int = Field(
        20_000, ge=0, description="Reviews solve the plan LP by period blocks (warm from the stored bases) "
        "from this many order variables on; smaller plans are solved monolithically.")
    plan_workers: int = Field(1, ge=1, le=64, description="Processes (a Dask LocalCluster when > 1) that solve "
                              "a review's plan LP blocks; COMPTUNE_DASK_SCHEDULER names a cluster instead.")
    review_workers: int = Field(1, ge=1, le=64, description="Processes (a Dask LocalCluster when > 1) that "
                                "simulate a review's candidate plans, and threads for its incentive LPs; "
                                "COMPTUNE_DASK_SCHEDULER names a cluster instead.")
    max_sweep_scenarios: int = Field(200, ge=1, description="Largest number of scenarios one sweep may ask for.")
    sweep_workers: int = Field(1, ge=1, le=64, description="Processes (a Dask LocalCluster when > 1) that solve a "
                               "sweep's scenarios; COMPTUNE_DASK_SCHEDULER names a cluster instead.")
    max_review_memory_gb: float = Field(
        6.0, gt=0, description="A review whose estimated peak memory is larger fails at once (GB).")
    max_review_seconds: float = Field(
        3_600.0, gt=0, description="A review whose estimated time is longer fails at once (seconds).")
    job_quota: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_JOB_QUOTA),
        description="Queued and running jobs (reviews, sweeps, calibrations, benchmarks) one token may hold at "
                    "once, per role (JSON in COMPTUNE_JOB_QUOTA; a role left out keeps its default); one more is "
                    "a 429 with Retry-After.")
    quota_retry_after_s: int = Field(30, ge=1, le=3_600, description="The Retry-After (seconds) of a 429 for the "
                                     "job quota.")
    role_time_limits: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_ROLE_TIME_LIMITS),
        description="Largest time_limit_s a job may ask for, per role (JSON in COMPTUNE_ROLE_TIME_LIMITS; a role "
                    "left out keeps its default); never more than max_time_limit_s.")
    max_replay_seconds: float = Field(
        1_800.0, gt=0, description="A replay (POST /v1/replays) whose estimated time is longer is refused with "
                                   "422 naming the option to lower; also the replay job's wall-clock limit.")
    max_replay_seeds: int = Field(20, ge=1, description="Most seeds one replay may ask for.")
    max_replay_gaming_reps: int = Field(20, ge=0, description="Most reps one replay's gaming audit may sample.")
    replay_workers: int = Field(1, ge=1, le=64, description="Processes (a Dask LocalCluster when > 1) that run "
                                "a replay's policies × seeds; COMPTUNE_DASK_SCHEDULER names a cluster instead.")
    public_url: str = Field("http://127.0.0.1:8000", description="Where the service is reached (printed links).")
    # HTTP hardening (docs/service.md "Security")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"], description="Host header values the service answers (comma-separated in "
        "COMPTUNE_ALLOWED_HOSTS, e.g. `comptune.example.com,127.0.0.1`; `*.example.com` matches subdomains); "
        "any other Host gets 400. Default `*`: every host (no answer builds a URL from it).")
    request_read_timeout_s: float = Field(
        10.0, gt=0, le=3_600, description="`comptune serve` closes a connection whose request (head and body) "
                                          "has not fully arrived this long after it opened or after the previous "
                                          "answer (a slow or idle client).")
    sqlite_busy_timeout_s: float = Field(
        30.0, gt=0, le=600, description="On SQLite, how long a write waits for another writer's lock before the "
                                        "request is answered 503 with Retry-After (reads never wait: WAL).")
    keep_alive_timeout_s: float = Field(
        5.0, gt=0, le=3_600, description="`comptune serve` closes a kept-alive connection idle this long after an answer.")
    answer_cache_mb: float = Field(
        64.0, ge=0, le=65_536, description="Each service process keeps the rendered recommendation and adjustments "
                                           "answers of succeeded reviews up to this many MB (least recently used "
                                           "dropped first), per review, pay visibility and query; 0 turns it off.")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if isinstance(value, list):
            value = [str(part).strip() for part in value if str(part).strip()]
            if not value:
                raise ValueError("name at least one host (or `*`)")
        return value

    @model_validator(mode="after")
    def _roles_known(self) -> "Settings":
        self.job_quota = _per_role(self.job_quota, DEFAULT_JOB_QUOTA, "job_quota")
        self.role_time_limits = _per_role(self.role_time_limits, DEFAULT_ROLE_TIME_LIMITS, "role_time_limits")
        if any(v < 0 for v in self.job_quota.values()) or any(v < 0 for v in self.role_time_limits.values()):
            raise ValueError("job_quota and role_time_limits must not be negative")
        return self

    def time_limit_cap(self, role: str) -> float:
        """The largest time_limit_s the role may ask for."""
        return min(self.max_time_limit_s, self.role_time_limits.get(role, self.max_time_limit_s))

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> "Settings":
        if self.heartbeat_s * 2 > self.lease_ttl_s:
            raise ValueError(f"heartbeat_s ({self.heartbeat_s:g}) must be at most half of lease_ttl_s "
                             f"({self.lease_ttl_s:g}), or a live process could lose its jobs")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
