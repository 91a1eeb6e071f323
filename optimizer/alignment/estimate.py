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
- The rules: those fits are at the default `max_components` 4. The search runs one local search per
  component count up to `max_components` (at most the pool of candidate components), so this part
  grows as (count / 4)^1.3: on the sample (pool 14), one run under the same load, 1, 2, 4 and 8
  components took 6.3, 16.2, 53.6 and 129.9 s (66, 116, 260 and 412 simulations; 4 → 8 is 2.4 ×,
  2^1.3 = 2.5); a second run, 4 and 14 components: 55.1 and 208.7 s (3.8 ×, against (14/4)^1.3 = 5.1:
  the estimate errs long; both runs on a machine loaded 4 to 7 × its 2 cores, so only their ratios
  count). The other rules do not change the amount of work: the curve family is searched on
  a grid of at most six members (its bounds are capped, models/rules.py), and curves that would make
  the judge a MIP are left out at every size (signable.MIP_BLOCKS).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.dataset import Dataset
from models.rules import Rules

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
FITTED_COMPONENTS = 4  # the max_components of the runs the time coefficients are fitted on (the default)
COMPONENTS_EXPONENT = 1.3  # the search's time per component count searched, relative to FITTED_COMPONENTS


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


def estimate_recommendation(dataset: Dataset, *, workers: int = 1, rules: Rules | None = None,
                            in_force_only: bool = False) -> Estimate:
    """The estimate for `recommend(dataset, rules=rules, in_force_only=...)` (sizes from the dataset and
    the rules, the company's by default; the assumptions do not change them)."""
    rules = rules or dataset.company.rules
    reps, products = len(dataset.rep_ids), len(dataset.product_ids)
    periods = dataset.company.periods
    open_periods = len(dataset.company.open_periods)
    in_force = 0 if dataset.plan is None else len(dataset.plan.components)
    if in_force_only and in_force:
        components = in_force
    else:
        components = in_force + len(dataset.groups) + products + 1  # the product-quota structure, the largest
    searched = max(1, min(rules.max_components, components))  # component counts the frontier searches
    variables = reps * products * len(periods)
    blocks = reps * open_periods
    arrays = 8.0 * reps * components * products * open_periods * ARRAY_COPIES
    rows = blocks * min(PLANNED_PER_BLOCK, products) * products
    memory = BASE_BYTES + PLAN_BYTES_PER_VARIABLE * variables + arrays + BYTES_PER_INCENTIVE_ROW * rows
    plan_seconds = PLAN_SECONDS_AT[1] * (variables / PLAN_SECONDS_AT[0]) ** PLAN_EXPONENT
    alignment = blocks * (SECONDS_PER_BLOCK_PRODUCT_SQUARED * products ** 2 + SECONDS_PER_BLOCK)
    alignment *= (searched / FITTED_COMPONENTS) ** COMPONENTS_EXPONENT
    seconds = plan_seconds + alignment / max(workers, 1) ** WORKER_EXPONENT
    return Estimate(memory_bytes=memory, seconds=seconds, reps=reps, products=products,
                    open_periods=open_periods, components=components)
