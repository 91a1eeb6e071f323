"""Alignment: will the reps sell the planned mix under the pay plan? `payout` (the payout curve and
the pay calculator, §4.3), `response` (each rep's best answer to a plan, §4.5 — the judge),
`incentive` (the inverse-optimization LP for weights, §4.4) and `recommend` (the recommended plan,
compared with the plan in force and simple baselines)."""
