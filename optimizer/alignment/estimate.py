"""How much memory and time a recommendation (§4.6) will take, estimated from the sizes alone.

The service checks a review against its limits before it starts (a review that would be killed for
memory, or run for hours, fails at once with the amounts), and `comptune recommend --estimate`
prints the same figures. The coefficients are calibrated on measured runs (docs/performance.md,
2-core machine); the estimate is meant to be within a factor of two, not exact.

- Plan LP: ≈ 1.3 kB per order variable (rep × product × period) at its peak (measured 1.56 GB at
  1.3 M variables); time as the review solves it, by period blocks: 10.4 s at 600 k variables
  (1,000 × 50 × 12), growing as variables^1.2.
- Alignment arrays: the attainment per order of every candidate component, (R, K, P, T_open)
  doubles, held about three times at once (response data, batches, incentive pay per hour).
- Incentive LP rows: rep × open period × planned products (≈ 4, a vertex of the plan LP has few)
  × products, ≈ 250 bytes each (with the rows' parts; the cutting planes' master is small). Measured
  peak of a whole recommendation: 2.2 GB at 1,000 × 50 × 8 (estimate 2.2 GB).
- Incentive LPs and simulations: ≈ 6.1 µs per (rep, period) block × products² (the incentive rows)
  plus 4.2 ms per block (the simulations), fitted on measured serial runs (docs/performance.md,
  "Where it stands"): 200 × 20 × 6 in 13 s, 1,000 × 50 × 8 in 186 s, the sample in 2.5 s (estimates
  13 s, 186 s and 2.1 s). `workers` processes shorten it by workers^0.4 (measured 151 s with 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.dataset import Dataset

PLAN_BYTES_PER_VARIABLE = 1_300
PLAN_SECONDS_AT = (600_000, 10.4)  # (order variables, seconds) of one measured solve by period blocks
PLAN_EXPONENT = 1.2
ARRAY_COPIES = 3
PLANNED_PER_BLOCK = 4
BYTES_PER_INCENTIVE_ROW = 250
BASE_BYTES = 400e6  # the interpreter, numpy, pandas, HiGHS
SECONDS_PER_BLOCK_PRODUCT_SQUARED = 6.1e-6  # the incentive LPs' rows
SECONDS_PER_BLOCK = 4.2e-3  # the simulations
WORKER_EXPONENT = 0.4


@dataclass(frozen=True)
class Estimate:
    """Estimated peak memory (bytes) and wall time (seconds) of `recommend` on one machine."""

    memory_bytes: float
    seconds: float
    reps: int
    products: int
    open_periods: int
    components: int

    @property
    def memory_gb(self) -> float:
        return self.memory_bytes / 1e9

    def over(self, *, memory_bytes: float | None, seconds: float | None) -> str | None:
        """A sentence naming each limit the estimate exceeds and by how much; None within limits."""
        parts = []
        if memory_bytes is not None and self.memory_bytes > memory_bytes:
            parts.append(f"estimated peak memory {self.memory_bytes / 1e9:.1f} GB exceeds the limit of "
                         f"{memory_bytes / 1e9:.1f} GB by {(self.memory_bytes - memory_bytes) / 1e9:.1f} GB "
                         f"({self.memory_bytes / memory_bytes:.1f} ×)")
        if seconds is not None and self.seconds > seconds:
            parts.append(f"estimated time {self.seconds:,.0f} s exceeds the limit of {seconds:,.0f} s by "
                         f"{self.seconds - seconds:,.0f} s ({self.seconds / seconds:.1f} ×)")
        if not parts:
            return None
        return (f"a recommendation for {self.reps:,} reps × {self.products:,} products × {self.open_periods} open "
                f"periods ({self.components} candidate components) is too large for this service: "
                + "; ".join(parts))


def estimate_recommendation(dataset: Dataset, *, workers: int = 1) -> Estimate:
    """The estimate for `recommend(dataset)` (sizes from the dataset; the assumptions do not change them)."""
    reps, products = len(dataset.rep_ids), len(dataset.product_ids)
    periods = dataset.company.periods
    open_periods = len(dataset.company.open_periods)
    in_force = 0 if dataset.plan is None else len(dataset.plan.components)
    components = in_force + len(dataset.groups) + products + 1  # the product-quota structure, the largest
    variables = reps * products * len(periods)
    blocks = reps * open_periods
    arrays = 8.0 * reps * components * products * open_periods * ARRAY_COPIES
    rows = blocks * min(PLANNED_PER_BLOCK, products) * products
    memory = BASE_BYTES + PLAN_BYTES_PER_VARIABLE * variables + arrays + BYTES_PER_INCENTIVE_ROW * rows
    plan_seconds = PLAN_SECONDS_AT[1] * (variables / PLAN_SECONDS_AT[0]) ** PLAN_EXPONENT
    alignment = blocks * (SECONDS_PER_BLOCK_PRODUCT_SQUARED * products ** 2 + SECONDS_PER_BLOCK)
    seconds = plan_seconds + alignment / max(workers, 1) ** WORKER_EXPONENT
    return Estimate(memory_bytes=memory, seconds=seconds, reps=reps, products=products,
                    open_periods=open_periods, components=components)
