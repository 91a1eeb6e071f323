"""How much memory and time a recommendation (§4.6) will take, estimated from the sizes alone.

The service checks a review against its limits before it starts (a review that would be killed for
memory, or run for hours, fails at once with the amounts), and `comptune recommend --estimate`
prints the same figures. The coefficients are calibrated on measured runs (docs/performance.md,
2-core machine); the estimate is meant to be within a factor of two, not exact.

- Plan LP: ≈ 1.3 kB per order variable (rep × product × period) at its peak (measured 1.56 GB at
  1.3 M variables), and a simplex time growing as variables^1.8 (162 s at 648 k, 574 s at 1.3 M).
- Alignment arrays: the attainment per order of every candidate component, (R, K, P, T_open)
  doubles, held about three times at once (response data, batches, incentive pay per hour).
- Incentive LP rows: rep × open period × planned products (≈ 4, a vertex of the plan LP has few)
  × products, ≈ 250 bytes each with the dual matrix and HiGHS's copy.
- Simulations and the rest of the engine: ≈ 14 candidate plans; MIP ones (accelerating curves, ≈ 4)
  ≈ 10 ms per (rep, period) block, LP ones ≈ 1 ms — 50 ms a block, measured 16–47 ms a block in CPU
  (sample 7.3 s for 450 blocks, 100 × 12 × 4 16.5 s for 900, 200 × 20 × 6 87 s for 1,800).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.dataset import Dataset

PLAN_BYTES_PER_VARIABLE = 1_300
PLAN_SECONDS_AT = (648_000, 162.0)  # (order variables, seconds) of one measured cold solve
PLAN_EXPONENT = 1.8
ARRAY_COPIES = 3
PLANNED_PER_BLOCK = 4
BYTES_PER_INCENTIVE_ROW = 250
BASE_BYTES = 400e6  # the interpreter, numpy, pandas, HiGHS
MIP_SIMULATIONS, LP_SIMULATIONS = 4, 10
MIP_SECONDS_PER_BLOCK, LP_SECONDS_PER_BLOCK = 0.01, 0.001


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
    simulation = blocks * (MIP_SIMULATIONS * MIP_SECONDS_PER_BLOCK + LP_SIMULATIONS * LP_SECONDS_PER_BLOCK)
    seconds = plan_seconds + simulation / max(workers, 1)
    return Estimate(memory_bytes=memory, seconds=seconds, reps=reps, products=products,
                    open_periods=open_periods, components=components)
